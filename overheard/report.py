"""`overheard report`: the period's numbers as a self-contained HTML page, CSV files or JSON.

Every number comes from `storage.metrics`, so a report says what the dashboard and the API say. Charts
are SVG drawn by pygal and written inline: the HTML file opens offline and can be mailed as one file.
"""

from __future__ import annotations

import csv
import json
import sys
from dataclasses import fields, is_dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pygal
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup
from pygal.style import Style

from enrichers.crm_io import spreadsheet_cell
from overheard.services.metrics import Report
from storage import metrics

# pygal puts a legacy importer (find_module only, no find_spec) on sys.meta_path for its plugin maps, which
# breaks importlib-based importers such as pytest's. Overheard uses no pygal plugin, so take it back off.
sys.meta_path[:] = [finder for finder in sys.meta_path if type(finder).__name__ != "PluginImportFixer"]

TEMPLATES = Path(__file__).parent / "templates"
FORMATS = ("text", "html", "csv", "json")
_COLOURS = {"positive": "#2e7d32", "neutral": "#9e9e9e", "negative": "#c62828", "unclassified": "#d7ccc8"}
_STYLE = Style(
    background="white",
    plot_background="white",
    font_family="system-ui, -apple-system, 'Segoe UI', sans-serif",
    colors=("#1565c0", "#ef6c00", "#6a1b9a", "#00838f", "#ad1457", "#558b2f", "#4e342e"),
    title_font_size=16,
    label_font_size=11,
    major_label_font_size=11,
    legend_font_size=12,
)

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


def _write(path: Path, header: list[str], rows: list[list[Any]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        out = csv.writer(handle)
        out.writerow(header)
        out.writerows([spreadsheet_cell(v) for v in row] for row in rows)  # authors, terms: strangers' text
    return path


def write_csv(report: Report, folder: Path) -> list[Path]:
    """One CSV per table, for spreadsheets: kpis, volume, sentiment, share_of_voice, sources, authors,
    terms, hashtags, reviews. Times are ISO 8601 in the report's time zone."""
    folder.mkdir(parents=True, exist_ok=True)
    k = report.kpis
    kpi_rows = [
        [name, KPI_LABELS[name], getattr(k.current, name), getattr(k.previous, name), c.absolute, c.relative]
        for name, c in k.changes.items()
    ]
    return [
        _write(
            folder / "kpis.csv", ["metric", "label", "current", "previous", "change", "relative_change"], kpi_rows
        ),
        _write(folder / "volume.csv", ["bucket", "mentions"], [[p.bucket.isoformat(), p.mentions] for p in report.volume]),
        _write(
            folder / "sentiment.csv",
            ["bucket", "positive", "neutral", "negative", "unclassified", "net_sentiment"],
            [[p.bucket.isoformat(), p.positive, p.neutral, p.negative, p.unclassified, p.net_sentiment] for p in report.sentiment],
        ),
        _write(
            folder / "share_of_voice.csv",
            ["query", "kind", "name", "mentions", "share_by_mentions", "potential_reach", "share_by_reach"],
            [[s.query, s.kind, s.name, s.mentions, s.share_by_mentions, s.potential_reach, s.share_by_reach] for s in report.share_of_voice],
        ),
        _write(
            folder / "sources.csv",
            ["source", "mentions", "unique_authors", "potential_reach", "engagement"],
            [[s.source, s.mentions, s.unique_authors, s.potential_reach, s.engagement] for s in report.sources],
        ),
        _write(
            folder / "authors.csv",
            ["source", "handle", "followers", "mentions", "engagement"],
            [[a.source, a.handle, a.followers, a.mentions, a.engagement] for a in report.authors],
        ),
        _write(folder / "terms.csv", ["term", "mentions"], [[t.term, t.mentions] for t in report.terms.terms]),
        _write(folder / "hashtags.csv", ["hashtag", "mentions"], [[t.term, t.mentions] for t in report.terms.hashtags]),
        _write(
            folder / "reviews.csv",
            ["site", "reviews", "average", *(f"stars_{n}" for n in range(6))],
            [[r.site, r.reviews, round(r.average, 3), *(r.distribution[n] for n in range(6))] for r in report.reviews],
        ),
    ]  # fmt: skip


# ---- HTML ------------------------------------------------------------------------------------------------


def _svg(chart: Any) -> Markup:
    return Markup(chart.render(is_unicode=True))  # pygal escapes the labels it draws


def _chart(kind: type[Any], title: str, **options: Any) -> Any:
    return kind(
        title=title,
        style=options.pop("style", _STYLE),
        js=[],  # no external script: the file must open offline
        disable_xml_declaration=True,
        width=options.pop("width", 900),
        height=options.pop("height", 320),
        **options,
    )


def _label(bucket: datetime, granularity: metrics.Granularity) -> str:
    if granularity is metrics.Granularity.hour:
        return bucket.strftime("%d %b %H:00")
    return bucket.strftime("%d %b" if granularity is metrics.Granularity.day else "wk %d %b")


def charts(report: Report) -> dict[str, Markup]:
    labels = [_label(p.bucket, report.granularity) for p in report.volume]
    step = max(1, len(labels) // 14)
    volume = _chart(pygal.Bar, f"Mentions per {report.granularity.value} ({report.tz})", show_legend=False,
                    x_label_rotation=30, x_labels_major_every=step, show_minor_x_labels=step == 1)  # fmt: skip
    volume.x_labels = labels
    volume.add("mentions", [p.mentions for p in report.volume])

    colours = tuple(_COLOURS[n] for n in ("positive", "neutral", "negative", "unclassified"))
    sentiment = _chart(pygal.StackedBar, f"Sentiment per {report.granularity.value}",
                       style=Style(**{**_STYLE.to_dict(), "colors": colours}), x_label_rotation=30,
                       x_labels_major_every=step, show_minor_x_labels=step == 1, legend_at_bottom=True)  # fmt: skip
    sentiment.x_labels = labels
    for name in ("positive", "neutral", "negative", "unclassified"):
        sentiment.add(name, [getattr(p, name) for p in report.sentiment])

    voice = _chart(pygal.HorizontalBar, "Share of voice: by mentions and by potential reach (%)", legend_at_bottom=True)
    shares = report.share_of_voice[::-1]  # pygal draws the first bar at the bottom; read the largest first
    voice.x_labels = [s.name for s in shares]
    voice.add("by mentions", [round(100 * s.share_by_mentions, 1) for s in shares])
    voice.add("by potential reach", [round(100 * s.share_by_reach, 1) for s in shares])

    reach = _chart(pygal.HorizontalBar, "Potential reach by source (followers of distinct authors)",
                   show_legend=False, value_formatter=lambda v: f"{v:,.0f}")  # fmt: skip
    sources = sorted(report.sources, key=lambda s: s.potential_reach)
    reach.x_labels = [s.source for s in sources]
    reach.add("potential reach", [s.potential_reach for s in sources])

    found = {"volume": _svg(volume), "sentiment": _svg(sentiment), "voice": _svg(voice), "reach": _svg(reach)}
    if report.reviews:
        ratings = _chart(pygal.Bar, "Review ratings: reviews per star", legend_at_bottom=True, height=280)
        ratings.x_labels = [f"{n}★" for n in range(6)]
        for site in report.reviews:
            ratings.add(f"{site.site} (avg {site.average:.2f})", [site.distribution[n] for n in range(6)])
        found["ratings"] = _svg(ratings)
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
