"""Collecting and watching the sources: one "collect" (sweep each collector, check for spikes, send or hand on
what is due), the platform-deletion re-check, and source health. `overheard collect` and `run`, the Celery
`collect` and `recheck` tasks and the demo call these, so every path takes the same locks: one sweep of a
collector at a time (`pipeline.sweep`), one re-check at a time (here).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from sqlalchemy import Engine

from listener.base import Collector, SourceError
from listener.http import Http, HttpError
from overheard.alerting import AlertReport, check_spikes
from overheard.config import OverheardConfig
from overheard.pipeline import BatchReport, DeliveryReport, Runtime, deliver_due, refusal, sweep_each
from overheard.services.access import Caller, Capability
from overheard.sources import SourceNotAvailable, build_collectors, build_http
from overheard.trust import RecheckReport, open_alerts, run_recheck, sources_health
from storage import task_runs
from storage.health import OperatorAlert, SourceHealth

log = logging.getLogger("overheard.sweeps")

RECHECK_LOCK = "recheck"
"""The lock a re-check holds: two at once would ask the platforms twice for nothing."""


@dataclass(frozen=True)
class SourceFailure:
    """A collector whose sweep failed; the others went on. `crashed`: not the source's refusal (an HTTP or
    platform error) but a bug or a database error, logged as `source.crashed`. `error` is what was raised."""

    name: str
    reason: str
    crashed: bool
    error: BaseException


@dataclass
class CollectReport:
    """What one collect did: the sweeps together, the sources that failed, the spike check, and the deliveries
    sent (None when sending was left to someone else, e.g. the Celery sender)."""

    sweeps: BatchReport = field(default_factory=BatchReport)
    failures: list[SourceFailure] = field(default_factory=list)
    alerts: AlertReport = field(default_factory=AlertReport)
    deliveries: DeliveryReport | None = None

    @property
    def routes(self) -> int:
        """Routes written: by the sweeps' mentions and by spike alerts."""
        return sum(self.sweeps.routes.values()) + self.alerts.routes


PageWatcher = Callable[[str], Callable[[BatchReport], None] | None]
"""Given a collector's name before its sweep, what to call after each stored page (progress), if anything."""


def collect(
    runtime: Runtime,
    collectors: Sequence[Collector],
    *,
    send: bool = True,
    watch: PageWatcher | None = None,
    nudge: Callable[[], None] | None = None,
) -> CollectReport:
    """Sweep each collector from its cursor, two at a time (`pipeline.sweep_each`: one is classified while the
    other is stored; a failing one is recorded and the others go on; one another process is sweeping is left to
    it), check every brand's finished hours for spikes and route them, then send what is due when `send` (a
    Celery worker leaves that to the sender task). `nudge` is called after each stored page (a background sender)."""
    report = CollectReport()
    watchers = {id(c): watch(c.name) if watch else None for c in collectors}

    def on_page(collector: Collector, batch: BatchReport) -> None:
        watcher = watchers[id(collector)]
        if watcher is not None:
            watcher(batch)
        if nudge is not None:
            nudge()

    for collector, outcome in sweep_each(runtime, collectors, on_page):
        name = collector.name
        if isinstance(outcome, BatchReport):
            report.sweeps.add(outcome)
        elif isinstance(outcome, SourceError | HttpError):
            report.failures.append(SourceFailure(name, str(outcome), crashed=False, error=outcome))
        else:  # a collector's bug or a database hiccup costs this source, not the run
            reason = refusal(outcome)
            log.error("source.crashed", extra={"source": name, "reason": reason})
            report.failures.append(SourceFailure(name, reason, crashed=True, error=outcome))
    report.alerts = check_spikes(runtime)  # finished hours only, once each (a watermark per brand)
    if send:
        report.deliveries = deliver_due(runtime)
    return report


def recheck(config: OverheardConfig, engine: Engine, *, http: Http | None = None) -> RecheckReport | None:
    """Re-check a sample of recent mentions per source and remove those deleted on their platform; None when
    another process is re-checking now."""
    with task_runs.exclusive(engine, RECHECK_LOCK) as mine:
        if not mine:
            return None
        return run_recheck(config, engine, http=http)


@dataclass(frozen=True)
class SourcesHealth:
    """Every configured collector's health (one that never ran is listed too), the operator alerts still open,
    and the sources that cannot run now with the reason (e.g. a token's variable is unset)."""

    sources: list[SourceHealth]
    alerts: list[OperatorAlert]
    unavailable: list[tuple[str, str]]


def configured_collectors(config: OverheardConfig, http: Http | None = None) -> tuple[list[str], list[tuple[str, str]]]:
    """The names of the collectors the config defines, and (source, reason) for each that cannot be built."""
    http, names, unavailable = http or build_http(config), [], []
    for source in config.sources:
        if not source.enabled:
            continue
        try:
            names += [c.name for c in build_collectors(config, only=source.name, http=http)]
        except SourceNotAvailable as exc:
            unavailable.append((source.name, str(exc)))
    return names, unavailable


def health(config: OverheardConfig, engine: Engine, caller: Caller) -> SourcesHealth:
    """Per source and query: last success, last error with its reason, items in the last hour and day,
    rate-limit headroom and whether it works; plus the operator alerts still open."""
    caller.require(Capability.operate)
    names, unavailable = configured_collectors(config)
    return SourcesHealth(sources_health(engine, names), open_alerts(engine), unavailable)
