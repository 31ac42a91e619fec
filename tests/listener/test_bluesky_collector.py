"""Bluesky post search, against the recorded bskyr searchPosts cassette on 127.0.0.1."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from listener.base import SourceError
from listener.bluesky import BlueskyCollector, BlueskySession, create_session
from listener.http import Http, HttpError
from tests.listener.replay import OWN_FIXTURES, RECORDED_FIXTURES, FakeTime, ReplayServer, Reply

SEARCH = "/xrpc/app.bsky.feed.searchPosts"
RECORDED = RECORDED_FIXTURES / "bluesky/bskyr_vcr/f_search/000_GET_xrpc_app_bsky_feed_searchPosts"
LAST_PAGE = OWN_FIXTURES / "bluesky/search_last_page.json"
JSON = "application/json; charset=utf-8"
NEWEST = "2025-05-19T17:10:09.561Z"  # the newest post's createdAt (before its indexedAt), to the ms


def collector(server: ReplayServer, http: Http, **options: Any) -> BlueskyCollector:
    return BlueskyCollector(
        http, name="bluesky:redistricting", search="redistricting", base_url=server.base_url, **options
    )


def test_search_posts_become_mentions(server: ReplayServer, http: Http) -> None:
    server.add(SEARCH, Reply.recorded(RECORDED))

    [page] = list(collector(server, http, max_pages=1).sweep(None))

    assert len(page.mentions) == 21  # 25 posts, 4 of authors who opted out of logged-out visibility
    first = page.mentions[0]
    assert first.external_id == "at://did:plc:kkergqgbhb56ptpwj2wenkje/app.bsky.feed.post/3lpk2u6qo222m"
    assert first.url == "https://bsky.app/profile/socpaperbot.bsky.social/post/3lpk2u6qo222m"
    assert first.author.name == "Sociology papers (journals + SocArXiv)"
    assert first.text.startswith("Ends Versus Means: Public Opinion on Congressional Redistricting")
    assert first.created_at == datetime(2025, 5, 19, 17, 10, 9, 561858, tzinfo=UTC)
    assert first.language == "en"  # no `langs` on the record: detected offline
    replies = [m for m in page.mentions if m.reply_to_id]
    assert replies and all(m.thread_id and m.thread_id.startswith("at://") for m in replies)
    # A reply names the post and its thread's root, each by uri and cid: both are kept.
    assert first.reply_ref is not None and first.reply_ref.cid and first.reply_ref.cid.startswith("bafyrei")
    assert (first.reply_ref.root_uri, first.reply_ref.root_cid) == (first.external_id, first.reply_ref.cid)
    for reply in replies:
        assert reply.reply_ref is not None and reply.reply_ref.root_uri == reply.thread_id
        assert reply.reply_ref.root_cid and reply.reply_ref.root_cid != reply.reply_ref.cid
    assert page.next_cursor == NEWEST

    [request] = server.requests_to(SEARCH)
    assert (request.param("q"), request.param("sort"), request.param("limit")) == ("redistricting", "latest", "100")


def test_pages_by_time_window_to_the_end_and_quarantines_broken_posts(server: ReplayServer, http: Http) -> None:
    server.add(SEARCH, Reply.recorded(RECORDED))
    server.add(SEARCH, Reply.file(LAST_PAGE, JSON), query={"until": "2025-05-19T00:16:50.192Z"})

    pages = list(collector(server, http).sweep("2025-05-18T00:00:00.000Z"))

    assert len(pages) == 2
    last = pages[-1]
    [bot] = last.mentions
    assert "bot" in bot.signals
    assert bot.reply_to_id == "at://did:plc:kkergqgbhb56ptpwj2wenkje/app.bsky.feed.post/3lpk2u6qo222m"
    [rejected] = last.rejected
    assert rejected.reason == "missing field 'text'"
    assert last.next_cursor == NEWEST
    requests = server.requests_to(SEARCH)
    assert [r.param("since") for r in requests] == ["2025-05-18T00:00:00.000Z"] * 2
    # the next page is the window below the oldest post seen (the boundary millisecond included), never the
    # opaque `cursor`, which logged-out search refuses and deep paging runs out of
    assert [r.param("until") for r in requests] == [None, "2025-05-19T00:16:50.192Z"]
    assert [r.param("cursor") for r in requests] == [None, None]


def test_page_limit_resumes_below_the_oldest_post_stored(server: ReplayServer, http: Http) -> None:
    server.add(SEARCH, Reply.recorded(RECORDED))

    [page] = list(collector(server, http, max_pages=1).sweep("2025-05-18T00:00:00.000Z"))

    saved = json.loads(page.next_cursor or "")
    assert saved == {"floor": "2025-05-18T00:00:00.000Z", "resume": "2025-05-19T00:16:50.191Z", "ceiling": NEWEST}

    server.add(SEARCH, Reply.file(LAST_PAGE, JSON), query={"until": "2025-05-19T00:16:50.192Z"})
    [backlog] = list(collector(server, http, max_pages=1).sweep(page.next_cursor))
    assert len(backlog.mentions) == 1
    assert backlog.next_cursor == NEWEST


def test_rate_limit_headers_make_the_next_request_wait(server: ReplayServer, http: Http, fake_time: FakeTime) -> None:
    reset_at = int(fake_time.now) + 60
    spent = Reply.recorded(RECORDED).with_headers(**{"RateLimit-Remaining": "0", "RateLimit-Reset": str(reset_at)})
    server.add(SEARCH, spent)
    server.add(SEARCH, Reply.file(LAST_PAGE, JSON), query={"cursor": "25"})

    list(collector(server, http).sweep("2025-05-18T00:00:00.000Z"))

    assert fake_time.now >= reset_at


def test_bad_query_error_fails_the_sweep_with_the_servers_words(server: ReplayServer, http: Http) -> None:
    bad = Reply(400, (("Content-Type", JSON),), b'{"error": "BadQueryString", "message": "query too long"}')
    server.add(SEARCH, bad)

    with pytest.raises(SourceError, match="HTTP 400"):
        list(collector(server, http).sweep(None))


def test_app_password_login_returns_the_access_token(server: ReplayServer, http: Http) -> None:
    login = "/xrpc/com.atproto.server.createSession"
    server.add(login, Reply.file(OWN_FIXTURES / "bluesky/create_session.json", JSON), method="POST")

    token = create_session(http, "overheard-test.bsky.social", "abcd-efgh-ijkl-mnop", pds_url=server.base_url)

    assert token == "eyJ0eXAiOiJhdCtqd3QiLCJhbGciOiJFUzI1NksifQ.test-access.signature"
    assert json.loads(server.requests_to(login)[0].body) == {
        "identifier": "overheard-test.bsky.social",
        "password": "abcd-efgh-ijkl-mnop",
    }


def test_refused_login_says_why(server: ReplayServer, http: Http) -> None:
    refused = Reply.file(OWN_FIXTURES / "bluesky/create_session_refused.json", JSON, status=401)
    server.add("/xrpc/com.atproto.server.createSession", refused, method="POST")

    with pytest.raises(HttpError, match="Invalid identifier or password"):
        create_session(http, "someone", "wrong", pds_url=server.base_url)


def test_an_overlap_window_asks_again_for_posts_indexed_late(server: ReplayServer, http: Http) -> None:
    server.add(SEARCH, Reply.recorded(RECORDED))
    server.add(SEARCH, Reply.file(LAST_PAGE, JSON), query={"until": "2025-05-19T00:16:50.192Z"})

    pages = list(collector(server, http, overlap_s=600).sweep("2025-05-18T00:00:00.000Z"))

    assert server.requests_to(SEARCH)[0].param("since") == "2025-05-17T23:50:00.000Z"
    assert pages[-1].next_cursor == NEWEST  # the floor itself does not move back


# --- an authenticated session on the account's PDS; follower counts from getProfiles ------------------------

LOGIN = "/xrpc/com.atproto.server.createSession"
REFRESH = "/xrpc/com.atproto.server.refreshSession"
PROFILES = "/xrpc/app.bsky.actor.getProfiles"


def _session(server: ReplayServer, http: Http, refresh: Reply | None = None) -> BlueskySession:
    # The DID document names the account's PDS; here it is this server under another name (localhost), so the
    # Host header shows which host each request went to.
    pds = server.base_url.replace("127.0.0.1", "localhost")
    login = Reply.file(OWN_FIXTURES / "bluesky/create_session_with_did_doc.json", JSON)
    server.add(LOGIN, login.rewritten({"https://morel.us-east.host.bsky.network": pds}), method="POST")
    refreshed = refresh or Reply.file(OWN_FIXTURES / "bluesky/refresh_session.json", JSON)
    server.add(REFRESH, refreshed, method="POST")
    return BlueskySession(http, "overheard-test.bsky.social", "abcd-efgh-ijkl-mnop", auth_url=server.base_url)


def test_a_session_logs_in_once_and_searches_on_the_accounts_pds(server: ReplayServer, http: Http) -> None:
    session = _session(server, http)
    server.add(SEARCH, Reply.recorded(RECORDED))
    searcher = BlueskyCollector(http, name="b", search="redistricting", session=session, max_pages=1)

    list(searcher.sweep(None))
    list(searcher.sweep(None))

    [login] = server.requests_to(LOGIN)
    assert login.headers["host"] == server.base_url.removeprefix("http://")  # logged in at bsky.social
    searches = server.requests_to(SEARCH)
    assert {r.headers["host"].split(":")[0] for r in searches} == {"localhost"}  # searched via the PDS
    assert {r.headers["authorization"] for r in searches} == {
        "Bearer eyJ0eXAiOiJhdCtqd3QiLCJhbGciOiJFUzI1NksifQ.test-access.signature"
    }


def test_the_session_is_refreshed_before_its_two_hours_run_out(
    server: ReplayServer, http: Http, fake_time: FakeTime
) -> None:
    session = _session(server, http)
    session.header()
    fake_time.now += 2 * 3600 - 5 * 60

    assert session.header() == {
        "Authorization": "Bearer eyJ0eXAiOiJhdCtqd3QiLCJhbGciOiJFUzI1NksifQ.test-access-2.signature"
    }
    [refresh] = server.requests_to(REFRESH)
    assert (
        refresh.headers["authorization"]
        == "Bearer eyJ0eXAiOiJyZWZyZXNoK2p3dCIsImFsZyI6IkVTMjU2SyJ9.test-refresh.signature"
    )
    assert len(server.requests_to(LOGIN)) == 1


def test_a_refused_refresh_logs_in_again(server: ReplayServer, http: Http, fake_time: FakeTime) -> None:
    refused = Reply.file(OWN_FIXTURES / "bluesky/create_session_refused.json", JSON, status=400)
    session = _session(server, http, refresh=refused)
    session.header()
    fake_time.now += 3 * 3600

    session.header()

    assert len(server.requests_to(LOGIN)) == 2


def test_follower_counts_come_from_get_profiles_in_batches(server: ReplayServer, http: Http) -> None:
    server.add(SEARCH, Reply.recorded(RECORDED))
    server.add(PROFILES, Reply.file(OWN_FIXTURES / "bluesky/get_profiles.json", JSON))

    [page] = list(collector(server, http, max_pages=1, profile_batch=10).sweep(None))

    asked = [r.query["actors"] for r in server.requests_to(PROFILES)]
    assert [len(a) for a in asked] == [10, 8]  # 18 authors, each asked for once
    assert len({did for batch in asked for did in batch}) == 18
    assert all(m.author.followers is not None and m.author.followers >= 1000 for m in page.mentions)


def test_profiles_are_asked_for_in_batches_of_25_by_default(server: ReplayServer, http: Http) -> None:
    assert collector(server, http).profile_batch == 25


def test_an_access_token_expired_early_is_renewed_and_the_page_asked_for_again(
    server: ReplayServer, http: Http
) -> None:
    session = _session(server, http)
    expired = Reply.file(OWN_FIXTURES / "bluesky/expired_token.json", JSON, status=400)
    server.add(SEARCH, expired, Reply.recorded(RECORDED))
    searcher = BlueskyCollector(http, name="b", search="redistricting", session=session, max_pages=1)

    [page] = list(searcher.sweep(None))

    assert page.mentions
    assert len(server.requests_to(SEARCH)) == 2
    assert len(server.requests_to(REFRESH)) == 1
