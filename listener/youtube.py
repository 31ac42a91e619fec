"""YouTube comments through the Data API v3 `commentThreads.list`: on chosen videos, on every video of chosen
channels (the brand's own and others'), and on videos found by searching each query (`search.list`), with the
project's daily quota accounted.

Constructor (what `build` at the end of this module wires from its `sources:` entry):

    YouTubeCollector(
        http: Http,
        *,
        name: str,                          # cursor key: '<source>:video:<id>' or '<source>:channel:<id>'
        api_key: str,                       # an API key of a Google Cloud project with the Data API enabled
        video_id: str | None = None,        # `videoId`: one video's comment threads, or
        channel_id: str | None = None,      # `allThreadsRelatedToChannelId`: those of all the channel's videos
        base_url: str = "https://www.googleapis.com/youtube/v3",
        page_size: int = 100,               # `maxResults`, 1..100
        max_pages: int = 10,
        quota: YouTubeQuota | None = None,  # shared by the source's collectors
        only_matching: bool = False,        # keep only comments that match a configured query
        finishing: Finishing | None = None,
    )

Threads are asked for newest first (`order=time`) and paged with `pageToken`. The cursor is a
`listener.cursor.Watermark` over the top-level comment's `publishedAt`, whose resume position is the
`pageToken` of an unfinished backlog: a sweep stops at the first thread older than the floor.

`YouTubeSearchCollector` (one per query alternative) finds videos with `search.list` (`type=video`, `order=date`,
`publishedAfter` the last `follow_days`), at most every `search_every_s`, and reads the comment threads of each video
it found for `follow_days` after finding it, each video with its own watermark; its cursor is a JSON object
{"searched_at": epoch seconds, "videos": {video id: {"found": epoch seconds, "mark": watermark}}}, saved after every
page. A video whose comments are turned off is dropped from it.

Each `commentThreads.list` call costs 1 quota unit of the project's daily quota (10,000 by default), each
`search.list` call 100 units (so a search every 6 hours for 4 queries spends 1,600 units a day); the quota resets
at midnight Pacific time. `YouTubeQuota` counts the units this process spent and refuses a call that would pass
`daily_quota_units`; a 403 `quotaExceeded` from YouTube (other programs sharing the project) is a source error
saying when the quota resets. The API has no call to read the quota used, so the count starts at zero when the
process starts.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

from pydantic import Field

from listener.base import BuildContext, Collector, Page, Quota, SourceBase, SourceError, SourceNotAvailable
from listener.cursor import Watermark
from listener.http import Http, HttpError, decode_json
from listener.mention import Author, Engagement, Mention, Platform, payload_hash
from listener.normalise import Converted, Finishing, convert_items, html_to_text, page_error, source_error

API = "https://www.googleapis.com/youtube/v3"
THREADS_PATH = "/commentThreads"
SEARCH_PATH = "/search"
UNITS_PER_LIST = 1
"""Quota cost of one `commentThreads.list` call (https://developers.google.com/youtube/v3/determine_quota_cost)."""
UNITS_PER_SEARCH = 100
"""Quota cost of one `search.list` call (same reference)."""
DEFAULT_DAILY_UNITS = 10_000
"""The daily quota a new Google Cloud project gets for the YouTube Data API."""
QUOTA_DAY = ZoneInfo("America/Los_Angeles")
"""YouTube's quota day ends at midnight Pacific time."""


def _time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def thread_to_mention(thread: Mapping[str, Any]) -> Converted:
    """One `youtube#commentThread` (its top-level comment, with the thread's reply count) as a Mention."""
    snippet = thread["snippet"]
    comment = snippet["topLevelComment"]
    details = comment["snippet"]
    video = details.get("videoId") or snippet.get("videoId")
    name = details.get("authorDisplayName") or ""
    channel = (details.get("authorChannelId") or {}).get("value")
    comment_id = str(comment.get("id") or thread["id"])
    return Converted(
        Mention(
            source=Platform.youtube,
            external_id=comment_id,
            url=f"https://www.youtube.com/watch?v={video}&lc={comment_id}" if video else None,
            author=Author(
                handle=name.lstrip("@") or channel or "unknown",
                name=name or None,
                profile_url=details.get("authorChannelUrl"),
            ),
            text=details.get("textOriginal") or html_to_text(details.get("textDisplay") or ""),
            created_at=_time(details["publishedAt"]),
            engagement=Engagement(likes=details.get("likeCount"), replies=snippet.get("totalReplyCount")),
            raw_hash=payload_hash(thread),
        )
    )


class YouTubeQuota:
    """Quota units spent today by this process against the daily budget, shared by the collectors of a source."""

    def __init__(self, http: Http, *, daily_units: int, source: str) -> None:
        self.http = http
        self.daily_units = daily_units
        self.source = source
        self._day: str | None = None
        self.used = 0

    def _today(self) -> datetime:
        return datetime.fromtimestamp(self.http.clock(), tz=QUOTA_DAY)

    def _roll(self) -> None:
        day = self._today().date().isoformat()
        if day != self._day:
            self._day, self.used = day, 0

    def resets_at(self) -> datetime:
        """The next midnight Pacific time, in UTC."""
        now = self._today()
        midnight = datetime(now.year, now.month, now.day, tzinfo=QUOTA_DAY) + timedelta(days=1)
        return midnight.astimezone(UTC)

    def spend(self, name: str, units: int) -> None:
        """Count `units` about to be spent; raise the source error instead when they would pass the budget."""
        self._roll()
        if self.used + units > self.daily_units:
            raise self.exhausted(name, f"the daily budget of {self.daily_units:,} quota units is spent")
        self.used += units

    def exhausted(self, name: str, why: str) -> SourceError:
        until = self.resets_at()
        return SourceError(
            name,
            f"YouTube quota: {why} ({self.used:,} used today); it resets {until:%Y-%m-%d %H:%M} UTC",
            retry_after_s=until.timestamp() - self.http.clock(),
        )

    def quota(self) -> Quota:
        self._roll()
        now = self._today()
        start = datetime(now.year, now.month, now.day, tzinfo=QUOTA_DAY)
        elapsed = (now - start).total_seconds()
        projected = round(self.used * 86_400 / elapsed) if elapsed > 0 else None
        return Quota(self.source, "units/day", self.used, self.daily_units, projected, self.resets_at())


class YouTubeCollector:
    """The comment threads of one video or one channel. See the module docstring for the constructor."""

    def __init__(
        self,
        http: Http,
        *,
        name: str,
        api_key: str,
        video_id: str | None = None,
        channel_id: str | None = None,
        base_url: str = API,
        page_size: int = 100,
        max_pages: int = 10,
        quota: YouTubeQuota | None = None,
        only_matching: bool = False,
        finishing: Finishing | None = None,
    ) -> None:
        if (video_id is None) == (channel_id is None):
            raise ValueError("YouTube: give exactly one of video_id or channel_id")
        self.http = http
        self.name = name
        self.url = base_url.rstrip("/") + THREADS_PATH
        self.params: dict[str, Any] = {
            "part": "snippet",
            "order": "time",
            "textFormat": "plainText",
            "maxResults": max(1, min(page_size, 100)),
            "key": api_key,
            **({"videoId": video_id} if video_id else {"allThreadsRelatedToChannelId": channel_id}),
        }
        self.max_pages = max_pages
        self.usage = quota
        self.only_matching = only_matching
        self.finishing = finishing or Finishing()

    def sweep(self, cursor: str | None) -> Iterator[Page]:
        start = Watermark.load(cursor)
        floor = _time(start.floor) if start.floor else None
        token = start.resume
        newest: str | None = None
        for _ in range(self.max_pages):
            body = self._fetch({**self.params, "pageToken": token} if token else self.params)
            threads = [t for t in body["items"] if isinstance(t, dict)]
            fresh = [t for t in threads if not _below(t, floor)]
            mentions, rejected = convert_items(self.name, fresh, thread_to_mention, self.finishing)
            if self.only_matching:
                mentions = [m for m in mentions if m.matched_queries]
            times = [t for t in (_published(t) for t in fresh) if t is not None]
            if times:
                page_newest = max(times)
                newest = page_newest if newest is None else max(newest, page_newest, key=_time)
            token = body.get("nextPageToken")
            exhausted = len(fresh) < len(threads) or not token
            mark = start.after_page(newest=newest, oldest=token, exhausted=exhausted, order=_time)
            yield Page(mentions, rejected, next_cursor=mark.dump())
            if exhausted:
                return

    def quota(self) -> Quota | None:
        """Units spent today, for `overheard sources`."""
        return self.usage.quota() if self.usage is not None else None

    def _fetch(self, params: Mapping[str, Any]) -> dict[str, Any]:
        return _list(self.http, self.url, params, name=self.name, usage=self.usage, units=UNITS_PER_LIST)


class CommentsDisabled(SourceError):
    """YouTube answered `commentsDisabled`: the video takes no comments, so there is nothing to read on it."""


def _list(
    http: Http, url: str, params: Mapping[str, Any], *, name: str, usage: YouTubeQuota | None, units: int
) -> dict[str, Any]:
    """One Data API list call, its quota units counted first; a refusal is a `SourceError` saying why."""
    if usage is not None:
        usage.spend(name, units)
    try:
        response = http.request("GET", url, params=params)
        body = decode_json(response)
    except HttpError as exc:
        raise source_error(name, exc) from exc
    if response.status_code != 200:
        raise _refusal(name, url, usage, response.status_code, body)
    if not isinstance(body, dict) or not isinstance(body.get("items"), list):
        raise page_error(name, url, "expected a list response with an 'items' list")
    return body


def _refusal(name: str, url: str, usage: YouTubeQuota | None, status: int, body: Any) -> SourceError:
    error = body.get("error") if isinstance(body, dict) else None
    reasons = [e.get("reason") for e in (error or {}).get("errors") or [] if isinstance(e, dict)]
    if "quotaExceeded" in reasons or "dailyLimitExceeded" in reasons:
        if usage is not None:
            return usage.exhausted(name, "YouTube says the project's quota is spent (quotaExceeded)")
        return SourceError(name, "YouTube quota spent (quotaExceeded); it resets at midnight Pacific time")
    if "commentsDisabled" in reasons:
        return CommentsDisabled(name, "comments are turned off on this video (commentsDisabled)")
    message = (error or {}).get("message") if isinstance(error, dict) else None
    return SourceError(name, f"{url}: HTTP {status} {', '.join(filter(None, reasons))} {message or ''}")


class YouTubeSearchCollector:
    """Videos found by searching one query, and the comment threads on each for `follow_days` after it was found.
    See the module docstring."""

    def __init__(
        self,
        http: Http,
        *,
        name: str,
        search: str,
        api_key: str,
        base_url: str = API,
        max_videos: int = 10,
        follow_days: int = 7,
        search_every_s: float = 6 * 3600,
        max_pages_per_video: int = 3,
        quota: YouTubeQuota | None = None,
        only_matching: bool = False,
        finishing: Finishing | None = None,
    ) -> None:
        self.http = http
        self.name = name
        self.search = search
        self.api_key = api_key
        self.base_url = base_url
        self.url = base_url.rstrip("/") + SEARCH_PATH
        self.max_videos = max(1, min(max_videos, 50))
        self.follow_s = follow_days * 86_400.0
        self.search_every_s = search_every_s
        self.max_pages_per_video = max_pages_per_video
        self.usage = quota
        self.only_matching = only_matching
        self.finishing = finishing or Finishing()

    def sweep(self, cursor: str | None) -> Iterator[Page]:
        state = _SearchState.load(cursor)
        now = self.http.clock()
        videos = {v: seen for v, seen in state.videos.items() if now - seen["found"] < self.follow_s}
        searched_at = state.searched_at
        if searched_at is None or now - searched_at >= self.search_every_s:
            for video in self._find(now):
                videos.setdefault(video, {"found": now, "mark": None})
            searched_at = now
            # the search is paid for: keep what it found even if reading the comments fails below
            yield Page([], next_cursor=_SearchState(searched_at, dict(videos)).dump())
        for video in list(videos):
            threads = YouTubeCollector(
                self.http,
                name=self.name,
                api_key=self.api_key,
                video_id=video,
                base_url=self.base_url,
                max_pages=self.max_pages_per_video,
                quota=self.usage,
                only_matching=self.only_matching,
                finishing=self.finishing,
            )
            try:
                for page in threads.sweep(videos[video]["mark"]):
                    videos[video] = {**videos[video], "mark": page.next_cursor}
                    yield Page(page.mentions, page.rejected, next_cursor=_SearchState(searched_at, dict(videos)).dump())
            except CommentsDisabled:
                del videos[video]  # nothing to read there, ever: stop asking
                yield Page([], next_cursor=_SearchState(searched_at, dict(videos)).dump())

    def quota(self) -> Quota | None:
        """Units spent today, for `overheard sources`."""
        return self.usage.quota() if self.usage is not None else None

    def _find(self, now: float) -> list[str]:
        since = datetime.fromtimestamp(now - self.follow_s, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        params = {
            "part": "snippet",
            "type": "video",
            "order": "date",
            "q": self.search,
            "publishedAfter": since,
            "maxResults": self.max_videos,
            "key": self.api_key,
        }
        body = _list(self.http, self.url, params, name=self.name, usage=self.usage, units=UNITS_PER_SEARCH)
        found: list[str] = []
        for item in body["items"]:
            video = (item.get("id") or {}).get("videoId") if isinstance(item, dict) else None
            if isinstance(video, str) and video and video not in found:
                found.append(video)
        return found


class _SearchState:
    """A search collector's cursor: when it last searched, and each video it follows with its thread watermark."""

    def __init__(self, searched_at: float | None = None, videos: dict[str, dict[str, Any]] | None = None) -> None:
        self.searched_at = searched_at
        self.videos = videos or {}

    @classmethod
    def load(cls, cursor: str | None) -> _SearchState:
        if not cursor:
            return cls()
        try:
            data = json.loads(cursor)
        except json.JSONDecodeError as exc:
            raise ValueError(f"not a YouTube search cursor: {cursor!r}") from exc
        videos = {
            str(v): {"found": float(seen["found"]), "mark": seen.get("mark")}
            for v, seen in (data.get("videos") or {}).items()
            if isinstance(seen, dict) and isinstance(seen.get("found"), int | float)
        }
        searched = data.get("searched_at")
        return cls(float(searched) if isinstance(searched, int | float) else None, videos)

    def dump(self) -> str:
        return json.dumps({"searched_at": self.searched_at, "videos": self.videos}, sort_keys=True)


def _published(thread: Mapping[str, Any]) -> str | None:
    try:
        value = thread["snippet"]["topLevelComment"]["snippet"]["publishedAt"]
        _time(value)
        return str(value)
    except (KeyError, TypeError, ValueError):
        return None


def _below(thread: Mapping[str, Any], floor: datetime | None) -> bool:
    published = _published(thread)
    return floor is not None and published is not None and _time(published) < floor


# --- overheard.yaml: `kind: youtube` ------------------------------------------------------------------------------


class YouTubeSource(SourceBase):
    kind: Literal["youtube"]
    api_key_env: str = Field(default="OVERHEARD_YOUTUBE_API_KEY", description="Env var with the Data API key.")
    videos: tuple[str, ...] = Field(default=(), description="Video ids whose comments to read.")
    channels: tuple[str, ...] = Field(
        default=(), description="Channel ids (UC…) whose videos' comments to read: the brand's own, competitors'."
    )
    daily_quota_units: int = Field(
        default=DEFAULT_DAILY_UNITS, gt=0, description="Quota units this source may spend a day (1 per page read)."
    )
    only_matching: bool = Field(default=False, description="Keep only comments that match a configured query.")
    search: bool = Field(
        default=False,
        description="Also find videos by searching each query (search.list, 100 quota units a search) and read their "
        "comments for `follow_days`.",
    )
    search_every_hours: float = Field(default=6.0, gt=0, description="Hours between two searches of one query.")
    search_max_videos: int = Field(default=10, ge=1, le=50, description="Newest videos taken from each search.")
    follow_days: int = Field(
        default=7,
        ge=1,
        le=90,
        description="Days a found video's comments are read (and how recent a video searched for is).",
    )
    base_url: str | None = Field(default=None, description="Leave out for www.googleapis.com/youtube/v3.")


def build(source: YouTubeSource, ctx: BuildContext) -> list[Collector]:
    """One collector per video and per channel, and with `search` one per query alternative, sharing the source's
    daily quota."""
    if not source.videos and not source.channels and not source.search:
        raise SourceNotAvailable(
            f"source '{source.name}': name some videos or channels to read comments from, or set search: true"
        )
    key = ctx.token(source.api_key_env, required=True) or ""
    quota = YouTubeQuota(ctx.http, daily_units=source.daily_quota_units, source=source.name)
    common: dict[str, Any] = {
        "api_key": key,
        "base_url": source.base_url or API,
        "quota": quota,
        "only_matching": source.only_matching,
        "finishing": ctx.finishing,
    }
    videos: list[Collector] = [
        YouTubeCollector(ctx.http, name=ctx.name(f"video:{v}"), video_id=v, **common) for v in source.videos
    ]
    channels: list[Collector] = [
        YouTubeCollector(ctx.http, name=ctx.name(f"channel:{c}"), channel_id=c, **common) for c in source.channels
    ]
    searches: list[Collector] = (
        [
            YouTubeSearchCollector(
                ctx.http,
                name=ctx.name("search:" + name.removeprefix(ctx.name(""))),
                search=search,
                max_videos=source.search_max_videos,
                follow_days=source.follow_days,
                search_every_s=source.search_every_hours * 3600,
                **common,
            )
            for name, _, search in ctx.plain_searches()
        ]
        if source.search
        else []
    )
    return videos + channels + searches
