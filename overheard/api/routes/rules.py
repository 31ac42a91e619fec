"""Routing rules: the configured rules, and a dry run of a new rule on recent mentions (nothing is routed)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field
from sqlalchemy import Engine, select

from classifiers.verdict import Verdict
from enrichers.routing import RoutingConfig, RoutingConfigError, evaluate, load_routing
from overheard.api.auth import ERRORS, Capability, Principal, allow, engine_of
from overheard.api.models import DryRunIn
from overheard.pipeline import Runtime
from storage.audit import record
from storage.contacts import SqlContactDirectory
from storage.mentions import mention_from_row
from storage.schema import links, mentions, verdicts

router = APIRouter(prefix="/api/rules", tags=["routing rules"], responses=ERRORS)


class RuleOut(BaseModel):
    position: int = Field(description="Rules are checked in this order.")
    name: str
    team: str
    channel: str
    priority: str
    respond_within_seconds: float | None
    final: bool
    when: dict[str, Any] = Field(
        description="The conditions, as in overheard.yaml (left-out conditions are not shown)."
    )


class DryRunMatch(BaseModel):
    mention_id: int
    created_at: datetime
    source: str
    intent: str
    confidence: float
    excerpt: str
    explanation: str


class DryRunOut(BaseModel):
    """What the rule would do on recent mentions; `problems` lists what to fix when the rule is not valid."""

    valid: bool
    problems: list[str]
    checked: int
    matched: int
    examples: list[DryRunMatch] = Field(description="Up to 20 of the matched mentions, newest first.")


@router.get("", response_model=list[RuleOut], summary="The configured routing rules, in order")
def list_rules(
    request: Request, principal: Annotated[Principal, Depends(allow(Capability.read_rules))]
) -> list[RuleOut]:
    config: RoutingConfig = request.app.state.config.routing
    return [
        RuleOut(
            position=i,
            name=r.name,
            team=r.team.value,
            channel=r.channel_name,
            priority=r.priority.value,
            respond_within_seconds=r.respond_within.total_seconds() if r.respond_within else None,
            final=r.final,
            when=r.when.model_dump(mode="json", exclude_none=True),
        )
        for i, r in enumerate(config.rules)
    ]


def dry_run(engine: Engine, runtime: Runtime, rule: dict[str, Any], recent: int) -> DryRunOut:
    """Check one rule against the `recent` newest mentions, with the same inputs routing had."""
    try:
        config = load_routing({"rules": [rule]})
    except RoutingConfigError as error:
        return DryRunOut(valid=False, problems=error.problems, checked=0, matched=0, examples=[])
    with engine.connect() as connection:
        rows: Sequence[Any] = list(
            connection.execute(
                select(mentions, verdicts, links.c.contact_id.label("linked_contact"))
                .join(verdicts, verdicts.c.mention_id == mentions.c.id)
                .outerjoin(links, links.c.mention_id == mentions.c.id)
                .order_by(mentions.c.created_at.desc(), mentions.c.id.desc())
                .limit(recent)
            )
        )
        directory = SqlContactDirectory(connection)
        companies = runtime.company_index(directory.companies())
        matches: list[DryRunMatch] = []
        for row in rows:
            mention = mention_from_row(row)
            verdict = Verdict(
                sentiment=row.sentiment,
                sentiment_confidence=row.sentiment_confidence,
                intent=row.intent,
                intent_confidence=row.intent_confidence,
                needs_human=row.needs_human,
                reasons=tuple(row.reasons or ()),
                model_version=row.model_version,
            )
            contact = directory.contact(row.linked_contact) if row.linked_contact else None
            [outcome] = evaluate(config, mention, verdict, contact, companies.find(mention.title, mention.text))
            if outcome.matched:
                matches.append(
                    DryRunMatch(
                        mention_id=row.id,
                        created_at=mention.created_at,
                        source=mention.source.value,
                        intent=verdict.intent.value,
                        confidence=verdict.intent_confidence,
                        excerpt=" ".join(mention.text.split())[:160],
                        explanation=outcome.explanation,
                    )
                )
    return DryRunOut(valid=True, problems=[], checked=len(rows), matched=len(matches), examples=matches[:20])


@router.post("/dry-run", response_model=DryRunOut, summary="Try a rule on recent mentions")
def dry_run_route(
    body: DryRunIn,
    request: Request,
    principal: Annotated[Principal, Depends(allow(Capability.dry_run_rules))],
    engine: Annotated[Engine, Depends(engine_of)],
) -> DryRunOut:
    """Routes nothing: reports which of the newest mentions the rule would match, and why."""
    result = dry_run(engine, request.app.state.runtime, body.rule, body.recent)
    with engine.begin() as connection:
        record(connection, principal.name, "rules.dry_run", "rule", str(body.rule.get("name", "?")).replace("\x00", "")[:200],
               checked=result.checked, matched=result.matched)  # fmt: skip
    return result
