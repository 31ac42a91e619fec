"""API tokens and web sessions: a token is issued to a named staff member or service with one role and an
expiry; signing in to the web app with it starts a session of its own. Only hashes of secrets are kept.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, Connection, delete, or_, select, update

from storage.schema import api_tokens, now_utc, web_sessions

TOKEN_PREFIX = "ohk_"
SESSION_PREFIX = "ohs_"


class Role(StrEnum):
    """What a token may do; the API's policy (overheard.api.auth) says which role reaches which route."""

    admin = "admin"  # everything
    service = "service"  # complaints and questions routed to customer service
    sales = "sales"  # leads (purchase intent routed to sales)
    marketing = "marketing"  # aggregates only, no personal data
    privacy = "privacy"  # contacts, consents, GDPR export/erase and the audit trail
    communications = "communications"  # crisis work: alerts, their evidence posts, negative storms, the dashboard


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
    expires_at: datetime | None = None  # None: issued before tokens expired (never); `tokens list` shows them
    last_used_at: datetime | None = None

    def status(self, now: datetime) -> str:
        if self.revoked:
            return "revoked"
        return "expired" if self.expires_at is not None and self.expires_at <= now else "live"


@dataclass(frozen=True)
class WebSession:
    """A signed-in browser: the token it signed in with, the CSRF token its forms carry, when it ends."""

    id: int
    token: ApiToken
    csrf_token: str
    expires_at: datetime


def _token(row: Any) -> ApiToken:
    return ApiToken(
        row.id,
        row.name,
        Role(row.role),
        row.created_at,
        revoked=row.revoked_at is not None,
        expires_at=row.expires_at,
        last_used_at=row.last_used_at,
    )


def _live(now: datetime) -> tuple[ColumnElement[bool], ...]:
    return (api_tokens.c.revoked_at.is_(None), or_(api_tokens.c.expires_at.is_(None), api_tokens.c.expires_at > now))


def hash_secret(secret: str) -> str:
    # Secrets are 256 random bits, so a fast hash is enough: there is nothing to brute-force.
    return hashlib.sha256(secret.encode()).hexdigest()


DEFAULT_LIFETIME = timedelta(days=90)


def create_token(
    connection: Connection, name: str, role: Role, lifetime: timedelta | None = DEFAULT_LIFETIME
) -> tuple[str, ApiToken]:
    """Issue a token that expires after `lifetime` (None: never); returns the secret (shown once, never
    stored) and the stored record."""
    if connection.execute(select(api_tokens.c.id).where(api_tokens.c.name == name)).first():
        raise TokenNameTaken(f"a token named '{name}' already exists; pick another name or revoke it first")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    at = now_utc()
    expires_at = at + lifetime if lifetime is not None else None
    token_id = connection.execute(
        api_tokens.insert().values(
            name=name, role=role.value, token_hash=hash_secret(secret), created_at=at, expires_at=expires_at
        )
    ).inserted_primary_key[0]  # type: ignore[index]  # typed Optional, but a single-row insert always sets it
    return secret, ApiToken(int(token_id), name, role, at, revoked=False, expires_at=expires_at)


def authenticate(connection: Connection, secret: str, now: datetime | None = None) -> ApiToken | None:
    """The live token with this secret, or None (unknown, revoked or expired)."""
    if not secret.startswith(TOKEN_PREFIX):
        return None
    row = connection.execute(
        select(api_tokens).where(api_tokens.c.token_hash == hash_secret(secret), *_live(now or now_utc()))
    ).one_or_none()
    return _token(row) if row is not None else None


def list_tokens(connection: Connection) -> list[ApiToken]:
    """Every token ever issued, revoked and expired ones too, oldest first (secrets are not kept)."""
    return [_token(r) for r in connection.execute(select(api_tokens).order_by(api_tokens.c.id))]


def touch(connection: Connection, token_id: int) -> None:
    connection.execute(update(api_tokens).where(api_tokens.c.id == token_id).values(last_used_at=now_utc()))


def revoke(connection: Connection, name: str) -> bool:
    """Revoke the token named `name` and end every web session signed in with it; False if none was live."""
    result = connection.execute(
        update(api_tokens)
        .where(api_tokens.c.name == name, api_tokens.c.revoked_at.is_(None))
        .values(revoked_at=now_utc())
    )
    connection.execute(
        delete(web_sessions).where(
            web_sessions.c.token_id.in_(select(api_tokens.c.id).where(api_tokens.c.name == name))
        )
    )
    return bool(result.rowcount)


# ---- web sessions ----------------------------------------------------------------------------------------


def start_session(
    connection: Connection, token_id: int, lifetime: timedelta, now: datetime | None = None
) -> tuple[str, WebSession]:
    """A new session for a browser that signed in with token `token_id`; returns the cookie's secret and the
    session. It ends after `lifetime`, or earlier when the token expires or is revoked, or on signing out."""
    now = now or now_utc()
    token = _token(connection.execute(select(api_tokens).where(api_tokens.c.id == token_id)).one())
    expires_at = now + lifetime
    if token.expires_at is not None:
        expires_at = min(expires_at, token.expires_at)
    secret = SESSION_PREFIX + secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(32)
    connection.execute(delete(web_sessions).where(web_sessions.c.expires_at <= now))  # tidy ended ones
    session_id = connection.execute(
        web_sessions.insert().values(
            session_hash=hash_secret(secret), token_id=token.id, csrf_token=csrf, created_at=now, expires_at=expires_at
        )
    ).inserted_primary_key[0]  # type: ignore[index]
    return secret, WebSession(int(session_id), token, csrf, expires_at)


def session_for(connection: Connection, secret: str, now: datetime | None = None) -> WebSession | None:
    """The live session with this secret (its token live too), or None."""
    if not secret.startswith(SESSION_PREFIX):
        return None
    now = now or now_utc()
    row = connection.execute(
        select(api_tokens, web_sessions.c.id.label("session_id"), web_sessions.c.csrf_token,
               web_sessions.c.expires_at.label("session_expires_at"))
        .join(web_sessions, web_sessions.c.token_id == api_tokens.c.id)
        .where(web_sessions.c.session_hash == hash_secret(secret), web_sessions.c.expires_at > now, *_live(now))
    ).one_or_none()  # fmt: skip
    if row is None:
        return None
    return WebSession(row.session_id, _token(row), row.csrf_token, row.session_expires_at)


def end_session(connection: Connection, secret: str) -> None:
    connection.execute(delete(web_sessions).where(web_sessions.c.session_hash == hash_secret(secret)))
