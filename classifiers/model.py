"""The shipped classifier: MiniLM encoder + small learned heads, with reasons a person can check.

Sentiment is a linear head over the mean of the final layer's token states, so each word's share of the
decision is exact: a token's state dotted with the head's weights, divided by the token count. Intent is
a linear head over mean-pooled states of a frozen middle layer and of the final layer, plus cue-phrase
counts (``classifiers.cues``); its word shares are computed the same way. A review's star rating is a
prior that is multiplied into both.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from classifiers import missing_model_files
from classifiers.cues import cue_features, find_cues
from classifiers.encoder import Encoded, Encoder, Tokenized
from classifiers.pooling import LAYOUT_MEAN_MAX, intent_inputs, intent_layout, pool, token_contributions
from classifiers.text import PreparedText, prepare
from classifiers.verdict import Document, Intent, Sentiment, Verdict

if TYPE_CHECKING:
    from classifiers.backend_choice import Candidate, Choice

ARTIFACTS = Path(__file__).parent / "artifacts"
FAST_ARTIFACTS = ARTIFACTS / "fast"
RELEASES: dict[str, Path] = {"standard": ARTIFACTS, "fast": FAST_ARTIFACTS}
"""The shipped models by name: ``standard`` (6 layers) and ``fast`` (4 layers, about 1.4x the speed, lower quality;
see the model card)."""
SENTIMENTS: tuple[Sentiment, ...] = (Sentiment.negative, Sentiment.neutral, Sentiment.positive)
"""Order of the sentiment head's outputs (TweetEval's 0, 1, 2)."""

# P(sentiment | stars) used as a prior for reviews: (upper bound of the star band, negative, neutral, positive).
_RATING_SENTIMENT_PRIOR: tuple[tuple[float, tuple[float, float, float]], ...] = (
    (1.5, (0.85, 0.10, 0.05)),
    (2.5, (0.70, 0.20, 0.10)),
    (3.5, (0.30, 0.45, 0.25)),
    (4.5, (0.07, 0.18, 0.75)),
    (5.0, (0.04, 0.10, 0.86)),
)
_REASON_WORDS = 3
RATING_WEIGHT = 3.0
"""How much a star rating counts against the text model in log space: the author's own score wins a conflict
("great product", 1 star) but leaves the verdict uncertain enough to be flagged."""
_STOPWORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "but",
        "by",
        "for",
        "from",
        "had",
        "has",
        "have",
        "he",
        "her",
        "his",
        "i",
        "i'm",
        "if",
        "in",
        "into",
        "is",
        "it",
        "it's",
        "its",
        "me",
        "my",
        "of",
        "on",
        "or",
        "our",
        "she",
        "so",
        "that",
        "the",
        "their",
        "them",
        "they",
        "this",
        "to",
        "was",
        "we",
        "were",
        "with",
        "you",
        "your",
    ]
)
_NOT_REASONS = _STOPWORDS | {"user", "@user"}


@dataclass(frozen=True)
class Thresholds:
    """Below these probabilities a verdict is marked ``needs_human``.

    Given to a classifier as overrides: ``sentiment=None`` and intents left out keep the shipped thresholds.
    """

    sentiment: float | None
    intent: Mapping[Intent, float]

    @classmethod
    def from_config(cls, sentiment: float | None, intent: Mapping[str, float], where: str = "thresholds") -> Thresholds:
        """Thresholds from plain config values; unknown intents and values outside 0–1 are clear errors."""
        known = ", ".join(i.value for i in Intent)
        given = {"sentiment": sentiment} if sentiment is not None else {}
        for name, value in {**given, **{f"intent.{k}": v for k, v in intent.items()}}.items():
            if not 0.0 <= float(value) <= 1.0:
                raise ValueError(f"{where}.{name}: {value!r} is not a probability between 0 and 1")
        checked: dict[Intent, float] = {}
        for name, value in intent.items():
            if str(name) not in Intent.__members__:
                raise ValueError(f"{where}.intent: {name!r} is not one of {known}")
            checked[Intent(name)] = float(value)
        return cls(sentiment=float(sentiment) if sentiment is not None else None, intent=checked)

    def key(self) -> str:
        payload = json.dumps([self.sentiment, sorted((str(k), v) for k, v in self.intent.items())])
        return hashlib.sha1(payload.encode()).hexdigest()[:8]


@dataclass(frozen=True)
class LinearHead:
    """Logits = weights @ features + bias, with the training-time feature scaling folded in."""

    labels: tuple[str, ...]
    weights: np.ndarray  # (classes, features)
    bias: np.ndarray  # (classes,)
    temperature: float = 1.0

    @classmethod
    def from_arrays(cls, arrays: Mapping[str, np.ndarray], prefix: str) -> LinearHead:
        weights = arrays[f"{prefix}_weights"].astype(np.float32)
        bias = arrays[f"{prefix}_bias"].astype(np.float32)
        if f"{prefix}_scale" in arrays:  # fold standardisation: w·(x-μ)/σ + b
            mean, scale = arrays[f"{prefix}_mean"], arrays[f"{prefix}_scale"]
            weights = weights / scale[None, :]
            bias = bias - weights @ mean
        labels = tuple(str(x) for x in arrays[f"{prefix}_labels"])
        temperature = float(arrays.get(f"{prefix}_temperature", np.array(1.0)))
        return cls(
            labels=labels, weights=weights.astype(np.float32), bias=bias.astype(np.float32), temperature=temperature
        )

    def directions(self) -> np.ndarray:
        """Per class, its weights minus the mean of the other classes' (classes, features): the direction in
        feature space that favours that class, which word shares are measured along."""
        if len(self.labels) == 1:
            return self.weights.copy()
        return np.stack(
            [self.weights[k] - np.delete(self.weights, k, axis=0).mean(axis=0) for k in range(len(self.labels))]
        )

    def probabilities(self, features: np.ndarray) -> np.ndarray:
        if features.shape[-1] != self.weights.shape[1]:
            raise RuntimeError(
                f"the shipped head for {', '.join(self.labels)} expects {self.weights.shape[1]} features but the code "
                f"builds {features.shape[-1]}: rebuild it with python -m training.intent"
            )
        return softmax((features @ self.weights.T + self.bias) / self.temperature)


def softmax(logits: np.ndarray) -> np.ndarray:
    z = logits - logits.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


def with_rating_prior(model: np.ndarray, prior: np.ndarray) -> np.ndarray:
    """Model probabilities tempered by ``1 / RATING_WEIGHT`` times a rating prior, renormalised."""
    p = np.power(np.clip(model, 1e-9, 1.0), 1.0 / RATING_WEIGHT) * prior
    return p / p.sum()


def rating_sentiment_prior(rating: float) -> np.ndarray:
    for upper, prior in _RATING_SENTIMENT_PRIOR:
        if rating <= upper:
            return np.array(prior, dtype=np.float32)
    return np.array(_RATING_SENTIMENT_PRIOR[-1][1], dtype=np.float32)


def rating_intent_prior(rating: float, labels: Sequence[str]) -> np.ndarray:
    """A review is about a product its author used: low stars raise complaint, high stars raise praise."""
    low, high = rating <= 2.5, rating >= 3.5
    factors = {
        Intent.complaint: 3.0 if low else 0.3 if high else 1.0,
        Intent.praise: 3.0 if high else 0.3 if low else 1.0,
        Intent.other: 0.5,
    }
    return np.array([factors.get(Intent(label), 1.0) for label in labels], dtype=np.float32)


class _Word(NamedTuple):
    """A word with its token positions and where it stands in the text."""

    text: str
    positions: list[int]
    start: int
    end: int


def _words(text: str, tokens: Tokenized) -> list[_Word]:
    """The tokenizer's words (it splits at punctuation: "doesn", "'", "t"), in order."""
    spans: dict[int, list[int]] = {}
    for pos, word in enumerate(tokens.word_ids):
        if word is not None:
            spans.setdefault(word, []).append(pos)
    words = []
    for positions in spans.values():
        start = min(tokens.offsets[p][0] for p in positions)
        end = max(tokens.offsets[p][1] for p in positions)
        words.append(_Word(text[start:end], positions, start, end))
    return words


def _unreadable(text: str, words: list[_Word], tokens: Tokenized, unk_id: int) -> str | None:
    """Why the model's output on ``text`` cannot be trusted, if so (the checks made before the model ran)."""
    letters = [ch for ch in text if ch.isalpha()]
    if not letters:
        return "no words to read (empty, emoji, numbers or links only)"
    latin = sum(1 for ch in letters if ch.isascii() or "LATIN" in unicodedata.name(ch, ""))
    if latin < 0.5 * len(letters):
        return "mostly non-Latin script; the model reads English"
    alpha = [w for w in words if sum(c.isalpha() for c in w.text) >= 2 and w.text.lower() != "user"]
    known = [w for w in alpha if len(w.positions) <= 2 and all(tokens.ids[p] != unk_id for p in w.positions)]
    if alpha and len(known) < 0.5 * len(alpha):
        return f"mostly unrecognised words ({len(alpha) - len(known)} of {len(alpha)})"
    return None


def _visible_words(text: str, words: list[_Word]) -> list[_Word]:
    """Words as a reader sees them: the tokenizer's pieces with no space between them joined back ("doesn't"),
    and punctuation at a word's edges left out of its text."""
    joined: list[_Word] = []
    for word in words:
        if joined and joined[-1].end == word.start:
            last = joined[-1]
            joined[-1] = _Word("", last.positions + word.positions, last.start, word.end)
        else:
            joined.append(_Word("", list(word.positions), word.start, word.end))
    out = []
    for word in joined:
        start, end = word.start, word.end
        while start < end and not (text[start].isalnum() or text[start] in "#$£€"):
            start += 1
        while end > start and not text[end - 1].isalnum():
            end -= 1
        if start < end:
            out.append(_Word(text[start:end], word.positions, start, end))
    return out


_PHRASE_WORDS = 4
_PHRASE_SHARE = 0.3
"""A neighbour joins a phrase when it pushed at least this share of the phrase's strongest word."""


def _top_phrases(text: str, words: list[_Word], token_scores: np.ndarray, limit: int = _REASON_WORDS) -> list[str]:
    """The phrases of ``text`` that pushed the decision most, strongest first: each grows from a word that is not
    a stopword to the neighbours that pushed the same way (at most ``_PHRASE_WORDS`` words), and is quoted as
    it stands in the text ("still hasn't arrived", "charged twice"). A phrase never reaches over punctuation."""
    per_token = token_scores.tolist()
    scores = [sum(per_token[p] for p in word.positions) for word in words]
    seeds = sorted(
        (i for i, word in enumerate(words) if word.text.lower() not in _NOT_REASONS), key=lambda i: -scores[i]
    )
    used: set[int] = set()
    phrases: list[str] = []
    for i in seeds:
        if scores[i] <= 0 or len(phrases) >= limit:
            break
        if i in used:
            continue
        lo = hi = i
        while hi - lo + 1 < _PHRASE_WORDS:
            near = [j for j in (lo - 1, hi + 1) if 0 <= j < len(words) and j not in used]
            near = [
                j
                for j in near
                if not text[min(words[j].end, words[lo].end) : max(words[j].start, words[hi].start)].strip()
            ]
            near = [j for j in near if scores[j] >= _PHRASE_SHARE * scores[i] and words[j].text.lower() != "user"]
            if not near:
                break
            j = max(near, key=lambda k: scores[k])
            lo, hi = min(lo, j), max(hi, j)
        while lo < i and words[lo].text.lower() in _NOT_REASONS:
            lo += 1
        while hi > i and words[hi].text.lower() in _NOT_REASONS:
            hi -= 1
        phrase = " ".join(text[words[lo].start : words[hi].end].split())
        used.update(range(lo, hi + 1))
        if phrase.lower() not in (p.lower() for p in phrases):
            phrases.append(phrase)
    return phrases


_ADDRESSED = re.compile(r"^\s*((?:@\w{1,30}[\s,:]*)+)")


def addressed_to(text: str) -> list[str]:
    """The handles a post opens with: it is written to them (a reply or a message to a brand's account)."""
    match = _ADDRESSED.match(text)
    return re.findall(r"@\w{1,30}", match.group(1)) if match else []


def _quote(words: Sequence[str]) -> str:
    return ", ".join(f'"{w}"' for w in words)


class TransformerClassifier:
    """Reads documents with the MiniLM encoder and the heads in an artifacts directory."""

    def __init__(
        self,
        encoder: Encoder,
        artifacts: Path = ARTIFACTS,
        thresholds: Thresholds | None = None,
    ) -> None:
        meta = json.loads((artifacts / "meta.json").read_text())
        with np.load(artifacts / "heads.npz") as arrays:
            arrays = dict(arrays)
        self.encoder = encoder
        self.meta = meta
        self.sentiment_head = LinearHead.from_arrays(arrays, "sentiment")
        self.intent_head = LinearHead.from_arrays(arrays, "intent") if "intent_weights" in arrays else None
        self._intent_layout = intent_layout(meta)
        default = Thresholds.from_config(
            meta["thresholds"]["sentiment"],
            meta["thresholds"]["intent"],
            where=f"{artifacts / 'meta.json'}: thresholds",
        )
        if thresholds is not None:
            sentiment = thresholds.sentiment if thresholds.sentiment is not None else default.sentiment
            self.thresholds = Thresholds(sentiment, {**default.intent, **thresholds.intent})
        else:
            self.thresholds = default
        self._sentiment_threshold = float(self.thresholds.sentiment or 0.0)
        version = f"{meta['model_version']}+{encoder.backend.name}"
        if self.thresholds != default:
            version += f"+thresholds.{self.thresholds.key()}"
        self.version = version
        self._unk = encoder.unk_id
        self.choice: Choice | None = None
        """Set when ``backend: auto`` chose the path this classifier serves on: what was measured, and why."""
        self._sentiment_directions = self.sentiment_head.directions()
        self._intent_directions = self.intent_head.directions() if self.intent_head is not None else None

    def classify(self, documents: Sequence[Document]) -> list[Verdict]:
        """One verdict per document, in order. Raises TypeError/ValueError for malformed documents."""
        prepared = [self._prepare(doc) for doc in documents]
        if not prepared:
            return []
        texts = [p.text for p in prepared]
        tokens = self.encoder.tokenize(texts)
        encoded = self.encoder.encode(tokens)
        # The heads run once over the whole batch; only reasons are worked out text by text.
        pooled = pool(encoded, with_max=self.intent_head is not None and self._intent_layout == LAYOUT_MEAN_MAX)
        s_probs = self.sentiment_head.probabilities(pooled.final)
        cues = [find_cues(text) for text in texts]
        i_probs: list[np.ndarray | None] = [None] * len(texts)
        if self.intent_head is not None:
            counts = np.array([cue_features(t, c) for t, c in zip(texts, cues, strict=True)], np.float32)
            inputs = intent_inputs(pooled, counts, self._intent_layout)
            i_probs = list(self.intent_head.probabilities(inputs))
        return [
            self._verdict(*args)
            for args in zip(documents, prepared, tokens, encoded, s_probs, i_probs, cues, strict=True)
        ]

    @staticmethod
    def _prepare(doc: Document) -> PreparedText:
        if not isinstance(doc, Document):
            raise TypeError(f"classify() takes Document objects, got {type(doc).__name__}")
        if doc.rating is not None and not (isinstance(doc.rating, int | float) and 0 <= doc.rating <= 5):
            raise ValueError(f"Document.rating must be a number of stars from 0 to 5, got {doc.rating!r}")
        return prepare(doc.text)

    def _verdict(
        self,
        doc: Document,
        prep: PreparedText,
        tokens: Tokenized,
        enc: Encoded,
        s_probs: np.ndarray,
        i_probs: np.ndarray | None,
        cues: Mapping[Intent, list[str]],
    ) -> Verdict:
        """The verdict for one text from its head outputs (``i_probs`` is None without an intent head)."""
        pieces = _words(prep.text, tokens)
        unreadable = _unreadable(prep.text, pieces, tokens, self._unk)
        words = _visible_words(prep.text, pieces)
        n = enc.final.shape[0]
        reasons: list[str] = []

        # Sentiment
        if doc.rating is not None:
            s_probs = with_rating_prior(s_probs, rating_sentiment_prior(doc.rating))
        s_idx = int(s_probs.argmax())
        s_words = _top_phrases(prep.text, words, enc.final @ self._sentiment_directions[s_idx] / n)
        sentiment = SENTIMENTS[s_idx]
        reasons.append(
            f"sentiment {sentiment} {s_probs[s_idx]:.2f}" + (f": words {_quote(s_words)}" if s_words else "")
        )

        # Intent
        if self.intent_head is not None and i_probs is not None:
            labels = self.intent_head.labels
            if doc.rating is not None:
                i_probs = with_rating_prior(i_probs, rating_intent_prior(doc.rating, labels))
            i_idx = int(i_probs.argmax())
            i_words: list[str] = []
            if words and self._intent_directions is not None:  # set whenever intent_head is
                direction = self._intent_directions[i_idx]
                i_words = _top_phrases(prep.text, words, token_contributions(enc, direction, self._intent_layout))
            intent, i_conf = Intent(labels[i_idx]), float(i_probs[i_idx])
        else:  # no labeled intent data shipped yet: cue phrases only, never confident
            intent, i_conf, i_words = self._intent_from_cues(cues, sentiment)
        line = f"intent {intent} {i_conf:.2f}"
        details = []
        if cues.get(intent):
            details.append(f"cues {_quote(cues[intent])}")
        if i_words:
            details.append(f"words {_quote(i_words)}")
        to = addressed_to(doc.text)
        if to and intent in (Intent.complaint, Intent.question, Intent.purchase_intent):
            details.append(f"context: written to {', '.join(to[:3])}, an account that can answer")
        reasons.append(line + (": " + "; ".join(details) if details else ""))

        if doc.rating is not None:
            reasons.append(f"star rating {doc.rating:g}/5")
        reasons.extend(prep.notes)
        if tokens.truncated:
            reasons.append(f"truncated: the model read the first {len(tokens.ids) - 2} word pieces")

        needs = []
        if unreadable:
            needs.append(unreadable)
        if doc.language and not doc.language.lower().startswith("en") and doc.rating is None:
            needs.append(f"language {doc.language!r}; the model reads English")
        s_conf = float(s_probs[s_idx])
        if s_conf < self._sentiment_threshold:
            needs.append(f"sentiment confidence {s_conf:.2f} < {self._sentiment_threshold:.2f}")
        i_threshold = self.thresholds.intent.get(intent, 0.5)
        if i_conf < i_threshold:
            needs.append(f"intent confidence {i_conf:.2f} < {i_threshold:.2f}")
        if unreadable and doc.rating is None:
            intent = Intent.other
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

    @staticmethod
    def _intent_from_cues(cues: Mapping[Intent, list[str]], sentiment: Sentiment) -> tuple[Intent, float, list[str]]:
        scores = {intent: float(len(hits)) for intent, hits in cues.items()}
        if sentiment == Sentiment.negative and Intent.complaint in scores:
            scores[Intent.complaint] += 1.0
        if not scores:
            return Intent.other, 0.4, []
        best = max(scores, key=lambda k: scores[k])
        return best, min(0.45, 0.2 + 0.1 * scores[best]), []


BACKENDS = ("auto", "onnx-int8", "onnx-fp32", "onnx", "torch")
"""What ``load_default`` serves on: ``auto`` (the fastest ONNX Runtime path on this host within the agreement
tolerance, see ``classifiers.backend_choice``), ``onnx-int8``, ``onnx-fp32``, ``onnx`` (int8, the former name) and
``torch`` (fp32 PyTorch, as trained)."""


def load_default(
    backend: str = "torch",
    batch_size: int = 32,
    threads: int | None = 2,
    thresholds: Thresholds | None = None,
    artifacts: Path = ARTIFACTS,
    allow_fast: bool = False,
) -> TransformerClassifier:
    """The shipped classifier on ``backend`` (one of ``BACKENDS``; ONNX files are exported and cached on first use).

    ``thresholds`` overrides the shipped ones (``Thresholds.from_config`` builds them from overheard.yaml values);
    intents it leaves out keep the shipped threshold. ``allow_fast`` lets ``auto`` serve the 4-layer ``fast`` model
    instead of the 6-layer standard one when it is faster (lower quality: see the model card).
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {', '.join(BACKENDS)}, got {backend!r}")
    missing = missing_model_files(artifacts)
    if missing:
        raise FileNotFoundError(f"{artifacts} is not a model folder: no {' or '.join(missing)}")
    if backend == "auto":
        return _load_auto(batch_size, threads, thresholds, artifacts, allow_fast)
    return _load(backend, batch_size, threads, thresholds, artifacts)


def _load(
    backend: str, batch_size: int, threads: int | None, thresholds: Thresholds | None, artifacts: Path
) -> TransformerClassifier:
    layer_file = artifacts / "encoder_layers.safetensors"
    layers = layer_file if layer_file.exists() else None
    if backend == "torch":
        from classifiers.encoder import TorchBackend

        encoder = Encoder(TorchBackend(layers, threads=threads), batch_size=batch_size)
    else:
        from classifiers.onnx_backend import OnnxBackend

        precision = "fp32" if backend == "onnx-fp32" else "int8"
        version = json.loads((artifacts / "meta.json").read_text())["model_version"]
        encoder = Encoder(OnnxBackend.prepare(layers, version, threads, precision), batch_size=batch_size)
    return TransformerClassifier(encoder, artifacts=artifacts, thresholds=thresholds)


def auto_candidates(artifacts: Path = ARTIFACTS, allow_fast: bool = False) -> list[Candidate]:
    """The paths ``backend: auto`` times: fp32 and int8 ONNX Runtime on the model in ``artifacts``, and on the
    4-layer ``fast`` model too when ``allow_fast`` and ``artifacts`` is the standard one. fp32 of the configured
    model comes first."""
    from classifiers.backend_choice import Candidate

    folders = [artifacts]
    if allow_fast and artifacts.resolve() == ARTIFACTS.resolve():
        folders.append(FAST_ARTIFACTS)
    names = {path.resolve(): name for name, path in RELEASES.items()}
    return [
        Candidate(
            backend=backend,
            model=names.get(folder.resolve(), folder.name),
            artifacts=folder,
            version=json.loads((folder / "meta.json").read_text())["model_version"],
        )
        for folder in folders
        for backend in ("onnx-fp32", "onnx-int8")
    ]


def auto_choice(
    artifacts: Path = ARTIFACTS,
    allow_fast: bool = False,
    batch_size: int = 32,
    threads: int | None = 2,
    remeasure: bool = False,
) -> tuple[Choice, Candidate]:
    """The path ``backend: auto`` serves on this host and why: kept from an earlier measurement, or measured now
    (``remeasure`` measures even when a kept choice holds)."""
    from classifiers import backend_choice

    candidates = auto_candidates(artifacts, allow_fast)

    def load(candidate: Candidate) -> TransformerClassifier:
        return _load(candidate.backend, batch_size, threads, None, candidate.artifacts)

    choice = backend_choice.choose(candidates, load, batch_size=batch_size, remeasure=remeasure)
    chosen = next((c for c in candidates if (c.backend, c.model) == (choice.backend, choice.model)), None)
    if chosen is None:  # a kept file that names a path this config no longer offers: measure afresh
        choice = backend_choice.choose(candidates, load, batch_size=batch_size, remeasure=True)
        chosen = next(c for c in candidates if (c.backend, c.model) == (choice.backend, choice.model))
    return choice, chosen


def _load_auto(
    batch_size: int, threads: int | None, thresholds: Thresholds | None, artifacts: Path, allow_fast: bool
) -> TransformerClassifier:
    choice, chosen = auto_choice(artifacts, allow_fast, batch_size, threads)
    classifier = _load(chosen.backend, batch_size, threads, thresholds, chosen.artifacts)
    classifier.choice = choice
    return classifier
