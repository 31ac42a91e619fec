"""YouTube comment threads through the Data API v3, against python-youtube's recorded responses on 127.0.0.1."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from listener.base import BuildContext, SourceError, SourceNotAvailable
from listener.http import Http
from listener.normalise import Finishing
from listener.query import QuerySet
from listener.youtube import YouTubeCollector, YouTubeQuota, YouTubeSource, build
from tests.listener.replay import OWN_FIXTURES, RECORDED_FIXTURES, FakeTime, ReplayServer, Reply

THREADS = "/commentThreads"
RECORDED = RECORDED_FIXTURES / "youtube/python_youtube"
FIRST_PAGE = RECORDED / "comment_threads_by_video_paged_2.json"  # five threads and a nextPageToken
LAST_PAGE = RECORDED / "comment_threads_with_search.json"  # one thread, no nextPageToken
NEXT = "QURTSl9pMzdZOUVzMkI0czlmRmNjSVBPcTBTdzVzajUydDVnbE5SNElWS0l5WU12amYweVotdzF5c1hTNmxzUmVIcEZXbmVEVFMzNVJmWk82TVVwUlB2LWh5aUpOQlA5TGQzTWZEcHlTeTd2dlNGRUFZaVF0cmtJd01BTHlnOG0="
JSON = "application/json; charset=UTF-8"


def video(server: ReplayServer, http: Http, **options: Any) -> YouTubeCollector:
    return YouTubeCollector(
        http,
        name="yt:video:F1UP7wRCPH8",
        api_key="test-key",
        video_id="F1UP7wRCPH8",
        base_url=server.base_url,
        **options,
    )


def serve(server: ReplayServer) -> None:
    server.add(THREADS, Reply.file(FIRST_PAGE, JSON))
    server.add(THREADS, Reply.file(LAST_PAGE, JSON), query={"pageToken": NEXT})


def test_comment_threads_become_mentions(server: ReplayServer, http: Http) -> None:
    serve(server)

    first, last = list(video(server, http).sweep("2019-01-01T00:00:00.000Z"))

    assert len(first.mentions) == 5
    top = first.mentions[0]
    assert top.external_id == "UgyZ1jqkHKYvi1-ruOZ4AaABAg"
    assert top.text == "Google.com"  # textOriginal, not the HTML of textDisplay
    assert (top.author.handle, top.author.profile_url) == (
        "himani agarwal",
        "http://www.youtube.com/channel/UCzj-CjKYmGlZ7vTL-vOe57A",
    )
    assert top.url == "https://www.youtube.com/watch?v=F1UP7wRCPH8&lc=UgyZ1jqkHKYvi1-ruOZ4AaABAg"
    assert top.created_at == datetime(2019, 11, 26, 15, 51, 44, tzinfo=UTC)
    assert first.mentions[-1].engagement.replies == 2
    assert first.mentions[2].engagement.likes == 4
    [channel_wide] = last.mentions
    assert channel_wide.url is None  # a channel discussion comment has no video
    assert last.next_cursor == "2019-11-26T15:51:44.000Z"

    requests = server.requests_to(THREADS)
    assert [r.param("pageToken") for r in requests] == [None, NEXT]
    first_request = requests[0]
    assert (first_request.param("videoId"), first_request.param("order"), first_request.param("key")) == (
        "F1UP7wRCPH8",
        "time",
        "test-key",
    )
    assert (first_request.param("part"), first_request.param("maxResults")) == ("snippet", "100")


def test_a_sweep_stops_at_the_last_sweeps_newest_comment(server: ReplayServer, http: Http) -> None:
    serve(server)

    [page] = list(video(server, http).sweep("2019-11-20T00:00:00.000Z"))

    assert [m.created_at.day for m in page.mentions] == [26, 21]
    assert len(server.requests_to(THREADS)) == 1


def test_a_page_limit_keeps_the_page_token_to_resume_the_backlog(server: ReplayServer, http: Http) -> None:
    serve(server)

    [page] = list(video(server, http, max_pages=1).sweep("2019-01-01T00:00:00.000Z"))
    saved = json.loads(page.next_cursor or "")
    assert (saved["floor"], saved["resume"]) == ("2019-01-01T00:00:00.000Z", NEXT)

    [backlog] = list(video(server, http, max_pages=1).sweep(page.next_cursor))
    assert [m.author.name for m in backlog.mentions] == ["DevRagz"]


def test_each_page_costs_a_unit_and_the_daily_budget_stops_the_sweep_before_it_is_passed(
    server: ReplayServer, http: Http, fake_time: FakeTime
) -> None:
    serve(server)
    quota = YouTubeQuota(http, daily_units=1, source="yt")

    with pytest.raises(SourceError, match=r"daily budget of 1 quota units.*resets") as caught:
        list(video(server, http, quota=quota).sweep("2019-01-01T00:00:00.000Z"))

    assert len(server.requests_to(THREADS)) == 1  # the second page was not asked for
    assert caught.value.retry_after_s is not None and 0 < caught.value.retry_after_s <= 86_400
    assert quota.quota().used == 1


def test_a_spent_project_quota_is_a_clear_source_state(server: ReplayServer, http: Http) -> None:
    server.add(THREADS, Reply.file(OWN_FIXTURES / "youtube/quota_exceeded.json", JSON, status=403))

    with pytest.raises(SourceError, match="quotaExceeded"):
        list(video(server, http, quota=YouTubeQuota(http, daily_units=10_000, source="yt")).sweep(None))


def test_channel_comments_can_be_kept_only_when_they_match(server: ReplayServer, http: Http) -> None:
    server.add(THREADS, Reply.file(FIRST_PAGE, JSON))
    collector = YouTubeCollector(
        http,
        name="yt:channel:UC",
        api_key="k",
        channel_id="UC_x5XG1OV2P6uZZ5FSM9Ttw",
        base_url=server.base_url,
        max_pages=1,
        only_matching=True,
        finishing=Finishing(queries=QuerySet({"cloud": 'heroku OR "google cloud"'})),
    )

    [page] = list(collector.sweep(None))

    assert [m.external_id for m in page.mentions] == ["UgysQP-vp089eFP0Stl4AaABAg"]
    assert server.requests_to(THREADS)[0].param("allThreadsRelatedToChannelId") == "UC_x5XG1OV2P6uZZ5FSM9Ttw"


def _context(secrets: dict[str, str]) -> BuildContext:
    return BuildContext("yt", Http(user_agent="t"), Finishing(), {"brand:Acme": "acme"}, secrets.get)


def test_the_builder_makes_one_collector_per_video_and_channel_sharing_one_quota() -> None:
    source = YouTubeSource(name="yt", kind="youtube", videos=("F1UP7wRCPH8",), channels=("UC_x5XG1OV2P6uZZ5FSM9Ttw",))

    built = build(source, _context({"OVERHEARD_YOUTUBE_API_KEY": "k"}))

    assert [c.name for c in built] == ["yt:video:F1UP7wRCPH8", "yt:channel:UC_x5XG1OV2P6uZZ5FSM9Ttw"]
    assert all(isinstance(c, YouTubeCollector) for c in built)
    first, second = built
    assert isinstance(first, YouTubeCollector) and isinstance(second, YouTubeCollector)
    assert first.usage is second.usage


def test_the_builder_names_the_missing_key_and_the_missing_targets() -> None:
    with pytest.raises(SourceNotAvailable, match="OVERHEARD_YOUTUBE_API_KEY"):
        build(YouTubeSource(name="yt", kind="youtube", videos=("v",)), _context({}))
    with pytest.raises(SourceNotAvailable, match="videos or channels"):
        build(YouTubeSource(name="yt", kind="youtube"), _context({"OVERHEARD_YOUTUBE_API_KEY": "k"}))
