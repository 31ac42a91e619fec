"""`overheard report --format html|csv|json` on the real demo data (the bundled sample run through the pipeline)."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select
from typer.testing import CliRunner

from overheard.cli import app
from overheard.report import period
from storage import metrics
from storage.schema import mentions

START, END = datetime(2026, 11, 6, tzinfo=UTC), datetime(2026, 11, 20, tzinfo=UTC)
PERIOD = ("--from", "2026-11-06", "--to", "2026-11-19")


@pytest.fixture
def config(demo_engine: Engine, tmp_path: Path) -> Path:
    path = tmp_path / "overheard.yaml"
    path.write_text(
        f"database: {demo_engine.url.render_as_string(hide_password=False)}\n"
        "brands:\n  - {name: Lumora, query: Lumora}\n",
        encoding="utf-8",
    )
    return path


def report(config: Path, *args: str) -> str:
    result = CliRunner().invoke(app, ["report", "--config", str(config), *args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def test_the_html_report_is_one_offline_file_with_charts_and_the_kpis_the_metrics_give(
    config: Path, demo_engine: Engine, tmp_path: Path
) -> None:
    out = tmp_path / "report.html"
    report(config, "--format", "html", *PERIOD, "--brand", "Lumora", "--out", str(out))
    html = out.read_text(encoding="utf-8")
    with demo_engine.connect() as c:
        kpis = metrics.kpis(c, START, END, "Lumora").current
    assert html.count("<svg") >= 5  # volume, sentiment, share of voice, reach by source, review ratings
    assert not re.search(r"""<(script|img|link)[^>]+(src|href)=["']https?:""", html)  # nothing fetched when opened
    rows = dict(re.findall(r'data-metric="(\w+)"><td>[^<]*</td>\s*<td class="n">([^<]*)</td>', html))
    assert rows["mentions"] == f"{kpis.mentions:,}"
    assert rows["potential_reach"] == f"{kpis.potential_reach:,}"
    assert rows["engagement_rate"] == f"{kpis.engagement_rate:.2%}"
    assert "Potential reach (followers of distinct authors)" in html
    for title in ("Volume over time", "Sentiment over time", "Share of voice", "Reach by source", "Review ratings"):
        assert title in html
    assert "Brightwave" in html and "Nimbus Home" in html


def test_the_csv_export_writes_one_spreadsheet_per_table_with_the_same_numbers(
    config: Path, demo_engine: Engine, tmp_path: Path
) -> None:
    folder = tmp_path / "csv"
    report(config, "--format", "csv", *PERIOD, "--tz", "Europe/Berlin", "--out", str(folder))
    names = {p.name for p in folder.iterdir()}
    assert {"kpis.csv", "volume.csv", "sentiment.csv", "share_of_voice.csv", "sources.csv", "reviews.csv"} <= names

    def read(name: str) -> list[dict[str, str]]:
        with (folder / name).open(encoding="utf-8", newline="") as handle:
            return list(csv.DictReader(handle))

    berlin_start, berlin_end = period("2026-11-06", "2026-11-19", "Europe/Berlin")
    with demo_engine.connect() as c:
        expected = metrics.kpis(c, berlin_start, berlin_end).current
        days = metrics.volume_series(c, berlin_start, berlin_end, "day", "Europe/Berlin")
    kpis = {row["metric"]: row for row in read("kpis.csv")}
    assert int(kpis["mentions"]["current"]) == expected.mentions
    assert int(kpis["unique_authors"]["current"]) == expected.unique_authors
    volume = read("volume.csv")
    assert len(volume) == 14
    assert volume[0]["bucket"] == "2026-11-06T00:00:00+01:00"
    assert [int(r["mentions"]) for r in volume] == [p.mentions for p in days]
    busiest = max(volume, key=lambda r: int(r["mentions"]))
    assert busiest["bucket"].startswith("2026-11-12")  # the outage
    shares = read("share_of_voice.csv")
    assert sum(float(r["share_by_mentions"]) for r in shares) == pytest.approx(1.0)
    [site] = read("reviews.csv")
    assert site["site"] == "www.homereviews.example"
    assert sum(int(site[f"stars_{n}"]) for n in range(6)) == int(site["reviews"])


def test_the_json_report_on_stdout_holds_every_section_and_the_definitions(config: Path, demo_engine: Engine) -> None:
    document = json.loads(report(config, "--format", "json", *PERIOD))
    with demo_engine.connect() as c:
        shares = metrics.share_of_voice(c, START, END)
    with demo_engine.connect() as c:
        spam = c.execute(select(func.count()).select_from(mentions).where(mentions.c.flag == "spam")).scalar_one()
    assert spam > 0 and document["kpis"]["current"]["mentions"] == 357 - spam  # scams are stored, not counted
    assert document["kpis"]["changes"]["mentions"]["previous"] == 0
    assert [s["query"] for s in document["share_of_voice"]] == [s.query for s in shares]
    assert document["granularity"] == "day"
    assert len(document["volume"]) == 14
    assert "potential" in document["definitions"]["potential_reach"].lower()
    assert document["terms"]["hashtags"][0]["term"] == "lumora"


def test_the_text_report_still_prints_the_triage_summary(config: Path) -> None:
    assert "Triage summary: routes per team and intent" in report(config, "--format", "text")


def test_a_bad_period_or_time_zone_is_named_in_the_error(config: Path) -> None:
    runner = CliRunner()
    reversed_period = runner.invoke(
        app, ["report", "-c", str(config), "--format", "json", "--from", "2026-11-19", "--to", "2026-11-06"]
    )
    bad_zone = runner.invoke(app, ["report", "-c", str(config), "--format", "json", *PERIOD, "--tz", "Mars/Olympus"])
    assert reversed_period.exit_code == 1 and "is before --from" in reversed_period.output
    assert bad_zone.exit_code == 1 and "Mars/Olympus" in bad_zone.output


def test_report_language_keeps_one_languages_mentions_and_its_topics(
    config: Path, demo_engine: Engine, tmp_path: Path
) -> None:
    document = json.loads(report(config, "--format", "json", *PERIOD, "--language", "de"))
    with demo_engine.connect() as c:
        german = metrics.kpis(c, START, END, language="de").current
        everything = metrics.kpis(c, START, END).current
    assert document["language"] == "de" and document["kpis"]["language"] == "de"
    assert document["kpis"]["current"]["mentions"] == german.mentions
    assert 0 < german.mentions < everything.mentions
    assert document["terms"]["mentions_read"] == german.mentions
    terms = {t["term"] for t in document["terms"]["terms"]}
    assert terms and not terms & {"und", "die", "der", "nicht", "ist", "ich", "das", "want", "every", "since"}
    out = tmp_path / "de.html"
    report(config, "--format", "html", *PERIOD, "--language", "de", "--out", str(out))
    assert "(mentions in language de)" in out.read_text(encoding="utf-8")
    runner = CliRunner()
    bad = runner.invoke(app, ["report", "-c", str(config), "--format", "json", *PERIOD, "--language", "deutsch"])
    text = runner.invoke(app, ["report", "-c", str(config), "--format", "text", "--language", "de"])
    assert bad.exit_code == 1 and "'deutsch' is not a two-letter ISO 639-1 code" in bad.output
    assert text.exit_code == 1 and "--language slices the figures" in text.output


def test_report_csv_cells_from_strangers_are_never_formulas(tmp_path: Path) -> None:
    from overheard.report import _csv

    text = _csv(
        ["source", "handle", "followers", "mentions", "engagement"],
        [["rss", '=HYPERLINK("http://evil.example","x")', 10, 1, -2], ["x", "@SUM(A1)", None, 2, 0]],
    )
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    assert [r["handle"] for r in rows] == ['\'=HYPERLINK("http://evil.example","x")', "'@SUM(A1)"]
    assert rows[0]["engagement"] == "-2"  # a number stays a number
