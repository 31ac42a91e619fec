"""Spike alerts on four weeks of synthetic hourly counts (data/make_series.py says how they were made),
and on the real demo data, where the 2026-11-12 outage must raise the alarm."""

from __future__ import annotations

import csv
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError
from sqlalchemy import Engine, select

from enrichers.alerts import Alert, AlertKind, AlertsConfig, Evidence, HourCount, detect, routes_for
from enrichers.model import Priority, Team
from storage import metrics
from storage.schema import mentions

DATA = Path(__file__).parent / "data"
ONE_INTERVAL = timedelta(hours=1)


def series(name: str) -> list[HourCount]:
    with (DATA / name).open(encoding="utf-8") as handle:
        return [
            HourCount(datetime.fromisoformat(r["hour"]), int(r["mentions"]), int(r["negative"]), int(r["classified"]))
            for r in csv.DictReader(handle)
        ]


def injected() -> list[tuple[datetime, AlertKind]]:
    with (DATA / "spikes.csv").open(encoding="utf-8") as handle:
        return [(datetime.fromisoformat(r["hour"]), AlertKind(r["kind"])) for r in csv.DictReader(handle)]


def test_the_quiet_series_raises_no_alert() -> None:
    assert detect("Lumora", series("series_quiet.csv"), AlertsConfig()) == []


def test_every_injected_spike_is_alerted_within_one_interval_with_its_kind() -> None:
    alerts = detect("Lumora", series("series_spikes.csv"), AlertsConfig())
    for hour, kind in injected():
        assert any(a.kind is kind and hour <= a.hour <= hour + ONE_INTERVAL for a in alerts), f"{kind} at {hour}"


def test_the_spiking_series_alerts_only_near_an_injected_spike() -> None:
    spikes = [hour for hour, _ in injected()]
    alerts = detect("Lumora", series("series_spikes.csv"), AlertsConfig())
    assert alerts
    assert all(any(s <= a.hour <= s + ONE_INTERVAL for s in spikes) for a in alerts)


def test_hours_without_a_day_of_baseline_are_not_checked() -> None:
    start = datetime(2026, 11, 1, tzinfo=UTC)
    first_day = [HourCount(start + timedelta(hours=h), 50 if h == 20 else 1, 0, 1) for h in range(24)]
    assert detect("Lumora", first_day, AlertsConfig()) == []


def test_since_limits_the_check_to_new_hours_while_older_ones_form_the_baseline() -> None:
    spikes = injected()
    since = spikes[-1][0]
    alerts = detect("Lumora", series("series_spikes.csv"), AlertsConfig(), since=since)
    assert [(a.hour, a.kind) for a in alerts] == [spikes[-1]]


def _evidence() -> list[Evidence]:
    return [
        Evidence(
            "x", "2001", "https://x.com/a/status/2001", "angry_user", 12_000, 900, "negative", "Hub offline again"
        ),
        Evidence("mastodon", "3001", None, "bob@m.social", None, 12, "negative", "Still offline"),
    ]


def _alert(kind: AlertKind) -> Alert:
    return Alert(kind, "Lumora", datetime(2026, 11, 12, 8, tzinfo=UTC), 0.9, 0.2, 6.1, 20, 18)


def test_a_negative_storm_becomes_an_urgent_route_to_communications_keyed_on_its_top_mention() -> None:
    [route] = routes_for(_alert(AlertKind.negative_share), _evidence(), AlertsConfig())
    assert (route.team, route.priority) == (Team.communications, Priority.urgent)
    assert (route.source, route.external_id) == ("x", "2001")
    assert route.rule == "alert:negative_share"
    assert "18 of 20 mentions negative (90%)" in route.explanation
    assert "@angry_user (12,000 followers), 900 engagements: “Hub offline again” https://x.com/a/status/2001" in (
        route.explanation
    )
    assert "@bob@m.social" in route.explanation


def test_a_volume_spike_goes_to_communications_and_marketing() -> None:
    routes = routes_for(_alert(AlertKind.volume), _evidence(), AlertsConfig())
    assert {r.team for r in routes} == {Team.communications, Team.marketing}
    assert {r.priority for r in routes} == {Priority.high}


def test_an_alert_without_stored_evidence_routes_nothing() -> None:
    assert routes_for(_alert(AlertKind.volume), [], AlertsConfig()) == []


def test_the_alerts_section_is_validated_with_the_key_named() -> None:
    section = yaml.safe_load("volume: {min_z: 5, teams: [marketing]}\nnegative_share: {min_share: 0.5}")
    config = AlertsConfig.model_validate(section)
    assert (config.volume.min_z, config.volume.teams, config.negative_share.min_share) == (5, (Team.marketing,), 0.5)
    with pytest.raises(ValidationError, match="min_negatives"):
        AlertsConfig.model_validate({"negative_share": {"min_negatives": 3}})
    with pytest.raises(ValidationError, match="teams"):
        AlertsConfig.model_validate({"volume": {"teams": ["press"]}})


def test_hourly_counts_read_each_brand_hour_with_negative_and_classified_mentions(small: Engine) -> None:
    with small.connect() as c:
        hours = metrics.hourly_counts(
            c, datetime(2026, 11, 10, tzinfo=UTC), datetime(2026, 11, 12, tzinfo=UTC), "Lumora"
        )
    by_hour = {h.hour.strftime("%d %H"): (h.mentions, h.negative, h.classified) for h in hours}
    assert by_hour == {
        "10 09": (1, 0, 1),
        "10 23": (1, 1, 1),
        "11 00": (1, 0, 1),  # relabelled neutral
        "11 08": (1, 0, 1),
        "11 20": (1, 0, 1),
        "11 21": (1, 1, 1),
        "11 22": (1, 0, 1),
    }


def test_the_demo_outage_raises_a_negative_alert_on_the_day_it_happened_with_its_evidence(
    demo_engine: Engine,
) -> None:
    since, until = datetime(2026, 11, 7, tzinfo=UTC), datetime(2026, 11, 20, tzinfo=UTC)
    with demo_engine.connect() as c:
        found = metrics.check_alerts(c, "Lumora", AlertsConfig(), since, until)
    assert found
    assert {alert.hour.date().isoformat() for alert, _ in found} == {"2026-11-12"}
    assert any(alert.kind is AlertKind.negative_share for alert, _ in found)
    for alert, evidence in found:
        assert evidence, f"{alert.key} has no evidence"
        assert all(alert.hour <= _created(demo_engine, e) < alert.hour + ONE_INTERVAL for e in evidence)
        if alert.kind is AlertKind.negative_share:
            assert {e.sentiment for e in evidence} == {"negative"}


def _created(engine: Engine, evidence: Evidence) -> datetime:
    with engine.connect() as c:
        return c.execute(
            select(mentions.c.created_at).where(
                mentions.c.source == evidence.source, mentions.c.external_id == evidence.external_id
            )
        ).scalar_one()
