"""Evaluating on a user's labeled file, and retraining the heads from corrections, without running the encoder.

Retraining gets its features from a bag-of-words stand-in for the encoder (the encoder is injected), so these
tests check the bookkeeping and the learning rule, not MiniLM.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from classifiers.encoder import HIDDEN
from classifiers.labeled import LabeledFileError, evaluate_classifier, read_labeled
from classifiers.model import ARTIFACTS
from classifiers.pooling import Pooled
from classifiers.refit.data import Example
from classifiers.refit.retrain import Correction, ShippedData, install, retrain_heads, split_for
from classifiers.verdict import Document, Intent, Sentiment, Verdict
from tests.classifiers.cases import FIXTURES, read_jsonl

E2E_FIXTURES = Path(__file__).resolve().parents[1] / "e2e" / "fixtures"


def test_a_labeled_csv_keeps_good_rows_and_names_each_bad_one() -> None:
    labeled = read_labeled(E2E_FIXTURES / "labeled_with_bad_rows.csv")
    assert [e.row for e in labeled.examples] == [2, 3, 5, 9]
    assert labeled.examples[2].sentiment == "neutral"  # TweetEval's 1
    assert labeled.examples[2].intent == "purchase_intent"
    assert [(p.row, p.reason) for p in labeled.problems] == [
        (4, "empty text"),
        (6, "intent 'lead' is not one of complaint, purchase_intent, question, praise, other"),
        (7, "no sentiment or intent label"),
        (8, "rating '7' is not a number of stars from 0 to 5"),
    ]
    assert labeled.tasks == ("sentiment", "intent")


def test_a_labeled_jsonl_reports_broken_lines_by_number() -> None:
    labeled = read_labeled(FIXTURES / "labeled_with_bad_rows.jsonl")
    assert [(e.row, e.sentiment, e.intent, e.rating) for e in labeled.examples] == [
        (1, "negative", "complaint", None),
        (5, "positive", None, 5.0),
        (8, None, "purchase_intent", None),
    ]
    reasons = {p.row: p.reason for p in labeled.problems}
    assert reasons[2].startswith("not valid JSON")
    assert reasons[3] == "expected a JSON object, got list"
    assert reasons[4] == "text must be a string, got int"
    assert reasons[6] == "sentiment 'angry' is not one of negative, neutral, positive"
    assert set(reasons) == {2, 3, 4, 6}


def test_a_file_without_label_columns_is_refused_as_a_whole(tmp_path: Path) -> None:
    with pytest.raises(LabeledFileError, match="no 'sentiment' or 'intent' column"):
        read_labeled(E2E_FIXTURES / "unlabeled.csv")
    other = tmp_path / "labels.xlsx"
    other.write_text("x")
    with pytest.raises(LabeledFileError, match=r"expected a \.csv or \.jsonl file"):
        read_labeled(other)


class KeywordClassifier:
    """Says complaint/negative when the text mentions 'lost' or 'broke', else other/neutral."""

    version = "keywords"

    def classify(self, documents: Sequence[Document]) -> list[Verdict]:
        out = []
        for doc in documents:
            bad = any(w in doc.text.lower() for w in ("lost", "broke"))
            out.append(
                Verdict(
                    sentiment=Sentiment.negative if bad else Sentiment.neutral,
                    sentiment_confidence=0.9,
                    intent=Intent.complaint if bad else Intent.other,
                    intent_confidence=0.9 if bad else 0.3,
                    needs_human=not bad,
                    model_version=self.version,
                )
            )
        return out


def test_evaluation_scores_each_task_on_the_rows_that_carry_its_label() -> None:
    labeled = read_labeled(E2E_FIXTURES / "labeled_with_bad_rows.csv")
    result = evaluate_classifier(KeywordClassifier(), labeled.examples, batch_size=3)
    sentiment, intent = result.reports["sentiment"], result.reports["intent"]
    # gold sentiment: negative, positive, neutral, neutral → predicted negative, neutral, neutral, neutral
    assert sentiment.accuracy == pytest.approx(3 / 4)
    assert sentiment.macro_recall == pytest.approx((1 + 0 + 1) / 3)
    assert sentiment.confusion["positive"]["neutral"] == 1
    assert intent.per_class["complaint"].recall == 1.0
    assert intent.per_class["question"].recall == 0.0
    assert result.needs_human == {"sentiment": 3, "intent": 3}
    rendered = result.render()
    assert "sentiment (4 texts, 3 flagged needs_human)" in rendered
    assert "confusion (rows gold, columns predicted)" in rendered


def bag_of_words(texts: Sequence[str]) -> Pooled:
    """Stand-in for the encoder: each word hashed to one of HIDDEN dimensions."""
    x = np.zeros((len(texts), HIDDEN), np.float32)
    for row, text in enumerate(texts):
        for word in text.lower().split():
            x[row, int(hashlib.md5(word.encode()).hexdigest(), 16) % HIDDEN] += 1.0
    return Pooled(x, x, x)


def shipped_fixture() -> ShippedData:
    rows = read_jsonl("retrain_shipped.jsonl")

    def part(name: str) -> list[Example]:
        return [Example(r["text"], r["label"], f"{name}-{i}") for i, r in enumerate(rows) if r["part"] == name]

    return ShippedData(part("sentiment_train"), part("sentiment_val"), part("intent_train"), part("intent_test"))


def zorbly_corrections(count: int) -> list[Correction]:
    """A new product whose name the shipped heads have never seen, every mention of it a complaint."""
    return [
        Correction(f"mention:{i}", f"zorbly blender number {i} again", sentiment="negative", intent="complaint")
        for i in range(count)
    ]


@pytest.fixture
def artifacts(tmp_path: Path) -> Path:
    """A copy of the shipped heads (without the encoder layers, which these tests do not run)."""
    folder = tmp_path / "shipped"
    folder.mkdir()
    for name in ("heads.npz", "meta.json"):
        shutil.copyfile(ARTIFACTS / name, folder / name)
    return folder


def test_the_held_out_share_of_corrections_is_fixed_by_their_keys() -> None:
    keys = [f"mention:{i}" for i in range(400)]
    held = [k for k in keys if split_for(k) == "heldout"]
    assert 50 < len(held) < 110  # about one in five
    assert held == [k for k in reversed(keys) if split_for(k) == "heldout"][::-1]


def test_retraining_learns_the_corrections_and_leaves_the_source_artifacts_alone(
    artifacts: Path, tmp_path: Path
) -> None:
    before = {p.name: p.read_bytes() for p in artifacts.iterdir()}
    corrections = zorbly_corrections(30)
    result = retrain_heads(
        corrections, tmp_path / "out", artifacts=artifacts, shipped=shipped_fixture(), featurize=bag_of_words
    )
    assert {p.name: p.read_bytes() for p in artifacts.iterdir()} == before
    held = [c for c in corrections if split_for(c.key) == "heldout"]
    assert (result.corrections_train, result.corrections_heldout) == (len(corrections) - len(held), len(held))
    assert held, "the fixture needs some held-out corrections"
    by_task = {c.task: c for c in result.changes}
    assert by_task["sentiment"].retrained and by_task["intent"].retrained
    for change, label in ((by_task["intent"], "complaint"), (by_task["sentiment"], "negative")):
        assert change.corrections_before is not None and change.corrections_after is not None
        # the shipped heads never saw 'zorbly' (and read these hashed word counts as noise): they find at most
        # some of the held-out zorbly mentions by chance; after retraining they find nearly all
        assert change.corrections_before.per_class[label].recall < 0.5, change.task
        assert change.corrections_after.per_class[label].recall >= 0.9, change.task
    meta = json.loads((tmp_path / "out" / "meta.json").read_text())
    assert meta["retrained"]["corrections_train"] == {
        "sentiment": result.corrections_train,
        "intent": result.corrections_train,
    }
    assert meta["model_version"] == result.model_version != json.loads(before["meta.json"])["model_version"]


def test_without_corrections_the_heads_are_kept_as_shipped(artifacts: Path, tmp_path: Path) -> None:
    result = retrain_heads([], tmp_path / "out", artifacts=artifacts, shipped=shipped_fixture(), featurize=bag_of_words)
    assert [c.retrained for c in result.changes] == [False, False]
    with np.load(artifacts / "heads.npz") as old, np.load(tmp_path / "out" / "heads.npz") as new:
        assert set(old.files) == set(new.files)
        for name in old.files:
            assert np.array_equal(old[name], new[name]), name
    for change in result.changes:
        assert change.heldout_before == change.heldout_after


def test_retraining_refuses_to_write_over_its_own_source(artifacts: Path) -> None:
    with pytest.raises(ValueError, match="is the source artifacts folder"):
        retrain_heads([], artifacts, artifacts=artifacts, shipped=shipped_fixture(), featurize=bag_of_words)


def test_install_replaces_the_heads_and_drops_encoder_layers_the_result_lacks(artifacts: Path, tmp_path: Path) -> None:
    (artifacts / "encoder_layers.safetensors").write_bytes(b"stale")
    out = tmp_path / "out"
    out.mkdir()
    (out / "heads.npz").write_bytes(b"new heads")
    (out / "meta.json").write_text("{}")
    install(out, artifacts)
    assert (artifacts / "heads.npz").read_bytes() == b"new heads"
    assert not (artifacts / "encoder_layers.safetensors").exists()


def test_a_correction_with_an_unknown_label_is_refused() -> None:
    with pytest.raises(ValueError, match="intent 'lead' is not one of"):
        Correction("mention:1", "text", intent="lead")
