"""Train the intent head on the labeled intent set, over the encoder now in classifiers/artifacts.

    python -m training.intent [--artifacts DIR] [--cv-only] [--features LAYOUT]
                                          [--augment 'synthetic:1,nlupp:0.5'] [--objective triage|macro_f1|recall_targets]

Features: mean-pooled states of the frozen middle layer and of the final layer, optionally the final layer
max-pooled too (``classifiers.pooling`` layouts), plus cue-phrase counts. A multinomial logistic regression fitted
on the real labeled tweets (train split) plus training-only augmentation (``--augment``: the project's synthetic
brand posts, customer-service sets; ``classifiers.refit.intent_sources``), each set with a sample weight.
Cross-validation holds out and scores real rows only: 5 folds of the real train split, every augmentation row in
every fold's fit. The layout, C and class weighting are chosen by that CV, and so are per-intent logit offsets,
which maximise the ``triage`` objective by default (recall of complaints and purchase intent counted twice: a
missed lead or complaint costs more than one extra item to skim), unless ``--features`` fixes the layout. Prints per-class figures on the test split and writes the head into
classifiers/artifacts, or into ``--artifacts`` (a candidate model being weighed before it ships).
``--cv-only`` prints the cross-validation figures and stops: it neither reads the test split nor writes, so
candidate encoders can be compared on train-split CV and only the chosen one is scored on test.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from classifiers.metrics import Report, evaluate
from classifiers.model import ARTIFACTS
from classifiers.pooling import LAYOUTS, text_intent_inputs
from classifiers.refit import data
from classifiers.refit.artifacts import load_heads, load_meta, save_heads, save_meta
from classifiers.refit.features import pooled_states
from classifiers.refit.intent_sources import augmentation, parse_weights
from classifiers.verdict import Intent

DEFAULT_AUGMENT = ""
"""The training-only sets the shipped head was fitted with (``classifiers.refit.intent_sources``)."""
SHIPPED_C = 0.003
# written by training.multitask: the real train rows its encoder never saw
HOLDOUT_FILE = "intent_holdout.json"
"""The regularisation of both shipped intent heads (chosen by CV); experiment scripts compare encoders at it."""


def features(texts: list[str], layout: str, artifacts: Path = ARTIFACTS) -> np.ndarray:
    """The intent head's inputs for ``texts`` in ``layout``, from the encoder in ``artifacts``."""
    layers = artifacts / "encoder_layers.safetensors"
    return text_intent_inputs(pooled_states(texts, layers if layers.exists() else None), texts, layout)


RECALL_FIRST = ("complaint", "purchase_intent")
"""Intents whose miss costs more than an extra item to skim: the ``triage`` objective weighs their recall twice."""
RECALL_TARGETS = {"complaint": 0.8, "purchase_intent": 0.7}
"""The recall the issue aims at for the intents a team must not miss. Recall at a fixed offset carries over from
topical tweets to a brand's support traffic (it does not depend on how common the intent is there); precision does
not (it rises with the intent's share), so the ``recall_targets`` objective fixes recall and lets precision be
what the traffic gives."""
OBJECTIVES = ("triage", "macro_f1", "recall_targets")


def _per_class(y: np.ndarray, predicted: np.ndarray, classes: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Precision, recall and F1 per class from integer labels (fast: the offset search calls it thousands of times)."""
    confusion = np.zeros((classes, classes))
    np.add.at(confusion, (y, predicted), 1)
    tp = np.diag(confusion)
    precision = tp / np.maximum(confusion.sum(0), 1)
    recall = tp / np.maximum(confusion.sum(1), 1)
    return precision, recall, 2 * precision * recall / np.maximum(precision + recall, 1e-12)


def objective_score(y: np.ndarray, predicted: np.ndarray, labels: list[str], objective: str = "macro_f1") -> float:
    """``macro_f1``, or ``triage``: the mean over intents of F-beta with beta 2 (recall counted twice) for
    complaints and purchase intent, and F1 for the rest."""
    precision, recall, f1 = _per_class(y, predicted, len(labels))
    if objective in ("macro_f1", "recall_targets"):
        return float(f1.mean())
    if objective != "triage":
        raise ValueError(f"objective {objective!r} is not one of {', '.join(OBJECTIVES)}")
    beta2 = np.array([4.0 if label in RECALL_FIRST else 1.0 for label in labels])
    f_beta = (1 + beta2) * precision * recall / np.maximum(beta2 * precision + recall, 1e-12)
    return float(f_beta.mean())


def fit_offsets(log_p: np.ndarray, gold: list[str], labels: list[str], objective: str = "macro_f1") -> np.ndarray:
    """Per-class additive logit offsets that maximise the cross-validated ``objective`` (coordinate search).

    Rare intents are under-predicted by a plain argmax; shifting their decision boundary on held-out folds of
    the train split is model selection, not training on the test split.
    """
    y = np.array([labels.index(g) for g in gold])
    offsets = np.zeros(len(labels))
    grid = np.linspace(-2.0, 3.0, 26)
    for _ in range(2):
        for k in range(len(labels)):
            scores = []
            for value in grid:
                trial = offsets.copy()
                trial[k] = value
                scores.append(objective_score(y, (log_p + trial).argmax(1), labels, objective))
            offsets[k] = grid[int(np.argmax(scores))]
    if objective == "recall_targets":
        offsets = _meet_recall_targets(log_p, y, labels, offsets, grid)
    return offsets


def _meet_recall_targets(
    log_p: np.ndarray, y: np.ndarray, labels: list[str], offsets: np.ndarray, grid: np.ndarray
) -> np.ndarray:
    """From macro-F1 offsets, move each ``RECALL_TARGETS`` intent's offset to the lowest grid value at which its
    recall reaches the target (the highest precision that meets it); where no value does, the one with the most
    recall. Two passes, as the intents take rows from each other."""
    offsets = offsets.copy()
    for _ in range(2):
        for label, target in RECALL_TARGETS.items():
            if label not in labels:
                continue
            k = labels.index(label)
            recalls = []
            for value in grid:
                trial = offsets.copy()
                trial[k] = value
                recalls.append(_per_class(y, (log_p + trial).argmax(1), len(labels))[1][k])
            meets = [v for v, r in zip(grid, recalls, strict=True) if r >= target]
            offsets[k] = min(meets) if meets else grid[int(np.argmax(recalls))]
    return offsets


@dataclass(frozen=True)
class Augmentation:
    """Rows that are only ever trained on (support sets, synthetic posts): features, labels and sample weights."""

    x: np.ndarray
    y: np.ndarray
    weight: np.ndarray

    @classmethod
    def none(cls, features: int) -> Augmentation:
        return cls(np.zeros((0, features), np.float32), np.zeros(0, np.int64), np.zeros(0))


def out_of_fold(
    x: np.ndarray,
    y: np.ndarray,
    classes: int,
    c: float,
    class_weight: str | None = None,
    seed: int = 13,
    trainable: np.ndarray | None = None,
    extra: Augmentation | None = None,
) -> np.ndarray:
    """Out-of-fold log-probabilities (rows × classes) over 5 stratified folds of the real rows. A fold's head is
    fitted on its rows where ``trainable`` is true (default: all of them) plus every ``extra`` row; only real rows
    are ever held out and scored."""
    log_p = np.full((len(y), classes), np.log(1e-12))
    extra = extra if extra is not None else Augmentation.none(x.shape[1])
    for fit, held in StratifiedKFold(n_splits=5, shuffle=True, random_state=seed).split(x, y):
        if trainable is not None:
            fit = fit[trainable[fit]]
        model = make_pipeline(StandardScaler(), LogisticRegression(C=c, max_iter=3000, class_weight=class_weight))
        weight = np.r_[np.ones(len(fit)), extra.weight]
        model.fit(np.r_[x[fit], extra.x], np.r_[y[fit], extra.y], logisticregression__sample_weight=weight)
        log_p[np.ix_(held, model.classes_)] = np.log(model.predict_proba(x[held]) + 1e-12)
    return log_p


def cross_validated(
    x: np.ndarray,
    gold: list[str],
    labels: list[str],
    c: float,
    class_weight: str | None = None,
    extra: Augmentation | None = None,
    objective: str = "macro_f1",
) -> tuple[Report, np.ndarray]:
    """5-fold CV of the intent head at `c`: the report with per-class logit offsets fitted on the folds, and them."""
    y = np.array([labels.index(g) for g in gold])
    log_p = out_of_fold(x, y, len(labels), c, class_weight, extra=extra)
    offsets = fit_offsets(log_p, gold, labels, objective)
    return evaluate(gold, [labels[i] for i in (log_p + offsets).argmax(1)], labels), offsets


def augmentation_rows(
    weights: dict[str, float], labels: list[str], layout: str, artifacts: Path
) -> tuple[Augmentation, dict[str, int]]:
    """The augmentation sets named in ``weights``, as features, with their row counts per set."""
    xs, ys, ws, counts = [], [], [], {}
    for name, weight in weights.items():
        rows = [e for e in augmentation(name) if e.label in labels]
        counts[name] = len(rows)
        xs.append(features([e.text for e in rows], layout, artifacts))
        ys.append(np.array([labels.index(e.label) for e in rows], np.int64))
        ws.append(np.full(len(rows), weight))
    if not xs:
        return Augmentation.none(0), counts
    return Augmentation(np.concatenate(xs), np.concatenate(ys), np.concatenate(ws)), counts


def operating_points(log_p: np.ndarray, gold: list[str], labels: list[str], offsets: np.ndarray) -> dict[str, list]:
    """For each recall-first intent, CV precision and recall as its offset moves around the chosen one: the
    trade-off a team can pick from (``thresholds.intent`` in the config moves the "needs a person" line)."""
    y = np.array([labels.index(g) for g in gold])
    table: dict[str, list] = {}
    for label in RECALL_FIRST:
        if label not in labels:
            continue
        k = labels.index(label)
        rows = []
        for shift in (-1.0, -0.5, 0.0, 0.5, 1.0, 1.5):
            trial = offsets.copy()
            trial[k] += shift
            precision, recall, f1 = _per_class(y, (log_p + trial).argmax(1), len(labels))
            rows.append(
                {
                    "offset": round(float(trial[k]), 2),
                    "precision": round(float(precision[k]), 3),
                    "recall": round(float(recall[k]), 3),
                    "f1": round(float(f1[k]), 3),
                }
            )
        table[label] = rows
    return table


def held_out_rows(artifacts: Path, train: list[data.Example]) -> np.ndarray | None:
    """Which real train rows the artifacts' encoder never saw (a mask), when its fine-tuning held some out."""
    path = artifacts / HOLDOUT_FILE
    if not path.exists():
        return None
    keys = set(json.loads(path.read_text())["keys"])
    mask = np.array([e.key in keys for e in train])
    if not mask.any():
        raise SystemExit(f"{path}: none of its {len(keys)} keys is a row of the intent train split")
    return mask


def fit_and_score(
    x: np.ndarray,
    y: np.ndarray,
    classes: int,
    c: float,
    class_weight: str | None,
    held: np.ndarray,
    extra: Augmentation,
) -> np.ndarray:
    """Log-probabilities of the ``held`` rows from a head fitted on the other real rows plus ``extra``."""
    fit = ~held
    extra = extra if len(extra.y) else Augmentation.none(x.shape[1])
    model = make_pipeline(StandardScaler(), LogisticRegression(C=c, max_iter=3000, class_weight=class_weight))
    weight = np.r_[np.ones(int(fit.sum())), extra.weight]
    model.fit(np.r_[x[fit], extra.x], np.r_[y[fit], extra.y], logisticregression__sample_weight=weight)
    log_p = np.full((int(held.sum()), classes), np.log(1e-12))
    log_p[:, model.classes_] = np.log(model.predict_proba(x[held]) + 1e-12)
    return log_p


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--artifacts", type=Path, default=ARTIFACTS)
    parser.add_argument("--cv-only", action="store_true", help="CV figures only: no test split, nothing written")
    parser.add_argument(
        "--features", choices=LAYOUTS, help="fix the input layout instead of choosing it by CV (default: choose)"
    )
    parser.add_argument(
        "--augment",
        default=DEFAULT_AUGMENT,
        help=f"training-only sets and their weights, e.g. 'synthetic:1,nlupp:0.5' ('' for none; default {DEFAULT_AUGMENT!r})",
    )
    parser.add_argument("--objective", choices=OBJECTIVES, default="triage", help="what the CV offsets maximise")
    parser.add_argument("--c", type=float, action="append", help="regularisation to try (repeatable; default a grid)")
    args = parser.parse_args()
    artifacts = args.artifacts
    weights = parse_weights(args.augment)
    splits = data.intent_examples()
    train, test = splits.get("train", []), splits.get("test", [])
    if not train:
        raise SystemExit(f"no labeled intent examples in {data.INTENT_LABELS}")
    labels = [i.value for i in Intent if any(e.label == i.value for e in train)]
    print(f"intent: {len(train)} real train, {len(test)} real test; classes {labels}; augment {weights or 'none'}")
    for name, rows in (("train", train),) if args.cv_only else (("train", train), ("test", test)):
        print(f"  {name}: " + ", ".join(f"{lab} {sum(e.label == lab for e in rows)}" for lab in labels))
    y_train = np.array([labels.index(e.label) for e in train])
    gold = [labels[i] for i in y_train]
    layouts = [args.features] if args.features else list(LAYOUTS)
    inputs = {layout: features([e.text for e in train], layout, artifacts) for layout in layouts}
    extras = {layout: augmentation_rows(weights, labels, layout, artifacts) for layout in layouts}
    dev = held_out_rows(artifacts, train)
    if dev is not None:
        print(f"  choosing on {int(dev.sum())} real train rows the encoder never saw ({artifacts / HOLDOUT_FILE})")
    best = None
    for layout, x in inputs.items():
        extra, _ = extras[layout]
        for weight in (None, "balanced"):
            for c in args.c or (SHIPPED_C, 0.01, 0.03):
                if dev is None:
                    log_p = out_of_fold(x, y_train, len(labels), c, weight, extra=extra if len(extra.y) else None)
                    y_scored, gold_scored = y_train, gold
                else:
                    log_p = fit_and_score(x, y_train, len(labels), c, weight, dev, extra)
                    y_scored, gold_scored = y_train[dev], [g for g, d in zip(gold, dev, strict=True) if d]
                offsets = fit_offsets(log_p, gold_scored, labels, args.objective)
                predicted = (log_p + offsets).argmax(1)
                score = objective_score(y_scored, predicted, labels, args.objective)
                report = evaluate(gold_scored, [labels[i] for i in predicted], labels)
                print(
                    f"  {layout} C={c} class_weight={weight}: CV {args.objective} {score:.4f}, macro-F1 "
                    f"{report.macro_f1:.4f}, "
                    + ", ".join(
                        f"{lab} P/R {report.per_class[lab].precision:.2f}/{report.per_class[lab].recall:.2f}"
                        for lab in labels[:-1]
                    ),
                    flush=True,
                )
                if best is None or score > best[0]:
                    best = (score, layout, c, weight, offsets, report, log_p, gold_scored)
    assert best is not None
    _, layout, c, weight, offsets, cv_report, cv_log_p, cv_gold = best
    extra, extra_counts = extras[layout]
    x_train = inputs[layout]
    if args.cv_only:
        print(f"best CV: {layout} C={c} class_weight={weight}, {args.objective} {best[0]:.4f} (test split not read)")
        return
    x_fit, y_fit = np.r_[x_train, extra.x] if len(extra.y) else x_train, np.r_[y_train, extra.y]
    sample_weight = np.r_[np.ones(len(y_train)), extra.weight]
    scaler = StandardScaler().fit(x_fit)
    lr = LogisticRegression(C=c, max_iter=3000, class_weight=weight)
    lr.fit(scaler.transform(x_fit), y_fit, sample_weight=sample_weight)
    lr.intercept_ = lr.intercept_ + offsets
    print(f"chosen {layout} C={c} class_weight={weight}, per-class logit offsets {np.round(offsets, 2).tolist()}")

    result: dict = {
        "method": f"logistic regression on [{layout}], real labeled tweets plus training-only augmentation",
        "features": layout,
        "command": "python -m training.intent"
        + (f" --augment '{args.augment}'" if args.augment != DEFAULT_AUGMENT else "")
        + (f" --features {args.features}" if args.features else "")
        + "".join(f" --c {c}" for c in args.c or ())
        + (f" --objective {args.objective}" if args.objective != "triage" else "")
        + ("" if artifacts.resolve() == ARTIFACTS.resolve() else f" --artifacts {artifacts}"),
        "train_examples": len(train),
        "augment": {name: {"weight": w, "rows": extra_counts[name]} for name, w in weights.items()},
        "objective": args.objective,
        "C": c,
        "class_weight": weight or "none",
        "logit_offsets": dict(zip(labels, np.round(offsets, 3).tolist(), strict=True)),
        "cv_real": {
            lab: {
                "precision": round(cv_report.per_class[lab].precision, 4),
                "recall": round(cv_report.per_class[lab].recall, 4),
                "f1": round(cv_report.per_class[lab].f1, 4),
            }
            for lab in labels
        },
        "cv_real_macro_f1": round(cv_report.macro_f1, 4),
        "operating_points_cv": operating_points(cv_log_p, cv_gold, labels, offsets),
        "chosen_on": (
            "5-fold CV over the real train split"
            if dev is None
            else f"{len(cv_gold)} real train rows held out from the encoder's fine-tuning ({HOLDOUT_FILE}); the "
            "head is then fitted on every real train row with those offsets"
        ),
    }
    if test:
        pred = lr.predict(scaler.transform(features([e.text for e in test], layout, artifacts)))
        report = evaluate([e.label for e in test], [labels[i] for i in pred], labels)
        print(f"test split ({len(test)}):\n{report.render()}")
        result.update(
            test_examples=len(test),
            test_macro_f1=round(report.macro_f1, 4),
            test_accuracy=round(report.accuracy, 4),
            test_f1={lab: round(report.per_class[lab].f1, 4) for lab in labels},
            test_precision={lab: round(report.per_class[lab].precision, 4) for lab in labels},
            test_recall={lab: round(report.per_class[lab].recall, 4) for lab in labels},
            test_support={lab: report.per_class[lab].support for lab in labels},
        )
    heads = {k: v for k, v in load_heads(artifacts).items() if not k.startswith("intent_")}
    heads.update(
        intent_weights=lr.coef_.astype(np.float32),
        intent_bias=lr.intercept_.astype(np.float32),
        intent_mean=scaler.mean_.astype(np.float32),
        intent_scale=scaler.scale_.astype(np.float32),
        intent_labels=np.array(labels),
    )
    save_heads(heads, artifacts)
    meta = load_meta(artifacts)
    meta["intent"] = result
    meta = save_meta(meta, artifacts)
    print(f"wrote {artifacts} ({meta['model_version']})")


if __name__ == "__main__":
    main()
