"""Routes, deliveries and retry; routing rules and a dry run of a new rule on recent mentions."""

from __future__ import annotations

from fastapi.testclient import TestClient

from enrichers.model import DeliveryStatus
from storage.outbox import SqlOutbox
from storage.schema import now_utc
from storage.tokens import Role
from tests.api.seed import DEMO_CONFIG, Seeded


def test_a_team_lists_only_its_own_routes_with_their_deliveries(client: TestClient, seeded: Seeded) -> None:
    routes = client.get("/api/routes", params={"limit": 500}, headers=seeded.auth(Role.sales)).json()
    assert routes and {r["team"] for r in routes} == {"sales"}
    assert all(r["deliveries"] for r in routes)
    everyone = client.get("/api/routes", params={"limit": 500}, headers=seeded.auth(Role.admin)).json()
    assert len({r["team"] for r in everyone}) > 1


def test_a_failed_delivery_can_be_retried_and_a_pending_one_cannot(client: TestClient, seeded: Seeded) -> None:
    service = seeded.auth(Role.service)
    pending = client.get("/api/deliveries", params={"status": "pending"}, headers=service).json()
    assert len(pending) >= 2
    first, second = pending[0], pending[1]
    conflict = client.post(f"/api/deliveries/{first['id']}/retry", headers=service)
    assert conflict.status_code == 409 and "only failed or dead" in conflict.json()["detail"]

    with seeded.engine.begin() as connection:
        key = connection.exec_driver_sql(f"SELECT idempotency_key FROM deliveries WHERE id = {second['id']}").scalar()
        SqlOutbox(connection).mark(key, DeliveryStatus.dead, attempts=5, error="receiver said 410 Gone")
    retried = client.post(f"/api/deliveries/{second['id']}/retry", headers=service)
    assert retried.status_code == 200, retried.text
    with seeded.engine.connect() as connection:
        due = [d.id for d in SqlOutbox(connection).due(now_utc(), limit=100_000)]
    assert second["id"] in due


def test_another_teams_delivery_is_not_found(client: TestClient, seeded: Seeded) -> None:
    sales_delivery = client.get("/api/deliveries", headers=seeded.auth(Role.sales)).json()[0]
    response = client.post(f"/api/deliveries/{sales_delivery['id']}/retry", headers=seeded.auth(Role.service))
    assert response.status_code == 404


def test_the_rules_are_listed_in_the_order_they_are_checked(client: TestClient, seeded: Seeded) -> None:
    rules = client.get("/api/rules", headers=seeded.auth(Role.marketing)).json()
    assert [r["name"] for r in rules] == [r.name for r in DEMO_CONFIG.routing.rules]
    complaint = next(r for r in rules if r["name"] == "complaint")
    assert complaint["when"] == {"intent": ["complaint"], "min_confidence": 0.5}
    assert complaint["respond_within_seconds"] == 7200


def test_a_dry_run_reports_what_a_new_rule_would_match_and_why(client: TestClient, seeded: Seeded) -> None:
    rule = {"name": "angry-reddit", "when": {"source": "reddit", "sentiment": "negative"}, "team": "product"}
    result = client.post("/api/rules/dry-run", json={"rule": rule, "recent": 300}, headers=seeded.auth(Role.admin))
    assert result.status_code == 200, result.text
    body = result.json()
    assert body["valid"] and body["checked"] == 300
    assert 0 < body["matched"] < 300
    for example in body["examples"]:
        assert example["source"] == "reddit"
        assert "rule 'angry-reddit' matched" in example["explanation"]
        assert "sentiment negative is in [negative]" in example["explanation"]


def test_a_dry_run_of_a_broken_rule_says_what_to_fix(client: TestClient, seeded: Seeded) -> None:
    rule = {"name": "typo", "when": {"intnt": "complaint"}, "team": "customer_service"}
    body = client.post("/api/rules/dry-run", json={"rule": rule}, headers=seeded.auth(Role.admin)).json()
    assert body["valid"] is False
    assert body["problems"] == [
        "routing.rules[0] ('typo').when.intnt: unknown setting 'intnt' (did you mean 'intent'? known: intent, "
        "sentiment, min_confidence, max_confidence, needs_human, source, language, min_followers, segment, query, "
        "competitor, mentions_competitor, keywords, company_class, buying_signals, min_lead_score, spam, owned, about_competitor)"
    ]


def test_only_admins_dry_run_rules_because_results_quote_posts(client: TestClient, seeded: Seeded) -> None:
    rule = {"name": "x", "team": "sales"}
    for role in (Role.service, Role.sales, Role.marketing, Role.privacy):
        assert client.post("/api/rules/dry-run", json={"rule": rule}, headers=seeded.auth(role)).status_code == 403
