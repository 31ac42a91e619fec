"""The brand's reply accounts: which are configured and connected, connecting an X account with OAuth 2.0 PKCE
(start → X → finish), disconnecting it, and the credentials a reply is sent with.

Connecting and disconnecting are admin only and audited (the audit names the account and the handle, never a
token). A connected X account's token pair lives encrypted in the database (`storage.reply_tokens`); replying
refreshes it when it has lapsed and keeps the rotated refresh token. An account with no stored token falls back to
its `secret_env`, as before connecting existed.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

import httpx
from pydantic import SecretStr
from sqlalchemy import Engine

from enrichers.replies import MissingSecret, ReplyAccount, ReplyCredentials, credentials_for, reply_client, x_oauth
from enrichers.replies.model import PLATFORM_NAMES, Failure
from overheard.config import OverheardConfig
from overheard.services.access import Caller, Capability, Conflict, Invalid, NotFound
from storage import reply_tokens as store
from storage.audit import record
from storage.schema import now_utc

CONNECTABLE = ("x",)
"""Platforms whose reply account is connected through OAuth here (the others keep their secret in `secret_env`)."""
CALLBACK_PATH = "/settings/accounts/x/callback"


@dataclass(frozen=True)
class AccountStatus:
    """One configured reply account as the settings page lists it."""

    name: str
    account: ReplyAccount
    connectable: bool
    """Its platform connects through OAuth here (X)."""
    connected: store.ConnectedAccount | None
    ready: str | None
    """Why it cannot be connected yet (a variable to set), or None."""


def _cipher(config: OverheardConfig, environ: Mapping[str, str]) -> store.TokenCipher:
    variable = config.reply_token_key_env
    return store.TokenCipher.from_key(environ.get(variable), variable)


@contextmanager
def _sending(config: OverheardConfig, client: httpx.Client | None) -> Iterator[httpx.Client]:
    """The caller's client, or a guarded one of our own, closed after use."""
    if client is not None:
        yield client
        return
    with reply_client(config.http.allow_networks) as own:
        yield own


def _environ(environ: Mapping[str, str] | None) -> Mapping[str, str]:
    return os.environ if environ is None else environ


def _oauth(account: ReplyAccount, environ: Mapping[str, str]) -> x_oauth.OAuthClient:
    if not account.client_id_env or not environ.get(account.client_id_env, "").strip():
        raise Invalid(
            "connecting an X account needs your X app's OAuth 2.0 client id: set client_id_env on the account in "
            "overheard.yaml and that environment variable"
            + (f" ({account.client_id_env})" if account.client_id_env else "")
        )
    secret = environ.get(account.client_secret_env, "").strip() if account.client_secret_env else ""
    if account.client_secret_env and not secret:
        raise Invalid(f"set the environment variable {account.client_secret_env} (the X app's client secret)")
    return x_oauth.OAuthClient(
        client_id=environ[account.client_id_env].strip(),
        client_secret=SecretStr(secret) if secret else None,
        token_url=account.token_url or f"{account.api}/2/oauth2/token",
        timeout_s=account.timeout_s,
    )


def _account(config: OverheardConfig, name: str) -> ReplyAccount:
    found = config.reply_accounts.get(name)
    if found is None:
        raise NotFound(f"no reply account called '{name}' in overheard.yaml (reply_accounts)")
    if found.platform not in CONNECTABLE:
        raise Invalid(
            f"'{name}' is a {PLATFORM_NAMES[found.platform]} account: its secret is set in {found.secret_env}, "
            "there is nothing to connect"
        )
    return found


def accounts(
    engine: Engine, caller: Caller, config: OverheardConfig, environ: Mapping[str, str] | None = None
) -> list[AccountStatus]:
    """Every configured reply account, whether it connects through OAuth, and whether it is connected."""
    caller.require(Capability.connect_accounts)
    env = _environ(environ)
    with engine.connect() as connection:
        connected = store.connected_accounts(connection)
    listed = []
    for name, account in sorted(config.reply_accounts.items()):
        ready: str | None = None
        if account.platform in CONNECTABLE:
            try:
                _oauth(account, env)
                _cipher(config, env)
            except (Invalid, store.TokenKeyError) as exc:
                ready = str(exc)
        listed.append(AccountStatus(name, account, account.platform in CONNECTABLE, connected.get(name), ready))
    return listed


def start_connect(
    engine: Engine,
    caller: Caller,
    config: OverheardConfig,
    name: str,
    redirect_uri: str,
    environ: Mapping[str, str] | None = None,
    at: datetime | None = None,
) -> str:
    """Begin connecting the X account `name`: keep a fresh PKCE verifier under a fresh `state` (ten minutes, one
    use) and return the address on X where the admin authorizes it. `redirect_uri` is the account's own
    `redirect_uri` when it names one (it must match the X app's registered callback)."""
    caller.require(Capability.connect_accounts)
    account = _account(config, name)
    env = _environ(environ)
    oauth = _oauth(account, env)
    try:
        cipher = _cipher(config, env)
    except store.TokenKeyError as exc:
        raise Invalid(str(exc)) from exc
    redirect = account.redirect_uri or redirect_uri
    state, verifier = x_oauth.new_state(), x_oauth.new_verifier()
    with engine.begin() as connection:
        store.start_pending(connection, cipher, state, name, verifier, redirect, caller.name, at or now_utc())
        record(connection, caller.name, "reply_account.connect.start", "reply_account", name, platform="x")
    return x_oauth.authorize_url(
        oauth.client_id, redirect, state, verifier, base=account.authorize_url or x_oauth.AUTHORIZE_URL
    )


def finish_connect(
    engine: Engine,
    caller: Caller,
    config: OverheardConfig,
    callback: str,
    environ: Mapping[str, str] | None = None,
    at: datetime | None = None,
    client: httpx.Client | None = None,
) -> store.ConnectedAccount:
    """Finish connecting from X's redirect (`callback`: the address or its query): the `state` must be one this
    admin started, unused and not lapsed; the code is exchanged for a token pair, X says whose account it is, and
    the pair is stored encrypted. Refused states and X's refusals say what to do."""
    caller.require(Capability.connect_accounts)
    parsed = x_oauth.parse_callback(callback)
    if isinstance(parsed, str):
        raise Invalid(parsed)
    env = _environ(environ)
    now = at or now_utc()
    try:
        cipher = _cipher(config, env)
    except store.TokenKeyError as exc:
        raise Invalid(str(exc)) from exc
    with engine.begin() as connection:  # taken in its own transaction: a refused exchange cannot be replayed
        pending = store.take_pending(connection, cipher, parsed.state, now)
        if pending is not None and pending.started_by != caller.name:
            pending = None
        if pending is None:
            record(connection, caller.name, "reply_account.connect.refused", "reply_account", "?", why="state")
    if pending is None:
        raise Conflict(
            "this authorization is unknown, was already used, or took longer than "
            f"{int(store.PENDING_FOR.total_seconds() // 60)} minutes: start connecting the account again"
        )
    account = _account(config, pending.account)
    oauth = _oauth(account, env)
    with _sending(config, client) as sending:
        token = x_oauth.exchange_code(
            sending, oauth, parsed.code, pending.verifier.get_secret_value(), pending.redirect_uri, now
        )
        if isinstance(token, Failure):
            raise Invalid(f"X did not connect the account: {token.reason}; start connecting it again")
        user = x_oauth.whoami(sending, account.api, token.access_token, account.timeout_s)
    if isinstance(user, Failure):
        raise Invalid(f"{user.reason}; start connecting the account again")
    with engine.begin() as connection:
        store.save_token(
            connection, cipher, pending.account, "x", token,
            user_id=user.id, handle=user.username, actor=caller.name, now=now,
        )  # fmt: skip
        record(
            connection, caller.name, "reply_account.connect", "reply_account", pending.account,
            platform="x", handle=user.username, scope=" ".join(token.scope),
        )  # fmt: skip
        return store.connected_accounts(connection)[pending.account]


def disconnect(
    engine: Engine,
    caller: Caller,
    config: OverheardConfig,
    name: str,
    environ: Mapping[str, str] | None = None,
    client: httpx.Client | None = None,
) -> str | None:
    """Forget the account's tokens (replies then fall back to its `secret_env`) and ask X to revoke them, refresh
    token first (which ends the grant), then the access token. The tokens are deleted here whatever X answers; the
    answer is why X's side may still be open (then revoke Overheard's access on X: Settings → Security → Connected
    apps), or None when X revoked both."""
    caller.require(Capability.connect_accounts)
    account = _account(config, name)
    env = _environ(environ)
    token: x_oauth.XToken | None = None
    try:
        cipher = _cipher(config, env)
        with engine.connect() as connection:
            token = store.token_for(connection, cipher, name)
    except store.TokenKeyError:
        token = None  # cannot be read, so cannot be revoked: deleted all the same
    problem = (
        _revoke(config, account, env, token, client)
        if token is not None
        else "the stored tokens could not be read, so X was not asked to revoke them"
    )
    with engine.begin() as connection:
        if not store.delete_token(connection, name):
            raise NotFound(f"'{name}' is not connected")
        record(
            connection, caller.name, "reply_account.disconnect", "reply_account", name,
            platform="x", revoked_on_x=problem is None,
        )  # fmt: skip
    return problem


def _revoke(
    config: OverheardConfig,
    account: ReplyAccount,
    env: Mapping[str, str],
    token: x_oauth.XToken,
    client: httpx.Client | None,
) -> str | None:
    try:
        oauth = _oauth(account, env)
    except Invalid as exc:
        return f"X was not asked to revoke the tokens: {exc}"
    with _sending(config, client) as sending:
        pairs = [(token.refresh_token, "refresh_token"), (token.access_token, "access_token")]
        for secret, hint in pairs:
            if secret is not None and (failed := x_oauth.revoke(sending, oauth, secret, hint)) is not None:
                return failed.reason
    return None


def credentials(
    engine: Engine,
    config: OverheardConfig,
    name: str,
    account: ReplyAccount,
    client: httpx.Client,
    environ: Mapping[str, str] | None = None,
    at: datetime | None = None,
) -> ReplyCredentials | MissingSecret:
    """What a reply from `account` is sent with: a connected X account's stored access token (refreshed first when
    it has lapsed, the rotated refresh token stored), else the secret in `secret_env`. A refresh X refuses says to
    reconnect the account; the caller keeps the draft."""
    env = _environ(environ)
    if account.platform not in CONNECTABLE:
        return credentials_for(account, env)
    with engine.connect() as connection:
        if not store.is_connected(connection, name):
            return credentials_for(account, env)
    try:
        cipher = _cipher(config, env)
        with engine.connect() as connection:
            token = store.token_for(connection, cipher, name)
    except store.TokenKeyError as exc:
        return MissingSecret(f"{exc}; or reconnect the X account in Settings → Reply accounts")
    if token is None:  # disconnected meanwhile
        return credentials_for(account, env)
    now = at or now_utc()
    if token.expired(now):
        token_or_failure = _refreshed(engine, config, name, account, client, token, cipher, env, now)
        if isinstance(token_or_failure, MissingSecret):
            return token_or_failure
        token = token_or_failure
    return ReplyCredentials(account, token.access_token)


def _refreshed(
    engine: Engine,
    config: OverheardConfig,
    name: str,
    account: ReplyAccount,
    client: httpx.Client,
    token: x_oauth.XToken,
    cipher: store.TokenCipher,
    env: Mapping[str, str],
    now: datetime,
) -> x_oauth.XToken | MissingSecret:
    reconnect = "reconnect the X account in Settings → Reply accounts"
    if token.refresh_token is None:
        return MissingSecret(f"the X account's token has expired and X gave no refresh token; {reconnect}")
    try:
        oauth = _oauth(account, env)
    except Invalid as exc:
        return MissingSecret(f"the X account's token has expired and cannot be renewed: {exc}")
    renewed = x_oauth.refresh(client, oauth, token.refresh_token, now)
    if isinstance(renewed, Failure):
        # X rotates refresh tokens: when two replies find the same lapsed token, the second refresh is refused
        # because the first one already used it. The first stored a live token by then: send with that one.
        with engine.connect() as connection:
            current = store.token_for(connection, cipher, name)
        if current is not None and not current.expired(now) and _rotated(current, token):
            return current
        with engine.begin() as connection:
            record(connection, "system", "reply_account.refresh.failed", "reply_account", name, reason=renewed.reason)
        return MissingSecret(f"X would not renew the account's token ({renewed.reason}); {reconnect}")
    with engine.begin() as connection:
        store.store_refreshed(connection, cipher, name, renewed, now)
        record(connection, "system", "reply_account.refresh", "reply_account", name)
    return renewed


def _rotated(current: x_oauth.XToken, used: x_oauth.XToken) -> bool:
    """True when the stored token is not the one whose refresh was just refused (someone renewed it meanwhile)."""
    return current.access_token.get_secret_value() != used.access_token.get_secret_value()


def callback_url(base_url: str) -> str:
    """This server's callback for X, from the address the browser reached it at."""
    return base_url.rstrip("/") + CALLBACK_PATH


__all__ = [
    "CALLBACK_PATH",
    "AccountStatus",
    "accounts",
    "callback_url",
    "credentials",
    "disconnect",
    "finish_connect",
    "start_connect",
]
