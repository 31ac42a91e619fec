"""The script that rebuilds the training data a clone may not ship: what it keeps, drops and writes."""

from __future__ import annotations

import csv
import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

from tests.conftest import ROOT


def _script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("fetch_training_data", ROOT / "scripts" / "fetch_training_data.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


fetch = _script()


def test_reconstructed_train_drops_held_out_tweets_and_copies_of_one_tweet() -> None:
    files = {
        "twitter-2013train-A.tsv": [
            "1\tpositive\tloving the new @Lumora lamp http://t.co/x",
            "2\tnegative\tmy order never arrived",
            "3\tneutral\tthe store opens at 9",
            "4\tbogus\tnot a label, skipped",
        ],
        "twitter-2016dev-A.tsv": ["5\tpositive\tLoving the new lamp!!", "6\tnegative\tcaf\\u00e9 was closed again"],
    }
    rows = fetch.reconstruct_train(files, held_out_texts=["The store opens at 9."])
    assert [(r[1], r[2]) for r in rows] == [("1", "2"), ("2", "0"), ("6", "0")]
    assert rows[-1][3] == "café was closed again"


def test_written_train_file_is_read_back_by_the_trainer(tmp_path: Path) -> None:
    rows = [("twitter-2013train-A.tsv", "7", "1", 'a tab\there and a quote " too')]
    path = tmp_path / fetch.TRAIN_FILE
    fetch.write_train(rows, path)
    with path.open(encoding="utf-8", newline="") as f:
        read = list(csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE))
    assert read == [{"source_file": rows[0][0], "tweet_id": "7", "label": "1", "text": 'a tab here and a quote " too'}]


def test_copy_from_a_folder_missing_files_names_them(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "val_text.txt").write_text("x\n")
    with pytest.raises(SystemExit, match=r"missing val_labels\.txt, train_reconstructed"):
        fetch.copy_from(tmp_path / "src", tmp_path / "out")
