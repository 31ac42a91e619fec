"""Campaigns: the KPIs and daily volume of the mentions carrying a hashtag or a UTM-tagged link."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import Connection

from storage.metrics.reach import _report
from storage.metrics.results import CampaignReport, Granularity
from storage.metrics.scope import _period, _scope
from storage.metrics.series import _volume
from storage.tags import campaign_members


def campaign(
    connection: Connection,
    start: datetime,
    end: datetime,
    *,
    hashtag: str | None = None,
    utm_campaign: str | None = None,
    brand: str | None = None,
    tz: str | ZoneInfo = "UTC",
    language: str | None = None,
) -> CampaignReport:
    """KPIs (with period-over-period change) and daily volume of the mentions carrying a hashtag or UTM link."""
    start, end = _period(start, end)
    before = start - (end - start)
    in_campaign = campaign_members(
        connection, before, end, _scope(before, end, brand, language), hashtag=hashtag, utm_campaign=utm_campaign
    )
    report = _report(connection, start, end, brand, [in_campaign], language)
    daily = _volume(connection, start, end, Granularity.day, tz, [*_scope(start, end, brand, language), in_campaign])
    return CampaignReport(hashtag, utm_campaign, report, daily)
