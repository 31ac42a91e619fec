"""Source health: what each collector's sweeps did, whether it is working, and alerts for the operator.

Every sweep leaves one `source_runs` row (success or the source's reason for failing, items returned,
rate-limit headroom). Health is read from those rows, so it needs no second bookkeeping. A source that
stops returning data while others go on raises an operator alert: stored here, written to the audit log
and logged — never routed to the business teams, whose channels are for mentions.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import Connection, func, select, update

from storage.audit import record
from storage.schema import now_utc, operator_alerts, source_runs

log = logging.getLogger("overheard.health")

# A source is "stopped" when it returned nothing for this long while another source returned items.
SILENCE = timedelta(hours=6)
SOURCE_FAILING, SOURCE_STOPPED = "source_failing", "source_stopped"  # the kinds of operator alerts


class SourceState(StrEnum):
    """Whether a source works, in one word the CLI and the web page show."""

    working = "working"  # the last sweep succeeded and the source returned items within the silence window
    quiet = "quiet"  # the last sweep succeeded but nothing came back lately, and no other source had items either
    stopped = "stopped"  # it used to return items, none within the silence window, while other sources had some
    failing = "failing"  # the last sweep failed
    never_run = "never_run"


@dataclass(frozen=True)
class RateLimit:
    """A platform's rate-limit window as its headers describe it after a response."""

    remaining: int | None  # requests left in the window
    limit: int | None = None  # the window's size
    reset_at: datetime | None = None


@dataclass(frozen=True)
class SourceHealth:
    """One collector's health, as `overheard sources` and the API show it."""

    name: str
    state: SourceState
    last_run_at: datetime | None
    last_success_at: datetime | None
    last_error_at: datetime | None
    last_error: str | None  # the reason of the most recent failure, kept after later successes
    items_last_hour: int
    items_last_day: int
    rate_limit: RateLimit | None  # from the latest sweep that saw rate-limit headers
    consecutive_failures: int

    @property
    def working(self) -> bool:
        return self.state is SourceState.working


@dataclass(frozen=True)
class OperatorAlert:
    id: int
    kind: str
    subject: str
    message: str
    raised_at: datetime
    resolved_at: datetime | None


def record_sweep(
    connection: Connection,
    name: str,
    *,
    started_at: datetime,
    finished_at: datetime | None = None,
    items: int = 0,
    error: str | None = None,
    rate_limit: RateLimit | None = None,
) -> None:
    """Keep one sweep's outcome. `error` None means the sweep succeeded."""
    connection.execute(
        source_runs.insert().values(
            name=name,
            started_at=started_at,
            finished_at=finished_at or now_utc(),
            ok=error is None,
            items=items,
            error=error,
            rate_limit_remaining=rate_limit.remaining if rate_limit else None,
            rate_limit_limit=rate_limit.limit if rate_limit else None,
            rate_limit_reset_at=rate_limit.reset_at if rate_limit else None,
        )
    )


def _names(connection: Connection) -> list[str]:
    return list(connection.execute(select(source_runs.c.name).distinct().order_by(source_runs.c.name)).scalars())


def _items_since(connection: Connection, since: datetime) -> dict[str, int]:
    rows = connection.execute(
        select(source_runs.c.name, func.coalesce(func.sum(source_runs.c["items"]), 0))
        .where(source_runs.c.finished_at > since)
        .group_by(source_runs.c.name)
    )
    return {name: int(total) for name, total in rows}


def source_health(
    connection: Connection, now: datetime | None = None, *, names: list[str] | None = None, silence: timedelta = SILENCE
) -> list[SourceHealth]:
    """Health of every collector that has run (plus `names`, shown as never run when they have not)."""
    now = now or now_utc()
    known = sorted(set(_names(connection)) | set(names or ()))
    last_hour = _items_since(connection, now - timedelta(hours=1))
    last_day = _items_since(connection, now - timedelta(days=1))
    in_window = _items_since(connection, now - silence)
    others_returning = {name for name, items in in_window.items() if items > 0}
    # Only a source that used to return data can stop; a query nobody has mentioned yet is just quiet.
    ever_returned = set(
        connection.execute(select(source_runs.c.name).where(source_runs.c["items"] > 0).distinct()).scalars()
    )
    report: list[SourceHealth] = []
    for name in known:
        runs = list(
            connection.execute(
                select(source_runs)
                .where(source_runs.c.name == name)
                .order_by(source_runs.c.finished_at.desc(), source_runs.c.id.desc())
                .limit(50)
            )
        )
        if not runs:
            report.append(SourceHealth(name, SourceState.never_run, None, None, None, None, 0, 0, None, 0))
            continue
        last = runs[0]
        failures = 0
        for run in runs:
            if run.ok:
                break
            failures += 1
        success = next((r for r in runs if r.ok), None)
        failure = next((r for r in runs if not r.ok), None)
        limited = next((r for r in runs if r.rate_limit_remaining is not None), None)
        if not last.ok:
            state = SourceState.failing
        elif in_window.get(name, 0) > 0:
            state = SourceState.working
        elif name in ever_returned and others_returning - {name}:
            state = SourceState.stopped
        else:
            state = SourceState.quiet
        report.append(
            SourceHealth(
                name=name,
                state=state,
                last_run_at=last.finished_at,
                last_success_at=success.finished_at if success else None,
                last_error_at=failure.finished_at if failure else None,
                last_error=failure.error if failure else None,
                items_last_hour=last_hour.get(name, 0),
                items_last_day=last_day.get(name, 0),
                rate_limit=RateLimit(
                    limited.rate_limit_remaining, limited.rate_limit_limit, limited.rate_limit_reset_at
                )
                if limited
                else None,
                consecutive_failures=failures,
            )
        )
    return report


def _alert_for(source: SourceHealth, silence: timedelta) -> tuple[str, str] | None:
    """The alert a source's state calls for (kind, message), or None when it needs none."""
    if source.state is SourceState.failing:
        return (
            SOURCE_FAILING,
            f"source {source.name} failed {source.consecutive_failures} sweep(s) in a row; the other sources "
            f"go on. Last error: {source.last_error}",
        )
    if source.state is SourceState.stopped:
        return (
            SOURCE_STOPPED,
            f"source {source.name} returned nothing for {silence} while other sources return data; "
            "check its query, token and the platform's API terms",
        )
    return None


def raise_operator_alerts(
    connection: Connection, now: datetime | None = None, *, silence: timedelta = SILENCE
) -> list[OperatorAlert]:
    """Alert the operator about each source that fails, or that stopped returning data while others go on;
    resolve the alerts whose cause is gone. Returns the alerts raised now (at most one open per source and
    kind, so a source failing every sweep raises one alert, not one per sweep)."""
    now = now or now_utc()
    raised: list[OperatorAlert] = []
    # Every source's open alerts in one query (this runs after every sweep), not two queries per source.
    open_now: dict[str, dict[str, int]] = {}
    for kind, subject, alert_id in connection.execute(
        select(operator_alerts.c.kind, operator_alerts.c.subject, operator_alerts.c.id).where(
            operator_alerts.c.resolved_at.is_(None)
        )
    ):
        open_now.setdefault(subject, {})[kind] = alert_id
    for source in source_health(connection, now, silence=silence):
        wanted = _alert_for(source, silence)
        still_open = open_now.get(source.name, {})
        for kind, alert_id in still_open.items():
            if wanted is not None and wanted[0] == kind:
                continue
            connection.execute(update(operator_alerts).where(operator_alerts.c.id == alert_id).values(resolved_at=now))
            record(connection, "health", "source.recovered", "source", source.name, kind=kind)
            log.info("source.recovered", extra={"source": source.name, "kind": kind})
        if wanted is None or wanted[0] in still_open:  # an open alert of the wanted kind is never resolved above
            continue
        kind, message = wanted
        alert_id = connection.execute(
            operator_alerts.insert()
            .values(kind=kind, subject=source.name, message=message, raised_at=now)
            .returning(operator_alerts.c.id)
        ).scalar_one()
        record(connection, "health", "source.alert", "source", source.name, kind=kind, message=message)
        log.warning("source.alert", extra={"source": source.name, "kind": kind, "reason": message})
        raised.append(OperatorAlert(alert_id, kind, source.name, message, now, None))
    return raised


def has_open_alert(connection: Connection, subject: str) -> bool:
    """Whether an operator alert about `subject` (a source's name) waits unresolved."""
    query = select(operator_alerts.c.id).where(
        operator_alerts.c.subject == subject, operator_alerts.c.resolved_at.is_(None)
    )
    return connection.execute(query.limit(1)).first() is not None


def operator_alerts_open(connection: Connection) -> list[OperatorAlert]:
    """Alerts waiting for the operator, oldest first."""
    rows = connection.execute(
        select(operator_alerts).where(operator_alerts.c.resolved_at.is_(None)).order_by(operator_alerts.c.id)
    )
    return [OperatorAlert(r.id, r.kind, r.subject, r.message, r.raised_at, r.resolved_at) for r in rows]
