"""One spike rule: the alerts' volume rule (robust z on stabilised counts) also marks the dashboard's days."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from enrichers.alerts import AlertsConfig, HourCount, VolumeAlerts, detect, spikes, volume_spike

RULES = VolumeAlerts()
SAMPLE_DAYS = [24, 18, 23, 14, 26, 17, 86, 31, 29, 15, 21, 18, 20, 16]  # the demo sample, 6–19 Nov; a storm on 12 Nov


def test_a_day_far_above_the_days_before_it_is_a_spike_and_the_ordinary_days_after_it_are_not() -> None:
    assert spikes(SAMPLE_DAYS, RULES) == [6]


def test_days_before_collection_began_do_not_turn_every_day_into_a_spike() -> None:
    # A period that starts before the first mention: those days are not quiet days to compare with.
    assert spikes([0] * 16 + SAMPLE_DAYS, RULES) == [16 + 6]


def test_a_day_needs_three_days_of_baseline_before_it_can_spike() -> None:
    assert spikes([20, 20, 200], RULES) == []
    assert spikes([20, 20, 20, 200], RULES) == [3]


def test_the_dashboard_rule_is_the_alerts_rule() -> None:
    # An hour the alerts call a volume spike against its reference hours is a spike by volume_spike too.
    start = datetime(2026, 11, 1, tzinfo=UTC)
    quiet = [HourCount(start + timedelta(hours=h), 10, 2, 10) for h in range(48)]
    storm = HourCount(start + timedelta(hours=48), 80, 10, 80)
    config = AlertsConfig(seasonality="none")
    [alert] = [a for a in detect("Lumora", [*quiet, storm], config) if a.kind.value == "volume"]
    found = volume_spike(80, [h.mentions for h in quiet], config.volume)
    assert found is not None and alert.hour == storm.hour
    assert found == (alert.z, alert.expected)
    assert volume_spike(14, [h.mentions for h in quiet], config.volume) is None
