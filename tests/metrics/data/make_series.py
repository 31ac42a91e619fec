"""How series_quiet.csv and series_spikes.csv were made (kept to re-make them; the tests read the CSVs).

Four weeks of hourly counts for one brand with a daily rhythm (about 2 mentions an hour at night, 9 at
mid-afternoon, Poisson), a fifth of them negative. series_spikes.csv is the same series with spikes
injected at the hours listed in spikes.csv: volume spikes (many more mentions, usual tone) and
negative storms (a few more mentions, most of them negative).

    python tests/metrics/data/make_series.py
"""

from __future__ import annotations

import csv
import math
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).parent
START = datetime(2026, 10, 1, tzinfo=UTC)
Row = list[Any]  # [hour (datetime), mentions, negative mentions], counts raised in place for the spikes
SPIKES = [  # (hours after START, kind, extra mentions, negative share of the extra mentions)
    (200, "volume", 30, 0.2),
    (333, "volume", 18, 0.2),
    (420, "negative_share", 12, 0.9),
    (515, "volume", 60, 0.2),
    (590, "negative_share", 8, 1.0),
    (650, "volume", 25, 0.25),
]


def main() -> None:
    rng = np.random.default_rng(20261123)
    rows: list[Row] = []
    for h in range(28 * 24):
        hour = START + timedelta(hours=h)
        rate = 2 + 7 * max(0.0, math.sin(math.pi * (hour.hour - 7) / 14))
        mentions = int(rng.poisson(rate))
        negative = int(rng.binomial(mentions, 0.2))
        rows.append([hour, mentions, negative])
    write(HERE / "series_quiet.csv", rows)
    for offset, _kind, extra, share in SPIKES:
        rows[offset][1] += extra
        rows[offset][2] += round(extra * share)
    write(HERE / "series_spikes.csv", rows)
    with (HERE / "spikes.csv").open("w", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(["hour", "kind"])
        out.writerows([[(START + timedelta(hours=o)).isoformat(), kind] for o, kind, _, _ in SPIKES])


def write(path: Path, rows: list[Row]) -> None:
    with path.open("w", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(["hour", "mentions", "negative", "classified"])
        out.writerows([[hour.isoformat(), n, neg, n] for hour, n, neg in rows])


if __name__ == "__main__":
    main()
