"""Web pages: the triage inbox, the lead feed, contact 360° and the privacy desk (the marketing dashboard and the
alerts: `overheard.web.marketing`).

Server-rendered with Jinja2; forms post back and redirect (so every action works without JavaScript), and a
little plain JavaScript adds keyboard shortcuts and the response-time countdown. Sign-in takes an API token
and starts a web session of its own (the HttpOnly, SameSite=Strict cookie holds the session's secret, never
the token; signing out ends it on the server); the same role policy and scopes as the API apply. Every form
that changes something carries the session's CSRF token (the sign-in form: a token in a cookie of its own),
and `overheard.api.middleware.SameOrigin` refuses posts another origin sent.
"""

from __future__ import annotations

import hmac
import json
import re
import secrets
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends, FastAPI, Form, HTTPException, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from sqlalchemy import Engine
from starlette.exceptions import HTTPException as StarletteHTTPException

from classifiers.multilingual import SUPPORTED as READ_LANGUAGES
from classifiers.verdict import Intent, Sentiment
from enrichers.model import Team
from enrichers.replies import can_reply
from listener.mention import Platform, web_url
from overheard.api.auth import (
    HOME,
    SESSION_COOKIE,
    Capability,
    Principal,
    engine_of,
    identify,
    session_principal,
    web_session,
)
from overheard.api.models import MAX_CONTACT_ID_CHARS, MAX_SEARCH_CHARS, MAX_SNOOZE_HOURS, MAX_STAFF_NAME_CHARS
from overheard.services import contacts, gdpr, leads, mentions, sessions, sweeps
from overheard.services.access import Invalid, ServiceError
from storage import inbox
from storage.schema import now_utc

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=HERE / "templates")
templates.env.globals["one_day"] = timedelta(days=1)  # the inbox's "until" filter shows the last day included
templates.env.globals["can_reply"] = can_reply  # feeds, reviews and Hacker News take no reply: no "Reply on" link
# Every link to a post or profile goes through this filter: rows stored before links were checked (or written
# by hand) may hold `javascript:`; a template never renders an href that is not http(s).
templates.env.filters["web_url"] = web_url
LOGIN_CSRF_COOKIE = "overheard_login_csrf"  # the sign-in form's CSRF token, before there is a session
CSRF_FIELD = "csrf"


async def csrf_protect(request: Request) -> None:
    """Every state-changing form posts back the CSRF token of the page it came from: the session's, or on the
    sign-in form the one in its own cookie. A page elsewhere cannot read either, so cannot forge the form."""
    if request.method not in ("POST", "PUT", "PATCH", "DELETE"):
        return
    sent = (await request.form()).get(CSRF_FIELD)
    if request.url.path == "/login":
        expected = request.cookies.get(LOGIN_CSRF_COOKIE)
    else:
        session = web_session(request)
        expected = session.csrf_token if session else None
    if expected is None and request.url.path != "/login":
        raise SignInRequired("/")  # no session: whatever the form was, sign in first
    if not isinstance(sent, str) or not expected or not hmac.compare_digest(sent, expected):
        raise HTTPException(403, "This form has expired or was not sent from Overheard. Reload the page and try again.")


router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf_protect)])


class SignInRequired(Exception):
    def __init__(self, next_url: str) -> None:
        self.next_url = next_url


def user(request: Request) -> Principal:
    principal = session_principal(request)
    if principal is None:
        raise SignInRequired(str(request.url.path) + (f"?{request.url.query}" if request.url.query else ""))
    return principal


User = Annotated[Principal, Depends(user)]
Db = Annotated[Engine, Depends(engine_of)]


def render(
    request: Request, name: str, principal: Principal | None, status_code: int = 200, **context: Any
) -> HTMLResponse:
    nav = []
    if principal:
        pages = [
            ("Inbox", "/inbox", Capability.read_mentions),
            ("Queue", "/queue", Capability.read_mentions),
            ("Leads", "/leads", Capability.read_mentions),
            ("Dashboard", "/dashboard", Capability.read_metrics),
            ("Alerts", "/alerts", Capability.read_alerts),
            ("Privacy", "/privacy", Capability.gdpr),
            ("Sources", "/sources", Capability.operate),
            ("Reply accounts", "/settings/accounts", Capability.connect_accounts),
        ]
        if not principal.can(Capability.read_mentions):  # the others reach it from the queue
            pages.insert(2, ("Flagged", "/queue/flagged", Capability.review_noise))
        nav = [(label, url) for label, url, cap in pages if principal.can(cap)]
        if principal.role.value == "service":
            nav = [(label, url) for label, url in nav if url != "/leads"]
        if principal.role.value == "sales":
            nav = [(label, url) for label, url in nav if url != "/inbox"]
    session = web_session(request) if principal else None
    return templates.TemplateResponse(
        request,
        name,
        {
            "user": principal,
            "nav": nav,
            "path": request.url.path,
            "notice": request.query_params.get("notice"),
            "csrf": session.csrf_token if session else context.pop("csrf", ""),
            **context,
        },
        status_code=status_code,
    )


def _secure(request: Request) -> bool:
    setting = request.app.state.config.web.secure_cookies
    return setting == "always" or (setting == "auto" and request.url.scheme == "https")


def _safe_next(next_url: str | None, fallback: str) -> str:
    # Only same-site paths: never redirect a signed-in user to another origin.
    if next_url and next_url.startswith("/") and not next_url.startswith("//"):
        return next_url
    return fallback


def back(next_url: str | None, fallback: str, notice: str) -> RedirectResponse:
    target = _safe_next(next_url, fallback)
    separator = "&" if "?" in target else "?"
    return RedirectResponse(f"{target}{separator}notice={quote(notice)}", status_code=303)


# ---- sign in -------------------------------------------------------------------------------------------------


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, next: str | None = None) -> HTMLResponse:
    csrf = request.cookies.get(LOGIN_CSRF_COOKIE) or secrets.token_urlsafe(32)
    response = render(request, "login.html", None, next=next or "", error=None, csrf=csrf)
    response.set_cookie(
        LOGIN_CSRF_COOKIE, csrf, max_age=3600, path="/login", httponly=True, samesite="strict", secure=_secure(request)
    )
    return response


@router.post("/login", response_class=HTMLResponse, response_model=None)
def login(request: Request, token: Annotated[str, Form()], next: Annotated[str, Form()] = "") -> Response:
    try:
        principal: Principal | None = identify(request, token.strip())
    except HTTPException as exc:
        if exc.status_code == 429:
            raise
        principal = None
    if principal is None:
        return render(
            request, "login.html", None, 401, next=next, csrf=request.cookies.get(LOGIN_CSRF_COOKIE, ""),
            error="That token is unknown or revoked, or it has expired. Ask an admin to run "
            "`overheard tokens create NAME --role ROLE`.",
        )  # fmt: skip
    signed = sessions.sign_in(
        engine_of(request), principal, principal.token_id, request.app.state.config.web.session_hours
    )
    response = RedirectResponse(_safe_next(next, HOME[principal.role]), status_code=303)
    max_age = max(1, int((signed.session.expires_at - now_utc()).total_seconds()))
    response.set_cookie(
        SESSION_COOKIE, signed.secret, max_age=max_age, httponly=True, samesite="strict", secure=_secure(request)
    )
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
    return response


@router.post("/logout")
def logout(request: Request) -> RedirectResponse:
    """Ends the session on the server: the cookie, if copied, no longer signs anyone in."""
    secret = request.cookies.get(SESSION_COOKIE)
    if secret:
        sessions.sign_out(engine_of(request), secret)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, httponly=True, samesite="strict", secure=_secure(request))
    return response


@router.get("/")
def home(principal: User) -> RedirectResponse:
    return RedirectResponse(HOME[principal.role], status_code=303)


# ---- inbox and leads -------------------------------------------------------------------------------------------


def _enum(value: str | None, choices: type[Any]) -> str | None:
    return value if value in {c.value for c in choices} else None


def _day(value: str | None) -> datetime | None:
    """The start (UTC) of a day given as YYYY-MM-DD, as the date inputs send it; anything else is no filter."""
    try:
        day = date.fromisoformat(value or "")
    except ValueError:
        return None
    return datetime(day.year, day.month, day.day, tzinfo=UTC) if 1971 <= day.year <= 2999 else None


LANGUAGES = ("en", *READ_LANGUAGES)
"""The languages the language filters offer: English and those the multilingual path reads."""


def _language(value: str | None) -> str | None:
    """A language filter (ISO 639-1, any case); anything else is no filter."""
    code = (value or "").strip().lower()
    return code if re.fullmatch(r"[a-z]{2}", code) else None


def _filters(request: Request, default_status: str = "open") -> inbox.MentionFilter:
    p = request.query_params
    status = p.get("status", default_status)
    last_day = _day(p.get("until"))
    return inbox.MentionFilter(
        team=_enum(p.get("team"), Team),
        intent=_enum(p.get("intent"), Intent),
        sentiment=_enum(p.get("sentiment"), Sentiment),
        source=_enum(p.get("source"), Platform),
        status=status if status in (*inbox.STATUSES, "open") else None,
        language=_language(p.get("language")),
        since=_day(p.get("since")),
        until=last_day + timedelta(days=1) if last_day else None,  # the form's "until" day is included
        query=(p.get("q") or "").replace("\x00", "")[:MAX_SEARCH_CHARS] or None,
    )


def _cursor(request: Request) -> str | None:
    """The page's cursor if it is one the inbox gave out; anything else starts from the newest."""
    cursor = request.query_params.get("cursor")
    return cursor if cursor and re.fullmatch(inbox.CURSOR_PATTERN, cursor) else None


def _older(request: Request, page: inbox.MentionPage) -> str | None:
    if not page.next_cursor:
        return None
    kept = {k: v for k, v in request.query_params.items() if k not in ("cursor", "notice")}
    return f"{request.url.path}?{urlencode({**kept, 'cursor': page.next_cursor})}"


def _choices() -> dict[str, list[str]]:
    return {
        "teams": [t.value for t in Team],
        "intents": [i.value for i in Intent],
        "sentiments": [s.value for s in Sentiment],
        "sources": [s.value for s in Platform],
        "statuses": ["open", *inbox.STATUSES, ""],
        "languages": list(LANGUAGES),
    }


@router.get("/inbox", response_class=HTMLResponse)
def inbox_page(request: Request, principal: User, engine: Db) -> HTMLResponse:
    filters = _filters(request)
    found = mentions.open_inbox(engine, principal, filters, cursor=_cursor(request))
    page = found.page
    return render(
        request, "inbox.html", principal, page=page, filters=filters, choices=_choices(), stored=found.stored,
        older=_older(request, page),
        here=str(request.url.path) + (f"?{request.url.query}" if request.url.query else ""),
        can_contacts=principal.can(Capability.read_contacts), now=now_utc(),
    )  # fmt: skip


_LEAD_STATE_LABELS = {
    "open": "new or accepted",
    "new": "new",
    "accepted": "accepted",
    "snoozed": "snoozed",
    "dismissed": "dismissed",
    "all": "in any state",
}


@router.get("/leads", response_class=HTMLResponse)
def leads_page(request: Request, principal: User, engine: Db) -> HTMLResponse:
    """The ranked lead feed: `state` (open, new, accepted, snoozed, dismissed, all) and `owner` filter it."""
    p = request.query_params
    state = p.get("state") or "open"
    state = state if state in leads.VIEWS else "open"
    owner = (p.get("owner") or "").replace("\x00", "").strip()[:MAX_STAFF_NAME_CHARS] or None
    feed = leads.ranked(engine, principal, states=leads.VIEWS[state], owner=owner)
    return render(
        request, "leads.html", principal, feed=feed, state=state, state_choices=list(leads.VIEWS),
        state_labels=_LEAD_STATE_LABELS,
        here=str(request.url.path) + (f"?{request.url.query}" if request.url.query else ""),
        can_contacts=principal.can(Capability.read_contacts),
    )  # fmt: skip


@router.post("/leads/{mention_id}/accept")
def accept_lead(
    mention_id: int, principal: User, engine: Db, owner: Annotated[str, Form()] = "", next: Annotated[str, Form()] = ""
) -> RedirectResponse:
    who = leads.accept(engine, principal, mention_id, owner.replace("\x00", "")[:MAX_STAFF_NAME_CHARS])
    return back(next, "/leads", f"Lead {mention_id} accepted; {who} owns it.")


@router.post("/leads/{mention_id}/dismiss")
def dismiss_lead(
    mention_id: int, principal: User, engine: Db, reason: Annotated[str, Form()] = "", next: Annotated[str, Form()] = ""
) -> RedirectResponse:
    try:
        leads.dismiss(engine, principal, mention_id, reason.replace("\x00", ""))
    except Invalid as exc:
        return back(next, "/leads", f"Lead {mention_id} was not dismissed: {exc}.")
    return back(next, "/leads", f"Lead {mention_id} dismissed; the reason is kept as training feedback.")


@router.post("/leads/{mention_id}/snooze")
def snooze_lead(
    mention_id: int,
    principal: User,
    engine: Db,
    days: Annotated[int, Form(ge=1, le=MAX_SNOOZE_HOURS // 24)] = 1,
    next: Annotated[str, Form()] = "",
) -> RedirectResponse:
    until = now_utc() + timedelta(days=days)
    leads.snooze(engine, principal, mention_id, until)
    return back(next, "/leads", f"Lead {mention_id} snoozed until {until:%d %b %Y %H:%M} UTC.")


@router.get("/mentions/{mention_id}", response_class=HTMLResponse)
def mention_page(request: Request, mention_id: int, principal: User, engine: Db) -> HTMLResponse:
    from overheard.web.workspace import desk_context  # the workspace's pages build on these

    found = mentions.view_mention(engine, principal, mention_id)
    return render(
        request, "mention.html", principal, m=found.mention, history=found.history, choices=_choices(),
        here=f"/mentions/{mention_id}", can_contacts=principal.can(Capability.read_contacts), now=now_utc(),
        **desk_context(request, principal, engine, mention_id),
    )  # fmt: skip


@router.post("/mentions/{mention_id}/assign")
def assign_action(
    mention_id: int,
    principal: User,
    engine: Db,
    assignee: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "",
) -> RedirectResponse:
    who = (assignee.strip() or principal.name).replace("\x00", "")[:MAX_STAFF_NAME_CHARS]
    mentions.assign(engine, principal, mention_id, who)
    return back(next, "/inbox", f"Mention {mention_id} assigned to {who}.")


@router.post("/mentions/{mention_id}/resolve")
def resolve_action(mention_id: int, principal: User, engine: Db, next: Annotated[str, Form()] = "") -> RedirectResponse:
    mentions.resolve(engine, principal, mention_id)
    return back(next, "/inbox", f"Mention {mention_id} resolved.")


@router.post("/mentions/{mention_id}/snooze")
def snooze_action(
    mention_id: int,
    principal: User,
    engine: Db,
    hours: Annotated[int, Form(ge=1, le=MAX_SNOOZE_HOURS)] = 4,
    next: Annotated[str, Form()] = "",
) -> RedirectResponse:
    mentions.snooze(engine, principal, mention_id, hours)
    return back(next, "/inbox", f"Mention {mention_id} snoozed for {hours} h.")


@router.post("/mentions/{mention_id}/relabel")
def relabel_action(
    mention_id: int,
    principal: User,
    engine: Db,
    intent: Annotated[Intent, Form()],
    sentiment: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "",
) -> RedirectResponse:
    mentions.relabel(engine, principal, mention_id, intent.value, _enum(sentiment, Sentiment))
    return back(next, "/inbox", f"Mention {mention_id} relabelled as {intent.value}; kept as training feedback.")


@router.post("/mentions/{mention_id}/send-to-crm")
def send_to_crm(mention_id: int, principal: User, engine: Db, next: Annotated[str, Form()] = "") -> RedirectResponse:
    """Queue the lead's CRM delivery again (a failed or dead one); a delivered one is already in the CRM."""
    outcome = leads.send_to_crm(engine, principal, mention_id)
    if outcome is leads.CrmSend.no_route:
        return back(next, "/leads", "This lead has no sales route, so there is nothing to send.")
    if outcome is leads.CrmSend.already_delivered:
        return back(next, "/leads", f"Lead {mention_id} is already in the CRM.")
    if outcome is leads.CrmSend.inbox_only:
        return back(
            next, "/leads", f"Lead {mention_id} is in the web inbox only: its sales channel sends nothing to a CRM "
            "(an admin can route sales to a CRM channel in the routing rules).",
        )  # fmt: skip
    return back(next, "/leads", f"Lead {mention_id} is queued for the CRM; the next delivery run sends it.")


# ---- contacts and privacy ------------------------------------------------------------------------------------


@router.get("/contacts/{contact_id}", response_class=HTMLResponse)
def contact_page(request: Request, contact_id: str, principal: User, engine: Db) -> HTMLResponse:
    full = contacts.contact_360(engine, principal, contact_id[:MAX_CONTACT_ID_CHARS])
    return render(
        request,
        "contact.html",
        principal,
        c=full.contact,
        why=full.why,
        route_records={r.route_id: r for r in full.route_records},
        can_gdpr=principal.can(Capability.gdpr),
        now=now_utc(),
    )


@router.get("/sources", response_class=HTMLResponse)
def sources_page(request: Request, principal: User, engine: Db) -> HTMLResponse:
    found = sweeps.health(request.app.state.config, engine, principal)
    return render(request, "sources.html", principal, sources=found.sources, alerts=found.alerts)


@router.get("/privacy", response_class=HTMLResponse)
def privacy_page(request: Request, principal: User, engine: Db) -> HTMLResponse:
    principal.require(Capability.gdpr)  # the desk opens empty; a search is the service's (and audited)
    q = (request.query_params.get("q") or "").replace("\x00", "")[:MAX_SEARCH_CHARS]
    results = gdpr.find_subjects(engine, principal, q) if q else []
    a = (request.query_params.get("a") or "").replace("\x00", "")[:MAX_SEARCH_CHARS]
    authors, author_error = [], None
    if a:
        try:
            authors = gdpr.find_authors(engine, principal, a)
        except ServiceError as exc:
            author_error = str(exc)
    return render(
        request, "privacy.html", principal, q=q, results=results, a=a, authors=authors, author_error=author_error
    )


def _author_url(source: str, handle: str) -> str:
    return f"/privacy/authors/{quote(source, safe='')}/{quote(handle, safe='')}"


@router.get("/privacy/audit", response_class=HTMLResponse)
def privacy_audit(request: Request, principal: User, engine: Db) -> HTMLResponse:
    """The audit log as the privacy desk reads it: the newest entries, or those about one contact or author."""
    principal.require(Capability.gdpr)
    contact = (request.query_params.get("contact") or "").strip()[:MAX_CONTACT_ID_CHARS]
    source = (request.query_params.get("source") or "").strip()[:MAX_SEARCH_CHARS]
    handle = (request.query_params.get("handle") or "").strip()[:MAX_SEARCH_CHARS]
    if source and handle:
        entries = gdpr.audit_trail(engine, principal, author=(source, handle), limit=200)
    else:
        entries = gdpr.audit_trail(engine, principal, contact or None, limit=200)
    return render(
        request, "privacy_audit.html", principal, entries=entries, contact=contact, source=source, handle=handle
    )


@router.get("/privacy/receipt", response_class=HTMLResponse)
def privacy_receipt(request: Request, principal: User, engine: Db) -> HTMLResponse:
    """The erasure receipt: what one erasure removed, per table, read back from its audit entry."""
    kind = request.query_params.get("type") or "author"
    subject = (request.query_params.get("id") or "")[:MAX_SEARCH_CHARS]
    entry = gdpr.erasure_receipt(engine, principal, kind, subject)
    return render(request, "privacy_receipt.html", principal, e=entry)


@router.get("/privacy/authors/{source}/{handle}", response_class=HTMLResponse)
def privacy_author(request: Request, source: str, handle: str, principal: User, engine: Db) -> HTMLResponse:
    found = gdpr.author_record(engine, principal, source[:MAX_SEARCH_CHARS], handle[:MAX_SEARCH_CHARS])
    return render(request, "privacy_author.html", principal, r=found, url=_author_url(source, handle))


@router.post("/privacy/authors/{source}/{handle}/export")
def privacy_author_export(source: str, handle: str, principal: User, engine: Db) -> Response:
    document = gdpr.export_author(engine, principal, source[:MAX_SEARCH_CHARS], handle[:MAX_SEARCH_CHARS])
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", f"{source}-{handle}")
    return Response(
        json.dumps(document, indent=2, ensure_ascii=False),
        media_type="application/json",
        headers={"Content-Disposition": f'attachment; filename="export-author-{name}-{stamp}.json"'},
    )


@router.post("/privacy/authors/{source}/{handle}/erase")
def privacy_author_erase(
    source: str, handle: str, principal: User, engine: Db, confirm_handle: Annotated[str, Form()] = ""
) -> RedirectResponse:
    principal.require(Capability.gdpr)  # before saying anything about the confirmation
    if confirm_handle.strip().lstrip("@").lower() != handle.strip().lstrip("@").lower():
        return back(_author_url(source, handle), "/privacy", "Nothing was erased: type the handle to confirm.")
    report = gdpr.erase_author(engine, principal, source[:MAX_SEARCH_CHARS], handle[:MAX_SEARCH_CHARS])
    removed = sum(report.deleted.values())
    query = urlencode({"type": "author", "id": gdpr.author_subject(source, handle)})
    notice = f"Erased {handle} on {source}: {removed} records deleted, {report.tombstoned_mentions} posts tombstoned."
    return RedirectResponse(f"/privacy/receipt?{query}&notice={quote(notice)}", status_code=303)


@router.get("/privacy/{contact_id}", response_class=HTMLResponse)
def privacy_contact(request: Request, contact_id: str, principal: User, engine: Db) -> HTMLResponse:
    found = gdpr.subject_record(engine, principal, contact_id[:MAX_CONTACT_ID_CHARS])
    return render(request, "privacy_contact.html", principal, c=found.contact, trail=found.trail)


@router.post("/privacy/{contact_id}/export")
def privacy_export(contact_id: str, principal: User, engine: Db) -> Response:
    document = gdpr.export(engine, principal, contact_id[:MAX_CONTACT_ID_CHARS])
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    return Response(
        json.dumps(document, indent=2, ensure_ascii=False),
        media_type="application/json",
        headers={"Content-Disposition": f'attachment; filename="export-{quote(contact_id)}-{stamp}.json"'},
    )


@router.post("/privacy/{contact_id}/erase")
def privacy_erase(
    contact_id: str, principal: User, engine: Db, confirm_id: Annotated[str, Form()] = ""
) -> RedirectResponse:
    principal.require(Capability.gdpr)  # before saying anything about the confirmation
    if confirm_id.strip() != contact_id:
        return back(f"/privacy/{quote(contact_id)}", "/privacy", "Nothing was erased: type the contact id to confirm.")
    report = gdpr.erase(engine, principal, contact_id[:MAX_CONTACT_ID_CHARS])
    removed = sum(report.deleted.values())
    notice = f"Erased {contact_id}: {removed} records deleted, {report.tombstoned_mentions} posts tombstoned."
    query = urlencode({"type": "contact", "id": report.contact_id})  # the contact page is gone: show the receipt
    return RedirectResponse(f"/privacy/receipt?{query}&notice={quote(notice)}", status_code=303)


# ---- wiring ---------------------------------------------------------------------------------------------------


def mount(app: FastAPI) -> None:
    from overheard.web import accounts, marketing, workspace  # their pages use this module's render and sign-in

    app.include_router(router)
    app.include_router(marketing.router)
    app.include_router(workspace.router)
    app.include_router(accounts.router)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")

    @app.exception_handler(SignInRequired)
    def _sign_in(request: Request, exc: SignInRequired) -> RedirectResponse:
        response = RedirectResponse("/login?" + urlencode({"next": exc.next_url}), status_code=303)
        if request.cookies.get(SESSION_COOKIE):  # an ended or expired session: forget it
            response.delete_cookie(SESSION_COOKIE, httponly=True, samesite="strict", secure=_secure(request))
        return response

    @app.exception_handler(StarletteHTTPException)
    async def _page_errors(request: Request, exc: StarletteHTTPException) -> Response:
        if request.url.path.startswith(("/api", "/static")):
            return await http_exception_handler(request, exc)
        principal = None
        try:
            principal = session_principal(request)
        except HTTPException:
            principal = None
        return render(request, "error.html", principal, exc.status_code, message=exc.detail, status=exc.status_code)
