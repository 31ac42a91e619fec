"""The `Mention`: one public post, comment or review that names something we listen for."""

from __future__ import annotations

import hashlib
import json
import re
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, field_validator, model_validator

WEB_SCHEMES = ("http", "https")
_UNSAFE_IN_URL = re.compile("[\x00-\x1f\x7f\ufffd]")
"""Control characters (tabs and newlines too), DEL, and U+FFFD: a link holding any is refused (`web_url`)."""


def web_url(value: str | None) -> str | None:
    """`value` when it is an absolute http(s) link with a host, else None.

    Post and profile links come from strangers: `javascript:alert(1)` or `data:text/html,…` in a feed's
    <link> would run in our pages when someone clicks it. Browsers drop tabs and newlines anywhere in a
    link (so a tab inside "javascript:" still runs), so a link holding any is refused too.
    """
    if not value:
        return None
    text = value.strip()
    if _UNSAFE_IN_URL.search(text):
        # tabs, newlines or control characters inside a link: browsers drop them, e.g. in a scheme; U+FFFD is
        # what a NUL or a broken byte became on the way in, so the link was not what its author wrote
        return None
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
    youtube = "youtube"


# ---- limits: what one mention may hold; storage/schema.py sizes its columns from these -----------------------
# Anything a platform sends past them is cut to fit (and says so in `signals`) or, where cutting would change
# what the item is (an id, a handle, a date), the item is quarantined with the reason: one bad item costs one item.
MAX_ID_CHARS = 512
"""external_id, reply_to_id, thread_id: the platform's ids (X, Reddit, Bluesky at-URIs stay far below)."""
MAX_HANDLE_CHARS = 256
"""author.handle, including a Mastodon '@instance' part."""
MAX_NAME_CHARS = 512
"""author.name; a longer display name is cut."""
MAX_LANGUAGE_CHARS = 16
"""language tag; a longer one is not a language tag and is dropped (detected again offline)."""
MAX_TEXT_CHARS = 40_000
"""text: Reddit's own limit for a post body; a longer text (a feed's whole article) is cut, signal 'text_truncated'."""
MAX_TITLE_CHARS = 1_000
"""title; a longer one is cut."""
MAX_FUTURE = timedelta(days=1)
"""created_at may be this far after collected_at (clock skew); a later date is an error, not a post from the future."""
MAX_QUARANTINE_PAYLOAD_CHARS = 64_000
"""A quarantined raw item keeps this much of its payload (enough to see why, not a 10 MB copy)."""


def clean_text(value: str) -> str:
    """Text as both databases can store it: a NUL character (PostgreSQL refuses it) or a lone surrogate (a JSON
    '\\ud800' decodes to one, and UTF-8 cannot encode it) becomes U+FFFD, the replacement character."""
    if "\x00" in value:
        value = value.replace("\x00", "\ufffd")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        value = "".join("\ufffd" if "\ud800" <= ch <= "\udfff" else ch for ch in value)
    return value


def _cut(limit: int) -> BeforeValidator:
    return BeforeValidator(lambda value: value[:limit] if isinstance(value, str) else value)


Clean = Annotated[str, AfterValidator(clean_text)]
"""A string field of a mention: stored as it came, bar what no database can keep (`clean_text`)."""


def _at_most(limit: int, what: str) -> AfterValidator:
    def check(value: str) -> str:
        if len(value) > limit:
            raise ValueError(f"{len(value)} characters, more than the {limit} {what} may have")
        return value

    return AfterValidator(check)


Id = Annotated[Clean, _at_most(MAX_ID_CHARS, "an id")]
"""A platform's id: never cut (a cut id could name another post), so a longer one is refused."""


class Author(BaseModel):
    """Who wrote the mention, as the platform shows them. All of it is personal data."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    handle: Annotated[Clean, _at_most(MAX_HANDLE_CHARS, "a handle")] = Field(
        min_length=1,
        description="Platform handle without '@' (e.g. 'jane_doe', 'jane@mastodon.social').",
    )
    name: Annotated[Clean | None, _cut(MAX_NAME_CHARS)] = Field(
        default=None, description="Display name as shown on the platform."
    )
    followers: int | None = Field(
        default=None, ge=0, description="Follower count in people, when the platform reports it."
    )
    verified: bool | None = Field(default=None, description="Platform verification badge, when reported.")
    profile_url: Clean | None = Field(default=None, description="Public profile URL.")


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


class ReplyRef(BaseModel):
    """What answering the post on its platform needs beyond `external_id`, kept as the collector saw it.

    X and Reddit need nothing more (the tweet id and the fullname are the external_id). Mastodon's external_id is
    the post's ActivityPub URI, the same everywhere; replying needs the status id on one's own instance, which
    `status_id` holds for the instance it was read from. A Bluesky reply names the post and its thread's root,
    each by uri and cid (the content hash of the version replied to).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    status_id: Id | None = Field(default=None, description="Mastodon: the status id on `instance`.")
    instance: Annotated[Clean, _at_most(MAX_HANDLE_CHARS, "an instance host")] | None = Field(
        default=None, description="Mastodon: host of the instance `status_id` belongs to (e.g. 'mastodon.social')."
    )
    cid: Id | None = Field(default=None, description="Bluesky: the post's cid.")
    root_uri: Id | None = Field(default=None, description="Bluesky: at-uri of the thread's root post.")
    root_cid: Id | None = Field(default=None, description="Bluesky: cid of the thread's root post.")


def _utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("timestamp must carry a time zone (e.g. '2026-11-23T10:00:00Z')")
    return value.astimezone(UTC)


class Mention(BaseModel):
    """One public post, comment or review. Natural key: (source, external_id)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    source: Platform = Field(description="Platform the mention was published on.")
    external_id: Id = Field(
        min_length=1, description="The platform's own id for the post (stable across re-collection)."
    )
    url: Clean | None = Field(default=None, description="Public link to the post.")
    author: Author
    text: Clean = Field(min_length=1, description="Body text as published (plain text), cut at MAX_TEXT_CHARS.")
    title: Clean | None = Field(default=None, description="Title, for reviews, Reddit/HN posts and feed items.")
    language: Annotated[
        str | None, BeforeValidator(lambda v: None if isinstance(v, str) and len(v) > MAX_LANGUAGE_CHARS else v)
    ] = Field(default=None, description="ISO 639-1 code, from the platform or detected offline.")
    created_at: datetime = Field(description="When it was published (UTC).")
    collected_at: datetime = Field(default_factory=lambda: datetime.now(UTC), description="When we collected it (UTC).")
    engagement: Engagement = Field(default_factory=Engagement)
    rating: float | None = Field(default=None, ge=0, le=5, description="Review stars normalised to a 0–5 scale.")
    local_id: Id | None = Field(
        default=None,
        description="The post's id on the server we read it from, where that differs from external_id (a Mastodon "
        "status's instance-local id: the instance's API looks statuses up, and names reply parents, by it).",
    )
    reply_to_id: Id | None = Field(default=None, description="external_id of the post this replies to.")
    thread_id: Id | None = Field(default=None, description="external_id of the thread's root post.")
    reply_ref: ReplyRef | None = Field(
        default=None, description="What replying on the platform needs beyond external_id (see ReplyRef)."
    )
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

    @model_validator(mode="before")
    @classmethod
    def _cut_to_fit(cls, data: Any) -> Any:
        """A text or title past its limit is cut, and the mention says so ('truncated:text'): a feed that sends
        a whole article, or a 10 MB post, still gives one readable mention."""
        if not isinstance(data, dict):
            return data
        cut: dict[str, Any] = {}
        for name, limit in (("text", MAX_TEXT_CHARS), ("title", MAX_TITLE_CHARS)):
            value = data.get(name)
            if isinstance(value, str) and len(value) > limit:
                cut[name] = value[:limit]
        if not cut:
            return data
        signals = tuple(data.get("signals") or ())
        return {
            **data,
            **cut,
            "signals": (*signals, *(f"truncated:{name}" for name in cut if f"truncated:{name}" not in signals)),
        }

    @model_validator(mode="after")
    def _not_from_the_future(self) -> Mention:
        if self.created_at - self.collected_at > MAX_FUTURE:
            raise ValueError(
                f"created_at {self.created_at.isoformat()} is after it was collected "
                f"({self.collected_at.isoformat()}): a wrong date, not a post from the future"
            )
        return self


def payload_hash(payload: Any) -> str:
    """A stable sha256 of a raw payload (dicts are hashed with sorted keys)."""
    if isinstance(payload, bytes):
        data = payload
    elif isinstance(payload, str):
        data = payload.encode()
    else:
        data = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str).encode()
    return hashlib.sha256(data).hexdigest()
