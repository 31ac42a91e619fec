"""Connecting the X reply account and replying with its stored token, on SQLite and PostgreSQL, against a local
server replaying X's token, users/me and post answers (tests/fixtures/recorded/x_oauth, x_reply, twitter_x).

Each test uses an account name of its own, so the shared seeded database holds no state between them."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterator
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from cryptography.fernet import Fernet
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import select

from enrichers.replies import ReplyAccount, x_oauth
from enrichers.replies.model import MissingSecret
from overheard.api import create_app
from overheard.config import OverheardConfig
from overheard.services import reply_accounts, workspace
from overheard.services.access import Caller, Conflict, Forbidden, NotFound
from storage import reply_tokens
from storage.audit import entries_for
from storage.schema import mentions, now_utc, oauth_pending, platform_tokens, routes
from storage.tokens import Role
from tests.api.seed import DEMO_CONFIG, Seeded
from tests.listener.replay import RECORDED_FIXTURES, ReplayServer, Reply, start_server

OAUTH = RECORDED_FIXTURES / "x_oauth"
ME = RECORDED_FIXTURES / "twitter_x/v2/test_client_get_me/000_GET_2_users_me"
DOC_ACCESS = "Q0Mzb0VhZ0V5dmNXSTEyNER2MFNfVW50RzdXdTN6STFxQlVkTGhTc1lCdlBiOjE2MjIxNDc3NDM5MTQ6MToxOmF0OjE"
DOC_REFRESH = "bWRWa3gzdnk3WHRGU1o0bmRRcTJ5VUxWX1lZTDdJSUtmaWcxbTVxdEFXcW5tOjE2MjIxNDc3NDM5MTQ6MToxOnJ0OjE"
ROTATED_ACCESS = "cm90YXRlZC1hY2Nlc3MtdG9rZW4tZm9yLW92ZXJoZWFyZC10ZXN0czoxOmF0OjE"
ROTATED_REFRESH = "cm90YXRlZC1yZWZyZXNoLXRva2VuLWZvci1vdmVyaGVhcmQtdGVzdHM6MTpydDox"
ADMIN = Caller("admin-tester", Role.admin)
ENV = {
    "OVERHEARD_REPLY_TOKEN_KEY": Fernet.generate_key().decode(),
    "OVERHEARD_TEST_X_CLIENT_ID": "rG9n6402A3dbUJKzXTNX4oWHJ",
    "OVERHEARD_TEST_X_CLIENT_SECRET": "x-client-secret",
    "OVERHEARD_TEST_X_TOKEN": "hand-made-x-token",
}
CIPHER = reply_tokens.TokenCipher.from_key(ENV["OVERHEARD_REPLY_TOKEN_KEY"], "OVERHEARD_REPLY_TOKEN_KEY")


@pytest.fixture
def x_api() -> Iterator[ReplayServer]:
    server, httpd = start_server()
    server.add("/2/users/me", Reply.recorded(ME))
    server.add("/2/tweets", Reply.recorded(RECORDED_FIXTURES / "x_reply/post_tweet"), method="POST")
    yield server
    httpd.shutdown()
    httpd.server_close()


def configured(server: ReplayServer, name: str) -> OverheardConfig:
    account = ReplyAccount.model_validate(
        {
            "platform": "x",
            "secret_env": "OVERHEARD_TEST_X_TOKEN",
            "client_id_env": "OVERHEARD_TEST_X_CLIENT_ID",
            "client_secret_env": "OVERHEARD_TEST_X_CLIENT_SECRET",
            "base_url": server.base_url,
            "authorize_url": server.url("/i/oauth2/authorize"),
        }
    )
    return DEMO_CONFIG.model_copy(
        update={
            "reply_accounts": {name: account},
            "http": DEMO_CONFIG.http.model_copy(update={"allow_networks": ("127.0.0.1/32",)}),
        }
    )


def state_of(address: str) -> dict[str, str]:
    return {k: v[-1] for k, v in parse_qs(urlsplit(address).query).items()}


def connect(seeded: Seeded, config: OverheardConfig, name: str, at: Any = None) -> reply_tokens.ConnectedAccount:
    address = reply_accounts.start_connect(seeded.engine, ADMIN, config, name, "https://o.example/cb", ENV, at)
    query = state_of(address)
    return reply_accounts.finish_connect(seeded.engine, ADMIN, config, f"?code=c0de&state={query['state']}", ENV, at)


def x_mention(seeded: Seeded) -> int:
    with seeded.engine.connect() as connection:
        found = connection.execute(
            select(mentions.c.id)
            .join(routes, routes.c.mention_id == mentions.c.id)
            .where(mentions.c.source == "x", routes.c.team == "customer_service")
            .order_by(mentions.c.id)
        ).first()
    assert found is not None
    return int(found.id)


def test_connecting_sends_the_verifier_of_the_s256_challenge_and_stores_the_tokens_encrypted(
    seeded: Seeded, x_api: ReplayServer
) -> None:
    config = configured(x_api, "x-connect")
    x_api.add("/2/oauth2/token", Reply.recorded(OAUTH / "token_code"), method="POST")

    address = reply_accounts.start_connect(seeded.engine, ADMIN, config, "x-connect", "https://o.example/cb", ENV)
    query = state_of(address)
    assert address.startswith(x_api.url("/i/oauth2/authorize?"))
    assert query["code_challenge_method"] == "S256" and query["redirect_uri"] == "https://o.example/cb"
    done = reply_accounts.finish_connect(
        seeded.engine, ADMIN, config, f"https://o.example/cb?state={query['state']}&code=c0de", ENV
    )

    assert (done.account, done.handle, done.has_refresh_token) == ("x-connect", "TweepyDev", True)
    [sent] = x_api.requests_to("/2/oauth2/token")
    body = {k: v[-1] for k, v in parse_qs(sent.body.decode()).items()}
    digest = hashlib.sha256(body["code_verifier"].encode()).digest()
    assert base64.urlsafe_b64encode(digest).rstrip(b"=").decode() == query["code_challenge"]
    assert body["code"] == "c0de" and body["redirect_uri"] == "https://o.example/cb"
    assert x_api.requests_to("/2/users/me")[0].headers["authorization"] == f"Bearer {DOC_ACCESS}"
    with seeded.engine.connect() as connection:
        raw = connection.execute(select(platform_tokens).where(platform_tokens.c.account == "x-connect")).one()
        pending = list(connection.execute(select(oauth_pending)))
        audit = entries_for(connection, "reply_account", "x-connect")
    stored = " ".join(str(v) for v in raw)
    assert DOC_ACCESS not in stored and DOC_REFRESH not in stored and raw.handle == "TweepyDev"
    assert not [p for p in pending if body["code_verifier"] in str(p.verifier)]  # the verifier is sealed too
    assert sorted(e.action for e in audit) == ["reply_account.connect", "reply_account.connect.start"]
    assert all(DOC_ACCESS not in str(e.detail) and DOC_REFRESH not in str(e.detail) for e in audit)


def test_a_replayed_unknown_lapsed_or_someone_elses_state_is_refused(seeded: Seeded, x_api: ReplayServer) -> None:
    config = configured(x_api, "x-state")
    x_api.add("/2/oauth2/token", Reply.recorded(OAUTH / "token_code"), method="POST")
    start = now_utc()

    first = state_of(reply_accounts.start_connect(seeded.engine, ADMIN, config, "x-state", "https://o.example/cb", ENV))
    callback = f"?code=c0de&state={first['state']}"
    reply_accounts.finish_connect(seeded.engine, ADMIN, config, callback, ENV)
    with pytest.raises(Conflict, match="already used"):
        reply_accounts.finish_connect(seeded.engine, ADMIN, config, callback, ENV)  # replayed
    with pytest.raises(Conflict):
        reply_accounts.finish_connect(seeded.engine, ADMIN, config, "?code=c0de&state=made-up", ENV)
    late = state_of(reply_accounts.start_connect(seeded.engine, ADMIN, config, "x-state", "https://o.example/cb", ENV))
    with pytest.raises(Conflict, match="10 minutes"):
        reply_accounts.finish_connect(
            seeded.engine, ADMIN, config, f"?code=c0de&state={late['state']}", ENV, at=start + timedelta(minutes=11)
        )
    theirs = state_of(
        reply_accounts.start_connect(seeded.engine, ADMIN, config, "x-state", "https://o.example/cb", ENV)
    )
    other_admin = Caller("another-admin", Role.admin)
    with pytest.raises(Conflict):
        reply_accounts.finish_connect(seeded.engine, other_admin, config, f"?code=c0de&state={theirs['state']}", ENV)
    assert len(x_api.requests_to("/2/oauth2/token")) == 1  # no refused state reached X
    with pytest.raises(Forbidden):
        reply_accounts.start_connect(seeded.engine, Caller("svc", Role.service), config, "x-state", "https://o", ENV)
    with pytest.raises(Forbidden):
        reply_accounts.accounts(seeded.engine, Caller("svc", Role.service), config, ENV)


def test_an_expired_token_is_refreshed_before_the_reply_and_the_rotated_refresh_token_is_stored(
    seeded: Seeded, x_api: ReplayServer
) -> None:
    config = configured(x_api, "x-refresh")
    x_api.add(
        "/2/oauth2/token",
        Reply.recorded(OAUTH / "token_code"),
        Reply.recorded(OAUTH / "token_refresh"),
        method="POST",
    )
    connect(seeded, config, "x-refresh")
    mention_id = x_mention(seeded)

    fresh = workspace.send(seeded.engine, ADMIN, config, mention_id, "Fresh token.", environ=ENV)
    later = now_utc() + timedelta(hours=2, minutes=5)
    sent = workspace.send(seeded.engine, ADMIN, config, mention_id, "Sorry, fixing it now.", environ=ENV, at=later)

    assert fresh.sent and sent.sent and sent.account == "x-refresh"
    token_requests = x_api.requests_to("/2/oauth2/token")
    assert len(token_requests) == 2  # the code exchange, then one refresh (none for the fresh token)
    refreshed = {k: v[-1] for k, v in parse_qs(token_requests[1].body.decode()).items()}
    assert refreshed == {"grant_type": "refresh_token", "refresh_token": DOC_REFRESH}
    posts = x_api.requests_to("/2/tweets")
    assert [p.headers["authorization"] for p in posts] == [f"Bearer {DOC_ACCESS}", f"Bearer {ROTATED_ACCESS}"]
    with seeded.engine.connect() as connection:
        kept = reply_tokens.token_for(connection, CIPHER, "x-refresh")
        raw = connection.execute(select(platform_tokens).where(platform_tokens.c.account == "x-refresh")).one()
    assert kept is not None and kept.refresh_token is not None
    assert kept.refresh_token.get_secret_value() == ROTATED_REFRESH and kept.expires_at > later
    assert ROTATED_REFRESH not in str(raw.refresh_token) and raw.refreshed_at is not None


def test_a_refused_refresh_keeps_the_draft_and_says_to_reconnect(seeded: Seeded, x_api: ReplayServer) -> None:
    config = configured(x_api, "x-refused")
    x_api.add(
        "/2/oauth2/token",
        Reply.recorded(OAUTH / "token_code"),
        Reply.recorded(OAUTH / "refresh_refused"),
        method="POST",
    )
    connect(seeded, config, "x-refused")
    mention_id = x_mention(seeded)

    later = now_utc() + timedelta(hours=3)
    kept = workspace.send(seeded.engine, ADMIN, config, mention_id, "Draft to keep.", environ=ENV, at=later)

    assert not kept.sent and kept.text == "Draft to keep."
    assert kept.reason is not None and "reconnect the X account" in kept.reason
    assert "Value passed for the token was invalid" in kept.reason
    assert not x_api.requests_to("/2/tweets")  # nothing was posted with a dead token
    desk = workspace.desk(seeded.engine, ADMIN, config, mention_id)
    assert desk.draft is not None and desk.draft.text == "Draft to keep."


def test_a_refresh_refused_because_another_reply_already_renewed_the_token_sends_with_the_renewed_one(
    seeded: Seeded, x_api: ReplayServer
) -> None:
    """Two replies find the same lapsed token; the first renews it (X rotates the refresh token), so X refuses the
    second one's refresh. The second reads the token the first stored instead of asking to reconnect."""
    config = configured(x_api, "x-race")
    x_api.add(
        "/2/oauth2/token",
        Reply.recorded(OAUTH / "token_code"),
        Reply.recorded(OAUTH / "refresh_refused"),
        method="POST",
    )
    connect(seeded, config, "x-race")
    later = now_utc() + timedelta(hours=3)
    with seeded.engine.connect() as connection:
        stale = reply_tokens.token_for(connection, CIPHER, "x-race")  # what the second reply read
    assert stale is not None and stale.expired(later)
    renewed_elsewhere = x_oauth.XToken(
        access_token=SecretStr(ROTATED_ACCESS),
        refresh_token=SecretStr(ROTATED_REFRESH),
        expires_at=later + timedelta(hours=2),
    )
    with seeded.engine.begin() as connection:  # the first reply's refresh, stored meanwhile
        reply_tokens.store_refreshed(connection, CIPHER, "x-race", renewed_elsewhere, later)
    account = config.reply_accounts["x-race"]

    with httpx.Client() as client:
        got = reply_accounts._refreshed(seeded.engine, config, "x-race", account, client, stale, CIPHER, ENV, later)

    assert isinstance(got, x_oauth.XToken) and got.access_token.get_secret_value() == ROTATED_ACCESS
    assert len(x_api.requests_to("/2/oauth2/token")) == 2  # the code exchange, then the refused refresh
    with httpx.Client() as client:  # with nothing renewed meanwhile, the refusal still says to reconnect
        with seeded.engine.begin() as connection:
            reply_tokens.store_refreshed(connection, CIPHER, "x-race", stale, later)
        refused = reply_accounts._refreshed(seeded.engine, config, "x-race", account, client, stale, CIPHER, ENV, later)
    assert isinstance(refused, MissingSecret) and "reconnect the X account" in refused.reason


def test_disconnecting_deletes_the_tokens_and_replies_fall_back_to_secret_env(
    seeded: Seeded, x_api: ReplayServer
) -> None:
    config = configured(x_api, "x-disconnect")
    x_api.add("/2/oauth2/token", Reply.recorded(OAUTH / "token_code"), method="POST")
    x_api.add("/2/oauth2/revoke", Reply.recorded(OAUTH / "revoke"), method="POST")
    connect(seeded, config, "x-disconnect")

    problem = reply_accounts.disconnect(seeded.engine, ADMIN, config, "x-disconnect", ENV)
    sent = workspace.send(seeded.engine, ADMIN, config, x_mention(seeded), "From the env token.", environ=ENV)

    assert problem is None
    revoked = [{k: v[-1] for k, v in parse_qs(r.body.decode()).items()} for r in x_api.requests_to("/2/oauth2/revoke")]
    assert revoked == [  # the refresh token first (it ends the grant), then the access token
        {"token": DOC_REFRESH, "token_type_hint": "refresh_token"},
        {"token": DOC_ACCESS, "token_type_hint": "access_token"},
    ]
    basic = base64.b64encode(
        f"{ENV['OVERHEARD_TEST_X_CLIENT_ID']}:{ENV['OVERHEARD_TEST_X_CLIENT_SECRET']}".encode()
    ).decode()
    assert x_api.requests_to("/2/oauth2/revoke")[0].headers["authorization"] == f"Basic {basic}"
    assert sent.sent
    assert x_api.requests_to("/2/tweets")[-1].headers["authorization"] == "Bearer hand-made-x-token"
    with seeded.engine.connect() as connection:
        assert (
            connection.execute(select(platform_tokens).where(platform_tokens.c.account == "x-disconnect")).first()
            is None
        )
        actions = [e.action for e in entries_for(connection, "reply_account", "x-disconnect")]
    assert "reply_account.disconnect" in actions
    listed = {a.name: a for a in reply_accounts.accounts(seeded.engine, ADMIN, config, ENV)}
    assert listed["x-disconnect"].connected is None and listed["x-disconnect"].ready is None


def test_disconnecting_when_x_will_not_revoke_still_deletes_the_tokens_and_says_to_revoke_on_x(
    seeded: Seeded, x_api: ReplayServer
) -> None:
    config = configured(x_api, "x-unrevoked")
    x_api.add("/2/oauth2/token", Reply.recorded(OAUTH / "token_code"), method="POST")
    x_api.add("/2/oauth2/revoke", Reply.recorded(OAUTH / "refresh_refused"), method="POST")
    connect(seeded, config, "x-unrevoked")

    problem = reply_accounts.disconnect(seeded.engine, ADMIN, config, "x-unrevoked", ENV)

    assert problem is not None and "X refused to revoke the refresh token (HTTP 400" in problem
    with seeded.engine.connect() as connection:
        assert (
            connection.execute(select(platform_tokens).where(platform_tokens.c.account == "x-unrevoked")).first()
            is None
        )
        (entry,) = [
            e for e in entries_for(connection, "reply_account", "x-unrevoked") if e.action.endswith("disconnect")
        ]
    assert entry.detail["revoked_on_x"] is False
    with pytest.raises(NotFound, match="'x-unrevoked' is not connected"):
        reply_accounts.disconnect(seeded.engine, ADMIN, config, "x-unrevoked", ENV)


def test_the_settings_page_is_admin_only_and_lists_reply_accounts(seeded: Seeded, x_api: ReplayServer) -> None:
    app = create_app(seeded.engine, configured(x_api, "x-page"), rate_limit_per_minute=100_000)
    pages = TestClient(app)
    for role, expected in ((Role.service, 403), (Role.admin, 200)):
        pages.cookies.clear()
        pages.cookies.set("overheard_login_csrf", "c")
        signed = pages.post("/login", data={"token": seeded.tokens[role], "csrf": "c"})
        assert signed.status_code in (200, 303), signed.text
        answer = pages.get("/settings/accounts")
        assert answer.status_code == expected
    assert "x-page" in answer.text and "Connect X account" in answer.text


def test_a_browser_back_from_x_without_its_strict_cookie_reloads_the_callback_once_then_signs_in(
    seeded: Seeded, x_api: ReplayServer
) -> None:
    pages = TestClient(create_app(seeded.engine, configured(x_api, "x-cookie"), rate_limit_per_minute=100_000))

    arriving = pages.get("/settings/accounts/x/callback?state=s1&code=c1", follow_redirects=False)
    again = pages.get("/settings/accounts/x/callback?state=s1&code=c1&again=1", follow_redirects=False)

    assert arriving.status_code == 200  # a same-site reload, which sends the SameSite=Strict session cookie
    assert 'content="0;url=/settings/accounts/x/callback?state=s1&amp;code=c1&amp;again=1"' in arriving.text
    assert again.status_code == 303 and again.headers["location"].startswith("/login?next=")
