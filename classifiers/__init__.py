"""Step 2 of the house: read a mention's text and say what it is (sentiment, intent, why).

Depends on nothing else of Overheard. ``load_default()`` opens the shipped model; it is imported lazily so
that importing the domain types does not load torch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from classifiers.verdict import Classifier, Document, Intent, Sentiment, Verdict

if TYPE_CHECKING:
    from classifiers.model import TransformerClassifier

__all__ = ["Classifier", "Document", "Intent", "Sentiment", "Verdict", "load_default"]


def load_default(**kwargs: Any) -> TransformerClassifier:
    """The shipped offline classifier; see ``classifiers.model.load_default`` for the options."""
    from classifiers.model import load_default as _load

    return _load(**kwargs)
