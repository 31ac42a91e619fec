"""The figures' read models: plain frozen dataclasses (KPIs, points of a series, shares, reaches), and
their rows for CSV and JSON."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, fields
from datetime import datetime
from enum import StrEnum
from typing import Any


class Granularity(StrEnum):
    hour = "hour"
    day = "day"
    week = "week"


# ---- results ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Kpis:
    """Headline numbers of one period. Reach is *potential* reach (see the module docstring)."""

    mentions: int
    unique_authors: int
    potential_reach: int = field(metadata={"unit": "followers"})
    impressions: int = field(metadata={"unit": "views, where the platform reports them"})
    impressions_reported: int = field(metadata={"unit": "mentions whose platform reported impressions"})
    engagement: int = field(metadata={"unit": "likes + reposts + replies + quotes"})
    engagement_rate: float | None = field(metadata={"unit": "engagement / potential reach"})
    positive: int
    neutral: int
    negative: int
    unclassified: int
    net_sentiment: float | None = field(metadata={"unit": "(positive - negative) / classified, -1..1"})
    reach_reported: int = field(
        default=0, metadata={"unit": "distinct authors whose platform reports a follower count"}
    )  # 0 with authors: reach is unknown (no platform said), not zero

    @property
    def reach_known(self) -> bool:
        """False when no author of the period has a follower count: potential reach is unknown, not 0."""
        return self.reach_reported > 0


@dataclass(frozen=True)
class Change:
    """How a number moved from the previous period: `relative` is None when the previous value was 0."""

    previous: float | None
    current: float | None
    absolute: float | None
    relative: float | None


@dataclass(frozen=True)
class KpiReport:
    """KPIs of [start, end) and of the period of the same length just before, with the change of each."""

    start: datetime
    end: datetime
    brand: str | None
    current: Kpis
    previous: Kpis
    changes: dict[str, Change]
    language: str | None = None  # ISO 639-1 when the figures keep one language's mentions


@dataclass(frozen=True)
class LanguageCount:
    """Mentions of one language in a period; `language` is ISO 639-1, None for mentions whose language is unknown."""

    language: str | None
    mentions: int


@dataclass(frozen=True)
class VolumePoint:
    bucket: datetime  # bucket start, in the requested time zone
    mentions: int


@dataclass(frozen=True)
class SentimentPoint:
    bucket: datetime
    positive: int
    neutral: int
    negative: int
    unclassified: int
    net_sentiment: float | None


@dataclass(frozen=True)
class VoiceShare:
    """One brand or competitor's share of voice; shares are 0..1 over all brands and competitors."""

    query: str  # 'brand:Lumora', 'competitor:Brightwave'
    name: str
    kind: str  # 'brand' | 'competitor'
    mentions: int
    potential_reach: int
    share_by_mentions: float
    share_by_reach: float


@dataclass(frozen=True)
class AuthorReach:
    source: str
    handle: str
    followers: int | None
    mentions: int
    engagement: int


@dataclass(frozen=True)
class SourceReach:
    source: str
    mentions: int
    unique_authors: int
    potential_reach: int
    engagement: int
    reach_reported: int = 0  # authors whose platform reports a follower count; 0: the source's reach is unknown


@dataclass(frozen=True)
class TermCount:
    term: str
    mentions: int  # mentions that use it (a mention counts once)


@dataclass(frozen=True)
class TermsAndHashtags:
    terms: list[TermCount]
    hashtags: list[TermCount]
    mentions_read: int  # at most TERM_SAMPLE_LIMIT
    mentions_in_period: int
    phrases: list[TermCount] = field(default_factory=list)  # two words in a row, neither a stopword, in ≥ 2 mentions


@dataclass(frozen=True)
class CampaignReport:
    """A campaign's mentions: those carrying `#hashtag` or a link with `utm_campaign=<utm_campaign>`."""

    hashtag: str | None
    utm_campaign: str | None
    kpis: KpiReport
    daily: list[VolumePoint]


@dataclass(frozen=True)
class SiteRatings:
    site: str  # host of the review URL, e.g. 'www.homereviews.example'
    reviews: int
    average: float
    distribution: dict[int, int]  # stars (rounded half up, 0..5) -> reviews


def as_rows(items: Iterable[Any]) -> list[dict[str, Any]]:
    """Dataclass results as plain dicts (for CSV/JSON); datetimes as ISO 8601."""
    rows = []
    for item in items:
        row = {}
        for f in fields(item):
            value = getattr(item, f.name)
            row[f.name] = value.isoformat() if isinstance(value, datetime) else value
        rows.append(row)
    return rows
