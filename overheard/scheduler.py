"""The scheduler (Celery beat): one collect per enabled source every `poll_every`, the re-check for
platform deletions every `recheck.every`, and the sweeper.

A collect message that waits in the queue longer than its source's interval expires unrun, so a
backlog of workers never piles up sweeps of one source; the next tick sends a fresh one, and the
database lock in `overheard.collect` keeps two sweeps of one source from running at once.
"""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Any

from celery import Celery

from overheard.config import ConfigError, OverheardConfig
from overheard.tasks import COLLECT, PLATFORM_DELETIONS, RECHECK, RECOVER, WorkerSettings

_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400}
_INTERVAL = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)\s*$")


def parse_interval(text: str, where: str = "poll_every") -> timedelta:
    """'30s', '5m', '1.5h', '1d' → a timedelta; anything else is a ConfigError naming the key."""
    match = _INTERVAL.match(text)
    if not match or float(match.group(1)) <= 0:
        raise ConfigError(f"{where}: {text!r} is not an interval like '30s', '5m', '2h' or '1d'")
    return timedelta(seconds=float(match.group(1)) * _UNITS[match.group(2)])


def beat_schedule(config: OverheardConfig, settings: WorkerSettings) -> dict[str, dict[str, Any]]:
    """Beat entries: a collect per enabled source at its own interval, plus `recover`."""
    schedule: dict[str, dict[str, Any]] = {}
    for source in config.sources:
        if not source.enabled:
            continue
        every = parse_interval(source.poll_every, f"sources ('{source.name}').poll_every").total_seconds()
        schedule[f"collect {source.name}"] = {
            "task": COLLECT,
            "schedule": every,
            "args": [source.name],
            "options": {"expires": every},
        }
    if config.recheck.enabled:
        every = parse_interval(config.recheck.every, "recheck.every").total_seconds()
        schedule["recheck platform deletions"] = {
            "task": RECHECK,
            "schedule": every,
            "args": [PLATFORM_DELETIONS],
            "options": {"expires": every},
        }
    schedule["recover stuck work"] = {
        "task": RECOVER,
        "schedule": settings.recover_every_s,
        "options": {"expires": settings.recover_every_s},
    }
    return schedule


def run_scheduler(app: Celery, config: OverheardConfig, settings: WorkerSettings, state: Path) -> None:
    """Run beat in this process until it is stopped; `state` keeps each entry's last run across restarts."""
    app.conf.beat_schedule = beat_schedule(config, settings)
    state.parent.mkdir(parents=True, exist_ok=True)
    app.Beat(schedule=str(state), loglevel="INFO", max_interval=min(5.0, settings.recover_every_s)).run()
