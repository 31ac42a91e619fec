"""Tokens, rate limits, health and readiness, and the aggregates marketing works from."""

from __future__ import annotations

from fastapi.testclient import TestClient

from overheard.api import create_app
from storage.tokens import Role, revoke
from tests.api.seed import DEMO_CONFIG, Seeded


def test_a_request_without_a_token_or_with_a_wrong_one_is_401(client: TestClient, seeded: Seeded) -> None:
    missing = client.get("/api/mentions")
    assert missing.status_code == 401 and missing.headers["WWW-Authenticate"] == "Bearer"
    assert "overheard tokens create" in missing.json()["detail"]
    assert client.get("/api/mentions", headers={"Authorization": "Bearer ohk_wrong"}).status_code == 401


def test_a_revoked_token_stops_working(client: TestClient, seeded: Seeded) -> None:
    from storage.tokens import create_token

    with seeded.engine.begin() as connection:
        secret, _ = create_token(connection, "leaving-soon", Role.admin)
    headers = {"Authorization": f"Bearer {secret}"}
    assert client.get("/api/rules", headers=headers).status_code == 200
    with seeded.engine.begin() as connection:
        assert revoke(connection, "leaving-soon")
    assert client.get("/api/rules", headers=headers).status_code == 401


def test_each_token_has_its_own_rate_limit(seeded: Seeded) -> None:
    client = TestClient(create_app(seeded.engine, DEMO_CONFIG, rate_limit_per_minute=3))
    statuses = [client.get("/api/rules", headers=seeded.auth(Role.service)).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    limited = client.get("/api/rules", headers=seeded.auth(Role.service))
    assert 1 <= int(limited.headers["Retry-After"]) <= 60
    assert client.get("/api/rules", headers=seeded.auth(Role.sales)).status_code == 200


def test_health_and_readiness_need_no_token(client: TestClient) -> None:
    assert client.get("/api/health").json() == {"status": "ok", "detail": None}
    assert client.get("/api/ready").json()["status"] == "ready"


def test_marketing_reads_kpis_and_share_of_voice_for_the_sample_period(client: TestClient, seeded: Seeded) -> None:
    marketing = seeded.auth(Role.marketing)
    period = {"end": "2026-11-21T00:00:00Z", "days": 60}
    kpis = client.get("/api/metrics/kpis", params=period, headers=marketing)
    assert kpis.status_code == 200, kpis.text
    assert kpis.json()["current"]["mentions"] >= 330
    voice = client.get("/api/metrics/share-of-voice", params=period, headers=marketing).json()
    assert {v["name"] for v in voice} >= {"Lumora", "Brightwave", "Nimbus Home"}
    assert abs(sum(v["share_by_mentions"] for v in voice) - 1) < 1e-9
    volume = client.get("/api/metrics/volume", params=period, headers=marketing).json()
    assert len(volume) in (60, 61)
    spike = max(volume, key=lambda p: p["mentions"])
    assert spike["bucket"].startswith("2026-11-12"), "the sample has a complaint spike on 12 November"


def test_marketing_slices_the_figures_and_topics_by_language(client: TestClient, seeded: Seeded) -> None:
    marketing = seeded.auth(Role.marketing)
    period = {"end": "2026-11-21T00:00:00Z", "days": 60}
    every = client.get("/api/metrics/kpis", params=period, headers=marketing).json()
    german = client.get("/api/metrics/kpis", params={**period, "language": "DE"}, headers=marketing)
    assert german.status_code == 200, german.text
    assert german.json()["language"] == "de"
    assert 0 < german.json()["current"]["mentions"] < every["current"]["mentions"]
    volume = client.get("/api/metrics/volume", params={**period, "language": "de"}, headers=marketing).json()
    assert sum(p["mentions"] for p in volume) == german.json()["current"]["mentions"]
    terms = client.get("/api/metrics/top-terms", params={**period, "language": "de"}, headers=marketing)
    assert terms.status_code == 200, terms.text
    found = {t["term"] for t in terms.json()["terms"]}
    assert found and not found & {"und", "die", "der", "nicht", "ist", "ich", "want", "every", "since"}
    assert terms.json()["mentions_read"] == german.json()["current"]["mentions"]
    bad = client.get("/api/metrics/kpis", params={**period, "language": "german"}, headers=marketing)
    assert bad.status_code == 422 and "language" in bad.text


def test_privacy_has_no_use_for_aggregates(client: TestClient, seeded: Seeded) -> None:
    assert client.get("/api/metrics/kpis", headers=seeded.auth(Role.privacy)).status_code == 403


def test_the_openapi_document_describes_the_bearer_scheme_and_every_route(client: TestClient) -> None:
    schema = client.get("/api/openapi.json").json()
    assert schema["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    assert {"/api/mentions", "/api/contacts/{contact_id}", "/api/gdpr/contacts/{contact_id}/erase"} <= set(
        schema["paths"]
    )
    assert not any(path.startswith("/inbox") for path in schema["paths"])  # web pages are not API
