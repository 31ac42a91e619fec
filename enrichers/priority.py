"""Priority: which routed mention to answer first, as a 0–100 score made of named parts, and when it is due.

The score adds up to five parts, each capped at its configured points (`PriorityConfig`, the `priority:` section
of overheard.yaml; the defaults add up to 100):

- **intent**: what the author wants, times the classifier's confidence (a sure complaint outranks an unsure one);
- **severity**: cues in the text — safety, outages, money taken, privacy, escalation, waiting — each group once,
  in English and a few words of German, French, Spanish and Dutch;
- **reach**: the author's followers, on a log scale (29 followers ≈ a third of the points, 100,000 all of them);
- **contact**: the linked contact's CRM segment (vip, customer, ...) or value, when they are linked;
- **waiting**: how long ago the post was written, full after `waiting_full_after` (so an old post rises).

Response targets count from the post's own time (`response_due`): a post collected two hours late is two hours
closer to its target. `due_state` sorts routes into overdue, due soon and on time for the inbox's views.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, field_validator

from classifiers.verdict import Intent, Verdict
from enrichers.model import Contact, PriorityScore, ScorePart
from enrichers.routing import parse_duration
from listener.mention import Mention

_STRICT = ConfigDict(frozen=True, extra="forbid")


class PriorityConfig(BaseModel):
    """The `priority:` section: the most points each part gives (out of 100 together by default)."""

    model_config = _STRICT

    intent_points: dict[Intent, float] = Field(
        default_factory=lambda: {
            Intent.complaint: 40.0,
            Intent.purchase_intent: 30.0,
            Intent.question: 25.0,
            Intent.other: 10.0,
            Intent.praise: 5.0,
        },
        description="Points per intent at full confidence; multiplied by the intent's confidence (0–1).",
    )
    severity_points: float = Field(default=25, ge=0, description="Most points severity cues give.")
    reach_points: float = Field(default=15, ge=0, description="Most points the author's reach gives.")
    reach_full_at: int = Field(default=100_000, ge=1, description="Followers (people) that give all reach points.")
    contact_points: float = Field(default=10, ge=0, description="Most points a linked contact's segment or value give.")
    segment_share: dict[str, float] = Field(
        default_factory=lambda: {"vip": 1.0, "customer": 0.6, "partner": 0.5, "prospect": 0.4},
        description="Share (0–1) of contact_points per CRM segment, compared case-insensitively.",
    )
    value_full_at: float = Field(
        default=10_000, gt=0, description="A contact value (CRM currency) giving all contact points."
    )
    waiting_points: float = Field(default=10, ge=0, description="Most points waiting gives.")
    waiting_full_after: timedelta = Field(
        default=timedelta(hours=24), description="Waiting since the post was written that gives all waiting points."
    )
    due_soon: timedelta = Field(
        default=timedelta(minutes=30), description="A route due within this long shows as due soon."
    )

    _durations = field_validator("waiting_full_after", "due_soon", mode="before")(
        classmethod(lambda cls, v: parse_duration(v))
    )


class SeverityCue(StrEnum):
    safety = "safety"
    outage = "outage"
    money = "money"
    privacy = "privacy"
    escalation = "escalation"
    waiting = "waiting"


def _words(*phrases: str) -> re.Pattern[str]:
    return re.compile(r"(?<!\w)(?:" + "|".join(phrases) + r")(?!\w)", re.IGNORECASE)


SEVERITY_CUES: dict[SeverityCue, tuple[float, re.Pattern[str]]] = {
    SeverityCue.safety: (
        1.0,
        _words(
            r"overheat\w*",
            r"fire",
            r"smok(?:e|ing)",
            r"burn(?:t|ed|ing)?",
            r"sparks?",
            r"electric shock",
            r"melt(?:ed|ing)?",
            r"überhitz\w*",
            r"incendie",
            r"surchauff\w*",
            r"fuego",
            r"sobrecalent\w*",
            r"oververhit\w*",
        ),
    ),
    SeverityCue.outage: (
        0.6,
        _words(
            r"offline",
            r"down",
            r"not working",
            r"stopped working",
            r"unresponsive",
            r"dead",
            r"broken",
            r"bricked",
            r"not found",
            r"lost all",
            r"blinks? red",
            r"nothing responds",
            r"kaputt",
            r"funktioniert nicht",
            r"geht nicht",
            r"ne (?:marche|fonctionne) plus",
            r"en panne",
            r"no funciona",
            r"werkt niet",
            r"stuk",
        ),
    ),
    SeverityCue.money: (
        0.6,
        _words(
            r"charged (?:twice|again|double)",
            r"double[- ]charged",
            r"refund\w*",
            r"overcharged",
            r"chargeback",
            r"billed twice",
            r"abgebucht",
            r"doppelt",
            r"erstattung",
            r"rembours\w*",
            r"reembolso",
            r"cobrado dos veces",
            r"terugbetal\w*",
        ),
    ),
    SeverityCue.privacy: (
        0.5,
        _words(r"data breach", r"hacked", r"privacy", r"gdpr", r"dsgvo", r"rgpd", r"leaked", r"my data"),
    ),
    SeverityCue.escalation: (
        0.4,
        _words(
            r"unacceptable",
            r"lawyer",
            r"sue",
            r"legal action",
            r"trading standards",
            r"consumer protection",
            r"cancel\w*",
            r"switching to",
            r"never again",
            r"inakzeptabel",
            r"anwalt",
            r"inacceptable",
            r"inaceptable",
            r"onaanvaardbaar",
        ),
    ),
    SeverityCue.waiting: (
        0.3,
        _words(
            r"no reply",
            r"no response",
            r"no answer",
            r"still waiting",
            r"still offline",
            r"days? \d+",
            r"\d+ days",
            r"ticket #?\d+",
            r"is anyone awake",
            r"keine antwort",
            r"sans réponse",
            r"sin respuesta",
            r"geen antwoord",
        ),
    ),
}
"""Each cue group counts once, with its weight (the share of severity points it gives); the sum is capped at 1."""


def _part(name: str, points: float, reason: str) -> ScorePart:
    return ScorePart(name=name, points=round(points, 1), reason=reason)


def intent_part(verdict: Verdict, config: PriorityConfig) -> ScorePart:
    most = config.intent_points.get(verdict.intent, 0)
    points = most * verdict.intent_confidence
    return _part("intent", points, f"{verdict.intent.value} at {verdict.intent_confidence:.0%} confidence")


def severity_part(mention: Mention, config: PriorityConfig) -> ScorePart:
    text = " ".join(t for t in (mention.title, mention.text) if t)
    found: list[str] = []
    share = 0.0
    for cue, (weight, pattern) in SEVERITY_CUES.items():
        match = pattern.search(text)
        if match:
            found.append(f"{cue.value} ('{match.group(0)}')")
            share += weight
    points = min(1.0, share) * config.severity_points
    return _part("severity", points, ", ".join(found) if found else "no severity cues")


def reach_part(mention: Mention, config: PriorityConfig) -> ScorePart:
    followers = mention.author.followers
    if followers is None:
        return _part("reach", 0, "follower count unknown")
    share = min(1.0, math.log10(followers + 1) / math.log10(config.reach_full_at + 1))
    return _part("reach", share * config.reach_points, f"{followers:,} followers")


def contact_part(contact: Contact | None, contact_value: float | None, config: PriorityConfig) -> ScorePart:
    if contact is None:
        return _part("contact", 0, "not linked to a contact")
    segments = {k.casefold(): v for k, v in config.segment_share.items()}
    by_segment = segments.get((contact.segment or "").casefold(), 0.0)
    by_value = min(1.0, contact_value / config.value_full_at) if contact_value else 0.0
    share = max(by_segment, by_value)
    said = [f"segment {contact.segment}" if contact.segment else "no segment"]
    if contact_value:
        said.append(f"value {contact_value:,.0f}")
    return _part("contact", min(1.0, max(0.0, share)) * config.contact_points, ", ".join(said))


def waiting_part(mention: Mention, now: datetime, config: PriorityConfig) -> ScorePart:
    return waiting_since(mention.created_at, now, config)


def waiting_since(created_at: datetime, now: datetime, config: PriorityConfig) -> ScorePart:
    """The waiting part of a post written at `created_at`, as it stands at `now`."""
    waited = max(timedelta(0), now - created_at)
    share = min(1.0, waited / config.waiting_full_after)
    return _part("waiting", share * config.waiting_points, f"written {_ago(waited)} ago")


def _ago(span: timedelta) -> str:
    minutes = int(span.total_seconds() // 60)
    if minutes < 60:
        return f"{minutes} min"
    if minutes < 48 * 60:
        return f"{minutes // 60} h {minutes % 60:02d} min"
    return f"{minutes // (24 * 60)} d"


def priority_score(
    mention: Mention,
    verdict: Verdict,
    now: datetime,
    config: PriorityConfig | None = None,
    contact: Contact | None = None,
    contact_value: float | None = None,
) -> PriorityScore:
    """The 0–100 score of one mention at `now`, with each part and why it gave what it gave."""
    config = config or PriorityConfig()
    parts = (
        intent_part(verdict, config),
        severity_part(mention, config),
        reach_part(mention, config),
        contact_part(contact, contact_value, config),
        waiting_part(mention, now, config),
    )
    return PriorityScore(score=max(0, min(100, round(sum(p.points for p in parts)))), parts=parts)


def rescored(
    score: PriorityScore, mention: Mention, now: datetime, config: PriorityConfig | None = None
) -> PriorityScore:
    """`score` with its waiting part brought up to `now` (the other parts do not change while a post waits)."""
    config = config or PriorityConfig()
    parts = tuple(waiting_part(mention, now, config) if p.name == "waiting" else p for p in score.parts)
    return PriorityScore(score=max(0, min(100, round(sum(p.points for p in parts)))), parts=parts)


def score_now(
    parts: Sequence[Mapping[str, object]], created_at: datetime, now: datetime, config: PriorityConfig | None = None
) -> tuple[float, tuple[dict[str, object], ...]] | None:
    """A stored score's parts (as `ScorePart` dicts) with the waiting part brought up to `now`: the unrounded total
    (to sort by) and the parts. None when the parts hold no waiting part to bring up to date (routes stored without
    their parts): the stored score then stands. The other parts do not change while a post waits."""
    if not any(p.get("name") == "waiting" for p in parts):
        return None
    fresh = waiting_since(created_at, now, config or PriorityConfig()).model_dump()
    updated = tuple(fresh if p.get("name") == "waiting" else dict(p) for p in parts)
    total = sum(_points(p.get("points")) for p in updated)
    return max(0.0, min(100.0, total)), updated


def _points(value: object) -> float:
    return float(value) if isinstance(value, int | float) else 0.0


def response_due(created_at: datetime, respond_within: timedelta | None) -> datetime | None:
    """When a response is due: counted from when the post was written, not from when we routed it."""
    return created_at + respond_within if respond_within is not None else None


class DueState(StrEnum):
    overdue = "overdue"
    due_soon = "due_soon"
    on_time = "on_time"


def due_state(due_at: datetime | None, now: datetime, config: PriorityConfig | None = None) -> DueState | None:
    """Overdue, due soon (within `config.due_soon`) or on time; None for a route with no target."""
    if due_at is None:
        return None
    if due_at <= now:
        return DueState.overdue
    return DueState.due_soon if due_at - now <= (config or PriorityConfig()).due_soon else DueState.on_time
