"""The floor: a logistic sentiment head on the frozen MiniLM encoder.

    python -m training.frozen_sentiment [--train-size N]

Trains on a seeded sample of the shared train TSV, picks C and a softmax temperature on val, and writes the
head to classifiers/artifacts (removing any fine-tuned encoder layers, whose head it would not match).
"""

from __future__ import annotations

import argparse
import random

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

from classifiers.metrics import evaluate
from classifiers.model import ARTIFACTS, SENTIMENTS
from classifiers.refit import data
from classifiers.refit.artifacts import load_meta, save_heads, save_meta
from classifiers.refit.calibration import fit_temperature
from classifiers.refit.features import pooled_states


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--train-size", type=int, default=12000, help="tweets sampled from train (seed 13)")
    args = parser.parse_args()

    train = data.sentiment_train()
    random.Random(13).shuffle(train)
    train = train[: args.train_size]
    val = data.sentiment_val()
    print(f"sentiment (frozen encoder): {len(train)} train, {len(val)} val")
    x_train = pooled_states([e.text for e in train], None).final
    x_val = pooled_states([e.text for e in val], None).final
    y_train = np.array([int(e.label) for e in train])
    y_val = [SENTIMENTS[int(e.label)].value for e in val]

    scaler = StandardScaler().fit(x_train)
    best = None
    for c in (0.01, 0.03, 0.1, 0.3, 1.0):
        lr = LogisticRegression(C=c, max_iter=2000, class_weight="balanced").fit(scaler.transform(x_train), y_train)
        pred = [SENTIMENTS[i].value for i in lr.predict(scaler.transform(x_val))]
        score = evaluate(y_val, pred).macro_recall
        print(f"  C={c}: val macro-recall {score:.4f}")
        if best is None or score > best[0]:
            best = (score, c, lr)
    assert best is not None
    score, c, lr = best
    logits = lr.decision_function(scaler.transform(x_val))
    temperature = fit_temperature(logits, np.array([int(e.label) for e in val]))
    report = evaluate(y_val, [SENTIMENTS[i].value for i in logits.argmax(1)], [s.value for s in SENTIMENTS])
    print(f"chosen C={c}, temperature {temperature:.3f}\n{report.render()}")

    save_heads(
        {
            "sentiment_weights": lr.coef_.astype(np.float32),
            "sentiment_bias": lr.intercept_.astype(np.float32),
            "sentiment_mean": scaler.mean_.astype(np.float32),
            "sentiment_scale": scaler.scale_.astype(np.float32),
            "sentiment_labels": np.array([s.value for s in SENTIMENTS]),
            "sentiment_temperature": np.array(temperature, np.float32),
        }
    )
    (ARTIFACTS / "encoder_layers.safetensors").unlink(missing_ok=True)
    meta = load_meta()
    meta.pop("intent", None)
    meta.update(
        encoder="frozen",
        sentiment={
            "method": "frozen all-MiniLM-L6-v2 mean pool + logistic regression (class_weight=balanced)",
            "command": f"python -m training.frozen_sentiment --train-size {args.train_size}",
            "train_examples": len(train),
            "C": c,
            "val_macro_recall": round(report.macro_recall, 4),
            "val_accuracy": round(report.accuracy, 4),
        },
    )
    meta = save_meta(meta)
    print(f"wrote {ARTIFACTS} ({meta['model_version']}); intent head removed: run training.intent next")


if __name__ == "__main__":
    main()
