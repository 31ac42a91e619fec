"""The intent head's input layouts: what serving feeds a head, and how a verdict's words are credited."""

from __future__ import annotations

import numpy as np
import pytest

from classifiers.cues import cue_features
from classifiers.encoder import HIDDEN, Encoded
from classifiers.model import ARTIFACTS
from classifiers.pooling import (
    LAYOUT_MEAN,
    LAYOUT_MEAN_MAX,
    intent_inputs,
    intent_layout,
    pool,
    token_contributions,
)
from classifiers.refit.artifacts import load_heads, load_meta


def _encoded(tokens: int, seed: int) -> Encoded:
    rng = np.random.default_rng(seed)
    return Encoded(
        final=rng.normal(size=(tokens, HIDDEN)).astype(np.float32),
        mid=rng.normal(size=(tokens, HIDDEN)).astype(np.float32),
    )


def test_pooling_uses_each_text_own_tokens() -> None:
    short, long = _encoded(3, 1), _encoded(40, 2)
    pooled = pool([short, long])
    np.testing.assert_allclose(pooled.mid[0], short.mid.mean(axis=0), rtol=1e-6)
    np.testing.assert_allclose(pooled.final[1], long.final.mean(axis=0), rtol=1e-6)
    np.testing.assert_array_equal(pooled.final_max[1], long.final.max(axis=0))
    assert pool([]).final.shape == (0, HIDDEN)


@pytest.mark.parametrize("layout", [LAYOUT_MEAN, LAYOUT_MEAN_MAX])
def test_token_contributions_add_up_to_the_head_score(layout: str) -> None:
    """The words a verdict names are credited with exact shares of the score that decided it."""
    enc = _encoded(12, 3)
    cues = np.zeros((1, len(cue_features(""))), np.float32)
    x = intent_inputs(pool([enc]), cues, layout)[0]
    direction = np.random.default_rng(4).normal(size=x.shape[0]).astype(np.float32)
    shares = token_contributions(enc, direction, layout)
    assert shares.shape == (12,)
    assert float(shares.sum()) == pytest.approx(float(x @ direction), rel=1e-4, abs=1e-3)


def test_layouts_differ_by_the_max_pooled_final_layer() -> None:
    pooled = pool([_encoded(5, 5), _encoded(7, 6)])
    cues = np.ones((2, len(cue_features(""))), np.float32)
    mean = intent_inputs(pooled, cues, LAYOUT_MEAN)
    both = intent_inputs(pooled, cues, LAYOUT_MEAN_MAX)
    assert mean.shape == (2, 2 * HIDDEN + cues.shape[1]) and both.shape == (2, 3 * HIDDEN + cues.shape[1])
    np.testing.assert_array_equal(both[:, 2 * HIDDEN : 3 * HIDDEN], pooled.final_max)
    with pytest.raises(ValueError, match="unknown intent layout 'final_only'"):
        intent_inputs(pooled, cues, "final_only")
    means_only = pool([_encoded(5, 5), _encoded(7, 6)], with_max=False)  # what serving pools for a mean head
    np.testing.assert_array_equal(intent_inputs(means_only, cues, LAYOUT_MEAN), mean)
    with pytest.raises(ValueError, match="reads final_max, which was not pooled"):
        intent_inputs(means_only, cues, LAYOUT_MEAN_MAX)


def test_a_head_records_the_layout_it_reads_and_matches_it() -> None:
    assert intent_layout({}) == LAYOUT_MEAN  # heads fitted before the layout was recorded
    assert intent_layout({"intent": {"features": LAYOUT_MEAN_MAX}}) == LAYOUT_MEAN_MAX
    with pytest.raises(ValueError, match=r"intent\.features 'tfidf' is not one of"):
        intent_layout({"intent": {"features": "tfidf"}})
    for artifacts in (ARTIFACTS, ARTIFACTS / "fast"):
        layout = intent_layout(load_meta(artifacts))
        width = intent_inputs(pool([_encoded(4, 7)]), np.zeros((1, len(cue_features(""))), np.float32), layout).shape[1]
        assert load_heads(artifacts)["intent_weights"].shape[1] == width, artifacts
