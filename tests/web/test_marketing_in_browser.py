"""The marketing dashboard and the alerts in a real browser, as marketing and communications use them.

The demo sample with its alerts checked (`overheard collect` does this after each sweep): the complaint storm of
12 Nov raises a volume spike and a negative storm for Lumora, each naming the posts that drove it. This module
serves a database of its own, so the alerts' routes do not change what the other browser tests count.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from typer.testing import CliRunner

from overheard.alerting import check_spikes
from overheard.cli import app as cli
from overheard.pipeline import Runtime
from overheard.report import CSV_TABLES, period
from overheard.runtime import load_classifier
from storage import metrics
from storage.alert_evidence import AlertRecord, list_alerts
from storage.audit import entries_for
from storage.tokens import Role
from tests.api.conftest import _seeded_database
from tests.api.seed import DEMO_CONFIG, MemoClassifier
from tests.web.browser import LiveApp, serve, shot, sign_in

pytestmark = pytest.mark.browser

FIRST, LAST = "2026-11-06", "2026-11-19"  # the sample's first and last days (UTC)


@pytest.fixture(scope="module")
def live_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveApp]:
    classifier = MemoClassifier(load_classifier())
    for seeded in _seeded_database("sqlite", tmp_path_factory.mktemp("marketing"), classifier):
        found = check_spikes(Runtime.build(DEMO_CONFIG, seeded.engine, classifier), datetime(2026, 12, 1, tzinfo=UTC))
        assert {a.kind.value for a, _ in found.alerts} == {"volume", "negative_share"}, found.lines()
        yield from serve(seeded)


def _kpi(page: Page, metric: str) -> str:
    return page.locator(f'.kpi[data-metric="{metric}"] .value').inner_text()


def test_marketing_opens_the_posts_a_negative_storm_was_raised_on(page: Page, live_app: LiveApp) -> None:
    sign_in(page, live_app, Role.marketing)
    page.goto(f"/dashboard?from={FIRST}&to={LAST}")
    storm = page.locator("article.alert.negative_share")
    expect(storm).to_have_count(1)
    expect(storm.locator("h3")).to_contain_text("Negative storm · Lumora · 12 Nov 2026")
    evidence = storm.locator("ol.evidence a")
    assert evidence.count() >= 3
    excerpt = (storm.locator("ol.evidence li").first.inner_text().split("“", 1)[1]).rstrip("”")[:40]
    href = evidence.first.get_attribute("href") or ""
    mention_id = int(href.rsplit("/", 1)[-1])

    evidence.first.click()
    expect(page).to_have_url(re.compile(rf"/alerts/evidence/{mention_id}$"))
    expect(page.locator("article.evidence p.text")).to_contain_text(excerpt)
    expect(page.locator("article.evidence")).to_contain_text("negative_share:Lumora:2026-11-12T09:00Z")
    shot(page, "marketing_alert_evidence")
    with live_app.seeded.engine.connect() as connection:
        trail = [(e.actor, e.action) for e in entries_for(connection, "mention", str(mention_id))]
    assert ("marketing-tester", "mention.view") in trail

    # Only the posts an alert names: the inbox's page of the same post, and any other post, stay closed.
    assert page.goto(f"/mentions/{mention_id}").status == 403  # type: ignore[union-attr]
    cited = {e.mention_id for a in _alerts(live_app) for e in a.evidence}
    unnamed = next(i for i in range(1, 400) if i not in cited)
    assert page.goto(f"/alerts/evidence/{unnamed}").status == 404  # type: ignore[union-attr]


def _alerts(live_app: LiveApp) -> list[AlertRecord]:
    with live_app.seeded.engine.connect() as connection:
        return list_alerts(connection, datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 12, 1, tzinfo=UTC))


def test_communications_lands_on_the_alerts_and_reads_the_negative_storm(page: Page, live_app: LiveApp) -> None:
    sign_in(page, live_app, Role.communications)
    expect(page).to_have_url(re.compile(r"/alerts$"))
    page.goto(f"/alerts?from={FIRST}&to={LAST}")
    page.get_by_label("Kind").select_option("negative_share")
    page.get_by_role("button", name="Show").click()
    expect(page.locator("article.alert")).to_have_count(1)
    expect(page.locator("article.alert.negative_share")).to_contain_text("mentions negative")
    page.locator("article.alert ol.evidence a").first.click()
    expect(page.locator("article.evidence")).to_be_visible()
    # The crisis desk reads the dashboard too, but not the inbox or the lead feed.
    assert page.goto(f"/dashboard?from={FIRST}&to={LAST}").status == 200  # type: ignore[union-attr]
    assert page.goto("/inbox").status == 403  # type: ignore[union-attr]
    nav = page.locator("header nav a").all_inner_texts()
    assert "Alerts" in nav and "Dashboard" in nav and "Inbox" not in nav


def test_a_range_of_one_day_holds_that_whole_day_in_the_chosen_time_zone(page: Page, live_app: LiveApp) -> None:
    sign_in(page, live_app, Role.marketing)
    page.goto("/dashboard")
    page.get_by_label("From").fill(FIRST)
    page.get_by_label("To (included)").fill(FIRST)
    page.get_by_label("Time zone").fill("UTC")
    page.get_by_role("button", name="Show").click()
    expect(page.locator(".period")).to_contain_text("Fri 06 Nov 2026 to Fri 06 Nov 2026, both included (1 day, UTC)")
    first_day = datetime(2026, 11, 6, tzinfo=UTC), datetime(2026, 11, 7, tzinfo=UTC)
    with live_app.seeded.engine.connect() as connection:
        expected = metrics.kpis(connection, *first_day).current.mentions
    assert expected > 0, "the sample's first day has mentions"
    assert int(_kpi(page, "mentions").replace(",", "")) == expected

    # The same day in Tokyo starts nine hours earlier: the first mentions (06:34 UTC) are on 6 Nov there too.
    page.goto(f"/dashboard?from={FIRST}&to={FIRST}&tz=Asia/Tokyo")
    with live_app.seeded.engine.connect() as connection:
        tokyo = metrics.kpis(connection, *period(FIRST, FIRST, "Asia/Tokyo")).current.mentions
    assert int(_kpi(page, "mentions").replace(",", "")) == tokyo
    # A whole range: its first and last days both count, nothing before or after (spam is never counted).
    page.goto(f"/dashboard?from={FIRST}&to={LAST}")
    with live_app.seeded.engine.connect() as connection:
        stored = connection.exec_driver_sql(
            "SELECT count(*) FROM mentions WHERE flag IS NULL OR flag <> 'spam'"
        ).scalar_one()
    assert int(_kpi(page, "mentions").replace(",", "")) == stored


def test_the_brand_or_competitor_filter_changes_the_figures(page: Page, live_app: LiveApp) -> None:
    sign_in(page, live_app, Role.marketing)
    page.goto(f"/dashboard?from={FIRST}&to={LAST}")
    everything = int(_kpi(page, "mentions").replace(",", ""))
    page.get_by_label("Brand or competitor").select_option("competitor:Brightwave")
    page.get_by_role("button", name="Show").click()
    expect(page).to_have_url(re.compile(r"scope=competitor%3ABrightwave"))
    expect(page.locator(".period")).to_contain_text("only mentions of Brightwave (competitor)")
    start, end = period(FIRST, LAST, "UTC")
    with live_app.seeded.engine.connect() as connection:
        brightwave = metrics.kpis(connection, start, end, "competitor:Brightwave").current
        lumora = metrics.kpis(connection, start, end, "brand:Lumora").current
    shown = int(_kpi(page, "mentions").replace(",", ""))
    assert shown == brightwave.mentions and 0 < shown < everything
    page.get_by_label("Brand or competitor").select_option("brand:Lumora")
    page.get_by_role("button", name="Show").click()
    assert int(_kpi(page, "mentions").replace(",", "")) == lumora.mentions != shown


def test_without_a_covered_previous_period_the_dashboard_says_no_comparison(page: Page, live_app: LiveApp) -> None:
    sign_in(page, live_app, Role.marketing)
    page.goto(f"/dashboard?from={FIRST}&to={LAST}")  # the 14 days before the sample were not collected
    expect(page.locator("p.comparison")).to_contain_text(
        "no comparison: collection began on 06 Nov 2026, so it covered 0% of the previous period"
    )
    expect(page.locator(".kpi .change", has_text="on the previous")).to_have_count(0)
    # The second week against the first, which collection covered from its first morning: compared.
    page.goto("/dashboard?from=2026-11-13&to=2026-11-19")
    expect(page.locator("p.comparison")).to_have_count(0)
    expect(page.locator('.kpi[data-metric="mentions"] .change')).to_contain_text("on the previous 7 days")


def test_each_dashboard_csv_equals_the_reports_csv_for_the_same_range(
    page: Page, live_app: LiveApp, tmp_path: Path
) -> None:
    sign_in(page, live_app, Role.marketing)
    page.goto(f"/dashboard?from={FIRST}&to={LAST}&tz=Europe/Berlin&scope=brand:Lumora")
    links = page.locator("a.csv")
    downloaded: dict[str, bytes] = {}
    for k in range(links.count()):
        with page.expect_download() as started:
            links.nth(k).click()
        download = started.value
        table = download.suggested_filename.split("-", 1)[0]  # 'share_of_voice-brand-Lumora-2026-11-06-…'
        downloaded[table] = Path(download.path()).read_bytes()
    assert set(downloaded) == set(CSV_TABLES)

    config = tmp_path / "overheard.yaml"
    url = live_app.seeded.engine.url.render_as_string(hide_password=False)
    config.write_text(f"database: {url}\nbrands:\n  - {{name: Lumora, query: Lumora}}\n", encoding="utf-8")
    folder = tmp_path / "report"
    result = CliRunner().invoke(
        cli,
        ["report", "--config", str(config), "--format", "csv", "--from", FIRST, "--to", LAST,
         "--tz", "Europe/Berlin", "--brand", "brand:Lumora", "--out", str(folder)],
        catch_exceptions=False,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    for table, body in downloaded.items():
        assert body == (folder / f"{table}.csv").read_bytes(), table
    volume = list(csv.DictReader(io.StringIO(downloaded["volume"].decode("utf-8"))))
    assert len(volume) == 14 and volume[0]["bucket"] == "2026-11-06T00:00:00+01:00"
