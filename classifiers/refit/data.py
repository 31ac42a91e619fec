"""Labeled text for training and evaluation: TweetEval sentiment data and our intent labels.

Tweet texts may not be redistributed, so the repository ships none: `scripts/fetch_training_data.py` fetches them
from their public origins into a data folder (`var/data/` by default, `$OVERHEARD_DATA_DIR` or
`$OVERHEARD_SENTIMENT_DIR` elsewhere), and everything here reads them from there.
"""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass
from pathlib import Path

from classifiers.text import normalise_tweet

REPO = Path(__file__).resolve().parents[2]
DATA_DIR = Path(os.environ.get("OVERHEARD_DATA_DIR", REPO / "var" / "data"))
SENTIMENT_DIR = Path(os.environ.get("OVERHEARD_SENTIMENT_DIR", DATA_DIR / "tweeteval_sentiment"))
SENTIMENT_TRAIN = SENTIMENT_DIR / "train_reconstructed_semeval2013-2016.tsv"
FETCH_COMMAND = "python scripts/fetch_training_data.py"


class MissingTrainingData(FileNotFoundError):
    """The fetched training data is not where it was looked for; the message says how to get it."""


def _require(path: Path) -> Path:
    if not path.exists():
        raise MissingTrainingData(
            f"training data not found: {path}. Tweet texts may not be redistributed, so the repository does not "
            f"ship them; fetch them with `{FETCH_COMMAND}` (into var/data/), or point OVERHEARD_DATA_DIR "
            "(or `overheard train --data`) at a folder that holds tweeteval_sentiment/"
        )
    return path


INTENT_LABELS = Path(os.environ.get("OVERHEARD_INTENT_LABELS", REPO / "classifiers" / "data" / "intent" / "labels.tsv"))


@dataclass(frozen=True)
class Example:
    """One labeled text; ``text`` is already normalised like TweetEval."""

    text: str
    label: str
    key: str


def sentiment_dir(data_dir: Path | None = None) -> Path:
    """Where the TweetEval sentiment files are: ``data_dir/tweeteval_sentiment`` when a folder is given."""
    return data_dir / "tweeteval_sentiment" if data_dir is not None else SENTIMENT_DIR


def sentiment_train(data_dir: Path | None = None) -> list[Example]:
    """The reconstructed SemEval 2013–2016 train set (labels 0 negative, 1 neutral, 2 positive)."""
    with _require(sentiment_dir(data_dir) / SENTIMENT_TRAIN.name).open(encoding="utf-8", newline="") as f:
        rows = csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE)
        return [Example(normalise_tweet(r["text"]), r["label"], r["tweet_id"]) for r in rows]


def sentiment_val(data_dir: Path | None = None) -> list[Example]:
    """TweetEval's official validation split: for model selection and calibration only."""
    folder = sentiment_dir(data_dir)
    texts = _require(folder / "val_text.txt").read_text(encoding="utf-8").splitlines()
    labels = _require(folder / "val_labels.txt").read_text(encoding="utf-8").split()
    if len(texts) != len(labels):
        raise ValueError(f"{folder}: {len(texts)} val texts but {len(labels)} labels")
    return [
        Example(normalise_tweet(t), label, f"val-{i}") for i, (t, label) in enumerate(zip(texts, labels, strict=True))
    ]


def intent_examples(path: Path = INTENT_LABELS, data_dir: Path | None = None) -> dict[str, list[Example]]:
    """Intent labels joined to their tweet text by tweet_id, grouped by split ("train", "test")."""
    if not path.exists():
        return {}
    texts = {ex.key: ex.text for ex in sentiment_train(data_dir)}
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
