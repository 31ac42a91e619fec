"""API tokens: issued to a named staff member or service with one role; only a hash of the secret is kept."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import Connection, select, update

from storage.schema import api_tokens, now_utc

TOKEN_PREFIX = "ohk_"


class Role(StrEnum):
    """What a token may do; the API's policy (overheard.api.auth) says which role reaches which route."""

    admin = "admin"  # everything
    service = "service"  # complaints and questions routed to customer service
    sales = "sales"  # leads (purchase intent routed to sales)
    marketing = "marketing"  # aggregates only, no personal data
    privacy = "privacy"  # contacts, consents, GDPR export/erase and the audit trail


class TokenNameTaken(ValueError):
    pass


@dataclass(frozen=True)
class ApiToken:
    """A stored token, without its secret. `name` is who it was issued to and is the actor in the audit log."""

    id: int
    name: str
    role: Role
    created_at: datetime
    revoked: bool


def hash_secret(secret: str) -> str:
    # Secrets are 256 random bits, so a fast hash is enough: there is nothing to brute-force.
    return hashlib.sha256(secret.encode()).hexdigest()


def create_token(connection: Connection, name: str, role: Role) -> tuple[str, ApiToken]:
    """Issue a token; returns the secret (shown once, never stored) and the stored record."""
    if connection.execute(select(api_tokens.c.id).where(api_tokens.c.name == name)).first():
        raise TokenNameTaken(f"a token named '{name}' already exists; pick another name or revoke it first")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    at = now_utc()
    token_id = connection.execute(
        api_tokens.insert().values(name=name, role=role.value, token_hash=hash_secret(secret), created_at=at)
    ).inserted_primary_key[0]  # type: ignore[index]  # typed Optional, but a single-row insert always sets it
    return secret, ApiToken(int(token_id), name, role, at, revoked=False)


def authenticate(connection: Connection, secret: str) -> ApiToken | None:
    """The live token with this secret, or None (unknown or revoked)."""
    if not secret.startswith(TOKEN_PREFIX):
        return None
    row = connection.execute(
        select(api_tokens).where(api_tokens.c.token_hash == hash_secret(secret), api_tokens.c.revoked_at.is_(None))
    ).one_or_none()
    if row is None:
        return None
    return ApiToken(row.id, row.name, Role(row.role), row.created_at, revoked=False)


def touch(connection: Connection, token_id: int) -> None:
    connection.execute(update(api_tokens).where(api_tokens.c.id == token_id).values(last_used_at=now_utc()))


def revoke(connection: Connection, name: str) -> bool:
    result = connection.execute(
        update(api_tokens)
        .where(api_tokens.c.name == name, api_tokens.c.revoked_at.is_(None))
        .values(revoked_at=now_utc())
    )
    return bool(result.rowcount)
