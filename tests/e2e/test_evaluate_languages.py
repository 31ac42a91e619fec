"""`overheard evaluate` on files with a language column prints the triage figures per language, each row read by
the model its detected language chooses."""

from __future__ import annotations

import json
from pathlib import Path

from tests.e2e.cli import overheard

CHECKS = Path(__file__).resolve().parents[2] / "classifiers" / "data" / "multilingual" / "checks"


def _sample(language: str, per_intent: int) -> list[dict[str, object]]:
    rows = [json.loads(line) for line in (CHECKS / f"{language}.jsonl").read_text(encoding="utf-8").splitlines()]
    out: list[dict[str, object]] = []
    for intent in ("complaint", "purchase_intent", "question", "praise", "other"):
        out += [r for r in rows if r["intent"] == intent][:per_intent]
    return out


def test_evaluate_prints_accuracy_macro_f1_and_triage_recalls_per_language(tmp_path: Path) -> None:
    german, dutch = tmp_path / "de.jsonl", tmp_path / "nl.jsonl"
    german.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in _sample("de", 2)), encoding="utf-8")
    dutch.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in _sample("nl", 2)), encoding="utf-8")
    result = overheard("evaluate", str(german), str(dutch), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert out.count("10 rows evaluated, 0 rejected") == 2
    assert "(English and unknown)" in out and "(other languages)" in out
    table = out.split("per language (20 rows with a language column")[1].splitlines()
    header = table[1].split()
    assert header[:7] == ["lang", "rows", "detected", "int.acc", "int.mF1", "compl.rec", "purch.rec"]
    lines = {line.split()[0]: line.split() for line in table[2:] if line.strip()}
    assert set(lines) == {"de", "nl"}
    for cells in lines.values():
        assert cells[1] == "10"
        assert float(cells[2]) == 1.0  # every row's language detected, so the multilingual path read it
        assert float(cells[5]) >= 0.5  # complaint recall: the English model alone scores 0.0 here
