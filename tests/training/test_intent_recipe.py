"""The intent recipe's parts that need no encoder: the training sets by name, the triage objective, and a CV that
holds out real rows only."""

from __future__ import annotations

import numpy as np
import pytest

from classifiers.refit.intent_sources import AUGMENTATION, augmentation, parse_weights, support_set
from classifiers.verdict import Intent
from training.intent import RECALL_TARGETS, Augmentation, fit_offsets, objective_score, out_of_fold

LABELS = [i.value for i in Intent]


def test_every_training_only_set_loads_with_known_intents_and_normalised_text() -> None:
    for name in AUGMENTATION:
        rows = augmentation(name)
        assert len(rows) > 1000, name
        assert {row.label for row in rows} <= set(LABELS), name
        assert not any("http://" in row.text or "https://" in row.text for row in rows[:2000]), name
    assert {row.label for row in augmentation("synthetic")} == set(LABELS)


def test_augmentation_weights_are_read_by_name_and_an_unknown_set_is_named_in_the_error() -> None:
    assert parse_weights("synthetic:1,nlupp:0.5, hint3") == {"synthetic": 1.0, "nlupp": 0.5, "hint3": 1.0}
    assert parse_weights("") == {}
    with pytest.raises(ValueError, match="'tweets' is not one of banking77, nlupp, hint3, bitext, synthetic"):
        parse_weights("tweets:1")
    with pytest.raises(ValueError, match="unknown support set 'imdb'"):
        support_set("imdb")


def test_the_triage_objective_prefers_finding_complaints_to_keeping_the_queue_short() -> None:
    gold = np.array([0] * 10 + [4] * 90)  # 10 complaints among 100 posts
    careful = np.array([0] * 5 + [4] * 5 + [4] * 90)  # finds 5, no false alarm
    eager = np.array([0] * 9 + [4] * 1 + [0] * 8 + [4] * 82)  # finds 9, 8 false alarms
    assert objective_score(gold, eager, LABELS, "triage") > objective_score(gold, careful, LABELS, "triage")
    assert objective_score(gold, eager, LABELS, "macro_f1") > 0
    with pytest.raises(ValueError, match="objective 'accuracy' is not one of triage, macro_f1, recall_targets"):
        objective_score(gold, eager, LABELS, "accuracy")


def test_offsets_chosen_for_triage_raise_complaint_recall() -> None:
    rng = np.random.default_rng(3)
    gold = [LABELS[0]] * 40 + [LABELS[4]] * 360
    log_p = np.log(np.full((400, 5), 0.01))
    signal = np.r_[rng.normal(0.8, 1.0, 40), rng.normal(-0.8, 1.0, 360)]
    log_p[:, 0], log_p[:, 4] = signal - 1.0, 0.0  # complaints score higher, but mostly under "other"
    y = np.array([LABELS.index(g) for g in gold])
    recall = {}
    for objective in ("macro_f1", "triage"):
        predicted = (log_p + fit_offsets(log_p, gold, LABELS, objective)).argmax(1)
        recall[objective] = float(((predicted == 0) & (y == 0)).sum() / 40)
    assert recall["triage"] >= recall["macro_f1"]
    assert recall["triage"] >= 0.6


def test_recall_target_offsets_reach_each_target_at_the_highest_precision_that_does() -> None:
    rng = np.random.default_rng(5)
    gold = [LABELS[0]] * 40 + [LABELS[1]] * 40 + [LABELS[4]] * 320
    y = np.array([LABELS.index(g) for g in gold])
    log_p = np.log(np.full((400, 5), 0.01))
    log_p[:, 0] = np.r_[rng.normal(0.5, 1.0, 40), rng.normal(-1.0, 1.0, 360)] - 1.5
    log_p[:, 1] = np.r_[np.full(40, -9.0), rng.normal(0.5, 1.0, 40), rng.normal(-1.0, 1.0, 320)] - 1.5
    log_p[:, 4] = 0.0
    offsets = fit_offsets(log_p, gold, LABELS, "recall_targets")
    predicted = (log_p + offsets).argmax(1)
    for label, target in RECALL_TARGETS.items():
        k = LABELS.index(label)
        assert ((predicted == k) & (y == k)).sum() / (y == k).sum() >= target, label
        lower = offsets.copy()
        lower[k] -= 0.2  # one grid step down no longer reaches the target: no precision was given away
        found = ((lower + log_p).argmax(1) == k) & (y == k)
        assert found.sum() / (y == k).sum() < target, label


def test_cross_validation_scores_real_rows_only_and_learns_from_the_training_only_rows() -> None:
    rng = np.random.default_rng(7)
    x = rng.normal(size=(100, 4))
    y = np.array([0, 4] * 50)
    x[y == 0, 0] += 0.3  # a weak signal in the real rows
    extra_x = rng.normal(size=(400, 4))
    extra_y = np.array([0, 4] * 200)
    extra_x[extra_y == 0, 0] += 3.0  # the same signal, strong, in the training-only rows
    plain = out_of_fold(x, y, 5, c=1.0)
    helped = out_of_fold(x, y, 5, c=1.0, extra=Augmentation(extra_x, extra_y, np.ones(400)))
    assert plain.shape == helped.shape == (100, 5)  # one row per real post: training-only rows are never scored

    def accuracy(log_p: np.ndarray) -> float:
        return float((log_p[:, [0, 4]].argmax(1) * 4 == y).mean())

    assert accuracy(helped) >= accuracy(plain)
