"""The labeling-round comparison fits its 'older rows' heads on older rows only, and scores every row."""

from __future__ import annotations

import numpy as np

from training.intent import out_of_fold


def test_rows_not_trainable_never_reach_the_fit() -> None:
    rng = np.random.default_rng(0)
    y = np.repeat([0, 1], 60)
    x = rng.normal(size=(120, 4)) + y[:, None] * 2.0
    older = np.ones(120, bool)
    older[::4] = False
    poisoned = x.copy()
    poisoned[~older] = -10.0 * poisoned[~older]  # the added rows made wild: they must not move the older rows' scores
    clean = out_of_fold(x, y, 2, 0.003, trainable=older)
    wild = out_of_fold(poisoned, y, 2, 0.003, trainable=older)
    np.testing.assert_allclose(clean[older], wild[older])
    assert clean.shape == (120, 2) and np.isfinite(wild).all()  # the added rows are still scored
    # fitted on every row, the wild rows do change what the heads learn
    everything = out_of_fold(poisoned, y, 2, 0.003)
    assert not np.allclose(wild[older], everything[older])
