"""Cue phrases a triage person recognises for each intent; found cues are shown as reasons.

They are also features of the intent head, so a cue only moves a verdict as far as the labeled data says
it should. Patterns are matched case-insensitively on word boundaries.
"""

from __future__ import annotations

import re

from classifiers.verdict import Intent

CUES: dict[Intent, tuple[str, ...]] = {
    Intent.complaint: (
        "refund",
        "still waiting",
        "never arrived",
        "never received",
        "hasn't arrived",
        "not working",
        "doesn't work",
        "does not work",
        "won't work",
        "stopped working",
        "broken",
        "broke",
        "cancelled my",
        "canceled my",
        "delayed",
        "worst service",
        "worst customer service",
        "customer service",
        "overcharged",
        "charged me",
        "lost my",
        "on hold",
        "no one answers",
        "nobody answers",
        "unacceptable",
        "ridiculous",
        "fix this",
        "fix it",
        "is down",
        "outage",
        "keeps crashing",
        "crashed",
        "rude",
        "terrible service",
        "disappointed",
        "complaint",
        "scam",
        "ripped off",
        "waste of money",
        "wrong order",
        "are down",
        "bug",
        "glitch",
        "out of stock",
        "incompetence",
        "incompetent",
        "flight cancelled",
        "flight canceled",
        "still haven't",
        "still hasn't",
        "never got",
        "charged twice",
        "double charged",
        "no service",
    ),
    Intent.purchase_intent: (
        "looking for",
        "any alternatives to",
        "alternative to",
        "thinking of getting",
        "thinking of buying",
        "thinking about getting",
        "thinking about buying",
        "where can i buy",
        "where can i get",
        "where to buy",
        "how much is",
        "how much does",
        "should i buy",
        "should i get",
        "want to buy",
        "wanna buy",
        "gonna buy",
        "going to buy",
        "need to buy",
        "pre-order",
        "preorder",
        "switch to",
        "switching to",
        "recommend a",
        "any recommendations",
        "worth buying",
        "worth it",
        "in the market for",
        "price of",
        "need a new",
        "can't wait to buy",
    ),
    Intent.question: (
        "how do i",
        "how can i",
        "how to",
        "why does my",
        "why won't",
        "why can't i",
        "does anyone know",
        "anyone know",
        "can someone help",
        "can anyone help",
        "help me",
        "any idea",
        "is it just me",
        "is there a way",
        "support",
    ),
    Intent.praise: (
        "love my",
        "loving my",
        "thank you",
        "thanks",
        "amazing",
        "awesome",
        "great service",
        "excellent",
        "highly recommend",
        "impressed",
        "shoutout",
        "well done",
        "best",
        "perfect",
    ),
}

_PATTERNS: dict[Intent, tuple[tuple[str, re.Pattern[str]], ...]] = {
    intent: tuple((p, re.compile(r"(?<!\w)" + re.escape(p) + r"(?!\w)", re.IGNORECASE)) for p in phrases)
    for intent, phrases in CUES.items()
}

CUE_INTENTS: tuple[Intent, ...] = tuple(CUES)
"""Order of the per-intent cue counts in ``cue_features``."""


def find_cues(text: str) -> dict[Intent, list[str]]:
    """Cue phrases present in ``text``, per intent, in lexicon order."""
    text = text.replace("\u2019", "'")
    # For ASCII text a case-insensitive match implies the phrase is a substring of the lowered text, so that
    # cheap test skips most of the ~100 regex searches; other text may case-fold in ways lower() does not.
    lowered = text.lower() if text.isascii() else None
    found: dict[Intent, list[str]] = {}
    for intent, patterns in _PATTERNS.items():
        hits = [
            phrase for phrase, pattern in patterns if (lowered is None or phrase in lowered) and pattern.search(text)
        ]
        if hits:
            found[intent] = hits
    return found


def cue_features(text: str, found: dict[Intent, list[str]] | None = None) -> list[float]:
    """Per-intent cue counts (capped at 2) plus whether the text asks a question.

    ``found`` is ``find_cues(text)`` when the caller already has it.
    """
    if found is None:
        found = find_cues(text)
    counts = [float(min(len(found.get(intent, ())), 2)) for intent in CUE_INTENTS]
    return [*counts, 1.0 if "?" in text else 0.0]
