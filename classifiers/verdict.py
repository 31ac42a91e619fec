"""What a classifier says about one text: sentiment, intent, confidence and checkable reasons."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from pydantic import BaseModel, ConfigDict, Field


class Sentiment(StrEnum):
    negative = "negative"
    neutral = "neutral"
    positive = "positive"


class Intent(StrEnum):
    """What the author wants. A complaint is a grievance needing a response, not merely negative tone."""

    complaint = "complaint"
    purchase_intent = "purchase_intent"  # a sales lead
    question = "question"  # a support request
    praise = "praise"
    other = "other"


class Verdict(BaseModel):
    """A classifier's reading of one text."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    sentiment: Sentiment
    sentiment_confidence: float = Field(ge=0, le=1, description="Probability of the chosen sentiment (0–1).")
    intent: Intent
    intent_confidence: float = Field(ge=0, le=1, description="Probability of the chosen intent (0–1).")
    needs_human: bool = Field(default=False, description="True when confidence is below the model's thresholds.")
    reasons: tuple[str, ...] = Field(
        default=(), description="Evidence a person can check, e.g. \"words: 'refund', 'broken'\"."
    )
    model_version: str = Field(description="Identifier of the model and thresholds that produced this verdict.")


@dataclass(frozen=True)
class Document:
    """What a classifier reads: the text, plus a review's star rating (0–5) when there is one."""

    text: str
    rating: float | None = None
    language: str | None = None


class Classifier(Protocol):
    """Reads a batch of documents and returns one verdict per document, in order."""

    version: str

    def classify(self, documents: Sequence[Document]) -> list[Verdict]: ...
