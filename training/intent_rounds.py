"""Does a labeling round help the intent head? Cross-validation with and without the rows it added.

    git show 52f8f96:classifiers/data/intent/labels.tsv > var/labels-r1-6.tsv
    python -m training.intent_rounds --before var/labels-r1-6.tsv [--seeds 6] [--features LAYOUT ...]

Folds are cut over the train split of the current ``labels.tsv``. For each fold, the head (the shipped recipe:
C=0.003, no class weighting, per-class logit offsets fitted on the out-of-fold predictions) is fitted twice: on
the fold's rows that ``--before`` already had, and on all of the fold's rows. Both are scored on every held-out
row, so the figures say what the added rows teach. They are also scored on the older rows only, which is what the
figures quoted before the round measured. Reads the train split only; the test split is never touched.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from classifiers.metrics import Report, evaluate
from classifiers.model import ARTIFACTS
from classifiers.pooling import LAYOUTS
from classifiers.refit import data
from classifiers.verdict import Intent
from training.intent import SHIPPED_C, features, fit_offsets, out_of_fold

SEEDS = (13, 1, 2, 3, 4, 5, 6, 7)


def _line(name: str, reports: Sequence[Report]) -> str:
    macro = np.array([r.macro_f1 for r in reports])
    complaint = [r.per_class["complaint"] for r in reports]
    f1 = np.array([c.f1 for c in complaint])
    others = "  ".join(
        f"{label} {np.mean([r.per_class[label].f1 for r in reports]):.3f}"
        for label in ("purchase_intent", "question", "praise")
    )
    return (
        f"  {name:<34} macro-F1 {macro.mean():.4f} (sd {macro.std():.4f})  complaint F1 {f1.mean():.4f} "
        f"(sd {f1.std():.4f}; P {np.mean([c.precision for c in complaint]):.3f} "
        f"R {np.mean([c.recall for c in complaint]):.3f})  {others}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--before", type=Path, required=True, help="labels.tsv as it was before the round")
    parser.add_argument("--artifacts", type=Path, default=ARTIFACTS, help="whose encoder to read")
    parser.add_argument("--seeds", type=int, default=6, choices=range(1, len(SEEDS) + 1), metavar="1-8")
    parser.add_argument("--features", nargs="+", choices=LAYOUTS, default=list(LAYOUTS))
    args = parser.parse_args()

    before_ids = {e.key for rows in data.intent_examples(args.before).values() for e in rows}
    if not before_ids:
        raise SystemExit(f"{args.before}: no labeled rows")
    train = data.intent_examples().get("train", [])
    labels = [i.value for i in Intent]
    gold = [e.label for e in train]
    y = np.array([labels.index(g) for g in gold])
    older = np.array([e.key in before_ids for e in train])
    print(f"train split: {len(train)} rows, {int(older.sum())} in {args.before}, {int((~older).sum())} added")
    for layout in args.features:
        x = features([e.text for e in train], layout, args.artifacts)
        print(f"{layout}, {args.seeds} fold seeds, C={SHIPPED_C}:")
        for variant, trainable in (("fitted on the older rows", older), ("fitted on all rows", np.ones_like(older))):
            on_all, on_older = [], []
            for seed in SEEDS[: args.seeds]:
                log_p = out_of_fold(x, y, len(labels), SHIPPED_C, seed=seed, trainable=trainable)
                predicted = [labels[i] for i in (log_p + fit_offsets(log_p, gold, labels)).argmax(1)]
                on_all.append(evaluate(gold, predicted, labels))
                older_gold = [g for g, keep in zip(gold, older, strict=True) if keep]
                older_pred = [p for p, keep in zip(predicted, older, strict=True) if keep]
                on_older.append(evaluate(older_gold, older_pred, labels))
            print(_line(f"{variant}, scored on all rows", on_all))
            print(_line(f"{variant}, scored on older rows", on_older))


if __name__ == "__main__":
    main()
