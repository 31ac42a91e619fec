"""Web pages of the service workspace: the team's queue (every mention routed to the team, highest priority first,
with the score's parts; per-team counts, due-soon and overdue views, language and intent filters), the flagged
review view, and the mention page's workspace (reply composer with canned replies and X's per-post cost, notes,
assignment to a teammate, status and its history, the "someone else is replying" warning).

Each handler reads the form, calls one function of `overheard.services.workspace`, and redirects back with a notice
(so everything works without JavaScript); `static/workspace.js` only renews "I am replying" while someone types.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import JSONResponse, RedirectResponse
from sqlalchemy import Engine

from classifiers.verdict import Intent
from enrichers.model import Team
from overheard.api.auth import Capability, Principal, engine_of
from overheard.api.models import MAX_STAFF_NAME_CHARS
from overheard.services import workspace
from overheard.services.access import Invalid
from overheard.web.pages import back, csrf_protect, render, user
from storage.workspace import STATUSES

router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf_protect)])
User = Annotated[Principal, Depends(user)]
Db = Annotated[Engine, Depends(engine_of)]
VIEW_LABELS = {"open": "All open", "due_soon": "Due soon", "overdue": "Overdue"}
MAX_NAME_CHARS = 100
MAX_VARIABLE_CHARS = 200


def _clean(value: str | None, most: int) -> str:
    return (value or "").replace("\x00", "").strip()[:most]


@router.get("/queue")
def queue_page(request: Request, principal: User, engine: Db) -> Any:
    """The team's routed work, highest priority first; `team` (roles that see everything), `view`, `language` and
    `intent` narrow it."""
    p = request.query_params
    view = p.get("view") or "open"
    view = view if view in workspace.VIEWS else "open"
    intent = p.get("intent") if p.get("intent") in {i.value for i in Intent} else None
    language = _clean(p.get("language"), 2).lower() or None
    team = p.get("team") if p.get("team") in {t.value for t in Team} else None
    found = workspace.team_queue(
        engine, principal, team=team, view=view, language=language, intent=intent,
        priority=request.app.state.config.priority,
    )  # fmt: skip
    return render(
        request, "queue.html", principal, q=found, view_labels=VIEW_LABELS, intents=[i.value for i in Intent],
        can_review=principal.can(Capability.review_noise),
    )  # fmt: skip


@router.get("/queue/flagged")
def flagged_page(request: Request, principal: User, engine: Db) -> Any:
    """What noise screening kept out of the queues, with each flag's reason."""
    kind = request.query_params.get("kind") or None
    kind = kind if kind in workspace.FLAG_KINDS else None
    found = workspace.flagged(engine, principal, kind)
    return render(request, "flagged.html", principal, items=found, kind=kind, kinds=workspace.FLAG_KINDS)


def desk_context(request: Request, principal: Principal, engine: Engine, mention_id: int) -> dict[str, Any]:
    """What the mention page's workspace shows (`pages.mention_page` adds it): the desk, the composer's text (the
    kept draft, or a canned reply filled in when `?canned=` asks for one) and a fresh key for the composed reply."""
    config = request.app.state.config
    desk = workspace.desk(engine, principal, config, mention_id)
    text, canned_notice = desk.draft.text if desk.draft else "", None
    name = _clean(request.query_params.get("canned"), MAX_NAME_CHARS)
    if name:
        typed = {
            k: _clean(v, MAX_VARIABLE_CHARS)
            for k, v in request.query_params.items()
            if k not in ("canned", "notice") and k.isidentifier()
        }
        filled = workspace.render_canned(engine, principal, mention_id, name, typed)
        if filled.complete:
            text = filled.text
        else:
            canned_notice = f"Fill in {', '.join(filled.missing)} to use '{name}'."
    return {
        "desk": desk,
        "composer_text": text,
        "canned_notice": canned_notice,
        "canned_name": name,
        "reply_key": workspace.new_reply_key(),
        "statuses": STATUSES,
    }


def _here(mention_id: int) -> str:
    return f"/mentions/{mention_id}"


@router.post("/mentions/{mention_id}/assign-to")
def assign_to(mention_id: int, principal: User, engine: Db, teammate: Annotated[str, Form()] = "") -> RedirectResponse:
    who = workspace.assign(engine, principal, mention_id, _clean(teammate, MAX_STAFF_NAME_CHARS))
    said = f"Mention {mention_id} assigned to {who}." if who else f"Mention {mention_id} is back in the team's queue."
    return back(_here(mention_id), "/queue", said)


@router.post("/mentions/{mention_id}/status")
def set_status(mention_id: int, principal: User, engine: Db, status: Annotated[str, Form()] = "") -> RedirectResponse:
    try:
        workspace.set_status(engine, principal, mention_id, status)
    except Invalid as exc:
        return back(_here(mention_id), "/queue", f"Status not changed: {exc}.")
    return back(_here(mention_id), "/queue", f"Mention {mention_id} is now {status}.")


@router.post("/mentions/{mention_id}/notes")
def add_note(mention_id: int, principal: User, engine: Db, body: Annotated[str, Form()] = "") -> RedirectResponse:
    try:
        workspace.add_note(engine, principal, mention_id, body.replace("\x00", ""))
    except Invalid as exc:
        return back(_here(mention_id), "/queue", f"Note not kept: {exc}.")
    return back(_here(mention_id), "/queue", "Note added (internal: never sent to the customer).")


@router.post("/mentions/{mention_id}/replying")
def replying(mention_id: int, principal: User, engine: Db, stop: Annotated[str, Form()] = "") -> JSONResponse:
    """The composer says its user is typing (or stopped); answers who else is replying now."""
    if stop:
        workspace.stop_replying(engine, principal, mention_id)
        return JSONResponse({"others": []})
    return JSONResponse({"others": workspace.start_replying(engine, principal, mention_id)})


@router.post("/mentions/{mention_id}/reply")
def send_reply(
    request: Request,
    mention_id: int,
    principal: User,
    engine: Db,
    text: Annotated[str, Form()] = "",
    account: Annotated[str, Form()] = "",
    key: Annotated[str, Form()] = "",
) -> RedirectResponse:
    try:
        sent = workspace.send(
            engine, principal, request.app.state.config, mention_id, text.replace("\x00", ""),
            account=_clean(account, MAX_NAME_CHARS) or None, idempotency_key=_clean(key, 64) or None,
        )  # fmt: skip
    except Invalid as exc:
        return back(_here(mention_id), "/queue", f"Reply not sent: {exc}.")
    if sent.sent:
        return back(_here(mention_id), "/queue", f"Reply sent on {sent.platform} from {sent.account}.")
    return back(_here(mention_id), "/queue", f"Reply not sent: {sent.reason}. Your draft is kept below.")


@router.post("/canned")
def save_canned(
    principal: User,
    engine: Db,
    name: Annotated[str, Form()] = "",
    body: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "",
) -> RedirectResponse:
    try:
        saved = workspace.save_canned_reply(engine, principal, _clean(name, MAX_NAME_CHARS), body.replace("\x00", ""))
    except Invalid as exc:
        return back(next, "/queue", f"Canned reply not saved: {exc}.")
    return back(next, "/queue", f"Canned reply '{saved.name}' saved.")


@router.post("/canned/delete")
def delete_canned(
    principal: User, engine: Db, name: Annotated[str, Form()] = "", next: Annotated[str, Form()] = ""
) -> RedirectResponse:
    workspace.delete_canned_reply(engine, principal, _clean(name, MAX_NAME_CHARS))
    return back(next, "/queue", f"Canned reply '{name}' deleted.")
