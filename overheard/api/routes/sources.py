"""Source health and operator alerts (the operator's view; admin only, nothing personal)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field
from sqlalchemy import Engine

from overheard.api.auth import ERRORS, Capability, Principal, allow, engine_of
from overheard.services import sweeps

router = APIRouter(prefix="/api/sources", tags=["sources"], responses=ERRORS)


class RateLimitOut(BaseModel):
    remaining: int | None = Field(description="Requests left in the platform's window after the latest sweep.")
    limit: int | None = Field(description="The window's size, when the platform says it.")
    reset_at: datetime | None


class SourceHealthOut(BaseModel):
    name: str = Field(description="The collector: '<source>:<query, hashtag, feed or page>'.")
    state: str = Field(description="working, quiet, stopped, failing or never_run.")
    working: bool
    last_run_at: datetime | None
    last_success_at: datetime | None
    last_error_at: datetime | None
    last_error: str | None = Field(description="Why the latest failing sweep failed, as the source said it.")
    items_last_hour: int
    items_last_day: int
    consecutive_failures: int
    rate_limit: RateLimitOut | None


class OperatorAlertOut(BaseModel):
    id: int
    kind: str = Field(description="source_failing or source_stopped.")
    subject: str
    message: str
    raised_at: datetime


class SourcesOut(BaseModel):
    sources: list[SourceHealthOut]
    operator_alerts: list[OperatorAlertOut] = Field(description="Open alerts, oldest first.")


def health_document(found: sweeps.SourcesHealth) -> SourcesOut:
    return SourcesOut(
        sources=[
            SourceHealthOut(
                name=h.name,
                state=h.state.value,
                working=h.working,
                last_run_at=h.last_run_at,
                last_success_at=h.last_success_at,
                last_error_at=h.last_error_at,
                last_error=h.last_error,
                items_last_hour=h.items_last_hour,
                items_last_day=h.items_last_day,
                consecutive_failures=h.consecutive_failures,
                rate_limit=RateLimitOut(
                    remaining=h.rate_limit.remaining, limit=h.rate_limit.limit, reset_at=h.rate_limit.reset_at
                )
                if h.rate_limit
                else None,
            )
            for h in found.sources
        ],
        operator_alerts=[
            OperatorAlertOut(id=a.id, kind=a.kind, subject=a.subject, message=a.message, raised_at=a.raised_at)
            for a in found.alerts
        ],
    )


@router.get("", response_model=SourcesOut, summary="Source health and operator alerts")
def sources(
    request: Request,
    principal: Annotated[Principal, Depends(allow(Capability.operate))],
    engine: Annotated[Engine, Depends(engine_of)],
) -> SourcesOut:
    """Per source and query: last success, last error with its reason, items in the last hour and day,
    rate-limit headroom and whether it works; plus the operator alerts still open."""
    return health_document(sweeps.health(request.app.state.config, engine, principal))
