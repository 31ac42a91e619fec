"""The per-language checks: enough rows in every language, every intent present, reproducible, and apart from
the training posts (a check a model was trained on would check nothing)."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from classifiers.labeled import read_labeled
from classifiers.multilingual import SUPPORTED
from classifiers.verdict import Intent, Sentiment
from training.data.multilingual import generate
from training.data.multilingual.templates import CHECK, TRAIN

ROOT = Path(__file__).resolve().parents[2]
FOLDER = ROOT / "classifiers" / "data" / "multilingual"
CHECKS = FOLDER / "checks"


def _rows(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


@pytest.mark.parametrize("language", SUPPORTED)
def test_every_language_has_at_least_150_checks_with_every_intent_and_sentiment_labels(language: str) -> None:
    rows = _rows(CHECKS / f"{language}.jsonl")
    assert len(rows) >= 150
    assert {r["language"] for r in rows} == {language}
    intents = Counter(str(r["intent"]) for r in rows)
    assert set(intents) == {i.value for i in Intent}
    assert min(intents.values()) >= 20
    assert {str(r["sentiment"]) for r in rows} <= {s.value for s in Sentiment}
    assert len({str(r["sentiment"]) for r in rows}) == 3
    assert all(r["synthetic"] is True for r in rows)
    assert len({r["text"] for r in rows}) == len(rows)


def test_the_check_files_are_exactly_the_supported_languages() -> None:
    assert sorted(p.stem for p in CHECKS.glob("*.jsonl")) == sorted(SUPPORTED)


def test_committed_checks_and_training_posts_equal_a_fresh_generation() -> None:
    checks, train = generate.generate()
    for language, content in checks.items():
        assert (CHECKS / f"{language}.jsonl").read_text(encoding="utf-8") == content
    assert (FOLDER / "train.jsonl").read_text(encoding="utf-8") == train


def test_checks_and_training_posts_share_no_template_and_no_text() -> None:
    for language in CHECK:
        for intent in CHECK[language]:
            assert not set(CHECK[language][intent]) & set(TRAIN[language][intent]), (language, intent)
    check_texts = {r["text"] for p in CHECKS.glob("*.jsonl") for r in _rows(p)}
    train_texts = {r["text"] for r in _rows(FOLDER / "train.jsonl")}
    assert check_texts and train_texts and not check_texts & train_texts


def test_a_check_file_reads_as_labeled_text_with_its_language() -> None:
    labeled = read_labeled(CHECKS / "de.jsonl")
    assert not labeled.problems
    assert labeled.tasks == ("sentiment", "intent")
    assert {e.language for e in labeled.examples} == {"de"}
