"""Leads in storage: the feed ranked by score with contact and company, sales' decisions, dismissals as training
feedback, truthful CRM statuses and what a CRM reported of a contact — on SQLite and PostgreSQL, with the demo
sample's CRM stored for real."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from classifiers.verdict import Intent, Sentiment, Verdict
from enrichers.crm_io import import_companies_csv, import_csv
from enrichers.enrich import enrich
from enrichers.linking import CompanyIndex, author_handle
from enrichers.model import DeliveryStatus
from enrichers.routing import DEFAULT_ROUTING
from listener.mention import Mention
from storage import leads as lead_store
from storage.contacts import SqlContactDirectory, save_company, save_consent, save_contact
from storage.feedback import lead_dismissals
from storage.gdpr import erase_contact
from storage.mentions import save_mentions, save_verdicts
from storage.outbox import Enriched, SqlDeliveryQueue, save_enrichments
from storage.schema import crm_records, deliveries, leads, triage_feedback

SAMPLES = Path(__file__).resolve().parents[2] / "overheard" / "samples"
NOW = datetime(2026, 11, 20, 0, 30, tzinfo=UTC)
OAKRIDGE = "2123562925552938810"  # Rachel Kim (c-0024), Oakridge Realty: 300 units
CAFES = "2122258094358928397"  # Greg Nolan (c-0015), Cedar & Pine Coffee: volume pricing for 6 more cafés


def _verdict(intent: Intent, confidence: float) -> Verdict:
    return Verdict(
        sentiment=Sentiment.neutral,
        sentiment_confidence=0.6,
        intent=intent,
        intent_confidence=confidence,
        needs_human=confidence < 0.5,
        model_version="test-1",
    )


def _sample() -> dict[str, Mention]:
    lines = (SAMPLES / "mentions.jsonl").read_text(encoding="utf-8").splitlines()[:-2]
    return {
        m.external_id: m.model_copy(update={"matched_queries": ("brand:Lumora",)})
        for m in (Mention.model_validate_json(line) for line in lines)
    }


@pytest.fixture
def demo_crm(engine: Engine) -> Engine:
    companies = import_companies_csv(SAMPLES / "companies.csv")
    contacts = import_csv(SAMPLES / "contacts.csv", companies.companies)
    with engine.begin() as c:
        for company in companies.companies:
            save_company(c, company)
        for contact in contacts.contacts:
            save_contact(c, contact)
        for consent in contacts.consents:
            save_consent(c, consent)
    return engine


def _store(engine: Engine, chosen: list[tuple[Mention, Verdict]]) -> dict[str, int]:
    with engine.begin() as c:
        ids = save_mentions(c, [m for m, _ in chosen])
        save_verdicts(c, [(ids[m.key], v) for m, v in chosen], NOW)
        directory = SqlContactDirectory(c)
        directory.prefetch_handles(author_handle(m) for m, _ in chosen)
        index = CompanyIndex(directory.companies())
        batch = [
            Enriched(ids[m.key], m, v, enrich(m, v, directory, DEFAULT_ROUTING, NOW, timedelta(days=180), index))
            for m, v in chosen
        ]
        save_enrichments(c, batch, None)
    return {m.external_id: ids[m.key] for m, _ in chosen}


def _consumer_question(sample: dict[str, Mention]) -> Mention:
    base = sample[OAKRIDGE]
    return base.model_copy(
        update={
            "external_id": "1999999999999999999",
            "author": base.author.model_copy(update={"handle": "anon_buyer", "name": None, "followers": 40}),
            "text": "Thinking of buying a Lumora Glow starter kit, is it worth it?",
        }
    )


def test_the_feed_ranks_the_crm_prospects_volume_ask_first_with_its_contact_and_company(demo_crm: Engine) -> None:
    sample = _sample()
    _store(
        demo_crm,
        [
            (_consumer_question(sample), _verdict(Intent.purchase_intent, 0.9)),
            (sample[OAKRIDGE], _verdict(Intent.other, 0.41)),
            (sample[CAFES], _verdict(Intent.question, 0.7)),
        ],
    )

    with demo_crm.connect() as c:
        feed = lead_store.lead_feed(c, NOW)

    assert [lead.author for lead in feed][:2] in (["rachelkim_re", "gregnolan"], ["gregnolan", "rachelkim_re"])
    assert feed[-1].author == "anon_buyer" and feed[-1].contact_id is None
    assert [lead.score for lead in feed] == sorted((lead.score for lead in feed), reverse=True)
    oakridge = next(lead for lead in feed if lead.author == "rachelkim_re")
    assert (oakridge.contact_id, oakridge.contact_name) == ("c-0024", "Rachel Kim")
    assert (oakridge.company_id, oakridge.company_name) == ("co-006", "Oakridge Realty")
    assert "quantity" in oakridge.signals and "300 units" in oakridge.explanation
    assert [p["name"] for p in oakridge.parts] == ["intent", "signal", "crm", "reach", "recency"]


def test_dismissal_needs_a_reason_and_is_kept_as_training_feedback(demo_crm: Engine) -> None:
    sample = _sample()
    ids = _store(demo_crm, [(sample[CAFES], _verdict(Intent.question, 0.7))])
    mention_id = ids[CAFES]

    with demo_crm.begin() as c, pytest.raises(lead_store.LeadStateError, match="say why"):
        lead_store.dismiss(c, mention_id, "   ", actor="sam@sales")
    with demo_crm.begin() as c:
        lead_store.dismiss(c, mention_id, "existing account: handled by account management", actor="sam@sales")

    with demo_crm.connect() as c:
        [dismissal] = lead_dismissals(c)
        action = c.execute(select(triage_feedback.c.action, triage_feedback.c.model_intent)).one()
        assert lead_store.lead_feed(c, NOW) == []
    assert dismissal.reason == "existing account: handled by account management"
    assert dismissal.model_intent == "question" and "volume pricing" in dismissal.text
    assert tuple(action) == ("dismiss_lead", "question")

    _store(demo_crm, [(sample[CAFES], _verdict(Intent.purchase_intent, 0.9))])  # a re-run keeps the decision
    with demo_crm.connect() as c:
        state, score = c.execute(select(leads.c.state, leads.c.score)).one()
    assert state == "dismissed" and score > 0


def test_accept_with_owner_and_snooze_until_a_time(demo_crm: Engine) -> None:
    sample = _sample()
    ids = _store(
        demo_crm,
        [(sample[OAKRIDGE], _verdict(Intent.other, 0.41)), (sample[CAFES], _verdict(Intent.question, 0.7))],
    )

    with demo_crm.begin() as c:
        lead_store.accept(c, ids[OAKRIDGE], actor="lead@sales", owner="sam@sales")
        lead_store.snooze(c, ids[CAFES], NOW + timedelta(days=2), actor="sam@sales")

    with demo_crm.connect() as c:
        [accepted] = lead_store.lead_feed(c, NOW)
        later = lead_store.lead_feed(c, NOW + timedelta(days=3))
        mine = lead_store.lead_feed(c, NOW, owner="sam@sales")
    assert (accepted.author, accepted.state, accepted.owner) == ("rachelkim_re", "accepted", "sam@sales")
    assert {lead.author for lead in later} == {"rachelkim_re", "gregnolan"}
    assert next(lead for lead in later if lead.author == "gregnolan").state == "new"
    assert [lead.author for lead in mine] == ["rachelkim_re"]
    with demo_crm.begin() as c, pytest.raises(lead_store.LeadStateError, match="not a lead"):
        lead_store.accept(c, 987654, actor="x")


def test_an_inbox_channel_never_says_a_crm_got_the_lead(demo_crm: Engine) -> None:
    sample = _sample()
    _store(demo_crm, [(sample[OAKRIDGE], _verdict(Intent.other, 0.41))])
    queue = SqlDeliveryQueue(demo_crm)

    assert queue.deliver_to_inbox(["sales"], NOW) == 1

    with demo_crm.connect() as c:
        status = c.execute(select(deliveries.c.status, deliveries.c.delivered_at)).one()
        [lead] = lead_store.lead_feed(c, NOW)
    assert tuple(status) == (DeliveryStatus.in_inbox.value, None)
    assert [(s.status, s.detail) for s in lead.crm] == [
        ("in the web inbox only", "this channel sends nothing to a CRM")
    ]


def test_a_crm_receipt_is_kept_and_its_owner_and_stage_read_back_onto_the_contact(demo_crm: Engine) -> None:
    sample = _sample()
    _store(demo_crm, [(sample[OAKRIDGE], _verdict(Intent.other, 0.41))])
    queue = SqlDeliveryQueue(demo_crm)
    [due] = queue.claim(NOW, 10)
    receipt = {
        "system": "hubspot",
        "contact": {"id": "512", "created": False, "owner_id": "8192", "lifecycle_stage": "salesqualifiedlead"},
        "company": {"id": "731", "created": True},
        "associated": True,
    }

    failed = due.model_copy(
        update={
            "status": DeliveryStatus.failed,
            "attempts": 1,
            "last_error": "hubspot note: HTTP 500",
            "receipt": receipt,
        }
    )
    queue.save_many([failed])
    with demo_crm.connect() as c:
        [lead] = lead_store.lead_feed(c, NOW)
    assert lead.crm[0].status == "failed"
    assert lead.crm[0].detail == "hubspot note: HTTP 500 (already stored: hubspot contact 512, company 731)"

    sent = failed.model_copy(
        update={
            "status": DeliveryStatus.delivered,
            "attempts": 2,
            "last_error": None,
            "receipt": {**receipt, "note": {"id": "9001", "created": True}},
        }
    )
    queue.save_many([sent])

    with demo_crm.connect() as c:
        [lead] = lead_store.lead_feed(c, NOW)
        [state] = lead_store.contact_crm_state(c, "c-0024")
        stored = c.execute(select(deliveries.c.receipt)).scalar_one()
    assert (lead.crm[0].status, lead.crm[0].detail) == ("sent", "hubspot contact 512, company 731, note 9001")
    assert (state.system, state.external_id, state.company_external_id) == ("hubspot", "512", "731")
    assert (state.owner_id, state.lifecycle_stage) == ("8192", "salesqualifiedlead")
    assert stored["note"]["id"] == "9001"


def test_erasing_a_contact_removes_their_leads_and_crm_records(demo_crm: Engine) -> None:
    sample = _sample()
    _store(demo_crm, [(sample[OAKRIDGE], _verdict(Intent.other, 0.41))])
    with demo_crm.begin() as c:
        lead_store.record_crm_receipts(c, [("c-0024", {"system": "hubspot", "contact": {"id": "512"}})])

    with demo_crm.begin() as c:
        report = erase_contact(c, "c-0024", actor="dpo")

    assert report.deleted["leads"] == 1 and report.deleted["crm_records"] == 1
    with demo_crm.connect() as c:
        assert c.execute(select(leads)).all() == [] and c.execute(select(crm_records)).all() == []
