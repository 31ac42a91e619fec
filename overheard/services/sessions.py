"""Web sessions: signing in to the web app with a token, and signing out.

The token itself is checked where every request is authenticated (`overheard.api.auth.identify`, with its
limits on failed attempts); these functions start and end the session of its own that the browser then holds,
and each leaves an audit record (subject: the token, by name). Every role may sign in.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import Engine

from overheard.services.access import Caller
from storage import tokens as token_store
from storage.audit import record
from storage.tokens import WebSession


@dataclass(frozen=True)
class SignedIn:
    """A session just started: `secret` goes into the browser's cookie (only its hash is stored)."""

    secret: str
    session: WebSession


def sign_in(engine: Engine, caller: Caller, token_id: int, hours: float) -> SignedIn:
    """Start a web session for `caller`, who authenticated with token `token_id`; it lasts `hours`, or less
    when the token expires sooner, and ends when the token is revoked."""
    with engine.begin() as connection:
        secret, session = token_store.start_session(connection, token_id, timedelta(hours=hours))
        record(connection, caller.name, "session.start", "token", caller.name, until=session.expires_at.isoformat())
    return SignedIn(secret, session)


def sign_out(engine: Engine, secret: str) -> bool:
    """End the session whose cookie holds `secret`; False when there was none (already ended or unknown)."""
    with engine.begin() as connection:
        session = token_store.session_for(connection, secret)
        token_store.end_session(connection, secret)
        if session is None:
            return False
        record(connection, session.token.name, "session.end", "token", session.token.name)
    return True
