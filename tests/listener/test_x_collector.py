"""X recent search via tweepy, against recorded X API v2 responses replayed on 127.0.0.1."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from listener.base import Page, SourceError
from listener.http import Http
from listener.normalise import Finishing
from listener.query import QuerySet
from listener.x import XCollector, XUsage, snowflake_time
from tests.listener.replay import OWN_FIXTURES, RECORDED_FIXTURES, FakeTime, ReplayServer, Reply

SEARCH = "/2/tweets/search/recent"
TWEEPY_PAGE = RECORDED_FIXTURES / "twitter_x/v2/test_client_search_recent_tweets/000_GET_2_tweets_search_recent"
WITH_AUTHORS = RECORDED_FIXTURES / "twitter_x/pytwitter_testdata/apis/searches/search_tweets_query.json"
OLDER_PAGE = OWN_FIXTURES / "x/search_older_page.json"
JSON = "application/json; charset=utf-8"


@pytest.fixture(autouse=True)
def october_2022(fake_time: FakeTime) -> None:
    """The recorded tweets are from 7 October 2022; recent search reaches 7 days back from 'now'."""
    fake_time.now = datetime(2022, 10, 8, tzinfo=UTC).timestamp()


def collector(server: ReplayServer, http: Http, **options: Any) -> XCollector:
    defaults: dict[str, Any] = {"name": "x:tweepy", "query": "tweepy OR metrics", "bearer_token": "test-token"}
    return XCollector(http, base_url=server.base_url, **(defaults | options))


def sweep(c: XCollector, cursor: str | None = None) -> list[Page]:
    return list(c.sweep(cursor))


def test_tweets_with_expanded_authors_become_mentions(server: ReplayServer, http: Http) -> None:
    server.add(SEARCH, Reply.file(WITH_AUTHORS, JSON))

    [page] = sweep(collector(server, http))

    assert [m.external_id for m in page.mentions] == [
        "1276035977375477760",
        "1275882613572583424",
        "1275763727908798470",
        "1275653067283759104",
    ]
    first = page.mentions[0]
    assert first.author.handle == "happycamper"
    assert first.author.name == "Emily Waligoske 🏕"
    assert first.url == "https://x.com/happycamper/status/1276035977375477760"
    assert first.created_at == datetime(2020, 6, 25, 6, 14, 19, tzinfo=UTC)
    assert first.reply_to_id == "1275653067283759104"
    assert first.language == "en"
    assert page.mentions[2].language is None  # X says 'und' and the text is only handles and a link
    assert page.next_cursor == "1276035977375477760"  # meta.newest_id: nothing more to page


def test_search_asks_for_authors_metrics_and_excludes_retweets(server: ReplayServer, http: Http) -> None:
    server.add(SEARCH, Reply.file(WITH_AUTHORS, JSON))

    sweep(collector(server, http, query='tweepy -"rate limit"', language="en"))

    [request] = server.requests_to(SEARCH)
    assert request.param("query") == 'tweepy -"rate limit" -is:retweet lang:en'
    assert request.param("expansions") == "author_id"
    assert "public_metrics" in (request.param("tweet.fields") or "").split(",")
    assert "verified" in (request.param("user.fields") or "").split(",")
    assert request.param("max_results") == "100"
    assert request.headers["authorization"] == "Bearer test-token"
    assert request.headers["user-agent"].startswith("OverheardBot/")


def test_next_token_pages_until_the_last_page_and_cursor_is_the_newest_id(server: ReplayServer, http: Http) -> None:
    recorded = Reply.recorded(TWEEPY_PAGE)
    token = json.loads(recorded.body)["meta"]["next_token"]
    server.add(SEARCH, recorded)
    server.add(SEARCH, Reply.file(OLDER_PAGE, JSON), query={"next_token": token})

    pages = sweep(collector(server, http), cursor="1578500000000000000")

    assert len(pages) == 2
    assert [r.param("since_id") for r in server.requests_to(SEARCH)] == ["1578500000000000000"] * 2
    assert pages[-1].next_cursor == "1578516068309794817"
    older = pages[1].mentions[0]
    assert older.author.followers == 570000
    assert older.author.verified is True
    assert (older.engagement.likes, older.engagement.reposts, older.engagement.impressions) == (12, 3, 420)


def test_tweets_without_author_expansion_are_quarantined_with_the_reason(server: ReplayServer, http: Http) -> None:
    server.add(SEARCH, Reply.file(OLDER_PAGE, JSON))

    [page] = sweep(collector(server, http))

    assert [m.external_id for m in page.mentions] == ["1578510000000000001"]
    [rejected] = page.rejected
    assert rejected.source == "x:tweepy"
    assert "not in includes.users" in rejected.reason
    assert json.loads(rejected.payload)["id"] == "1578509000000000002"


def test_page_limit_keeps_the_gap_in_the_cursor_so_the_next_sweep_fills_it(server: ReplayServer, http: Http) -> None:
    server.add(SEARCH, Reply.recorded(TWEEPY_PAGE))

    [page] = sweep(collector(server, http, max_pages=1), cursor="1578500000000000000")
    saved = json.loads(page.next_cursor or "")
    assert saved == {
        "floor": "1578500000000000000",
        "resume": "1578511538419212288",
        "ceiling": "1578516068309794817",
    }

    server.add(SEARCH, Reply.file(OLDER_PAGE, JSON), query={"until_id": "1578511538419212288"})
    [backlog] = sweep(collector(server, http, max_pages=1), cursor=page.next_cursor)

    last = server.requests_to(SEARCH)[-1]
    assert (last.param("since_id"), last.param("until_id")) == ("1578500000000000000", "1578511538419212288")
    assert backlog.next_cursor == "1578516068309794817"  # backlog done: listen from the old ceiling


def test_first_sweep_does_not_dig_into_history(server: ReplayServer, http: Http) -> None:
    server.add(SEARCH, Reply.recorded(TWEEPY_PAGE))

    [page] = sweep(collector(server, http, max_pages=1))

    assert page.next_cursor == "1578516068309794817"
    assert server.requests_to(SEARCH)[0].param("since_id") is None


def test_expired_token_fails_the_sweep_with_a_clear_error(server: ReplayServer, http: Http) -> None:
    unauthorized = Reply(
        401, (("Content-Type", JSON),), b'{"title": "Unauthorized", "detail": "Unauthorized", "status": 401}'
    )
    server.add(SEARCH, unauthorized)

    with pytest.raises(SourceError, match="x:tweepy: X API refused the search: 401 Unauthorized"):
        sweep(collector(server, http))


def test_rate_limit_storm_fails_the_sweep_and_says_when_to_come_back(
    server: ReplayServer, http: Http, fake_time: FakeTime
) -> None:
    reset = str(int(fake_time.now) + 900)
    server.add(SEARCH, Reply(429, (("x-rate-limit-remaining", "0"), ("x-rate-limit-reset", reset))))

    with pytest.raises(SourceError) as caught:
        sweep(collector(server, http))
    assert caught.value.retry_after_s == pytest.approx(900)


def test_matched_queries_are_tagged_with_the_local_language(server: ReplayServer, http: Http) -> None:
    server.add(SEARCH, Reply.file(WITH_AUTHORS, JSON))
    finishing = Finishing(queries=QuerySet({"labs": "labs OR polling", "metrics": "metrics NOT error"}))

    [page] = sweep(collector(server, http, finishing=finishing))

    tags = {m.external_id: m.matched_queries for m in page.mentions}
    assert tags["1275882613572583424"] == ("labs",)
    assert tags["1276035977375477760"] == ()  # 'error' excludes it from metrics


def test_missing_bearer_token_is_a_configuration_error(
    server: ReplayServer, http: Http, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("X_BEARER_TOKEN", raising=False)

    with pytest.raises(ValueError, match="X_BEARER_TOKEN"):
        XCollector(http, name="x:a", query="acme")


def test_snowflake_ids_carry_their_posting_time() -> None:
    # The recorded tweet's text is the time tweepy's test script sent it: "2022-10-07 22:42:12.637103".
    sent = datetime(2022, 10, 7, 22, 42, 12, 637103, tzinfo=UTC)

    assert 0 <= (snowflake_time("1578516068309794817") - sent).total_seconds() < 1


def test_a_floor_beyond_the_7_day_reach_is_replaced_by_the_oldest_time_x_serves(
    server: ReplayServer, http: Http, fake_time: FakeTime
) -> None:
    server.add(SEARCH, Reply.file(WITH_AUTHORS, JSON))
    fake_time.now = datetime(2022, 11, 1, tzinfo=UTC).timestamp()  # the saved floor is from 7 October

    list(collector(server, http).sweep("1578500000000000000"))

    [request] = server.requests_to(SEARCH)
    assert request.param("since_id") is None
    assert request.param("start_time") == "2022-10-25T00:01:00Z"


# --- reads cost money: a monthly budget, the cap, edits and quotes --------------------------------------------------

USAGE = "/2/usage/tweets"
RECORDED_USAGE = RECORDED_FIXTURES / "twitter_x/pytwitter_testdata/apis/usage/usage_tweets_resp.json"
USED = 11174038  # project_usage in the recorded answer (project_cap 50,000,000, cap_reset_day 28)


def metered(server: ReplayServer, http: Http, budget: int | None, **options: Any) -> XCollector:
    usage = XUsage(http, base_url=server.base_url, bearer_token="test-token", monthly_budget=budget, source="x")
    return collector(server, http, usage=usage, **options)


def test_a_sweep_stops_before_the_monthly_budget_and_says_so(server: ReplayServer, http: Http) -> None:
    server.add(USAGE, Reply.file(RECORDED_USAGE, JSON))
    server.add(SEARCH, Reply.file(WITH_AUTHORS, JSON))

    with pytest.raises(SourceError, match=r"budget of 11,174,100 posts.*11,174,038 read") as caught:
        sweep(metered(server, http, budget=USED + 62))  # less left than one page of 100 could cost

    assert server.requests_to(SEARCH) == []
    assert caught.value.retry_after_s is not None and caught.value.retry_after_s > 0  # until the cycle resets


def test_within_the_budget_the_sweep_reads_and_counts_what_it_read(server: ReplayServer, http: Http) -> None:
    server.add(USAGE, Reply.file(RECORDED_USAGE, JSON))
    server.add(SEARCH, Reply.file(WITH_AUTHORS, JSON))
    c = metered(server, http, budget=20_000_000)

    sweep(c)
    sweep(c)

    assert len(server.requests_to(SEARCH)) == 2
    assert len(server.requests_to(USAGE)) == 1  # asked once, then counted locally
    quota = c.quota()
    assert quota is not None and quota.used == USED + 8


def test_the_projected_monthly_use_is_reported_against_the_budget(server: ReplayServer, http: Http) -> None:
    server.add(USAGE, Reply.file(RECORDED_USAGE, JSON))

    quota = metered(server, http, budget=40_000_000).quota()

    assert quota is not None
    assert (quota.used, quota.cap, quota.unit) == (USED, 40_000_000, "posts/month")
    # 8 October, cycle from 28 September to 28 October: 10 of 30 days gone
    assert quota.projected == USED * 3
    assert quota.resets_at == datetime(2022, 10, 28, tzinfo=UTC)


def test_an_exhausted_cap_is_a_clear_source_state(server: ReplayServer, http: Http) -> None:
    server.add(USAGE, Reply.file(OWN_FIXTURES / "x/usage_at_cap.json", JSON))
    server.add(SEARCH, Reply(429))

    with pytest.raises(SourceError, match=r"UsageCapExceeded.*10,000 of 10,000"):
        sweep(metered(server, http, budget=None))


def test_depleted_credits_are_a_clear_source_state(server: ReplayServer, http: Http) -> None:
    server.add(SEARCH, Reply.file(OWN_FIXTURES / "x/credits_depleted.json", JSON, status=402))

    with pytest.raises(SourceError, match=r"credits.*402"):
        sweep(collector(server, http))


def test_an_edited_post_is_one_mention_under_its_original_id(server: ReplayServer, http: Http) -> None:
    server.add(SEARCH, Reply.file(OWN_FIXTURES / "x/search_edited_and_quoted.json", JSON))

    [page] = sweep(collector(server, http))

    edited, quoting = page.mentions
    assert edited.external_id == "1276035977375477760"  # the first id of its edit history
    assert edited.local_id == "1276035999999999999"  # the version we read
    assert edited.url == "https://x.com/happycamper/status/1276035999999999999"
    assert edited.text.endswith("(edited)")
    assert "quote_of:1275653067283759104" in quoting.signals
    assert quoting.local_id is None
