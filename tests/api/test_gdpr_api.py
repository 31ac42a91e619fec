"""GDPR requests through the API: only privacy and admin run them; each is audited; erasure is complete."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from overheard.api import create_app
from storage.tokens import Role
from tests.api.seed import DEMO_CONFIG, MemoClassifier, Seeded, seed


def test_privacy_exports_everything_kept_on_a_contact_and_the_export_is_audited(
    client: TestClient, seeded: Seeded
) -> None:
    response = client.post("/api/gdpr/contacts/c-0001/export", headers=seeded.auth(Role.privacy))
    assert response.status_code == 200, response.text
    document = response.json()
    assert document["contact_id"] == "c-0001"
    assert document["tables"]["contacts"][0]["name"] == "Priya Raman"
    assert document["tables"]["mentions"], "her posts are part of what we keep"
    trail = client.get("/api/gdpr/contacts/c-0001/audit", headers=seeded.auth(Role.privacy)).json()
    assert ("privacy-tester", "gdpr.export") in [(e["actor"], e["action"]) for e in trail]


def test_only_privacy_and_admin_may_export_erase_or_read_the_audit_trail(client: TestClient, seeded: Seeded) -> None:
    for role in (Role.service, Role.sales, Role.marketing):
        headers = seeded.auth(role)
        assert client.post("/api/gdpr/contacts/c-0001/export", headers=headers).status_code == 403
        assert (
            client.post("/api/gdpr/contacts/c-0001/erase", json={"confirm": True}, headers=headers).status_code == 403
        )
        assert client.get("/api/gdpr/contacts/c-0001/audit", headers=headers).status_code == 403


def test_an_unknown_contact_is_404_and_erasure_needs_confirmation(client: TestClient, seeded: Seeded) -> None:
    privacy = seeded.auth(Role.privacy)
    assert client.post("/api/gdpr/contacts/c-nobody/export", headers=privacy).status_code == 404
    assert client.post("/api/gdpr/contacts/c-0001/erase", json={}, headers=privacy).status_code == 422
    assert client.post("/api/gdpr/contacts/c-0001/erase", json={"confirm": False}, headers=privacy).status_code == 422


def test_erasing_a_contact_removes_their_profile_and_posts_from_every_view(
    engine: Engine, memo_classifier: MemoClassifier
) -> None:
    seeded = seed(engine, memo_classifier)
    client = TestClient(create_app(engine, DEMO_CONFIG))
    before = client.get("/api/contacts/c-0001", headers=seeded.auth(Role.admin)).json()
    post_ids = [m["id"] for m in before["mentions"]]
    assert post_ids

    erased = client.post("/api/gdpr/contacts/c-0001/erase", json={"confirm": True}, headers=seeded.auth(Role.privacy))
    assert erased.status_code == 200, erased.text
    report = erased.json()
    assert report["deleted"]["contacts"] == 1 and report["tombstoned_mentions"] >= len(post_ids)

    admin = seeded.auth(Role.admin)
    assert client.get("/api/contacts/c-0001", headers=admin).status_code == 404
    assert all(client.get(f"/api/mentions/{i}", headers=admin).status_code == 404 for i in post_ids)
    assert client.get("/api/contacts", params={"q": "priya"}, headers=admin).json() == []
    trail = client.get("/api/gdpr/contacts/c-0001/audit", headers=admin).json()
    assert [e["action"] for e in trail][-1] == "gdpr.erase"
