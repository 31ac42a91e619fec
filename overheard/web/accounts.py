"""Settings → Reply accounts (admin only): every configured reply account, and connecting the X account with
OAuth 2.0 PKCE — "Connect X account" leaves for X, X sends the browser back to the callback, which shows
"connected as @handle" — or disconnecting it. Each handler calls one function of `overheard.services.reply_accounts`.
"""

from __future__ import annotations

from html import escape
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy import Engine

from overheard.api.auth import Principal, engine_of
from overheard.services import reply_accounts
from overheard.services.access import Conflict, Invalid
from overheard.web.pages import back, csrf_protect, render, session_principal, user

router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf_protect)])
User = Annotated[Principal, Depends(user)]
Db = Annotated[Engine, Depends(engine_of)]
HERE = "/settings/accounts"


@router.get(HERE)
def accounts_page(request: Request, principal: User, engine: Db) -> Any:
    found = reply_accounts.accounts(engine, principal, request.app.state.config)
    return render(request, "reply_accounts.html", principal, accounts=found)


@router.post(HERE + "/{name}/connect", response_model=None)
def connect(request: Request, name: str, principal: User, engine: Db) -> RedirectResponse | HTMLResponse:
    """A page with the link to X's authorization page (the pages' policy lets forms post only to Overheard, so
    the form cannot redirect to X itself), or back here saying what is missing."""
    callback = reply_accounts.callback_url(str(request.base_url))
    try:
        address = reply_accounts.start_connect(engine, principal, request.app.state.config, name, callback)
    except Invalid as exc:
        return back(HERE, HERE, f"Not connected: {exc}.")
    return render(request, "reply_account_authorize.html", principal, account=name, address=address)


@router.get(reply_accounts.CALLBACK_PATH, response_model=None)
def callback(request: Request, engine: Db) -> RedirectResponse | HTMLResponse:
    """X's redirect back: the code and state in the query. The session cookie is SameSite=Strict, so a browser
    arriving from X sends none: the page then reloads itself from here (a same-site navigation, which sends it)."""
    principal = session_principal(request)
    if principal is None and not request.query_params.get("again"):
        again = f"{reply_accounts.CALLBACK_PATH}?{request.url.query}&again=1"
        page = f'<!doctype html><meta http-equiv="refresh" content="0;url={escape(again)}"><a href="{escape(again)}">Continue</a>'
        return HTMLResponse(page)
    principal = user(request)
    try:
        done = reply_accounts.finish_connect(engine, principal, request.app.state.config, request.url.query)
    except (Invalid, Conflict) as exc:
        return back(HERE, HERE, f"Not connected: {exc}.")
    return back(HERE, HERE, f"{done.account} is connected as @{done.handle}.")


@router.post(HERE + "/{name}/disconnect")
def disconnect(request: Request, name: str, principal: User, engine: Db) -> RedirectResponse:
    problem = reply_accounts.disconnect(engine, principal, request.app.state.config, name)
    if problem is None:
        return back(HERE, HERE, f"{name} is disconnected; its tokens are deleted and revoked on X.")
    return back(
        HERE,
        HERE,
        f"{name} is disconnected; its tokens are deleted here, but {problem}: revoke Overheard's access on X "
        "(Settings → Security → Connected apps).",
    )
