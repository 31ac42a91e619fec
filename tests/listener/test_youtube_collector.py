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
from listener.youtube import YouTubeCollector, YouTubeQuota, YouTubeSearchCollector, YouTubeSource, build
from tests.listener.replay import OWN_FIXTURES, RECORDED_FIXTURES, FakeTime, ReplayServer, Reply

THREADS = "/commentThreads"
RECORDED = RECORDED_FIXTURES / "youtube/python_youtube"
FIRST_PAGE = RECORDED / "comment_threads_by_video_paged_2.json"  # five threads and a nextPageToken
LAST_PAGE = RECORDED / "comment_threads_with_search.json"  # one thread, no nextPageToken
SEARCH = RECORDED / "search_videos_by_channel.json"  # five videos
FOUND = ["LrQWzOkC0XQ", "lVQ1EKR1v1I", "Bud7XR8crWw", "k_NtkiMAC-o", "dfweWyVScaI"]
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


def searcher(server: ReplayServer, http: Http, quota: YouTubeQuota | None = None) -> YouTubeSearchCollector:
    return YouTubeSearchCollector(
        http, name="yt:search:brand:Acme", search="acme", api_key="k", base_url=server.base_url, quota=quota
    )


def serve_search(server: ReplayServer) -> None:
    """The first search finds five videos (later ones nothing new): one has a comment thread, one has comments turned
    off, the rest none yet."""
    server.add("/search", Reply.file(SEARCH, JSON), Reply.file(OWN_FIXTURES / "youtube/no_threads.json", JSON))
    server.add(THREADS, Reply.file(OWN_FIXTURES / "youtube/no_threads.json", JSON))
    server.add(THREADS, Reply.file(LAST_PAGE, JSON), query={"videoId": "LrQWzOkC0XQ"})
    comments_off = Reply.file(OWN_FIXTURES / "youtube/comments_disabled.json", JSON, status=403)
    server.add(THREADS, comments_off, query={"videoId": "lVQ1EKR1v1I"})


def test_videos_found_by_search_have_their_comments_read_and_the_search_costs_a_hundred_units(
    server: ReplayServer, http: Http, fake_time: FakeTime
) -> None:
    serve_search(server)
    quota = YouTubeQuota(http, daily_units=10_000, source="yt")

    pages = list(searcher(server, http, quota).sweep(None))

    assert [m.external_id for page in pages for m in page.mentions] == ["UgyUBI0HsgL9emxcZpR4AaABAg"]
    [search] = server.requests_to("/search")
    assert (search.param("q"), search.param("type"), search.param("order"), search.param("maxResults")) == (
        "acme",
        "video",
        "date",
        "10",
    )
    week_ago = datetime.fromtimestamp(fake_time.now - 7 * 86_400, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert search.param("publishedAfter") == week_ago
    assert [r.param("videoId") for r in server.requests_to(THREADS)] == FOUND
    assert quota.quota().used == 100 + 5, "a search is 100 units, each comment page 1"
    followed = json.loads(pages[-1].next_cursor or "")["videos"]
    assert set(followed) == set(FOUND) - {"lVQ1EKR1v1I"}, "a video with comments turned off is no longer asked"


def test_a_search_runs_every_few_hours_while_the_found_videos_are_read_every_sweep(
    server: ReplayServer, http: Http, fake_time: FakeTime
) -> None:
    serve_search(server)
    collector = searcher(server, http)
    cursor = list(collector.sweep(None))[-1].next_cursor

    fake_time.now += 3600
    cursor = list(collector.sweep(cursor))[-1].next_cursor
    assert len(server.requests_to("/search")) == 1, "an hour later the videos found are read again, not searched"
    assert len(server.requests_to(THREADS)) == 5 + 4

    fake_time.now += 6 * 3600
    list(collector.sweep(cursor))
    assert len(server.requests_to("/search")) == 2

    fake_time.now += 8 * 86_400
    server.seen.clear()
    last = list(collector.sweep(cursor))[-1]
    assert json.loads(last.next_cursor or "")["videos"] == {}, "videos are followed for a week after they were found"
    assert server.requests_to(THREADS) == []


def test_a_search_is_refused_when_its_hundred_units_would_pass_the_daily_budget(
    server: ReplayServer, http: Http
) -> None:
    serve_search(server)
    quota = YouTubeQuota(http, daily_units=99, source="yt")

    with pytest.raises(SourceError, match="daily budget of 99 quota units"):
        list(searcher(server, http, quota).sweep(None))
    assert server.requests_to("/search") == []


def test_the_builder_adds_one_search_per_query_alternative_when_search_is_on() -> None:
    context = BuildContext(
        "yt", Http(user_agent="t"), Finishing(), {"brand:Acme": "acme OR hoot"}, {"OVERHEARD_YOUTUBE_API_KEY": "k"}.get
    )
    built = build(YouTubeSource(name="yt", kind="youtube", search=True, search_every_hours=12), context)

    assert [c.name for c in built] == ["yt:search:brand:Acme:acme", "yt:search:brand:Acme:hoot"]
    first, second = built
    assert isinstance(first, YouTubeSearchCollector) and isinstance(second, YouTubeSearchCollector)
    assert (first.search, second.search, first.search_every_s) == ("acme", "hoot", 12 * 3600)
    assert first.usage is second.usage, "searches share the project's daily quota"
