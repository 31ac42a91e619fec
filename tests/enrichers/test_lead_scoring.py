"""Lead scoring and the rule that a CRM contact's buying signal is a sales lead, on the demo sample's business leads."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pydantic import ValidationError

from classifiers.verdict import Intent, Sentiment, Verdict
from enrichers.crm_io import import_companies_csv, import_csv
from enrichers.enrich import enrich
from enrichers.leads import LeadScoring, LeadWeights, Signal, find_signals, score_lead
from enrichers.linking import CompanyIndex
from enrichers.model import Company, CompanyClass, Contact, Membership, Team
from enrichers.routing import DEFAULT_ROUTING
from listener.mention import Mention
from tests.enrichers.conftest import InMemoryDirectory

SAMPLES = Path(__file__).resolve().parents[2] / "overheard" / "samples"
AT = datetime(2026, 11, 20, 0, 30, tzinfo=UTC)

# The sample's business asks from CRM contacts (see overheard/samples/README.md), by external id.
BUSINESS_LEADS = {
    "2123562925552938810": ("c-0024", "co-006"),  # Rachel Kim, Oakridge Realty: 300 units
    "2120221860426680320": ("c-0004", "co-004"),  # Daniel Okafor, Harbourlight Hotels: 120 hotel rooms
    "2121128169833138300": ("c-0017", "co-005"),  # Sam Whitaker, Fernhill Property: ~90 units
    "t3_1oj9g3r": ("c-0001", "co-003"),  # Priya Raman, Kestrel Cowork: 40 sites
    "2119554039151340743": ("c-0001", "co-003"),  # Priya Raman, Kestrel Cowork: 40 offices
    "2122258094358928397": ("c-0015", "co-013"),  # Greg Nolan, Cedar & Pine Coffee: volume pricing, 6 more cafés
}


def verdict(intent: Intent, confidence: float, needs_human: bool = False) -> Verdict:
    return Verdict(
        sentiment=Sentiment.neutral,
        sentiment_confidence=0.6,
        intent=intent,
        intent_confidence=confidence,
        needs_human=needs_human,
        model_version="test-1",
    )


@pytest.fixture(scope="module")
def sample() -> dict[str, Mention]:
    lines = (SAMPLES / "mentions.jsonl").read_text(encoding="utf-8").splitlines()[:-2]
    mentions = [Mention.model_validate_json(line) for line in lines]
    return {m.external_id: m.model_copy(update={"matched_queries": ("brand:Lumora",)}) for m in mentions}


@pytest.fixture(scope="module")
def sample_crm() -> InMemoryDirectory:
    companies = import_companies_csv(SAMPLES / "companies.csv")
    contacts = import_csv(SAMPLES / "contacts.csv", companies.companies)
    assert companies.ok and contacts.ok
    return InMemoryDirectory(list(contacts.contacts), list(companies.companies), list(contacts.consents))


@pytest.mark.parametrize("external_id", sorted(BUSINESS_LEADS))
def test_crm_business_ask_is_a_sales_lead_with_contact_and_company_even_when_the_classifier_hesitates(
    external_id: str, sample: dict[str, Mention], sample_crm: InMemoryDirectory
) -> None:
    mention = sample[external_id]
    hesitant = verdict(Intent.other, 0.41, needs_human=True)  # what the shipped model made of these

    outcome = enrich(mention, hesitant, sample_crm, DEFAULT_ROUTING, AT, timedelta(days=180), CompanyIndex([]))

    contact_id, company_id = BUSINESS_LEADS[external_id]
    assert [r.route.team for r in outcome.routes] == [Team.sales]
    assert outcome.routes[0].route.rule == "crm-buying-signal"
    assert outcome.link is not None
    assert (outcome.link.contact_id, outcome.link.company_id) == (contact_id, company_id)
    assert outcome.is_lead and outcome.lead is not None
    assert Signal.quantity in outcome.lead.signals or Signal.volume in outcome.lead.signals
    payload = outcome.routes[0].deliveries[0].payload
    assert payload is not None
    assert payload["data"]["crm"]["contact"]["id"] == contact_id
    assert payload["data"]["crm"]["company"]["id"] == company_id
    assert payload["data"]["lead"]["score"] == outcome.lead.score


def test_volume_pricing_question_from_a_customer_goes_to_sales_not_to_service(
    sample: dict[str, Mention], sample_crm: InMemoryDirectory
) -> None:
    cafes = sample["2122258094358928397"]  # "6 more cafés … volume pricing", read as a question

    outcome = enrich(
        cafes, verdict(Intent.question, 0.77), sample_crm, DEFAULT_ROUTING, AT, timedelta(days=1), CompanyIndex([])
    )

    assert [r.route.team for r in outcome.routes] == [Team.sales]
    assert "contact segment vip is in" in outcome.routes[0].route.explanation
    assert {"volume", "pricing", "quantity", "quote"} <= {s.value for s in outcome.lead.signals}  # type: ignore[union-attr]


def test_business_leads_outrank_an_anonymous_consumer_question(
    sample: dict[str, Mention], sample_crm: InMemoryDirectory
) -> None:
    oakridge = enrich(
        sample["2123562925552938810"], verdict(Intent.other, 0.41), sample_crm, DEFAULT_ROUTING, AT, timedelta(days=1)
    )
    consumer = sample["2123562925552938810"].model_copy(
        update={
            "external_id": "9",
            "author": sample["2123562925552938810"].author.model_copy(update={"handle": "someone_else"}),
            "text": "Does the Lumora Glow work with Alexa? Thinking of buying one.",
        }
    )
    anonymous = enrich(consumer, verdict(Intent.purchase_intent, 0.62), sample_crm, DEFAULT_ROUTING, AT, timedelta(1))

    assert anonymous.lead is not None and oakridge.lead is not None
    assert anonymous.link is None
    assert oakridge.lead.score > anonymous.lead.score
    assert anonymous.lead.part("crm").points == 0
    assert "not linked" in anonymous.lead.part("crm").why


def test_complaint_naming_a_quantity_is_not_a_lead(sample_crm: InMemoryDirectory, sample: dict[str, Mention]) -> None:
    angry = sample["2123562925552938810"].model_copy(
        update={"text": "All 300 units lost their Lumora hubs after the update. Fix this."}
    )

    outcome = enrich(angry, verdict(Intent.complaint, 0.9), sample_crm, DEFAULT_ROUTING, AT, timedelta(days=1))

    assert Team.sales not in [r.route.team for r in outcome.routes]
    assert outcome.lead is not None and outcome.lead.part("intent").points == 0


def test_contact_without_a_basis_is_routed_but_scored_and_sent_without_what_the_crm_knows(
    sample: dict[str, Mention], sample_crm: InMemoryDirectory
) -> None:
    # c-0040 Noah Schneider: a prospect with no consent or basis recorded.
    noah = sample["t3_1oj9g3r"].model_copy(
        update={
            "external_id": "t3_noah",
            "author": sample["t3_1oj9g3r"].author.model_copy(update={"handle": "noah_s_smarthome"}),
            "text": "We need a quote for 25 apartments, next quarter.",
        }
    )

    outcome = enrich(noah, verdict(Intent.question, 0.6), sample_crm, DEFAULT_ROUTING, AT, timedelta(days=1))

    assert [r.route.team for r in outcome.routes] == [Team.sales]
    assert outcome.link is None
    assert outcome.lead is not None and outcome.lead.part("crm").points == 0
    payload = outcome.routes[0].deliveries[0].payload
    assert payload is not None and payload["data"]["contact_id"] is None and "crm" not in payload["data"]


def test_score_is_the_sum_of_named_parts_and_says_why_in_words() -> None:
    mention = Mention.model_validate(
        {
            "source": "x",
            "external_id": "1",
            "author": {"handle": "rk", "followers": 1870},
            "text": "Property manager here, 300 units. Can we get a quote and volume pricing by Q1?",
            "created_at": "2026-11-19T23:43:50Z",
            "collected_at": "2026-11-20T00:00:00Z",
        }
    )
    contact = Contact(
        id="c-1",
        segment="prospect",
        memberships=(Membership(company_id="co-1", role="Director of Property Management"),),
    )
    company = Company(id="co-1", name="Oakridge Realty", classification=CompanyClass.prospect)

    lead = score_lead(mention, verdict(Intent.purchase_intent, 0.8), AT, contact, company)

    assert [p.name for p in lead.parts] == ["intent", "signal", "crm", "reach", "recency"]
    assert lead.score == round(sum(p.points for p in lead.parts))
    assert lead.part("signal").points == 30  # quantity, quote, volume, pricing, timeline: full
    assert lead.part("crm").points == 25  # prospect at a prospect, a director: full
    assert lead.part("intent").points == 20  # purchase intent at 0.80 of 25
    assert lead.part("recency").points == 10
    assert lead.quantity == 300
    assert "300 units" in lead.explanation and "Oakridge Realty (prospect)" in lead.explanation
    assert "1,870 followers" in lead.explanation


def test_unknown_reach_scores_nothing_and_says_unknown() -> None:
    mention = Mention.model_validate(
        {
            "source": "reddit",
            "external_id": "t3_x",
            "author": {"handle": "someone"},
            "text": "pricing for 40 sites?",
            "created_at": "2026-11-01T00:00:00Z",
            "collected_at": "2026-11-01T00:00:00Z",
        }
    )

    lead = score_lead(mention, verdict(Intent.question, 0.5), AT)

    assert lead.part("reach").points == 0 and "reach unknown" in lead.part("reach").why
    assert lead.part("recency").points == 0  # 19 days old: past the 14-day window


def test_a_competitors_employee_gets_no_crm_points() -> None:
    mention = Mention.model_validate(
        {
            "source": "x",
            "external_id": "2",
            "author": {"handle": "bw"},
            "text": "we sell 500 units a month",
            "created_at": "2026-11-19T00:00:00Z",
            "collected_at": "2026-11-19T00:00:00Z",
        }
    )
    rival = Company(id="co-001", name="Brightwave", classification=CompanyClass.competitor)

    lead = score_lead(mention, verdict(Intent.other, 0.9), AT, Contact(id="c-9", segment="prospect"), rival)

    assert lead.part("crm").points == 0 and "competitor Brightwave" in lead.part("crm").why


def test_cues_in_other_languages_are_found() -> None:
    assert {Signal.quote, Signal.quantity, Signal.timeline} <= set(
        find_signals("Wir brauchen ein Angebot für 40 Wohnungen, nächstes Jahr")
    )
    assert {Signal.quote, Signal.quantity} <= set(find_signals("Pouvez-vous nous faire un devis pour 120 chambres ?"))
    assert {Signal.pricing, Signal.quantity} <= set(find_signals("¿Precio para 30 oficinas?"))
    assert {Signal.quote, Signal.quantity} <= set(find_signals("Graag een offerte voor 12 vestigingen"))
    assert find_signals("Mi hub está roto otra vez") == {}
    assert find_signals("my 3 bulbs keep flickering") == {}  # a household, not a buying signal


def test_weights_must_add_up_to_a_hundred_and_extra_cues_count() -> None:
    with pytest.raises(ValidationError, match="add up to 105"):
        LeadWeights(intent=30)
    scoring = LeadScoring(extra_cues={Signal.quote: ("offerta",)})
    assert Signal.quote in find_signals("ci serve un'offerta", scoring.extra_cues)


def _every_cue_searched(text: str) -> dict[Signal, list[str]]:
    """find_signals as it was before the word test: quantities, sums, then every cue's pattern searched in order."""
    from enrichers.leads import _CUE_PATTERNS, _MONEY, _QUANTITY, MIN_QUANTITY, _number

    found: dict[Signal, list[str]] = {}
    for match in _QUANTITY.finditer(text):
        number = _number(match.group("number"))
        if number is not None and number >= MIN_QUANTITY:
            found.setdefault(Signal.quantity, []).append(" ".join(match.group(0).split()).lstrip("~ "))
    for match in _MONEY.finditer(text):
        found.setdefault(Signal.budget, []).append(match.group(0).strip())
    for kind, patterns in _CUE_PATTERNS.items():
        for pattern in patterns:
            hit = pattern.search(text)
            if hit and hit.group(0).lower() not in (w.lower() for w in found.get(kind, [])):
                found.setdefault(kind, []).append(hit.group(0))
    return found


def test_ruling_kinds_out_by_their_words_finds_what_searching_every_cue_finds() -> None:
    synthetic = Path(__file__).parents[2] / "classifiers" / "data" / "intent" / "synthetic" / "posts.jsonl"
    texts = [json.loads(line)["text"] for line in synthetic.read_text(encoding="utf-8").splitlines()[:3000]]
    texts += ["We need a QUOTE for 300 units", "Kan we get a DEMO?", "Prıcing for 40 offices, request a quote"]
    with_signals = 0
    for text in texts:
        assert find_signals(text) == _every_cue_searched(text), text
        with_signals += bool(find_signals(text))
    assert with_signals > 100


def test_the_crms_company_size_feeds_the_crm_part_and_is_said_in_words() -> None:
    mention = Mention.model_validate(
        {
            "source": "reddit",
            "external_id": "t3_size",
            "author": {"handle": "facilities_lead"},
            "text": "Looking at smart lighting for our offices, any experience?",
            "created_at": "2026-11-19T12:00:00Z",
            "collected_at": "2026-11-19T12:05:00Z",
        }
    )
    contact = Contact(id="c-2", segment="customer")
    small = Company(id="co-s", name="Kestrel Cowork", classification=CompanyClass.customer, employees=40)
    large = small.model_copy(update={"employees": 1200})
    unknown = small.model_copy(update={"employees": None})
    scored = {
        size: score_lead(mention, verdict(Intent.purchase_intent, 0.7), AT, contact, company)
        for size, company in (("small", small), ("large", large), ("unknown", unknown))
    }
    # customer 0.4 + customer company 0.25, and 0.1 more from 250 employees on (of 25 points)
    assert scored["unknown"].part("crm").points == scored["small"].part("crm").points == 16.2
    assert scored["large"].part("crm").points == 18.8
    assert "1,200 employees" in scored["large"].part("crm").why
    assert "40 employees" in scored["small"].part("crm").why
    assert "employees" not in scored["unknown"].part("crm").why


def test_company_size_comes_from_the_crm_companies_csv_and_a_bad_size_names_the_row() -> None:
    good = import_companies_csv('company_id,name,employees\nco-1,Oakridge Realty,"1,400"\nco-2,Fernhill,\n')
    assert good.ok and [c.employees for c in good.companies] == [1400, None]
    bad = import_companies_csv("company_id,name,employees\nco-1,Oakridge Realty,lots\n")
    assert bad.companies == ()
    assert [str(e) for e in bad.errors] == [
        "row 2, column employees: 'lots' is not a whole number of employees (e.g. 250)"
    ]
