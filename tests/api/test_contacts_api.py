"""Contacts: the 360° view, who may see which contact, consents, and the audit of every view."""

from __future__ import annotations

import html

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from overheard.api import create_app
from storage.audit import entries_for
from storage.tokens import Role, create_token
from tests.api.seed import DEMO_CONFIG, Seeded
from tests.conftest import sign_in
from tests.storage.test_save_enrichments import MENTIONS, _enrich_and_save


def _linked_contacts(client: TestClient, seeded: Seeded, role: Role) -> set[str]:
    """Contacts linked to any mention in the role's inbox, read through every page."""
    found: set[str] = set()
    params: dict[str, object] = {"limit": 200}
    while True:
        page = client.get("/api/mentions", params=params, headers=seeded.auth(role)).json()
        found |= {m["link"]["contact_id"] for m in page["items"] if m["link"] and m["link"]["contact_id"]}
        if page["next_cursor"] is None:
            return found
        params["cursor"] = page["next_cursor"]


def test_the_360_view_brings_identities_companies_consents_findings_and_routes(
    client: TestClient, seeded: Seeded
) -> None:
    view = client.get("/api/contacts/c-0001", headers=seeded.auth(Role.privacy))
    assert view.status_code == 200, view.text
    c = view.json()
    assert c["name"] == "Priya Raman"
    assert {(i["platform"], i["handle"]) for i in c["identities"]} >= {("x", "priya_r_ops")}
    assert [(m["name"], m["role"]) for m in c["companies"]] == [("Kestrel Cowork", "Head of Workplace")]
    assert [k["basis"] for k in c["consents"]] == ["legitimate_interest"]
    assert c["findings"], "Priya's posts are profiled under her legitimate-interest basis"
    assert all(f["basis"] for f in c["findings"])
    # both of her posts ask how to buy for 40 offices (the sample's intended label: purchase intent): a sales lead
    assert c["mentions"] and {r["team"] for r in c["routes"]} == {"sales"}
    assert all(r["deliveries"] for r in c["routes"])


def test_a_team_sees_only_contacts_linked_to_its_own_mentions(client: TestClient, seeded: Seeded) -> None:
    for_service = _linked_contacts(client, seeded, Role.service)
    for_admin = _linked_contacts(client, seeded, Role.admin)
    assert for_service, "the sample links some complaints and questions to CRM contacts"
    not_for_service = sorted(for_admin - for_service)
    assert not_for_service, "and some praise (routed to marketing only) too"

    seen = sorted(for_service)[0]
    assert client.get(f"/api/contacts/{seen}", headers=seeded.auth(Role.service)).status_code == 200
    assert client.get(f"/api/contacts/{not_for_service[0]}", headers=seeded.auth(Role.service)).status_code == 404
    assert client.get(f"/api/contacts/{seen}", headers=seeded.auth(Role.sales)).status_code == 404
    listed = client.get("/api/contacts", params={"limit": 200}, headers=seeded.auth(Role.service)).json()
    assert {c["id"] for c in listed} == for_service


def test_marketing_may_not_open_contacts(client: TestClient, seeded: Seeded) -> None:
    assert client.get("/api/contacts/c-0001", headers=seeded.auth(Role.marketing)).status_code == 403
    assert client.get("/api/contacts", headers=seeded.auth(Role.marketing)).status_code == 403


def test_search_finds_a_contact_by_email_handle_or_name(client: TestClient, seeded: Seeded) -> None:
    privacy = seeded.auth(Role.privacy)
    for query in ("priya.raman@kestrel", "@priya_r_ops", "raman"):
        found = client.get("/api/contacts", params={"q": query}, headers=privacy).json()
        assert "c-0001" in [c["id"] for c in found], query


def test_viewing_a_contact_is_audited_without_copying_personal_data(client: TestClient, seeded: Seeded) -> None:
    client.get("/api/contacts/c-0001", headers=seeded.auth(Role.admin))
    with seeded.engine.connect() as connection:
        trail = entries_for(connection, "contact", "c-0001")
    view = [e for e in trail if e.action == "contact.view" and e.actor == "admin-tester"]
    assert view
    assert "Priya" not in str([e.detail for e in trail])


def test_privacy_records_a_withdrawal_and_the_consent_is_no_longer_active(client: TestClient, seeded: Seeded) -> None:
    privacy = seeded.auth(Role.privacy)
    given = {"basis": "consent", "source": "dpo:test", "granted_at": "2026-01-01T00:00:00Z"}
    recorded = client.post("/api/contacts/c-0002/consents", json=given, headers=privacy)
    assert recorded.status_code == 200, recorded.text
    assert [k["active"] for k in recorded.json() if k["source"] == "dpo:test"] == [True]
    withdrawn = client.post(
        "/api/contacts/c-0002/consents", json={**given, "withdrawn_at": "2026-02-01T00:00:00Z"}, headers=privacy
    ).json()
    assert [k["active"] for k in withdrawn if k["source"] == "dpo:test"] == [False]
    sales_try = client.post("/api/contacts/c-0002/consents", json=given, headers=seeded.auth(Role.sales))
    assert sales_try.status_code == 403


def test_a_contact_360_shows_a_team_only_the_findings_of_its_own_mentions_on_api_and_page(crm: Engine) -> None:
    """Jane complains (customer service) and asks to buy (sales): each team opens her, and sees its own finding only."""
    _enrich_and_save(
        crm, [("jane_complains_on_x", "complaint"), ("jane_asks_on_mastodon_local_handle", "purchase_intent")]
    )
    with crm.begin() as connection:
        tokens = {role: create_token(connection, f"{role.value}-jane", role)[0] for role in Role}
    client = TestClient(create_app(crm, DEMO_CONFIG))
    complaint, lead = MENTIONS["jane_complains_on_x"], MENTIONS["jane_asks_on_mastodon_local_handle"]
    seen = {
        Role.sales: ("purchase_intent", lead, complaint),
        Role.service: ("complaint", complaint, lead),
    }
    for role, (intent, own, other) in seen.items():
        view = client.get("/api/contacts/c-jane", headers={"Authorization": f"Bearer {tokens[role]}"})
        assert view.status_code == 200, view.text
        body = view.json()
        assert [f["intent"] for f in body["findings"]] == [intent], role
        assert [w["intent"] for w in body["why"]] == [intent], role
        assert own.text[:25] in view.text and other.text[:25] not in view.text, role
        assert other.external_id not in view.text, role

        client.cookies.clear()
        sign_in(client, tokens[role])
        page = client.get("/contacts/c-jane")
        assert page.status_code == 200
        assert html.escape(other.text[:25]) not in page.text and other.external_id not in page.text, role
        client.cookies.clear()
    everything = client.get("/api/contacts/c-jane", headers={"Authorization": f"Bearer {tokens[Role.privacy]}"})
    assert sorted(f["intent"] for f in everything.json()["findings"]) == ["complaint", "purchase_intent"]
