"""Score model folders on the real intent test split (labels.tsv split=test), side by side.

    python -m training.intent_test_split classifiers/artifacts var/mt/r9

Each folder is read with the torch backend (the figures of the model card's tables); the tweet texts must have been
fetched (scripts/fetch_training_data.py). Only a measurement: nothing is chosen here.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from classifiers.metrics import evaluate
from classifiers.model import load_default
from classifiers.refit import data
from classifiers.verdict import Document

LABELS = ["complaint", "purchase_intent", "question", "praise", "other"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folders", type=Path, nargs="+", help="model folders (artifacts) to score")
    args = parser.parse_args()
    test = data.intent_examples().get("test", [])
    if not test:
        raise SystemExit(
            f"no intent test rows: fetch the tweet texts first (scripts/fetch_training_data.py); labels: {data.INTENT_LABELS}"
        )
    for folder in args.folders:
        model = load_default(backend="torch", threads=1, artifacts=folder)
        verdicts = model.classify([Document(e.text) for e in test])
        report = evaluate([e.label for e in test], [str(v.intent) for v in verdicts], LABELS)
        print(f"== {folder} ({model.version}) on {len(test)} real test tweets\n{report.render()}", flush=True)


if __name__ == "__main__":
    main()
