"""The service workspace in a real browser: the team's queue is every mention routed to it, in priority order; a
reply goes out in the customer's own channel (Mastodon, Bluesky, X, Reddit: local servers replaying recorded
answers, tests/fixtures/recorded/*_reply) and lands on the thread; teammates assign, note, use canned replies and
see who else is replying; noise (scams, the brand's own posts) stays out of the queues and the KPIs.

The app here is a second server over the same seeded database as `live_app`, configured with one reply account per
platform pointing at the replay server (secrets through `secret_env`). Each test checks the database, not only the
page, and picks its own mentions at run time.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import and_, func, or_, select, update

from enrichers.replies import ReplyAccount
from overheard.api import create_app
from storage.schema import mentions, reply_records, routes, status_history, verdicts
from storage.tokens import Role
from tests.api.seed import DEMO_CONFIG
from tests.listener.replay import RECORDED_FIXTURES, ReplayServer, Reply, start_server
from tests.web.browser import ACTION_TIMEOUT_MS, SCREENSHOTS, LiveApp, serving, shot, sign_in

pytestmark = pytest.mark.browser

RECORDED = RECORDED_FIXTURES
SERVICE = "customer_service"
SECRETS = {
    "OVERHEARD_TEST_MASTODON": "mastodon-token",
    "OVERHEARD_TEST_BLUESKY": "bluesky-app-password",
    "OVERHEARD_TEST_X": "x-user-token",
    "OVERHEARD_TEST_REDDIT": "reddit-user-token",
}


@pytest.fixture(scope="module")
def replay() -> Iterator[ReplayServer]:
    """Each platform's reply API, answering as recorded. X refuses the first post (HTTP 400), then takes the next."""
    server, httpd = start_server()
    server.add("/api/v2/search", Reply.recorded(RECORDED / "mastodon_reply/search_by_url"))
    server.add("/api/v1/statuses", Reply.recorded(RECORDED / "mastodon_reply/post_status"), method="POST")
    server.add(
        "/xrpc/com.atproto.server.createSession",
        Reply.recorded(RECORDED / "bluesky_reply/create_session"),
        method="POST",
    )
    server.add(
        "/xrpc/com.atproto.repo.createRecord", Reply.recorded(RECORDED / "bluesky_reply/create_record"), method="POST"
    )
    server.add(
        "/2/tweets",
        Reply.recorded(RECORDED / "x_reply/invalid_request"),
        Reply.recorded(RECORDED / "x_reply/post_tweet"),
        method="POST",
    )
    server.add("/api/comment", Reply.recorded(RECORDED / "reddit_reply/comment"), method="POST")
    yield server
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(scope="module")
def desk_app(live_app: LiveApp, replay: ReplayServer) -> Iterator[LiveApp]:
    accounts = {
        "lumora-mastodon": {"platform": "mastodon", "secret_env": "OVERHEARD_TEST_MASTODON"},
        "lumora-bluesky": {
            "platform": "bluesky",
            "secret_env": "OVERHEARD_TEST_BLUESKY",
            "handle": "lumora.bsky.social",
        },
        "lumora-x": {"platform": "x", "secret_env": "OVERHEARD_TEST_X", "cost_per_post": "0.01"},
        "lumora-reddit": {"platform": "reddit", "secret_env": "OVERHEARD_TEST_REDDIT"},
    }
    config = DEMO_CONFIG.model_copy(
        update={
            "reply_accounts": {
                name: ReplyAccount.model_validate({**a, "base_url": replay.base_url}) for name, a in accounts.items()
            },
            "http": DEMO_CONFIG.http.model_copy(update={"allow_networks": ("127.0.0.1/32",)}),
        }
    )
    with pytest.MonkeyPatch.context() as env:
        for name, value in SECRETS.items():
            env.setenv(name, value)
        app = create_app(live_app.seeded.engine, config, rate_limit_per_minute=100_000)
        with serving(app) as url:
            yield LiveApp(url, live_app.seeded)


def _tab(browser: Browser, desk_app: LiveApp) -> Page:
    context = browser.new_context(base_url=desk_app.url, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(ACTION_TIMEOUT_MS)
    return context.new_page()


@pytest.fixture
def tab(browser: Browser, desk_app: LiveApp, request: pytest.FixtureRequest) -> Iterator[Page]:
    page = _tab(browser, desk_app)
    yield page
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{request.node.name}.png"), full_page=True)
    page.context.close()


def _rows(desk_app: LiveApp, query: Any) -> list[Any]:
    with desk_app.seeded.engine.connect() as connection:
        return list(connection.execute(query))


_INTENT = func.coalesce(verdicts.c.human_intent, verdicts.c.intent)


def _open_service_routes(*conditions: Any) -> Any:
    return (
        select(mentions.c.id, mentions.c.source, mentions.c.external_id, mentions.c.status, routes.c.score, _INTENT)
        .join(routes, routes.c.mention_id == mentions.c.id)
        .join(verdicts, verdicts.c.mention_id == mentions.c.id)
        .where(routes.c.team == SERVICE, routes.c.status == "open", *conditions)
        .order_by(mentions.c.id)
    )


def _ids(page: Page, selector: str) -> list[int]:
    return [int(i) for i in page.locator(selector).evaluate_all("items => items.map(i => i.dataset.id)")]


# ---- the queue -------------------------------------------------------------------------------------------------


def test_a_complaint_the_model_read_as_other_but_routed_to_service_is_in_the_service_queue(
    tab: Page, desk_app: LiveApp
) -> None:
    others = _rows(desk_app, _open_service_routes(verdicts.c.intent == "other", verdicts.c.human_intent.is_(None)))
    assert others, "the demo routes some posts the model read as 'other' to customer service"
    target = others[0].id
    sign_in(tab, desk_app, Role.service)
    tab.goto("/queue?intent=other")
    card = tab.locator(f'li.queue-item[data-id="{target}"]')
    expect(card).to_be_visible()
    expect(card.locator(".badge.intent")).to_contain_text("other")  # the verdict is a label on the card
    assert set(tab.locator("li.queue-item").evaluate_all("i => i.map(x => x.dataset.intent)")) == {"other"}
    card.get_by_role("link", name="open").click()  # and service may open it: the scope is the route, not the intent
    expect(tab).to_have_url(re.compile(rf"/mentions/{target}$"))
    expect(tab.locator("#workspace")).to_be_visible()
    shot(tab, "service_queue_other")


def test_the_queue_follows_the_priority_score_with_its_parts_and_counts_per_team(tab: Page, desk_app: LiveApp) -> None:
    sign_in(tab, desk_app, Role.service)
    tab.goto("/queue")
    cards = tab.locator("li.queue-item")
    scores = [int(s) for s in cards.evaluate_all("cards => cards.map(c => c.dataset.score)")]
    assert len(scores) > 10
    assert scores == sorted(scores, reverse=True), "highest priority first"
    best = max(r.score for r in _rows(desk_app, _open_service_routes()) if r.score is not None)
    assert scores[0] == best
    first = cards.first
    parts = {}
    for name in ("intent", "severity", "reach", "contact", "waiting"):
        part = first.locator(f'li.part[data-part="{name}"]')
        expect(part).to_be_visible()
        parts[name] = float(part.get_attribute("data-points") or "nan")
    assert abs(sum(parts.values()) - scores[0]) <= 1.5, "the shown parts add up to the score"
    open_now = _rows(
        desk_app, select(func.count()).select_from(routes).where(routes.c.team == SERVICE, routes.c.status == "open")
    )
    expect(tab.locator('a.view-tab[data-view="open"] .count')).to_have_text(str(open_now[0][0]))

    tab.goto("/queue?language=de")  # every German complaint routed to service is visible, in German
    languages = set(tab.locator("li.queue-item").evaluate_all("i => i.map(x => x.dataset.language)"))
    assert languages and all(code.startswith("de") for code in languages)

    tab.goto("/queue?view=overdue")  # the demo's posts were written weeks ago: targets counted from then are overdue
    states = set(tab.locator("li.queue-item").evaluate_all("i => i.map(x => x.dataset.dueState)"))
    assert states == {"overdue"}


# ---- replying in the customer's channel ------------------------------------------------------------------------


def _pick(desk_app: LiveApp, source: str, taken: set[int]) -> Any:
    found = _rows(
        desk_app, _open_service_routes(mentions.c.source == source, mentions.c.status.in_(("new", "assigned")))
    )
    found = [r for r in found if r.id not in taken]
    assert found, f"the demo routes an open {source} mention to customer service"
    return found[0]


def _send(tab: Page, mention_id: int, text: str) -> None:
    tab.goto(f"/mentions/{mention_id}")
    tab.locator("#reply-text").fill(text)
    tab.get_by_role("button", name="Send reply").click()
    tab.wait_for_load_state()


def _form(body: bytes) -> dict[str, str]:
    return {k: v[-1] for k, v in parse_qs(body.decode()).items()}


def test_a_reply_to_each_platform_lands_on_the_thread_and_a_failed_one_keeps_its_draft(
    tab: Page, desk_app: LiveApp, replay: ReplayServer
) -> None:
    taken: set[int] = set()
    picked = {}
    for source in ("x", "mastodon", "bluesky", "reddit"):
        picked[source] = _pick(desk_app, source, taken)
        taken.add(picked[source].id)
    with desk_app.seeded.engine.begin() as connection:  # what the Bluesky collector keeps for replying
        connection.execute(
            update(mentions).where(mentions.c.id == picked["bluesky"].id).values(reply_ref={"cid": "bafyreiparent"})
        )
    sign_in(tab, desk_app, Role.service)

    # X: the per-post cost shows before sending; X refuses the first attempt, and the draft is kept with why.
    x = picked["x"]
    tab.goto(f"/mentions/{x.id}")
    expect(tab.locator("p.cost")).to_contain_text("0.01 USD per post")
    draft = "Sorry about the trouble, we are looking into it now."
    _send(tab, x.id, draft)
    expect(tab.get_by_role("status")).to_contain_text("Reply not sent: X refused the reply (HTTP 400")
    expect(tab.locator("p.draft-reason")).to_contain_text("The 'query' parameter is required.")
    expect(tab.locator("#reply-text")).to_have_value(draft)
    expect(tab.locator('li.reply-record[data-sent="no"]')).to_contain_text("service-tester")
    shot(tab, "reply_failed_draft_kept")
    tab.get_by_role("button", name="Send reply").click()  # the kept draft, sent again: X takes it this time
    expect(tab.get_by_role("status")).to_contain_text("Reply sent on x from lumora-x")
    [tweet] = [json.loads(s.body) for s in replay.requests_to("/2/tweets")][-1:]
    assert tweet == {"text": draft, "reply": {"in_reply_to_tweet_id": x.external_id}}

    texts = {
        "mastodon": "Thanks for telling us; a fix is rolling out.",
        "bluesky": "We're on it, sorry for the wait.",
        "reddit": "Hi from Lumora support: we have sent you a message.",
    }
    for source, text in texts.items():
        _send(tab, picked[source].id, text)
        expect(tab.get_by_role("status")).to_contain_text(f"Reply sent on {source}")
        sent = tab.locator(f'li.reply-record[data-sent="yes"][data-platform="{source}"]')
        expect(sent).to_contain_text("service-tester from lumora-")
        expect(sent).to_contain_text(text)
    [status] = replay.requests_to("/api/v1/statuses")
    assert _form(status.body) == {"status": texts["mastodon"], "in_reply_to_id": "778"}  # resolved on our instance
    [record] = replay.requests_to("/xrpc/com.atproto.repo.createRecord")
    parent = json.loads(record.body)["record"]["reply"]["parent"]
    assert parent == {"uri": picked["bluesky"].external_id, "cid": "bafyreiparent"}
    [comment] = replay.requests_to("/api/comment")
    assert _form(comment.body)["thing_id"] == picked["reddit"].external_id
    assert comment.headers["authorization"] == f"bearer {SECRETS['OVERHEARD_TEST_REDDIT']}"

    kept = _rows(
        desk_app,
        select(reply_records.c.mention_id, reply_records.c.sent, reply_records.c.sent_by, mentions.c.status)
        .join(mentions, mentions.c.id == reply_records.c.mention_id)
        .where(reply_records.c.mention_id.in_(taken)),
    )
    assert sorted((r.mention_id, r.sent) for r in kept) == sorted([(x.id, False), *((i, True) for i in taken)])
    assert {r.sent_by for r in kept} == {"service-tester"}
    assert {r.status for r in kept} == {"replied"}


def test_no_reply_control_where_the_platform_takes_none(tab: Page, desk_app: LiveApp) -> None:
    feeds = (("rss", "review", "hackernews"),)
    rss = _rows(
        desk_app,
        select(mentions.c.id, mentions.c.source).where(mentions.c.source.in_(*feeds), mentions.c.url.is_not(None)),
    )
    sign_in(tab, desk_app, Role.admin)
    tab.goto(f"/mentions/{rss[0].id}")
    expect(tab.locator("p.no-reply")).to_contain_text("takes no replies through an API")
    expect(tab.locator("#reply-text")).to_have_count(0)
    expect(tab.locator("article a.reply")).to_have_text(f"Open on {rss[0].source} ↗")  # no "Reply on" promise


# ---- working together ------------------------------------------------------------------------------------------


def test_teammates_assign_note_use_canned_replies_and_see_who_else_is_replying(
    browser: Browser, tab: Page, desk_app: LiveApp
) -> None:
    target = _pick(desk_app, "x", set())  # X replies in the test above go to another mention or come later
    sign_in(tab, desk_app, Role.admin)
    tab.goto(f"/mentions/{target.id}")
    tab.locator("#reply-text").focus()  # the admin starts writing a reply…
    expect(tab.locator("#reply-text")).to_have_attribute("data-claimed", "yes")

    colleague = _tab(browser, desk_app)
    try:
        sign_in(colleague, desk_app, Role.service)
        colleague.goto(f"/mentions/{target.id}")
        expect(colleague.locator("#others-replying")).to_contain_text("admin-tester is replying")  # …and service sees

        colleague.get_by_label("Assign to teammate").fill("dana")
        colleague.get_by_role("button", name="Assign", exact=True).click()
        expect(colleague.get_by_role("status")).to_contain_text(f"Mention {target.id} assigned to dana")
        colleague.get_by_label("Note for the team").fill("Customer called the hotline too; order 4711.")
        colleague.get_by_role("button", name="Add note").click()
        expect(colleague.locator("li.note")).to_contain_text("service-tester: Customer called the hotline too")

        colleague.locator("summary", has_text="New canned reply").click()
        colleague.get_by_label("Name").fill("order ships")
        colleague.get_by_label("Text").fill("Hi {name}, your order {order_number} ships today.")
        colleague.get_by_role("button", name="Save canned reply").click()
        expect(colleague.get_by_role("status")).to_contain_text("Canned reply 'order ships' saved")
        colleague.get_by_role("button", name="Use canned reply").click()  # no order number yet: named, not sent
        expect(colleague.locator("p.canned-notice")).to_contain_text("Fill in order_number")
        colleague.get_by_label("Order number").fill("4711")
        colleague.get_by_role("button", name="Use canned reply").click()
        composed = colleague.locator("#reply-text").input_value()
        assert re.fullmatch(r"Hi \S+, your order 4711 ships today\.", composed), composed

        colleague.get_by_label("Status").select_option("snoozed")
        colleague.get_by_role("button", name="Set status").click()
        history = colleague.locator("ol.status-history")
        expect(history).to_contain_text("service-tester · assign")
        expect(history).to_contain_text("(dana)")
        expect(history).to_contain_text("assigned → snoozed")
        shot(colleague, "workspace_together")
    finally:
        colleague.context.close()
    changes = _rows(
        desk_app,
        select(status_history.c.action, status_history.c.to_status, status_history.c.assignee)
        .where(status_history.c.mention_id == target.id)
        .order_by(status_history.c.id),
    )
    assert [tuple(c) for c in changes][-2:] == [("assign", "assigned", "dana"), ("status", "snoozed", None)]


# ---- keeping noise out -----------------------------------------------------------------------------------------


def test_a_scam_post_is_flagged_with_its_reason_and_absent_from_the_kpis(tab: Page, desk_app: LiveApp) -> None:
    scams = _rows(desk_app, select(mentions.c.id, mentions.c.flag_rule).where(mentions.c.flag == "spam"))
    airdrops = [s.id for s in scams if s.flag_rule == "crypto_airdrop"]
    assert airdrops, "the demo's crypto airdrop posts are flagged as spam"
    assert not _rows(desk_app, select(routes.c.id).where(routes.c.mention_id.in_([s.id for s in scams])))
    sign_in(tab, desk_app, Role.admin)
    tab.goto("/queue/flagged?kind=spam")
    card = tab.locator(f'li.flagged[data-id="{airdrops[0]}"]')
    expect(card.locator("p.reasons")).to_contain_text("crypto airdrop")

    latest = _rows(desk_app, select(func.max(mentions.c.created_at)))[0][0]
    end = (latest + timedelta(days=1)).date()
    tab.goto(f"/dashboard?end={end.isoformat()}&days=90")
    shown = int(tab.locator(".kpi", has_text="Mentions").locator(".value").inner_text().replace(",", ""))
    start = latest.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1) - timedelta(days=90)
    period = and_(mentions.c.created_at >= start, mentions.c.created_at < start + timedelta(days=90))
    everything = _rows(desk_app, select(func.count()).select_from(mentions).where(period))[0][0]
    counted = _rows(
        desk_app,
        select(func.count())
        .select_from(mentions)
        .where(period, or_(mentions.c.flag.is_(None), mentions.c.flag != "spam")),
    )[0][0]
    assert shown == counted < everything


def test_the_brands_own_post_is_not_routed_as_a_complaint(tab: Page, desk_app: LiveApp) -> None:
    owned = _rows(desk_app, select(mentions.c.id, mentions.c.author_handle).where(mentions.c.flag == "owned"))
    assert any(o.author_handle.lower() == "lumorahelp" for o in owned)
    ids = [o.id for o in owned]
    assert not _rows(desk_app, select(routes.c.id).where(routes.c.mention_id.in_(ids), routes.c.team == SERVICE))
    sign_in(tab, desk_app, Role.admin)
    tab.goto("/queue?team=customer_service")
    assert not set(ids) & set(_ids(tab, "li.queue-item"))
    tab.goto("/queue/flagged?kind=owned")
    expect(tab.locator(f'li.flagged[data-id="{ids[0]}"] p.reasons')).to_contain_text("the brand's own x account")
