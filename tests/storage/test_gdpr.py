"""GDPR export, erasure and retention read one registry and leave nothing behind."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, func, select, update

from enrichers.model import (
    Company,
    CompanyClass,
    Consent,
    Contact,
    Delivery,
    Finding,
    Identity,
    LawfulBasis,
    Membership,
    Route,
    Team,
)
from storage import task_runs
from storage.audit import as_json, entries_for, latest
from storage.contacts import save_company, save_consent, save_contact
from storage.gdpr import (
    Retention,
    UnknownContact,
    apply_retention,
    count_retention,
    erase_contact,
    export_contact,
)
from storage.mentions import save_mentions, save_verdicts
from storage.outbox import SqlFindingSink, SqlOutbox
from storage.personal_data import PERSONAL_DATA
from storage.schema import findings, mentions, metadata, tombstones
from storage.schema import task_runs as task_runs_table
from tests.storage.test_mentions_store import a_mention, a_verdict

NOW = datetime(2026, 11, 20, tzinfo=UTC)


def _jo_with_history(engine: Engine) -> None:
    with engine.begin() as c:
        save_company(
            c, Company(id="co-1", name="Northwind", domain="northwind.example", classification=CompanyClass.customer)
        )
        save_contact(
            c,
            Contact(
                id="c-0001",
                name="Jo Smith",
                emails=("jo@northwind.example",),
                identities=(Identity(platform="x", handle="Jo_Smith"),),
                memberships=(Membership(company_id="co-1", role="IT lead"),),
            ),
        )
        save_consent(
            c,
            Consent(
                contact_id="c-0001",
                basis=LawfulBasis.consent,
                source="signup_form",
                granted_at=NOW - timedelta(days=30),
            ),
        )
        mention_id = save_mentions(
            c, [a_mention("1001"), a_mention("1002", text="Lumora support never answers #LumoraFail")]
        )[("x", "1001")]
        save_verdicts(c, [(mention_id, a_verdict())])
        SqlOutbox(c).add(
            Route(
                source="x",
                external_id="1001",
                team=Team.customer_service,
                channel="service-webhook",
                rule="complaints",
                explanation="intent is complaint",
            ),
            [Delivery(idempotency_key="x:1001:customer_service:service-webhook", channel="service-webhook")],
        )
        SqlFindingSink(c).attach(
            Finding(
                contact_id="c-0001", source="x", external_id="1001", url=None, excerpt="My Lumora hub is offline again",
                sentiment="negative", intent="complaint", confidence=0.84, link_evidence="exact handle on x",
                link_confidence=1.0, basis="consent (signup_form)", created_at=NOW, expires_at=NOW + timedelta(days=180),
            )
        )  # fmt: skip


def test_export_holds_every_table_with_the_contacts_data(engine: Engine) -> None:
    _jo_with_history(engine)
    with engine.begin() as c:
        export = export_contact(c, "c-0001", actor="dpo")
    tables = export["tables"]
    assert tables["contacts"][0]["name"] == "Jo Smith"
    assert tables["contact_emails"][0]["email"] == "jo@northwind.example"
    assert {m["external_id"] for m in tables["mentions"]} == {"1001", "1002"}
    assert [t["value"] for t in tables["mention_tags"]] == ["lumorafail"]  # a hashtag can name people too
    assert tables["findings"][0]["excerpt"].startswith("My Lumora hub")
    assert tables["deliveries"][0]["idempotency_key"].startswith("x:1001")
    assert export["audit"][-1]["action"] == "gdpr.export"
    json.dumps(export)  # a person receives it as JSON


def test_erasure_leaves_no_personal_data_and_blocks_recollection(engine: Engine) -> None:
    _jo_with_history(engine)
    with engine.begin() as c:
        report = erase_contact(c, "c-0001", actor="dpo")
    assert report.tombstoned_mentions == 2
    with engine.begin() as c:
        for entry in PERSONAL_DATA:
            if entry.table == "quarantine":
                continue
            count = c.execute(select(func.count()).select_from(metadata.tables[entry.table])).scalar_one()
            assert count == 0, f"{entry.table} still holds {count} rows"
        reasons = set(c.execute(select(tombstones.c.reason)).scalars())
        save_mentions(c, [a_mention("1001")])  # the platform still serves the post
        assert c.execute(select(func.count()).select_from(mentions)).scalar_one() == 0
        trail = entries_for(c, "contact", "c-0001")
    assert reasons == {"erased_on_request"}
    assert trail[-1].action == "gdpr.erase"
    assert "Jo Smith" not in json.dumps(as_json(trail))


def test_unknown_contact_is_named_in_the_error(engine: Engine) -> None:
    with engine.begin() as c, pytest.raises(UnknownContact, match="c-9999"):
        export_contact(c, "c-9999", actor="dpo")


def test_retention_removes_expired_findings_and_old_mentions(engine: Engine) -> None:
    _jo_with_history(engine)
    with engine.begin() as c:
        removed = apply_retention(c, Retention(mentions_days=365), now=NOW + timedelta(days=200))
        assert removed["findings"] == 1
        assert removed["mentions"] == 0
        assert c.execute(select(func.count()).select_from(findings)).scalar_one() == 0
        removed = apply_retention(c, Retention(mentions_days=30), now=NOW + timedelta(days=200))
        assert removed["mentions"] == 2


def test_retention_dry_run_counts_what_the_run_then_deletes_and_deletes_nothing(engine: Engine) -> None:
    _jo_with_history(engine)
    later = NOW + timedelta(days=400)
    periods = Retention(mentions_days=365, deliveries_days=90)
    with engine.begin() as c:
        counted = count_retention(c, periods, now=later)
        assert c.execute(select(func.count()).select_from(mentions)).scalar_one() == 2
        assert c.execute(select(func.count()).select_from(findings)).scalar_one() == 1
        assert not [e for e in latest(c, limit=10) if e.action == "retention.apply"]
        removed = apply_retention(c, periods, now=later, actor="ops-bot")
        [entry] = [e for e in latest(c, limit=10) if e.action == "retention.apply"]
    assert counted == removed
    assert {k: v for k, v in removed.items() if v} == {
        "findings": 1, "deliveries": 1, "mentions": 2, "verdicts": 1, "routes": 1, "mention_tags": 1,
    }  # fmt: skip
    assert set(removed) >= {"quarantine", "task_runs", "audit_log", "leads", "mention_tags"}
    assert (entry.actor, entry.detail["removed"]) == ("ops-bot", removed)


def test_every_table_of_personal_data_says_how_long_it_is_kept() -> None:
    assert [e.table for e in PERSONAL_DATA if e.kept is None] == []


def test_retention_clears_pages_that_waited_past_their_period_and_keeps_fresh_ones(engine: Engine) -> None:
    with engine.begin() as c:
        task_runs.enqueue(c, "old-page", "overheard.process_page", "page", {"mentions": [{"text": "hi"}]})
        task_runs.enqueue(c, "new-page", "overheard.process_page", "page", {"mentions": []})
        c.execute(update(task_runs_table).where(task_runs_table.c.id == "old-page").values(updated_at=NOW))
        c.execute(
            update(task_runs_table)
            .where(task_runs_table.c.id == "new-page")
            .values(updated_at=NOW + timedelta(days=29))
        )
        removed = apply_retention(c, Retention(pages_days=30), now=NOW + timedelta(days=31))
        left = c.execute(select(task_runs_table.c.id)).scalars().all()
    assert removed["task_runs"] == 1 and left == ["new-page"]
