"""A contact's findings and their "why" are read through the viewer's scope, like the mentions behind them.

Jane complains (routed to customer service) and asks about buying (routed to sales): sales reading her 360°
must not see the complaint's finding, its text, URL, verdict or reasons, and service must not see the lead's.
Runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import json

import pytest
from pydantic import TypeAdapter
from sqlalchemy import Engine

from storage.inbox import ContactView, Scope, contact_view
from storage.provenance import explain_contact, explanation_document
from tests.storage.test_save_enrichments import MENTIONS, _enrich_and_save

SERVICE = Scope(team="customer_service", intents=("complaint", "question"))
SALES = Scope(team="sales", intents=("purchase_intent",))


@pytest.fixture
def jane(crm: Engine) -> Engine:
    batch = _enrich_and_save(
        crm, [("jane_complains_on_x", "complaint"), ("jane_asks_on_mastodon_local_handle", "purchase_intent")]
    )
    teams = {item.mention.external_id: {r.route.team.value for r in item.enrichment.routes} for item in batch}
    assert all(item.enrichment.finding is not None for item in batch), "both posts are profiled on Jane"
    assert teams[MENTIONS["jane_complains_on_x"].external_id] == {"customer_service"}
    assert "sales" in teams[MENTIONS["jane_asks_on_mastodon_local_handle"].external_id]
    assert "sales" not in teams[MENTIONS["jane_complains_on_x"].external_id]
    return crm


def test_sales_reading_a_contact_sees_no_complaint_finding_routed_only_to_service(jane: Engine) -> None:
    complaint = MENTIONS["jane_complains_on_x"]
    with jane.connect() as c:
        view = contact_view(c, SALES, "c-jane")
        why = explain_contact(c, "c-jane", SALES)
    assert view is not None, "Jane's lead is in sales' inbox, so sales may open her"
    assert [f.intent for f in view.findings] == ["purchase_intent"]
    assert [w.intent for w in why] == ["purchase_intent"]
    shown = TypeAdapter(ContactView).dump_json(view).decode() + json.dumps([explanation_document(w) for w in why])
    assert complaint.text[:30] not in shown and (complaint.url or complaint.external_id) not in shown


def test_service_reading_a_contact_sees_no_lead_finding_routed_only_to_sales(jane: Engine) -> None:
    with jane.connect() as c:
        view = contact_view(c, SERVICE, "c-jane")
        why = explain_contact(c, "c-jane", SERVICE)
    assert view is not None
    assert [f.intent for f in view.findings] == ["complaint"]
    assert [w.intent for w in why] == ["complaint"]


def test_admin_and_privacy_see_every_finding(jane: Engine) -> None:
    with jane.connect() as c:
        view = contact_view(c, Scope(), "c-jane")
        why = explain_contact(c, "c-jane", Scope())
    assert view is not None
    assert sorted(f.intent for f in view.findings) == ["complaint", "purchase_intent"]
    assert sorted(w.intent for w in why) == ["complaint", "purchase_intent"]
