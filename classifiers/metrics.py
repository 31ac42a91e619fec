"""Evaluation figures for labeled predictions: macro-recall, per-class P/R/F1, confusion matrix."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class ClassScores:
    precision: float
    recall: float
    f1: float
    support: int


@dataclass(frozen=True)
class Report:
    """Figures for one labeled set; ``confusion[gold][predicted]`` counts texts."""

    labels: tuple[str, ...]
    accuracy: float
    macro_recall: float
    macro_f1: float
    per_class: dict[str, ClassScores]
    confusion: dict[str, dict[str, int]]

    def render(self) -> str:
        lines = [f"accuracy {self.accuracy:.4f}  macro-recall {self.macro_recall:.4f}  macro-F1 {self.macro_f1:.4f}"]
        lines.append(f"{'class':<16}{'prec':>7}{'rec':>7}{'f1':>7}{'n':>6}")
        for label in self.labels:
            s = self.per_class[label]
            lines.append(f"{label:<16}{s.precision:7.3f}{s.recall:7.3f}{s.f1:7.3f}{s.support:6d}")
        lines.append("confusion (rows gold, columns predicted): " + " ".join(self.labels))
        for gold in self.labels:
            lines.append(f"{gold:<16}" + "".join(f"{self.confusion[gold][p]:6d}" for p in self.labels))
        return "\n".join(lines)


def evaluate(gold: Sequence[str], predicted: Sequence[str], labels: Sequence[str] | None = None) -> Report:
    if len(gold) != len(predicted):
        raise ValueError(f"{len(gold)} gold labels but {len(predicted)} predictions")
    if not gold:
        raise ValueError("nothing to evaluate: no labeled examples")
    names = tuple(labels) if labels else tuple(sorted(set(gold) | set(predicted)))
    confusion = {g: dict.fromkeys(names, 0) for g in names}
    for g, p in zip(gold, predicted, strict=True):
        confusion.setdefault(g, dict.fromkeys(names, 0))[p] = confusion.get(g, {}).get(p, 0) + 1
    per_class = {}
    for label in names:
        tp = confusion[label][label]
        support = sum(confusion[label].values())
        predicted_n = sum(row[label] for row in confusion.values())
        precision = tp / predicted_n if predicted_n else 0.0
        recall = tp / support if support else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per_class[label] = ClassScores(precision, recall, f1, support)
    present = [label for label in names if per_class[label].support]
    return Report(
        labels=names,
        accuracy=sum(g == p for g, p in zip(gold, predicted, strict=True)) / len(gold),
        macro_recall=sum(per_class[label].recall for label in present) / len(present),
        macro_f1=sum(per_class[label].f1 for label in present) / len(present),
        per_class=per_class,
        confusion=confusion,
    )
