"""Every enrichment explains itself: each finding and route keeps its full audit record, shown in the GDPR
export and in the contact 360° (API and web) — "why is this on my profile?" answered in one view."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from overheard.api import create_app
from overheard.pipeline import Runtime, sweep
from overheard.services import Caller, gdpr
from overheard.sources import build_collectors
from storage.schema import findings, routes
from storage.tokens import Role, create_token
from tests.conftest import sign_in
from tests.listener.replay import ReplayServer
from tests.trust.conftest import TOOT_ID, CueClassifier, serve_collection

CONTACT = "c-hoot"
THRESHOLDS = {"sentiment": 0.55, "intent": {"complaint": 0.6, "purchase_intent": 0.7}}


def _collect(platform: ReplayServer, runtime: Runtime) -> None:
    serve_collection(platform)
    for collector in build_collectors(runtime.config):
        sweep(runtime, collector)


def _assert_full_record(why: dict[str, Any], toot_url: str) -> None:
    assert why["contact_id"] == CONTACT
    assert why["platform"] == "mastodon" and why["platform_id"].endswith(f"/statuses/{TOOT_ID}")
    assert why["url"] == toot_url and why["collected_at"]
    assert why["model_version"] == CueClassifier.version and why["thresholds"] == THRESHOLDS
    assert (why["intent"], why["intent_confidence"]) == ("complaint", 0.92)
    assert (why["sentiment"], why["sentiment_confidence"]) == ("negative", 0.81)
    assert why["reasons"] == ["complaint cue in '#hoot (hashtag toot)'"]
    assert "mastodonpy_test_2" in why["link_evidence"] and 0 < why["link_confidence"] <= 1
    assert why["basis"] == "consent (signup_form)"
    assert why["approved_by"] == "rule:finding_policy"
    assert [r["basis"] for r in why["consent_records"]] == ["consent"]
    for words in (toot_url, "cue-test-1", "complaint (92%)", "consent (signup_form)", "rule:finding_policy"):
        assert words in why["summary"], words


def test_each_finding_and_route_keeps_its_full_audit_record(platform: ReplayServer, runtime: Runtime) -> None:
    _collect(platform, runtime)
    with runtime.engine.connect() as connection:
        [finding] = connection.execute(select(findings)).all()
        by_team = {(r.source, r.team): r for r in connection.execute(select(routes).order_by(routes.c.id))}
    assert finding.contact_id == CONTACT and finding.collected_at is not None
    assert finding.model_version == CueClassifier.version and finding.thresholds == THRESHOLDS
    assert finding.sentiment_confidence == 0.81 and finding.approved_by == "rule:finding_policy"
    toot_route = by_team[("mastodon", "customer_service")]
    assert toot_route.approved_by == "rule:complaint" and toot_route.basis == "consent (signup_form)"
    assert toot_route.model_version == CueClassifier.version and toot_route.thresholds == THRESHOLDS
    assert toot_route.collected_at == finding.collected_at
    evidence = toot_route.evidence
    assert evidence["url"] == finding.url and evidence["platform_id"] == finding.external_id
    assert evidence["verdict"]["intent_confidence"] == 0.92 and evidence["verdict"]["reasons"]
    assert evidence["link"]["contact_id"] == CONTACT and evidence["link"]["confidence"] == finding.link_confidence
    # A post by someone who is not a contact is routed on the public mention alone, and says so.
    hn_route = by_team[("hackernews", "customer_service")]
    assert hn_route.evidence["link"] is None and hn_route.basis.startswith("no contact involved")


def test_the_gdpr_export_answers_why_each_finding_is_on_the_profile(platform: ReplayServer, runtime: Runtime) -> None:
    _collect(platform, runtime)
    document = gdpr.export(runtime.engine, Caller.operator("dpo"), CONTACT)
    [why] = document["why_on_profile"]
    toot_url = document["tables"]["findings"][0]["url"]
    _assert_full_record(why, toot_url)
    [route] = document["tables"]["routes"]
    assert route["approved_by"] == "rule:complaint" and route["evidence"]["link"]["contact_id"] == CONTACT


def test_the_contact_360_shows_the_audit_records_in_the_api_and_the_web(
    platform: ReplayServer, runtime: Runtime
) -> None:
    _collect(platform, runtime)
    with runtime.engine.begin() as connection:
        secret, _ = create_token(connection, "dpo", Role.privacy)
    client = TestClient(create_app(runtime.engine, runtime.config))
    answer = client.get(f"/api/contacts/{CONTACT}", headers={"Authorization": f"Bearer {secret}"})
    assert answer.status_code == 200, answer.text
    view = answer.json()
    [why] = view["why"]
    _assert_full_record(why, view["findings"][0]["url"])
    assert [(r["team"], r["approved_by"]) for r in view["route_records"]] == [("customer_service", "rule:complaint")]
    assert view["route_records"][0]["evidence"]["verdict"]["sentiment"] == "negative"

    sign_in(client, secret)
    page = client.get(f"/contacts/{CONTACT}")
    assert page.status_code == 200
    for words in ("Why is this on the profile?", CueClassifier.version, "sentiment 0.55", "rule:finding_policy"):
        assert words in page.text, words
    assert "approved by rule:complaint" in page.text
