"""Text preparation and evaluation figures: pure functions, no model."""

from __future__ import annotations

import pytest

from classifiers.cues import find_cues
from classifiers.metrics import evaluate
from classifiers.model import Thresholds
from classifiers.text import MAX_CHARS, normalise_tweet, prepare
from classifiers.verdict import Intent


def test_tweets_are_normalised_like_tweeteval() -> None:
    assert normalise_tweet("@Delta thanks!! &amp; see https://t.co/x1 you") == "@user thanks!! & see you"


def test_email_addresses_are_not_taken_for_handles() -> None:
    assert normalise_tweet("mail me at bob@example.com") == "mail me at bob@example.com"


def test_long_text_is_cut_at_a_word_boundary_and_the_cut_recorded() -> None:
    prepared = prepare("word " * 1000)
    assert len(prepared.text) <= MAX_CHARS
    assert prepared.text.endswith("word")
    assert prepared.notes == (f"truncated: read the first {MAX_CHARS - 1} of 5000 characters",)


def test_cues_match_whole_phrases_only() -> None:
    assert find_cues("Still waiting for my refund") == {Intent.complaint: ["refund", "still waiting"]}
    assert Intent.complaint not in find_cues("refunded quickly, thanks")


def test_evaluation_figures_match_a_hand_count() -> None:
    report = evaluate(["a", "a", "b", "b"], ["a", "b", "b", "b"], ["a", "b"])
    assert report.accuracy == 0.75
    assert report.per_class["a"].recall == 0.5
    assert report.per_class["b"].precision == pytest.approx(2 / 3)
    assert report.macro_recall == 0.75
    assert report.confusion["a"] == {"a": 1, "b": 1}


def test_evaluation_refuses_mismatched_lengths() -> None:
    with pytest.raises(ValueError, match="2 gold labels but 1 predictions"):
        evaluate(["a", "b"], ["a"])


def test_thresholds_from_config_name_the_bad_key() -> None:
    with pytest.raises(ValueError, match=r"classifier\.thresholds\.intent: 'lead' is not one of complaint"):
        Thresholds.from_config(0.5, {"lead": 0.5}, where="classifier.thresholds")
    with pytest.raises(ValueError, match=r"intent\.complaint: 1\.5 is not a probability"):
        Thresholds.from_config(0.5, {"complaint": 1.5})
    assert Thresholds.from_config(0.6, {"complaint": 0.7}).intent == {Intent.complaint: 0.7}
