"""Every API route × every role (and no token): who gets in, and who gets 403.

The table is the specification; a route added to the app without a row here fails the first test.
Allowed roles may still get 404 for a record outside their scope, never 401/403.
"""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from storage.tokens import Role
from tests.api.seed import Seeded

A, SE, SA, M, P, C = Role.admin, Role.service, Role.sales, Role.marketing, Role.privacy, Role.communications
PUBLIC = frozenset(Role)
RECORDS = frozenset({A, SE, SA})
METRICS = frozenset({A, SE, SA, M, C})
PEOPLE = frozenset({A, P})

MATRIX: dict[tuple[str, str], frozenset[Role]] = {
    ("GET", "/api/health"): PUBLIC,
    ("GET", "/api/ready"): PUBLIC,
    ("GET", "/api/mentions"): RECORDS,
    ("GET", "/api/mentions/{mention_id}"): RECORDS,
    ("GET", "/api/mentions/{mention_id}/feedback"): RECORDS,
    ("POST", "/api/mentions/{mention_id}/assign"): RECORDS,
    ("POST", "/api/mentions/{mention_id}/resolve"): RECORDS,
    ("POST", "/api/mentions/{mention_id}/snooze"): RECORDS,
    ("POST", "/api/mentions/{mention_id}/relabel"): RECORDS,
    ("GET", "/api/leads"): frozenset({A, SA}),
    ("POST", "/api/leads/{mention_id}/accept"): frozenset({A, SA}),
    ("POST", "/api/leads/{mention_id}/dismiss"): frozenset({A, SA}),
    ("POST", "/api/leads/{mention_id}/snooze"): frozenset({A, SA}),
    ("GET", "/api/contacts"): frozenset({A, SE, SA, P}),
    ("GET", "/api/contacts/{contact_id}"): frozenset({A, SE, SA, P}),
    ("GET", "/api/contacts/{contact_id}/consents"): frozenset({A, SE, SA, P}),
    ("POST", "/api/contacts/{contact_id}/consents"): PEOPLE,
    ("GET", "/api/routes"): RECORDS,
    ("GET", "/api/deliveries"): RECORDS,
    ("POST", "/api/deliveries/{delivery_id}/retry"): RECORDS,
    ("GET", "/api/rules"): METRICS,
    ("POST", "/api/rules/dry-run"): frozenset({A}),
    ("GET", "/api/metrics/kpis"): METRICS,
    ("GET", "/api/metrics/volume"): METRICS,
    ("GET", "/api/metrics/sentiment"): METRICS,
    ("GET", "/api/metrics/share-of-voice"): METRICS,
    ("GET", "/api/metrics/top-sources"): METRICS,
    ("GET", "/api/metrics/top-authors"): METRICS,
    ("GET", "/api/metrics/top-terms"): METRICS,
    ("POST", "/api/gdpr/contacts/{contact_id}/export"): PEOPLE,
    ("POST", "/api/gdpr/contacts/{contact_id}/erase"): PEOPLE,
    ("GET", "/api/gdpr/contacts/{contact_id}/audit"): PEOPLE,
    ("GET", "/api/gdpr/authors"): PEOPLE,
    ("POST", "/api/gdpr/authors/{source}/{handle}/export"): PEOPLE,
    ("POST", "/api/gdpr/authors/{source}/{handle}/erase"): PEOPLE,
    ("GET", "/api/gdpr/authors/{source}/{handle}/audit"): PEOPLE,
    ("GET", "/api/sources"): frozenset({A}),
    ("GET", "/api/tokens"): frozenset({A}),
    ("POST", "/api/tokens"): frozenset({A}),
    ("POST", "/api/tokens/{name}/revoke"): frozenset({A}),  # no such token: 404 for the admin
    ("GET", "/api/queue"): RECORDS,
    ("GET", "/api/flagged"): frozenset({A, C}),  # spam review: not every triage role
    ("GET", "/api/mentions/{mention_id}/workspace"): RECORDS,
    ("POST", "/api/mentions/{mention_id}/assign-to"): RECORDS,
    ("POST", "/api/mentions/{mention_id}/status"): RECORDS,
    ("POST", "/api/mentions/{mention_id}/notes"): RECORDS,
    ("POST", "/api/mentions/{mention_id}/replying"): RECORDS,
    ("DELETE", "/api/mentions/{mention_id}/replying"): RECORDS,
    ("POST", "/api/mentions/{mention_id}/replies"): RECORDS,
    ("POST", "/api/mentions/{mention_id}/canned"): RECORDS,
    ("GET", "/api/canned"): RECORDS,
    ("PUT", "/api/canned"): RECORDS,
    ("DELETE", "/api/canned/{name}"): RECORDS,
}

BODIES: dict[str, dict[str, Any]] = {
    "assign": {"assignee": "matrix"},
    "snooze": {"hours": 1},
    "relabel": {"intent": "complaint"},
    "consents": {"basis": "consent", "source": "matrix", "granted_at": "2026-01-01T00:00:00Z"},
    "dry-run": {"rule": {"name": "matrix", "team": "sales"}, "recent": 5},
    "erase": {"confirm": True},
    "accept": {},
    "dismiss": {"reason": "matrix"},  # the mention is a complaint, not a lead: 404 for those allowed
    "tokens": {"name": "matrix", "role": "marketing", "days": 1},  # 201 the first time, 409 after
}


def _request(client: TestClient, method: str, path: str, headers: dict[str, str], ids: dict[str, str]) -> int:
    url = path.format(**ids) if "{source}" not in path else path
    if path.startswith("/api/gdpr") or (method == "POST" and "{contact_id}" in path):
        # Never export, erase or record a consent for a real person here: other tests read them.
        url = path.format(contact_id="c-nobody", source="x", handle="nobody-matrix")
    body = BODIES.get(path.rsplit("/", 1)[-1])
    return client.request(method, url, headers=headers, json=body if method == "POST" else None).status_code


@pytest.fixture
def ids(client: TestClient, seeded: Seeded) -> dict[str, str]:
    service = seeded.auth(Role.service)
    complaint = client.get("/api/mentions", params={"intent": "complaint", "limit": 1}, headers=service).json()
    linked = client.get("/api/contacts", params={"limit": 1}, headers=service).json()
    return {
        "mention_id": str(complaint["items"][0]["id"]),
        "contact_id": linked[0]["id"],
        "delivery_id": "2147483000",
        "name": "nobody-matrix",
    }


def test_the_matrix_names_every_api_route(client: TestClient) -> None:
    # The published document lists every API operation (web pages are left out of it on purpose).
    paths = client.get("/api/openapi.json").json()["paths"]
    routes = {(method.upper(), path) for path, operations in paths.items() for method in operations}
    assert routes == set(MATRIX)


@pytest.mark.parametrize("role", list(Role), ids=str)
def test_each_role_reaches_exactly_the_routes_the_matrix_allows(
    client: TestClient, seeded: Seeded, ids: dict[str, str], role: Role
) -> None:
    outcomes = {
        (method, path): _request(client, method, path, seeded.auth(role), ids) for method, path in sorted(MATRIX)
    }
    wrongly_denied = {k: s for k, s in outcomes.items() if role in MATRIX[k] and s in (401, 403)}
    wrongly_allowed = {k: s for k, s in outcomes.items() if role not in MATRIX[k] and s != 403}
    server_errors = {k: s for k, s in outcomes.items() if s >= 500}
    assert wrongly_denied == {}
    assert wrongly_allowed == {}
    assert server_errors == {}


def test_without_a_token_only_health_and_readiness_answer(client: TestClient, ids: dict[str, str]) -> None:
    for method, path in sorted(MATRIX):
        status = _request(client, method, path, {}, ids)
        assert status == (200 if MATRIX[(method, path)] == PUBLIC else 401), (method, path)
