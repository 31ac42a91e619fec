"""Connecting the X reply account: OAuth 2.0 Authorization Code with PKCE, as X documents it
(docs.x.com/fundamentals/authentication/oauth-2-0/authorization-code and .../user-access-token).

1. `authorize_url` sends the admin to X with a fresh `state` and the S256 `code_challenge` of a fresh verifier;
2. X sends the browser back to the redirect URI with `code` and `state` (`parse_callback`);
3. `exchange_code` trades the code and the verifier for a token pair at `POST /2/oauth2/token`;
4. `whoami` (`GET /2/users/me`) says which account was connected;
5. `refresh` renews the two-hour access token with the refresh token (`offline.access`). X rotates the refresh
   token on every refresh: the new one must be stored, the old one no longer works.

A confidential client authenticates with HTTP Basic (client id and secret); a public one sends `client_id` in the
form. Hand-written rather than through oauthlib (only a transitive dependency here): PKCE is a hash and a
base64url, and X's token answers need their own reading of errors anyway. Nothing here logs a token; tokens travel
as `SecretStr`.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
from pydantic import SecretStr

from enrichers.replies.model import Failure, body_of

AUTHORIZE_URL = "https://x.com/i/oauth2/authorize"
SCOPES = ("tweet.read", "tweet.write", "users.read", "offline.access")
"""Reading and writing posts, knowing whose account it is, and a refresh token (`offline.access`)."""
ACCESS_LIFETIME = timedelta(hours=2)
"""How long X's access tokens live when the answer does not say (`expires_in` is normally 7200)."""
REFRESH_AHEAD = timedelta(minutes=2)
"""Refresh a token this long before it expires, so it does not lapse between the check and the post."""


def new_verifier() -> str:
    """A PKCE code verifier: 86 characters of the unreserved set (RFC 7636 §4.1 asks for 43 to 128)."""
    return secrets.token_urlsafe(64)


def new_state() -> str:
    """A `state` value: unguessable, used once, tying X's answer to the authorization we started."""
    return secrets.token_urlsafe(32)


def challenge_of(verifier: str) -> str:
    """The S256 code challenge: base64url(sha256(verifier)) without padding (RFC 7636 §4.2)."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def authorize_url(
    client_id: str,
    redirect_uri: str,
    state: str,
    verifier: str,
    *,
    base: str = AUTHORIZE_URL,
    scopes: tuple[str, ...] = SCOPES,
) -> str:
    """Where to send the admin's browser to let Overheard post as the account."""
    query = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": redirect_uri,
        "scope": " ".join(scopes),
        "state": state,
        "code_challenge": challenge_of(verifier),
        "code_challenge_method": "S256",
    }
    return f"{base}?{urlencode(query)}"


@dataclass(frozen=True)
class Callback:
    """What X sent back to the redirect URI."""

    code: str
    state: str


def parse_callback(url_or_query: str) -> Callback | str:
    """Read X's redirect (a whole URL, or its query): the code and state, or in words why there is none."""
    query = urlsplit(url_or_query).query if "?" in url_or_query else url_or_query.lstrip("?")
    found = {k: v[-1] for k, v in parse_qs(query).items()}
    if found.get("error"):
        said = found.get("error_description") or found["error"]
        return f"X did not authorize the account: {said}"
    if not found.get("code") or not found.get("state"):
        return "the address X sent back holds no code and state; copy the whole address from the browser's bar"
    return Callback(found["code"], found["state"])


@dataclass(frozen=True)
class XToken:
    """A user-context token pair for one X account. `expires_at` is when the access token lapses (UTC)."""

    access_token: SecretStr
    refresh_token: SecretStr | None
    expires_at: datetime
    scope: tuple[str, ...] = ()

    def expired(self, now: datetime, ahead: timedelta = REFRESH_AHEAD) -> bool:
        """True when the access token has lapsed or will within `ahead`."""
        return self.expires_at - ahead <= now


@dataclass(frozen=True)
class XUser:
    """The account a token posts as."""

    id: str
    username: str


@dataclass(frozen=True)
class OAuthClient:
    """The X app Overheard connects through: its client id, its secret for a confidential client (None for a
    public one), and the token endpoint."""

    client_id: str
    client_secret: SecretStr | None
    token_url: str
    timeout_s: float = 10.0


def token_from(body: Any, now: datetime) -> XToken | str:
    """A token pair from the token endpoint's JSON answer, or why the answer holds none."""
    if not isinstance(body, dict):
        return "X's token endpoint did not answer with JSON"
    access = body.get("access_token")
    if not isinstance(access, str) or not access:
        return "X's answer holds no access token" + (f": {_oauth_error(body)}" if _oauth_error(body) else "")
    if str(body.get("token_type", "bearer")).lower() != "bearer":
        return f"X answered a token of type '{body.get('token_type')}', not a bearer token"
    lifetime = body.get("expires_in")
    expires = (
        timedelta(seconds=int(lifetime)) if isinstance(lifetime, int | float) and lifetime > 0 else ACCESS_LIFETIME
    )
    refresh = body.get("refresh_token")
    scope = body.get("scope")
    return XToken(
        access_token=SecretStr(access),
        refresh_token=SecretStr(refresh) if isinstance(refresh, str) and refresh else None,
        expires_at=now + expires,
        scope=tuple(scope.split()) if isinstance(scope, str) else (),
    )


def _oauth_error(body: Any) -> str | None:
    """RFC 6749 §5.2's error (X sends `error` and `error_description`), or X's own `detail`/`title`."""
    if not isinstance(body, dict):
        return None
    said = body.get("error_description") or body.get("detail") or body.get("title") or body.get("error")
    return str(said) if said else None


def _client_auth(oauth: OAuthClient, form: dict[str, str]) -> tuple[dict[str, str], dict[str, str]]:
    """The headers and form of a request to X's token or revocation endpoint, with the client named as X asks."""
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    if oauth.client_secret is not None:  # a confidential client: HTTP Basic with the client id and secret
        basic = f"{oauth.client_id}:{oauth.client_secret.get_secret_value()}".encode()
        headers["Authorization"] = "Basic " + base64.b64encode(basic).decode("ascii")
        return headers, form
    return headers, {**form, "client_id": oauth.client_id}  # a public client names itself in the form


def _token_request(client: httpx.Client, oauth: OAuthClient, form: dict[str, str], now: datetime) -> XToken | Failure:
    headers, form = _client_auth(oauth, form)
    try:
        response = client.post(oauth.token_url, data=form, headers=headers, timeout=oauth.timeout_s)
    except httpx.TimeoutException:
        return Failure(f"X's token endpoint did not answer within {oauth.timeout_s:g}s; try again")
    except httpx.HTTPError as error:
        return Failure(f"could not reach X's token endpoint at {oauth.token_url}: {error}")
    body = body_of(response)
    if not response.is_success:
        said = _oauth_error(body)
        return Failure(f"X refused the token request (HTTP {response.status_code}" + (f": {said})" if said else ")"),
                       response.status_code)  # fmt: skip
    found = token_from(body, now)
    return found if isinstance(found, XToken) else Failure(found, response.status_code)


def exchange_code(
    client: httpx.Client, oauth: OAuthClient, code: str, verifier: str, redirect_uri: str, now: datetime
) -> XToken | Failure:
    """Trade the authorization code (with the PKCE verifier and the same redirect URI) for a token pair."""
    form = {"grant_type": "authorization_code", "code": code, "code_verifier": verifier, "redirect_uri": redirect_uri}
    return _token_request(client, oauth, form, now)


def refresh(client: httpx.Client, oauth: OAuthClient, refresh_token: SecretStr, now: datetime) -> XToken | Failure:
    """A new token pair from the refresh token; X rotates the refresh token, so store the one returned."""
    form = {"grant_type": "refresh_token", "refresh_token": refresh_token.get_secret_value()}
    found = _token_request(client, oauth, form, now)
    if isinstance(found, XToken) and found.refresh_token is None:  # keep the old one if X did not send a new one
        return XToken(found.access_token, refresh_token, found.expires_at, found.scope)
    return found


def revoke_url(token_url: str) -> str:
    """X's revocation endpoint beside its token endpoint (`…/2/oauth2/token` → `…/2/oauth2/revoke`)."""
    return token_url.rsplit("/", 1)[0] + "/revoke"


def revoke(client: httpx.Client, oauth: OAuthClient, token: SecretStr, hint: str) -> Failure | None:
    """Ask X to revoke a token (RFC 7009: `token`, `token_type_hint`, the client as for the token endpoint). None
    when X accepted it; any 2xx is accepted, whatever its body."""
    headers, form = _client_auth(oauth, {"token": token.get_secret_value(), "token_type_hint": hint})
    url = revoke_url(oauth.token_url)
    try:
        response = client.post(url, data=form, headers=headers, timeout=oauth.timeout_s)
    except httpx.HTTPError as error:
        return Failure(f"could not reach X's revocation endpoint at {url}: {error}")
    if response.is_success:
        return None
    said = _oauth_error(body_of(response))
    return Failure(
        f"X refused to revoke the {hint.replace('_', ' ')} (HTTP {response.status_code}"
        + (f": {said})" if said else ")"),
        response.status_code,
    )


def whoami(client: httpx.Client, api: str, access_token: SecretStr, timeout_s: float = 10.0) -> XUser | Failure:
    """The account the token posts as (`GET /2/users/me`)."""
    try:
        response = client.get(
            f"{api.rstrip('/')}/2/users/me",
            headers={"Authorization": f"Bearer {access_token.get_secret_value()}"},
            timeout=timeout_s,
        )
    except httpx.HTTPError as error:
        return Failure(f"could not ask X which account was connected: {error}")
    body = body_of(response)
    data = body.get("data") if isinstance(body, dict) else None
    if not response.is_success or not isinstance(data, dict) or not data.get("username"):
        said = _oauth_error(body)
        return Failure(
            f"X would not say which account was connected (HTTP {response.status_code}"
            + (f": {said})" if said else ")"),
            response.status_code,
        )
    return XUser(id=str(data.get("id", "")), username=str(data["username"]))
