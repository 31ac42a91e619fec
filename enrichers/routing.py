"""Routing: which team hears about a mention, on which channel, how urgently — and why.

This module owns the `routing:` section of overheard.yaml (`RoutingConfig`)::

    routing:
      rules:
        - name: influencer-complaint
          when: {intent: complaint, min_followers: 10000}
          team: communications
          priority: urgent
          respond_within: 1h
        - name: complaints
          when: {intent: [complaint], min_confidence: 0.5}
          team: customer_service
          channel: service-webhook      # a configured channel; defaults to the team's name
          priority: high
          respond_within: 2h

Semantics — all-match, first rule per team:

- every rule is checked in order, and every rule whose conditions all hold routes the mention, so one
  mention can go to several teams (a complaint from an influencer → communications *and* service);
- a team is routed at most once per mention: the first matching rule for a team wins, so put the
  specific rule (influencer complaint, urgent) above the general one (any complaint, high);
- a rule with `final: true` stops the check after it matches;
- a condition left out is not checked; a rule with no conditions matches every mention.

Every condition in `when` must hold. List conditions hold when the value is one of the list
(`intent: complaint` is short for `intent: [complaint]`). Confidence is the verdict's intent
confidence. `min_followers` needs a follower count: when the platform reports none it does not hold.
`segment` needs a linked contact. `keywords` are whole words or phrases in the title or text, any case.
`company_class` needs a linked company; `buying_signals` and `min_lead_score` read the mention's lead score
(`enrichers.leads`: quantity, volume, pricing, quote, … in the words, and the 0–100 score).

A CRM prospect asking for volume is a lead even when the classifier hesitates: the default rule
`crm-buying-signal` sends a linked contact in segment prospect, customer, vip or former whose words carry a
buying signal to sales, whatever the intent confidence (complaints excepted), and is final, so that mention
is sales' alone and does not also land in service's question queue.

Noise is held back (`enrichers.noise`): a mention flagged as from one of the brand's own accounts, as spam or a
scam, or as about a competitor only, is not routed by a rule that does not ask for it. A rule asks for owned or
spam mentions with `owned: true` / `spam: true`; for competitor mentions with `about_competitor: true` or by
naming competitors (`mentions_competitor: true`, `competitor: [...]`), and rules for marketing and product take
them as they are (competitor views are theirs). The default rules route competitor mentions to marketing.

The reply channel is where the customer spoke, unless the linked contact stated a preferred channel.
The due time is counted from when the post was written (`created_at`), not from when we routed it:
`created_at + respond_within` (a post collected late is that much closer to its target, or past it).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic_core import ErrorDetails

from classifiers.verdict import Intent, Sentiment, Verdict
from enrichers.leads import LeadScore, Signal
from enrichers.linking import CompanyMention
from enrichers.model import Company, CompanyClass, Contact, Priority, Route, Team
from enrichers.noise import NoiseFlag, NoiseKind
from listener.mention import Mention, Platform

_STRICT = ConfigDict(frozen=True, extra="forbid")
_DURATION_PART = re.compile(r"(\d+)\s*([smhdw])")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_duration(value: str | int | float | timedelta) -> timedelta:
    """'2h' → 2 hours; '1h30m', '45m', '1d', '90s', '1w' also read. A bare number is seconds."""
    if isinstance(value, timedelta):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return timedelta(seconds=value)
    text = str(value).strip().lower()
    if not text or _DURATION_PART.sub("", text).strip():
        raise ValueError(f"'{value}' is not a duration; write e.g. '30m', '2h', '1d' or '1h30m'")
    total = timedelta()
    for amount, unit in _DURATION_PART.findall(text):
        total += timedelta(**{_UNITS[unit]: int(amount)})
    if total <= timedelta(0):
        raise ValueError(f"'{value}' must be longer than zero")
    return total


def _as_tuple(value: Any) -> Any:
    """Let YAML say `intent: complaint` for `intent: [complaint]`."""
    if isinstance(value, str | int | float):
        return (value,)
    return value


_LIST_CONDITIONS = (
    "intent",
    "sentiment",
    "source",
    "language",
    "segment",
    "query",
    "competitor",
    "keywords",
    "company_class",
    "buying_signals",
)


class When(BaseModel):
    """The conditions of one rule; all that are given must hold."""

    model_config = _STRICT

    intent: tuple[Intent, ...] | None = Field(default=None, description="Verdict intent is one of these.")
    sentiment: tuple[Sentiment, ...] | None = Field(default=None, description="Verdict sentiment is one of these.")
    min_confidence: float | None = Field(default=None, ge=0, le=1, description="Intent confidence ≥ this (0–1).")
    max_confidence: float | None = Field(default=None, ge=0, le=1, description="Intent confidence ≤ this (0–1).")
    needs_human: bool | None = Field(default=None, description="The classifier asked for a person (or did not).")
    source: tuple[Platform, ...] | None = Field(default=None, description="Platform the mention came from.")
    language: tuple[str, ...] | None = Field(default=None, description="ISO 639-1 codes, e.g. [en, de].")
    min_followers: int | None = Field(default=None, ge=0, description="Author reach: followers ≥ this (people).")
    segment: tuple[str, ...] | None = Field(default=None, description="Linked contact's CRM segment.")
    query: tuple[str, ...] | None = Field(default=None, description="Mention matched one of these query names.")
    competitor: tuple[str, ...] | None = Field(
        default=None, description="Text names one of these competitors (company id or name)."
    )
    mentions_competitor: bool | None = Field(default=None, description="Text names any competitor company.")
    keywords: tuple[str, ...] | None = Field(default=None, description="Whole words or phrases, any case.")
    company_class: tuple[CompanyClass, ...] | None = Field(
        default=None, description="The author's linked company is one of these classes (prospect, customer, ...)."
    )
    buying_signals: tuple[Signal, ...] | None = Field(
        default=None,
        description="The words carry at least one of these buying signals (quantity, volume, pricing, quote, ...; "
        "see enrichers.leads).",
    )
    min_lead_score: int | None = Field(default=None, ge=0, le=100, description="Lead score ≥ this (0–100).")
    spam: bool | None = Field(default=None, description="Flagged as spam or a scam (true), or not (false).")
    owned: bool | None = Field(default=None, description="Written by one of the brand's own accounts, or not.")
    about_competitor: bool | None = Field(
        default=None, description="About a competitor and none of our brands (matched only competitor queries)."
    )

    _lists = field_validator(*_LIST_CONDITIONS, mode="before")(classmethod(lambda cls, v: _as_tuple(v)))

    @field_validator(*_LIST_CONDITIONS)
    @classmethod
    def _not_empty(cls, value: tuple[Any, ...] | None) -> tuple[Any, ...] | None:
        if value is not None and len(value) == 0:
            raise ValueError("an empty list never matches; leave the condition out instead")
        return value

    @field_validator("language")
    @classmethod
    def _iso_language(cls, value: tuple[str, ...] | None) -> tuple[str, ...] | None:
        if value is None:
            return value
        bad = [v for v in value if not re.fullmatch(r"[a-zA-Z]{2}", v)]
        if bad:
            raise ValueError(f"{', '.join(map(repr, bad))}: use ISO 639-1 two-letter codes such as 'en'")
        return tuple(v.lower() for v in value)

    @model_validator(mode="after")
    def _confidence_range(self) -> When:
        low, high = self.min_confidence, self.max_confidence
        if low is not None and high is not None and low > high:
            raise ValueError(f"min_confidence {low} is above max_confidence {high}; the rule could never match")
        return self


class RoutingRule(BaseModel):
    """One rule: when these conditions hold, send the mention to `team` on `channel`."""

    model_config = _STRICT

    name: str = Field(min_length=1, description="Unique; shown on every route it makes.")
    when: When = Field(default_factory=When)
    team: Team
    channel: str | None = Field(default=None, description="Configured channel name; defaults to the team's name.")
    priority: Priority = Priority.normal
    respond_within: timedelta | None = Field(default=None, description="Response-time target, e.g. '2h'.")
    final: bool = Field(default=False, description="Stop checking further rules once this one matches.")

    @field_validator("respond_within", mode="before")
    @classmethod
    def _duration(cls, value: Any) -> Any:
        return None if value is None else parse_duration(value)

    @property
    def channel_name(self) -> str:
        return self.channel or self.team.value


class RoutingConfig(BaseModel):
    """The `routing:` section of overheard.yaml. Left out, `DEFAULT_ROUTING` applies."""

    model_config = _STRICT

    rules: tuple[RoutingRule, ...] = Field(description="Checked in order; see the module docstring.")

    @model_validator(mode="after")
    def _unique_names(self) -> RoutingConfig:
        seen: dict[str, int] = {}
        for index, rule in enumerate(self.rules):
            if rule.name in seen:
                raise ValueError(f"rules[{index}] has the same name '{rule.name}' as rules[{seen[rule.name]}]")
            seen[rule.name] = index
        return self

    def unknown_channels(self, known: Sequence[str]) -> list[str]:
        """Errors for rules that send to a channel not in `known` (the configured channel names)."""
        return [
            f"routing.rules[{i}] ('{rule.name}').channel: '{rule.channel_name}' is not a configured channel "
            f"(known: {', '.join(sorted(known)) or 'none'})"
            for i, rule in enumerate(self.rules)
            if rule.channel_name not in known
        ]


class RoutingConfigError(ValueError):
    """overheard.yaml's routing section is invalid; `problems` has one actionable line per error."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


def _rule_name(data: Any, index: int) -> str | None:
    rules = data.get("rules") if isinstance(data, dict) else None
    if isinstance(rules, list) and index < len(rules) and isinstance(rules[index], dict):
        name = rules[index].get("name")
        return str(name) if name else None
    return None


def _unknown_setting(loc: tuple[Any, ...]) -> str:
    model: type[BaseModel] = When if "when" in loc else RoutingRule if "rules" in loc else RoutingConfig
    known = list(model.model_fields)
    close = difflib.get_close_matches(str(loc[-1]), known, n=1)
    hint = f"did you mean '{close[0]}'? " if close else ""
    return f"unknown setting '{loc[-1]}' ({hint}known: {', '.join(known)})"


class ValidationErrors(Protocol):
    """What `describe_errors` reads: a pydantic `ValidationError`, or one of its errors re-rooted by the caller."""

    def errors(self) -> list[ErrorDetails]: ...


def describe_errors(error: ValidationErrors, data: Any, prefix: str = "routing") -> list[str]:
    """Pydantic errors as "routing.rules[2] ('vip').when.intent[0]: ..." lines, naming the rule."""
    lines = []
    for item in error.errors():
        loc = tuple(item["loc"])
        path = prefix
        for position, part in enumerate(loc):
            path += f"[{part}]" if isinstance(part, int) else f".{part}"
            if isinstance(part, int) and position > 0 and loc[position - 1] == "rules":
                name = _rule_name(data, part)
                path += f" ('{name}')" if name else ""
        message = item["msg"].removeprefix("Value error, ")
        if item["type"] == "enum":
            message = f"{item.get('input')!r} is not one of {message.removeprefix('Input should be ')}"
        elif item["type"] == "extra_forbidden":
            message = _unknown_setting(loc)
        lines.append(f"{path}: {message}")
    return lines


def load_routing(data: Any) -> RoutingConfig:
    """Validate the `routing:` section (as loaded from YAML); None → the default rules."""
    if data is None:
        return DEFAULT_ROUTING
    try:
        return RoutingConfig.model_validate(data)
    except ValidationError as error:
        raise RoutingConfigError(describe_errors(error, data)) from None


# ---- evaluation -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RuleOutcome:
    """How one rule fared against one mention: matched or not, with each condition's result in words."""

    rule: str
    matched: bool
    reasons: tuple[str, ...]
    routed: bool = False
    note: str | None = None

    @property
    def explanation(self) -> str:
        verb = "matched" if self.matched else "did not match"
        text = f"rule '{self.rule}' {verb}: " + ("; ".join(self.reasons) or "it has no conditions")
        return text + (f" ({self.note})" if self.note else "")


@lru_cache(maxsize=1024)
def _words_pattern(phrase: str) -> re.Pattern[str]:
    """A configured keyword as a whole-words pattern, built once: rules check their keywords against every mention."""
    return re.compile(r"(?<!\w)" + r"\s+".join(map(re.escape, phrase.split())) + r"(?!\w)", re.IGNORECASE)


def _listing(values: Sequence[Any]) -> str:
    return "[" + ", ".join(str(getattr(v, "value", v)) for v in values) + "]"


def check(
    rule: RoutingRule,
    mention: Mention,
    verdict: Verdict,
    contact: Contact | None = None,
    companies: Sequence[CompanyMention] = (),
    lead: LeadContext | None = None,
    flag: NoiseFlag | None = None,
) -> RuleOutcome:
    """Check every condition of `rule`; the reasons list the ones that failed, or all when it matched."""
    when = rule.when
    results: list[tuple[bool, str]] = []

    def one_of(name: str, actual: Any, allowed: Sequence[Any] | None) -> None:
        if allowed is not None:
            shown = getattr(actual, "value", actual)
            ok = actual in allowed
            results.append((ok, f"{name} {shown} {'is' if ok else 'is not'} in {_listing(allowed)}"))

    one_of("intent", verdict.intent, when.intent)
    one_of("sentiment", verdict.sentiment, when.sentiment)
    confidence = verdict.intent_confidence
    if when.min_confidence is not None:
        ok = confidence >= when.min_confidence
        results.append((ok, f"confidence {confidence:.2f} {'≥' if ok else '<'} {when.min_confidence:.2f}"))
    if when.max_confidence is not None:
        ok = confidence <= when.max_confidence
        results.append((ok, f"confidence {confidence:.2f} {'≤' if ok else '>'} {when.max_confidence:.2f}"))
    if when.needs_human is not None:
        ok = verdict.needs_human == when.needs_human
        results.append((ok, "classifier asked for a person" if verdict.needs_human else "classifier was confident"))
    one_of("source", mention.source, when.source)
    if when.language is not None:
        language = (mention.language or "").lower().split("-")[0] or None  # 'en-GB' counts as 'en'
        ok = language in when.language
        results.append(
            (ok, f"language {language or 'unknown'} {'is' if ok else 'is not'} in {_listing(when.language)}")
        )
    if when.min_followers is not None:
        followers = mention.author.followers
        if followers is None:
            results.append((False, "author's follower count is unknown"))
        else:
            ok = followers >= when.min_followers
            results.append((ok, f"author has {followers} followers ({'≥' if ok else '<'} {when.min_followers})"))
    if when.segment is not None:
        if contact is None:
            results.append((False, "author is not linked to a contact, so has no segment"))
        else:
            one_of("contact segment", contact.segment, when.segment)
    if when.query is not None:
        hit = [q for q in mention.matched_queries if q in when.query]
        results.append(
            (bool(hit), f"matched query {', '.join(hit)}" if hit else f"matched no query in {_listing(when.query)}")
        )
    competitors = [c for c in companies if c.company.classification is CompanyClass.competitor]
    if when.mentions_competitor is not None:
        ok = bool(competitors) == when.mentions_competitor
        named = ", ".join(c.company.name for c in competitors)
        results.append((ok, f"names competitor {named}" if competitors else "names no competitor"))
    if when.competitor is not None:
        wanted = {w.casefold() for w in when.competitor}
        hit = [c.company.name for c in competitors if {c.company.id.casefold(), c.company.name.casefold()} & wanted]
        results.append(
            (
                bool(hit),
                f"names competitor {', '.join(hit)}" if hit else f"names no competitor in {_listing(when.competitor)}",
            )
        )
    if when.keywords is not None:
        text = " ".join(t for t in (mention.title, mention.text) if t)
        hit = [k for k in when.keywords if _words_pattern(k).search(text)]
        results.append(
            (
                bool(hit),
                f"contains {', '.join(map(repr, hit))}" if hit else f"contains none of {_listing(when.keywords)}",
            )
        )

    lead = lead or LeadContext()
    if when.company_class is not None:
        if lead.company is None:
            results.append((False, "author is not linked to a company, so it has no class"))
        else:
            one_of(f"company {lead.company.name} class", lead.company.classification, when.company_class)
    if when.buying_signals is not None:
        found = [s for s in (lead.score.signals if lead.score else ()) if s in when.buying_signals]
        results.append(
            (
                bool(found),
                f"asks with buying signal {', '.join(s.value for s in found)}"
                if found
                else f"carries no buying signal in {_listing(when.buying_signals)}",
            )
        )
    if when.min_lead_score is not None:
        if lead.score is None:
            results.append((False, "no lead score was computed"))
        else:
            ok = lead.score.score >= when.min_lead_score
            results.append((ok, f"lead score {lead.score.score} {'≥' if ok else '<'} {when.min_lead_score}"))
    kind = flag.kind if flag is not None else None
    for unflagged, flagged, asked in (
        ("not flagged as spam", kind is NoiseKind.spam, when.spam),
        ("not from one of the brand's accounts", kind is NoiseKind.owned, when.owned),
        ("not about a competitor only", kind is NoiseKind.competitor, when.about_competitor),
    ):
        if asked is not None:
            results.append((flagged == asked, flag.reason if flagged and flag is not None else unflagged))

    matched = all(ok for ok, _ in results)
    reasons = tuple(text for ok, text in results if matched or not ok)
    return RuleOutcome(rule=rule.name, matched=matched, reasons=reasons)


@dataclass(frozen=True)
class LeadContext:
    """What lead conditions read: the author's linked company and the mention's lead score (enrichers.leads)."""

    company: Company | None = None
    score: LeadScore | None = None


def takes_flagged(rule: RoutingRule, flag: NoiseFlag) -> bool:
    """Whether `rule` may route a mention carrying `flag`: only when it asks for that kind of mention."""
    when = rule.when
    if flag.kind is NoiseKind.spam:
        return when.spam is True
    if flag.kind is NoiseKind.owned:
        return when.owned is True
    return (
        when.about_competitor is True
        or when.mentions_competitor is True
        or when.competitor is not None
        or rule.team in (Team.marketing, Team.product)
    )


def reply_channel(mention: Mention, contact: Contact | None) -> str:
    """Where to answer: the contact's stated preference, else the platform they spoke on."""
    if contact is not None and contact.preferred_channel:
        return contact.preferred_channel
    return mention.source.value


def evaluate(
    config: RoutingConfig,
    mention: Mention,
    verdict: Verdict,
    contact: Contact | None = None,
    companies: Sequence[CompanyMention] = (),
    lead: LeadContext | None = None,
    flag: NoiseFlag | None = None,
) -> list[RuleOutcome]:
    """Every rule's outcome in order (for 'why was this routed there?'); `routed` marks those that made a route."""
    outcomes: list[RuleOutcome] = []
    routed_by: dict[Team, str] = {}
    stopped_by: str | None = None
    for rule in config.rules:
        if stopped_by is not None:
            outcomes.append(RuleOutcome(rule.name, False, (), note=f"not checked: rule '{stopped_by}' is final"))
            continue
        outcome = check(rule, mention, verdict, contact, companies, lead, flag)
        if outcome.matched:
            if flag is not None and not takes_flagged(rule, flag):
                outcome = RuleOutcome(
                    outcome.rule, True, outcome.reasons, note=f"held back, {flag.kind.value}: {flag.reason}"
                )
            elif rule.team in routed_by:
                outcome = RuleOutcome(
                    outcome.rule,
                    True,
                    outcome.reasons,
                    note=f"{rule.team.value} was already routed by rule '{routed_by[rule.team]}'",
                )
            else:
                routed_by[rule.team] = rule.name
                outcome = RuleOutcome(outcome.rule, True, outcome.reasons, routed=True)
            if rule.final:
                stopped_by = rule.name
        outcomes.append(outcome)
    return outcomes


def route(
    config: RoutingConfig,
    mention: Mention,
    verdict: Verdict,
    now: datetime,
    contact: Contact | None = None,
    companies: Sequence[CompanyMention] = (),
    lead: LeadContext | None = None,
    flag: NoiseFlag | None = None,
) -> list[Route]:
    """The routes for one mention: one per team, from the first matching rule for that team.

    `now` is kept for callers; the due time counts from the post's own `created_at` (see the module docstring).
    """
    outcomes = evaluate(config, mention, verdict, contact, companies, lead, flag)
    return routes_from(config, outcomes, mention, now, contact)


def routes_from(
    config: RoutingConfig, outcomes: Sequence[RuleOutcome], mention: Mention, now: datetime, contact: Contact | None
) -> list[Route]:
    """The routes that `evaluate`'s outcomes made (`route` without checking the rules a second time)."""
    rules = {rule.name: rule for rule in config.rules}
    routes = []
    for outcome in outcomes:
        if not outcome.routed:
            continue
        rule = rules[outcome.rule]
        routes.append(
            Route(
                source=mention.source.value,
                external_id=mention.external_id,
                team=rule.team,
                channel=rule.channel_name,
                reply_channel=reply_channel(mention, contact),
                priority=rule.priority,
                due_at=mention.created_at + rule.respond_within if rule.respond_within else None,
                rule=rule.name,
                explanation=outcome.explanation,
            )
        )
    return routes


INFLUENCER_FOLLOWERS = 10_000
CRM_BUYER_SEGMENTS = ("prospect", "customer", "vip", "former")
"""Segments of CRM contacts whose buying signal is a lead, whatever the classifier's confidence."""
BUYER_SIGNALS = (
    Signal.quantity,
    Signal.volume,
    Signal.pricing,
    Signal.quote,
    Signal.procurement,
    Signal.budget,
    Signal.demo,
    Signal.pilot,
)
"""Buying signals that make a CRM contact's mention a lead (asking who to talk to is not enough on its own)."""

DEFAULT_ROUTING = RoutingConfig(
    rules=(
        RoutingRule(
            name="influencer-complaint",
            when=When(intent=(Intent.complaint,), min_confidence=0.5, min_followers=INFLUENCER_FOLLOWERS),
            team=Team.communications,
            priority=Priority.urgent,
            respond_within=timedelta(hours=1),
        ),
        RoutingRule(
            name="complaint",
            when=When(intent=(Intent.complaint,), min_confidence=0.5),
            team=Team.customer_service,
            priority=Priority.high,
            respond_within=timedelta(hours=2),
        ),
        RoutingRule(
            name="crm-buying-signal",
            when=When(
                intent=(Intent.purchase_intent, Intent.question, Intent.other, Intent.praise),
                segment=CRM_BUYER_SEGMENTS,
                buying_signals=BUYER_SIGNALS,
            ),
            team=Team.sales,
            priority=Priority.high,
            respond_within=timedelta(hours=4),
            final=True,
        ),
        RoutingRule(
            name="purchase-intent",
            when=When(intent=(Intent.purchase_intent,), min_confidence=0.5),
            team=Team.sales,
            priority=Priority.high,
            respond_within=timedelta(hours=4),
        ),
        RoutingRule(
            name="question",
            when=When(intent=(Intent.question,), min_confidence=0.5),
            team=Team.customer_service,
            priority=Priority.normal,
            respond_within=timedelta(hours=8),
        ),
        RoutingRule(
            name="influencer-praise",
            when=When(intent=(Intent.praise,), min_confidence=0.5, min_followers=INFLUENCER_FOLLOWERS),
            team=Team.marketing,
            priority=Priority.normal,
            respond_within=timedelta(hours=24),
        ),
        RoutingRule(
            name="praise",
            when=When(intent=(Intent.praise,), min_confidence=0.5),
            team=Team.marketing,
            priority=Priority.low,
            respond_within=timedelta(hours=72),
        ),
        RoutingRule(
            name="needs-human-triage",
            when=When(needs_human=True),
            team=Team.customer_service,
            priority=Priority.normal,
            respond_within=timedelta(hours=4),
        ),
        RoutingRule(
            name="competitor-watch",
            when=When(about_competitor=True),
            team=Team.marketing,
            priority=Priority.low,
        ),
    )
)
"""Sensible defaults; channels are named after the teams ('customer_service', 'sales', ...)."""
