"""Would one language's own intent offsets help it? Judged on the generated training posts only (issue 26, Finnish).

The multilingual heads carry one set of per-class logit offsets fitted on all 1,920 generated training posts
(`training.multilingual.fit_offsets`). This fits a second set for one language on that language's
240 training posts and scores it with templates held out (each template's posts are scored with offsets fitted
on the other templates), so the figure says whether the offsets carry to phrasing they never saw. The checks are
printed last, for the record only: they never choose anything.

    OMP_NUM_THREADS=1 python benchmarks/multilingual_language_offsets.py --language fi
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from classifiers.multilingual import MULTILINGUAL_ARTIFACTS, E5Encoder
from training.multilingual import (
    CHECKS,
    TRAIN_POSTS,
    _jsonl,
    _macro_f1,
    _probabilities,
    fit_offsets,
)


def line(name: str, logits: np.ndarray, gold: Sequence[str], labels: Sequence[str]) -> str:
    predicted = [labels[k] for k in logits.argmax(axis=1)]
    accuracy = np.mean([p == g for p, g in zip(predicted, gold, strict=True)])

    def recall(intent: str) -> float:
        return float(np.mean([p == intent for p, g in zip(predicted, gold, strict=True) if g == intent]))

    return (
        f"{name:44s} acc {accuracy:.3f}  mF1 {_macro_f1(gold, predicted, labels):.3f}  "
        f"compl.rec {recall('complaint'):.3f}  purch.rec {recall('purchase_intent'):.3f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--language", default="fi")
    language = parser.parse_args().language
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    heads = np.load(MULTILINGUAL_ARTIFACTS / "heads.npz")
    weights, bias = heads["intent_weights"], heads["intent_bias"]
    labels = [str(x) for x in heads["intent_labels"]]
    train = [p for p in _jsonl(TRAIN_POSTS) if p["language"] == language]
    checks = list(_jsonl(CHECKS / f"{language}.jsonl"))
    encoder = E5Encoder(threads=1)
    train_logits = np.log(
        np.clip(_probabilities(encoder.embed([str(p["text"]) for p in train]), weights, bias), 1e-9, 1)
    )
    check_logits = np.log(
        np.clip(_probabilities(encoder.embed([str(p["text"]) for p in checks]), weights, bias), 1e-9, 1)
    )
    gold = [str(p["intent"]) for p in train]
    template = np.array([str(p["template"]).rsplit("/", 1)[1] for p in train])
    held_out = train_logits.copy()
    for name in sorted(set(template)):
        held = template == name
        offsets = fit_offsets(
            np.exp(train_logits[~held]), [g for g, h in zip(gold, held, strict=True) if not h], labels
        )
        held_out[held] += offsets
    offsets = fit_offsets(np.exp(train_logits), gold, labels)
    print(f"{language}: {len(train)} training posts, {len(set(template))} template groups held out in turn")
    print(line("training posts, today's heads", train_logits, gold, labels))
    print(line("training posts, own offsets (template held out)", held_out, gold, labels))
    print("own offsets fitted on all its training posts:", dict(zip(labels, offsets.tolist(), strict=True)))
    check_gold = [str(p["intent"]) for p in checks]
    print(line("checks (record only), today's heads", check_logits, check_gold, labels))
    print(line("checks (record only), own offsets", check_logits + offsets, check_gold, labels))


if __name__ == "__main__":
    main()
