"""X filtered stream: rules kept equal to our queries, tweets read line by line, reconnects with backoff."""

from __future__ import annotations

import json
from typing import Any

import pytest

from listener.base import SourceError
from listener.http import Http
from listener.x import XFilteredStream
from tests.listener.replay import OWN_FIXTURES, RECORDED_FIXTURES, FakeTime, ReplayServer, Reply

STREAM = "/2/tweets/search/stream"
RULES = "/2/tweets/search/stream/rules"
RULE_FIXTURES = RECORDED_FIXTURES / "twitter_x/pytwitter_testdata/streams"
LINES = OWN_FIXTURES / "x/stream_lines.txt"
JSON = "application/json; charset=utf-8"


def stream(server: ReplayServer, http: Http, **options: Any) -> XFilteredStream:
    defaults: dict[str, Any] = {
        "name": "x-stream:acme",
        "queries": {"brand": "acme", "competitor": "globex OR initech"},
        "bearer_token": "test-token",
        "base_url": server.base_url,
    }
    return XFilteredStream(http, **(defaults | options))


def test_rules_are_made_equal_to_our_queries(server: ReplayServer, http: Http) -> None:
    server.add(RULES, Reply.file(RULE_FIXTURES / "get_rules.json", JSON))
    server.add(RULES, Reply.file(RULE_FIXTURES / "delete_rules.json", JSON), method="POST")

    counts = stream(server, http).sync_rules()

    assert counts == {"added": 2, "deleted": 2}
    delete, add = (json.loads(s.body) for s in server.seen if s.method == "POST")
    assert delete == {"delete": {"ids": ["1165037377523306497", "1165037377523306498"]}}
    assert add == {
        "add": [
            {"value": "acme -is:retweet", "tag": "brand"},
            {"value": "(globex OR initech) -is:retweet", "tag": "competitor"},
        ]
    }


def test_refused_rule_update_fails_with_the_platforms_reason(server: ReplayServer, http: Http) -> None:
    server.add(RULES, Reply.file(RULE_FIXTURES / "get_rules.json", JSON))
    server.add(RULES, Reply.file(RULE_FIXTURES / "delete_error.json", JSON), method="POST")

    with pytest.raises(SourceError, match="JSON doesn't match expected schema"):
        stream(server, http).sync_rules()


def test_streamed_tweets_carry_their_rule_tags_and_broken_lines_are_quarantined(
    server: ReplayServer, http: Http
) -> None:
    server.add(STREAM, Reply.file(LINES, JSON))

    pages = list(stream(server, http, max_mentions=4, page_size=10).sweep(None))

    mentions = [m for p in pages for m in p.mentions]
    assert [m.external_id for m in mentions] == ["1860000000000000001", "1860000000000000002", "1860000000000000004"]
    assert mentions[1].matched_queries == ("brand", "competitor")
    assert mentions[0].author.followers == 570000
    [rejected] = [r for p in pages for r in p.rejected]
    assert rejected.reason == "ValueError: stream line is not JSON"
    assert all(p.next_cursor is None for p in pages)
    request = server.requests_to(STREAM)[0]
    assert request.param("expansions") == "author_id"
    assert request.headers["authorization"] == "Bearer test-token"


def test_server_errors_reconnect_after_an_exponential_backoff(
    server: ReplayServer, http: Http, fake_time: FakeTime
) -> None:
    server.add(STREAM, Reply(503), Reply(503), Reply.file(LINES, JSON))

    pages = list(stream(server, http, max_mentions=4).sweep(None))

    assert sum(len(p.mentions) for p in pages) == 3
    assert fake_time.sleeps[:2] == [5.0, 10.0]


def test_rate_limited_stream_waits_until_the_reset(server: ReplayServer, http: Http, fake_time: FakeTime) -> None:
    reset = str(int(fake_time.now) + 90)
    server.add(
        STREAM, Reply(429, (("x-rate-limit-remaining", "0"), ("x-rate-limit-reset", reset))), Reply.file(LINES, JSON)
    )

    list(stream(server, http, max_mentions=4).sweep(None))

    assert fake_time.now >= int(reset)


def test_a_stream_that_keeps_dropping_fails_the_sweep_after_max_reconnects(
    server: ReplayServer, http: Http, fake_time: FakeTime
) -> None:
    server.add(STREAM, Reply(200, (("Content-Type", JSON),), b"\r\n"))

    with pytest.raises(SourceError, match="stream ended"):
        list(stream(server, http, max_reconnects=3, listen_s=3600).sweep(None))
    assert len(server.requests_to(STREAM)) == 4
    assert fake_time.sleeps == [0.25, 0.5, 0.75]
