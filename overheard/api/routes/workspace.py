"""The service workspace: the team's queue in priority order, flagged mentions for review, and working one mention
(assign to a teammate, status, notes, canned replies, "I am replying", sending the reply in the customer's channel).
Each route calls one function of `overheard.services.workspace`."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Engine

from classifiers.verdict import Intent
from enrichers.model import Team
from overheard.api.auth import ERRORS, Capability, Principal, Problem, allow, engine_of
from overheard.api.models import StaffName
from overheard.services import workspace
from overheard.services.mentions import MAX_MENTION_ID
from storage import workspace as store

router = APIRouter(prefix="/api", tags=["workspace"], responses=ERRORS)
MentionId = Annotated[int, Path(ge=1, le=MAX_MENTION_ID, description="The mention's id.")]
NOT_FOUND: dict[int | str, dict[str, object]] = {
    404: {"model": Problem, "description": "No such mention, or not one this role may see."}
}
Reader = Annotated[Principal, Depends(allow(Capability.read_mentions))]
Worker = Annotated[Principal, Depends(allow(Capability.triage))]
Reviewer = Annotated[Principal, Depends(allow(Capability.review_noise))]
Db = Annotated[Engine, Depends(engine_of)]
_STRICT = ConfigDict(frozen=True, extra="forbid")


class AssignToIn(BaseModel):
    model_config = _STRICT
    teammate: StaffName | None = Field(default=None, description="Who handles it; null: back to the team's queue.")


class StatusIn(BaseModel):
    model_config = _STRICT
    status: Literal["new", "assigned", "snoozed", "replied", "resolved"]


class NoteIn(BaseModel):
    model_config = _STRICT
    body: str = Field(min_length=1, max_length=store.MAX_NOTE_CHARS, description="Internal; never sent.")


class CannedIn(BaseModel):
    model_config = _STRICT
    name: str = Field(min_length=1, max_length=100)
    body: str = Field(min_length=1, max_length=5000, description="Text with {variables}, e.g. {name}, {order_number}.")
    language: str | None = Field(default=None, pattern=r"^[a-z]{2}$")


class RenderIn(BaseModel):
    model_config = _STRICT
    name: str = Field(min_length=1, max_length=100, description="The canned reply.")
    values: dict[str, Annotated[str, Field(max_length=200)]] = Field(
        default_factory=dict, description="Variables the teammate fills in (e.g. order_number)."
    )


class ReplyIn(BaseModel):
    model_config = _STRICT
    text: str = Field(min_length=1, max_length=workspace.MAX_REPLY_CHARS)
    account: str | None = Field(default=None, max_length=100, description="Reply account (default: the only one).")
    idempotency_key: str | None = Field(
        default=None, min_length=8, max_length=64, description="The same key sends once, however often it is posted."
    )


class Rendered(BaseModel):
    text: str
    missing: list[str] = Field(description="Variables nobody filled in; the text is not ready while any is left.")


class Replying(BaseModel):
    others: list[str] = Field(description="Teammates replying to the mention now, besides the caller.")


@router.get("/queue", response_model=workspace.TeamQueue, summary="The team's open routes, highest priority first")
def queue(
    request: Request,
    principal: Reader,
    engine: Db,
    team: Team | None = None,
    view: Literal["open", "due_soon", "overdue"] = "open",
    language: Annotated[str | None, Query(pattern=r"^[a-zA-Z]{2}$", description="ISO 639-1 code.")] = None,
    intent: Intent | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> workspace.TeamQueue:
    return workspace.team_queue(
        engine, principal, team=team, view=view, language=language, intent=intent,
        priority=request.app.state.config.priority, limit=limit,
    )  # fmt: skip


@router.get("/flagged", response_model=list[store.FlaggedItem], summary="Mentions noise screening kept out")
def flagged(
    principal: Reviewer, engine: Db, kind: Literal["spam", "owned", "competitor"] | None = None
) -> list[store.FlaggedItem]:
    return workspace.flagged(engine, principal, kind)


@router.get("/mentions/{mention_id}/workspace", response_model=workspace.Desk, responses=NOT_FOUND)
def desk(request: Request, mention_id: MentionId, principal: Reader, engine: Db) -> workspace.Desk:
    """History, notes, replies on the thread, the caller's kept draft, who else is replying, canned replies and the
    accounts the mention can be answered from."""
    return workspace.desk(engine, principal, request.app.state.config, mention_id)


@router.post("/mentions/{mention_id}/assign-to", responses=NOT_FOUND)
def assign_to(mention_id: MentionId, body: AssignToIn, principal: Worker, engine: Db) -> dict[str, str | None]:
    return {"assignee": workspace.assign(engine, principal, mention_id, body.teammate)}


@router.post("/mentions/{mention_id}/status", responses=NOT_FOUND)
def set_status(mention_id: MentionId, body: StatusIn, principal: Worker, engine: Db) -> dict[str, str]:
    return {"status": workspace.set_status(engine, principal, mention_id, body.status)}


@router.post("/mentions/{mention_id}/notes", status_code=201, responses=NOT_FOUND)
def add_note(mention_id: MentionId, body: NoteIn, principal: Worker, engine: Db) -> dict[str, int]:
    return {"id": workspace.add_note(engine, principal, mention_id, body.body)}


@router.post("/mentions/{mention_id}/replying", response_model=Replying, responses=NOT_FOUND)
def start_replying(mention_id: MentionId, principal: Worker, engine: Db) -> Replying:
    """Say the caller is writing a reply (renew it while typing); answers who else is replying now."""
    return Replying(others=workspace.start_replying(engine, principal, mention_id))


@router.delete("/mentions/{mention_id}/replying", status_code=204, responses=NOT_FOUND)
def stop_replying(mention_id: MentionId, principal: Worker, engine: Db) -> None:
    workspace.stop_replying(engine, principal, mention_id)


@router.post("/mentions/{mention_id}/replies", response_model=store.ReplyRecord, responses=NOT_FOUND)
def send_reply(
    request: Request, mention_id: MentionId, body: ReplyIn, principal: Worker, engine: Db
) -> store.ReplyRecord:
    """Answer in the customer's channel; the attempt (sent, or failed with the reason and the draft kept) is
    recorded on the thread. 400 for a platform that takes no replies or a missing account."""
    return workspace.send(
        engine, principal, request.app.state.config, mention_id, body.text,
        account=body.account, idempotency_key=body.idempotency_key,
    )  # fmt: skip


@router.post("/mentions/{mention_id}/canned", response_model=Rendered, responses=NOT_FOUND)
def render_canned(mention_id: MentionId, body: RenderIn, principal: Reader, engine: Db) -> Rendered:
    """A canned reply filled in for this mention's customer."""
    filled = workspace.render_canned(engine, principal, mention_id, body.name, body.values)
    return Rendered(text=filled.text, missing=list(filled.missing))


@router.get("/canned", response_model=list[store.CannedReply])
def canned(principal: Reader, engine: Db) -> list[store.CannedReply]:
    return workspace.canned_replies(engine, principal)


@router.put("/canned", response_model=store.CannedReply)
def save_canned(body: CannedIn, principal: Worker, engine: Db) -> store.CannedReply:
    return workspace.save_canned_reply(engine, principal, body.name, body.body, body.language)


@router.delete(
    "/canned/{name}",
    status_code=204,
    responses={404: {"model": Problem, "description": "No canned reply of this name."}},
)
def delete_canned(name: Annotated[str, Path(max_length=100)], principal: Worker, engine: Db) -> None:
    workspace.delete_canned_reply(engine, principal, name)
