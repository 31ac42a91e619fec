"""Lead scoring: how promising one mention is for sales, 0–100, in named parts a person can argue with.

The score adds five parts, each worth up to its configured weight (`LeadWeights`, summing to 100 by default):

- **intent**: what the classifier read (purchase intent counts fully, a question half, …) times its confidence;
- **signal**: how strong the buying signal in the words is: a quantity ("300 units", "40 sites", "six more
  cafés"), a budget, a timeline, or asks for a quote, a demo, pricing, volume, procurement or a pilot (English,
  with cheap cues in German, French, Spanish and Dutch);
- **crm**: what the CRM knows: the contact's segment (prospect, customer, vip, former), the company's class
  (and size where the CRM holds it) and the contact's role;
- **reach**: the author's followers, on a log scale (unknown reach scores nothing and says so);
- **recency**: full for a mention up to a day old, falling to nothing at `recency_days`.

Pure: no I/O. `score_lead` returns the score, its parts and an explanation in words; routing rules may use the
signals it found (`When.buying_signals`, `When.min_lead_score`): "a CRM prospect asking for volume is a lead even
when the classifier hesitates" is such a rule (`enrichers.routing.DEFAULT_ROUTING`), not a model tweak.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, model_validator

from classifiers.verdict import Intent, Verdict
from enrichers.model import Company, CompanyClass, Contact
from listener.mention import Mention

_STRICT = ConfigDict(frozen=True, extra="forbid")


class Signal(StrEnum):
    """A kind of buying signal found in a mention's words."""

    quantity = "quantity"  # a number of things: "300 units", "40 sites", "six more cafés"
    budget = "budget"  # money: "$20k", "budget of", "Budget"
    timeline = "timeline"  # when: "next year", "by March", "Q1", "this quarter"
    quote = "quote"  # "quote", "Angebot", "devis", "cotización", "offerte"
    demo = "demo"
    pricing = "pricing"  # "pricing", "price list", "Preise", "tarifs", "precio", "prijs"
    volume = "volume"  # "volume", "bulk", "at scale", "multi-site", "fleet"
    procurement = "procurement"  # "procurement", "RFP", "tender", "purchase order", "vendor"
    pilot = "pilot"
    contact_sales = "contact_sales"  # "who do I talk to", "sales team", "partnership", "deals"


# How much each kind adds to the signal part (0–1, capped at 1 in all).
SIGNAL_STRENGTH: Mapping[Signal, float] = {
    Signal.quantity: 0.45,
    Signal.volume: 0.35,
    Signal.quote: 0.35,
    Signal.procurement: 0.35,
    Signal.pricing: 0.3,
    Signal.budget: 0.3,
    Signal.demo: 0.3,
    Signal.pilot: 0.3,
    Signal.contact_sales: 0.25,
    Signal.timeline: 0.2,
}
MIN_QUANTITY = 5
"""Fewer things than this ("2 bulbs", "my 3 hubs") is a household, not a buying signal."""
LARGE_QUANTITY = 50
"""A quantity at least this large adds `LARGE_QUANTITY_BONUS` to the signal part: 300 units is more than 3."""
LARGE_QUANTITY_BONUS = 0.15

# Things a business buys for or runs: a number followed by one of these is a quantity signal.
_UNITS = (
    r"units?|rooms?|hotel\s+rooms?|sites?|offices?|locations?|stores?|shops?|caf[eé]s?|restaurants?|branches|"
    r"seats?|licen[cs]es?|apartments?|flats?|homes?|houses?|buildings?|properties|hotels?|clinics?|schools?|"
    r"classrooms?|desks?|devices?|hubs?|bulbs?|lights?|fixtures?|kits?|users?|employees?|staff|"
    r"Einheiten|Wohnungen|Zimmer|Standorte|Filialen|Büros|Häuser|Geräte|"  # de
    r"unit[ée]s|chambres|logements|appartements|magasins|bureaux|boutiques|"  # fr
    r"unidades|habitaciones|viviendas|oficinas|tiendas|sedes|"  # es
    r"eenheden|kamers|woningen|vestigingen|kantoren|winkels"  # nl
)
_NUMBER_WORDS = {
    "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10,
    "eleven": 11, "twelve": 12, "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "hundred": 100,
    "dozen": 12, "zwei": 2, "drei": 3, "vier": 4, "fünf": 5, "sechs": 6, "zehn": 10, "deux": 2, "trois": 3,
    "quatre": 4, "cinq": 5, "dix": 10, "dos": 2, "tres": 3, "cuatro": 4, "cinco": 5, "seis": 6, "diez": 10,
    "twee": 2, "drie": 3, "vijf": 5, "zes": 6, "tien": 10,
}  # fmt: skip
_QUANTITY = re.compile(
    r"(?<![\w.,])~?\s*(?P<number>\d{1,3}(?:[,.]\d{3})+|\d+|" + "|".join(_NUMBER_WORDS) + r")\+?"
    r"(?:\s+(?:more|new|other|extra|additional|of\s+our|weitere|neue|autres|nouveaux|nuevas|nuevos|más|extra|nieuwe))?"
    r"(?:\s+[\w-]+)?\s+(?P<unit>" + _UNITS + r")\b",
    re.IGNORECASE,
)
_MONEY = re.compile(r"(?:[$€£]\s?\d[\d,.]*\s?[km]?\b|\b\d[\d,.]*\s?[km]?\s?(?:€|eur|usd|gbp|dollars|euros)\b)", re.I)

# Phrases per signal kind, whole words in any case. Cheap cues only: a wrong cue costs a few points, not a route.
CUES: Mapping[Signal, tuple[str, ...]] = {
    Signal.budget: ("budget", "Budget", "presupuesto para", "budgetten"),
    Signal.timeline: (
        "next year", "next quarter", "this quarter", "next month", "this month", "by q1", "by q2", "by q3",
        "by q4", "q1", "q2", "q3", "q4", "asap", "by january", "by march", "by june", "by september",
        "nächstes jahr", "nächsten jahr", "l'année prochaine", "el próximo año", "el año que viene",
        "volgend jaar",
    ),
    Signal.quote: ("quote", "quotation", "angebot", "kostenvoranschlag", "devis", "cotización", "cotizacion", "offerte"),
    Signal.demo: ("demo", "démo", "demostración", "product tour"),
    Signal.pricing: (
        "pricing", "price list", "prices", "price for", "cost per", "preise", "preisliste", "tarif", "tarifs",
        "prix", "precio", "precios", "prijs", "prijzen",
    ),
    Signal.volume: (
        "volume", "bulk", "at scale", "multi-site", "multisite", "fleet", "rollout", "roll out", "wholesale",
        "mengenrabatt", "großbestellung", "en gros", "en volumen", "al por mayor", "volumekorting",
    ),
    Signal.procurement: (
        "procurement", "rfp", "rfq", "tender", "purchase order", "vendor", "supplier", "ausschreibung",
        "appel d'offres", "licitación", "aanbesteding",
    ),
    Signal.pilot: ("pilot", "proof of concept", "poc", "trial for our", "pilotprojekt", "projet pilote", "piloto"),
    Signal.contact_sales: (
        "who do i talk to", "who should i talk to", "who handles", "sales team", "talk to sales",
        "contact sales", "partnership", "partnerships", "partner program", "business tier", "deals",
        "hospitality deals", "an wen wende ich mich", "à qui m'adresser", "con quién hablo", "met wie kan ik",
    ),
}  # fmt: skip

# Words in a role that say the person decides or buys.
_DECIDES = re.compile(
    r"\b(head|director|chief|c[etiof]o|founder|owner|vp|vice president|president|manager|lead|procurement|"
    r"buyer|purchasing|partner|principal|geschäftsführer|leiter|directeur|gérant|director[a]?|jefe|eigenaar)\b",
    re.IGNORECASE,
)

INTENT_VALUE: Mapping[Intent, float] = {
    Intent.purchase_intent: 1.0,
    Intent.question: 0.5,
    Intent.other: 0.25,
    Intent.praise: 0.2,
    Intent.complaint: 0.0,
}
"""How much each intent is worth to sales before confidence: a complaint is service's, not a lead."""

SEGMENT_VALUE: Mapping[str, float] = {
    "prospect": 0.5,
    "customer": 0.4,  # an expansion
    "vip": 0.4,
    "former": 0.35,  # a win-back
    "partner": 0.1,
}
COMPANY_VALUE: Mapping[CompanyClass, float] = {
    CompanyClass.prospect: 0.3,
    CompanyClass.customer: 0.25,
    CompanyClass.partner: 0.05,
    CompanyClass.other: 0.1,
    CompanyClass.competitor: 0.0,
}
ROLE_VALUE = 0.2
"""A role that decides or buys (head, director, owner, manager, procurement, …) adds this to the CRM part."""
LARGE_COMPANY = 250
"""Employees from which a company's size adds `LARGE_COMPANY_BONUS` to the CRM part (when the CRM holds it)."""
LARGE_COMPANY_BONUS = 0.1


class LeadWeights(BaseModel):
    """Points each part is worth at most; the score is their sum, so keep them adding up to 100."""

    model_config = _STRICT

    intent: int = Field(default=25, ge=0, le=100, description="Intent and the classifier's confidence.")
    signal: int = Field(default=30, ge=0, le=100, description="Strength of the buying signal in the words.")
    crm: int = Field(default=25, ge=0, le=100, description="Segment, company class and size, role.")
    reach: int = Field(default=10, ge=0, le=100, description="The author's followers (log scale).")
    recency: int = Field(default=10, ge=0, le=100, description="How fresh the mention is.")

    @model_validator(mode="after")
    def _hundred(self) -> LeadWeights:
        total = self.intent + self.signal + self.crm + self.reach + self.recency
        if total != 100:
            raise ValueError(f"lead weights add up to {total}; make intent + signal + crm + reach + recency = 100")
        return self


class LeadScoring(BaseModel):
    """The `leads:` section of overheard.yaml."""

    model_config = _STRICT

    weights: LeadWeights = Field(default_factory=LeadWeights)
    recency_days: float = Field(default=14, gt=0, description="A mention this many days old scores no recency.")
    full_reach_followers: int = Field(
        default=100_000, ge=10, description="Followers at which the reach part is full (log scale below)."
    )
    extra_cues: dict[Signal, tuple[str, ...]] = Field(
        default_factory=dict, description="More phrases per signal kind, e.g. {quote: [offerta]}."
    )


DEFAULT_LEAD_SCORING = LeadScoring()


class LeadPart(BaseModel):
    """One named part of a lead score: the points it gave out of its weight, and why."""

    model_config = _STRICT

    name: str
    points: float = Field(ge=0, description="Points given (0 to `weight`).")
    weight: int = Field(ge=0, description="Points this part is worth at most.")
    why: str


class LeadScore(BaseModel):
    """How promising a mention is for sales (0–100), its parts and the signals found."""

    model_config = _STRICT

    score: int = Field(ge=0, le=100)
    parts: tuple[LeadPart, ...]
    signals: tuple[Signal, ...] = Field(description="Buying-signal kinds found in the words, strongest first.")
    quantity: int | None = Field(default=None, description="The largest quantity asked about, when one was named.")
    explanation: str = Field(description="The score in words, strongest part first.")

    def part(self, name: str) -> LeadPart:
        return next(p for p in self.parts if p.name == name)


def _phrase(phrase: str) -> re.Pattern[str]:
    return re.compile(r"(?<!\w)" + r"\s+".join(map(re.escape, phrase.split())) + r"(?!\w)", re.IGNORECASE)


_CUE_PATTERNS: dict[Signal, tuple[re.Pattern[str], ...]] = {
    kind: tuple(_phrase(p) for p in phrases) for kind, phrases in CUES.items()
}
_CUE_KEYWORDS: dict[Signal, tuple[str, ...]] = {
    kind: tuple(dict.fromkeys(max(phrase.lower().split(), key=len) for phrase in phrases))
    for kind, phrases in CUES.items()
}
"""Per kind, the longest word of each cue phrase: a cue can match an ASCII text only where that word occurs in it,
so one substring test per phrase rules most kinds out without a regular-expression search per cue."""
_CUE_ANY: dict[Signal, re.Pattern[str]] = {
    kind: re.compile("|".join(f"(?:{p.pattern})" for p in patterns), re.IGNORECASE)
    for kind, patterns in _CUE_PATTERNS.items()
}
"""Per kind, its cue patterns as one alternation, which matches a text exactly when one of them does: beyond ASCII
(where lowering a text may not lower it as the patterns' case folding does) one search rules a kind out."""


def _may_show(kind: Signal, text: str, lowered: str | None) -> bool:
    if lowered is None:
        return _CUE_ANY[kind].search(text) is not None
    return any(word in lowered for word in _CUE_KEYWORDS[kind])


def _number(text: str) -> int | None:
    word = text.lower()
    if word in _NUMBER_WORDS:
        return _NUMBER_WORDS[word]
    digits = re.sub(r"[,.]", "", text)
    return int(digits) if digits.isdigit() else None


def find_signals(text: str, extra_cues: Mapping[Signal, tuple[str, ...]] | None = None) -> dict[Signal, list[str]]:
    """The buying signals in `text`: each kind found, with the words that showed it."""
    found: dict[Signal, list[str]] = {}
    for match in _QUANTITY.finditer(text):
        number = _number(match.group("number"))
        if number is not None and number >= MIN_QUANTITY:
            found.setdefault(Signal.quantity, []).append(" ".join(match.group(0).split()).lstrip("~ "))
    for match in _MONEY.finditer(text):
        found.setdefault(Signal.budget, []).append(match.group(0).strip())
    patterns = dict(_CUE_PATTERNS)
    for kind, phrases in (extra_cues or {}).items():
        patterns[kind] = (*patterns.get(kind, ()), *(_phrase(p) for p in phrases))
    lowered = text.lower() if text.isascii() else None  # beyond ASCII, case-insensitive matching is subtler
    for kind, kind_patterns in patterns.items():
        if kind not in (extra_cues or {}) and not _may_show(kind, text, lowered):
            continue
        for pattern in kind_patterns:
            hit = pattern.search(text)
            if hit and hit.group(0).lower() not in (w.lower() for w in found.get(kind, [])):
                found.setdefault(kind, []).append(hit.group(0))
    return found


def largest_quantity(words: list[str]) -> int | None:
    """The largest number among quantity phrases ("300 units", "six more cafés")."""
    numbers = [n for w in words if (m := _QUANTITY.search(w)) and (n := _number(m.group("number"))) is not None]
    return max(numbers) if numbers else None


def _fmt(points: float) -> str:
    return f"{points:.0f}" if points == int(points) else f"{points:.1f}"


def score_lead(
    mention: Mention,
    verdict: Verdict,
    now: datetime,
    contact: Contact | None = None,
    company: Company | None = None,
    config: LeadScoring = DEFAULT_LEAD_SCORING,
    company_size: int | None = None,
) -> LeadScore:
    """Score one classified mention for sales. `contact` and `company` are the author's, when linked;
    `company_size` is the company's employees (by default the CRM's `company.employees`, when it holds it)."""
    weights = config.weights
    parts: list[LeadPart] = []

    intent_value = INTENT_VALUE[verdict.intent] * verdict.intent_confidence
    parts.append(
        LeadPart(
            name="intent",
            points=round(weights.intent * intent_value, 1),
            weight=weights.intent,
            why=f"{verdict.intent.value} at confidence {verdict.intent_confidence:.2f}",
        )
    )

    text = " ".join(t for t in (mention.title, mention.text) if t)
    found = find_signals(text, config.extra_cues)
    kinds = sorted(found, key=lambda k: -SIGNAL_STRENGTH[k])
    quantity = largest_quantity(found.get(Signal.quantity, []))
    strength = sum(SIGNAL_STRENGTH[k] for k in kinds)
    if quantity is not None and quantity >= LARGE_QUANTITY:
        strength += LARGE_QUANTITY_BONUS
    shown = [f"{k.value} ({', '.join(repr(w) for w in found[k][:2])})" for k in kinds]
    parts.append(
        LeadPart(
            name="signal",
            points=round(weights.signal * min(strength, 1.0), 1),
            weight=weights.signal,
            why=("; ".join(shown) if shown else "no buying signal in the words"),
        )
    )

    if company_size is None and company is not None:
        company_size = company.employees
    crm_value, crm_why = _crm_value(contact, company, company_size)
    parts.append(LeadPart(name="crm", points=round(weights.crm * crm_value, 1), weight=weights.crm, why=crm_why))

    followers = mention.author.followers
    if followers is None:
        reach_value, reach_why = 0.0, "reach unknown (the platform reports no follower count)"
    else:
        reach_value = min(math.log10(followers + 1) / math.log10(config.full_reach_followers + 1), 1.0)
        reach_why = f"{followers:,} followers"
    parts.append(
        LeadPart(name="reach", points=round(weights.reach * reach_value, 1), weight=weights.reach, why=reach_why)
    )

    age_days = max((now - mention.created_at).total_seconds() / 86400, 0.0)
    recency_value = 1.0 if age_days <= 1 else max(1 - (age_days - 1) / max(config.recency_days - 1, 1e-9), 0.0)
    age = f"{age_days * 24:.0f} h old" if age_days < 2 else f"{age_days:.0f} days old"
    parts.append(
        LeadPart(name="recency", points=round(weights.recency * recency_value, 1), weight=weights.recency, why=age)
    )

    score = max(0, min(100, round(sum(p.points for p in parts))))
    ranked = sorted(parts, key=lambda p: -(p.points / p.weight if p.weight else 0))
    explanation = f"lead score {score}: " + "; ".join(f"{p.name} {_fmt(p.points)}/{p.weight} ({p.why})" for p in ranked)
    return LeadScore(score=score, parts=tuple(parts), signals=tuple(kinds), quantity=quantity, explanation=explanation)


def _crm_value(contact: Contact | None, company: Company | None, company_size: int | None) -> tuple[float, str]:
    if company is not None and company.classification is CompanyClass.competitor:
        return 0.0, f"works at competitor {company.name}"
    if contact is None and company is None:
        return 0.0, "not linked to a CRM contact or company"
    value, why = 0.0, []
    if contact is not None:
        segment = (contact.segment or "").lower()
        value += SEGMENT_VALUE.get(segment, 0.0)
        why.append(f"contact {contact.id} is {'a ' + segment if segment else 'in no segment'}")
    if company is not None:
        value += COMPANY_VALUE[company.classification]
        why.append(f"at {company.name} ({company.classification.value})")
        if company_size is not None:
            why.append(f"{company_size:,} employees")
            if company_size >= LARGE_COMPANY:
                value += LARGE_COMPANY_BONUS
    role = _role(contact, company)
    if role:
        decides = bool(_DECIDES.search(role))
        value += ROLE_VALUE if decides else 0.0
        why.append(f"role {role}" + (" (decides or buys)" if decides else ""))
    return min(value, 1.0), ", ".join(why)


def _role(contact: Contact | None, company: Company | None) -> str | None:
    if contact is None:
        return None
    if company is not None:
        held = next((m.role for m in contact.memberships if m.company_id == company.id and m.role), None)
        if held:
            return held
    return next((m.role for m in contact.memberships if m.role), None) or contact.role
