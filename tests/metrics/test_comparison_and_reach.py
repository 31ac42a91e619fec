"""The dashboard's two honesty rules: a change is shown only where the previous period has data, and potential
reach no platform reported is unknown, not 0 (the small data set of test_metrics.py, on SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine

from storage import metrics

START = datetime(2026, 11, 10, tzinfo=UTC)
END = datetime(2026, 11, 12, tzinfo=UTC)
WEEK_START = datetime(2026, 11, 13, tzinfo=UTC)
WEEK_END = WEEK_START + timedelta(days=7)


def test_a_previous_period_collection_barely_covered_gives_no_comparison_and_says_when_collection_began() -> None:
    # The "+952%" case: a 7-day period whose previous week began five days before the first stored mention.
    first = WEEK_START - timedelta(days=2)
    found = metrics.comparison(WEEK_START, WEEK_END, previous_mentions=40, first_stored=first)
    assert not found.available
    assert found.reason == (
        "no comparison: collection began on 11 Nov 2026, so it covered 29% of the previous period "
        "(06 Nov 2026 to 12 Nov 2026)"
    )


def test_a_thin_previous_period_gives_no_comparison_and_says_how_thin() -> None:
    found = metrics.comparison(WEEK_START, WEEK_END, previous_mentions=3, first_stored=datetime(2026, 1, 1, tzinfo=UTC))
    assert not found.available
    assert found.reason is not None and "holds 3 mentions, fewer than 10" in found.reason


def test_a_covered_previous_period_with_enough_mentions_is_compared() -> None:
    # Collection began a few hours into the previous week: 96% covered is covered.
    first = WEEK_START - timedelta(days=7) + timedelta(hours=6)
    found = metrics.comparison(WEEK_START, WEEK_END, previous_mentions=10, first_stored=first)
    assert (found.available, found.reason, found.previous_start) == (True, None, WEEK_START - timedelta(days=7))


def test_nothing_stored_gives_no_comparison() -> None:
    found = metrics.comparison(WEEK_START, WEEK_END, previous_mentions=0, first_stored=None)
    assert (found.available, found.reason) == (False, "no comparison: nothing has been collected yet")


def test_the_reason_names_days_in_the_periods_own_time_zone() -> None:
    from zoneinfo import ZoneInfo

    tokyo = ZoneInfo("Asia/Tokyo")
    start, end = datetime(2026, 11, 13, tzinfo=tokyo), datetime(2026, 11, 20, tzinfo=tokyo)
    # 20:00 UTC on 11 Nov is already 12 Nov in Tokyo.
    found = metrics.comparison(start, end, 50, datetime(2026, 11, 11, 20, tzinfo=UTC))
    assert found.reason is not None and "collection began on 12 Nov 2026" in found.reason


def test_reach_counts_the_authors_whose_platform_reports_followers(small: Engine) -> None:
    with small.connect() as c:
        now = metrics.kpis(c, START, END).current
        brightwave = metrics.kpis(c, START, END, "competitor:Brightwave").current
    # alice, bob, dave and erin report followers; carol (reddit), the reviewers and the feed do not.
    assert (now.unique_authors, now.reach_reported, now.reach_known) == (9, 4, True)
    assert (brightwave.unique_authors, brightwave.reach_reported) == (2, 1)


def test_a_source_whose_platform_reports_no_followers_has_unknown_reach_not_zero(small: Engine) -> None:
    with small.connect() as c:
        sources = {s.source: s for s in metrics.top_sources(c, START, END)}
    assert sources["reddit"].reach_reported == 0 and sources["reddit"].unique_authors == 1
    assert sources["x"].reach_reported == 2 and sources["x"].potential_reach == 1200 + 300


def test_a_period_whose_authors_report_no_followers_has_unknown_reach(small: Engine) -> None:
    with small.connect() as c:
        carol = metrics.kpis(c, START, END, "brand:Lumora")  # includes followers: known
        nothing = metrics.kpis(c, datetime(2030, 1, 1, tzinfo=UTC), datetime(2030, 1, 2, tzinfo=UTC)).current
    assert carol.current.reach_known
    assert (nothing.potential_reach, nothing.reach_reported, nothing.reach_known) == (0, 0, False)


def test_reach_reported_is_the_same_read_from_the_rollups(small: Engine) -> None:
    with small.connect() as c:
        raw = metrics.kpis(c, START, END).current
    with small.begin() as c:
        metrics.refresh_rollups(c, wait=True)
    with small.connect() as c:
        rolled = metrics.kpis(c, START, END).current
    assert rolled.reach_reported == raw.reach_reported == 4
