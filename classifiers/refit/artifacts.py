"""Reading and writing ``classifiers/artifacts``: heads.npz, meta.json, encoder_layers.safetensors."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np

from classifiers.model import ARTIFACTS

DATE = "2026-12-07"  # the release date of the shipped artifacts, part of model_version
DEFAULT_THRESHOLDS: dict[str, Any] = {
    "sentiment": 0.5,
    "intent": {"complaint": 0.5, "purchase_intent": 0.5, "question": 0.5, "praise": 0.5, "other": 0.4},
}


def load_heads(artifacts: Path = ARTIFACTS) -> dict[str, np.ndarray]:
    path = artifacts / "heads.npz"
    if not path.exists():
        return {}
    with np.load(path) as z:
        return dict(z)


def save_heads(arrays: dict[str, np.ndarray], artifacts: Path = ARTIFACTS) -> None:
    artifacts.mkdir(parents=True, exist_ok=True)
    np.savez(artifacts / "heads.npz", **dict(sorted(arrays.items())))  # type: ignore[arg-type]  # numpy's stub matches **arrays against allow_pickle: bool too


def load_meta(artifacts: Path = ARTIFACTS) -> dict[str, Any]:
    path = artifacts / "meta.json"
    return json.loads(path.read_text()) if path.exists() else {}


def save_meta(meta: dict[str, Any], artifacts: Path = ARTIFACTS) -> dict[str, Any]:
    """Writes meta.json with a model_version derived from the shipped weights, so any change shows."""
    h = hashlib.sha1()
    for name in ("heads.npz", "encoder_layers.safetensors"):
        if (artifacts / name).exists():
            h.update((artifacts / name).read_bytes())
    meta = {**meta, "date": DATE}
    meta.setdefault("thresholds", DEFAULT_THRESHOLDS)
    meta["model_version"] = f"minilm6-{meta.get('encoder', 'frozen')}-{DATE}-{h.hexdigest()[:8]}"
    (artifacts / "meta.json").write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n")
    return meta
