"""The metric rollups and campaign tags give the figures the mentions give, before and after every kind of change.

Each check computes the same figures twice: once with every slot logged as changed (so every reader reads the
mentions themselves, as before the rollups existed) and once as a dashboard would, from the rollups after
`refresh_rollups`, or with some slots still logged. Periods start and end off the slot grid on purpose.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Connection, Engine, func, insert, select, update

from enrichers.noise import NoiseFlag, NoiseKind
from listener.mention import Author, Engagement, Mention
from storage import metrics
from storage.deletions import apply_deletion
from storage.inbox import relabel
from storage.mentions import mention_ids, save_mentions
from storage.outbox import save_flags
from storage.schema import (
    METRIC_SLOT_SECONDS,
    mention_tags_log,
    mentions,
    metric_author_days,
    metric_dirty,
    metric_slots,
    verdicts,
)
from storage.tags import refresh_mention_tags

PERIODS = [
    (datetime(2026, 11, 10, tzinfo=UTC), datetime(2026, 11, 12, tzinfo=UTC)),
    (datetime(2026, 11, 8, 10, 7, 13, tzinfo=UTC), datetime(2026, 11, 12, 3, 52, tzinfo=UTC)),
    (datetime(2026, 11, 10, 23, 20, tzinfo=UTC), datetime(2026, 11, 11, 0, 40, tzinfo=UTC)),  # under one day
]
ZONES = ["UTC", "Europe/Berlin", "Asia/Kolkata", "Asia/Kathmandu", "America/St_Johns"]  # +5:30, +5:45, -3:30
CHANGE_ZONES = ["UTC", "Asia/Kathmandu"]
"""Where a change is followed: the zone arithmetic over the slot grid is checked in every zone above (first test);
a change's stale slots are the same whichever zone reads them, and +5:45 keeps a day's edge off the slot grid."""


def figures(c: Connection, zones: list[str] = ZONES) -> dict[str, Any]:
    """Every rolled-up metric over PERIODS, in every zone and granularity, by brand and for all mentions."""
    found: dict[str, Any] = {}
    for start, end in PERIODS:
        for brand in (None, "Lumora", "competitor:Brightwave", "product:Lumora Hub"):
            found[f"kpis {start} {brand}"] = metrics.kpis(c, start, end, brand)
            for zone in zones if brand in (None, "Lumora") else ["Asia/Kathmandu"]:
                for step in metrics.Granularity:
                    found[f"volume {start} {brand} {zone} {step}"] = metrics.volume_series(
                        c, start, end, step, zone, brand
                    )
                    found[f"sentiment {start} {brand} {zone} {step}"] = metrics.sentiment_series(
                        c, start, end, step, zone, brand
                    )
        for brand in (None, "Lumora"):  # campaigns read the tags of mentions, or the text of logged ones
            for wanted in ({"hashtag": "lumora"}, {"utm_campaign": "glowup"}, {"hashtag": "#LumoraGlow"}):
                found[f"campaign {start} {brand} {wanted}"] = metrics.campaign(c, start, end, brand=brand, **wanted)
        found[f"voice {start}"] = metrics.share_of_voice(c, start, end)
        found[f"hours {start}"] = metrics.hourly_counts(c, start, end, "Lumora")
    return found


def from_mentions(engine: Engine, zones: list[str] = ZONES) -> dict[str, Any]:
    """The figures with every slot and mention logged as changed, so nothing is read from a rollup or a tag
    row (then rolled back)."""
    with engine.connect() as c:
        created = c.execute(select(mentions.c.created_at)).scalars()
        slots = {int(t.timestamp()) // METRIC_SLOT_SECONDS for t in created}
        c.execute(insert(metric_dirty), [{"slot": s} for s in sorted(slots)])
        c.execute(insert(mention_tags_log).from_select(["mention_id"], select(mentions.c.id)))
        result = figures(c, zones)
        c.rollback()
    return result


def from_rollups(engine: Engine, zones: list[str] = ZONES) -> dict[str, Any]:
    with engine.begin() as c:
        metrics.refresh_rollups(c)
        refresh_mention_tags(c)
    with engine.connect() as c:
        assert c.execute(select(func.count()).select_from(metric_dirty)).scalar_one() == 0
        assert c.execute(select(func.count()).select_from(mention_tags_log)).scalar_one() == 0
        return figures(c, zones)


def assert_same(expected: dict[str, Any], actual: dict[str, Any]) -> None:
    assert expected.keys() == actual.keys()
    assert [k for k in expected if expected[k] != actual[k]] == []


def test_the_rollups_give_the_same_figures_as_the_mentions_in_every_zone_and_granularity(small: Engine) -> None:
    expected = from_mentions(small)
    assert_same(expected, from_rollups(small))
    with small.connect() as c:
        assert c.execute(select(func.count()).select_from(metric_slots)).scalar_one() > 0
        scopes = set(c.execute(select(metric_author_days.c.scope).distinct()).scalars())
    assert scopes == {"", "brand:Lumora", "product:Lumora Hub", "competitor:Brightwave", "competitor:Nimbus Home"}
    # The hand-checked figures of test_metrics.py, read from the rollups this time.
    now = expected[f"kpis {PERIODS[0][0]} None"].current
    assert (now.mentions, now.unique_authors, now.potential_reach, now.unclassified) == (10, 9, 4000, 1)
    tagged = expected[f"campaign {PERIODS[0][0]} None {{'hashtag': 'lumora'}}"].kpis
    assert (tagged.current.mentions, tagged.previous.mentions) == (2, 1)  # as test_metrics.py counts them


def _recollected(engine: Engine) -> None:
    """alice's post 2 collected again: more followers, and it no longer matches the product query."""
    again = Mention(
        source="x",
        external_id="2",
        author=Author(handle="alice", followers=5000),
        text="Lumora hub offline again",
        created_at=datetime(2026, 11, 10, 23, 30, tzinfo=UTC),
        engagement=Engagement(likes=40, reposts=0, replies=1, quotes=0, impressions=9000),
        matched_queries=("brand:Lumora", "competitor:Brightwave"),
    )
    with engine.begin() as c:
        save_mentions(c, [again])


def _relabelled(engine: Engine) -> None:
    with engine.begin() as c:
        [mention_id] = mention_ids(c, [("x", "1")]).values()
        relabel(c, mention_id, "analyst", None, "negative")


def _relabel_undone_by_hand(engine: Engine) -> None:
    """A label changed with plain SQL, as an operator might: the trigger logs it all the same."""
    with engine.begin() as c:
        [mention_id] = mention_ids(c, [("mastodon", "3")]).values()
        c.execute(update(verdicts).where(verdicts.c.mention_id == mention_id).values(human_sentiment=None))


def _deleted_on_platform(engine: Engine) -> None:
    with engine.begin() as c:
        apply_deletion(c, "bluesky", "5", "deleted_on_platform (HTTP 404)")


def _moved_in_time(engine: Engine) -> None:
    """A correction of a post's time moves it to another slot and day: both are recomputed."""
    with engine.begin() as c:
        c.execute(
            update(mentions)
            .where(mentions.c.source == "x", mentions.c.external_id == "6")
            .values(created_at=datetime(2026, 11, 8, 23, 59, tzinfo=UTC))
        )


def _tagged_by_hand(engine: Engine) -> None:
    """A post's text corrected with plain SQL: it now carries the campaign's hashtag, and the other one lost it."""
    with engine.begin() as c:
        c.execute(update(mentions).where(mentions.c.external_id == "6").values(text="Nimbus Home hub #Lumora"))
        c.execute(update(mentions).where(mentions.c.external_id == "1").values(text="Loving the new bulbs"))


def _flagged_as_spam(engine: Engine) -> None:
    """Noise screening flags a stored post as a scam: it leaves the figures (and the rollups, in the same
    transaction), though it stays stored for review."""
    with engine.begin() as c:
        [mention_id] = c.execute(select(mentions.c.id).where(mentions.c.external_id == "1")).scalars()
        save_flags(c, [(mention_id, NoiseFlag(NoiseKind.spam, "crypto_airdrop", "crypto airdrop: 'airdrop'"))])


def _flagged_as_spam_by_hand(engine: Engine) -> None:
    """A review (or an operator's SQL) marks a post as spam without noise screening: the trigger logs its slot."""
    with engine.begin() as c:
        c.execute(update(mentions).where(mentions.c.external_id == "6").values(flag="spam", flag_rule="review"))


@pytest.mark.parametrize(
    "change",
    [
        _flagged_as_spam_by_hand,
        _recollected,
        _relabelled,
        _relabel_undone_by_hand,
        _deleted_on_platform,
        _moved_in_time,
        _tagged_by_hand,
        _flagged_as_spam,
    ],
)
def test_after_a_change_the_figures_follow_the_mentions_before_and_after_the_refresh(
    small: Engine, change: Any
) -> None:
    from_rollups(small, CHANGE_ZONES)  # everything rolled up first, so the change has stale rollup rows to get right
    before = from_mentions(small, CHANGE_ZONES)
    change(small)
    expected = from_mentions(small, CHANGE_ZONES)
    assert expected != before, "the change should move some figure"
    with small.connect() as c:
        logged = sum(
            c.execute(select(func.count()).select_from(t)).scalar_one() for t in (metric_dirty, mention_tags_log)
        )
        still_logged = figures(c, CHANGE_ZONES)  # read with the changed slots and mentions taken from the mentions
    if change not in (_deleted_on_platform, _flagged_as_spam):  # these refresh in their own transaction
        assert logged > 0
    assert_same(expected, still_logged)
    assert_same(expected, from_rollups(small, CHANGE_ZONES))


def test_flagging_and_unflagging_spam_update_the_rollup_rows_in_the_same_transaction(small: Engine) -> None:
    from_rollups(small, CHANGE_ZONES)  # rolled up before the flag: the post is counted in its slot's rows
    everything = from_mentions(small, CHANGE_ZONES)
    with small.connect() as c:
        [mention_id] = c.execute(select(mentions.c.id).where(mentions.c.external_id == "1")).scalars()
    airdrop = NoiseFlag(NoiseKind.spam, "crypto_airdrop", "crypto airdrop: 'airdrop'")

    def rolled_mentions(c: Connection) -> int:
        total = select(func.sum(metric_slots.c.mentions)).where(metric_slots.c.scope == "")
        return int(c.execute(total).scalar_one())

    with small.begin() as c:
        counted_before = rolled_mentions(c)
        save_flags(c, [(mention_id, airdrop)])
        assert c.execute(select(func.count()).select_from(metric_dirty)).scalar_one() == 0  # refreshed, not pending
        assert rolled_mentions(c) == counted_before - 1  # the rows themselves, not a raw read of logged slots
    flagged = from_mentions(small, CHANGE_ZONES)
    assert flagged != everything
    with small.connect() as c:
        assert_same(flagged, figures(c, CHANGE_ZONES))

    with small.begin() as c:
        save_flags(c, [(mention_id, None)])  # a re-run finds it is no scam after all
        assert c.execute(select(func.count()).select_from(metric_dirty)).scalar_one() == 0
        assert rolled_mentions(c) == counted_before
    with small.connect() as c:
        assert_same(everything, figures(c, CHANGE_ZONES))


def test_an_erased_authors_handle_leaves_the_rollups_in_the_same_transaction(small: Engine) -> None:
    from_rollups(small)
    with small.begin() as c:
        apply_deletion(c, "x", "6", "erased")
        handles = set(c.execute(select(metric_author_days.c.author_handle)).scalars())
    assert "erin" not in handles
    assert "alice" in handles


def test_a_writer_that_refreshes_leaves_nothing_logged_and_readers_need_no_refresh(small: Engine) -> None:
    with small.begin() as c:
        metrics.refresh_rollups(c)
    _recollected(small)  # save_mentions alone logs; the pipeline's save_verdicts would refresh
    with small.connect() as c:
        assert c.execute(select(func.count()).select_from(metric_dirty)).scalar_one() > 0
        reading = metrics.kpis(c, *PERIODS[0]).current
        assert c.execute(select(func.count()).select_from(metric_dirty)).scalar_one() > 0  # readers never write
    assert reading.potential_reach == 5000 + 500 + 2000 + 300
    assert reading.impressions == 5000 + 9000 + 400


def test_the_refresh_spans_a_gap_between_changed_slots_correctly(small: Engine) -> None:
    from_rollups(small)
    with small.begin() as c:
        for external_id in ("1", "t3_4"):  # 10 Nov 09:00 and 11 Nov 08:00: many clean slots between
            c.execute(update(mentions).where(mentions.c.external_id == external_id).values(likes=1000))
    expected = from_mentions(small)
    assert_same(expected, from_rollups(small))
    assert expected[f"kpis {PERIODS[0][0]} None"].current.engagement == 63 - 10 + 2 * 1000


def test_rollup_slots_are_a_quarter_hour_so_every_zones_buckets_start_on_one() -> None:
    assert METRIC_SLOT_SECONDS == 900
    for zone in [*ZONES, "Pacific/Chatham", "Australia/Eucla"]:  # +12:45, +8:45
        for bucket in metrics.buckets(PERIODS[1][0], PERIODS[1][1] + timedelta(days=60), "day", zone):
            assert int(bucket.timestamp()) % METRIC_SLOT_SECONDS == 0, (zone, bucket)
