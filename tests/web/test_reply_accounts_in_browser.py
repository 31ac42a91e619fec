"""Settings → Reply accounts in a real browser: an admin connects the brand's X account (OAuth 2.0 PKCE; the local
replay server plays X's authorize page by sending the browser straight back with a code, then answers the token and
users/me requests as recorded in tests/fixtures/recorded/x_oauth and twitter_x), and a reply sent on an X mention
goes out with the stored token and appears on the thread."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from cryptography.fernet import Fernet
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from enrichers.replies import ReplyAccount
from overheard.api import create_app
from storage.schema import mentions, platform_tokens, reply_records, routes
from storage.tokens import Role
from tests.api.seed import DEMO_CONFIG
from tests.listener.replay import RECORDED_FIXTURES, ReplayServer, Reply, start_server
from tests.web.browser import ACTION_TIMEOUT_MS, SCREENSHOTS, LiveApp, serving, shot, sign_in

pytestmark = pytest.mark.browser

DOC_ACCESS = "Q0Mzb0VhZ0V5dmNXSTEyNER2MFNfVW50RzdXdTN6STFxQlVkTGhTc1lCdlBiOjE2MjIxNDc3NDM5MTQ6MToxOmF0OjE"
ENV = {
    "OVERHEARD_REPLY_TOKEN_KEY": Fernet.generate_key().decode(),
    "OVERHEARD_TEST_X_CLIENT_ID": "rG9n6402A3dbUJKzXTNX4oWHJ",
    "OVERHEARD_TEST_X_CLIENT_SECRET": "x-client-secret",
}


@pytest.fixture(scope="module")
def x_api() -> Iterator[ReplayServer]:
    server, httpd = start_server()
    server.add_redirect_back(
        "/i/oauth2/authorize",
        code="VGNibzFWSWREZm01bjN1N3dicWlNUG1oa2xRRVNNdmVHelJGY2hPWGxNd2dxOjE2MjIxNjA4MjU4MjU6MToxOmFjOjE",
    )
    server.add("/2/oauth2/token", Reply.recorded(RECORDED_FIXTURES / "x_oauth/token_code"), method="POST")
    server.add("/2/users/me", Reply.recorded(RECORDED_FIXTURES / "twitter_x/v2/test_client_get_me/000_GET_2_users_me"))
    server.add("/2/tweets", Reply.recorded(RECORDED_FIXTURES / "x_reply/post_tweet"), method="POST")
    yield server
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(scope="module")
def accounts_app(live_app: LiveApp, x_api: ReplayServer) -> Iterator[LiveApp]:
    account = ReplyAccount.model_validate(
        {
            "platform": "x",
            "secret_env": "OVERHEARD_TEST_UNSET_X_TOKEN",  # nothing there: the reply can only go out with the connection
            "client_id_env": "OVERHEARD_TEST_X_CLIENT_ID",
            "client_secret_env": "OVERHEARD_TEST_X_CLIENT_SECRET",
            "base_url": x_api.base_url,
            "authorize_url": x_api.url("/i/oauth2/authorize"),
        }
    )
    config = DEMO_CONFIG.model_copy(
        update={
            "reply_accounts": {"lumora-x-oauth": account},
            "http": DEMO_CONFIG.http.model_copy(update={"allow_networks": ("127.0.0.1/32",)}),
        }
    )
    with pytest.MonkeyPatch.context() as env:
        for name, value in ENV.items():
            env.setenv(name, value)
        env.delenv("OVERHEARD_TEST_UNSET_X_TOKEN", raising=False)
        with serving(create_app(live_app.seeded.engine, config, rate_limit_per_minute=100_000)) as url:
            yield LiveApp(url, live_app.seeded)


@pytest.fixture
def tab(browser: Browser, accounts_app: LiveApp, request: pytest.FixtureRequest) -> Iterator[Page]:
    context = browser.new_context(base_url=accounts_app.url, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(ACTION_TIMEOUT_MS)
    page = context.new_page()
    yield page
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{request.node.name}.png"), full_page=True)
    context.close()


def test_an_admin_connects_the_x_account_and_a_reply_goes_out_with_its_token_onto_the_thread(
    tab: Page, accounts_app: LiveApp, x_api: ReplayServer
) -> None:
    sign_in(tab, accounts_app, Role.admin)
    tab.get_by_role("link", name="Reply accounts").click()
    row = tab.locator('tr[data-account="lumora-x-oauth"]')
    expect(row).to_contain_text("not connected")

    row.get_by_role("button", name="Connect X account").click()
    tab.get_by_role("link", name="Continue on X").click()  # → X's authorize page → back here with a code
    expect(tab.get_by_role("status")).to_contain_text("lumora-x-oauth is connected as @TweepyDev")
    expect(row.locator(".handle")).to_have_text("@TweepyDev")
    shot(tab, "reply_account_connected")
    [authorize] = x_api.requests_to("/i/oauth2/authorize")
    assert authorize.param("code_challenge_method") == "S256"
    assert authorize.param("redirect_uri") == f"{accounts_app.url}/settings/accounts/x/callback"
    with accounts_app.seeded.engine.connect() as connection:
        stored = connection.execute(select(platform_tokens).where(platform_tokens.c.account == "lumora-x-oauth")).one()
        x = connection.execute(
            select(mentions.c.id, mentions.c.external_id)
            .join(routes, routes.c.mention_id == mentions.c.id)
            .where(mentions.c.source == "x", routes.c.team == "customer_service", routes.c.status == "open")
            .order_by(mentions.c.id.desc())
        ).first()
    assert stored.handle == "TweepyDev" and DOC_ACCESS not in stored.access_token
    assert x is not None

    text = "Thanks for flagging this; the fix ships tonight."
    tab.goto(f"/mentions/{x.id}")
    tab.locator("#reply-text").fill(text)
    tab.get_by_role("button", name="Send reply").click()
    expect(tab.get_by_role("status")).to_contain_text("Reply sent on x from lumora-x-oauth")
    sent = tab.locator('li.reply-record[data-sent="yes"][data-platform="x"]', has_text=text)
    expect(sent).to_contain_text("admin-tester from lumora-x-oauth")
    [post] = [p for p in x_api.requests_to("/2/tweets") if json.loads(p.body)["text"] == text]
    assert post.headers["authorization"] == f"Bearer {DOC_ACCESS}"
    assert json.loads(post.body)["reply"] == {"in_reply_to_tweet_id": x.external_id}
    with accounts_app.seeded.engine.connect() as connection:
        kept = connection.execute(
            select(reply_records.c.sent, reply_records.c.account).where(
                reply_records.c.mention_id == x.id, reply_records.c.text == text
            )
        ).one()
    assert kept.sent and kept.account == "lumora-x-oauth"
