"""Triage corrections read back as labeled texts, for retraining the classifier (``overheard train``)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, select

from storage.schema import leads, mentions, triage_feedback, verdicts


@dataclass(frozen=True)
class LabeledMention:
    """A mention's text with the latest labels a person gave it (``None`` where nobody corrected that label)."""

    mention_id: int
    text: str
    rating: float | None
    human_sentiment: str | None
    human_intent: str | None
    corrected_by: str
    """Actor of the latest correction."""


def labeled_mentions(connection: Connection) -> list[LabeledMention]:
    """Every mention a person relabelled, with the latest sentiment and intent each got, in mention order.

    Sentiment and intent are taken separately: relabelling only the intent later keeps an earlier sentiment
    correction. Erased mentions are gone with their feedback (the foreign key cascades).
    """
    rows = connection.execute(
        select(
            triage_feedback.c.mention_id,
            triage_feedback.c.human_sentiment,
            triage_feedback.c.human_intent,
            triage_feedback.c.actor,
            mentions.c.text,
            mentions.c.rating,
        )
        .join(mentions, mentions.c.id == triage_feedback.c.mention_id)
        .where(
            triage_feedback.c.action == "relabel",
            (triage_feedback.c.human_sentiment.is_not(None)) | (triage_feedback.c.human_intent.is_not(None)),
        )
        .order_by(triage_feedback.c.mention_id, triage_feedback.c.id)
    )
    latest: dict[int, LabeledMention] = {}
    for row in rows:
        earlier = latest.get(row.mention_id)
        latest[row.mention_id] = LabeledMention(
            mention_id=row.mention_id,
            text=row.text,
            rating=row.rating,
            human_sentiment=row.human_sentiment or (earlier.human_sentiment if earlier else None),
            human_intent=row.human_intent or (earlier.human_intent if earlier else None),
            corrected_by=row.actor,
        )
    return list(latest.values())


@dataclass(frozen=True)
class LeadDismissal:
    """A mention sales said is not a lead, and why: a negative example for purchase intent, with its reason."""

    mention_id: int
    text: str
    model_intent: str | None
    reason: str
    dismissed_by: str


def lead_dismissals(connection: Connection) -> list[LeadDismissal]:
    """Every dismissed lead with its reason, in mention order (erased mentions are gone with their lead)."""
    rows = connection.execute(
        select(leads.c.mention_id, leads.c.dismiss_reason, leads.c.decided_by, mentions.c.text, verdicts.c.intent)
        .join(mentions, mentions.c.id == leads.c.mention_id)
        .outerjoin(verdicts, verdicts.c.mention_id == leads.c.mention_id)
        .where(leads.c.state == "dismissed", leads.c.dismiss_reason.is_not(None))
        .order_by(leads.c.mention_id)
    )
    return [LeadDismissal(r.mention_id, r.text, r.intent, r.dismiss_reason, r.decided_by or "") for r in rows]
