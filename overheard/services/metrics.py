"""Aggregates for marketing and the teams: KPIs, volume and sentiment over time, share of voice, top sources and
authors, and the dashboard that shows them together. Every number comes from `storage.metrics`, so it means
the same in the API, on the dashboard and in reports. Naming authors is audited (they are people)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, Engine

from enrichers.alerts import VolumeAlerts, spikes
from overheard.services.access import Caller, Capability, Invalid
from storage import metrics
from storage.audit import record
from storage.mentions import first_mention_at
from storage.schema import now_utc

EARLIEST = datetime(1971, 1, 1, tzinfo=UTC)
LATEST = datetime(2999, 1, 1, tzinfo=UTC)
MAX_DAYS = 366
"""The longest period a figure covers, in days (the API refuses more, the dashboard shows at most this)."""
DEFAULT_DAYS = 30
MAX_AUTHORS = 100
REPORT_TERMS = 20
"""Top terms, two-word phrases and hashtags the report and the dashboard show (one `report`, from `storage.metrics.top_terms_and_hashtags`)."""


def period(end: datetime | None, days: int) -> tuple[datetime, datetime]:
    """[end - days, end); `end` defaults to now and is kept within 1971–2999 so any date the schema allows works."""
    end = min(max(end or now_utc(), EARLIEST), LATEST)
    return end - timedelta(days=days), end


def language_filter(language: str | None) -> str | None:
    """A language filter as a person typed it ('DE', ' de') in the form the figures take ('de'); None or '' is
    none. Raises `Invalid` naming the value when it is not a two-letter ISO 639-1 code."""
    try:
        return metrics.language_code(language)
    except ValueError as error:
        raise Invalid(str(error)) from None


def kpis(
    engine: Engine, caller: Caller, start: datetime, end: datetime, brand: str | None, language: str | None = None
) -> metrics.KpiReport:
    """Headline numbers of the period, with the change on the period before (of one language's mentions when
    `language` is given, ISO 639-1)."""
    caller.require(Capability.read_metrics)
    language = language_filter(language)
    with engine.connect() as connection:
        return metrics.kpis(connection, start, end, brand, language)


def volume(
    engine: Engine,
    caller: Caller,
    start: datetime,
    end: datetime,
    granularity: metrics.Granularity,
    brand: str | None,
    language: str | None = None,
) -> list[metrics.VolumePoint]:
    """Mentions per bucket (UTC)."""
    caller.require(Capability.read_metrics)
    language = language_filter(language)
    with engine.connect() as connection:
        return metrics.volume_series(connection, start, end, granularity, "UTC", brand, language)


def sentiment(
    engine: Engine,
    caller: Caller,
    start: datetime,
    end: datetime,
    granularity: metrics.Granularity,
    brand: str | None,
    language: str | None = None,
) -> list[metrics.SentimentPoint]:
    """Sentiment per bucket (UTC)."""
    caller.require(Capability.read_metrics)
    language = language_filter(language)
    with engine.connect() as connection:
        return metrics.sentiment_series(connection, start, end, granularity, "UTC", brand, language)


def share_of_voice(
    engine: Engine, caller: Caller, start: datetime, end: datetime, language: str | None = None
) -> list[metrics.VoiceShare]:
    """Our brands against the competitors."""
    caller.require(Capability.read_metrics)
    language = language_filter(language)
    with engine.connect() as connection:
        return metrics.share_of_voice(connection, start, end, language)


def top_sources(
    engine: Engine, caller: Caller, start: datetime, end: datetime, brand: str | None, language: str | None = None
) -> list[metrics.SourceReach]:
    """Platforms by mentions, with their authors' reach."""
    caller.require(Capability.read_metrics)
    language = language_filter(language)
    with engine.connect() as connection:
        return metrics.top_sources(connection, start, end, brand, language=language)


def top_terms(
    engine: Engine,
    caller: Caller,
    start: datetime,
    end: datetime,
    brand: str | None,
    language: str | None = None,
    limit: int = 20,
) -> metrics.TermsAndHashtags:
    """The most used words (each mention's language's stopwords left out) and hashtags: the topics of the period."""
    caller.require(Capability.read_metrics)
    language = language_filter(language)
    with engine.connect() as connection:
        return metrics.top_terms_and_hashtags(connection, start, end, brand, limit, language)


def _top_authors(
    connection: Connection,
    caller: Caller,
    start: datetime,
    end: datetime,
    brand: str | None,
    limit: int,
    language: str | None = None,
) -> list[metrics.AuthorReach]:
    found = metrics.top_authors(connection, start, end, brand, limit, language)
    record(connection, caller.name, "metrics.top_authors", "authors", "*", shown=len(found))
    return found


def top_authors(
    engine: Engine,
    caller: Caller,
    start: datetime,
    end: datetime,
    brand: str | None,
    limit: int = 10,
    language: str | None = None,
) -> list[metrics.AuthorReach]:
    """Public handles of the most-followed authors; the view is audited because it names people."""
    caller.require(Capability.read_metrics)
    language = language_filter(language)
    with engine.begin() as connection:
        return _top_authors(connection, caller, start, end, brand, limit, language)


@dataclass(frozen=True)
class Report:
    """Everything one report shows, for one period, brand scope, time zone and (when `language` is set, ISO 639-1)
    language."""

    start: datetime
    end: datetime
    brand: str | None
    tz: str
    granularity: metrics.Granularity
    kpis: metrics.KpiReport
    volume: list[metrics.VolumePoint]
    sentiment: list[metrics.SentimentPoint]
    share_of_voice: list[metrics.VoiceShare]
    sources: list[metrics.SourceReach]
    authors: list[metrics.AuthorReach]
    terms: metrics.TermsAndHashtags
    reviews: list[metrics.SiteRatings]
    comparison: metrics.Comparison  # whether the KPIs' previous period has data to compare with, and why not
    language: str | None = None


def default_granularity(start: datetime, end: datetime) -> metrics.Granularity:
    length = end - start
    if length <= timedelta(days=2):
        return metrics.Granularity.hour
    return metrics.Granularity.day if length <= timedelta(days=92) else metrics.Granularity.week


def report(
    engine: Engine,
    caller: Caller,
    start: datetime,
    end: datetime,
    brand: str | None = None,
    tz: str = "UTC",
    granularity: metrics.Granularity | str | None = None,
    language: str | None = None,
) -> Report:
    """Every figure of [start, end) for one brand scope (all when None) and language (all when None), bucketed in
    `tz` (`overheard report`)."""
    caller.require(Capability.read_metrics)
    language = language_filter(language)
    step = metrics.Granularity(granularity) if granularity else default_granularity(start, end)
    with engine.connect() as c:
        kpis = metrics.kpis(c, start, end, brand, language)
        compared = metrics.comparison(start, end, kpis.previous.mentions, first_mention_at(c))
        return Report(
            start=start,
            end=end,
            brand=brand,
            tz=tz,
            granularity=step,
            kpis=kpis,
            volume=metrics.volume_series(c, start, end, step, tz, brand, language),
            sentiment=metrics.sentiment_series(c, start, end, step, tz, brand, language),
            share_of_voice=metrics.share_of_voice(c, start, end, language),
            sources=metrics.top_sources(c, start, end, brand, language=language),
            authors=metrics.top_authors(c, start, end, brand, 15, language),
            terms=metrics.top_terms_and_hashtags(c, start, end, brand, REPORT_TERMS, language),
            reviews=metrics.review_ratings(c, start, end, brand, language),
            comparison=compared,
            language=language,
        )


@dataclass(frozen=True)
class Dashboard:
    """The marketing dashboard: `report` holds every figure, the very ones its CSV exports and `overheard report`
    give for the same period, scope and time zone; `spike_days` are the indexes in `report.volume` of the days
    the alerts' volume rule marks (daily buckets only); `latest` is when the newest stored mention was posted
    (to offer its period when this one is empty); `languages` are the period's mentions per language in the
    brand scope, whatever language `report` keeps (what the language filter offers)."""

    report: Report
    spike_days: list[int]
    latest: datetime | None
    languages: list[metrics.LanguageCount]


def dashboard(
    engine: Engine,
    caller: Caller,
    start: datetime,
    end: datetime,
    brand: str | None = None,
    tz: str = "UTC",
    spike_rule: VolumeAlerts | None = None,
    language: str | None = None,
) -> Dashboard:
    """The dashboard of [start, end) for one brand or competitor scope (all when None) and language (all when
    None; ISO 639-1, else `Invalid`), bucketed in `tz`.

    Naming authors is audited once per view. Spike days are marked by the alerts' volume rule (`spike_rule`:
    the `alerts.volume` section of overheard.yaml), each day against the other days of the period."""
    built = report(engine, caller, start, end, brand, tz, language=language)
    with engine.begin() as connection:
        if built.authors:
            record(connection, caller.name, "metrics.top_authors", "authors", "*", shown=len(built.authors))
        latest = metrics.latest_mention_at(connection)
        in_period = metrics.languages(connection, start, end, brand)
    daily = built.granularity is metrics.Granularity.day
    marked = spikes([p.mentions for p in built.volume], spike_rule or VolumeAlerts()) if daily else []
    return Dashboard(report=built, spike_days=marked, latest=latest, languages=in_period)
