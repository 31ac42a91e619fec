"""Routing rules: the configured rules, and a dry run of a new rule on recent mentions (nothing is routed)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field
from sqlalchemy import Engine

from overheard.api.auth import ERRORS, Capability, Principal, allow, engine_of
from overheard.api.models import DryRunIn
from overheard.services import routing

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
        for i, r in enumerate(routing.rules(principal, request.app.state.config.routing))
    ]


@router.post("/dry-run", response_model=DryRunOut, summary="Try a rule on recent mentions")
def dry_run_route(
    body: DryRunIn,
    request: Request,
    principal: Annotated[Principal, Depends(allow(Capability.dry_run_rules))],
    engine: Annotated[Engine, Depends(engine_of)],
) -> DryRunOut:
    """Routes nothing: reports which of the newest mentions the rule would match, and why."""
    found = routing.dry_run(engine, request.app.state.runtime, principal, body.rule, body.recent)
    return DryRunOut.model_validate(found, from_attributes=True)
