"""The `Mention`: one public post, comment or review that names something we listen for."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator


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
