"""Retraining the classifier's heads from triage corrections: the service behind ``overheard train``."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine

from classifiers.model import ARTIFACTS
from classifiers.refit.retrain import Correction, RetrainResult, install, retrain_heads
from storage.feedback import labeled_mentions


def corrections_from_triage(engine: Engine) -> list[Correction]:
    """Every relabelled mention as a correction keyed by its mention id (which fixes its held-out split)."""
    with engine.connect() as connection:
        labeled = labeled_mentions(connection)
    return [
        Correction(key=f"mention:{m.mention_id}", text=m.text, sentiment=m.human_sentiment, intent=m.human_intent)
        for m in labeled
    ]


def retrain_from_triage(
    engine: Engine,
    out_dir: Path,
    *,
    artifacts: Path = ARTIFACTS,
    install_result: bool = False,
    sentiment_sample: int = 4000,
    augment_sample: int = 4000,
    data_dir: Path | None = None,
) -> RetrainResult:
    """Refit the heads of the model in ``artifacts`` (the one being served) with the stored corrections into
    ``out_dir``; copy the result over ``artifacts`` when ``install_result``. The public training data is read
    from ``data_dir`` (default ``var/data``, see ``scripts/fetch_training_data.py``)."""
    corrections = corrections_from_triage(engine)
    command = f"overheard train --out {out_dir}" + (" --install" if install_result else "")
    result = retrain_heads(
        corrections,
        out_dir,
        artifacts=artifacts,
        sentiment_sample=sentiment_sample,
        augment_sample=augment_sample,
        command=command,
        data_dir=data_dir,
    )
    if install_result:
        install(out_dir, artifacts)
    return result
