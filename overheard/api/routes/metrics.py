"""Aggregates for marketing (and the teams): KPIs, volume and sentiment over time, share of voice, top sources
and authors. Every number comes from `storage.metrics`, so it means the same here as in reports."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from sqlalchemy import Engine

from overheard.api.auth import ERRORS, Capability, Principal, allow, engine_of
from overheard.api.models import Instant, text
from overheard.services import metrics as figures
from storage import metrics

router = APIRouter(prefix="/api/metrics", tags=["metrics"], responses=ERRORS)
Brand = Annotated[str, text(256)]
period = figures.period

End = Annotated[Instant | None, Query(description="End of the period (exclusive); default now.")]
Days = Annotated[int, Query(ge=1, le=figures.MAX_DAYS, description="Length of the period, in days.")]
BrandQuery = Annotated[Brand | None, Query(description="Only mentions matching this brand's query.")]
LanguageQuery = Annotated[
    str | None,
    Query(
        pattern="^[A-Za-z]{2}$",
        description="Only mentions in this language (ISO 639-1, e.g. 'de'; detected offline when the platform "
        "did not say). Mentions whose language is unknown are in no language's figures.",
    ),
]


@router.get(
    "/kpis", response_model=metrics.KpiReport, summary="Headline numbers with the change on the previous period"
)
def kpis(
    principal: Annotated[Principal, Depends(allow(Capability.read_metrics))],
    engine: Annotated[Engine, Depends(engine_of)],
    end: End = None,
    days: Days = figures.DEFAULT_DAYS,
    brand: BrandQuery = None,
    language: LanguageQuery = None,
) -> metrics.KpiReport:
    return figures.kpis(engine, principal, *period(end, days), brand, language)


@router.get("/volume", response_model=list[metrics.VolumePoint], summary="Mentions per bucket")
def volume(
    principal: Annotated[Principal, Depends(allow(Capability.read_metrics))],
    engine: Annotated[Engine, Depends(engine_of)],
    end: End = None,
    days: Days = figures.DEFAULT_DAYS,
    granularity: metrics.Granularity = metrics.Granularity.day,
    brand: BrandQuery = None,
    language: LanguageQuery = None,
) -> list[metrics.VolumePoint]:
    return figures.volume(engine, principal, *period(end, days), granularity, brand, language)


@router.get("/sentiment", response_model=list[metrics.SentimentPoint], summary="Sentiment per bucket")
def sentiment(
    principal: Annotated[Principal, Depends(allow(Capability.read_metrics))],
    engine: Annotated[Engine, Depends(engine_of)],
    end: End = None,
    days: Days = figures.DEFAULT_DAYS,
    granularity: metrics.Granularity = metrics.Granularity.day,
    brand: BrandQuery = None,
    language: LanguageQuery = None,
) -> list[metrics.SentimentPoint]:
    return figures.sentiment(engine, principal, *period(end, days), granularity, brand, language)


@router.get("/share-of-voice", response_model=list[metrics.VoiceShare], summary="Brand against competitors")
def share_of_voice(
    principal: Annotated[Principal, Depends(allow(Capability.read_metrics))],
    engine: Annotated[Engine, Depends(engine_of)],
    end: End = None,
    days: Days = figures.DEFAULT_DAYS,
    language: LanguageQuery = None,
) -> list[metrics.VoiceShare]:
    return figures.share_of_voice(engine, principal, *period(end, days), language)


@router.get("/top-sources", response_model=list[metrics.SourceReach], summary="Platforms by mentions")
def top_sources(
    principal: Annotated[Principal, Depends(allow(Capability.read_metrics))],
    engine: Annotated[Engine, Depends(engine_of)],
    end: End = None,
    days: Days = figures.DEFAULT_DAYS,
    brand: BrandQuery = None,
    language: LanguageQuery = None,
) -> list[metrics.SourceReach]:
    return figures.top_sources(engine, principal, *period(end, days), brand, language)


@router.get(
    "/top-terms",
    response_model=metrics.TermsAndHashtags,
    summary="Top terms, two-word phrases and hashtags (each mention's language's stopwords left out)",
)
def top_terms(
    principal: Annotated[Principal, Depends(allow(Capability.read_metrics))],
    engine: Annotated[Engine, Depends(engine_of)],
    end: End = None,
    days: Days = figures.DEFAULT_DAYS,
    brand: BrandQuery = None,
    language: LanguageQuery = None,
    limit: Annotated[int, Query(ge=1, le=100)] = figures.REPORT_TERMS,
) -> metrics.TermsAndHashtags:
    """The period's topics, as the report and the dashboard show them."""
    return figures.top_terms(engine, principal, *period(end, days), brand, language, limit)


@router.get("/top-authors", response_model=list[metrics.AuthorReach], summary="Authors with the largest reach")
def top_authors(
    principal: Annotated[Principal, Depends(allow(Capability.read_metrics))],
    engine: Annotated[Engine, Depends(engine_of)],
    end: End = None,
    days: Days = figures.DEFAULT_DAYS,
    brand: BrandQuery = None,
    limit: Annotated[int, Query(ge=1, le=figures.MAX_AUTHORS)] = 10,
    language: LanguageQuery = None,
) -> list[metrics.AuthorReach]:
    """Public handles of the most-followed authors; the view is audited because it names people."""
    return figures.top_authors(engine, principal, *period(end, days), brand, limit, language)
