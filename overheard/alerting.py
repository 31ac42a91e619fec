"""Spike and storm alerts in operation: check each brand's finished hours and route what is found.

`storage.metrics.check_alerts` finds the hours whose volume or negative share broke from the brand's
seasonal baseline (thresholds in the `alerts:` section of overheard.yaml); `enrichers.alerts.routes_for`
turns each into routes to communications and marketing carrying the mentions that drove it. Here the
routes are written through the same outbox as every other route, so they land in the inbox and are
delivered (webhook, Slack, email) with the same retries and idempotency keys.

Each brand keeps a watermark (a cursor named ``alerts:<brand>``): the first hour not yet checked. Only
finished hours are checked, so an hour is judged once, on all its mentions, at most one hour late.
Checking the same hours again changes nothing (routes are upserts on their natural key).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection

from enrichers.alerts import Alert, AlertKind, AlertsConfig, Evidence, routes_for
from enrichers.delivery import event_payload, new_delivery
from enrichers.model import Route
from overheard.pipeline import Runtime
from storage.alert_evidence import save_evidence
from storage.mentions import first_mention_at, get_cursor, mention_with_verdict, set_cursor
from storage.metrics import check_alerts, top_mentions
from storage.outbox import SqlOutbox, route_rule

log = logging.getLogger("overheard.alerting")

MAX_CANDIDATES = 500
"""Mentions of the alert's hour considered for keying its route, strongest first."""

FIRST_CHECK_DAYS = 30
"""On the first check of a brand, look back at most this far (older hours are history, not news)."""


@dataclass
class AlertReport:
    """What one check found, for the CLI and the demo."""

    checked_until: datetime | None = None
    alerts: list[tuple[Alert, list[Evidence]]] = field(default_factory=list)
    routes: int = 0
    already_routed: list[str] = field(default_factory=list)  # "alert key → team" whose team had every mention

    def lines(self) -> list[str]:
        return [f"{alert.summary()} ({len(evidence)} mentions as evidence)" for alert, evidence in self.alerts]


def _hour(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def _cursor_name(brand: str) -> str:
    return f"alerts:{brand}"


def _start(connection: Connection, brand: str, until: datetime) -> datetime | None:
    """The first hour of `brand` not yet checked; on a first check, the first stored hour within reach."""
    saved = get_cursor(connection, _cursor_name(brand))
    if saved:
        return datetime.fromisoformat(saved)
    first = first_mention_at(connection)
    if first is None:
        return None
    return max(_hour(first), until - timedelta(days=FIRST_CHECK_DAYS))


def _taken(connection: Connection, route: Route) -> bool:
    """True when the mention already has a route to this team from another rule (an alert must not replace it)."""
    rule = route_rule(connection, route.source, route.external_id, route.team)
    return rule is not None and rule != route.rule


def _alert_routes(
    connection: Connection, alert: Alert, evidence: list[Evidence], config: AlertsConfig
) -> tuple[list[Route], list[str]]:
    """One route per team, keyed on the strongest mention of the hour that team has no other route for.

    A route's natural key is (mention, team), so an alert cannot ride on a mention the team already has
    for another reason. Candidates are the evidence first, then every other mention of the hour; a team
    that already has every one of them has seen the whole storm, and is returned among the skipped.
    """
    negative = "negative" if alert.kind is AlertKind.negative_share else None
    hour_end = alert.hour + timedelta(hours=1)
    shown = {(e.source, e.external_id) for e in evidence}
    rest = [
        e
        for e in top_mentions(connection, alert.hour, hour_end, alert.brand, negative, MAX_CANDIDATES)
        if (e.source, e.external_id) not in shown
    ]
    chosen: list[Route] = []
    skipped: list[str] = []
    for team_route in routes_for(alert, evidence, config):
        for candidate_evidence in [*evidence, *rest]:
            # routes_for keys on its first evidence item: put the candidate first, keep the evidence as context.
            ordered = [candidate_evidence, *(e for e in evidence if e is not candidate_evidence)][: len(evidence)]
            candidate = next(r for r in routes_for(alert, ordered, config) if r.team == team_route.team)
            if not _taken(connection, candidate):
                chosen.append(candidate)
                break
        else:
            skipped.append(team_route.team.value)
    return chosen, skipped


def _payload(connection: Connection, route: Route, alert: Alert, evidence: Sequence[Evidence], now: datetime) -> dict:
    """The usual route event for the keying mention, plus the alert itself and all its evidence."""
    mention, verdict = mention_with_verdict(connection, route.source, route.external_id)
    # The event's reasons are the alert's, not the keying mention's own.
    payload = event_payload(route, mention, verdict.model_copy(update={"reasons": (alert.summary(),)}), now)
    payload["data"]["alert"] = {
        "key": alert.key,
        "kind": alert.kind.value,
        "brand": alert.brand,
        "hour": alert.hour.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "summary": alert.summary(),
        "evidence": [
            {"source": e.source, "external_id": e.external_id, "url": e.url, "author": e.author, "excerpt": e.excerpt}
            for e in evidence
        ],
    }
    return payload


def check_spikes(runtime: Runtime, now: datetime | None = None) -> AlertReport:
    """Check every brand's finished hours since its watermark; route each alert; move the watermark."""
    config = runtime.config.alerts
    until = _hour(now or runtime.clock())
    report = AlertReport(checked_until=until)
    for brand in runtime.config.brands:
        with runtime.engine.begin() as connection:
            since = _start(connection, brand.name, until)
            if since is None or since >= until:
                continue
            found = check_alerts(connection, brand.name, config, since, until)
            outbox = SqlOutbox(connection)
            for alert, evidence in found:
                save_evidence(connection, alert, evidence)  # the alerts page links to exactly these posts
                chosen, skipped = _alert_routes(connection, alert, evidence, config)
                report.already_routed += [f"{alert.key} → {team}" for team in skipped]
                for route in chosen:
                    payload = _payload(connection, route, alert, evidence, runtime.clock())
                    sendable = route.channel in runtime.config.channels
                    outbox.add(route, [new_delivery(route, payload, runtime.clock())] if sendable else [])
                    report.routes += 1
            set_cursor(connection, _cursor_name(brand.name), until.isoformat())
        report.alerts += found
        for alert, _ in found:
            log.warning("alert.raised", extra={"alert": alert.key, "summary": alert.summary()})
    return report
