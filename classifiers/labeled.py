"""Labeled texts from a user's file (CSV or JSONL), and the figures a classifier scores on them.

A file needs a ``text`` column and at least one of ``sentiment`` and ``intent``; ``rating`` (stars, 0–5) and
``language`` (the language the row is written in, ISO 639-1, for figures per language) are read when present. A row that cannot be used is reported with its row number and why, and the rest are
still evaluated: one bad line in a thousand should not cost the other 999.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from classifiers.metrics import Report, evaluate
from classifiers.verdict import Classifier, Document, Intent, Sentiment, Verdict

SENTIMENT_LABELS: tuple[str, ...] = tuple(s.value for s in Sentiment)
INTENT_LABELS: tuple[str, ...] = tuple(i.value for i in Intent)
TASKS = ("sentiment", "intent")
_TWEETEVAL_SENTIMENT = {"0": "negative", "1": "neutral", "2": "positive"}


class LabeledFileError(ValueError):
    """The file as a whole cannot be read as labeled texts (unknown format, no text column, no label column)."""


@dataclass(frozen=True)
class LabeledText:
    """One usable row: the text, its gold labels (``None`` where the row gives none) and a star rating."""

    row: int
    """Row number as a person counts it: CSV header is row 1, first data row row 2; JSONL line number."""
    text: str
    sentiment: str | None
    intent: str | None
    rating: float | None = None
    language: str | None = None
    """The language the row is written in (the file's ``language`` column), for figures per language; which
    model reads the row is decided by detecting the language of its text, as for a collected mention."""


@dataclass(frozen=True)
class RowProblem:
    """A row left out of the evaluation, and why."""

    row: int
    reason: str


@dataclass(frozen=True)
class LabeledFile:
    """What a labeled file held: usable rows, rejected rows, and which label columns it has."""

    examples: list[LabeledText]
    problems: list[RowProblem] = field(default_factory=list)
    tasks: tuple[str, ...] = ()


def read_labeled(path: Path) -> LabeledFile:
    """Read a ``.csv`` or ``.jsonl`` file of labeled texts. Raises LabeledFileError for file-level problems."""
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".jsonl", ".ndjson"):
        raise LabeledFileError(f"{path}: expected a .csv or .jsonl file, got '{suffix or 'no extension'}'")
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise LabeledFileError(f"{path}: {exc.strerror or exc}") from exc
    # Invalid UTF-8 is repaired (U+FFFD), not fatal: the classifier copes with odd text, and the row still counts.
    content = raw.decode("utf-8-sig", errors="replace")
    records = _csv_records(path, content) if suffix == ".csv" else list(_jsonl_records(content))
    examples: list[LabeledText] = []
    problems: list[RowProblem] = []
    seen_columns: set[str] = set()
    for row, record in records:
        if isinstance(record, str):
            problems.append(RowProblem(row, record))
            continue
        seen_columns.update(k for k, v in record.items() if v not in (None, ""))
        example = _example(row, record)
        if isinstance(example, str):
            problems.append(RowProblem(row, example))
        else:
            examples.append(example)
    tasks = tuple(t for t in TASKS if t in seen_columns)
    if suffix == ".csv" and not tasks:
        raise LabeledFileError(f"{path}: no 'sentiment' or 'intent' column; nothing to evaluate against")
    if not examples and not problems:
        raise LabeledFileError(f"{path}: no rows")
    return LabeledFile(examples=examples, problems=problems, tasks=tasks)


def _csv_records(path: Path, content: str) -> list[tuple[int, dict[str, Any] | str]]:
    reader = csv.reader(io.StringIO(content, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        raise LabeledFileError(f"{path}: the file is empty") from None
    columns = [c.strip().lower() for c in header]
    if "text" not in columns:
        raise LabeledFileError(f"{path}: no 'text' column (columns: {', '.join(columns) or 'none'})")
    out: list[tuple[int, dict[str, Any] | str]] = []
    try:
        for number, cells in enumerate(reader, start=2):
            if not any(c.strip() for c in cells):
                continue  # blank line
            if len(cells) > len(columns):
                out.append((number, f"{len(cells)} cells but the header names {len(columns)} columns"))
                continue
            out.append((number, dict(zip(columns, cells, strict=False))))
    except csv.Error as exc:
        out.append((reader.line_num, f"unreadable CSV: {exc}"))
    return out


def _jsonl_records(content: str) -> Iterator[tuple[int, dict[str, Any] | str]]:
    for number, line in enumerate(content.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            yield number, f"not valid JSON ({exc.msg} at column {exc.colno})"
            continue
        if not isinstance(record, dict):
            yield number, f"expected a JSON object, got {type(record).__name__}"
            continue
        yield number, {str(k).strip().lower(): v for k, v in record.items()}


def _label(value: Any, known: Sequence[str], column: str) -> str | None:
    """The normalised label, None when absent; raises ValueError naming the column for an unknown one."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    text = str(value).strip().lower().replace("-", "_").replace(" ", "_")
    if column == "sentiment":
        text = _TWEETEVAL_SENTIMENT.get(text, text)
    if text not in known:
        raise ValueError(f"{column} {value!r} is not one of {', '.join(known)}")
    return text


def _example(row: int, record: dict[str, Any]) -> LabeledText | str:
    """A usable row, or why it is not usable."""
    text = record.get("text")
    if not isinstance(text, str):
        return "no text" if text is None else f"text must be a string, got {type(text).__name__}"
    if not text.strip():
        return "empty text"
    try:
        sentiment = _label(record.get("sentiment"), SENTIMENT_LABELS, "sentiment")
        intent = _label(record.get("intent"), INTENT_LABELS, "intent")
    except ValueError as exc:
        return str(exc)
    if sentiment is None and intent is None:
        return "no sentiment or intent label"
    rating = record.get("rating")
    if rating in (None, ""):
        stars = None
    else:
        try:
            stars = float(rating)
        except (TypeError, ValueError):
            return f"rating {rating!r} is not a number"
        if not (math.isfinite(stars) and 0 <= stars <= 5):
            return f"rating {rating!r} is not a number of stars from 0 to 5"
    language = record.get("language")
    if language is not None and not isinstance(language, str):
        return f"language must be a string, got {type(language).__name__}"
    language = (language.strip().lower() or None) if language else None
    return LabeledText(row=row, text=text, sentiment=sentiment, intent=intent, rating=stars, language=language)


@dataclass(frozen=True)
class Evaluation:
    """A classifier's figures on a labeled set, per task; ``needs_human`` counts verdicts flagged for a person."""

    reports: dict[str, Report]
    needs_human: dict[str, int]

    def render(self) -> str:
        parts = []
        for task, report in self.reports.items():
            n = sum(s.support for s in report.per_class.values())
            parts.append(f"{task} ({n} texts, {self.needs_human[task]} flagged needs_human)\n{report.render()}")
        return "\n\n".join(parts)


def evaluate_classifier(
    classifier: Classifier,
    examples: Sequence[LabeledText],
    batch_size: int = 64,
    detect: Callable[[str], str | None] | None = None,
) -> Evaluation:
    """Classify every example once and score each task on the rows that carry its label.

    ``detect`` names each text's language as the pipeline would (it decides which model reads it); without it
    documents carry no language, as before.
    """
    if not examples:
        raise ValueError("nothing to evaluate: no usable labeled rows")
    return score(examples, classify_examples(classifier, examples, batch_size, detect))


def classify_examples(
    classifier: Classifier,
    examples: Sequence[LabeledText],
    batch_size: int = 64,
    detect: Callable[[str], str | None] | None = None,
) -> list[Verdict]:
    """One verdict per example, in order, each document carrying the language ``detect`` names."""
    verdicts: list[Verdict] = []
    for start in range(0, len(examples), batch_size):
        chunk = examples[start : start + batch_size]
        verdicts += classifier.classify(
            [Document(e.text, rating=e.rating, language=detect(e.text) if detect else None) for e in chunk]
        )
    return verdicts


def score(examples: Sequence[LabeledText], verdicts: Sequence[Verdict]) -> Evaluation:
    """The figures of ``verdicts`` (one per example, in order) against the examples' labels."""
    reports: dict[str, Report] = {}
    flagged: dict[str, int] = {}
    for task, labels in (("sentiment", SENTIMENT_LABELS), ("intent", INTENT_LABELS)):
        pairs = [(getattr(e, task), v) for e, v in zip(examples, verdicts, strict=True) if getattr(e, task)]
        if pairs:
            reports[task] = evaluate([g for g, _ in pairs], [str(getattr(v, task)) for _, v in pairs], labels)
            flagged[task] = sum(v.needs_human for _, v in pairs)
    return Evaluation(reports=reports, needs_human=flagged)


@dataclass(frozen=True)
class LanguageFigures:
    """The triage figures of one language's rows: how often its language was detected, and the scores."""

    language: str
    rows: int
    detected: int
    """Rows whose detected language was the row's own (the rest were read as English/unknown or another)."""
    evaluation: Evaluation

    def line(self) -> str:
        intent = self.evaluation.reports.get("intent")
        sentiment = self.evaluation.reports.get("sentiment")
        cells = [f"{self.language:<5}", f"{self.rows:>5}", f"{self.detected / self.rows:>9.3f}"]
        if intent is not None:
            cells += [
                f"{intent.accuracy:>8.3f}",
                f"{intent.macro_f1:>9.3f}",
                f"{intent.per_class['complaint'].recall:>10.3f}",
                f"{intent.per_class['purchase_intent'].recall:>10.3f}",
            ]
        else:
            cells += [f"{'-':>8}", f"{'-':>9}", f"{'-':>10}", f"{'-':>10}"]
        if sentiment is not None:
            cells += [f"{sentiment.accuracy:>8.3f}", f"{sentiment.macro_f1:>9.3f}"]
        else:
            cells += [f"{'-':>8}", f"{'-':>9}"]
        flagged = self.evaluation.needs_human.get("intent", self.evaluation.needs_human.get("sentiment", 0))
        cells.append(f"{flagged / self.rows:>8.3f}")
        return " ".join(cells)


LANGUAGE_HEADER = (
    f"{'lang':<5} {'rows':>5} {'detected':>9} {'int.acc':>8} {'int.mF1':>9} {'compl.rec':>10} {'purch.rec':>10} "
    f"{'sent.acc':>8} {'sent.mF1':>9} {'flagged':>8}"
)


def figures_by_language(
    examples: Sequence[LabeledText], verdicts: Sequence[Verdict], detected: Sequence[str | None]
) -> list[LanguageFigures]:
    """Figures per language of the examples that name one (the ``language`` column), from their verdicts and
    the languages detected for them (which decided the model that read each)."""
    out = []
    for language in sorted({str(e.language) for e in examples if e.language}):
        index = [i for i, e in enumerate(examples) if e.language == language]
        out.append(
            LanguageFigures(
                language=language,
                rows=len(index),
                detected=sum(detected[i] == language for i in index),
                evaluation=score([examples[i] for i in index], [verdicts[i] for i in index]),
            )
        )
    return out
