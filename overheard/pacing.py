"""Host pacing shared by every worker of a fleet, kept in the broker's Redis.

Each collector's HTTP client keeps at least `http.min_interval_s` between two requests to one host and
waits out a host's rate-limit reset (`listener.http`). In one process a `LocalPacer` is enough. Workers
are many processes on many machines, several of which may call one host at once (the queries of one X
source, two Mastodon sources on one instance, a re-check beside a sweep), and each collect used to start
with a fresh client that had forgotten a reset it had just been told about. `RedisPacer` keeps the next
free slot of every host in Redis instead, reserved atomically by a script and timed by the Redis
server's clock, so the interval holds across the fleet and a reset one worker hears about holds the
others back too.

If Redis cannot be reached, pacing falls back to this process's own (a warning is logged): a sweep is
never failed for want of a pacer.
"""

from __future__ import annotations

import logging

import redis

from listener.http import LocalPacer

log = logging.getLogger("overheard.pacing")

# Both scripts read the server's clock (TIME), so workers on machines whose clocks differ share one timeline.
# Times are seconds as strings: a Lua number returned to Redis would be cut to an integer.
_NOW = "local t = redis.call('TIME') local now = tonumber(t[1]) + tonumber(t[2]) / 1000000 "
_RESERVE = (
    _NOW
    + """
local start = math.max(tonumber(redis.call('GET', KEYS[1]) or '0'), now)
local delay = start - now
if delay <= tonumber(ARGV[2]) then
  local free_at = start + tonumber(ARGV[1])
  redis.call('SET', KEYS[1], tostring(free_at), 'PX', math.ceil((free_at - now) * 1000) + 1000)
end
return tostring(delay)
"""
)
_HOLD_OFF = (
    _NOW
    + """
local free_at = now + tonumber(ARGV[1])
if free_at > tonumber(redis.call('GET', KEYS[1]) or '0') then
  redis.call('SET', KEYS[1], tostring(free_at), 'PX', math.ceil((free_at - now) * 1000) + 1000)
end
return 1
"""
)


class RedisPacer:
    """A `listener.http.HostPacer` whose slots live in Redis under `<namespace>:host:<host>`."""

    def __init__(self, client: redis.Redis, namespace: str) -> None:
        self.client, self.namespace = client, namespace
        self._reserve = client.register_script(_RESERVE)
        self._hold_off = client.register_script(_HOLD_OFF)
        self.fallback = LocalPacer()

    def key(self, host: str) -> str:
        return f"{self.namespace}:host:{host}"

    def reserve(self, host: str, interval_s: float, max_wait_s: float) -> float:
        try:
            return float(self._reserve(keys=[self.key(host)], args=[repr(interval_s), repr(max_wait_s)]))
        except redis.RedisError as exc:
            log.warning("pacing.local", extra={"host": host, "reason": f"{type(exc).__name__}: {exc}"})
            return self.fallback.reserve(host, interval_s, max_wait_s)

    def hold_off(self, host: str, seconds: float) -> None:
        self.fallback.hold_off(host, seconds)  # also here, in case Redis is unreachable at the next reserve
        try:
            self._hold_off(keys=[self.key(host)], args=[repr(seconds)])
        except redis.RedisError as exc:
            log.warning("pacing.local", extra={"host": host, "reason": f"{type(exc).__name__}: {exc}"})
