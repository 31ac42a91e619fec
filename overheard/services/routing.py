"""Routing: the configured rules, a dry run of a new rule on recent mentions (audited; nothing is routed), the
routes and their deliveries a role may see, and retrying a failed delivery."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine

from enrichers.routing import RoutingConfig, RoutingConfigError, RoutingRule, evaluate, load_routing
from overheard.pipeline import Runtime
from overheard.services.access import Caller, Capability, Conflict, NotFound
from storage import inbox
from storage.audit import record
from storage.contacts import SqlContactDirectory
from storage.mentions import recent_classified

DRY_RUN_EXAMPLES = 20
"""Matched mentions a dry run shows, newest first."""


def rules(caller: Caller, config: RoutingConfig) -> list[RoutingRule]:
    """The configured routing rules, in the order they are checked."""
    caller.require(Capability.read_rules)
    return list(config.rules)


@dataclass(frozen=True)
class DryRunMatch:
    """A recent mention the rule would route, and why (`explanation`); `excerpt` is its text, cut to 160."""

    mention_id: int
    created_at: datetime
    source: str
    intent: str
    confidence: float
    excerpt: str
    explanation: str


@dataclass(frozen=True)
class DryRun:
    """What the rule would do on recent mentions; `problems` lists what to fix when the rule is not valid."""

    valid: bool
    problems: list[str]
    checked: int
    matched: int
    examples: list[DryRunMatch]


def dry_run(engine: Engine, runtime: Runtime, caller: Caller, rule: dict[str, Any], recent: int) -> DryRun:
    """Check one rule against the `recent` newest mentions, with the inputs routing had; routes nothing.
    The run is audited with the rule's name and what it matched (no post text)."""
    caller.require(Capability.dry_run_rules)
    result = _dry_run(engine, runtime, rule, recent)
    name = str(rule.get("name", "?")).replace("\x00", "")[:200]
    with engine.begin() as connection:
        record(connection, caller.name, "rules.dry_run", "rule", name, checked=result.checked, matched=result.matched)
    return result


def _dry_run(engine: Engine, runtime: Runtime, rule: dict[str, Any], recent: int) -> DryRun:
    try:
        config = load_routing({"rules": [rule]})
    except RoutingConfigError as error:
        return DryRun(valid=False, problems=error.problems, checked=0, matched=0, examples=[])
    with engine.connect() as connection:
        found = recent_classified(connection, recent)
        directory = SqlContactDirectory(connection)
        companies = runtime.company_index(directory.companies())
        matches: list[DryRunMatch] = []
        for item in found:
            mention, verdict = item.mention, item.verdict
            contact = directory.contact(item.contact_id) if item.contact_id else None
            [outcome] = evaluate(config, mention, verdict, contact, companies.find(mention.title, mention.text))
            if outcome.matched:
                matches.append(
                    DryRunMatch(
                        mention_id=item.id,
                        created_at=mention.created_at,
                        source=mention.source.value,
                        intent=verdict.intent.value,
                        confidence=verdict.intent_confidence,
                        excerpt=" ".join(mention.text.split())[:160],
                        explanation=outcome.explanation,
                    )
                )
    return DryRun(
        valid=True, problems=[], checked=len(found), matched=len(matches), examples=matches[:DRY_RUN_EXAMPLES]
    )


def list_routes(
    engine: Engine, caller: Caller, *, team: str | None = None, status: str | None = None, limit: int = 100
) -> list[inbox.RouteView]:
    """Routes the caller's scope shows, newest first, with their deliveries."""
    caller.require(Capability.read_routes)
    with engine.connect() as connection:
        return inbox.list_routes(connection, caller.scope, team=team, status=status, limit=limit)


def list_deliveries(
    engine: Engine, caller: Caller, *, status: str | None = None, limit: int = 100
) -> list[inbox.DeliveryView]:
    """Deliveries of the routes the caller's scope shows, newest first."""
    caller.require(Capability.read_routes)
    with engine.connect() as connection:
        return inbox.list_deliveries(connection, caller.scope, status=status, limit=limit)


def retry_delivery(engine: Engine, caller: Caller, delivery_id: int) -> inbox.DeliveryView:
    """Queue a failed or dead delivery for the next delivery run (its idempotency key makes a repeat safe)."""
    caller.require(Capability.retry_deliveries)
    with engine.begin() as connection:
        if inbox.delivery_visible(connection, caller.scope, delivery_id) is None:
            raise NotFound(f"delivery {delivery_id} does not exist or is not one of your role's routes")
        try:
            inbox.retry_delivery(connection, delivery_id)
        except inbox.NotAllowed as exc:
            raise Conflict(str(exc)) from None
        view = inbox.delivery_visible(connection, caller.scope, delivery_id)
    assert view is not None
    return view
