"""The marketing and communications pages: the dashboard (a brand or competitor scope, an inclusive from–to range
of days in a chosen time zone, a CSV per panel), the alerts and the posts each alert was raised on.

Every figure comes from `overheard.services.metrics.dashboard`, whose `report` is the one `overheard report`
builds; a panel's CSV is `overheard.report.csv_text` of that report, so the page, its CSV and the command line
give the same numbers for the same range.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, Response

from overheard import report as reporting
from overheard.api.auth import Capability
from overheard.config import OverheardConfig
from overheard.services import alerts, metrics
from overheard.web import charts
from overheard.web.pages import LANGUAGES, Db, User, _language, render
from storage.metrics import Granularity, LanguageCount

router = APIRouter(include_in_schema=False)

ZONES = (
    "UTC", "Europe/London", "Europe/Berlin", "Europe/Paris", "America/New_York", "America/Chicago",
    "America/Los_Angeles", "Asia/Kolkata", "Asia/Tokyo", "Australia/Sydney",
)  # fmt: skip
"""Time zones the form offers; any IANA name typed in works too."""
ALERT_DAYS = 90
"""The alerts page shows this many days up to today unless asked for a range."""


@dataclass(frozen=True)
class Range:
    """The days asked for, both included, in `tz`; `start`/`end` are the instants [start, end) they cover.

    `problem` says what was wrong with what the form sent (the range shown is then the default one)."""

    first: date
    last: date
    tz: str
    start: datetime
    end: datetime
    problem: str | None = None

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    def query(self, **extra: str) -> str:
        return urlencode({"from": self.first.isoformat(), "to": self.last.isoformat(), "tz": self.tz, **extra})


def _zone(name: str) -> tuple[str, str | None]:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return "UTC", f"'{name[:64]}' is not a time zone (e.g. Europe/Berlin); showing UTC"
    return name, None


def _date(text: str | None) -> date | None:
    try:
        day = date.fromisoformat(text or "")
    except ValueError:
        return None
    return day if 1971 <= day.year <= 2998 else None


def day_range(params: Any, default_days: int = metrics.DEFAULT_DAYS) -> Range:
    """The range of days the query asks for: `from` and `to` (both included) in `tz`; by default the
    `default_days` days up to today, today included, so the first day is whole. The older `end` (excluded)
    and `days` still work."""
    tz, problem = _zone((params.get("tz") or "UTC").strip())
    today = datetime.now(ZoneInfo(tz)).date()
    first, last = _date(params.get("from")), _date(params.get("to"))
    if first is None and last is None and params.get("end"):
        end = _date(params.get("end"))
        try:
            days = int(params.get("days") or default_days)
        except ValueError:
            days = default_days
        if end is not None:
            last, first = end - timedelta(days=1), end - timedelta(days=min(max(days, 1), metrics.MAX_DAYS))
    if (params.get("from") and first is None) or (params.get("to") and last is None):
        problem = "dates are YYYY-MM-DD between 1971 and 2998; showing the default range"
        first = last = None
    last = last or (first + timedelta(days=default_days - 1) if first else today)
    first = first or last - timedelta(days=default_days - 1)
    if last < first:
        problem, first, last = f"'to' ({last}) is before 'from' ({first}); swapped them", last, first
    if (last - first).days + 1 > metrics.MAX_DAYS:
        problem, first = (
            f"a range is at most {metrics.MAX_DAYS} days; showing the last {metrics.MAX_DAYS}",
            (last - timedelta(days=metrics.MAX_DAYS - 1)),
        )
    start, end = reporting.period(first.isoformat(), last.isoformat(), tz)
    return Range(first, last, tz, start, end, problem)


def scopes(config: OverheardConfig) -> list[tuple[str, str]]:
    """(query name, label) of every brand and competitor the dashboard can be narrowed to."""
    found = [(f"brand:{b.name}", f"{b.name} (our brand)") for b in config.brands]
    return found + [(f"competitor:{c.name}", f"{c.name} (competitor)") for c in config.competitors]


def _scope(request: Request) -> str | None:
    """The brand or competitor asked for, if it is one overheard.yaml names; else None (all of them)."""
    asked = request.query_params.get("scope") or ""
    return asked if asked in dict(scopes(request.app.state.config)) else None


def _label(bucket: datetime, granularity: Granularity) -> str:
    if granularity is Granularity.hour:
        return bucket.strftime("%d %b %H:00")
    return bucket.strftime("%d %b" if granularity is Granularity.day else "wk %d %b")


def _charts(report: metrics.Report, marked: list[int]) -> dict[str, Any]:
    step = report.granularity
    labels = [_label(p.bucket, step) for p in report.volume]
    return {
        "volume_chart": charts.line_chart(
            f"Mentions per {step.value}",
            [charts.Point(label, p.mentions) for label, p in zip(labels, report.volume, strict=True)],
            marked,
        ),
        "sentiment_chart": charts.stacked_bars(
            f"Sentiment per {step.value}",
            [_label(p.bucket, step) for p in report.sentiment],
            {name: [getattr(p, name) for p in report.sentiment] for name in ("negative", "neutral", "positive")},
        ),
        "voice_chart": charts.horizontal_bars(
            "Share of voice (mentions)",
            [(v.name, v.share_by_mentions, f"{v.share_by_mentions:.0%} · {v.mentions}") for v in report.share_of_voice],
        ),
        "sources_chart": charts.horizontal_bars(
            "Mentions by source",
            [
                (s.source, float(s.mentions), f"{s.mentions} · reach {s.potential_reach:,}" if s.reach_reported
                 else f"{s.mentions} · reach unknown")
                for s in report.sources
            ],
        ),
    }  # fmt: skip


def _offered(counts: list[LanguageCount], chosen: str | None) -> list[tuple[str, int]]:
    """The language filter's choices: the period's languages with their mentions, then the languages Overheard
    reads, then the chosen one (so a filter with no mentions stays visible)."""
    in_period = {c.language: c.mentions for c in counts if c.language}
    offered = dict.fromkeys([*in_period, *LANGUAGES, *([chosen] if chosen else [])])
    return [(code, in_period.get(code, 0)) for code in offered]


@router.get("/dashboard", response_class=HTMLResponse)
def dashboard(request: Request, principal: User, engine: Db) -> HTMLResponse:
    """The marketing dashboard: `from`, `to` (days, both included), `tz`, `scope` (a brand or competitor) and
    `language` (ISO 639-1)."""
    asked = day_range(request.query_params)
    scope = _scope(request)
    language = _language(request.query_params.get("language"))
    found = metrics.dashboard(
        engine, principal, asked.start, asked.end, scope, asked.tz, request.app.state.config.alerts.volume, language
    )
    report, latest = found.report, found.latest
    can_inbox = principal.can(Capability.read_mentions)  # marketing sees aggregates, not the posts behind a spike
    latest_link = None
    if latest is not None:
        last = latest.astimezone(ZoneInfo(asked.tz)).date()
        latest_link = "/dashboard?" + urlencode(
            {"from": (last - timedelta(days=asked.days - 1)).isoformat(), "to": last.isoformat(), "tz": asked.tz,
             "scope": scope or "", "language": language or ""}
        )  # fmt: skip
    spike_days = [
        (_label(report.volume[i].bucket, report.granularity),
         "/inbox?" + urlencode({"status": "", "since": day, "until": day} | ({"language": language} if language else {}))
         if can_inbox else None)
        for i in found.spike_days
        for day in [report.volume[i].bucket.date().isoformat()]
    ]  # fmt: skip
    alert_list = (
        alerts.list_alerts(engine, principal, asked.start, asked.end) if principal.can(Capability.read_alerts) else None
    )
    return render(
        request, "dashboard.html", principal, r=report, k=report.kpis.current, span=asked, scope=scope,
        scopes=scopes(request.app.state.config), zones=ZONES, latest=latest, latest_link=latest_link,
        spike_days=spike_days, alerts=alert_list, export=lambda table: f"/dashboard/export/{table}.csv?"
        + asked.query(scope=scope or "", language=language or ""), **_charts(report, found.spike_days),
        language=language, languages=_offered(found.languages, language),
    )  # fmt: skip


@router.get("/dashboard/export/{table}.csv")
def export(table: str, request: Request, principal: User, engine: Db) -> Response:
    """One panel's figures as CSV: the same bytes `overheard report --format csv` writes to `<table>.csv` for the
    same range, scope and time zone."""
    if table not in reporting.CSV_TABLES:
        raise HTTPException(404, f"no panel '{table[:40]}': one of {', '.join(reporting.CSV_TABLES)}")
    asked = day_range(request.query_params)
    scope = _scope(request)
    language = _language(request.query_params.get("language"))
    found = metrics.dashboard(engine, principal, asked.start, asked.end, scope, asked.tz, language=language)
    slug = (scope or "all").replace(":", "-").replace(" ", "_") + (f"-{language}" if language else "")
    name = f"{table}-{slug}-{asked.first}-{asked.last}.csv"
    return Response(
        reporting.csv_text(found.report, table),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.get("/alerts", response_class=HTMLResponse)
def alerts_page(request: Request, principal: User, engine: Db) -> HTMLResponse:
    """Spike and storm alerts of a range of days (`from`, `to`, `tz`; the last 90 days by default), each with
    the posts it was raised on; `kind=negative_share` shows the negative storms only."""
    asked = day_range(request.query_params, ALERT_DAYS)
    kind = request.query_params.get("kind")
    kind = kind if kind in ("volume", "negative_share") else None
    found = alerts.list_alerts(engine, principal, asked.start, asked.end, kind)
    return render(request, "alerts.html", principal, alerts=found, span=asked, kind=kind, zones=ZONES)


@router.get("/alerts/evidence/{mention_id}", response_class=HTMLResponse)
def evidence_page(request: Request, mention_id: int, principal: User, engine: Db) -> HTMLResponse:
    """One post an alert was raised on, read-only: the alerts' readers may open these posts and no other."""
    found = alerts.open_evidence(engine, principal, mention_id)
    return render(request, "evidence.html", principal, m=found.mention, alert_keys=found.alerts)
