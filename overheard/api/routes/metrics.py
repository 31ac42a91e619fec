"""Aggregates for marketing (and the teams): KPIs, volume and sentiment over time, share of voice, top sources
and authors. Every number comes from `storage.metrics`, so it means the same here as in reports."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from sqlalchemy import Engine

from overheard.api.auth import ERRORS, Capability, Principal, allow, engine_of
from overheard.api.models import Instant, text
from storage import metrics
from storage.audit import record
from storage.schema import now_utc

router = APIRouter(prefix="/api/metrics", tags=["metrics"], responses=ERRORS)
_EARLIEST = datetime(1971, 1, 1, tzinfo=UTC)
_LATEST = datetime(2999, 1, 1, tzinfo=UTC)
Brand = Annotated[str, text(256)]


def period(end: datetime | None, days: int) -> tuple[datetime, datetime]:
    """[end - days, end); `end` defaults to now and is kept within 1971–2999 so any date the schema allows works."""
    end = min(max(end or now_utc(), _EARLIEST), _LATEST)
    return end - timedelta(days=days), end


End = Annotated[Instant | None, Query(description="End of the period (exclusive); default now.")]
Days = Annotated[int, Query(ge=1, le=366, description="Length of the period, in days.")]
BrandQuery = Annotated[Brand | None, Query(description="Only mentions matching this brand's query.")]


@router.get(
    "/kpis", response_model=metrics.KpiReport, summary="Headline numbers with the change on the previous period"
)
def kpis(
    principal: Annotated[Principal, Depends(allow(Capability.read_metrics))],
    engine: Annotated[Engine, Depends(engine_of)],
    end: End = None,
    days: Days = 30,
    brand: BrandQuery = None,
) -> metrics.KpiReport:
    with engine.connect() as connection:
        return metrics.kpis(connection, *period(end, days), brand)


@router.get("/volume", response_model=list[metrics.VolumePoint], summary="Mentions per bucket")
def volume(
    principal: Annotated[Principal, Depends(allow(Capability.read_metrics))],
    engine: Annotated[Engine, Depends(engine_of)],
    end: End = None,
    days: Days = 30,
    granularity: metrics.Granularity = metrics.Granularity.day,
    brand: BrandQuery = None,
) -> list[metrics.VolumePoint]:
    with engine.connect() as connection:
        return metrics.volume_series(connection, *period(end, days), granularity, "UTC", brand)


@router.get("/sentiment", response_model=list[metrics.SentimentPoint], summary="Sentiment per bucket")
def sentiment(
    principal: Annotated[Principal, Depends(allow(Capability.read_metrics))],
    engine: Annotated[Engine, Depends(engine_of)],
    end: End = None,
    days: Days = 30,
    granularity: metrics.Granularity = metrics.Granularity.day,
    brand: BrandQuery = None,
) -> list[metrics.SentimentPoint]:
    with engine.connect() as connection:
        return metrics.sentiment_series(connection, *period(end, days), granularity, "UTC", brand)


@router.get("/share-of-voice", response_model=list[metrics.VoiceShare], summary="Brand against competitors")
def share_of_voice(
    principal: Annotated[Principal, Depends(allow(Capability.read_metrics))],
    engine: Annotated[Engine, Depends(engine_of)],
    end: End = None,
    days: Days = 30,
) -> list[metrics.VoiceShare]:
    with engine.connect() as connection:
        return metrics.share_of_voice(connection, *period(end, days))


@router.get("/top-sources", response_model=list[metrics.SourceReach], summary="Platforms by mentions")
def top_sources(
    principal: Annotated[Principal, Depends(allow(Capability.read_metrics))],
    engine: Annotated[Engine, Depends(engine_of)],
    end: End = None,
    days: Days = 30,
    brand: BrandQuery = None,
) -> list[metrics.SourceReach]:
    with engine.connect() as connection:
        return metrics.top_sources(connection, *period(end, days), brand)


@router.get("/top-authors", response_model=list[metrics.AuthorReach], summary="Authors with the largest reach")
def top_authors(
    principal: Annotated[Principal, Depends(allow(Capability.read_metrics))],
    engine: Annotated[Engine, Depends(engine_of)],
    end: End = None,
    days: Days = 30,
    brand: BrandQuery = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 10,
) -> list[metrics.AuthorReach]:
    """Public handles of the most-followed authors; the view is audited because it names people."""
    with engine.begin() as connection:
        found = metrics.top_authors(connection, *period(end, days), brand, limit)
        record(connection, principal.name, "metrics.top_authors", "authors", "*", shown=len(found))
    return found
