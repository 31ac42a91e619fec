"""overheard.yaml sources → collectors → pipeline → database, against a real local server replaying platforms."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from sqlalchemy import func, select

from classifiers.verdict import Classifier
from listener.base import SourceError
from listener.http import HttpError
from overheard.config import parse_config
from overheard.pipeline import Runtime, sweep
from overheard.runtime import load_classifier
from overheard.sources import SourceNotAvailable, build_collectors
from storage.database import open_database
from storage.schema import cursors, mentions
from tests.listener.replay import OWN_FIXTURES, RECORDED_FIXTURES, ReplayServer, Reply, start_server

RSS = "application/rss+xml; charset=utf-8"
JSON = "application/json; charset=utf-8"
X_RULES = RECORDED_FIXTURES / "twitter_x" / "pytwitter_testdata" / "streams"
MASTODON_TAG_PAGE = RECORDED_FIXTURES / "mastodon" / "test_hashtag_tl" / "002_GET_api_v1_timelines_tag_hoot"


@pytest.fixture
def platform() -> Iterator[ReplayServer]:
    replay, httpd = start_server()
    yield replay
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(scope="module")
def classifier() -> Classifier:
    return load_classifier()


def _config(server: ReplayServer) -> str:
    return f"""
brands: [{{name: Acme, query: 'Acme OR hoot'}}]
http: {{allow_networks: ["127.0.0.1/32"], min_interval_s: 0}}
sources:
  - {{kind: rss, name: news, feeds: ["{server.url("/feed.rss")}"]}}
  - {{kind: mastodon, name: masto, instance: "{server.base_url}", hashtags: [hoot]}}
  - {{kind: hackernews, name: hn, base_url: "{server.base_url}"}}
"""


def test_configured_sources_are_collected_into_the_database(
    platform: ReplayServer, classifier: Classifier, sqlite_url: str
) -> None:
    platform.add("/feed.rss", Reply.file(OWN_FIXTURES / "rss" / "news.rss", RSS))
    platform.add(
        "/api/v1/timelines/tag/hoot",
        Reply.recorded(MASTODON_TAG_PAGE, rewrite={"http://localhost:3000": platform.base_url}),
    )
    platform.add(
        "/api/v1/search_by_date",
        Reply.file(OWN_FIXTURES / "hackernews" / "search_page0.json", JSON),
        query={"page": "0"},
    )
    platform.add(
        "/api/v1/search_by_date",
        Reply.file(OWN_FIXTURES / "hackernews" / "search_page1.json", JSON),
        query={"page": "1"},
    )
    config = parse_config(_config(platform))
    collectors = build_collectors(config)
    assert [c.name for c in collectors] == [
        "news:" + platform.url("/feed.rss"),
        "masto:#hoot",
        "hn:brand:Acme:acme",  # Algolia has no OR: one search per alternative
        "hn:brand:Acme:hoot",
    ]

    engine = open_database(sqlite_url)
    runtime = Runtime.build(config, engine, classifier)
    for collector in collectors:
        sweep(runtime, collector)
    with engine.connect() as c:
        by_source = dict(c.execute(select(mentions.c.source, func.count()).group_by(mentions.c.source)).all())
        saved_cursors = set(c.execute(select(cursors.c.name)).scalars())
    assert by_source.get("rss", 0) >= 1 and by_source.get("mastodon", 0) == 1 and by_source.get("hackernews", 0) >= 1
    assert saved_cursors == {c.name for c in collectors}


def test_a_source_without_its_token_is_named_with_the_variable_to_set(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OVERHEARD_X_BEARER_TOKEN", raising=False)
    config = parse_config("brands: [{name: Acme, query: Acme}]\nsources:\n  - {kind: x, name: x-brand}\n")
    with pytest.raises(SourceNotAvailable, match="OVERHEARD_X_BEARER_TOKEN"):
        build_collectors(config)


def test_collectors_refuse_private_addresses_unless_the_config_allows_them(
    platform: ReplayServer, classifier: Classifier, sqlite_url: str
) -> None:
    platform.add("/feed.rss", Reply.file(OWN_FIXTURES / "rss" / "news.rss", RSS))
    text = _config(platform).replace('http: {allow_networks: ["127.0.0.1/32"], min_interval_s: 0}', "")
    config = parse_config(text)
    [feed, *_] = build_collectors(config)
    runtime = Runtime.build(config, open_database(sqlite_url), classifier)
    with pytest.raises((SourceError, HttpError), match=r"127\.0\.0\.1") as refused:
        sweep(runtime, feed)
    assert "refuse" in str(refused.value).lower() or "not allowed" in str(refused.value).lower()
    assert platform.requests_to("/feed.rss") == []


def test_an_x_source_in_stream_mode_syncs_its_rules_listens_then_searches(
    platform: ReplayServer, classifier: Classifier, sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OVERHEARD_X_BEARER_TOKEN", "test-token")
    platform.add("/2/tweets/search/stream/rules", Reply.file(X_RULES / "get_rules.json", JSON))
    platform.add("/2/tweets/search/stream/rules", Reply.file(X_RULES / "delete_rules.json", JSON), method="POST")
    platform.add("/2/tweets/search/stream", Reply.file(OWN_FIXTURES / "x" / "stream_lines.txt", JSON))
    platform.add("/2/tweets/search/recent", Reply(200, (("Content-Type", JSON),), b'{"meta": {"result_count": 0}}'))
    config = parse_config(
        "brands: [{name: Acme, query: Acme}]\n"
        'http: {allow_networks: ["127.0.0.1/32"], min_interval_s: 0}\n'
        f'sources:\n  - {{kind: x, name: x, stream: true, stream_listen_s: 0.5, base_url: "{platform.base_url}"}}\n'
    )
    collectors = build_collectors(config)
    assert [c.name for c in collectors] == ["x:stream", "x:brand:Acme"]

    runtime = Runtime.build(config, open_database(sqlite_url), classifier)
    stored = sum(sweep(runtime, c).stored for c in collectors)

    delete, add = (json.loads(s.body) for s in platform.seen if s.method == "POST")
    assert add == {"add": [{"value": "acme -is:retweet", "tag": "brand:Acme"}]}
    assert delete["delete"]["ids"], "rules that are not our queries are removed"
    with runtime.engine.connect() as c:
        ids = set(c.execute(select(mentions.c.external_id).where(mentions.c.source == "x")).scalars())
    assert {"1860000000000000001", "1860000000000000002"} <= ids and stored == len(ids)
    assert platform.requests_to("/2/tweets/search/recent"), "recent search runs after the stream"


def test_a_feed_redirecting_to_an_invalid_location_fails_alone_and_the_sweep_goes_on(
    platform: ReplayServer, sqlite_url: str
) -> None:
    from overheard.cli import _sweep_all
    from tests.distributed.keyword_classifier import KeywordClassifier

    platform.add("/broken.rss", Reply(302, (("Location", "http://[not-an-address/feed"),)))
    platform.add("/feed.rss", Reply.file(OWN_FIXTURES / "rss" / "news.rss", RSS))
    config = parse_config(f"""
brands: [{{name: Acme, query: 'Acme OR Globex'}}]
http: {{allow_networks: ["127.0.0.1/32"], min_interval_s: 0}}
sources:
  - {{kind: rss, name: broken, feeds: ["{platform.url("/broken.rss")}"]}}
  - {{kind: rss, name: news, feeds: ["{platform.url("/feed.rss")}"]}}
""")
    engine = open_database(sqlite_url)
    runtime = Runtime.build(config, engine, KeywordClassifier())

    failed = _sweep_all(runtime, list(build_collectors(config)))

    assert failed == 1
    with engine.connect() as c:
        assert c.execute(select(func.count()).select_from(mentions)).scalar_one() == 2, "the next feed was swept"
