"""The shipped artifact read as a specification: what it must say about clear cases and bad input."""

from __future__ import annotations

import re

import pytest

from classifiers.model import ARTIFACTS, Thresholds, TransformerClassifier
from classifiers.verdict import Document, Intent, Sentiment
from tests.classifiers.cases import read_jsonl

QUOTED_WORDS = re.compile(r'words ((?:"[^"]*"(?:, )?)+)')


def quoted_words(reason: str) -> list[str]:
    match = QUOTED_WORDS.search(reason)
    return re.findall(r'"([^"]*)"', match.group(1)) if match else []


def test_artifacts_fit_the_25_mb_budget() -> None:
    total = sum(p.stat().st_size for p in ARTIFACTS.rglob("*") if p.is_file())  # the fast release included
    assert total <= 25 * 1024 * 1024, f"artifacts are {total / 2**20:.1f} MiB"


def test_clear_complaints_are_complaints(classifier: TransformerClassifier) -> None:
    cases = [c for c in read_jsonl("clear_cases.jsonl") if c["intent"] == "complaint"]
    verdicts = classifier.classify([Document(c["text"]) for c in cases])
    wrong = [(c["text"], v.intent) for c, v in zip(cases, verdicts, strict=True) if v.intent != Intent.complaint]
    assert not wrong


def test_clear_cases_get_the_expected_sentiment(classifier: TransformerClassifier) -> None:
    cases = [c for c in read_jsonl("clear_cases.jsonl") if "sentiment" in c]
    verdicts = classifier.classify([Document(c["text"]) for c in cases])
    wrong = [(c["text"], v.sentiment) for c, v in zip(cases, verdicts, strict=True) if v.sentiment != c["sentiment"]]
    assert len(wrong) <= 1, wrong


def test_star_ratings_decide_review_sentiment(classifier: TransformerClassifier) -> None:
    cases = read_jsonl("reviews.jsonl")
    verdicts = classifier.classify([Document(c["text"], rating=c["rating"]) for c in cases])
    for case, verdict in zip(cases, verdicts, strict=True):
        assert verdict.sentiment == case["sentiment"], case["text"]
        assert f"star rating {case['rating']}/5" in verdict.reasons


def test_one_star_outweighs_praising_words(classifier: TransformerClassifier) -> None:
    plain, rated = classifier.classify([Document("great product"), Document("great product", rating=1)])
    assert plain.sentiment == Sentiment.positive
    assert rated.sentiment != Sentiment.positive or rated.needs_human


def test_batching_gives_the_same_verdicts_as_one_by_one(classifier: TransformerClassifier) -> None:
    texts = [c["text"] for c in read_jsonl("clear_cases.jsonl")] + ["ok", "a " * 300 + "end"]
    batched = classifier.classify([Document(t) for t in texts])
    for text, together in zip(texts, batched, strict=True):
        (alone,) = classifier.classify([Document(text)])
        assert (alone.sentiment, alone.intent, alone.needs_human) == (
            together.sentiment,
            together.intent,
            together.needs_human,
        )
        assert alone.sentiment_confidence == pytest.approx(together.sentiment_confidence, abs=1e-3)
        assert alone.intent_confidence == pytest.approx(together.intent_confidence, abs=1e-3)


def test_reasons_quote_words_that_are_in_the_text(classifier: TransformerClassifier) -> None:
    cases = read_jsonl("clear_cases.jsonl")
    verdicts = classifier.classify([Document(c["text"]) for c in cases])
    quoted = 0
    for case, verdict in zip(cases, verdicts, strict=True):
        for reason in verdict.reasons:
            for word in quoted_words(reason):
                quoted += 1
                assert word.lower() in case["text"].lower(), (word, case["text"])
    assert quoted >= len(cases), "most verdicts should name the words that moved them"


def test_complaint_reasons_name_the_cue_phrases(classifier: TransformerClassifier) -> None:
    (verdict,) = classifier.classify([Document("Still waiting for my refund @BestBuy, 3 weeks now. Unacceptable.")])
    intent_reason = next(r for r in verdict.reasons if r.startswith("intent "))
    assert '"refund"' in intent_reason or verdict.intent != Intent.complaint


@pytest.mark.parametrize(
    "text",
    [
        "asdkjh qwpoeiru zxmcnvb lkjhgf",
        "xqzt vbnmrp wqlkj",
        "",
        "😀😀😀🔥",
        "https://t.co/abc123 https://bit.ly/x",
        "Привет, как дела у тебя сегодня",
    ],
)
def test_unreadable_text_needs_a_human_with_a_reason(classifier: TransformerClassifier, text: str) -> None:
    (verdict,) = classifier.classify([Document(text)])
    assert verdict.needs_human
    assert any(r.startswith("needs a human:") for r in verdict.reasons)
    assert verdict.intent == Intent.other


def test_over_long_post_is_truncated_and_says_so(classifier: TransformerClassifier) -> None:
    (verdict,) = classifier.classify([Document("the service was slow and rude. " * 1000)])
    assert any(r.startswith("truncated:") for r in verdict.reasons)


def test_invalid_surrogates_are_repaired_not_fatal(classifier: TransformerClassifier) -> None:
    (verdict,) = classifier.classify([Document("battery died \ud83d again")])
    assert "invalid UTF-16 surrogates replaced" in verdict.reasons


def test_text_that_is_not_a_string_is_a_clear_error(classifier: TransformerClassifier) -> None:
    with pytest.raises(TypeError, match=r"Document\.text must be str"):
        classifier.classify([Document(None)])  # type: ignore[arg-type]  # deliberately not a str: the refusal is tested


def test_rating_outside_zero_to_five_is_a_clear_error(classifier: TransformerClassifier) -> None:
    with pytest.raises(ValueError, match="from 0 to 5"):
        classifier.classify([Document("fine", rating=7)])


def test_empty_batch_gives_no_verdicts(classifier: TransformerClassifier) -> None:
    assert classifier.classify([]) == []


def test_stricter_thresholds_send_more_to_humans_and_change_the_version(classifier: TransformerClassifier) -> None:
    strict = TransformerClassifier(
        classifier.encoder, thresholds=Thresholds(sentiment=0.999, intent=dict.fromkeys(Intent, 0.999))
    )
    docs = [Document(c["text"]) for c in read_jsonl("clear_cases.jsonl")]
    assert all(v.needs_human for v in strict.classify(docs))
    assert strict.version != classifier.version
    assert sum(v.needs_human for v in classifier.classify(docs)) < len(docs)


def test_every_verdict_names_the_model_that_made_it(classifier: TransformerClassifier) -> None:
    (verdict,) = classifier.classify([Document("hello")])
    assert verdict.model_version == classifier.version
    assert verdict.model_version.startswith(classifier.meta["model_version"])


def test_reasons_quote_whole_words_and_phrases_not_word_pieces(classifier: TransformerClassifier) -> None:
    """A reader checks a verdict against the post: "doesn't", never the pieces 'doesn', 't'."""
    texts = [
        "@LumoraHelp my order still hasn't arrived and the app doesn't load, charged twice for it",
        "the new update is awesome, couldn't be happier with it",
    ]
    for text, verdict in zip(texts, classifier.classify([Document(t) for t in texts]), strict=True):
        quoted = [q for reason in verdict.reasons for q in quoted_words(reason)]
        assert quoted, verdict.reasons
        for phrase in quoted:
            assert phrase in text, (phrase, text)
            assert phrase.strip("'") == phrase and phrase not in {"t", "doesn", "hasn", "couldn"}


def test_a_question_written_to_a_brand_account_says_the_verdict_rests_on_that(
    classifier: TransformerClassifier,
) -> None:
    (verdict,) = classifier.classify([Document("@LumoraHelp how do I reset the hub after a power cut?")])
    intent_reason = next(r for r in verdict.reasons if r.startswith("intent "))
    if verdict.intent in (Intent.question, Intent.complaint):
        assert "context: written to @LumoraHelp" in intent_reason
    assert verdict.intent != Intent.other
