"""Pooled encoder states for many texts, cached on disk per encoder weights so that only new texts are
encoded when the labeled set grows."""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from classifiers.cache import cache_dir
from classifiers.encoder import HIDDEN, Encoder, TorchBackend
from classifiers.pooling import Pooled, pool


def _weights_key(layers: Path | None) -> str:
    return hashlib.sha1(layers.read_bytes()).hexdigest()[:12] if layers is not None else "base"


def _text_key(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8", "replace")).hexdigest()


def pooled_states(
    texts: Sequence[str], layers: Path | None, batch_size: int = 64, threads: int | None = None
) -> Pooled:
    """The pooled states of ``texts`` (``classifiers.pooling.Pooled``), rows in the order given.

    ``threads`` defaults to ``$OVERHEARD_TRAIN_THREADS`` or 2. On a machine whose cores are busy with other work,
    1 is much faster than 2 (torch's threads wait on each other: 54 against 9 texts/s measured so)."""
    # v2: mean of the middle layer, mean and max of the final layer (v1 files held the two means only)
    path = cache_dir() / f"pooled-v2-{_weights_key(layers)}.npz"
    known: dict[str, np.ndarray] = {}
    if path.exists():
        with np.load(path) as z:
            known = dict(zip(z["keys"].tolist(), z["vectors"], strict=True))
    keys = [_text_key(t) for t in texts]
    missing = sorted({k: t for k, t in zip(keys, texts, strict=True) if k not in known}.items())
    if missing:
        threads = threads or int(os.environ.get("OVERHEARD_TRAIN_THREADS", "2"))
        encoder = Encoder(TorchBackend(layers, threads=threads), batch_size=batch_size)
        started = time.time()
        step = 2048
        for start in range(0, len(missing), step):
            chunk = missing[start : start + step]
            pooled = pool(encoder.encode(encoder.tokenize([t for _, t in chunk])))
            rows = np.concatenate([pooled.mid, pooled.final, pooled.final_max], axis=1).astype(np.float32)
            for (key, _), row in zip(chunk, rows, strict=True):
                known[key] = row
            print(
                f"  encoded {min(start + step, len(missing))}/{len(missing)} new texts in {time.time() - started:.0f}s",
                flush=True,
            )
        np.savez(path, keys=np.array(list(known)), vectors=np.stack(list(known.values())))
    if not keys:
        return pool([])
    vectors = np.stack([known[k] for k in keys])
    return Pooled(vectors[:, :HIDDEN], vectors[:, HIDDEN : 2 * HIDDEN], vectors[:, 2 * HIDDEN :])
