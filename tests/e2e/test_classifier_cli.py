"""`overheard evaluate` and `overheard train` as a user runs them: real processes, the real encoder."""

from __future__ import annotations

import hashlib
import json
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from sqlalchemy import insert

from classifiers.model import ARTIFACTS, FAST_ARTIFACTS
from storage import inbox
from storage.database import open_database
from storage.schema import mentions, verdicts
from tests.e2e.cli import FIXTURES, overheard

TINY_SENTIMENT = FIXTURES / "tiny_sentiment"
TINY_INTENT_LABELS = FIXTURES / "tiny_intent_labels.tsv"


def test_evaluate_prints_the_figures_and_reports_bad_rows_without_stopping(tmp_path: Path) -> None:
    result = overheard("evaluate", str(FIXTURES / "labeled_with_bad_rows.csv"), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "row 4: empty text" in result.stderr
    assert "row 6: intent 'lead' is not one of complaint" in result.stderr
    assert "row 8: rating '7' is not a number of stars from 0 to 5" in result.stderr
    out = result.stdout
    assert "4 rows evaluated, 4 rejected" in out
    assert out.count("accuracy") == 2 and out.count("macro-recall") == 2 and out.count("macro-F1") == 2
    assert "sentiment (4 texts" in out and "intent (4 texts" in out
    assert "confusion (rows gold, columns predicted)" in out
    intent_part = out.split("intent (4 texts")[1]
    complaint_row = next(line for line in intent_part.splitlines() if line.startswith("complaint "))
    assert complaint_row.split()[-1] == "1"  # support: one gold complaint among the good rows


def test_evaluate_refuses_a_file_with_nothing_to_compare_against(tmp_path: Path) -> None:
    result = overheard("evaluate", str(FIXTURES / "unlabeled.csv"), cwd=tmp_path)
    assert result.returncode == 1
    assert "no 'sentiment' or 'intent' column" in result.stderr
    missing = overheard("evaluate", str(tmp_path / "nope.jsonl"), cwd=tmp_path)
    assert missing.returncode == 1
    assert "nope.jsonl" in missing.stderr


def _relabelled_mentions(database_url: str, count: int) -> None:
    """Mentions of a product the shipped model never saw, each relabelled complaint/negative by a person."""
    engine = open_database(database_url)
    now = datetime(2026, 11, 20, tzinfo=UTC)
    with engine.begin() as connection:
        for i in range(count):
            mention_id = connection.execute(
                insert(mentions).values(
                    source="x",
                    external_id=f"zorbly-{i}",
                    author_handle=f"author{i}",
                    text=f"my zorbly blender {i} is making that noise again",
                    created_at=now,
                    collected_at=now,
                )
            ).inserted_primary_key[0]
            connection.execute(
                insert(verdicts).values(
                    mention_id=mention_id,
                    sentiment="neutral",
                    sentiment_confidence=0.6,
                    intent="other",
                    intent_confidence=0.7,
                    model_version="test",
                    classified_at=now,
                )
            )
            inbox.relabel(connection, mention_id, "agent@example.com", "complaint", "negative")


def _digest(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.iterdir() if p.is_file()}


def _train(workspace: Path) -> subprocess.CompletedProcess[str]:
    """`overheard train --out model` in the workspace, on the tiny shared data."""
    env = {
        "OVERHEARD_SENTIMENT_DIR": str(TINY_SENTIMENT),
        "OVERHEARD_INTENT_LABELS": str(TINY_INTENT_LABELS),
        "OVERHEARD_CACHE_DIR": str(workspace / "cache"),
    }
    return overheard(
        "train",
        "--out",
        str(workspace / "model"),
        "--sentiment-sample",
        "100",
        "--augment-sample",
        "60",
        cwd=workspace,
        env=env,
    )


def test_train_retrains_from_triage_corrections_into_its_own_folder(workspace: Path) -> None:
    _relabelled_mentions(f"sqlite:///{workspace}/o.db", 12)
    shipped = _digest(ARTIFACTS)
    result = _train(workspace)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "corrections from triage:" in out
    train_n, held_n = (int(x.split()[0]) for x in out.split("corrections from triage: ")[1].split(",")[:2])
    assert train_n + held_n == 12 and train_n > 0
    assert "== sentiment: refitted on 24 shared train tweets" in out
    assert "== intent: refitted on" in out
    assert "held-out public data (TweetEval val), before:" in out
    assert "held-out public data (intent test split), after:" in out
    assert "shipped artifacts untouched" in out
    assert _digest(ARTIFACTS) == shipped
    model = workspace / "model"
    meta = json.loads((model / "meta.json").read_text())
    assert meta["retrained"]["corrections_train"] == {"sentiment": train_n, "intent": train_n}
    with np.load(model / "heads.npz") as new, np.load(ARTIFACTS / "heads.npz") as old:
        assert not np.array_equal(new["intent_weights"], old["intent_weights"])
    assert (model / "encoder_layers.safetensors").exists() == (ARTIFACTS / "encoder_layers.safetensors").exists()

    scored = overheard(
        "evaluate", str(FIXTURES / "labeled_with_bad_rows.csv"), "--artifacts", str(model), cwd=workspace
    )
    assert scored.returncode == 0, scored.stderr
    assert meta["model_version"] in scored.stdout


def test_train_retrains_the_model_the_config_serves(workspace: Path) -> None:
    config = workspace / "overheard.yaml"
    config.write_text(config.read_text(encoding="utf-8") + "\nclassifier:\n  model: fast\n", encoding="utf-8")
    _relabelled_mentions(f"sqlite:///{workspace}/o.db", 6)
    result = _train(workspace)
    assert result.returncode == 0, result.stderr
    assert f"retraining the heads of {FAST_ARTIFACTS}" in result.stdout
    meta = json.loads((workspace / "model" / "meta.json").read_text())
    fast = json.loads((FAST_ARTIFACTS / "meta.json").read_text())
    assert meta["retrained"]["from_model_version"] == fast["model_version"]
    layers = "encoder_layers.safetensors"
    assert (workspace / "model" / layers).read_bytes() == (FAST_ARTIFACTS / layers).read_bytes()


def test_train_without_the_fetched_data_says_how_to_get_it(workspace: Path) -> None:
    """Tweet texts are not shipped: a clone must be told to fetch them, not shown a traceback."""
    env = {"OVERHEARD_DATA_DIR": str(workspace / "no-data"), "OVERHEARD_CACHE_DIR": str(workspace / "cache")}
    result = overheard("train", "--out", str(workspace / "model"), cwd=workspace, env=env)
    assert result.returncode != 0
    assert "scripts/fetch_training_data.py" in result.stderr + result.stdout
    assert "Traceback" not in result.stderr
    assert not (workspace / "model").exists()
