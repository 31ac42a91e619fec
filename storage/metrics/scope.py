"""Which mentions a figure counts: the period (aware datetimes, end exclusive), a brand's query, the language,
and the SQL expressions every figure shares (a mention's sentiment, its engagement)."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, case, cast, func, or_, select
from sqlalchemy import Text as SqlText

from storage.schema import mentions, verdicts


def query_name(brand: str) -> str:
    """'Lumora' → 'brand:Lumora'; a full query name ('product:Lumora Hub', 'competitor:X') is kept."""
    return brand if ":" in brand else f"brand:{brand}"


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def matches_query(name: str) -> ColumnElement[bool]:
    """True where a mention's matched_queries hold `name`: a LIKE on the JSON text, the same on both backends.

    Stored JSON is written by json.dumps on both backends, so the quoted name appears exactly so.
    """
    needle = _like_escape(json.dumps(name))
    return cast(mentions.c.matched_queries, SqlText).like(f"%{needle}%", escape="\\")


def _aware(value: datetime, what: str) -> datetime:
    if value.tzinfo is None:
        raise ValueError(f"{what} {value!r} has no time zone; pass an aware datetime")
    return value.astimezone(UTC)


def _period(start: datetime, end: datetime) -> tuple[datetime, datetime]:
    start, end = _aware(start, "start"), _aware(end, "end")
    if end <= start:
        raise ValueError(f"the period ends ({end:%Y-%m-%d %H:%M}) before it starts ({start:%Y-%m-%d %H:%M})")
    return start, end


COUNTED_SQL = "(m.flag IS NULL OR m.flag <> 'spam')"
"""The same condition as `counted()`, for the rollups' SQL (where the mentions table is aliased `m`)."""


def counted() -> ColumnElement[bool]:
    """Mentions a figure counts: not flagged as spam or a scam (enrichers.noise). Flagged mentions stay stored and
    reviewable; the brand's own posts and posts about competitors still count (share of voice needs them)."""
    return or_(mentions.c.flag.is_(None), mentions.c.flag != "spam")


_LANGUAGE = re.compile(r"[a-z]{2}")


def language_code(language: str | None) -> str | None:
    """A language filter as stored mentions hold it (ISO 639-1, lower case: 'DE' → 'de'); None or '' is no
    filter. Raises ValueError naming the value when it is not a two-letter code."""
    if language is None or not language.strip():
        return None
    code = language.strip().lower()
    if not _LANGUAGE.fullmatch(code):
        raise ValueError(f"language {language[:20]!r} is not a two-letter ISO 639-1 code such as 'de' or 'fr'")
    return code


def _language_condition(language: str | None) -> list[ColumnElement[bool]]:
    code = language_code(language)
    return [mentions.c.language == code] if code else []


def _scope(start: datetime, end: datetime, brand: str | None, language: str | None = None) -> list[ColumnElement[bool]]:
    start, end = _period(start, end)
    conditions = [mentions.c.created_at >= start, mentions.c.created_at < end, counted()]
    if brand:
        conditions.append(matches_query(query_name(brand)))
    return conditions + _language_condition(language)


_sentiment = func.coalesce(verdicts.c.human_sentiment, verdicts.c.sentiment)
_engagement = (
    func.coalesce(mentions.c.likes, 0)
    + func.coalesce(mentions.c.reposts, 0)
    + func.coalesce(mentions.c.replies, 0)
    + func.coalesce(mentions.c.quotes, 0)
)


def _count_if(condition: ColumnElement[bool]) -> Any:
    return func.sum(case((condition, 1), else_=0))


def _int(value: Any) -> int:
    return int(value or 0)


def _ratio(numerator: float, denominator: float) -> float | None:
    return numerator / denominator if denominator else None


def _net(positive: int, negative: int, classified: int) -> float | None:
    return _ratio(positive - negative, classified)


def _scope_name(brand: str | None) -> str:
    return query_name(brand) if brand else ""


def _brand_condition(brand: str | None, language: str | None = None) -> list[ColumnElement[bool]]:
    return ([matches_query(query_name(brand))] if brand else []) + _language_condition(language)


def latest_mention_at(connection: Connection) -> datetime | None:
    """When the newest stored mention was posted (None when none is stored)."""
    return connection.execute(select(func.max(mentions.c.created_at))).scalar_one()
