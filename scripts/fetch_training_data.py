#!/usr/bin/env python3
"""Fetch the public training data whose licence does not let the repository ship it, into a local data folder.

The sentiment encoder and the intent labels (`classifiers/data/intent/labels.tsv`, which hold tweet ids and our
labels, not texts) are trained on SemEval 2013–2016 / TweetEval tweets. Tweet texts fall under the platform's
terms, so Overheard does not redistribute them: this script gets them from their public origins and rebuilds the
files `overheard train` and `python -m training.*` read (default folder: `var/data/`, or
`$OVERHEARD_DATA_DIR`):

    var/data/tweeteval_sentiment/val_text.txt, val_labels.txt       TweetEval's official validation split
    var/data/tweeteval_sentiment/train_reconstructed_semeval2013-2016.tsv
                                                                    SemEval 2013-2016 rows less any TweetEval
                                                                    val/test text, de-duplicated (~47,400 rows)

Origins (pinned commits, so the rebuilt file is the same every time):
- TweetEval, github.com/cardiffnlp/tweeteval @ 3eb5e91dd5070b5a5931df4e70cbab5978e3c50c, datasets/sentiment/.
  The test split is read only to keep its tweets out of train; nothing trains or chooses on it.
- SemEval 2013–2016 Task 4A as downloaded by github.com/cbaziotis/datastories-semeval2017-task4
  @ faeee5fd1c2cf38e32179a4676dff53ae01adfa8, dataset/Subtask_A/downloaded/twitter-*-A.tsv.

Usage:
    python scripts/fetch_training_data.py                      # download from the origins above
    python scripts/fetch_training_data.py --from DIR           # copy an already fetched folder (e.g. a hand-over)
    python scripts/fetch_training_data.py --out DIR            # somewhere other than var/data
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import sys
import urllib.request
from collections.abc import Iterable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT_OUT = Path(os.environ.get("OVERHEARD_DATA_DIR", REPO / "var" / "data"))
TWEETEVAL = (
    "https://raw.githubusercontent.com/cardiffnlp/tweeteval/3eb5e91dd5070b5a5931df4e70cbab5978e3c50c/datasets/sentiment"
)
SEMEVAL = (
    "https://raw.githubusercontent.com/cbaziotis/datastories-semeval2017-task4/"
    "faeee5fd1c2cf38e32179a4676dff53ae01adfa8/dataset/Subtask_A/downloaded"
)
SEMEVAL_FILES = tuple(
    f"twitter-{name}-A.tsv"
    for name in (
        "2013train",
        "2013dev",
        "2013test",
        "2014test",
        "2014sarcasm",
        "2015train",
        "2015test",
        "2016train",
        "2016dev",
        "2016devtest",
        "2016test",
    )
)
TRAIN_FILE = "train_reconstructed_semeval2013-2016.tsv"
FILES = ("val_text.txt", "val_labels.txt", TRAIN_FILE)
LABELS = {"negative": "0", "neutral": "1", "positive": "2"}
_UNICODE_ESCAPE = re.compile(r"\\u([0-9a-fA-F]{4})")


def match_key(text: str) -> str:
    """The key two copies of one tweet share: lowercase, no @mentions, URLs or non-alphanumerics."""
    text = re.sub(r"@\w+|https?://\S+", " ", text.lower())
    return re.sub(r"[^0-9a-z]+", "", text)


def semeval_rows(name: str, lines: Iterable[str]) -> Iterable[tuple[str, str, str, str]]:
    """(source_file, tweet_id, label 0/1/2, text) from one downloaded SemEval file (id, label, text by tabs)."""
    for line in lines:
        parts = line.rstrip("\n").split("\t")
        if len(parts) < 3 or parts[1].strip() not in LABELS:
            continue
        text = _UNICODE_ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), "\t".join(parts[2:]))
        yield name, parts[0].strip(), LABELS[parts[1].strip()], " ".join(text.split())


def reconstruct_train(files: dict[str, list[str]], held_out_texts: Iterable[str]) -> list[tuple[str, str, str, str]]:
    """Every SemEval row whose text is not a TweetEval val/test text, de-duplicated on the match key."""
    held_out = {match_key(t) for t in held_out_texts}
    seen: set[str] = set()
    rows = []
    for name in sorted(files):
        for row in semeval_rows(name, files[name]):
            key = match_key(row[3])
            if not key or key in held_out or key in seen:
                continue
            seen.add(key)
            rows.append(row)
    return rows


def write_train(rows: list[tuple[str, str, str, str]], path: Path) -> None:
    """Plain tab-separated lines, read back with ``csv.QUOTE_NONE``: texts hold no tab or newline, and quotes stay."""
    lines = ["source_file\ttweet_id\tlabel\ttext"]
    lines += ["\t".join((source, tweet_id, label, " ".join(text.split()))) for source, tweet_id, label, text in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=60) as response:  # fixed https origins above
        return response.read().decode("utf-8", errors="replace")


def download(out: Path) -> None:
    target = out / "tweeteval_sentiment"
    target.mkdir(parents=True, exist_ok=True)
    print(f"fetching TweetEval val and test texts from {TWEETEVAL}")
    val_text, val_labels, test_text = (
        _get(f"{TWEETEVAL}/{n}") for n in ("val_text.txt", "val_labels.txt", "test_text.txt")
    )
    (target / "val_text.txt").write_text(val_text, encoding="utf-8")
    (target / "val_labels.txt").write_text(val_labels, encoding="utf-8")
    files = {}
    for name in SEMEVAL_FILES:
        print(f"fetching {name}")
        files[name] = _get(f"{SEMEVAL}/{name}").splitlines()
    rows = reconstruct_train(files, [*val_text.splitlines(), *test_text.splitlines()])
    write_train(rows, target / TRAIN_FILE)
    print(f"wrote {len(rows)} train rows and {len(val_text.splitlines())} val rows to {target}")


def copy_from(source: Path, out: Path) -> None:
    folder = source / "tweeteval_sentiment" if (source / "tweeteval_sentiment").is_dir() else source
    missing = [name for name in FILES if not (folder / name).exists()]
    if missing:
        raise SystemExit(f"{folder}: missing {', '.join(missing)}; expected a TweetEval sentiment folder")
    target = out / "tweeteval_sentiment"
    target.mkdir(parents=True, exist_ok=True)
    for name in FILES:
        shutil.copyfile(folder / name, target / name)
    print(f"copied {', '.join(FILES)} from {folder} to {target}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="data folder to fill (default var/data)")
    parser.add_argument("--from", dest="source", type=Path, help="copy an already fetched folder instead")
    args = parser.parse_args(argv)
    try:
        copy_from(args.source, args.out) if args.source else download(args.out)
    except OSError as exc:
        print(f"could not fetch the training data: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
