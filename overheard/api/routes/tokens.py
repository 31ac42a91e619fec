"""API tokens (admin only): issue, list and revoke; each route calls one function of `overheard.services.tokens`."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path
from sqlalchemy import Engine

from overheard.api import views
from overheard.api.auth import ERRORS, Capability, Principal, Problem, allow, engine_of
from overheard.api.models import MAX_STAFF_NAME_CHARS, TokenIn
from overheard.services import tokens
from storage.schema import now_utc
from storage.tokens import ApiToken

router = APIRouter(prefix="/api/tokens", tags=["tokens"], responses=ERRORS)
Admin = Annotated[Principal, Depends(allow(Capability.manage_tokens))]
Db = Annotated[Engine, Depends(engine_of)]
TokenName = Annotated[str, Path(min_length=1, max_length=MAX_STAFF_NAME_CHARS, description="The token's name.")]


def _out(token: ApiToken) -> views.TokenOut:
    return views.TokenOut(
        name=token.name,
        role=token.role.value,
        status=token.status(now_utc()),
        created_at=token.created_at,
        last_used_at=token.last_used_at,
        expires_at=token.expires_at,
    )


@router.get("", response_model=list[views.TokenOut], summary="Every token issued, oldest first")
def list_tokens(principal: Admin, engine: Db) -> list[views.TokenOut]:
    return [_out(token) for token in tokens.listed(engine, principal)]


@router.post(
    "",
    status_code=201,
    response_model=views.IssuedTokenOut,
    responses={409: {"model": Problem, "description": "A token of this name exists."}},
    summary="Issue a token (its secret is in this answer only)",
)
def issue_token(body: TokenIn, principal: Admin, engine: Db) -> views.IssuedTokenOut:
    issued = tokens.issue(engine, principal, body.name, body.role, body.days)
    return views.IssuedTokenOut(secret=issued.secret, token=_out(issued.token))


@router.post(
    "/{name}/revoke",
    status_code=204,
    responses={404: {"model": Problem, "description": "No live token of this name."}},
    summary="Revoke a token at once (its web sessions end too)",
)
def revoke_token(name: TokenName, principal: Admin, engine: Db) -> None:
    tokens.revoke(engine, principal, name)
