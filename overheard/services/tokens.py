"""API tokens: issue one to a named person or service with a role, list them, revoke one.

Only an admin manages tokens (`Capability.manage_tokens`; the command line acts as the operator, an admin).
Issuing and revoking each leave an audit record (subject: the token, by name); the secret is returned once
and never kept or logged. The `overheard tokens` commands and `/api/tokens` call these functions.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import Engine

from overheard.services.access import Caller, Capability, Conflict, Invalid, NotFound
from storage import tokens as token_store
from storage.audit import record
from storage.tokens import ApiToken, Role, TokenNameTaken

MAX_TOKEN_NAME_CHARS = 128
"""A token's name is the actor in the audit log (the `api_tokens.name` column holds 128 characters)."""
MAX_LIFETIME_DAYS = 3650


@dataclass(frozen=True)
class IssuedToken:
    """A token just issued: `secret` is shown to the caller once (only its hash is stored); `token` the record."""

    secret: str
    token: ApiToken


def parse_role(role: Role | str) -> Role:
    """The role named `role`; `Invalid` names the roles there are."""
    try:
        return Role(role)
    except ValueError:
        raise Invalid(f"role '{role}' is not one of {', '.join(r.value for r in Role)}") from None


def issue(engine: Engine, caller: Caller, name: str, role: Role | str, days: int | None = 90) -> IssuedToken:
    """Issue a token named `name` (who it is for) with `role`, expiring after `days` (None or 0: never)."""
    caller.require(Capability.manage_tokens)
    name = name.strip()
    if not name or len(name) > MAX_TOKEN_NAME_CHARS or "\x00" in name:
        raise Invalid(f"a token's name is 1 to {MAX_TOKEN_NAME_CHARS} characters (who it is for), got {name!r:.40}")
    chosen = parse_role(role)
    if days is not None and not 0 <= days <= MAX_LIFETIME_DAYS:
        raise Invalid(f"days must be 0 (never expires) to {MAX_LIFETIME_DAYS}, got {days}")
    lifetime = timedelta(days=days) if days else None
    with engine.begin() as connection:
        try:
            secret, token = token_store.create_token(connection, name, chosen, lifetime)
        except TokenNameTaken as exc:
            raise Conflict(str(exc)) from None
        expires = token.expires_at.isoformat() if token.expires_at else None
        record(connection, caller.name, "token.create", "token", name, role=chosen.value, expires_at=expires)
    return IssuedToken(secret, token)


def listed(engine: Engine, caller: Caller) -> list[ApiToken]:
    """Every token issued, revoked and expired ones too, oldest first (nothing secret is in them)."""
    caller.require(Capability.manage_tokens)
    with engine.connect() as connection:
        return token_store.list_tokens(connection)


def revoke(engine: Engine, caller: Caller, name: str) -> None:
    """Revoke the live token named `name` at once, and end every web session signed in with it."""
    caller.require(Capability.manage_tokens)
    with engine.begin() as connection:
        if not token_store.revoke(connection, name):
            raise NotFound(f"no live token is named '{name}'; `overheard tokens list` shows them")
        record(connection, caller.name, "token.revoke", "token", name)
