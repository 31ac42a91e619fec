"""What the heads read from the encoder: token states pooled per text, and the intent head's input layout.

Serving (``classifiers.model``) and training (``classifiers.refit`` and the scripts in ``training/``) both build the intent head's input here,
so a head is always fed the features it was fitted on. The layout a head was fitted on is recorded in its
``meta.json`` (``intent.features``); heads from before the layout was recorded read ``LAYOUT_MEAN``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from classifiers.cues import cue_features
from classifiers.encoder import HIDDEN, Encoded

LAYOUT_MEAN = "mid_mean,final_mean,cues"
"""Mean-pooled middle and final layers, then the cue counts (heads up to 2026-12-04)."""
LAYOUT_MEAN_MAX = "mid_mean,final_mean,final_max,cues"
"""As LAYOUT_MEAN plus the final layer max-pooled over tokens: a strong single word ("refund", "broken") keeps its
weight in a long text, where a mean dilutes it."""
LAYOUTS = (LAYOUT_MEAN, LAYOUT_MEAN_MAX)


@dataclass(frozen=True)
class Pooled:
    """Per text (rows), pooled token states, each (texts, HIDDEN)."""

    mid: np.ndarray
    """Mean over tokens of the middle layer (``classifiers.encoder.MID_LAYER``)."""
    final: np.ndarray
    """Mean over tokens of the final layer: what the sentiment head reads."""
    final_max: np.ndarray | None
    """Maximum over tokens of the final layer, per dimension; None where nothing reads it (``pool(with_max=False)``)."""


def pool(encoded: Sequence[Encoded], with_max: bool = True) -> Pooled:
    """Pool each text's token states (padding already removed by the encoder). Serving passes ``with_max`` only
    when its intent head reads the max, so a mean-layout head costs nothing extra."""
    if not encoded:
        empty = np.zeros((0, HIDDEN), np.float32)
        return Pooled(empty, empty, empty if with_max else None)
    return Pooled(
        mid=np.stack([enc.mid.mean(axis=0) for enc in encoded]),
        final=np.stack([enc.final.mean(axis=0) for enc in encoded]),
        final_max=np.stack([enc.final.max(axis=0) for enc in encoded]) if with_max else None,
    )


def intent_layout(meta: Mapping[str, Any]) -> str:
    """The intent input layout recorded in an artifacts folder's meta.json; raises ValueError for an unknown one."""
    layout = str(meta.get("intent", {}).get("features", LAYOUT_MEAN))
    if layout not in LAYOUTS:
        raise ValueError(f"intent.features {layout!r} is not one of {', '.join(LAYOUTS)}")
    return layout


def intent_inputs(pooled: Pooled, cue_counts: np.ndarray, layout: str) -> np.ndarray:
    """The intent head's input rows in ``layout`` (one of LAYOUTS)."""
    parts = [pooled.mid, pooled.final]
    if layout == LAYOUT_MEAN_MAX:
        if pooled.final_max is None:
            raise ValueError(f"layout {layout!r} reads final_max, which was not pooled (pool(with_max=True))")
        parts.append(pooled.final_max)
    elif layout != LAYOUT_MEAN:
        raise ValueError(f"unknown intent layout {layout!r}; expected one of {', '.join(LAYOUTS)}")
    counts = np.asarray(cue_counts, np.float32).reshape(len(pooled.mid), -1)
    return np.concatenate([*parts, counts], axis=1).astype(np.float32)


def text_intent_inputs(pooled: Pooled, texts: Sequence[str], layout: str) -> np.ndarray:
    """``intent_inputs`` with the cue counts found in ``texts`` (the rows of ``pooled``, in order)."""
    counts = np.array([cue_features(t) for t in texts], np.float32).reshape(len(texts), -1)
    return intent_inputs(pooled, counts, layout)


def token_contributions(enc: Encoded, direction: np.ndarray, layout: str) -> np.ndarray:
    """Each token's share of ``direction · intent_inputs`` (cue counts left out): how much the word pushed the
    verdict. A mean-pooled part splits over all tokens; a max-pooled dimension counts for the token that holds
    the maximum."""
    n, d = enc.final.shape
    scores = (enc.mid @ direction[:d] + enc.final @ direction[d : 2 * d]) / n
    if layout == LAYOUT_MEAN_MAX:
        winners = enc.final.argmax(axis=0)
        np.add.at(scores, winners, enc.final[winners, np.arange(d)] * direction[2 * d : 3 * d])
    return scores
