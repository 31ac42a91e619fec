"""`overheard report`: the period's numbers as a self-contained HTML page, CSV files or JSON.

Every number comes from `storage.metrics`, so a report says what the dashboard and the API say; the CSV files
and the dashboard's CSV exports are written by one function (`csv_text`). Charts are the dashboard's own SVG
(`overheard.web.charts`) written inline: the HTML file opens offline and can be mailed as one file.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import fields, is_dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from enrichers.crm_io import spreadsheet_cell
from overheard.services.metrics import Report
from overheard.web import charts as svg
from storage import metrics

TEMPLATES = Path(__file__).parent / "templates"
FORMATS = ("text", "html", "csv", "json")

KPI_LABELS: dict[str, str] = {
    "mentions": "Mentions",
    "unique_authors": "Unique authors",
    "potential_reach": "Potential reach (followers of distinct authors)",
    "impressions": "Impressions (where the platform reports them)",
    "impressions_reported": "Mentions with reported impressions",
    "engagement": "Engagement (likes + reposts + replies + quotes)",
    "engagement_rate": "Engagement rate (engagement / potential reach)",
    "positive": "Positive",
    "neutral": "Neutral",
    "negative": "Negative",
    "unclassified": "Not classified",
    "net_sentiment": "Net sentiment ((positive − negative) / classified)",
    "reach_reported": "Authors with a follower count (0: potential reach is unknown)",
}


def period(first: str, last: str, tz: str) -> tuple[datetime, datetime]:
    """`--from`/`--to` as a period: dates are whole days in `tz`, both included; date-times are instants.

    A date-time without a zone is read in `tz`; `--to` as a date-time is the (excluded) end.
    """
    zone = ZoneInfo(tz)

    def parse(text: str, is_end: bool) -> datetime:
        try:
            if "T" not in text and " " not in text:
                day = date.fromisoformat(text) + (timedelta(days=1) if is_end else timedelta())
                return datetime(day.year, day.month, day.day, tzinfo=zone)
            moment = datetime.fromisoformat(text)
        except ValueError:
            raise ValueError(f"'{text}' is not a date (2026-11-06) or a date-time (2026-11-06T09:00Z)") from None
        return moment if moment.tzinfo else moment.replace(tzinfo=zone)

    start, end = parse(first, False), parse(last, True)
    if end <= start:
        raise ValueError(f"--to {last} is before --from {first}")
    return start, end


# ---- JSON ------------------------------------------------------------------------------------------------


def _plain(value: Any) -> Any:
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def to_json(report: Report) -> str:
    document = _plain(report)
    document["definitions"] = {name: label for name, label in KPI_LABELS.items()}
    return json.dumps(document, indent=2, ensure_ascii=False)


# ---- CSV -------------------------------------------------------------------------------------------------


CSV_TABLES = (
    "kpis", "volume", "sentiment", "share_of_voice", "sources", "authors", "terms", "phrases", "hashtags", "reviews",
)  # fmt: skip
"""The report's CSV files, one per table (and one per dashboard panel), without '.csv'."""


def _kpi_rows(report: Report) -> list[list[Any]]:
    """Each KPI with the previous period's value and the change; the change is left empty where the previous
    period has no data to compare with (`report.comparison` says why)."""
    k, compared = report.kpis, report.comparison.available
    return [
        [name, KPI_LABELS[name], getattr(k.current, name), getattr(k.previous, name),
         c.absolute if compared else None, c.relative if compared else None]
        for name, c in k.changes.items()
    ]  # fmt: skip


def csv_table(report: Report, table: str) -> tuple[list[str], list[list[Any]]]:
    """The header and rows of one of `CSV_TABLES`. Times are ISO 8601 in the report's time zone."""
    if table == "kpis":
        return ["metric", "label", "current", "previous", "change", "relative_change"], _kpi_rows(report)
    if table == "volume":
        return ["bucket", "mentions"], [[p.bucket.isoformat(), p.mentions] for p in report.volume]
    if table == "sentiment":
        return (
            ["bucket", "positive", "neutral", "negative", "unclassified", "net_sentiment"],
            [[p.bucket.isoformat(), p.positive, p.neutral, p.negative, p.unclassified, p.net_sentiment] for p in report.sentiment],
        )  # fmt: skip
    if table == "share_of_voice":
        return (
            ["query", "kind", "name", "mentions", "share_by_mentions", "potential_reach", "share_by_reach"],
            [[s.query, s.kind, s.name, s.mentions, s.share_by_mentions, s.potential_reach, s.share_by_reach] for s in report.share_of_voice],
        )  # fmt: skip
    if table == "sources":
        return (
            ["source", "mentions", "unique_authors", "potential_reach", "engagement", "reach_reported"],
            [[s.source, s.mentions, s.unique_authors, s.potential_reach, s.engagement, s.reach_reported] for s in report.sources],
        )  # fmt: skip
    if table == "authors":
        return (
            ["source", "handle", "followers", "mentions", "engagement"],
            [[a.source, a.handle, a.followers, a.mentions, a.engagement] for a in report.authors],
        )
    if table == "terms":
        return ["term", "mentions"], [[t.term, t.mentions] for t in report.terms.terms]
    if table == "phrases":
        return ["phrase", "mentions"], [[t.term, t.mentions] for t in report.terms.phrases]
    if table == "hashtags":
        return ["hashtag", "mentions"], [[t.term, t.mentions] for t in report.terms.hashtags]
    if table == "reviews":
        return (
            ["site", "reviews", "average", *(f"stars_{n}" for n in range(6))],
            [[r.site, r.reviews, round(r.average, 3), *(r.distribution[n] for n in range(6))] for r in report.reviews],
        )
    raise ValueError(f"table '{table}' is not one of {', '.join(CSV_TABLES)}")


def csv_text(report: Report, table: str) -> str:
    """One table as CSV text: what `overheard report --format csv` writes to `<table>.csv`, byte for byte, and
    what the dashboard's CSV link of that panel downloads. Authors and terms are strangers' text, so no cell
    may start a spreadsheet formula."""
    return _csv(*csv_table(report, table))


def _csv(header: list[str], rows: list[list[Any]]) -> str:
    buffer = io.StringIO(newline="")
    out = csv.writer(buffer)
    out.writerow(header)
    out.writerows([spreadsheet_cell(v) for v in row] for row in rows)
    return buffer.getvalue()


def write_csv(report: Report, folder: Path) -> list[Path]:
    """One CSV per table, for spreadsheets: kpis, volume, sentiment, share_of_voice, sources, authors,
    terms, phrases, hashtags, reviews. Times are ISO 8601 in the report's time zone."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for table in CSV_TABLES:
        path = folder / f"{table}.csv"
        with path.open("w", newline="", encoding="utf-8") as handle:
            handle.write(csv_text(report, table))
        written.append(path)
    return written


# ---- HTML ------------------------------------------------------------------------------------------------


def _label(bucket: datetime, granularity: metrics.Granularity) -> str:
    if granularity is metrics.Granularity.hour:
        return bucket.strftime("%d %b %H:00")
    return bucket.strftime("%d %b" if granularity is metrics.Granularity.day else "wk %d %b")


def charts(report: Report) -> dict[str, Markup]:
    """The report's charts, drawn by the dashboard's SVG functions (one chart stack for both)."""
    step = report.granularity.value
    labels = [_label(p.bucket, report.granularity) for p in report.volume]
    found = {
        "volume": svg.line_chart(
            f"Mentions per {step} ({report.tz})",
            [svg.Point(label, p.mentions) for label, p in zip(labels, report.volume, strict=True)],
        ),
        "sentiment": svg.stacked_bars(
            f"Sentiment per {step}",
            [_label(p.bucket, report.granularity) for p in report.sentiment],
            {name: [getattr(p, name) for p in report.sentiment] for name in ("negative", "neutral", "positive", "unclassified")},
        ),
        "voice": svg.horizontal_bars(
            "Share of voice: by mentions and by potential reach (%)",
            [(s.name, s.share_by_mentions, f"{s.share_by_mentions:.1%} of mentions · {s.share_by_reach:.1%} of reach")
             for s in report.share_of_voice],
        ),
        "reach": svg.horizontal_bars(
            "Potential reach by source (followers of distinct authors)",
            [(s.source, float(s.potential_reach), f"{s.potential_reach:,}" if s.reach_reported else "unknown")
             for s in sorted(report.sources, key=lambda s: -s.potential_reach)],
        ),
    }  # fmt: skip
    if report.reviews:
        found["ratings"] = svg.stacked_bars(
            "Review ratings: reviews per star",
            [f"{n}★" for n in range(6)],
            {
                f"{site.site} (avg {site.average:.2f})": [site.distribution[n] for n in range(6)]
                for site in report.reviews
            },
        )
    return found


def _number(value: Any, name: str = "") -> str:
    if value is None:
        return "–"
    if name in ("engagement_rate",):
        return f"{value:.2%}"
    if name == "net_sentiment":
        return f"{value:+.2f}"
    if isinstance(value, float):
        return f"{value:,.2f}"
    return f"{value:,}"


def _change(change: metrics.Change, name: str) -> str:
    if change.absolute is None:
        return "–"
    if name in ("engagement_rate", "net_sentiment"):
        sign = "+" if change.absolute >= 0 else "−"
        return f"{sign}{abs(change.absolute) * (100 if name == 'engagement_rate' else 1):.2f}" + (
            " pts" if name == "engagement_rate" else ""
        )
    if change.relative is None:
        return "new" if change.absolute else "–"
    return f"{change.relative:+.0%}"


def render_html(report: Report) -> str:
    environment = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]))
    environment.filters["number"] = _number
    environment.filters["change"] = _change
    environment.filters["pct"] = lambda v: "–" if v is None else f"{v:.1%}"
    return environment.get_template("report.html").render(
        report=report,
        labels=KPI_LABELS,
        charts=charts(report),
        generated=datetime.now(ZoneInfo(report.tz)),
        shown_end=report.end - timedelta(microseconds=1),
    )


def write(report: Report, format: str, out: Path | None) -> list[Path]:
    """Write the report as html (one file), csv (a folder of files) or json (one file); returns the files."""
    if format == "html":
        target = out or Path(f"overheard-report-{report.start:%Y%m%d}-{report.end:%Y%m%d}.html")
        target.write_text(render_html(report), encoding="utf-8")
        return [target]
    if format == "csv":
        return write_csv(report, out or Path(f"overheard-report-{report.start:%Y%m%d}-{report.end:%Y%m%d}"))
    if format == "json":
        target = out or Path(f"overheard-report-{report.start:%Y%m%d}-{report.end:%Y%m%d}.json")
        target.write_text(to_json(report) + "\n", encoding="utf-8")
        return [target]
    raise ValueError(f"format '{format}' is not one of {', '.join(FORMATS)}")


__all__ = [
    "FORMATS",
    "Report",
    "period",
    "render_html",
    "to_json",
    "write",
    "write_csv",
]
