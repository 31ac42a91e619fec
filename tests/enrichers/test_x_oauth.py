"""Connecting the X reply account (OAuth 2.0 Authorization Code with PKCE), against a real local server replaying X's
token and users/me answers (tests/fixtures/recorded/x_oauth/, see its SOURCE.md)."""

from __future__ import annotations

import base64
import hashlib
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import httpx
from pydantic import SecretStr

from enrichers.replies.model import Failure
from enrichers.replies.x_oauth import (
    SCOPES,
    Callback,
    OAuthClient,
    XToken,
    authorize_url,
    challenge_of,
    exchange_code,
    new_verifier,
    parse_callback,
    refresh,
    whoami,
)
from tests.enrichers.test_replies import no_internet  # noqa: F401  (autouse: nothing leaves 127.0.0.1)
from tests.listener.replay import RECORDED_FIXTURES, ReplayServer, Reply

OAUTH = RECORDED_FIXTURES / "x_oauth"
ME = RECORDED_FIXTURES / "twitter_x/v2/test_client_get_me/000_GET_2_users_me"
NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
DOC_ACCESS = "Q0Mzb0VhZ0V5dmNXSTEyNER2MFNfVW50RzdXdTN6STFxQlVkTGhTc1lCdlBiOjE2MjIxNDc3NDM5MTQ6MToxOmF0OjE"
DOC_REFRESH = "bWRWa3gzdnk3WHRGU1o0bmRRcTJ5VUxWX1lZTDdJSUtmaWcxbTVxdEFXcW5tOjE2MjIxNDc3NDM5MTQ6MToxOnJ0OjE"


def confidential(server: ReplayServer) -> OAuthClient:
    return OAuthClient("rG9n6402A3dbUJKzXTNX4oWHJ", SecretStr("client-secret"), server.url("/2/oauth2/token"))


def form(body: bytes) -> dict[str, str]:
    return {k: v[-1] for k, v in parse_qs(body.decode()).items()}


def test_the_s256_challenge_is_rfc_7636s_example_and_a_verifier_is_long_and_unreserved() -> None:
    # RFC 7636 Appendix B: the verifier and the challenge it gives.
    assert challenge_of("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk") == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
    verifier = new_verifier()
    assert 43 <= len(verifier) <= 128 and set(verifier) <= set(
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~"
    )
    assert new_verifier() != verifier


def test_the_authorize_url_carries_the_s256_challenge_of_the_verifier_the_state_and_the_scopes() -> None:
    verifier = new_verifier()
    address = authorize_url("client-1", "https://overheard.example/settings/accounts/x/callback", "st-1", verifier)

    parts = urlsplit(address)
    query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == "https://x.com/i/oauth2/authorize"
    expected = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    assert query == {
        "response_type": "code",
        "client_id": "client-1",
        "redirect_uri": "https://overheard.example/settings/accounts/x/callback",
        "scope": "tweet.read tweet.write users.read offline.access",
        "state": "st-1",
        "code_challenge": expected,
        "code_challenge_method": "S256",
    }
    assert verifier not in address  # the verifier itself never leaves the server before the token request
    assert tuple(query["scope"].split()) == SCOPES


def test_x_sending_back_an_error_or_no_code_is_a_reason_not_a_callback() -> None:
    assert parse_callback("https://o.example/cb?state=s&code=c") == Callback("c", "s")
    assert parse_callback("state=s&code=c") == Callback("c", "s")
    denied = parse_callback("https://o.example/cb?error=access_denied&state=s")
    assert isinstance(denied, str) and "access_denied" in denied
    assert isinstance(parse_callback("https://o.example/cb?state=s"), str)


def test_a_confidential_client_exchanges_the_code_with_basic_auth_and_the_verifier(
    server: ReplayServer, client: httpx.Client
) -> None:
    server.add("/2/oauth2/token", Reply.recorded(OAUTH / "token_code"), method="POST")

    token = exchange_code(client, confidential(server), "code-1", "verifier-1", "https://o.example/cb", NOW)

    assert isinstance(token, XToken)
    assert token.access_token.get_secret_value() == DOC_ACCESS
    assert token.refresh_token is not None and token.refresh_token.get_secret_value() == DOC_REFRESH
    assert token.expires_at == NOW + timedelta(seconds=7200)
    assert token.scope == SCOPES
    [sent] = server.requests_to("/2/oauth2/token")
    assert form(sent.body) == {
        "grant_type": "authorization_code",
        "code": "code-1",
        "code_verifier": "verifier-1",
        "redirect_uri": "https://o.example/cb",
    }
    assert (
        sent.headers["authorization"]
        == "Basic " + base64.b64encode(b"rG9n6402A3dbUJKzXTNX4oWHJ:client-secret").decode()
    )
    assert DOC_ACCESS not in repr(token)  # tokens print as '**********'


def test_a_public_client_names_itself_in_the_form_and_a_token_without_offline_access_has_no_refresh_token(
    server: ReplayServer, client: httpx.Client
) -> None:
    server.add("/2/oauth2/token", Reply.recorded(OAUTH / "token_pytwitter"), method="POST")
    public = OAuthClient("client-public", None, server.url("/2/oauth2/token"))

    token = exchange_code(client, public, "code-2", "verifier-2", "https://o.example/cb", NOW)

    assert isinstance(token, XToken) and token.refresh_token is None
    assert token.access_token.get_secret_value() == "access_token" and token.scope == ("users.read", "tweet.read")
    [sent] = server.requests_to("/2/oauth2/token")
    assert form(sent.body)["client_id"] == "client-public" and "authorization" not in sent.headers


def test_refreshing_returns_the_rotated_pair_and_a_refused_refresh_says_what_x_said(
    server: ReplayServer, client: httpx.Client
) -> None:
    server.add(
        "/2/oauth2/token",
        Reply.recorded(OAUTH / "token_refresh"),
        Reply.recorded(OAUTH / "refresh_refused"),
        method="POST",
    )

    renewed = refresh(client, confidential(server), SecretStr(DOC_REFRESH), NOW)
    refused = refresh(client, confidential(server), SecretStr(DOC_REFRESH), NOW)

    assert isinstance(renewed, XToken) and renewed.refresh_token is not None
    assert renewed.refresh_token.get_secret_value() not in (DOC_REFRESH, "")
    assert renewed.expires_at == NOW + timedelta(hours=2)
    assert form(server.requests_to("/2/oauth2/token")[0].body) == {
        "grant_type": "refresh_token",
        "refresh_token": DOC_REFRESH,
    }
    assert isinstance(refused, Failure) and refused.status_code == 400
    assert "Value passed for the token was invalid" in refused.reason


def test_whoami_names_the_connected_account_and_an_expired_token_reads_as_expired(
    server: ReplayServer, client: httpx.Client
) -> None:
    server.add("/2/users/me", Reply.recorded(ME))

    me = whoami(client, server.base_url, SecretStr(DOC_ACCESS))

    assert not isinstance(me, Failure) and (me.id, me.username) == ("1072250532645998596", "TweepyDev")
    assert server.requests_to("/2/users/me")[0].headers["authorization"] == f"Bearer {DOC_ACCESS}"
    token = XToken(SecretStr("a"), None, NOW + timedelta(hours=2))
    assert (
        not token.expired(NOW)
        and token.expired(NOW + timedelta(hours=2))
        and token.expired(NOW + timedelta(hours=1, minutes=59))
    )
