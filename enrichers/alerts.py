"""Spike alerts: an hour with far more mentions, or a far larger negative share, than its baseline.

Pure functions over hourly counts per brand (`storage.metrics.hourly_counts` reads them); an alert becomes a
`Route` to the teams configured for its kind, carrying its evidence: the mentions that drove it.

This module owns the `alerts:` section of overheard.yaml (`AlertsConfig`)::

    alerts:
      baseline_hours: 168          # the week before the hour is its baseline
      seasonality: daily           # compare with the same hour of the previous days (or: none)
      volume: {min_z: 4.0, min_mentions: 10, min_ratio: 2.0, teams: [communications, marketing]}
      negative_share: {min_z: 4.0, min_negative: 5, min_share: 0.4, teams: [communications]}

**Volume.** An hour is compared with its reference hours: the same hour of each day of the baseline
with `seasonality: daily`, every hour of it with `none`. Counts are first made comparable whatever
their size (Anscombe's transform 2·√(n + 3/8) turns Poisson counts into values with a standard
deviation of about 1); the robust z-score is then (value − median) / spread, the spread being the scaled
median absolute deviation of the reference, at least 1 (a baseline of zeros has no spread of its own).
An hour is a spike when z ≥ `min_z`, it has at least `min_mentions` and at least `min_ratio` × the
reference median.

**Negative share.** The baseline share is pooled over every hour of the baseline (negative / classified, at
least `floor_share` and at most 1 − `floor_share`); an hour's negative count is compared with what that share predicts for its
classified mentions, in binomial standard deviations. An alert needs z ≥ `min_z`, at least
`min_negative` negative mentions and a share of at least `min_share`.

A run of spiking hours is one storm: each hour alerts (so a growing storm is seen growing), and its
route's natural key is the driving mention, so re-running the check changes nothing.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from enrichers.model import Priority, Route, Team

_STRICT = ConfigDict(frozen=True, extra="forbid")
_MAD_TO_SIGMA = 1.4826  # the MAD of a normal distribution times this is its standard deviation


class VolumeAlerts(BaseModel):
    model_config = _STRICT

    enabled: bool = True
    min_z: float = Field(default=4.0, gt=0, description="Robust z-score an hour must reach.")
    min_mentions: int = Field(default=10, ge=1, description="Mentions in the hour, at least.")
    min_ratio: float = Field(default=2.0, ge=1, description="Times the baseline median, at least.")
    teams: tuple[Team, ...] = (Team.communications, Team.marketing)
    priority: Priority = Priority.high


class NegativeShareAlerts(BaseModel):
    model_config = _STRICT

    enabled: bool = True
    min_z: float = Field(default=4.0, gt=0, description="Binomial z-score the negative count must reach.")
    min_negative: int = Field(default=5, ge=1, description="Negative mentions in the hour, at least.")
    min_share: float = Field(default=0.4, gt=0, le=1, description="Negative share of classified mentions, at least.")
    floor_share: float = Field(default=0.05, gt=0, lt=1, description="Baseline share used when it is lower.")
    teams: tuple[Team, ...] = (Team.communications,)
    priority: Priority = Priority.urgent


class AlertsConfig(BaseModel):
    """The `alerts:` section of overheard.yaml."""

    model_config = _STRICT

    baseline_hours: int = Field(default=168, ge=24, description="Hours before the checked hour that form its baseline.")
    seasonality: Literal["daily", "none"] = Field(
        default="daily", description="daily: compare with the same hour of previous days; none: with every hour."
    )
    volume: VolumeAlerts = Field(default_factory=VolumeAlerts)
    negative_share: NegativeShareAlerts = Field(default_factory=NegativeShareAlerts)
    evidence: int = Field(default=5, ge=1, le=50, description="Top mentions attached to an alert.")


class AlertKind(StrEnum):
    volume = "volume"
    negative_share = "negative_share"


@dataclass(frozen=True)
class HourCount:
    """One brand's mentions in one UTC hour."""

    hour: datetime  # start of the hour, UTC
    mentions: int
    negative: int  # mentions read as negative (a person's relabel wins)
    classified: int  # mentions with a sentiment


@dataclass(frozen=True)
class Alert:
    kind: AlertKind
    brand: str
    hour: datetime  # start of the spiking hour, UTC
    observed: float  # mentions (volume) or negative share (negative_share)
    expected: float  # the baseline's median mentions or pooled negative share
    z: float
    mentions: int
    negative: int

    @property
    def key(self) -> str:
        return f"{self.kind.value}:{self.brand}:{self.hour:%Y-%m-%dT%H:00Z}"

    def summary(self) -> str:
        if self.kind is AlertKind.volume:
            return (
                f"{self.brand}: {self.mentions} mentions in the hour from {self.hour:%Y-%m-%d %H:00} UTC, "
                f"against a usual {self.expected:g} an hour (robust z {self.z:.1f})"
            )
        return (
            f"{self.brand}: {self.negative} of {self.mentions} mentions negative ({self.observed:.0%}) in the hour "
            f"from {self.hour:%Y-%m-%d %H:00} UTC, against a usual {self.expected:.0%} (z {self.z:.1f})"
        )


@dataclass(frozen=True)
class Evidence:
    """A mention that drove an alert, as a person would want to see it first."""

    source: str
    external_id: str
    url: str | None
    author: str
    followers: int | None
    engagement: int
    sentiment: str | None
    excerpt: str


def _window(series: Sequence[HourCount], index: int, config: AlertsConfig) -> Sequence[HourCount]:
    return series[max(0, index - config.baseline_hours) : index]


def _seasonal(series: Sequence[HourCount], index: int, config: AlertsConfig) -> list[HourCount]:
    window = _window(series, index, config)
    if config.seasonality == "daily":
        return [h for h in window if (series[index].hour - h.hour) % timedelta(days=1) == timedelta(0)]
    return list(window)


def _stabilised(count: int) -> float:
    """Anscombe's transform: Poisson counts become roughly normal with a standard deviation of 1."""
    return 2 * math.sqrt(count + 3 / 8)


def volume_spike(count: int, reference: Sequence[int], rules: VolumeAlerts) -> tuple[float, float] | None:
    """The spike rule, one for alerts and the dashboard: (robust z, reference median) when `count` spikes
    against the `reference` counts, None otherwise (see the module's docstring: Anscombe-stabilised counts,
    the scaled MAD at least 1, and at least `min_mentions` and `min_ratio` × the median)."""
    if not reference:
        return None
    values = [_stabilised(n) for n in reference]
    centre = statistics.median(values)
    spread = max(_MAD_TO_SIGMA * statistics.median(abs(v - centre) for v in values), 1.0)
    z = (_stabilised(count) - centre) / spread
    median = statistics.median(reference)
    if z >= rules.min_z and count >= rules.min_mentions and count >= rules.min_ratio * median:
        return z, median
    return None


MIN_BASELINE_BUCKETS = 3
"""Buckets with mentions a series needs before one of its buckets can be called a spike."""


def spikes(counts: Sequence[int], rules: VolumeAlerts) -> list[int]:
    """Indexes of the buckets of a series (the dashboard's days) that spike, by `volume_spike`, against the
    buckets before them. As an alert compares an hour with the hours before it from the first stored one, the
    baseline starts at the first bucket with mentions (days before collection began are not quiet days), and
    a bucket is judged once `MIN_BASELINE_BUCKETS` of baseline precede it."""
    first = next((i for i, n in enumerate(counts) if n), len(counts))
    return [
        i for i in range(first + MIN_BASELINE_BUCKETS, len(counts)) if volume_spike(counts[i], counts[first:i], rules)
    ]


def _volume_alert(brand: str, now: HourCount, reference: Sequence[HourCount], rules: VolumeAlerts) -> Alert | None:
    found = volume_spike(now.mentions, [h.mentions for h in reference], rules)
    if found is None:
        return None
    z, median = found
    return Alert(AlertKind.volume, brand, now.hour, now.mentions, median, z, now.mentions, now.negative)


def _negative_alert(
    brand: str, now: HourCount, reference: Sequence[HourCount], rules: NegativeShareAlerts
) -> Alert | None:
    if not now.classified:
        return None
    classified = sum(h.classified for h in reference)
    pooled = sum(h.negative for h in reference) / classified if classified else 0.0
    share = min(max(pooled, rules.floor_share), 1 - rules.floor_share)
    expected = now.classified * share
    z = (now.negative - expected) / math.sqrt(now.classified * share * (1 - share))
    observed = now.negative / now.classified
    if z >= rules.min_z and now.negative >= rules.min_negative and observed >= rules.min_share:
        return Alert(AlertKind.negative_share, brand, now.hour, observed, share, z, now.mentions, now.negative)
    return None


def _complete(series: Sequence[HourCount]) -> list[HourCount]:
    """The series with every missing hour filled with zeros (storage returns only hours with mentions)."""
    if not series:
        return []
    ordered = sorted(series, key=lambda h: h.hour)
    by_hour = {h.hour: h for h in ordered}
    filled, hour = [], ordered[0].hour
    while hour <= ordered[-1].hour:
        filled.append(by_hour.get(hour, HourCount(hour, 0, 0, 0)))
        hour += timedelta(hours=1)
    return filled


def detect(brand: str, series: Sequence[HourCount], config: AlertsConfig, since: datetime | None = None) -> list[Alert]:
    """Alerts for each hour of `series` (from `since`, when given) that has a full day of baseline before it.

    `series` should start `config.baseline_hours` before `since`; hours without a day of baseline are
    never checked, so a brand-new brand does not alert on its first mentions.
    """
    hours = _complete(series)
    alerts = []
    for index, now in enumerate(hours):
        if (since is not None and now.hour < since) or index < 24:
            continue
        seasonal = _seasonal(hours, index, config)
        if config.volume.enabled and seasonal and (alert := _volume_alert(brand, now, seasonal, config.volume)):
            alerts.append(alert)
        window = _window(hours, index, config)
        if config.negative_share.enabled and (alert := _negative_alert(brand, now, window, config.negative_share)):
            alerts.append(alert)
    return alerts


def routes_for(alert: Alert, evidence: Sequence[Evidence], config: AlertsConfig) -> list[Route]:
    """One route per configured team, keyed on the mention that drove the alert most, with the evidence.

    Keying on a stored mention lets the alert travel the same outbox and deliveries as any route.
    """
    if not evidence:
        return []
    rules = config.volume if alert.kind is AlertKind.volume else config.negative_share
    lines = [
        f"- {e.source} @{e.author}"
        + (f" ({e.followers:,} followers)" if e.followers is not None else "")
        + f", {e.engagement:,} engagements: “{e.excerpt}”"
        + (f" {e.url}" if e.url else "")
        for e in evidence
    ]
    explanation = f"Alert {alert.key}. {alert.summary()}. Driven by:\n" + "\n".join(lines)
    top = evidence[0]
    return [
        Route(
            source=top.source,
            external_id=top.external_id,
            team=team,
            channel=team.value,
            priority=rules.priority,
            due_at=alert.hour + timedelta(hours=2),
            rule=f"alert:{alert.kind.value}",
            explanation=explanation,
        )
        for team in rules.teams
    ]
