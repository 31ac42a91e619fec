"""The `Mention`: one public post, comment or review that names something we listen for."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

WEB_SCHEMES = ("http", "https")


def web_url(value: str | None) -> str | None:
    """`value` when it is an absolute http(s) link with a host, else None.

    Post and profile links come from strangers: `javascript:alert(1)` or `data:text/html,…` in a feed's
    <link> would run in our pages when someone clicks it. Browsers drop tabs and newlines anywhere in a
    link (so a tab inside "javascript:" still runs), so a link holding any is refused too.
    """
    if not value:
        return None
    text = value.strip()
    if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in text):
        return None  # tabs, newlines or control characters inside a link: browsers drop them, e.g. in a scheme
    try:
        parts = urlsplit(text)
    except ValueError:
        return None
    if parts.scheme.lower() not in WEB_SCHEMES or not parts.hostname:
        return None
    return text


def _scheme(value: str) -> str:
    head = value.strip().split(":", 1)[0] if ":" in value else ""
    return "".join(ch for ch in head.lower() if ch.isalnum() or ch in "+.-")[:16] or "relative"


class Platform(StrEnum):
    """Where a mention was published. Replayed mentions keep the platform they came from."""

    x = "x"
    mastodon = "mastodon"
    reddit = "reddit"
    bluesky = "bluesky"
    hackernews = "hackernews"
    rss = "rss"
    review = "review"


class Author(BaseModel):
    """Who wrote the mention, as the platform shows them. All of it is personal data."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    handle: str = Field(
        min_length=1, description="Platform handle without '@' (e.g. 'jane_doe', 'jane@mastodon.social')."
    )
    name: str | None = Field(default=None, description="Display name as shown on the platform.")
    followers: int | None = Field(
        default=None, ge=0, description="Follower count in people, when the platform reports it."
    )
    verified: bool | None = Field(default=None, description="Platform verification badge, when reported.")
    profile_url: str | None = Field(default=None, description="Public profile URL.")


class Engagement(BaseModel):
    """Engagement counts as the platform reported them at collection time. Units: number of actions."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    likes: int | None = Field(default=None, ge=0, description="Likes / favourites / upvotes, in actions.")
    reposts: int | None = Field(default=None, ge=0, description="Reposts / retweets / boosts, in actions.")
    replies: int | None = Field(default=None, ge=0, description="Direct replies, in posts.")
    quotes: int | None = Field(default=None, ge=0, description="Quote posts, in posts.")
    impressions: int | None = Field(default=None, ge=0, description="Views reported by the platform, in views.")
    score: int | None = Field(default=None, description="Net score where the platform has one (Reddit, HN points).")

    @property
    def interactions(self) -> int:
        """Likes + reposts + replies + quotes, counting unknown as zero."""
        return sum(v or 0 for v in (self.likes, self.reposts, self.replies, self.quotes))


def _utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("timestamp must carry a time zone (e.g. '2026-11-23T10:00:00Z')")
    return value.astimezone(UTC)


class Mention(BaseModel):
    """One public post, comment or review. Natural key: (source, external_id)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    source: Platform = Field(description="Platform the mention was published on.")
    external_id: str = Field(
        min_length=1, description="The platform's own id for the post (stable across re-collection)."
    )
    url: str | None = Field(default=None, description="Public link to the post.")
    author: Author
    text: str = Field(min_length=1, description="Body text as published (plain text).")
    title: str | None = Field(default=None, description="Title, for reviews, Reddit/HN posts and feed items.")
    language: str | None = Field(default=None, description="ISO 639-1 code, from the platform or detected offline.")
    created_at: datetime = Field(description="When it was published (UTC).")
    collected_at: datetime = Field(default_factory=lambda: datetime.now(UTC), description="When we collected it (UTC).")
    engagement: Engagement = Field(default_factory=Engagement)
    rating: float | None = Field(default=None, ge=0, le=5, description="Review stars normalised to a 0–5 scale.")
    reply_to_id: str | None = Field(default=None, description="external_id of the post this replies to.")
    thread_id: str | None = Field(default=None, description="external_id of the thread's root post.")
    matched_queries: tuple[str, ...] = Field(default=(), description="Names of configured queries it matched.")
    signals: tuple[str, ...] = Field(default=(), description="Recorded flags: 'spam', 'bot', 'near_duplicate:<id>'.")
    raw_hash: str = Field(default="", description="sha256 of the raw platform payload, for change detection.")

    _check_created = field_validator("created_at", "collected_at")(classmethod(lambda cls, v: _utc(v)))

    @model_validator(mode="before")
    @classmethod
    def _only_web_links(cls, data: Any) -> Any:
        """Clear a post or profile link that is not http(s), keeping the post and the reason as a signal
        ('unsafe_url:javascript'): the mention is still worth reading, its link is not worth following."""
        if not isinstance(data, dict):
            return data
        found: list[str] = []
        url = data.get("url")
        if isinstance(url, str) and web_url(url) is None:
            found.append(f"unsafe_url:{_scheme(url)}")
            data = {**data, "url": None}
        elif isinstance(url, str):
            data = {**data, "url": web_url(url)}
        author = data.get("author")
        profile = author.get("profile_url") if isinstance(author, dict) else getattr(author, "profile_url", None)
        if isinstance(profile, str) and web_url(profile) is None:
            found.append(f"unsafe_profile_url:{_scheme(profile)}")
            cleared = (
                {**author, "profile_url": None}
                if isinstance(author, dict)
                else author.model_copy(update={"profile_url": None})
            )
            data = {**data, "author": cleared}
        if found:
            data = {**data, "signals": tuple(dict.fromkeys((*data.get("signals", ()), *found)))}
        return data

    @property
    def key(self) -> tuple[str, str]:
        return (self.source.value, self.external_id)


def payload_hash(payload: Any) -> str:
    """A stable sha256 of a raw payload (dicts are hashed with sorted keys)."""
    if isinstance(payload, bytes):
        data = payload
    elif isinstance(payload, str):
        data = payload.encode()
    else:
        data = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str).encode()
    return hashlib.sha256(data).hexdigest()
