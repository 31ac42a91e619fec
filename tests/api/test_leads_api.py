"""/api/leads: the ranked feed and the decisions over HTTP, with the same role policy as the pages."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient

from storage.schema import now_utc
from storage.tokens import Role
from tests.api.seed import Seeded


def test_the_feed_ranks_by_score_and_sales_dismisses_accepts_and_snoozes(client: TestClient, seeded: Seeded) -> None:
    answer = client.get("/api/leads", params={"state": "new", "limit": 200}, headers=seeded.auth(Role.sales))
    assert answer.status_code == 200, answer.text
    feed = answer.json()
    scores = [lead["score"] for lead in feed["leads"]]
    assert scores == sorted(scores, reverse=True) and feed["states"] == ["new"]
    top = feed["leads"][0]
    assert (top["contact_id"], top["company_name"]) == ("c-0017", "Fernhill Property Group")
    assert {p["name"] for p in top["parts"]} == {"intent", "signal", "crm", "reach", "recency"}
    dismissed, accepted, snoozed = (lead["mention_id"] for lead in feed["leads"][-3:])

    empty = client.post(f"/api/leads/{dismissed}/dismiss", json={"reason": ""}, headers=seeded.auth(Role.sales))
    assert empty.status_code == 422
    done = client.post(
        f"/api/leads/{dismissed}/dismiss", json={"reason": "a household question"}, headers=seeded.auth(Role.sales)
    )
    assert done.json() == {"mention_id": dismissed, "state": "dismissed", "owner": None, "snoozed_until": None}
    done = client.post(f"/api/leads/{accepted}/accept", json={}, headers=seeded.auth(Role.sales))
    assert done.json()["owner"] == "sales-tester"
    until = (now_utc() + timedelta(days=1)).isoformat()
    done = client.post(f"/api/leads/{snoozed}/snooze", json={"until": until}, headers=seeded.auth(Role.sales))
    assert done.status_code == 200, done.text
    past = (now_utc() - timedelta(days=1)).isoformat()
    late = client.post(f"/api/leads/{accepted}/snooze", json={"until": past}, headers=seeded.auth(Role.sales))
    assert late.status_code == 400 and "in the future" in late.text

    after = client.get("/api/leads", params={"state": "new", "limit": 200}, headers=seeded.auth(Role.sales)).json()
    assert {dismissed, accepted, snoozed}.isdisjoint(lead["mention_id"] for lead in after["leads"])
    gone = client.get("/api/leads", params={"state": "dismissed"}, headers=seeded.auth(Role.admin)).json()
    assert [(d["mention_id"], d["dismiss_reason"]) for d in gone["leads"] if d["mention_id"] == dismissed] == [
        (dismissed, "a household question")
    ]


def test_other_roles_are_refused_and_an_unknown_lead_is_not_found(client: TestClient, seeded: Seeded) -> None:
    for role in (Role.service, Role.marketing, Role.privacy):
        assert client.get("/api/leads", headers=seeded.auth(role)).status_code == 403
        answer = client.post("/api/leads/1/dismiss", json={"reason": "x"}, headers=seeded.auth(role))
        assert answer.status_code == 403
    missing = client.post("/api/leads/999999999/accept", json={}, headers=seeded.auth(Role.sales))
    assert missing.status_code == 404 and "is not a lead" in missing.text
    assert client.get("/api/leads", params={"state": "won"}, headers=seeded.auth(Role.sales)).status_code == 422
