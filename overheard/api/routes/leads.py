"""Leads: the ranked lead feed sales works, and its decisions (accept with an owner, dismiss with a reason,
snooze until a time). Each route calls one function of `overheard.services.leads`."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query
from sqlalchemy import Engine

from overheard.api import views
from overheard.api.auth import ERRORS, Capability, Principal, Problem, allow, engine_of
from overheard.api.models import AcceptLeadIn, DismissLeadIn, SnoozeLeadIn, StaffName
from overheard.services import leads
from overheard.services.mentions import MAX_MENTION_ID

router = APIRouter(prefix="/api/leads", tags=["leads"], responses=ERRORS)
MentionId = Annotated[int, Path(ge=1, le=MAX_MENTION_ID, description="The lead's mention id.")]
NOT_FOUND: dict[int | str, dict[str, object]] = {404: {"model": Problem, "description": "No lead of this id."}}
Worker = Annotated[Principal, Depends(allow(Capability.work_leads))]
Db = Annotated[Engine, Depends(engine_of)]
State = Literal["open", "new", "accepted", "snoozed", "dismissed", "all"]


@router.get("", response_model=views.LeadFeed, summary="The lead feed, highest score first")
def lead_feed(
    principal: Worker,
    engine: Db,
    state: Annotated[State, Query(description="'open': new or accepted; 'all': any state.")] = "open",
    owner: Annotated[StaffName | None, Query(description="Only this owner's leads.")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> views.LeadFeed:
    found = leads.ranked(engine, principal, states=leads.VIEWS[state], owner=owner, limit=limit)
    return views.LeadFeed.model_validate(found)


@router.post("/{mention_id}/accept", response_model=views.LeadDecision, responses=NOT_FOUND)
def accept(mention_id: MentionId, body: AcceptLeadIn, principal: Worker, engine: Db) -> views.LeadDecision:
    """Take the lead; `owner` (default: the caller) works it."""
    owner = leads.accept(engine, principal, mention_id, body.owner)
    return views.LeadDecision(mention_id=mention_id, state="accepted", owner=owner)


@router.post("/{mention_id}/dismiss", response_model=views.LeadDecision, responses=NOT_FOUND)
def dismiss(mention_id: MentionId, body: DismissLeadIn, principal: Worker, engine: Db) -> views.LeadDecision:
    """Not a lead, and why (the reason is kept as training feedback)."""
    leads.dismiss(engine, principal, mention_id, body.reason)
    return views.LeadDecision(mention_id=mention_id, state="dismissed")


@router.post("/{mention_id}/snooze", response_model=views.LeadDecision, responses=NOT_FOUND)
def snooze(mention_id: MentionId, body: SnoozeLeadIn, principal: Worker, engine: Db) -> views.LeadDecision:
    """Hide the lead until `until`; it comes back as new then."""
    leads.snooze(engine, principal, mention_id, body.until)
    return views.LeadDecision(mention_id=mention_id, state="snoozed", snoozed_until=body.until)
