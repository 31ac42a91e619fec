"""A fast stand-in for the shipped model in worker processes under test: keyword cues, a fixed delay.

Loading the real model takes about ten seconds per process; a test that SIGKILLs workers dozens of
times would spend minutes loading it. Workers load this one through OVERHEARD_CLASSIFIER, and the
delay (OVERHEARD_TEST_CLASSIFY_DELAY_S per batch) keeps a batch in flight long enough to be killed.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Sequence

from classifiers.verdict import Document, Intent, Sentiment, Verdict

_CUES: tuple[tuple[Intent, Sentiment, re.Pattern[str]], ...] = (
    (
        Intent.complaint,
        Sentiment.negative,
        re.compile(r"refund|broke|broken|dead|worst|stopped|fail|disconnect|again", re.I),
    ),
    (Intent.purchase_intent, Sentiment.neutral, re.compile(r"buy|price|worth|recommend|quote|order|plan", re.I)),
    (Intent.question, Sentiment.neutral, re.compile(r"\?")),
    (Intent.praise, Sentiment.positive, re.compile(r"love|great|amazing|thanks|perfect", re.I)),
)


class KeywordClassifier:
    """Deterministic verdicts from keyword cues; confident enough that routing rules apply."""

    version = "keyword-test-1"

    def __init__(self, delay_s: float = 0.0) -> None:
        self.delay_s = delay_s

    def classify(self, documents: Sequence[Document]) -> list[Verdict]:
        time.sleep(self.delay_s)
        return [self._one(d) for d in documents]

    def _one(self, document: Document) -> Verdict:
        intent, sentiment = Intent.other, Sentiment.neutral
        for cue_intent, cue_sentiment, pattern in _CUES:
            if pattern.search(document.text):
                intent, sentiment = cue_intent, cue_sentiment
                break
        return Verdict(
            sentiment=sentiment,
            sentiment_confidence=0.9,
            intent=intent,
            intent_confidence=0.9,
            reasons=(f"keyword cue for {intent.value}",),
            model_version=self.version,
        )


def load() -> KeywordClassifier:
    return KeywordClassifier(float(os.environ.get("OVERHEARD_TEST_CLASSIFY_DELAY_S", "0")))
