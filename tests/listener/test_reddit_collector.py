"""Reddit search and listings, against recorded PRAW cassettes on 127.0.0.1."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from listener.base import SourceError
from listener.http import Http
from listener.reddit import RedditCollector, app_access_token
from tests.listener.replay import OWN_FIXTURES, RECORDED_FIXTURES, ReplayServer, Reply

RECORDED = RECORDED_FIXTURES / "reddit"
SEARCH = RECORDED / "TestSubreddit.test_search/001_GET_r_all_search"
ALL_NEW = RECORDED / "TestSubredditStreams.test_submissions/001_GET_r_all_new"
COMMENTS = RECORDED / "TestSubredditListings.test_comments/001_GET_r_askreddit_comments"
DELETED = RECORDED / "TestComment.test_refresh__deleted_comment/001_GET_api_info"
LAST_PAGE = OWN_FIXTURES / "reddit/new_last_page.json"
JSON = "application/json; charset=UTF-8"


def test_search_results_become_mentions_with_title_and_score(server: ReplayServer, http: Http) -> None:
    server.add("/r/all/search.json", Reply.recorded(SEARCH))
    collector = RedditCollector(http, name="reddit:praw", query="praw AND (oauth OR search)", base_url=server.base_url)

    [page] = list(collector.sweep(None))

    assert len(page.mentions) == 6
    first = page.mentions[0]
    assert first.external_id == "t3_3gpbiu"
    assert first.title.startswith("[PRAW][OAuth2Util] Problem using get_banned()")
    assert first.text.startswith("# solved")  # selftext as written (raw_json=1: no HTML escaping)
    assert first.author.handle == "dClauzel"
    assert (
        first.url == "https://www.reddit.com/r/redditdev/comments/3gpbiu/prawoauth2util_problem_using_get_banned_raise/"
    )
    assert first.created_at == datetime(2015, 8, 12, 9, 8, 34, tzinfo=UTC)
    assert (first.engagement.score, first.engagement.replies) == (0, 21)
    assert first.thread_id == "t3_3gpbiu"
    assert page.mentions[-1].language == "ja"  # detected offline: Reddit gives no language

    [request] = server.requests_to("/r/all/search.json")
    assert request.param("q") == "praw AND (oauth OR search)"
    assert (request.param("sort"), request.param("restrict_sr"), request.param("raw_json")) == ("new", "False", "1")


def test_listing_pages_with_after_until_the_last_page(server: ReplayServer, http: Http) -> None:
    server.add("/r/all/new.json", Reply.recorded(ALL_NEW))
    server.add("/r/all/new.json", Reply.file(LAST_PAGE, JSON), query={"after": "t3_5jo10c"})
    collector = RedditCollector(http, name="reddit:all", subreddit="all", base_url=server.base_url)

    pages = list(collector.sweep("1482370000"))

    assert [len(p.mentions) for p in pages] == [100, 2]  # the removed post is skipped, not a mention
    assert pages[-1].rejected == []
    assert pages[-1].next_cursor == "1482373050"  # created_utc of the newest post
    assert [r.param("after") for r in server.requests_to("/r/all/new.json")] == [None, "t3_5jo10c"]


def test_sweep_stops_at_the_floor_of_the_last_sweep(server: ReplayServer, http: Http) -> None:
    server.add("/r/all/new.json", Reply.recorded(ALL_NEW))
    collector = RedditCollector(http, name="reddit:all", subreddit="all", base_url=server.base_url)

    [page] = list(collector.sweep("1482373036"))

    floor = datetime.fromtimestamp(1482373036, tz=UTC)
    assert page.mentions and min(m.created_at for m in page.mentions) == floor  # equal seconds fetched again
    assert len(page.mentions) < 100
    assert len(server.requests_to("/r/all/new.json")) == 1


def test_page_limit_saves_the_after_position_to_resume_the_backlog(server: ReplayServer, http: Http) -> None:
    server.add("/r/all/new.json", Reply.recorded(ALL_NEW))
    server.add("/r/all/new.json", Reply.file(LAST_PAGE, JSON), query={"after": "t3_5jo10c"})
    collector = RedditCollector(http, name="reddit:all", subreddit="all", base_url=server.base_url, max_pages=1)

    [first] = list(collector.sweep("1482370000"))
    assert json.loads(first.next_cursor or "") == {
        "floor": "1482370000",
        "resume": "t3_5jo10c",
        "ceiling": "1482373050",
    }

    [backlog] = list(collector.sweep(first.next_cursor))
    assert len(backlog.mentions) == 2
    assert backlog.next_cursor == "1482373050"


def test_comments_listing_links_each_comment_to_its_post(server: ReplayServer, http: Http) -> None:
    server.add("/r/askreddit/comments.json", Reply.recorded(COMMENTS))
    collector = RedditCollector(
        http, name="reddit:askreddit", subreddit="askreddit", comments=True, base_url=server.base_url, max_pages=1
    )

    [page] = list(collector.sweep(None))

    comment = page.mentions[0]
    assert comment.external_id == "t1_d4y8bdp"
    assert comment.text == "great, life is so much better when you can do what you enjoy for a living"
    assert (comment.reply_to_id, comment.thread_id) == ("t3_4r4inc", "t3_4r4inc")
    assert comment.title == '[Serious] To anyone who "followed their dreams", how has it panned out?'


def test_deleted_comments_are_skipped(server: ReplayServer, http: Http) -> None:
    server.add("/r/askreddit/comments.json", Reply.recorded(DELETED))
    collector = RedditCollector(
        http, name="reddit:askreddit", subreddit="askreddit", comments=True, base_url=server.base_url
    )

    [page] = list(collector.sweep(None))

    assert page.mentions == [] and page.rejected == []


def test_oauth_requests_carry_the_token_and_drop_the_json_suffix(server: ReplayServer, http: Http) -> None:
    server.add("/r/all/search", Reply.recorded(SEARCH))
    collector = RedditCollector(
        http, name="reddit:praw", query="praw", base_url=server.base_url, access_token="<ACCESS_TOKEN>"
    )

    list(collector.sweep(None))

    assert server.requests_to("/r/all/search")[0].headers["authorization"] == "Bearer <ACCESS_TOKEN>"


def test_html_error_page_instead_of_a_listing_fails_the_sweep(server: ReplayServer, http: Http) -> None:
    server.add("/r/all/search.json", Reply.file(OWN_FIXTURES / "http/page.html", "text/html"))
    collector = RedditCollector(http, name="reddit:praw", query="praw", base_url=server.base_url)

    with pytest.raises(SourceError, match=r"reddit:praw: .*content type text/html"):
        list(collector.sweep(None))


def test_a_crash_between_pages_loses_nothing_when_the_sweep_is_run_again(server: ReplayServer, http: Http) -> None:
    server.add("/r/all/new.json", Reply.recorded(ALL_NEW))
    server.add("/r/all/new.json", Reply(503), query={"after": "t3_5jo10c"})
    collector = RedditCollector(http, name="reddit:all", subreddit="all", base_url=server.base_url)
    stored: dict[str, object] = {}

    sweep = collector.sweep("1482370000")
    stored.update((m.external_id, m) for m in next(sweep).mentions)
    with pytest.raises(SourceError, match=r"HTTP 503.*gave up after 5 attempts"):
        next(sweep)

    # The shell saved no cursor for the failed sweep; once Reddit recovers, the same sweep runs again.
    server.add("/r/all/new.json", Reply.file(LAST_PAGE, JSON), query={"after": "t3_5jo10c", "limit": "100"})
    pages = list(collector.sweep("1482370000"))
    stored.update((m.external_id, m) for p in pages for m in p.mentions)

    assert len(stored) == 102  # every post once: the upsert key makes the repeated first page harmless
    assert pages[-1].next_cursor == "1482373050"


def test_app_token_is_fetched_with_client_credentials(server: ReplayServer, http: Http) -> None:
    token_reply = Reply.recorded(RECORDED / "TestSubreddit.test_search/000_POST_api_v1_access_token")
    server.add("/api/v1/access_token", token_reply, method="POST")

    token, lifetime = app_access_token(http, "my-client-id", "my-secret", base_url=server.base_url)

    assert (token, lifetime) == ("<ACCESS_TOKEN>", 3600.0)
    [request] = server.requests_to("/api/v1/access_token")
    assert request.body == b"grant_type=client_credentials"
    assert request.headers["authorization"] == "Basic bXktY2xpZW50LWlkOm15LXNlY3JldA=="


def test_an_overlap_window_reads_on_past_the_floor_for_posts_indexed_late(server: ReplayServer, http: Http) -> None:
    server.add("/r/all/new.json", Reply.recorded(ALL_NEW))
    collector = RedditCollector(http, name="reddit:all", subreddit="all", base_url=server.base_url, overlap_s=10)

    [page] = list(collector.sweep("1482373036"))

    oldest = min(m.created_at for m in page.mentions)
    assert datetime.fromtimestamp(1482373026, tz=UTC) <= oldest < datetime.fromtimestamp(1482373036, tz=UTC)
