"""Check the labeled intent set (labels.tsv) against the shared tweets and print its counts.

Run from the repository root:  .venv/bin/python -m training.data.intent.build [--source PATH]
Exits 1 with one line per problem when the file is not valid.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import sys
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from classifiers.refit import data
from classifiers.verdict import Intent

HERE = Path(__file__).resolve().parents[3] / "classifiers" / "data" / "intent"
"""Where the labels live: the runtime package's data folder (``overheard train`` reads them from there)."""
LABELS = HERE / "labels.tsv"
COLUMNS = ("tweet_id", "source_file", "intent", "split", "candidate_pool", "note")
SPLITS = ("train", "test")
TEST_SHARE_IN_FIFTHS = 1  # one id in five goes to test; see split_for
SPLIT_SALT = "overheard-intent:"


@dataclass(frozen=True)
class Label:
    """One labeled tweet: the join key into the shared file and the reader's decision."""

    tweet_id: str
    source_file: str
    intent: str
    split: str
    candidate_pool: str
    note: str


def split_for(tweet_id: str) -> str:
    """The split a tweet belongs to, fixed by its id alone so it never moves when rows are added."""
    bucket = int(hashlib.sha256((SPLIT_SALT + tweet_id).encode()).hexdigest(), 16) % 5
    return "test" if bucket < TEST_SHARE_IN_FIFTHS else "train"


def read_labels(path: Path) -> tuple[list[Label], list[str]]:
    """The rows of labels.tsv, plus problems with its header."""
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)
        header = tuple(reader.fieldnames or ())
        problems = [] if header == COLUMNS else [f"{path.name}: header is {header}, expected {COLUMNS}"]
        rows = [Label(**{column: (row.get(column) or "") for column in COLUMNS}) for row in reader]
    return rows, problems


def read_source_keys(path: Path) -> set[tuple[str, str]]:
    """(tweet_id, source_file) pairs present in the shared training file."""
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)
        return {(row["tweet_id"], row["source_file"]) for row in reader}


def validate(labels: Sequence[Label], source_keys: set[tuple[str, str]]) -> list[str]:
    """Every problem found, each naming the line of labels.tsv it is on (header is line 1)."""
    allowed = {intent.value for intent in Intent}
    seen: dict[str, int] = {}
    problems: list[str] = []
    for line, label in enumerate(labels, start=2):
        where = f"labels.tsv line {line} ({label.tweet_id})"
        if not label.tweet_id.isdigit():
            problems.append(f"{where}: tweet_id is not a number")
        if label.tweet_id in seen:
            problems.append(f"{where}: tweet_id already labeled on line {seen[label.tweet_id]}")
        seen.setdefault(label.tweet_id, line)
        if (label.tweet_id, label.source_file) not in source_keys:
            problems.append(f"{where}: not in the shared file as ({label.tweet_id}, {label.source_file})")
        if label.intent not in allowed:
            problems.append(f"{where}: intent {label.intent!r} is not one of {', '.join(sorted(allowed))}")
        if label.split not in SPLITS:
            problems.append(f"{where}: split {label.split!r} is not one of {', '.join(SPLITS)}")
        elif label.split != split_for(label.tweet_id):
            problems.append(f"{where}: split is {label.split!r} but the id rule gives {split_for(label.tweet_id)!r}")
    return problems


def count_table(labels: Iterable[Label]) -> str:
    """Counts per intent and split, as aligned text."""
    counts = Counter((label.intent, label.split) for label in labels)
    lines = [f"{'intent':<16}{'train':>7}{'test':>7}{'total':>7}"]
    for intent in Intent:
        train, test = counts[(intent.value, "train")], counts[(intent.value, "test")]
        lines.append(f"{intent.value:<16}{train:>7}{test:>7}{train + test:>7}")
    train_all = sum(n for (_, split), n in counts.items() if split == "train")
    test_all = sum(n for (_, split), n in counts.items() if split == "test")
    lines.append(f"{'all':<16}{train_all:>7}{test_all:>7}{train_all + test_all:>7}")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--source",
        type=Path,
        default=data.SENTIMENT_TRAIN,
        help=f"the fetched tweets TSV to join against (`{data.FETCH_COMMAND}` gets it)",
    )
    parser.add_argument("--labels", type=Path, default=LABELS, help="the labels TSV to check")
    args = parser.parse_args(argv)
    if not args.source.is_file():
        print(f"tweets not found at {args.source}; run `{data.FETCH_COMMAND}` or pass --source", file=sys.stderr)
        return 1
    labels, problems = read_labels(args.labels)
    problems += validate(labels, read_source_keys(args.source))
    print(count_table(labels))
    if problems:
        print(f"\n{len(problems)} problem(s):", file=sys.stderr)
        for problem in problems:
            print(f"  {problem}", file=sys.stderr)
        return 1
    print(f"\nok: {len(labels)} labels, one per tweet id, all in {args.source.name}, intents and splits valid")
    return 0


if __name__ == "__main__":
    sys.exit(main())
