"""RSS and Atom feeds, served from 127.0.0.1."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from listener.base import SourceError
from listener.http import Http
from listener.rss import FeedCollector
from tests.listener.replay import OWN_FIXTURES, ReplayServer, Reply

FIX = OWN_FIXTURES / "rss"
RSS = "application/rss+xml; charset=utf-8"
ATOM = "application/atom+xml"


def feed(server: ReplayServer, http: Http, path: str = "/feed.rss", **options: Any) -> FeedCollector:
    return FeedCollector(http, name="rss:news", url=server.url(path), **options)


def test_rss_items_become_mentions_and_items_without_any_id_are_quarantined(server: ReplayServer, http: Http) -> None:
    server.add("/feed.rss", Reply.file(FIX / "news.rss", RSS))

    [page] = list(feed(server, http).sweep(None))

    recall, globex = page.mentions
    assert recall.external_id == "https://news.example/2026/11/22/acme-kettle-recall"
    assert recall.title == "Acme recalls 40,000 kettles after lid fault"
    assert (
        recall.text == "Acme says the lids can open while boiling.\n\nOwners can ask for a refund & a free replacement."
    )
    assert recall.author.handle == "Priya Shah"
    assert recall.language == "en"  # the channel's en-gb
    assert recall.created_at == datetime(2026, 11, 22, 17, 30, tzinfo=UTC)
    assert globex.external_id == f"{server.base_url.removeprefix('http://')}:news-88213"  # non-URI guid qualified
    assert globex.author.handle == "Example Tech News"  # no item author: the feed speaks
    [rejected] = page.rejected
    assert rejected.reason == "ValueError: entry has neither an id (guid) nor a link"


def test_google_alert_links_are_unwrapped_and_html_titles_flattened(server: ReplayServer, http: Http) -> None:
    server.add("/alerts.atom", Reply.file(FIX / "google_alert.atom", ATOM))

    [page] = list(feed(server, http, "/alerts.atom").sweep(None))

    [alert] = page.mentions
    assert alert.url == "https://reviews.example/acme-kettle-2"
    assert alert.title == "Acme kettle review: fast, loud and a lid that pops"
    assert alert.external_id == "tag:google.com,2013:googlealerts/feed:13270478245296338312"
    assert alert.author.handle == "Google Alert - acme kettle"


def test_entries_handed_on_last_time_are_not_handed_on_again(server: ReplayServer, http: Http) -> None:
    server.add("/feed.rss", Reply.file(FIX / "news.rss", RSS))
    collector = feed(server, http)

    [first] = list(collector.sweep(None))
    [second] = list(collector.sweep(first.next_cursor))

    assert len(first.mentions) == 2
    assert second.mentions == []


def test_conditional_get_uses_the_saved_validators_and_304_changes_nothing(server: ReplayServer, http: Http) -> None:
    tagged = Reply.file(
        FIX / "news.rss", RSS, headers={"ETag": '"v1"', "Last-Modified": "Sun, 22 Nov 2026 18:00:00 GMT"}
    )
    server.add("/feed.rss", tagged, Reply(304, (("ETag", '"v1"'),)))
    collector = feed(server, http)

    [first] = list(collector.sweep(None))
    [unchanged] = list(collector.sweep(first.next_cursor))

    assert json.loads(first.next_cursor or "")["etag"] == '"v1"'
    second_request = server.requests_to("/feed.rss")[1]
    assert second_request.headers["if-none-match"] == '"v1"'
    assert second_request.headers["if-modified-since"] == "Sun, 22 Nov 2026 18:00:00 GMT"
    assert unchanged.mentions == [] and unchanged.next_cursor == first.next_cursor


def test_paged_feeds_follow_rel_next(server: ReplayServer, http: Http) -> None:
    server.add("/blog/feed", Reply.file(FIX / "paged_page1.atom", ATOM))
    server.add("/blog/feed", Reply.file(FIX / "paged_page2.atom", ATOM), query={"page": "2"})

    pages = list(feed(server, http, "/blog/feed").sweep(None))

    assert [m.title for p in pages for m in p.mentions] == [
        "Post-mortem: the November 20 outage",
        "How we rebuilt the Acme status page",
    ]


def test_truncated_feed_fails_the_sweep(server: ReplayServer, http: Http) -> None:
    server.add("/feed.rss", Reply.file(FIX / "truncated.rss", RSS))

    with pytest.raises(SourceError, match="not a readable feed"):
        list(feed(server, http).sweep(None))


def test_html_page_where_a_feed_was_expected_fails_the_sweep(server: ReplayServer, http: Http) -> None:
    server.add("/feed.rss", Reply.file(OWN_FIXTURES / "http/page.html", "text/html"))

    with pytest.raises(SourceError, match="content type text/html"):
        list(feed(server, http).sweep(None))


def test_links_that_are_not_http_are_cleared_and_the_reason_kept_as_a_signal(server: ReplayServer, http: Http) -> None:
    server.add("/hostile.rss", Reply.file(FIX / "hostile_links.rss", RSS))

    [page] = list(feed(server, http, "/hostile.rss").sweep(None))

    script, data, plain = page.mentions
    assert (script.url, data.url, plain.url) == (None, None, "https://news.example/2026/11/22/lumora")
    assert "unsafe_url:javascript" in script.signals and "unsafe_url:data" in data.signals
    assert all(m.author.profile_url is None for m in page.mentions)  # the channel's javascript: link
    assert "unsafe_profile_url:javascript" in plain.signals
    assert not page.rejected, "the posts are kept; only their links are not"
