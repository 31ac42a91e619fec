"""Mastodon hashtag timelines and status search, against recorded Mastodon.py cassettes on 127.0.0.1."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from listener.base import SourceError
from listener.http import Http
from listener.mastodon import MastodonCollector
from tests.listener.replay import OWN_FIXTURES, RECORDED_FIXTURES, ReplayServer, Reply

RECORDED = RECORDED_FIXTURES / "mastodon"
TAG_PAGE = RECORDED / "test_hashtag_tl/002_GET_api_v1_timelines_tag_hoot"
NEWER_PAGE = RECORDED / "test_fetch_next_previous/013_GET_api_v1_accounts_117020565966271181_statuses"
EMPTY = OWN_FIXTURES / "mastodon/empty_page.json"
SEARCH = OWN_FIXTURES / "mastodon/search_statuses.json"
JSON = "application/json; charset=utf-8"
RECORDED_HOST = "http://localhost:3000"


def hashtag(server: ReplayServer, http: Http, tag: str = "hoot", **options: Any) -> MastodonCollector:
    return MastodonCollector(http, name=f"mastodon:{tag}", base_url=server.base_url, hashtag=tag, **options)


def test_hashtag_timeline_status_becomes_a_mention_with_a_global_handle(server: ReplayServer, http: Http) -> None:
    server.add("/api/v1/timelines/tag/hoot", Reply.recorded(TAG_PAGE, rewrite={RECORDED_HOST: server.base_url}))

    [page] = list(hashtag(server, http).sweep(None))

    [mention] = page.mentions
    assert mention.external_id == server.url("/ap/users/117020566092212359/statuses/117020593741189701")
    assert mention.text == "#hoot (hashtag toot)"
    assert mention.author.handle == f"mastodonpy_test_2@{server.base_url.removeprefix('http://')}"
    assert mention.author.name is None  # empty display name
    assert mention.language == "ja"  # as the author's client said, not re-detected
    assert mention.created_at == datetime(2026, 8, 1, 13, 55, 55, 867000, tzinfo=UTC)
    assert page.next_cursor == "117020593741189701"
    # Replying from an account on this instance needs its local status id, kept with the instance it is valid on.
    assert mention.reply_ref is not None
    assert mention.reply_ref.status_id == "117020593741189701"
    assert mention.reply_ref.instance == server.base_url.removeprefix("http://")


def test_first_sweep_takes_only_the_newest_page(server: ReplayServer, http: Http) -> None:
    server.add("/api/v1/timelines/tag/hoot", Reply.recorded(TAG_PAGE, rewrite={RECORDED_HOST: server.base_url}))

    list(hashtag(server, http).sweep(None))

    [request] = server.requests_to("/api/v1/timelines/tag/hoot")
    assert request.param("min_id") is None
    assert request.param("limit") == "40"


def test_later_sweeps_page_forward_with_min_id_following_the_link_header(server: ReplayServer, http: Http) -> None:
    tag_path = "/api/v1/timelines/tag/acme"
    # The recorded account-timeline page (statuses newer than min_id), served under the tag path.
    newer = Reply.recorded(
        NEWER_PAGE,
        rewrite={f"{RECORDED_HOST}/api/v1/accounts/117020565966271181/statuses": server.url(tag_path)},
    )
    server.add(tag_path, newer, query={"min_id": "117020580481736214"})
    server.add(tag_path, Reply.file(EMPTY, JSON), query={"min_id": "117020580518794573"})

    pages = list(hashtag(server, http, tag="acme").sweep("117020580481736214"))

    assert [len(p.mentions) for p in pages] == [5, 0]
    assert [m.text for m in pages[0].mentions][:2] == ["Toot number 9!", "Toot number 8!"]
    assert pages[-1].next_cursor == "117020580518794573"
    assert [r.param("min_id") for r in server.requests_to(tag_path)] == ["117020580481736214", "117020580518794573"]


def test_stopping_at_the_page_limit_resumes_from_the_newest_stored(server: ReplayServer, http: Http) -> None:
    tag_path = "/api/v1/timelines/tag/acme"
    server.add(tag_path, Reply.recorded(NEWER_PAGE), query={"min_id": "117020580481736214"})

    [page] = list(hashtag(server, http, tag="acme", max_pages=1).sweep("117020580481736214"))

    assert page.next_cursor == "117020580518794573"  # everything up to it is on this page


def test_status_search_skips_boosts_and_records_bot_accounts(server: ReplayServer, http: Http) -> None:
    server.add("/api/v2/search", Reply.file(SEARCH, JSON))
    collector = MastodonCollector(
        http, name="mastodon:acme", base_url=server.base_url, search="acme", access_token="user-token"
    )

    [page] = list(collector.sweep(None))

    texts = [m.text for m in page.mentions]
    assert "you can't say that on television" in texts  # HTML entities decoded
    assert len(page.mentions) == 4  # three statuses and the bot; the boost is not a mention of its own
    bot = page.mentions[-1]
    assert bot.author.handle == "acmebot@bots.example"
    assert "bot" in bot.signals
    request = server.requests_to("/api/v2/search")[0]
    assert (request.param("q"), request.param("type")) == ("acme", "statuses")
    assert request.headers["authorization"] == "Bearer user-token"


def test_malformed_status_is_quarantined_and_the_page_goes_on(server: ReplayServer, http: Http) -> None:
    broken = OWN_FIXTURES / "mastodon/broken_status.json"
    server.add("/api/v1/timelines/tag/acme", Reply.file(broken, JSON))

    [page] = list(hashtag(server, http, tag="acme").sweep(None))

    assert [m.text for m in page.mentions] == ["Acme support answered in five minutes"]
    [rejected] = page.rejected
    assert rejected.reason == "missing field 'created_at'"


def test_missing_status_404_fails_the_sweep_without_moving_the_cursor(server: ReplayServer, http: Http) -> None:
    server.add("/api/v1/timelines/tag/acme", Reply.recorded(RECORDED / "test_status_missing/000_GET_api_v1_statuses_0"))

    with pytest.raises(SourceError, match="HTTP 404"):
        list(hashtag(server, http, tag="acme").sweep("1"))


def test_one_of_hashtag_or_search_is_required(http: Http) -> None:
    with pytest.raises(ValueError, match="exactly one of hashtag or search"):
        MastodonCollector(http, name="m", base_url="https://mastodon.social")


# --- search is newest first with no Link header: id windows down to the floor -----------------------------------

FLOOR = "117020500000000000"


def searcher(server: ReplayServer, http: Http, **options: Any) -> MastodonCollector:
    return MastodonCollector(http, name="mastodon:acme", base_url=server.base_url, search="acme", **options)


def test_a_full_search_page_is_followed_by_the_window_below_it_down_to_the_floor(
    server: ReplayServer, http: Http
) -> None:
    server.add("/api/v2/search", Reply.file(SEARCH, JSON))
    server.add(
        "/api/v2/search",
        Reply.file(OWN_FIXTURES / "mastodon/search_empty.json", JSON),
        query={"max_id": "117020590477318485"},
    )

    pages = list(searcher(server, http, page_size=5).sweep(FLOOR))

    requests = server.requests_to("/api/v2/search")
    assert [(r.param("min_id"), r.param("max_id")) for r in requests] == [
        (FLOOR, None),
        (FLOOR, "117020590477318485"),  # older than the oldest seen, newer than what is stored
    ]
    assert pages[-1].next_cursor == "117020600000000001"


def test_a_search_cut_by_the_page_limit_resumes_its_window_next_sweep(server: ReplayServer, http: Http) -> None:
    server.add("/api/v2/search", Reply.file(SEARCH, JSON))

    [page] = list(searcher(server, http, page_size=5, max_pages=1).sweep(FLOOR))
    assert json.loads(page.next_cursor or "") == {
        "floor": FLOOR,
        "resume": "117020590477318485",
        "ceiling": "117020600000000001",
    }

    list(searcher(server, http, page_size=5, max_pages=1).sweep(page.next_cursor))
    last = server.requests_to("/api/v2/search")[-1]
    assert (last.param("min_id"), last.param("max_id")) == (FLOOR, "117020590477318485")


def test_a_short_search_page_is_the_last(server: ReplayServer, http: Http) -> None:
    server.add("/api/v2/search", Reply.file(SEARCH, JSON))

    list(searcher(server, http).sweep(FLOOR))

    assert len(server.requests_to("/api/v2/search")) == 1


def test_each_mention_keeps_the_statuss_local_id_beside_its_uri(server: ReplayServer, http: Http) -> None:
    server.add("/api/v2/search", Reply.file(SEARCH, JSON))

    [page] = list(searcher(server, http).sweep(None))

    first = page.mentions[0]
    assert first.local_id == "117020593378945190"
    assert first.external_id.startswith("http://localhost:3000/ap/users/")


def test_a_tag_timeline_that_wants_a_token_says_which_setting_to_add(server: ReplayServer, http: Http) -> None:
    server.add(
        "/api/v1/timelines/tag/acme", Reply.file(OWN_FIXTURES / "mastodon/requires_token.json", JSON, status=401)
    )

    with pytest.raises(SourceError, match="access_token_env"):
        list(hashtag(server, http, tag="acme").sweep(None))
