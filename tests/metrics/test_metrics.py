"""Metric definitions, checked by hand on data/mentions.jsonl + data/verdicts.tsv, on SQLite and PostgreSQL.

The period under test is 2026-11-10 00:00Z to 2026-11-12 00:00Z. In it (10 mentions, 9 authors):

    m   author(followers)  engagement  impr.  sentiment          queries
    1   x alice (1000)     10+5+2+1=18 5000   positive           brand:Lumora
    2   x alice (1200)     4+0+1+0=5   3000   negative           brand:Lumora, product:Lumora Hub
    3   mastodon bob (500) 2+1+0=3     -      negative→neutral*  brand:Lumora
    4   reddit carol (-)   replies 7   -      neutral            brand:Lumora, competitor:Brightwave
    5   bluesky dave(2000) 20+3+2+1=26 -      positive           competitor:Brightwave
    6   x erin (300)       1           400    negative           competitor:Nimbus Home
    7   review frank (-)   3           -      positive  4.0★     brand:Lumora, product:Lumora Hub
    8   review gina (-)    0           -      negative  2.0★     brand:Lumora
    9   review hank (-)    0           -      positive  4.5★     brand:Lumora
    10  rss gadgetledger   0           -      (no verdict)       —
    (*) an analyst relabelled it; the person's label wins.

m11 is at 2026-11-12 00:00Z exactly (the end is excluded). The previous period (11-08 to 11-10) holds m12
(alice, 900 followers, engagement 2) and m13 (bob, 500, engagement 1); m14 is a minute before it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine

from storage import metrics

START = datetime(2026, 11, 10, tzinfo=UTC)
END = datetime(2026, 11, 12, tzinfo=UTC)


def test_kpis_count_mentions_distinct_authors_and_potential_reach_from_each_authors_largest_following(
    small: Engine,
) -> None:
    with small.connect() as c:
        now = metrics.kpis(c, START, END).current
    assert now.mentions == 10
    assert now.unique_authors == 9
    assert now.potential_reach == 1200 + 500 + 2000 + 300  # alice counted once, at her largest count


def test_impressions_are_summed_only_where_the_platform_reports_them(small: Engine) -> None:
    with small.connect() as c:
        now = metrics.kpis(c, START, END).current
    assert now.impressions == 5000 + 3000 + 400
    assert now.impressions_reported == 3


def test_engagement_is_likes_reposts_replies_quotes_and_its_rate_is_over_potential_reach(small: Engine) -> None:
    with small.connect() as c:
        now = metrics.kpis(c, START, END).current
    assert now.engagement == 18 + 5 + 3 + 7 + 26 + 1 + 3  # reddit's score (30) is not engagement
    assert now.engagement_rate == pytest.approx(63 / 4000)


def test_sentiment_uses_a_persons_relabel_and_net_sentiment_is_over_classified_mentions(small: Engine) -> None:
    with small.connect() as c:
        now = metrics.kpis(c, START, END).current
    assert (now.positive, now.neutral, now.negative, now.unclassified) == (4, 2, 3, 1)
    assert now.net_sentiment == pytest.approx((4 - 3) / 9)


def test_a_brand_scope_keeps_only_mentions_that_matched_the_brand_query(small: Engine) -> None:
    with small.connect() as c:
        lumora = metrics.kpis(c, START, END, brand="Lumora").current
        hub = metrics.kpis(c, START, END, brand="product:Lumora Hub").current
    assert (lumora.mentions, lumora.unique_authors, lumora.potential_reach) == (7, 6, 1700)
    assert lumora.engagement == 36
    assert lumora.net_sentiment == pytest.approx((3 - 2) / 7)
    assert hub.mentions == 2


def test_period_over_period_compares_with_the_period_of_the_same_length_just_before(small: Engine) -> None:
    with small.connect() as c:
        report = metrics.kpis(c, START, END)
    assert (report.previous.mentions, report.previous.potential_reach, report.previous.engagement) == (2, 1400, 3)
    assert report.changes["mentions"].absolute == 8
    assert report.changes["mentions"].relative == pytest.approx(4.0)
    assert report.changes["potential_reach"].relative == pytest.approx((4000 - 1400) / 1400)
    assert report.changes["unclassified"].relative is None  # from 0: no percentage to give


def test_share_of_voice_compares_the_brand_with_each_competitor_by_mentions_and_by_reach(small: Engine) -> None:
    with small.connect() as c:
        shares = {s.query: s for s in metrics.share_of_voice(c, START, END)}
    assert set(shares) == {"brand:Lumora", "competitor:Brightwave", "competitor:Nimbus Home"}  # no products
    lumora, brightwave, nimbus = (
        shares["brand:Lumora"],
        shares["competitor:Brightwave"],
        shares["competitor:Nimbus Home"],
    )
    assert (lumora.mentions, brightwave.mentions, nimbus.mentions) == (7, 2, 1)
    assert (lumora.share_by_mentions, brightwave.share_by_mentions) == (pytest.approx(0.7), pytest.approx(0.2))
    assert (lumora.potential_reach, brightwave.potential_reach, nimbus.potential_reach) == (1700, 2000, 300)
    assert brightwave.share_by_reach == pytest.approx(2000 / 4000)
    assert (brightwave.kind, brightwave.name) == ("competitor", "Brightwave")


def test_daily_volume_in_utc_and_in_berlin_puts_a_late_evening_mention_on_the_local_day(small: Engine) -> None:
    with small.connect() as c:
        utc = metrics.volume_series(c, START, END, "day", "UTC")
        berlin = metrics.volume_series(c, START, END, "day", "Europe/Berlin")
    assert [(p.bucket.day, p.mentions) for p in utc] == [(10, 2), (11, 8)]
    # 23:30Z on the 10th is 00:30 on the 11th in Berlin; 23:59:59Z on the 11th is already the 12th there.
    assert [(p.bucket.day, p.mentions) for p in berlin] == [(10, 1), (11, 8), (12, 1)]
    assert berlin[0].bucket == datetime(2026, 11, 9, 23, tzinfo=UTC)


def test_hourly_buckets_follow_a_half_hour_time_zone(small: Engine) -> None:
    with small.connect() as c:
        kolkata = metrics.volume_series(c, START, END, "hour", "Asia/Kolkata", brand="Lumora")
    # 23:30Z (m2) and 00:15Z (m3) are 05:00 and 05:45 in Kolkata: the same local hour.
    busy = {p.bucket.strftime("%d %H:%M"): p.mentions for p in kolkata if p.mentions}
    assert busy["11 05:00"] == 2
    assert sum(p.mentions for p in kolkata) == 7


def test_the_repeated_hour_at_the_end_of_daylight_saving_is_two_buckets(small: Engine) -> None:
    start, end = datetime(2026, 11, 1, 4, tzinfo=UTC), datetime(2026, 11, 1, 8, tzinfo=UTC)
    with small.connect() as c:
        hours = metrics.volume_series(c, start, end, "hour", "America/New_York")
        days = metrics.volume_series(c, start, datetime(2026, 11, 3, 5, tzinfo=UTC), "day", "America/New_York")
    assert [(p.bucket.strftime("%H:%M %Z"), p.mentions) for p in hours] == [
        ("00:00 EDT", 0),
        ("01:00 EDT", 1),
        ("01:00 EST", 1),
        ("02:00 EST", 0),
    ]
    assert [p.mentions for p in days] == [2, 0]
    assert days[1].bucket.astimezone(UTC) - days[0].bucket.astimezone(UTC) == timedelta(hours=25)


def test_weekly_buckets_start_on_monday_and_empty_buckets_are_zero(small: Engine) -> None:
    with small.connect() as c:
        weeks = metrics.volume_series(c, datetime(2026, 11, 1, tzinfo=UTC), END, "week", "UTC")
    assert [(p.bucket.date().isoformat(), p.mentions) for p in weeks] == [
        ("2026-10-26", 2),
        ("2026-11-02", 2),  # m13 (11-08, a Sunday) and m14
        ("2026-11-09", 11),  # m12 and the period's 10
    ]


def test_sentiment_series_counts_each_sentiment_per_day(small: Engine) -> None:
    with small.connect() as c:
        days = metrics.sentiment_series(c, START, END, "day", "UTC")
    assert [(p.positive, p.neutral, p.negative, p.unclassified) for p in days] == [(1, 0, 1, 0), (3, 2, 2, 1)]
    assert days[0].net_sentiment == 0
    assert days[1].net_sentiment == pytest.approx(1 / 7)


def test_top_authors_are_ranked_by_followers_with_unknown_counts_last(small: Engine) -> None:
    with small.connect() as c:
        authors = metrics.top_authors(c, START, END, limit=5)
    assert [(a.handle, a.followers) for a in authors] == [
        ("dave.bsky.social", 2000),
        ("alice", 1200),
        ("bob@m.social", 500),
        ("erin", 300),
        ("carol", None),
    ]
    assert (authors[1].mentions, authors[1].engagement) == (2, 23)


def test_top_sources_give_mentions_authors_reach_and_engagement_per_platform(small: Engine) -> None:
    with small.connect() as c:
        sources = metrics.top_sources(c, START, END)
    assert [(s.source, s.mentions) for s in sources] == [
        ("review", 3),
        ("x", 3),
        ("bluesky", 1),
        ("mastodon", 1),
        ("reddit", 1),
        ("rss", 1),
    ]
    x = sources[1]
    assert (x.unique_authors, x.potential_reach, x.engagement) == (2, 1500, 24)


def test_top_terms_leave_out_stopwords_links_and_hashtags_which_are_counted_apart(small: Engine) -> None:
    with small.connect() as c:
        found = metrics.top_terms_and_hashtags(c, START, END, limit=3)
    assert [(t.term, t.mentions) for t in found.terms] == [("hub", 4), ("bulbs", 3), ("lumora", 3)]
    assert [(t.term, t.mentions) for t in found.hashtags] == [("lumora", 2), ("lumoraglow", 2)]
    assert (found.mentions_read, found.mentions_in_period) == (10, 10)


def test_a_hashtag_campaign_counts_the_exact_tag_only_with_its_previous_period(small: Engine) -> None:
    with small.connect() as c:
        tagged = metrics.campaign(c, START, END, hashtag="#Lumora")
    assert tagged.kpis.current.mentions == 2  # m1 and m3; '#LumoraGlow' alone (m5) is another tag
    assert tagged.kpis.current.potential_reach == 1000 + 500  # alice's 1200 was on an untagged post
    assert tagged.kpis.previous.mentions == 1  # m12
    assert [p.mentions for p in tagged.daily] == [1, 1]


def test_a_utm_campaign_finds_the_link_in_the_text(small: Engine) -> None:
    with small.connect() as c:
        linked = metrics.campaign(c, START, END, utm_campaign="glowup")
        other = metrics.campaign(c, START, END, utm_campaign="glow")
    assert linked.kpis.current.mentions == 1
    assert linked.kpis.current.engagement == 7
    assert other.kpis.current.mentions == 0


def test_review_ratings_average_and_distribution_per_site(small: Engine) -> None:
    with small.connect() as c:
        sites = {s.site: s for s in metrics.review_ratings(c, START, END)}
    assert set(sites) == {"www.homereviews.example", "reviews.other.example"}
    home = sites["www.homereviews.example"]
    assert (home.reviews, home.average) == (2, 3.0)
    assert {stars: n for stars, n in home.distribution.items() if n} == {2: 1, 4: 1}
    assert sites["reviews.other.example"].distribution[5] == 1  # 4.5 stars rounds half up


def test_a_period_that_ends_before_it_starts_or_has_no_time_zone_is_refused(small: Engine) -> None:
    with small.connect() as c:
        with pytest.raises(ValueError, match="before it starts"):
            metrics.kpis(c, END, START)
        with pytest.raises(ValueError, match="no time zone"):
            metrics.kpis(c, datetime(2026, 11, 10), END)


def test_an_empty_period_gives_zeros_and_no_ratios(small: Engine) -> None:
    with small.connect() as c:
        report = metrics.kpis(c, datetime(2025, 1, 1, tzinfo=UTC), datetime(2025, 1, 2, tzinfo=UTC))
        shares = metrics.share_of_voice(c, datetime(2025, 1, 1, tzinfo=UTC), datetime(2025, 1, 2, tzinfo=UTC))
    assert report.current.mentions == 0
    assert report.current.engagement_rate is None
    assert report.current.net_sentiment is None
    assert shares == []
