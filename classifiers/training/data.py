"""Labeled text for training and evaluation: the shared TweetEval sentiment data and our intent labels."""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass
from pathlib import Path

from classifiers.text import normalise_tweet

REPO = Path(__file__).resolve().parents[2]
SENTIMENT_DIR = Path(os.environ.get("OVERHEARD_SENTIMENT_DIR", REPO.parent / "shared" / "data" / "tweeteval_sentiment"))
SENTIMENT_TRAIN = SENTIMENT_DIR / "train_reconstructed_semeval2013-2016.tsv"
INTENT_LABELS = Path(os.environ.get("OVERHEARD_INTENT_LABELS", REPO / "classifiers" / "data" / "intent" / "labels.tsv"))


@dataclass(frozen=True)
class Example:
    """One labeled text; ``text`` is already normalised like TweetEval."""

    text: str
    label: str
    key: str


def sentiment_train() -> list[Example]:
    """The reconstructed SemEval 2013–2016 train set (labels 0 negative, 1 neutral, 2 positive)."""
    with SENTIMENT_TRAIN.open(encoding="utf-8", newline="") as f:
        rows = csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE)
        return [Example(normalise_tweet(r["text"]), r["label"], r["tweet_id"]) for r in rows]


def sentiment_val() -> list[Example]:
    """TweetEval's official validation split: for model selection and calibration only."""
    texts = (SENTIMENT_DIR / "val_text.txt").read_text(encoding="utf-8").splitlines()
    labels = (SENTIMENT_DIR / "val_labels.txt").read_text(encoding="utf-8").split()
    if len(texts) != len(labels):
        raise ValueError(f"{SENTIMENT_DIR}: {len(texts)} val texts but {len(labels)} labels")
    return [
        Example(normalise_tweet(t), label, f"val-{i}") for i, (t, label) in enumerate(zip(texts, labels, strict=True))
    ]


def intent_examples(path: Path = INTENT_LABELS) -> dict[str, list[Example]]:
    """Intent labels joined to their tweet text by tweet_id, grouped by split ("train", "test")."""
    if not path.exists():
        return {}
    texts = {ex.key: ex.text for ex in sentiment_train()}
    out: dict[str, list[Example]] = {}
    with path.open(encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE):
            tweet_id = (row.get("tweet_id") or "").strip()
            intent = (row.get("intent") or "").strip()
            if tweet_id not in texts or not intent:
                continue
            split = (row.get("split") or "train").strip()
            out.setdefault(split, []).append(Example(texts[tweet_id], intent, tweet_id))
    return out
