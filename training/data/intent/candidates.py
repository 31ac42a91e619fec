"""Rank the shared tweets nobody has labeled yet by how likely the shipped model thinks each is of one intent,
and write the top ones out for a person to read and label against GUIDE.md.

Run from the repository root:

    .venv/bin/python -m training.data.intent.candidates complaint --top 300 --out var/candidates-complaint.tsv

Keyword searches found the first 5,218 labels (CARD.md, rounds 1–6) and had run dry; a model trained on those
labels reaches tweets that share no keyword with them. The ranking only chooses what gets read: every label is
still a person's decision, and the default written for each row is ``other``. Tweets whose normalised text was
already labeled (retweets, copies) are left out, and so are copies among the candidates.
"""

from __future__ import annotations

import argparse
import csv
import re
from pathlib import Path

import numpy as np

from classifiers.model import ARTIFACTS, LinearHead
from classifiers.pooling import intent_layout
from classifiers.refit import data
from classifiers.refit.artifacts import load_heads, load_meta
from classifiers.text import normalise_tweet
from classifiers.verdict import Intent
from training.data.intent.build import LABELS, read_labels, split_for
from training.intent import features


def intent_probabilities(texts: list[str], artifacts: Path = ARTIFACTS) -> tuple[np.ndarray, list[str]]:
    """(probabilities (len(texts), classes), class names) from the intent head in ``artifacts``."""
    head = LinearHead.from_arrays(load_heads(artifacts), "intent")
    x = features(texts, intent_layout(load_meta(artifacts)), artifacts)
    return head.probabilities(x), list(head.labels)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("intent", choices=[i.value for i in Intent if i is not Intent.other])
    parser.add_argument("--top", type=int, default=300, help="how many candidates to write")
    parser.add_argument("--out", type=Path, required=True, help="TSV to write: ids, score, split, text")
    parser.add_argument("--artifacts", type=Path, default=ARTIFACTS)
    parser.add_argument("--exclude", type=Path, nargs="*", default=[], help="TSVs of candidates already read")
    parser.add_argument(
        "--only-matching",
        metavar="REGEX",
        help="rank only the unread tweets this pattern finds (case-insensitive): scoring all ~41,000 takes over an "
        "hour on a busy 2-core machine, a cue-word pre-selection a few minutes (it only chooses what gets read)",
    )
    args = parser.parse_args()

    labeled, _ = read_labels(LABELS)
    seen_ids = {label.tweet_id for label in labeled}
    for path in args.exclude:
        with path.open(encoding="utf-8", newline="") as handle:
            seen_ids |= {row["tweet_id"] for row in csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)}
    with data.SENTIMENT_TRAIN.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE))
    normalised = [normalise_tweet(r["text"]) for r in rows]
    seen_texts = {text for r, text in zip(rows, normalised, strict=True) if r["tweet_id"] in seen_ids}
    pool = [(r, t) for r, t in zip(rows, normalised, strict=True) if r["tweet_id"] not in seen_ids]
    pool = [(r, t) for r, t in pool if t not in seen_texts]
    if args.only_matching:
        cue = re.compile(args.only_matching, re.IGNORECASE)
        pool = [(r, t) for r, t in pool if cue.search(t)]
    print(f"{len(rows)} shared tweets, {len(seen_ids)} labeled or read, {len(pool)} unread to rank")

    probabilities, classes = intent_probabilities([t for _, t in pool], args.artifacts)
    scores = probabilities[:, classes.index(args.intent)]
    written: set[str] = set()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with args.out.open("w", encoding="utf-8", newline="") as handle:
        out = csv.writer(handle, delimiter="\t", quoting=csv.QUOTE_NONE, escapechar="\\", lineterminator="\n")
        out.writerow(["tweet_id", "source_file", "score", "split", "sentiment", "intent", "text"])
        for index in np.argsort(-scores):
            row, text = pool[index]
            if text in written:
                continue
            written.add(text)
            flat = " ".join(row["text"].replace("\t", " ").split())
            tid = row["tweet_id"]
            out.writerow([tid, row["source_file"], f"{scores[index]:.3f}", split_for(tid), row["label"], "other", flat])
            if len(written) == args.top:
                break
    print(f"wrote {len(written)} candidates for {args.intent} to {args.out} (score {scores.max():.3f} at the top)")


if __name__ == "__main__":
    main()
