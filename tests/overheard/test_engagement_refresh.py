"""Young mentions' engagement counts are looked up again with each scheduled re-check."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, select

from listener.http import Http
from listener.mention import Author, Engagement, Mention, Platform
from overheard.config import parse_config
from overheard.sources import refresh_engagement
from overheard.trust import run_recheck
from storage.mentions import save_mentions
from storage.schema import mentions
from tests.listener.replay import RECORDED_FIXTURES, ReplayServer, Reply, start_server

GET_POSTS = RECORDED_FIXTURES / "bluesky/bskyr_vcr/f_getposts/000_GET_xrpc_app_bsky_feed_getPosts"
YOUNG = "at://did:plc:ic6zqvuw5ulmfpjiwnhsr2ns/app.bsky.feed.post/3k7qmjev5lr2s"  # 4 likes in the recording
OLD = "at://did:plc:ic6zqvuw5ulmfpjiwnhsr2ns/app.bsky.feed.post/3jold"
NOW = datetime(2026, 12, 7, 12, tzinfo=UTC)


@pytest.fixture
def platform() -> Iterator[ReplayServer]:
    replay, httpd = start_server()
    yield replay
    httpd.shutdown()
    httpd.server_close()


def _post(uri: str, age: timedelta) -> Mention:
    return Mention(
        source=Platform.bluesky,
        external_id=uri,
        author=Author(handle="someone.bsky.social"),
        text="acme kettles",
        created_at=NOW - age,
        collected_at=NOW - age,
        engagement=Engagement(likes=0, reposts=0),
    )


def _likes(engine: Engine) -> dict[str, int | None]:
    with engine.connect() as c:
        return {r.external_id: r.likes for r in c.execute(select(mentions.c.external_id, mentions.c.likes))}


def test_young_mentions_get_their_current_counts_and_old_ones_are_left(engine: Engine, platform: ReplayServer) -> None:
    platform.add("/xrpc/app.bsky.feed.getPosts", Reply.recorded(GET_POSTS))
    with engine.begin() as c:
        save_mentions(c, [_post(YOUNG, timedelta(hours=20)), _post(OLD, timedelta(days=10))])
    config = parse_config(f"""
brands: [{{name: Acme, query: acme}}]
sources: [{{kind: bluesky, name: bsky, service: "{platform.base_url}"}}]
""")
    http = Http(user_agent="t", allow_networks=("127.0.0.1/32",), min_interval_s=0)

    refreshed = refresh_engagement(config, engine, http=http, now=NOW)

    assert refreshed == 1
    assert _likes(engine) == {YOUNG: 4, OLD: 0}
    [request] = platform.requests_to("/xrpc/app.bsky.feed.getPosts")
    assert request.query["uris"] == [YOUNG]


def test_the_scheduled_recheck_refreshes_counts_too(engine: Engine, platform: ReplayServer) -> None:
    platform.add("/xrpc/app.bsky.feed.getPosts", Reply.recorded(GET_POSTS))
    with engine.begin() as c:
        save_mentions(c, [_post(YOUNG, timedelta(hours=20))])
    config = parse_config(f"""
brands: [{{name: Acme, query: acme}}]
sources: [{{kind: bluesky, name: bsky, service: "{platform.base_url}"}}]
""")
    http = Http(user_agent="t", allow_networks=("127.0.0.1/32",), min_interval_s=0)

    report = run_recheck(config, engine, http=http, now=NOW)

    assert report.engagement_refreshed == 1
    assert _likes(engine)[YOUNG] == 4
