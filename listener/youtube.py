"""YouTube comments through the Data API v3 `commentThreads.list`: on chosen videos, and on every video of
chosen channels (the brand's own and others'), with the project's daily quota accounted.

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

Each `commentThreads.list` call costs 1 quota unit of the project's daily quota (10,000 by default), which resets
at midnight Pacific time. `YouTubeQuota` counts the units this process spent and refuses a call that would pass
`daily_quota_units`; a 403 `quotaExceeded` from YouTube (other programs sharing the project) is a source error
saying when the quota resets. The API has no call to read the quota used, so the count starts at zero when the
process starts.
"""

from __future__ import annotations

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
UNITS_PER_LIST = 1
"""Quota cost of one `commentThreads.list` call (https://developers.google.com/youtube/v3/determine_quota_cost)."""
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
        if self.usage is not None:
            self.usage.spend(self.name, UNITS_PER_LIST)
        try:
            response = self.http.request("GET", self.url, params=params)
            body = decode_json(response)
        except HttpError as exc:
            raise source_error(self.name, exc) from exc
        if response.status_code != 200:
            raise self._refusal(response.status_code, body)
        if not isinstance(body, dict) or not isinstance(body.get("items"), list):
            raise page_error(self.name, self.url, "expected a commentThreadListResponse with an 'items' list")
        return body

    def _refusal(self, status: int, body: Any) -> SourceError:
        error = body.get("error") if isinstance(body, dict) else None
        reasons = [e.get("reason") for e in (error or {}).get("errors") or [] if isinstance(e, dict)]
        if "quotaExceeded" in reasons or "dailyLimitExceeded" in reasons:
            if self.usage is not None:
                return self.usage.exhausted(self.name, "YouTube says the project's quota is spent (quotaExceeded)")
            return SourceError(self.name, "YouTube quota spent (quotaExceeded); it resets at midnight Pacific time")
        if "commentsDisabled" in reasons:
            return SourceError(self.name, "comments are turned off on this video (commentsDisabled)")
        message = (error or {}).get("message") if isinstance(error, dict) else None
        return SourceError(self.name, f"{self.url}: HTTP {status} {', '.join(filter(None, reasons))} {message or ''}")


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
    base_url: str | None = Field(default=None, description="Leave out for www.googleapis.com/youtube/v3.")


def build(source: YouTubeSource, ctx: BuildContext) -> list[Collector]:
    """One collector per video and per channel, sharing the source's daily quota."""
    if not source.videos and not source.channels:
        raise SourceNotAvailable(f"source '{source.name}': name some videos or channels to read comments from")
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
    return videos + channels
