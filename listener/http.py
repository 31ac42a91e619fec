"""The one HTTP chokepoint every collector goes through: polite, bounded and refusing internal addresses.

`Http(user_agent=...)` owns, for every request:
- timeouts (connect 5 s, read 25 s) and a 5 MiB body cap (Content-Length checked first, then while streaming);
- retries with exponential backoff and jitter (tenacity) on connection errors, timeouts, truncated bodies,
  429 and 5xx, waiting what `Retry-After` or the platform's rate-limit reset header says when it says so;
- the platforms' rate-limit headers, read from every response (`x-rate-limit-*` on X, `x-ratelimit-*` on
  Mastodon and Reddit, `RateLimit-*` on Bluesky): when a host says none remain, we wait for its reset before
  the next request to it (or fail fast with `RateLimited` when the reset is too far away);
- a per-host minimum interval between requests, kept by a `HostPacer`: per process by default, or shared by
  every worker of a fleet when the caller passes a shared one (the `overheard` shell passes a Redis one);
- robots.txt (RFC 9309, see `listener.robots`) for page scraping: fetched with the same timeouts and a
  500 KiB cap, cached for at most 24 h; 4xx means "no rules", 5xx or unreachable means "disallow all";
- content-type checks (`accept=`), an identifying User-Agent, and manual redirects (at most 5);
- an SSRF guard at connect time: every address a host name resolves to is checked, so redirects and DNS
  rebinding cannot reach loopback, private, link-local (incl. cloud metadata), CGNAT, multicast or reserved
  addresses. Tests allow their own server with `allow_networks=("127.0.0.1/32",)`. The same guard backs
  `guarded_transport`, the httpx transport deliveries (webhook, CRM, Slack) are sent through.

Errors are `HttpError` subclasses with a message a user can act on.
"""

from __future__ import annotations

import functools
import ipaddress
import json
import logging
import random
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, Protocol
from urllib.parse import urljoin, urlsplit

import httpcore
import httpx
import requests
import tenacity
import urllib3
from httpcore._backends.sync import SyncStream  # the stream httpcore wraps a connected socket in
from requests.adapters import HTTPAdapter
from requests.structures import CaseInsensitiveDict
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from listener.robots import PARSE_LIMIT_BYTES, RobotsRules, parse_robots

log = logging.getLogger(__name__)

CONNECT_TIMEOUT_S = 5.0
READ_TIMEOUT_S = 25.0
MAX_BODY_BYTES = 5 * 1024 * 1024
ROBOTS_TTL_S = 24 * 3600.0
MAX_REDIRECTS = 5
DEFAULT_USER_AGENT = "OverheardBot/0.1 (+https://github.com/overheard/overheard; self-hosted social listening)"
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network

# Not covered by `is_global` on every Python version, or worth naming: CGNAT and cloud metadata.
_ALWAYS_REFUSED: tuple[Network, ...] = (
    ipaddress.ip_network("100.64.0.0/10"),  # CGNAT (RFC 6598)
    ipaddress.ip_network("169.254.0.0/16"),  # link-local, incl. 169.254.169.254 metadata
    ipaddress.ip_network("fd00:ec2::/32"),  # AWS IPv6 metadata
    ipaddress.ip_network("0.0.0.0/8"),
)


class HttpError(Exception):
    """A request failed for a reason a user can act on. `url` is the URL that failed."""

    def __init__(self, url: str, reason: str, *, status: int | None = None) -> None:
        super().__init__(f"{url}: {reason}")
        self.url = url
        self.reason = reason
        self.status = status


class AddressRefused(HttpError):
    """The host resolves to an address we never contact (internal, loopback, metadata, …)."""


class RobotsDisallowed(HttpError):
    """robots.txt of the site disallows this URL for our User-Agent."""


class TooLarge(HttpError):
    """The body is larger than the cap."""


class UnexpectedContentType(HttpError):
    """The server answered with a content type the caller cannot parse."""


class RateLimited(HttpError):
    """The platform's rate limit is spent and resets later than we are willing to wait."""

    def __init__(self, url: str, reason: str, *, reset_in_s: float | None, status: int | None = None) -> None:
        super().__init__(url, reason, status=status)
        self.reset_in_s = reset_in_s


class HttpStatusError(HttpError):
    """A final non-success status (after retries, where retrying made sense)."""


class _Retryable(Exception):
    """Internal: a transient failure; `wait_s` is what the server asked us to wait, if it said."""

    def __init__(self, url: str, reason: str, *, wait_s: float | None = None, status: int | None = None) -> None:
        super().__init__(f"{url}: {reason}")
        self.url = url
        self.reason = reason
        self.wait_s = wait_s
        self.status = status


# --- SSRF guard ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AddressGuard:
    """Decides which resolved addresses we may connect to."""

    allow_networks: tuple[Network, ...] = ()

    def permits(self, address: Address) -> bool:
        if isinstance(address, ipaddress.IPv6Address):
            embedded = _embedded_ipv4(address)
            if embedded is not None:
                return self.permits(embedded)
        if any(address in net for net in self.allow_networks if net.version == address.version):
            return True
        if any(address in net for net in _ALWAYS_REFUSED if net.version == address.version):
            return False
        return address.is_global and not address.is_multicast

    def connect(
        self,
        host: str,
        port: int,
        timeout: float | None,
        source_address: tuple[str, int] | None,
        socket_options: Iterable[tuple[int, int, Any]] | None,
    ) -> socket.socket:
        """Resolve `host`, refuse if *any* address is forbidden, then connect to the checked addresses only."""
        infos = socket.getaddrinfo(host.strip("[]"), port, type=socket.SOCK_STREAM)
        addresses = [(info, ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])) for info in infos]
        refused = [str(addr) for _, addr in addresses if not self.permits(addr)]
        if refused:
            raise AddressRefused(
                f"//{host}:{port}",
                f"refused to connect: {host} resolves to non-public address {', '.join(sorted(set(refused)))}",
            )
        last_error: OSError | None = None
        for (family, socktype, proto, _, sockaddr), _addr in addresses:
            sock = socket.socket(family, socktype, proto)
            try:
                for option in socket_options or ():
                    sock.setsockopt(*option)
                if timeout is not None:
                    sock.settimeout(timeout)
                if source_address:
                    sock.bind(source_address)
                sock.connect(sockaddr)
                return sock
            except OSError as exc:
                last_error = exc
                sock.close()
        raise last_error or OSError(f"no address to connect to for {host}")


_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_LOCAL_NAT64 = ipaddress.ip_network("64:ff9b:1::/48")  # RFC 8215: where the IPv4 sits depends on the site
_IPV4_COMPATIBLE = ipaddress.ip_network("::/96")  # deprecated ::a.b.c.d (RFC 4291 2.5.5.1)
_SIIT = ipaddress.ip_network("::ffff:0:0:0/96")  # IPv4-translated ::ffff:0:a.b.c.d (RFC 7915)
_NOWHERE = ipaddress.IPv4Address("0.0.0.0")  # judged as 0.0.0.0/8: always refused


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one stands for (mapped, IPv4-compatible, SIIT, NAT64, 6to4, Teredo): judged
    as that address, so '::7f00:1' is loopback however a stack routes it."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address in _NAT64 or address in _SIIT or (address in _IPV4_COMPATIBLE and int(address) > 1):
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    if address in _LOCAL_NAT64:
        return _NOWHERE
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    return None


def _guarded_adapter(guard: AddressGuard) -> HTTPAdapter:
    """A requests adapter whose connections go through `guard` at connect time (covers redirects and DNS)."""

    def new_conn(self: Any) -> socket.socket:
        try:
            return guard.connect(self._dns_host, self.port, self.timeout, self.source_address, self.socket_options)
        except socket.gaierror as exc:
            raise urllib3.exceptions.NameResolutionError(self.host, self, exc) from exc
        except TimeoutError as exc:
            raise urllib3.exceptions.ConnectTimeoutError(self, f"connect to {self.host} timed out") from exc
        except OSError as exc:
            raise urllib3.exceptions.NewConnectionError(self, f"failed to connect: {exc}") from exc

    http_conn = type("GuardedHTTPConnection", (urllib3.connection.HTTPConnection,), {"_new_conn": new_conn})
    https_conn = type("GuardedHTTPSConnection", (urllib3.connection.HTTPSConnection,), {"_new_conn": new_conn})
    http_pool = type("GuardedHTTPPool", (HTTPConnectionPool,), {"ConnectionCls": http_conn})
    https_pool = type("GuardedHTTPSPool", (HTTPSConnectionPool,), {"ConnectionCls": https_conn})

    class GuardedAdapter(HTTPAdapter):
        def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
            super().init_poolmanager(*args, **kwargs)
            self.poolmanager.pool_classes_by_scheme = {"http": http_pool, "https": https_pool}
            self.poolmanager.key_fn_by_scheme = dict(self.poolmanager.key_fn_by_scheme)

    return GuardedAdapter(max_retries=0)


def guarded_transport(allow_networks: Iterable[str] = ()) -> httpx.HTTPTransport:
    """An httpx transport whose connections go through the same `AddressGuard`, for the other outbound
    requests (webhook, CRM and Slack deliveries): one guard for every request Overheard makes. No proxy from
    the environment (the guard would check the proxy, not the receiver)."""
    guard = AddressGuard(tuple(ipaddress.ip_network(n, strict=False) for n in allow_networks))
    return _GuardedTransport(guard)


class _GuardedBackend(httpcore.SyncBackend):
    def __init__(self, guard: AddressGuard) -> None:
        self.guard = guard

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        source = (local_address, 0) if local_address else None
        try:
            sock = self.guard.connect(host, port, timeout, source, socket_options)
        except AddressRefused as exc:
            raise httpcore.ConnectError(exc.reason) from None
        except TimeoutError as exc:
            raise httpcore.ConnectTimeout(f"connect to {host} timed out") from exc
        except OSError as exc:
            raise httpcore.ConnectError(f"failed to connect to {host}: {exc}") from exc
        # As httpcore's own backend does: a request's headers and body go in separate writes, and with Nagle's
        # algorithm on, a kept-alive connection held the body until the receiver's delayed ACK (~40 ms a request).
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return SyncStream(sock)


@functools.cache
def _ssl_context() -> ssl.SSLContext:
    """One verifying TLS context per process: loading the CA bundle takes ~50 ms, too much for every sending pass.
    A context is safe to share between threads and connections once built."""
    return httpx.create_ssl_context(trust_env=False)


class _GuardedTransport(httpx.HTTPTransport):
    def __init__(self, guard: AddressGuard) -> None:
        super().__init__(verify=_ssl_context(), trust_env=False)
        # httpx has no public way to give its pool a network backend; the pool is all it builds here.
        self._pool = httpcore.ConnectionPool(ssl_context=_ssl_context(), network_backend=_GuardedBackend(guard))


# --- rate-limit headers -------------------------------------------------------------------------------

_REMAINING_HEADERS = ("x-rate-limit-remaining", "x-ratelimit-remaining", "ratelimit-remaining")
_RESET_HEADERS = ("x-rate-limit-reset", "x-ratelimit-reset", "ratelimit-reset")


def _seconds_until(value: str, now: float) -> float | None:
    """Read a reset value as platforms send it: epoch seconds, delta seconds, an ISO or HTTP date."""
    value = value.strip()
    try:
        number = float(value)
    except ValueError:
        pass
    else:
        # X and Bluesky send epoch seconds; Reddit and the IETF draft send seconds from now.
        return max(0.0, number - now) if number > 1_000_000_000 else max(0.0, number)
    for parse in (_parse_iso, parsedate_to_datetime):
        try:
            moment = parse(value)
        except (TypeError, ValueError):
            continue
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return max(0.0, moment.timestamp() - now)
    return None


def _parse_iso(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def rate_limit_wait(headers: Mapping[str, str], now: float) -> float | None:
    """Seconds to wait before the next request to this host, from its own headers; None when not spent.

    `Retry-After` always counts; the reset headers count only when the remaining budget is zero.
    """
    headers = CaseInsensitiveDict(headers)
    if "retry-after" in headers:
        wait = _seconds_until(headers["retry-after"], now)
        if wait is not None:
            return wait
    for remaining_name, reset_name in zip(_REMAINING_HEADERS, _RESET_HEADERS, strict=True):
        remaining = headers.get(remaining_name)
        if remaining is None:
            continue
        try:
            spent = float(remaining) <= 0
        except ValueError:
            continue
        if spent and reset_name in headers:
            return _seconds_until(headers[reset_name], now)
        return None
    return None


# --- the client ---------------------------------------------------------------------------------------


class HostPacer(Protocol):
    """When each host may next be called. Every request first reserves a slot, then reports what it learned."""

    def reserve(self, host: str, interval_s: float, max_wait_s: float) -> float:
        """Take `host`'s next free slot, keeping `interval_s` after it free, and return the seconds until it.

        A wait longer than `max_wait_s` is returned without taking the slot (the caller gives up)."""
        ...

    def hold_off(self, host: str, seconds: float) -> None:
        """No one calls `host` for the next `seconds` (a request just ended, or the host asked us to wait)."""
        ...


class LocalPacer:
    """A `HostPacer` for one process: callers on any thread queue behind each other's reservations."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock
        self._next: dict[str, float] = {}  # host -> clock time before which nobody calls it
        self._lock = threading.Lock()

    def reserve(self, host: str, interval_s: float, max_wait_s: float) -> float:
        with self._lock:
            now = self.clock()
            start = max(self._next.get(host, 0.0), now)
            if start - now <= max_wait_s:
                self._next[host] = start + interval_s
            return start - now

    def hold_off(self, host: str, seconds: float) -> None:
        with self._lock:
            self._next[host] = max(self._next.get(host, 0.0), self.clock() + seconds)


@dataclass
class _RobotsEntry:
    rules: RobotsRules
    fetched_at: float


class Http:
    """The polite HTTP client. One per process is enough; it is thread-safe for independent hosts.

    Args:
        user_agent: identifies us to sites; robots.txt groups are matched on its product token.
        allow_networks: CIDRs the SSRF guard lets through anyway (tests: `("127.0.0.1/32",)`).
        min_interval_s: at least this long between two requests to the same host.
        max_attempts: tries per request (first try included) for transient failures.
        max_wait_s: the longest single wait we accept from a server (Retry-After, rate-limit reset);
            a longer one fails fast with `RateLimited` so the run goes on and the cursor stays put.
        backoff_initial_s / backoff_max_s: exponential backoff with jitter between retries.
        connect_timeout_s / read_timeout_s / max_body_bytes: bounds of every request.
        sleep / clock: injectable so tests neither sleep nor depend on the wall clock.
        pacer: who keeps the per-host intervals and rate-limit waits; a `LocalPacer` on `clock` by default.
    """

    def __init__(
        self,
        *,
        user_agent: str = DEFAULT_USER_AGENT,
        allow_networks: Iterable[str] = (),
        min_interval_s: float = 1.0,
        max_attempts: int = 5,
        max_wait_s: float = 120.0,
        backoff_initial_s: float = 1.0,
        backoff_max_s: float = 60.0,
        connect_timeout_s: float = CONNECT_TIMEOUT_S,
        read_timeout_s: float = READ_TIMEOUT_S,
        max_body_bytes: int = MAX_BODY_BYTES,
        robots_ttl_s: float = ROBOTS_TTL_S,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
        pacer: HostPacer | None = None,
    ) -> None:
        if robots_ttl_s > ROBOTS_TTL_S:
            raise ValueError("robots_ttl_s: robots.txt may be cached for at most 24 h (RFC 9309 2.4)")
        self.user_agent = user_agent
        self.product_token = user_agent.split("/", 1)[0].split()[0]
        self.guard = AddressGuard(tuple(ipaddress.ip_network(n, strict=False) for n in allow_networks))
        self.min_interval_s = min_interval_s
        self.max_attempts = max_attempts
        self.max_wait_s = max_wait_s
        self.backoff_initial_s = backoff_initial_s
        self.backoff_max_s = backoff_max_s
        self.timeout = (connect_timeout_s, read_timeout_s)
        self.max_body_bytes = max_body_bytes
        self.robots_ttl_s = robots_ttl_s
        self.sleep = sleep
        self.clock = clock
        self.session = requests.Session()
        self.session.trust_env = False  # proxies from the environment would bypass the address guard
        adapter = _guarded_adapter(self.guard)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        self.pacer: HostPacer = pacer or LocalPacer(clock)
        self._robots: dict[str, _RobotsEntry] = {}

    # -- public API --

    def get(
        self,
        url: str,
        *,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        accept: Iterable[str] | None = None,
        robots: bool = False,
    ) -> requests.Response:
        """GET `url` and return the response with its body read (≤ cap). Non-2xx raises `HttpStatusError`.

        `accept`: media types we can parse (`"application/json"` also accepts `…+json`); others raise.
        `robots=True` for page scraping: the URL (and each redirect target) must be allowed by robots.txt.
        """
        response = self.request("GET", url, params=params, headers=headers, robots=robots)
        if not 200 <= response.status_code < 300:
            raise HttpStatusError(response.url, _status_reason(response), status=response.status_code)
        if accept is not None:
            check_content_type(response, tuple(accept))
        return response

    def get_json(
        self, url: str, *, params: Mapping[str, Any] | None = None, headers: Mapping[str, str] | None = None
    ) -> Any:
        """GET a JSON document. Invalid UTF-8 or malformed JSON raise `HttpError` naming the URL."""
        return decode_json(self.get(url, params=params, headers=headers, accept=("application/json",)))

    def request(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, Any] | None = None,
        json_body: Any = None,
        form: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        robots: bool = False,
        truncate_at: int | None = None,
    ) -> requests.Response:
        """Send one request with retries, following redirects ourselves. Returns the final response whatever
        its status (after retrying the retryable ones); `get` is the strict variant. `truncate_at` keeps only
        that many bytes of the body instead of refusing a larger one (robots.txt wants its first 500 KiB)."""
        _check_scheme(url)
        retrying = tenacity.Retrying(
            stop=tenacity.stop_after_attempt(self.max_attempts),
            wait=self._wait,
            retry=tenacity.retry_if_exception_type(_Retryable),
            sleep=self.sleep,
            reraise=True,
            before_sleep=self._log_retry,
        )
        try:
            return retrying(
                self._send_following_redirects, method, url, params, (json_body, form), headers, robots, truncate_at
            )
        except _Retryable as exc:
            if exc.status == 429 or (exc.wait_s is not None and exc.wait_s > self.max_wait_s):
                raise RateLimited(exc.url, exc.reason, reset_in_s=exc.wait_s, status=exc.status) from exc
            raise HttpStatusError(
                exc.url, f"{exc.reason} (gave up after {self.max_attempts} attempts)", status=exc.status
            ) from exc

    @contextmanager
    def stream(
        self,
        url: str,
        *,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Iterator[Iterator[bytes]]:
        """Open a long-lived GET (a streaming API) and yield an iterator over its lines, each capped at the
        body cap. One attempt, no retries: the caller owns reconnecting, because streaming APIs prescribe
        their own backoff. A non-200 answer raises like `get` (`RateLimited` when the host says to wait).
        The read timeout applies between lines, so a stalled stream raises instead of hanging."""
        _check_scheme(url)
        host = urlsplit(url).netloc.lower()
        self._wait_for_host(host, url)
        merged = {"User-Agent": self.user_agent, **(headers or {})}
        try:
            response = self.session.get(
                url, params=params, headers=merged, timeout=self.timeout, stream=True, allow_redirects=False
            )
        except (requests.Timeout, requests.ConnectionError) as exc:
            self._mark_request(host, None)
            refusal = _refusal_in(exc)
            if refusal is not None:
                raise refusal from None
            raise HttpError(url, f"{type(exc).__name__}: {exc}") from exc
        try:
            wait = rate_limit_wait(response.headers, self.clock())
            self._mark_request(host, wait)
            if response.status_code != 200:
                self._read_capped(response)
                if response.status_code == 429 or wait is not None:
                    raise RateLimited(url, _status_reason(response), reset_in_s=wait, status=response.status_code)
                raise HttpStatusError(url, _status_reason(response), status=response.status_code)
            yield self._lines(response, url)
        finally:
            response.close()

    def _lines(self, response: requests.Response, url: str) -> Iterator[bytes]:
        try:
            for line in response.iter_lines(chunk_size=8192, delimiter=b"\n"):
                if len(line) > self.max_body_bytes:
                    raise TooLarge(url, f"a line of the stream is over the {self.max_body_bytes}-byte cap")
                yield line.rstrip(b"\r")
        except (requests.exceptions.ChunkedEncodingError, requests.ConnectionError) as exc:
            raise HttpError(url, f"stream broke: {exc}") from exc

    def robots_rules(self, url: str) -> RobotsRules:
        """The robots.txt rules of `url`'s site for our User-Agent (cached ≤ 24 h)."""
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        now = self.clock()
        entry = self._robots.get(origin)
        if entry is not None and now - entry.fetched_at < self.robots_ttl_s:
            return entry.rules
        rules = self._fetch_robots(origin)
        self._robots[origin] = _RobotsEntry(rules, now)
        return rules

    # -- internals --

    def _send_following_redirects(
        self,
        method: str,
        url: str,
        params: Mapping[str, Any] | None,
        body: tuple[Any, Mapping[str, str] | None],
        headers: Mapping[str, str] | None,
        robots: bool,
        truncate_at: int | None,
    ) -> requests.Response:
        for _ in range(MAX_REDIRECTS + 1):
            if robots and not self.robots_rules(url).allows(url):
                raise RobotsDisallowed(url, f"robots.txt disallows this URL for {self.product_token}")
            response = self._send_once(method, url, params, body, headers, truncate_at)
            if response.status_code not in REDIRECT_STATUSES or "location" not in response.headers:
                return response
            url = _redirect_target(response.url, response.headers["location"])
            params = None  # the Location already carries the query
            if response.status_code == 303:
                method, body = "GET", (None, None)
        raise HttpError(url, f"more than {MAX_REDIRECTS} redirects")

    def _send_once(
        self,
        method: str,
        url: str,
        params: Mapping[str, Any] | None,
        body: tuple[Any, Mapping[str, str] | None],
        headers: Mapping[str, str] | None,
        truncate_at: int | None = None,
    ) -> requests.Response:
        host = urlsplit(url).netloc.lower()
        json_body, form = body
        self._wait_for_host(host, url)
        merged = {"User-Agent": self.user_agent, "Accept-Encoding": "gzip, deflate"}
        merged.update(headers or {})
        try:
            response = self.session.request(
                method,
                url,
                params=params,
                json=json_body,
                data=form,
                headers=merged,
                timeout=self.timeout,
                stream=True,
                allow_redirects=False,
            )
        except (requests.Timeout, requests.ConnectionError) as exc:
            self._mark_request(host, None)
            refusal = _refusal_in(exc)
            if refusal is not None:
                raise refusal from None
            raise _Retryable(url, f"{type(exc).__name__}: {exc}") from exc
        except (requests.exceptions.InvalidSchema, requests.exceptions.MissingSchema, ValueError) as exc:
            # requests parses a redirect's Location even when not following it (InvalidURL is a ValueError)
            raise HttpError(url, f"not a valid URL, or its redirect Location is not one: {exc}") from None
        try:
            self._read_capped(response, truncate_at)
        except (requests.exceptions.ChunkedEncodingError, requests.exceptions.ConnectionError) as exc:
            self._mark_request(host, None)
            raise _Retryable(url, f"body truncated: {exc}") from exc
        finally:
            response.close()
        wait = rate_limit_wait(response.headers, self.clock())
        self._mark_request(host, wait)
        log.debug("http.response", extra={"url": response.url, "status": response.status_code})
        if response.status_code in RETRY_STATUSES:
            raise _Retryable(response.url, _status_reason(response), wait_s=wait, status=response.status_code)
        return response

    def _read_capped(self, response: requests.Response, truncate_at: int | None = None) -> None:
        declared = response.headers.get("content-length")
        if truncate_at is None and declared and declared.isdigit() and int(declared) > self.max_body_bytes:
            raise TooLarge(response.url, f"body of {declared} bytes is over the {self.max_body_bytes}-byte cap")
        chunks: list[bytes] = []
        size = 0
        for chunk in response.iter_content(64 * 1024):
            size += len(chunk)
            chunks.append(chunk)
            if truncate_at is not None and size >= truncate_at:
                break  # the rest is never read; the connection is closed, not reused
            if size > self.max_body_bytes:
                raise TooLarge(response.url, f"body is over the {self.max_body_bytes}-byte cap")
        body = b"".join(chunks)
        response._content = body[:truncate_at] if truncate_at is not None else body

    def _wait_for_host(self, host: str, url: str) -> None:
        # The slot is reserved before sleeping, so concurrent callers (threads, or workers sharing the
        # pacer) queue behind each other instead of all waking at once.
        delay = self.pacer.reserve(host, self.min_interval_s, self.max_wait_s)
        if delay > self.max_wait_s:
            raise RateLimited(url, f"rate limit of {host} resets in {delay:.0f} s", reset_in_s=delay)
        if delay > 0:
            self.sleep(delay)

    def _mark_request(self, host: str, server_wait_s: float | None) -> None:
        self.pacer.hold_off(host, max(self.min_interval_s, server_wait_s or 0.0))

    def _wait(self, retry_state: tenacity.RetryCallState) -> float:
        exc = retry_state.outcome.exception() if retry_state.outcome else None
        if isinstance(exc, _Retryable) and exc.wait_s is not None:
            if exc.wait_s > self.max_wait_s:
                raise exc  # not worth waiting for: fail fast as RateLimited
            # The host state already holds the wait; the backoff only adds jitter on top.
            return random.uniform(0, 1.0)
        exponent = retry_state.attempt_number - 1
        return min(self.backoff_max_s, self.backoff_initial_s * 2.0**exponent) + random.uniform(
            0, self.backoff_initial_s
        )

    def _log_retry(self, retry_state: tenacity.RetryCallState) -> None:
        exc = retry_state.outcome.exception() if retry_state.outcome else None
        log.warning(
            "http.retry",
            extra={"attempt": retry_state.attempt_number, "error": str(exc), "url": getattr(exc, "url", None)},
        )

    def _fetch_robots(self, origin: str) -> RobotsRules:
        url = f"{origin}/robots.txt"
        try:
            response = self.request("GET", url, truncate_at=PARSE_LIMIT_BYTES)
        except HttpError as exc:
            # RFC 9309 2.3.1.3/4: server errors and unreachable sites mean complete disallow.
            log.warning("robots.unreachable", extra={"url": url, "error": str(exc)})
            return RobotsRules.disallowing_everything()
        if 400 <= response.status_code < 500:
            return RobotsRules.allowing_everything()  # 2.3.1.3: "unavailable" means no restrictions
        if not 200 <= response.status_code < 300:
            return RobotsRules.disallowing_everything()
        return parse_robots(response.content, self.product_token)


def decode_json(response: requests.Response) -> Any:
    """The JSON body of a response read by `Http`; invalid UTF-8 or malformed JSON raise `HttpError`."""
    try:
        return json.loads(response.content.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise HttpError(response.url, f"body is not valid UTF-8 at byte {exc.start}") from exc
    except json.JSONDecodeError as exc:
        raise HttpError(response.url, f"malformed JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from exc


def _refusal_in(exc: BaseException) -> AddressRefused | None:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, AddressRefused):
            return current
        seen.add(id(current))
        for arg in getattr(current, "args", ()):
            if isinstance(arg, BaseException):
                found = _refusal_in(arg)
                if found:
                    return found
        current = current.__cause__ or current.__context__ or getattr(current, "reason", None)
    return None


def _check_scheme(url: str) -> None:
    try:
        parts = urlsplit(url)
        port = parts.port  # raises for a port out of range
    except ValueError as exc:
        raise HttpError(url, f"not a valid URL: {exc}") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise HttpError(url, f"only http and https URLs are fetched, not {scheme or 'a relative URL'}")
    if not parts.hostname or any(ch.isspace() or ord(ch) < 0x20 for ch in parts.netloc) or port == 0:
        raise HttpError(url, "not a valid URL: no host, or a host with spaces or control characters")


def _redirect_target(current: str, location: str) -> str:
    """The URL a redirect points to, or an HttpError naming it: a server's Location may be anything, and
    requests would raise its own InvalidURL, which no caller expects (a sweep died on one)."""
    try:
        target = urljoin(current, location)
    except ValueError as exc:
        raise HttpError(current, f"redirect to an invalid Location {location[:200]!r}: {exc}") from None
    try:
        _check_scheme(target)
    except HttpError as exc:
        raise HttpError(current, f"redirect to an unusable Location {location[:200]!r}: {exc.reason}") from None
    return target


def _status_reason(response: requests.Response) -> str:
    return f"HTTP {response.status_code} {response.reason or ''}".strip()


def check_content_type(response: requests.Response, accept: tuple[str, ...]) -> None:
    media_type = response.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    for wanted in accept:
        wanted = wanted.lower()
        if media_type == wanted:
            return
        if wanted == "application/json" and media_type.endswith("+json"):
            return
        if wanted.endswith("/*") and media_type.startswith(wanted[:-1]):
            return
    raise UnexpectedContentType(
        response.url,
        f"content type {media_type or '(none)'} is not one of {', '.join(accept)}",
        status=response.status_code,
    )
