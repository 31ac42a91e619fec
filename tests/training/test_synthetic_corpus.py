"""The synthetic intent corpus is reproducible from its seed and holds the shape the brief and GUIDE.md ask for."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from classifiers.verdict import Intent, Sentiment
from training.data.intent.synthetic import generate

ROOT = Path(__file__).resolve().parents[2]
COMMITTED = ROOT / "classifiers" / "data" / "intent" / "synthetic" / "posts.jsonl"
STYLES = {"x", "mastodon", "bluesky", "reddit", "review", "hn"}


@pytest.fixture(scope="module")
def rows() -> list[dict[str, object]]:
    return [json.loads(line) for line in COMMITTED.read_text(encoding="utf-8").splitlines()]


def test_committed_corpus_equals_a_fresh_generation_byte_for_byte() -> None:
    fresh = generate.render(generate.generate(generate.DEFAULT_SEED))
    assert COMMITTED.read_bytes() == fresh.encode("utf-8")


def test_two_runs_under_different_hash_seeds_write_identical_files(tmp_path: Path) -> None:
    outputs = []
    for hash_seed in ("1", "2"):
        out = tmp_path / f"posts-{hash_seed}.jsonl"
        env = {**os.environ, "PYTHONHASHSEED": hash_seed, "PYTHONPATH": str(ROOT)}
        command = [sys.executable, "-m", "training.data.intent.synthetic.generate", "--out", str(out)]
        subprocess.run(command, cwd=ROOT, env=env, check=True, capture_output=True)
        outputs.append(out.read_bytes())
    assert outputs[0] == outputs[1]


def test_corpus_has_at_least_12000_rows_over_30_industries(rows: list[dict[str, object]]) -> None:
    assert len(rows) >= 12_000
    assert len({r["industry"] for r in rows}) >= 30


def test_every_intent_is_at_least_a_tenth_and_labels_are_the_classifiers_own(rows: list[dict[str, object]]) -> None:
    intents = Counter(r["intent"] for r in rows)
    assert set(intents) == {i.value for i in Intent}
    assert all(count >= 0.10 * len(rows) for count in intents.values()), intents
    assert {r["sentiment"] for r in rows} <= {s.value for s in Sentiment}


def test_every_style_is_present(rows: list[dict[str, object]]) -> None:
    assert {r["style"] for r in rows} == STYLES


def test_ids_are_unique_and_texts_are_not_repeated(rows: list[dict[str, object]]) -> None:
    assert len({r["id"] for r in rows}) == len(rows)
    assert len({r["text"] for r in rows}) == len(rows)


def test_every_row_is_marked_synthetic_with_a_kind_and_fits_in_500_chars(rows: list[dict[str, object]]) -> None:
    assert all(r["synthetic"] is True for r in rows)
    assert all(r["kind"] for r in rows)
    assert all(0 < len(str(r["text"])) <= 500 for r in rows)


def test_no_slot_is_left_unfilled(rows: list[dict[str, object]]) -> None:
    assert not [r["text"] for r in rows if "{" in str(r["text"]) or "}" in str(r["text"])]


def test_readme_counts_are_the_generators_own() -> None:
    readme = (COMMITTED.parent / "README.md").read_text(encoding="utf-8")
    section = readme.split("<!-- stats -->\n", 1)[1].split("<!-- /stats -->", 1)[0]
    assert section == generate.stats(generate.generate(generate.DEFAULT_SEED))
