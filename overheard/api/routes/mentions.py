"""Mentions: the inbox listing with filters and cursor pagination, one mention with its thread, triage actions."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query
from sqlalchemy import Engine

from classifiers.verdict import Intent, Sentiment
from enrichers.model import Team
from listener.mention import Platform
from overheard.api import views
from overheard.api.auth import ERRORS, Capability, Principal, Problem, allow, engine_of
from overheard.api.models import AssignIn, Instant, RelabelIn, SearchText, SnoozeIn
from overheard.services import mentions
from overheard.services.mentions import MAX_MENTION_ID
from storage import inbox

router = APIRouter(prefix="/api/mentions", tags=["mentions"], responses=ERRORS)
MentionId = Annotated[int, Path(ge=1, le=MAX_MENTION_ID, description="The mention's id.")]
NOT_FOUND: dict[int | str, dict[str, object]] = {
    404: {"model": Problem, "description": "No such mention, or not one this role may see."}
}
Status = Annotated[
    str, Query(pattern=r"^(open|new|assigned|snoozed|resolved)$", description="'open': not resolved, not snoozed now.")
]


@router.get("", response_model=views.MentionPage, summary="List mentions, newest first")
def list_mentions(
    principal: Annotated[Principal, Depends(allow(Capability.read_mentions))],
    engine: Annotated[Engine, Depends(engine_of)],
    team: Team | None = None,
    intent: Intent | None = None,
    sentiment: Sentiment | None = None,
    source: Platform | None = None,
    status: Status | None = None,
    language: Annotated[str | None, Query(pattern=r"^[a-zA-Z]{2}$", description="ISO 639-1 code.")] = None,
    since: Annotated[Instant | None, Query(description="Published at or after (UTC).")] = None,
    until: Annotated[Instant | None, Query(description="Published before (UTC).")] = None,
    q: Annotated[SearchText | None, Query(description="Words in the text, title or author handle.")] = None,
    cursor: Annotated[
        str | None, Query(pattern=inbox.CURSOR_PATTERN, description="`next_cursor` of the previous page.")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> views.MentionPage:
    filters = inbox.MentionFilter(
        team=team, intent=intent, sentiment=sentiment, source=source, status=status, language=language,
        since=since, until=until, query=q,
    )  # fmt: skip
    return views.MentionPage.model_validate(
        mentions.list_mentions(engine, principal, filters, cursor=cursor, limit=limit)
    )


@router.get(
    "/{mention_id}", response_model=views.MentionDetail, responses=NOT_FOUND, summary="One mention with its thread"
)
def get_mention(
    mention_id: MentionId,
    principal: Annotated[Principal, Depends(allow(Capability.read_mentions))],
    engine: Annotated[Engine, Depends(engine_of)],
) -> views.MentionDetail:
    return views.MentionDetail.model_validate(mentions.view_mention(engine, principal, mention_id).mention)


@router.get("/{mention_id}/feedback", response_model=list[views.Feedback], responses=NOT_FOUND)
def feedback(
    mention_id: MentionId,
    principal: Annotated[Principal, Depends(allow(Capability.read_mentions))],
    engine: Annotated[Engine, Depends(engine_of)],
) -> list[views.Feedback]:
    """Triage actions and relabels recorded on the mention (the training feedback)."""
    return [views.Feedback.model_validate(f) for f in mentions.feedback(engine, principal, mention_id)]


@router.post("/{mention_id}/assign", response_model=views.MentionDetail, responses=NOT_FOUND)
def assign(
    mention_id: MentionId,
    body: AssignIn,
    principal: Annotated[Principal, Depends(allow(Capability.triage))],
    engine: Annotated[Engine, Depends(engine_of)],
) -> views.MentionDetail:
    return views.MentionDetail.model_validate(mentions.assign(engine, principal, mention_id, body.assignee))


@router.post("/{mention_id}/resolve", response_model=views.MentionDetail, responses=NOT_FOUND)
def resolve(
    mention_id: MentionId,
    principal: Annotated[Principal, Depends(allow(Capability.triage))],
    engine: Annotated[Engine, Depends(engine_of)],
) -> views.MentionDetail:
    """Mark handled; closes the role's own route (all routes for an admin)."""
    return views.MentionDetail.model_validate(mentions.resolve(engine, principal, mention_id))


@router.post("/{mention_id}/snooze", response_model=views.MentionDetail, responses=NOT_FOUND)
def snooze(
    mention_id: MentionId,
    body: SnoozeIn,
    principal: Annotated[Principal, Depends(allow(Capability.triage))],
    engine: Annotated[Engine, Depends(engine_of)],
) -> views.MentionDetail:
    return views.MentionDetail.model_validate(mentions.snooze(engine, principal, mention_id, body.hours))


@router.post("/{mention_id}/relabel", response_model=views.MentionDetail, responses=NOT_FOUND)
def relabel(
    mention_id: MentionId,
    body: RelabelIn,
    principal: Annotated[Principal, Depends(allow(Capability.triage))],
    engine: Annotated[Engine, Depends(engine_of)],
) -> views.MentionDetail:
    """Correct the intent (and optionally the sentiment); stored as feedback for the next model."""
    sentiment = body.sentiment.value if body.sentiment else None
    return views.MentionDetail.model_validate(
        mentions.relabel(engine, principal, mention_id, body.intent.value, sentiment)
    )
