"""Retrain the heads from the shipped labeled data plus people's corrections, and score them before and after.

This is what ``overheard train`` runs. The encoder stays as shipped (fine-tuning it is an hour of CPU, see
``training.sentiment``); the heads are refitted in seconds once the encoder's pooled states are
cached (``classifiers.refit.features``).

- A correction's split is fixed by its key alone (one in five is held out), like the intent set's, so a
  correction never moves between training and evaluation when more arrive.
- Sentiment: the shipped head is refitted on a sample of the shared train tweets plus the corrections
  (weighted up), pulled towards the shipped weights by an L2 penalty so that a handful of corrections adjusts
  the head rather than replacing what 47k tweets taught it. Its temperature is refitted on val.
- Intent: the logistic head is refitted on the intent train split plus the corrections, with the C, class
  weighting and per-class logit offsets the last full training chose (``meta.json``).
- A head with no corrections of its kind is kept as shipped.

Figures before and after are reported on the held-out public data (TweetEval val for sentiment, the intent
test split) and on the held-out corrections, from the heads alone (star-rating priors are not applied).
"""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from scipy.optimize import minimize
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

from classifiers.metrics import Report, evaluate
from classifiers.model import ARTIFACTS, SENTIMENTS, LinearHead
from classifiers.pooling import Pooled, intent_layout, text_intent_inputs
from classifiers.refit import data
from classifiers.refit.artifacts import load_heads, load_meta, save_heads, save_meta
from classifiers.refit.calibration import fit_temperature
from classifiers.refit.intent_sources import augmentation
from classifiers.text import prepare
from classifiers.verdict import Intent

SPLIT_SALT = "overheard-feedback:"
SENTIMENT_LABELS = [s.value for s in SENTIMENTS]
INTENT_LABELS = [i.value for i in Intent]
SENTIMENT_PULL = 0.1
"""L2 pull of a refitted sentiment head towards the shipped one (see ``anchored_softmax_fit``). Chosen on val
with 12 synthetic corrections: 0.01 cost 0.013 val macro-recall, 0.1 cost 0.002, 1.0 cost 0.008; all three
learned the corrections."""
ARTIFACT_FILES = ("heads.npz", "meta.json", "encoder_layers.safetensors")

Featurize = Callable[[Sequence[str]], Pooled]
"""Texts → their pooled encoder states (``classifiers.pooling.Pooled``)."""


@dataclass(frozen=True)
class Correction:
    """A text with the labels a person gave it in triage (``None`` where they left the model's label alone)."""

    key: str
    """Stable id of the corrected text (e.g. ``mention:42``); it alone decides the correction's split."""
    text: str
    sentiment: str | None = None
    intent: str | None = None

    def __post_init__(self) -> None:
        if self.sentiment is not None and self.sentiment not in SENTIMENT_LABELS:
            raise ValueError(f"correction {self.key}: sentiment {self.sentiment!r} is not one of {SENTIMENT_LABELS}")
        if self.intent is not None and self.intent not in INTENT_LABELS:
            raise ValueError(f"correction {self.key}: intent {self.intent!r} is not one of {INTENT_LABELS}")


@dataclass(frozen=True)
class ShippedData:
    """The labeled public data the heads are trained on; val and the intent test split are never trained on."""

    sentiment_train: list[data.Example]
    sentiment_val: list[data.Example]
    intent_train: list[data.Example]
    intent_test: list[data.Example]

    @classmethod
    def load(cls, data_dir: Path | None = None) -> ShippedData:
        """From the fetched data folder (``scripts/fetch_training_data.py``); a clear error names it when absent."""
        splits = data.intent_examples(data_dir=data_dir)
        return cls(
            data.sentiment_train(data_dir),
            data.sentiment_val(data_dir),
            splits.get("train", []),
            splits.get("test", []),
        )


@dataclass(frozen=True)
class HeadChange:
    """One head's figures before and after retraining, on held-out public data and held-out corrections."""

    task: str
    retrained: bool
    note: str
    heldout_before: Report | None
    heldout_after: Report | None
    corrections_before: Report | None = None
    corrections_after: Report | None = None


@dataclass(frozen=True)
class RetrainResult:
    """What ``retrain_heads`` did: where it wrote, how many corrections it used and held out, and the figures."""

    out_dir: Path
    model_version: str
    corrections_train: int
    corrections_heldout: int
    changes: list[HeadChange] = field(default_factory=list)


def split_for(key: str) -> str:
    """``"train"`` or ``"heldout"`` (one key in five), fixed by the key alone."""
    bucket = int(hashlib.sha256((SPLIT_SALT + key).encode()).hexdigest(), 16) % 5
    return "heldout" if bucket == 0 else "train"


def encoder_featurize(artifacts: Path) -> Featurize:
    """Pooled states from the encoder in ``artifacts`` (cached on disk per encoder weights)."""
    from classifiers.refit.features import pooled_states

    layers = artifacts / "encoder_layers.safetensors"

    def featurize(texts: Sequence[str]) -> Pooled:
        return pooled_states(list(texts), layers if layers.exists() else None)

    return featurize


def _report(head: LinearHead, x: np.ndarray, gold: Sequence[str], labels: Sequence[str]) -> Report:
    predicted = [head.labels[i] for i in head.probabilities(x).argmax(1)]
    return evaluate(list(gold), predicted, labels)


def anchored_softmax_fit(
    x: np.ndarray,
    y: np.ndarray,
    sample_weight: np.ndarray,
    anchor_weights: np.ndarray,
    anchor_bias: np.ndarray,
    pull: float = SENTIMENT_PULL,
) -> tuple[np.ndarray, np.ndarray]:
    """Multinomial logistic weights minimising weighted cross-entropy + ``pull``/2 · ‖W − W₀‖², from W₀.

    Class balance comes through ``sample_weight``; the penalty keeps a refit near the head it starts from.
    """
    classes, dims = anchor_weights.shape
    onehot = np.eye(classes)[y]
    w_norm = sample_weight / sample_weight.sum()
    x64 = x.astype(np.float64)

    def loss(theta: np.ndarray) -> tuple[float, np.ndarray]:
        w = theta[: classes * dims].reshape(classes, dims)
        b = theta[classes * dims :]
        z = x64 @ w.T + b
        z -= z.max(axis=1, keepdims=True)
        logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
        diff = w - anchor_weights
        value = -float((w_norm * (onehot * logp).sum(1)).sum()) + 0.5 * pull * float((diff**2).sum())
        g_z = (np.exp(logp) - onehot) * w_norm[:, None]
        grad_w = g_z.T @ x64 + pull * diff
        return value, np.concatenate([grad_w.ravel(), g_z.sum(0)])

    start = np.concatenate([anchor_weights.ravel(), anchor_bias]).astype(np.float64)
    found = minimize(loss, start, jac=True, method="L-BFGS-B", options={"maxiter": 500})
    return (
        found.x[: classes * dims].reshape(classes, dims).astype(np.float32),
        found.x[classes * dims :].astype(np.float32),
    )


def _sample(examples: list[data.Example], size: int, seed: int) -> list[data.Example]:
    if size >= len(examples):
        return list(examples)
    rng = np.random.default_rng(seed)
    return [examples[i] for i in sorted(rng.choice(len(examples), size=size, replace=False))]


def retrain_heads(
    corrections: Sequence[Correction],
    out_dir: Path,
    *,
    artifacts: Path = ARTIFACTS,
    shipped: ShippedData | None = None,
    featurize: Featurize | None = None,
    sentiment_sample: int = 4000,
    augment_sample: int = 4000,
    correction_weight: float = 5.0,
    sentiment_pull: float = SENTIMENT_PULL,
    seed: int = 13,
    command: str = "overheard train",
    data_dir: Path | None = None,
) -> RetrainResult:
    """Refit the heads in ``artifacts`` with ``corrections`` and write a complete artifacts folder to ``out_dir``.

    ``out_dir`` must not be ``artifacts`` itself; see ``install`` to ship the result.
    """
    if out_dir.resolve() == artifacts.resolve():
        raise ValueError(f"{out_dir} is the source artifacts folder; write elsewhere and install the result")
    shipped = shipped or ShippedData.load(data_dir)
    featurize = featurize or encoder_featurize(artifacts)
    heads, meta = load_heads(artifacts), load_meta(artifacts)
    if "sentiment_weights" not in heads:
        raise ValueError(f"{artifacts}: no sentiment head to start from (heads.npz missing)")
    texts = {c.key: prepare(c.text).text for c in corrections}
    train = [c for c in corrections if split_for(c.key) == "train"]
    heldout = [c for c in corrections if split_for(c.key) == "heldout"]
    changes = [
        _retrain_sentiment(
            heads, shipped, train, heldout, texts, featurize, sentiment_sample, correction_weight, sentiment_pull, seed
        )
    ]
    if "intent_weights" in heads:
        changes.append(
            _retrain_intent(
                heads, meta, shipped, train, heldout, texts, featurize, correction_weight, augment_sample, seed
            )
        )

    out_dir.mkdir(parents=True, exist_ok=True)
    layers = artifacts / "encoder_layers.safetensors"
    if layers.exists():
        shutil.copyfile(layers, out_dir / layers.name)
    else:
        (out_dir / layers.name).unlink(missing_ok=True)
    save_heads(heads, out_dir)
    meta["retrained"] = {
        "command": command,
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "from_model_version": meta.get("model_version"),
        "corrections_train": {
            "sentiment": sum(c.sentiment is not None for c in train),
            "intent": sum(c.intent is not None for c in train),
        },
        "corrections_heldout": len(heldout),
        "heads": [c.task for c in changes if c.retrained],
    }
    meta = save_meta(meta, out_dir)
    return RetrainResult(out_dir, meta["model_version"], len(train), len(heldout), changes)


def _retrain_sentiment(
    heads: dict[str, Any],
    shipped: ShippedData,
    train: list[Correction],
    heldout: list[Correction],
    texts: dict[str, str],
    featurize: Featurize,
    sample_size: int,
    correction_weight: float,
    pull: float,
    seed: int,
) -> HeadChange:
    before = LinearHead.from_arrays(heads, "sentiment")
    val_x = featurize([e.text for e in shipped.sentiment_val]).final
    val_gold = [SENTIMENT_LABELS[int(e.label)] for e in shipped.sentiment_val]
    held = [c for c in heldout if c.sentiment]
    held_x = featurize([texts[c.key] for c in held]).final if held else None
    held_gold = [str(c.sentiment) for c in held]
    fixes = [c for c in train if c.sentiment]
    after, note = before, "no sentiment corrections to learn from; head kept as shipped"
    if fixes:
        sample = _sample(shipped.sentiment_train, sample_size, seed)
        x = np.concatenate(
            [featurize([e.text for e in sample]).final, featurize([texts[c.key] for c in fixes]).final], axis=0
        )
        y = np.array([int(e.label) for e in sample] + [SENTIMENT_LABELS.index(str(c.sentiment)) for c in fixes])
        counts = np.bincount(y, minlength=len(SENTIMENT_LABELS)).astype(np.float64)
        balance = counts.sum() / (len(SENTIMENT_LABELS) * np.maximum(counts, 1.0))
        weight = balance[y] * np.r_[np.ones(len(sample)), np.full(len(fixes), correction_weight)]
        w, b = anchored_softmax_fit(x, y, weight, heads["sentiment_weights"], heads["sentiment_bias"], pull)
        temperature = fit_temperature(val_x @ w.T + b, np.array([SENTIMENT_LABELS.index(g) for g in val_gold]))
        heads.update(sentiment_weights=w, sentiment_bias=b, sentiment_temperature=np.array(temperature, np.float32))
        after = LinearHead.from_arrays(heads, "sentiment")
        note = f"refitted on {len(sample)} shared train tweets + {len(fixes)} corrections (x{correction_weight:g})"
    return HeadChange(
        task="sentiment",
        retrained=bool(fixes),
        note=note,
        heldout_before=_report(before, val_x, val_gold, SENTIMENT_LABELS),
        heldout_after=_report(after, val_x, val_gold, SENTIMENT_LABELS),
        corrections_before=_report(before, held_x, held_gold, SENTIMENT_LABELS) if held_x is not None else None,
        corrections_after=_report(after, held_x, held_gold, SENTIMENT_LABELS) if held_x is not None else None,
    )


def _retrain_intent(
    heads: dict[str, Any],
    meta: dict[str, Any],
    shipped: ShippedData,
    train: list[Correction],
    heldout: list[Correction],
    texts: dict[str, str],
    featurize: Featurize,
    correction_weight: float,
    augment_sample: int = 4000,
    seed: int = 13,
) -> HeadChange:
    before = LinearHead.from_arrays(heads, "intent")
    labels = list(before.labels)
    layout = intent_layout(meta)

    def features(items: Sequence[str]) -> np.ndarray:
        return text_intent_inputs(featurize(items), items, layout)

    test_texts = [e.text for e in shipped.intent_test]
    test_x = features(test_texts) if test_texts else None
    held = [c for c in heldout if c.intent]
    held_x = features([texts[c.key] for c in held]) if held else None
    held_gold = [str(c.intent) for c in held]
    fixes = [c for c in train if c.intent and c.intent in labels]
    after, note = before, "no intent corrections to learn from; head kept as shipped"
    if fixes:
        settings = meta.get("intent", {})
        c_value = float(settings.get("C", 0.003))
        class_weight = None if settings.get("class_weight", "none") == "none" else settings["class_weight"]
        offsets = np.array([float(settings.get("logit_offsets", {}).get(label, 0.0)) for label in labels])
        # the training-only sets the head was fitted with (meta intent.augment), a seeded sample of each in
        # proportion to its size, so a retrain keeps what they taught at a cost a laptop can pay
        augment = {name: float(v["weight"]) for name, v in settings.get("augment", {}).items()}
        sets = {name: [e for e in augmentation(name) if e.label in labels] for name in augment}
        total = sum(len(rows) for rows in sets.values()) or 1
        extra = [
            (row, augment[name])
            for name, rows in sets.items()
            for row in _sample(rows, max(1, round(augment_sample * len(rows) / total)), seed)
        ]
        x = np.concatenate(
            [
                features([e.text for e in shipped.intent_train]),
                features([texts[c.key] for c in fixes]),
                *([features([e.text for e, _ in extra])] if extra else []),
            ],
            axis=0,
        )
        y = np.array(
            [labels.index(e.label) for e in shipped.intent_train]
            + [labels.index(str(c.intent)) for c in fixes]
            + [labels.index(e.label) for e, _ in extra]
        )
        weight = np.r_[
            np.ones(len(shipped.intent_train)), np.full(len(fixes), correction_weight), [w for _, w in extra]
        ]
        scaler = StandardScaler().fit(x)
        model = LogisticRegression(C=c_value, max_iter=3000, class_weight=class_weight)
        model.fit(scaler.transform(x), y, sample_weight=weight)
        coef, intercept = _full_rows(model, len(labels))
        heads.update(
            intent_weights=coef.astype(np.float32),
            intent_bias=(intercept + offsets).astype(np.float32),
            intent_mean=scaler.mean_.astype(np.float32),
            intent_scale=scaler.scale_.astype(np.float32),
            intent_labels=np.array(labels),
        )
        after = LinearHead.from_arrays(heads, "intent")
        note = (
            f"refitted on {len(shipped.intent_train)} labeled tweets + {len(fixes)} corrections "
            f"(x{correction_weight:g}) + {len(extra)} training-only rows ({', '.join(augment) or 'none'}), "
            f"C={c_value:g}, class_weight={class_weight or 'none'}"
        )
    test_gold = [e.label for e in shipped.intent_test]
    return HeadChange(
        task="intent",
        retrained=bool(fixes),
        note=note,
        heldout_before=_report(before, test_x, test_gold, labels) if test_x is not None else None,
        heldout_after=_report(after, test_x, test_gold, labels) if test_x is not None else None,
        corrections_before=_report(before, held_x, held_gold, labels) if held_x is not None else None,
        corrections_after=_report(after, held_x, held_gold, labels) if held_x is not None else None,
    )


def _full_rows(model: LogisticRegression, classes: int) -> tuple[np.ndarray, np.ndarray]:
    """Coefficients with one row per label, also when the training data lacked a label (its logit stays low)."""
    coef = np.zeros((classes, model.coef_.shape[1]))
    intercept = np.full(classes, -20.0)
    if len(model.classes_) == 2:  # sklearn keeps one row for two classes: logit of the second against the first
        first, second = (int(c) for c in model.classes_)
        coef[second], intercept[first], intercept[second] = model.coef_[0], 0.0, model.intercept_[0]
        return coef, intercept
    for row, label in enumerate(model.classes_):
        coef[int(label)] = model.coef_[row]
        intercept[int(label)] = model.intercept_[row]
    return coef, intercept


def install(out_dir: Path, artifacts: Path = ARTIFACTS) -> None:
    """Copy a retrained artifacts folder over the shipped one (the model card is left for a person to update)."""
    for name in ARTIFACT_FILES:
        source = out_dir / name
        if source.exists():
            shutil.copyfile(source, artifacts / name)
        elif name == "encoder_layers.safetensors":
            (artifacts / name).unlink(missing_ok=True)
