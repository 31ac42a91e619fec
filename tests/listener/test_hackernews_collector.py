"""Hacker News search through the Algolia API, replayed on 127.0.0.1."""

from __future__ import annotations

import json
from typing import Any

from listener.hackernews import HackerNewsCollector
from listener.http import Http
from tests.listener.replay import OWN_FIXTURES, ReplayServer, Reply

SEARCH = "/api/v1/search_by_date"
FIX = OWN_FIXTURES / "hackernews"
JSON = "application/json; charset=utf-8"


def collector(server: ReplayServer, http: Http, **options: Any) -> HackerNewsCollector:
    return HackerNewsCollector(http, name="hackernews:acme", search="acme", base_url=server.base_url, **options)


def serve_both_pages(server: ReplayServer) -> None:
    server.add(SEARCH, Reply.file(FIX / "search_page0.json", JSON), query={"page": "0"})
    server.add(SEARCH, Reply.file(FIX / "search_page1.json", JSON), query={"page": "1"})


def test_comments_and_stories_become_mentions_and_deleted_ones_are_skipped(server: ReplayServer, http: Http) -> None:
    serve_both_pages(server)

    first, second = list(collector(server, http).sweep("1794900000"))

    comment, story = first.mentions
    assert comment.text == 'Acme\'s status page said "all green" for an hour.\n\nTheir support did reply, eventually.'
    assert comment.title == "Acme Cloud outage post-mortem"
    assert (comment.reply_to_id, comment.thread_id) == ("41234555", "41234500")
    assert comment.url == "https://news.ycombinator.com/item?id=41234567"
    assert story.text == "https://acme.example/blog/post-mortem"  # a link story: its text is the link
    assert (story.engagement.score, story.engagement.replies) == (480, 212)
    assert first.rejected == []  # the deleted comment is skipped, not quarantined

    [ask] = second.mentions
    assert ask.text.startswith("Has anyone moved off Acme Cloud?")
    [rejected] = second.rejected
    assert rejected.reason == "missing field 'created_at_i'"
    assert second.next_cursor == "1795183390"


def test_requests_filter_by_kind_and_the_floor(server: ReplayServer, http: Http) -> None:
    serve_both_pages(server)

    list(collector(server, http).sweep("1794900000"))

    requests = server.requests_to(SEARCH)
    assert [r.param("page") for r in requests] == ["0", "1"]
    assert requests[0].param("tags") == "(story,comment)"
    assert requests[0].param("numericFilters") == "created_at_i>=1794900000"


def test_page_limit_resumes_with_an_upper_time_bound(server: ReplayServer, http: Http) -> None:
    serve_both_pages(server)

    [page] = list(collector(server, http, max_pages=1).sweep("1794900000"))
    assert json.loads(page.next_cursor or "") == {
        "floor": "1794900000",
        "resume": "1795166100",
        "ceiling": "1795183390",
    }

    list(collector(server, http, max_pages=1).sweep(page.next_cursor))
    assert server.requests_to(SEARCH)[-1].param("numericFilters") == "created_at_i>=1794900000,created_at_i<=1795166100"


def test_an_overlap_window_asks_again_for_posts_indexed_late_below_the_floor(server: ReplayServer, http: Http) -> None:
    serve_both_pages(server)

    list(collector(server, http, overlap_s=600).sweep("1794900000"))

    assert server.requests_to(SEARCH)[0].param("numericFilters") == "created_at_i>=1794899400"


def test_built_collectors_keep_the_late_indexing_overlap() -> None:
    from listener.base import BuildContext
    from listener.cursor import LATE_INDEXING_OVERLAP_S
    from listener.hackernews import HackerNewsSource, build
    from listener.normalise import Finishing

    context = BuildContext("s", Http(user_agent="t"), Finishing(), {"q": "acme"}, lambda _: None)
    [built] = build(HackerNewsSource(name="s", kind="hackernews"), context)
    assert isinstance(built, HackerNewsCollector) and built.overlap_s == LATE_INDEXING_OVERLAP_S > 0
