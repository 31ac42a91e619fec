"""Who may do what: token authentication, web sessions, the role policy, record scopes and rate limits.

The policy, the capabilities and each role's scope live in `overheard.services.access`, which every entry
point shares; here they are applied to HTTP requests.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel
from sqlalchemy import Engine

from overheard.services.access import Caller, Capability, Forbidden
from storage.tokens import Role, WebSession, authenticate, session_for, touch

SESSION_COOKIE = "overheard_session"


HOME: dict[Role, str] = {
    Role.admin: "/inbox",
    Role.service: "/inbox",
    Role.sales: "/leads",
    Role.marketing: "/dashboard",
    Role.privacy: "/privacy",
    Role.communications: "/alerts",
}


@dataclass(frozen=True)
class Principal(Caller):
    """The caller of a request: the token's name (the actor in the audit log), role, and the token's id."""

    token_id: int


class Problem(BaseModel):
    """Every error: what went wrong and what to do about it."""

    detail: str


class RateLimiter:
    """A fixed one-minute window per token; thread-safe because sync routes run in a thread pool."""

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.per_minute = per_minute
        self.clock = clock
        self._windows: dict[int, tuple[float, int]] = {}
        self._lock = threading.Lock()

    def hit(self, token_id: int) -> tuple[bool, int, bool]:
        """(allowed, seconds until the window resets, whether this request opened a new window)."""
        now = self.clock()
        with self._lock:
            start, count = self._windows.get(token_id, (now, 0))
            opened = count == 0
            if now - start >= 60:
                start, count, opened = now, 0, True
            count += 1
            self._windows[token_id] = (start, count)
        return count <= self.per_minute, max(1, int(60 - (now - start))), opened


class FailureLimiter:
    """Failed sign-ins and unknown tokens per client address, in a fixed one-minute window.

    Per-token limits cannot slow someone guessing tokens (each guess is a different token). Once an address
    has failed `per_minute` times it is answered 429 until the window ends, even for a right token, so the
    answer tells a guesser nothing."""

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.per_minute = per_minute
        self.clock = clock
        self._windows: dict[str, tuple[float, int]] = {}
        self._lock = threading.Lock()

    def _window(self, address: str, now: float) -> tuple[float, int]:
        start, count = self._windows.get(address, (now, 0))
        return (now, 0) if now - start >= 60 else (start, count)

    def blocked(self, address: str) -> int | None:
        """Seconds until the address may try again, or None when it may try now."""
        now = self.clock()
        with self._lock:
            start, count = self._window(address, now)
        return max(1, int(60 - (now - start))) if count >= self.per_minute else None

    def failed(self, address: str) -> None:
        now = self.clock()
        with self._lock:
            if len(self._windows) > 100_000:  # many addresses (a spoofing flood): forget the ended windows
                self._windows = {a: w for a, w in self._windows.items() if now - w[0] < 60}
            start, count = self._window(address, now)
            self._windows[address] = (start, count + 1)


def client_address(request: Request) -> str:
    """The caller's address as the server sees it (behind a proxy: run uvicorn with --proxy-headers)."""
    return request.client.host if request.client else "unknown"


ERRORS: dict[int | str, dict[str, object]] = {
    400: {"model": Problem, "description": "The body could not be read: not UTF-8, or not JSON."},
    401: {"model": Problem, "description": "No token, or an unknown or revoked one."},
    403: {"model": Problem, "description": "The token's role may not do this."},
    429: {
        "model": Problem,
        "description": "Too many requests for this token, or too many bad tokens from this address; retry after "
        "`Retry-After` seconds.",
    },
}

_bearer = HTTPBearer(auto_error=False, description="An API token from `overheard tokens create --role ROLE`.")


def engine_of(request: Request) -> Engine:
    return request.app.state.engine


def _too_many_failures(retry_after: int) -> HTTPException:
    return HTTPException(
        429,
        f"too many unknown tokens from this address; retry in {retry_after} s",
        headers={"Retry-After": str(retry_after)},
    )


def identify(request: Request, secret: str | None) -> Principal:
    failures: FailureLimiter = request.app.state.failures
    address = client_address(request)
    if (retry_after := failures.blocked(address)) is not None:
        raise _too_many_failures(retry_after)
    if not secret:
        raise HTTPException(
            401,
            "send an API token as 'Authorization: Bearer <token>' (create one with `overheard tokens create`)",
            headers={"WWW-Authenticate": "Bearer"},
        )
    with engine_of(request).begin() as connection:
        token = authenticate(connection, secret)
    if token is None:
        failures.failed(address)
        raise HTTPException(
            401,
            "this token is unknown or revoked, or it has expired; ask an admin for a new one",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return _admit(request, Principal(name=token.name, role=token.role, token_id=token.id))


def _admit(request: Request, principal: Principal) -> Principal:
    """Count the request against the token's rate limit (API and web share it)."""
    allowed, retry_after, opened = request.app.state.limiter.hit(principal.token_id)
    if not allowed:
        raise HTTPException(
            429,
            f"rate limit of {request.app.state.limiter.per_minute} requests a minute reached; retry in {retry_after} s",
            headers={"Retry-After": str(retry_after)},
        )
    if opened:  # at most one write a minute per token
        with engine_of(request).begin() as connection:
            touch(connection, principal.token_id)
    return principal


def api_principal(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> Principal:
    return identify(request, credentials.credentials if credentials else None)


def web_session(request: Request) -> WebSession | None:
    """The browser's live session (its cookie holds a session secret, never an API token), or None."""
    if hasattr(request.state, "web_session"):
        return request.state.web_session
    secret = request.cookies.get(SESSION_COOKIE)
    found = None
    if secret:
        with engine_of(request).connect() as connection:
            found = session_for(connection, secret)
    request.state.web_session = found
    return found


def session_principal(request: Request) -> Principal | None:
    """The signed-in web user, or None."""
    session = web_session(request)
    if session is None:
        return None
    token = session.token
    return _admit(request, Principal(name=token.name, role=token.role, token_id=token.id))


def allow(capability: Capability) -> Callable[..., Principal]:
    """A dependency: the authenticated caller, if their role has `capability`; 403 otherwise."""

    def dependency(principal: Annotated[Principal, Depends(api_principal)]) -> Principal:
        try:
            principal.require(capability)
        except Forbidden as exc:
            raise HTTPException(403, str(exc)) from None
        return principal

    return dependency
