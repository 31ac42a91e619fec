"""Step 2 of the house: read a mention's text and say what it is (sentiment, intent, why).

Depends on nothing else of Overheard. ``load_default()`` opens the shipped model; it is imported lazily so
that importing the domain types does not load torch.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from classifiers.verdict import Classifier, Document, Intent, Sentiment, Verdict

if TYPE_CHECKING:
    from classifiers.model import TransformerClassifier

__all__ = [
    "MODEL_FILES",
    "Classifier",
    "Document",
    "Intent",
    "Sentiment",
    "Verdict",
    "load_default",
    "missing_model_files",
]

MODEL_FILES: tuple[str, ...] = ("meta.json", "heads.npz")
"""Files every model folder holds. ``encoder_layers.safetensors`` is optional: without it the encoder is the base
model as shipped (the frozen-encoder recipe)."""


def missing_model_files(folder: Path) -> list[str]:
    """The names in ``MODEL_FILES`` that ``folder`` lacks; empty when it is a model folder."""
    return [name for name in MODEL_FILES if not (folder / name).is_file()]


def load_default(**kwargs: Any) -> TransformerClassifier:
    """The shipped offline classifier; see ``classifiers.model.load_default`` for the options."""
    from classifiers.model import load_default as _load

    return _load(**kwargs)
