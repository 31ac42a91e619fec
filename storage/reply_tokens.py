"""Reply accounts connected with OAuth: the token pair of each (encrypted with Fernet), and the authorizations an
admin started and has not finished (one use each, minutes long).

Tokens are ciphertext in the database and `SecretStr` in memory; no function here returns or logs them in the clear
except `token_for`, which the reply sender needs. The key comes from the environment variable overheard.yaml names
(`reply_token_key_env`); a wrong or changed key reads as `TokenKeyError`, which says to connect the account again.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from cryptography.fernet import Fernet, InvalidToken
from pydantic import SecretStr
from sqlalchemy import Connection, delete, insert, select, update

from enrichers.replies.x_oauth import XToken
from storage.schema import oauth_pending, platform_tokens

PENDING_FOR = timedelta(minutes=10)
"""How long an authorization may take between leaving for the platform and coming back."""


class TokenKeyError(Exception):
    """The encryption key is missing, malformed, or not the one the tokens were stored with."""


@dataclass(frozen=True)
class TokenCipher:
    """Encrypts and decrypts tokens with one Fernet key (AES-128-CBC with an HMAC, `cryptography`)."""

    fernet: Fernet

    @classmethod
    def from_key(cls, key: str | None, variable: str) -> TokenCipher:
        """The cipher for `key` (read from `variable`); a missing or malformed key names the variable to set."""
        if not key:
            raise TokenKeyError(
                f"no key to encrypt reply account tokens: set the environment variable {variable} to a Fernet key "
                "(python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())')"
            )
        try:
            return cls(Fernet(key.strip().encode()))
        except ValueError as exc:
            raise TokenKeyError(f"{variable} is not a Fernet key (32 url-safe base64-encoded bytes): {exc}") from exc

    def seal(self, secret: SecretStr) -> str:
        return self.fernet.encrypt(secret.get_secret_value().encode()).decode("ascii")

    def open(self, sealed: str) -> SecretStr:
        try:
            return SecretStr(self.fernet.decrypt(sealed.encode("ascii")).decode())
        except InvalidToken as exc:
            raise TokenKeyError(
                "the stored token cannot be read with the current key (it was changed?): connect the account again"
            ) from exc


def _hash(state: str) -> str:
    return hashlib.sha256(state.encode()).hexdigest()


# ---- authorizations under way ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Pending:
    """An authorization taken back when its platform answered: the account, the PKCE verifier, the redirect URI."""

    account: str
    verifier: SecretStr
    redirect_uri: str
    started_by: str


def start_pending(
    connection: Connection,
    cipher: TokenCipher,
    state: str,
    account: str,
    verifier: str,
    redirect_uri: str,
    actor: str,
    now: datetime,
) -> None:
    """Keep what finishing the authorization needs, under the hash of its `state`; drop lapsed ones."""
    connection.execute(delete(oauth_pending).where(oauth_pending.c.expires_at <= now))
    connection.execute(
        insert(oauth_pending).values(
            state_hash=_hash(state),
            account=account,
            verifier=cipher.seal(SecretStr(verifier)),
            redirect_uri=redirect_uri,
            started_by=actor,
            created_at=now,
            expires_at=now + PENDING_FOR,
        )
    )


def take_pending(connection: Connection, cipher: TokenCipher, state: str, now: datetime) -> Pending | None:
    """The authorization `state` names, removed so it cannot be used twice; None when unknown, used or lapsed. One
    DELETE … RETURNING: of two callbacks racing with the same state, only one gets the row."""
    row = connection.execute(
        delete(oauth_pending).where(oauth_pending.c.state_hash == _hash(state)).returning(*oauth_pending.c)
    ).first()
    if row is None:
        return None
    if row.expires_at <= now:
        return None
    return Pending(row.account, cipher.open(row.verifier), row.redirect_uri, row.started_by)


# ---- connected accounts ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ConnectedAccount:
    """A connected reply account as the settings page shows it: no token in it."""

    account: str
    platform: str
    handle: str | None
    user_id: str | None
    expires_at: datetime
    has_refresh_token: bool
    connected_by: str
    connected_at: datetime
    refreshed_at: datetime | None


def _connected(row: object) -> ConnectedAccount:
    return ConnectedAccount(
        account=row.account,  # type: ignore[attr-defined]
        platform=row.platform,  # type: ignore[attr-defined]
        handle=row.handle,  # type: ignore[attr-defined]
        user_id=row.user_id,  # type: ignore[attr-defined]
        expires_at=row.expires_at,  # type: ignore[attr-defined]
        has_refresh_token=row.refresh_token is not None,  # type: ignore[attr-defined]
        connected_by=row.connected_by,  # type: ignore[attr-defined]
        connected_at=row.connected_at,  # type: ignore[attr-defined]
        refreshed_at=row.refreshed_at,  # type: ignore[attr-defined]
    )


def save_token(
    connection: Connection,
    cipher: TokenCipher,
    account: str,
    platform: str,
    token: XToken,
    *,
    user_id: str | None,
    handle: str | None,
    actor: str,
    now: datetime,
) -> None:
    """Store (or replace) the account's token pair, encrypted: connecting again replaces the old pair."""
    values = {
        "platform": platform,
        "user_id": user_id,
        "handle": handle,
        "access_token": cipher.seal(token.access_token),
        "refresh_token": cipher.seal(token.refresh_token) if token.refresh_token else None,
        "expires_at": token.expires_at,
        "scope": " ".join(token.scope),
        "connected_by": actor,
        "connected_at": now,
        "refreshed_at": None,
    }
    done = connection.execute(update(platform_tokens).where(platform_tokens.c.account == account).values(**values))
    if done.rowcount == 0:
        connection.execute(insert(platform_tokens).values(account=account, **values))


def store_refreshed(connection: Connection, cipher: TokenCipher, account: str, token: XToken, now: datetime) -> bool:
    """Keep a refreshed pair (X rotates the refresh token: the old one is dead). False when the account was
    disconnected meanwhile (the pair is then dropped, not resurrected)."""
    done = connection.execute(
        update(platform_tokens)
        .where(platform_tokens.c.account == account)
        .values(
            access_token=cipher.seal(token.access_token),
            refresh_token=cipher.seal(token.refresh_token) if token.refresh_token else None,
            expires_at=token.expires_at,
            scope=" ".join(token.scope),
            refreshed_at=now,
        )
    )
    return bool(done.rowcount)


def token_for(connection: Connection, cipher: TokenCipher, account: str) -> XToken | None:
    """The account's token pair in the clear (for the reply sender only), or None when it is not connected."""
    row = connection.execute(select(platform_tokens).where(platform_tokens.c.account == account)).first()
    if row is None:
        return None
    return XToken(
        access_token=cipher.open(row.access_token),
        refresh_token=cipher.open(row.refresh_token) if row.refresh_token else None,
        expires_at=row.expires_at,
        scope=tuple(row.scope.split()),
    )


def is_connected(connection: Connection, account: str) -> bool:
    return (
        connection.execute(select(platform_tokens.c.account).where(platform_tokens.c.account == account)).first()
        is not None
    )


def connected_accounts(connection: Connection) -> dict[str, ConnectedAccount]:
    """Every connected account by name, without its tokens."""
    return {row.account: _connected(row) for row in connection.execute(select(platform_tokens))}


def delete_token(connection: Connection, account: str) -> bool:
    """Forget the account's tokens (disconnecting); False when none were stored."""
    return bool(connection.execute(delete(platform_tokens).where(platform_tokens.c.account == account)).rowcount)
