"""The scheduler (Celery beat): one collect per enabled source every `poll_every`, the re-check for
platform deletions every `recheck.every`, and the sweeper.

Beat sends a job only while none of it waits in the queue (overheard/pending.py), and nothing expires:
a worker that cannot keep up runs each source in turn, first in first out, instead of finding the
same source's message expired tick after tick. The database lock in `overheard.collect` keeps two
sweeps of one source from running at once.
"""

from __future__ import annotations

import logging
import re
from datetime import timedelta
from functools import partial
from pathlib import Path
from typing import Any

from celery import Celery
from celery.beat import PersistentScheduler, ScheduleEntry, SchedulingError
from celery.schedules import schedstate

from overheard.config import ConfigError, OverheardConfig, Settings
from overheard.pending import PendingMarkers, send_once
from overheard.tasks import COLLECT, PLATFORM_DELETIONS, RECHECK, RECOVER, RETENTION, broker_redis

log = logging.getLogger("overheard.scheduler")

_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400}
_INTERVAL = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)\s*$")


def parse_interval(text: str, where: str = "poll_every") -> timedelta:
    """'30s', '5m', '1.5h', '1d' → a timedelta; anything else is a ConfigError naming the key."""
    match = _INTERVAL.match(text)
    if not match or float(match.group(1)) <= 0:
        raise ConfigError(f"{where}: {text!r} is not an interval like '30s', '5m', '2h' or '1d'")
    return timedelta(seconds=float(match.group(1)) * _UNITS[match.group(2)])


def beat_schedule(config: OverheardConfig, settings: Settings) -> dict[str, dict[str, Any]]:
    """Beat entries: a collect per enabled source at its own interval, the re-check, retention, and `recover`."""
    schedule: dict[str, dict[str, Any]] = {}
    for source in config.sources:
        if not source.enabled:
            continue
        every = parse_interval(source.poll_every, f"sources ('{source.name}').poll_every").total_seconds()
        schedule[f"collect {source.name}"] = {"task": COLLECT, "schedule": every, "args": [source.name]}
    if config.recheck.enabled:
        every = parse_interval(config.recheck.every, "recheck.every").total_seconds()
        schedule["recheck platform deletions"] = {"task": RECHECK, "schedule": every, "args": [PLATFORM_DELETIONS]}
    if config.retention.enabled:
        every = parse_interval(config.retention.every, "retention.every").total_seconds()
        schedule["apply retention"] = {"task": RETENTION, "schedule": every}
    schedule["recover stuck work"] = {"task": RECOVER, "schedule": settings.recover_every_s}
    return schedule


def _subject(entry: ScheduleEntry) -> str:
    """What an entry's task works on (its one argument: a source's name), as its marker names it."""
    return str(entry.args[0]) if entry.args else ""


class OneWaitingScheduler(PersistentScheduler):
    """Beat that sends an entry's task only while no message of it waits (`send_once`).

    An entry that falls due while its last message still waits stays due, and is looked at again every
    `recheck_s` (at most a quarter of its interval) until that message has started; then it is sent. So
    a fleet that is behind re-queues each job soon after it starts, in the order the jobs started,
    rather than at its next tick: with ticks, the entries first in each tick's order got their turns
    back sooner and were swept up to twice as often as the last.
    """

    recheck_s = 1.0

    def __init__(self, *args: Any, markers: PendingMarkers, **kwargs: Any) -> None:
        self.markers = markers
        super().__init__(*args, **kwargs)

    def is_due(self, entry: ScheduleEntry) -> schedstate:
        due, next_s = entry.is_due()
        if not due:
            return schedstate(due, next_s)
        try:
            waiting = self.markers.waiting(entry.task, _subject(entry))
        except Exception:  # Redis unreachable: let the send try, fail and be reported
            return schedstate(due, next_s)
        if waiting is None:
            return schedstate(due, next_s)
        every = entry.schedule.run_every.total_seconds() if hasattr(entry.schedule, "run_every") else next_s
        return schedstate(False, min(self.recheck_s, every / 4))

    def apply_async(self, entry: ScheduleEntry, producer: Any = None, advance: bool = True, **_: Any) -> Any:
        entry = self.reserve(entry) if advance else entry
        try:
            sent = send_once(self.app, self.markers, entry.task, _subject(entry), producer=producer, **entry.options)
        except Exception as exc:  # beat logs it and tries again at the next tick
            raise SchedulingError(f"Couldn't apply scheduled task {entry.name}: {exc}") from exc
        finally:
            self._tasks_since_sync += 1
            if self.should_sync():
                self._do_sync()
        if sent is None:
            log.info("scheduler.still_waiting", extra={"entry": entry.name})
        return sent


def run_scheduler(app: Celery, config: OverheardConfig, settings: Settings, state: Path) -> None:
    """Run beat in this process until it is stopped; `state` keeps each entry's last run across restarts."""
    app.conf.beat_schedule = beat_schedule(config, settings)
    state.parent.mkdir(parents=True, exist_ok=True)
    markers = PendingMarkers(broker_redis(settings), settings.queue, settings.pending_ttl_s)
    scheduler = partial(OneWaitingScheduler, markers=markers)
    app.Beat(
        scheduler=scheduler, schedule=str(state), loglevel="INFO", max_interval=min(5.0, settings.recover_every_s)
    ).run()
