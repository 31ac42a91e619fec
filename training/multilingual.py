"""Train the heads of the non-English path (``classifiers.multilingual``) and write its artifacts folder.

    OMP_NUM_THREADS=1 python -m training.multilingual [--out classifiers/artifacts/multilingual]

Training data (never the per-language checks):
- English: the labeled intent tweets (train split), the English synthetic posts and a sample of TweetEval
  sentiment train tweets (fetched into var/data by ``scripts/fetch_training_data.py``). multilingual-e5 puts
  a sentence and its translation close together, so heads learned on English transfer in part;
- the generated multilingual training posts ``classifiers/data/multilingual/train.jsonl`` (other templates and
  seeds than the checks; see that folder's README).

Heads are logistic regressions on the 384-float sentence vector. Per-language ``needs a person`` thresholds are
the probability below which the head's intent is wrong more often than ``TARGET_ERROR`` on the language's
training posts held out by cross-validation (never on the checks). Vectors are cached in var/cache (a text's
vector depends only on the text), so a rerun takes seconds.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from classifiers.multilingual import ENCODER_NAME, MULTILINGUAL_ARTIFACTS, SUPPORTED, E5Encoder
from classifiers.refit.data import REPO, intent_examples, sentiment_train
from classifiers.verdict import Intent, Sentiment

CACHE = REPO / "var" / "cache" / "multilingual_vectors.npz"
SYNTHETIC_EN = REPO / "classifiers" / "data" / "intent" / "synthetic" / "posts.jsonl"
TRAIN_POSTS = REPO / "classifiers" / "data" / "multilingual" / "train.jsonl"
CHECKS = REPO / "classifiers" / "data" / "multilingual" / "checks"
SENTIMENT_SAMPLE = 3000
SYNTHETIC_SAMPLE = 3000
SEED = 26
C = 1.0
TARGET_ERROR = 0.35
"""Verdicts whose error rate at their confidence (on the calibration posts) exceeds this go to a person."""
FLOORS = {"complaint": 0.5, "purchase_intent": 0.5, "question": 0.5, "praise": 0.5, "other": 0.4}
SENTIMENT_FLOOR = 0.5
"""No language's threshold is below the English model's: the default routing rules act on an intent from 0.5
(enrichers.routing), so a verdict under that must go to a person, or it would fall between the two."""
INTENTS = tuple(i.value for i in Intent)
SENTIMENT_NAMES = tuple(s.value for s in Sentiment)
_TWEETEVAL = {"0": "negative", "1": "neutral", "2": "positive"}


def _key(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


class VectorCache:
    """Sentence vectors by text, kept in one .npz file between runs."""

    def __init__(self, path: Path = CACHE) -> None:
        self.path = path
        self.vectors: dict[str, np.ndarray] = {}
        if path.exists():
            with np.load(path) as f:
                keys, values = f["keys"], f["vectors"]
            self.vectors = {str(k): v for k, v in zip(keys, values, strict=True)}

    def embed(self, encoder: E5Encoder | None, texts: Sequence[str], save_every: int = 2000) -> np.ndarray:
        missing = list(dict.fromkeys(t for t in texts if _key(t) not in self.vectors))  # in the given order
        if missing and encoder is None:
            encoder = E5Encoder(threads=1)
        for start in range(0, len(missing), 64):
            chunk = missing[start : start + 64]
            assert encoder is not None
            for text, vector in zip(chunk, encoder.embed(chunk), strict=True):
                self.vectors[_key(text)] = vector
            if (start // 64) % max(1, save_every // 64) == max(1, save_every // 64) - 1:
                self.save()
        if missing:
            self.save()
        return np.stack([self.vectors[_key(t)] for t in texts]) if texts else np.zeros((0, 384), np.float32)

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        keys = np.array(list(self.vectors))
        tmp = self.path.with_suffix(".tmp.npz")
        np.savez(tmp, keys=keys, vectors=np.stack(list(self.vectors.values())).astype(np.float32))
        tmp.replace(self.path)


def _jsonl(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def english_rows(seed: int = SEED) -> list[dict[str, str | None]]:
    """English training rows: {text, intent, sentiment, language}; a task's label is None where unknown."""
    rng = random.Random(seed)
    rows: list[dict[str, str | None]] = []
    for ex in intent_examples().get("train", []):
        rows.append({"text": ex.text, "intent": ex.label, "sentiment": None, "language": "en"})
    synthetic = _jsonl(SYNTHETIC_EN)
    rng.shuffle(synthetic)
    for post in synthetic[:SYNTHETIC_SAMPLE]:
        rows.append(
            {
                "text": str(post["text"]),
                "intent": str(post["intent"]),
                "sentiment": str(post["sentiment"]),
                "language": "en",
            }
        )
    tweets = sentiment_train()
    rng.shuffle(tweets)
    for ex in tweets[:SENTIMENT_SAMPLE]:
        rows.append({"text": ex.text, "intent": None, "sentiment": _TWEETEVAL[ex.label], "language": "en"})
    return rows


def foreign_rows() -> list[dict[str, str | None]]:
    if not TRAIN_POSTS.exists():
        return []
    return [
        {
            "text": str(p["text"]),
            "intent": str(p["intent"]),
            "sentiment": str(p["sentiment"]),
            "language": str(p["language"]),
            "template": str(p["template"]),
        }
        for p in _jsonl(TRAIN_POSTS)
    ]


def _fit(x: np.ndarray, y: Sequence[str], labels: Sequence[str], weight: np.ndarray) -> dict[str, np.ndarray]:
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(C=C, max_iter=1000, class_weight="balanced")
    model.fit(x, list(y), sample_weight=weight)
    order = [list(model.classes_).index(label) for label in labels]
    return {"weights": model.coef_[order].astype(np.float32), "bias": model.intercept_[order].astype(np.float32)}


def _probabilities(vectors: np.ndarray, weights: np.ndarray, bias: np.ndarray) -> np.ndarray:
    logits = vectors @ weights.T + bias
    p = np.exp(logits - logits.max(axis=1, keepdims=True))
    return p / p.sum(axis=1, keepdims=True)


def _macro_f1(gold: Sequence[str], predicted: Sequence[str], labels: Sequence[str]) -> float:
    from classifiers.metrics import evaluate

    return evaluate(list(gold), list(predicted), labels).macro_f1


def fit_offsets(probs: np.ndarray, gold: Sequence[str], labels: Sequence[str]) -> np.ndarray:
    """Per-class logit offsets that raise macro-F1 on ``gold`` (coordinate ascent over -2…2 in steps of 0.2,
    three passes): the English head under-calls purchase intent in other languages."""
    logits = np.log(np.clip(probs, 1e-9, 1.0))
    offsets = np.zeros(len(labels))

    def score(o: np.ndarray) -> float:
        return _macro_f1(gold, [labels[k] for k in (logits + o).argmax(axis=1)], labels)

    best = score(offsets)
    for _ in range(3):
        for k in range(len(labels)):
            for value in np.arange(-2.0, 2.01, 0.2):
                trial = offsets.copy()
                trial[k] = value
                got = score(trial)
                if got > best + 1e-9:
                    best, offsets = got, trial
    return offsets.round(2)


def _threshold(conf: np.ndarray, correct: np.ndarray) -> float:
    """The smallest confidence from which verdicts are wrong at most ``TARGET_ERROR`` of the time, judged in
    bands of 0.1 starting every 0.05 (at least 0.34, at most 0.8)."""
    for t in np.arange(0.34, 0.81, 0.05):
        band = (conf >= t) & (conf < t + 0.1)
        if band.sum() < 5 or 1 - correct[band].mean() <= TARGET_ERROR:
            return round(float(t), 2)
    return 0.8


def train(out: Path, foreign_weight: float = 0.0) -> dict[str, object]:
    """Fit the heads, calibrate them on the multilingual training posts, write heads.npz and meta.json.

    ``foreign_weight`` > 0 also trains on the multilingual posts (then the calibration is in-sample); 0, the
    default, keeps them for calibration only, which read held-out phrasing best (see the model card)."""
    started = time.time()
    cache = VectorCache()
    english, foreign = english_rows(), foreign_rows()
    rows = english + (foreign if foreign_weight > 0 else [])
    vectors = cache.embed(None, [str(r["text"]) for r in rows])
    weight = np.array([foreign_weight if r["language"] != "en" else 1.0 for r in rows], np.float32)
    calibration = cache.embed(None, [str(r["text"]) for r in foreign])
    arrays: dict[str, np.ndarray] = {}
    figures: dict[str, dict[str, dict[str, float]]] = {}
    thresholds: dict[str, dict[str, object]] = {lang: {"intent": {}} for lang in (*SUPPORTED, "other")}
    for task, labels in (("intent", INTENTS), ("sentiment", SENTIMENT_NAMES)):
        keep = np.array([r[task] is not None for r in rows])
        fitted = _fit(vectors[keep], [str(r[task]) for r in rows if r[task] is not None], labels, weight[keep])
        gold = [str(r[task]) for r in foreign]
        raw = _probabilities(calibration, fitted["weights"], fitted["bias"])
        offsets = fit_offsets(raw, gold, labels)
        bias = fitted["bias"] + offsets.astype(np.float32)
        probs = _probabilities(calibration, fitted["weights"], bias)
        arrays[f"{task}_weights"], arrays[f"{task}_bias"] = fitted["weights"], bias
        arrays[f"{task}_labels"] = np.array(labels)
        predicted = probs.argmax(axis=1)
        for lang in SUPPORTED:
            idx = [i for i, r in enumerate(foreign) if r["language"] == lang]
            g = [gold[i] for i in idx]
            before = [labels[k] for k in raw[idx].argmax(axis=1)]
            after = [labels[k] for k in predicted[idx]]
            figures.setdefault(lang, {})[task] = {
                "accuracy_before_offsets": round(float(np.mean([a == b for a, b in zip(g, before, strict=True)])), 4),
                "accuracy": round(float(np.mean([a == b for a, b in zip(g, after, strict=True)])), 4),
                "macro_f1": round(_macro_f1(g, after, labels), 4),
            }
            conf = probs[idx].max(axis=1)
            correct = np.array([labels[predicted[i]] == gold[i] for i in idx])
            if task == "sentiment":
                thresholds[lang]["sentiment"] = max(SENTIMENT_FLOOR, _threshold(conf, correct))
            else:
                chosen = np.array([labels[predicted[i]] for i in idx])
                thresholds[lang]["intent"] = {
                    name: max(FLOORS[name], _threshold(conf[chosen == name], correct[chosen == name]))
                    for name in labels
                }
        figures.setdefault("offsets", {})[task] = dict(zip(labels, offsets.tolist(), strict=True))
    # languages without checks: the strictest of the checked ones
    thresholds["other"] = {
        "sentiment": max(float(thresholds[lg]["sentiment"]) for lg in SUPPORTED),  # type: ignore[arg-type]
        "intent": {name: max(thresholds[lg]["intent"][name] for lg in SUPPORTED) for name in INTENTS},  # type: ignore[index]
    }
    meta = {
        "model_version": f"multilingual-e5-small-heads-{time.strftime('%Y%m%d')}",
        "encoder": ENCODER_NAME,
        "command": "OMP_NUM_THREADS=1 python -m training.multilingual",
        "training_rows": {
            "english_intent": sum(r["intent"] is not None for r in english),
            "english_sentiment": sum(r["sentiment"] is not None for r in english),
            "multilingual_generated_trained_on": len(foreign) if foreign_weight > 0 else 0,
            "multilingual_generated_calibration": len(foreign),
        },
        "foreign_weight": foreign_weight,
        "C": C,
        "thresholds": thresholds,
        "calibration_figures": figures,
        "seconds": round(time.time() - started, 1),
    }
    out.mkdir(parents=True, exist_ok=True)
    np.savez(out / "heads.npz", **arrays)  # type: ignore[arg-type]
    (out / "meta.json").write_text(json.dumps(meta, indent=2, sort_keys=True, ensure_ascii=False) + "\n")
    return meta


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=MULTILINGUAL_ARTIFACTS)
    parser.add_argument("--foreign-weight", type=float, default=0.0)
    parser.add_argument("--embed-only", action="store_true", help="Fill the vector cache and stop.")
    args = parser.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    if args.embed_only:
        rows = foreign_rows() + english_rows()  # the generated posts first: they matter most
        checks = [str(p["text"]) for f in sorted(CHECKS.glob("*.jsonl")) for p in _jsonl(f)]
        VectorCache().embed(None, checks + [str(r["text"]) for r in rows], save_every=512)
        print(f"{len(rows)} rows embedded into {CACHE}")
        return
    meta = train(args.out, foreign_weight=args.foreign_weight)
    print(json.dumps({k: meta[k] for k in ("training_rows", "calibration_figures", "seconds")}, indent=2))


if __name__ == "__main__":
    main()
