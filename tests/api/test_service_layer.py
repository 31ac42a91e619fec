"""The service layer as a specification: each use case checks the caller's role and scope itself and writes its
audit record once, whichever entry point (API, page, CLI, task) asks."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select

from enrichers.alerts import VolumeAlerts
from enrichers.model import LawfulBasis
from listener.base import Page, SourceError
from overheard.pipeline import Runtime
from overheard.services import (
    Caller,
    Conflict,
    Forbidden,
    NotFound,
    contacts,
    gdpr,
    leads,
    mentions,
    metrics,
    routing,
    sweeps,
)
from storage import inbox, task_runs
from storage.audit import entries_for
from storage.database import open_database
from storage.mentions import get_cursor
from storage.schema import audit_log, deliveries, links, now_utc, routes
from storage.tokens import Role
from tests.api.seed import DEMO_CONFIG, MemoClassifier, Seeded

SERVICE = Caller("service-tester", Role.service)
SALES = Caller("sales-tester", Role.sales)
MARKETING = Caller("marketing-tester", Role.marketing)
PRIVACY = Caller("privacy-tester", Role.privacy)
ADMIN = Caller("admin-tester", Role.admin)
CONTACT = "c-0001"  # a contact of the demo sample


def _audits(engine: Engine, action: str, subject_id: str | None = None) -> int:
    query = select(func.count()).select_from(audit_log).where(audit_log.c.action == action)
    if subject_id is not None:
        query = query.where(audit_log.c.subject_id == subject_id)
    with engine.connect() as connection:
        return int(connection.execute(query).scalar_one())


def _visible_ids(engine: Engine, caller: Caller) -> list[int]:
    with engine.connect() as connection:
        return [m.id for m in inbox.list_mentions(connection, caller.scope, limit=500).items]


def _lead_only(engine: Engine) -> int:
    """A mention sales sees and customer service does not."""
    return next(i for i in _visible_ids(engine, SALES) if i not in set(_visible_ids(engine, SERVICE)))


def test_viewing_a_mention_writes_one_audit_record_naming_the_viewer(seeded: Seeded) -> None:
    mention_id = _visible_ids(seeded.engine, SERVICE)[0]
    before = _audits(seeded.engine, "mention.view", str(mention_id))

    found = mentions.view_mention(seeded.engine, SERVICE, mention_id)

    assert found.mention.id == mention_id
    assert _audits(seeded.engine, "mention.view", str(mention_id)) == before + 1
    with seeded.engine.connect() as connection:
        newest = entries_for(connection, "mention", str(mention_id))[-1]
    assert (newest.actor, newest.action) == ("service-tester", "mention.view")


def test_a_mention_outside_the_role_scope_is_not_found_and_its_view_is_not_audited(seeded: Seeded) -> None:
    lead = _lead_only(seeded.engine)
    before = _audits(seeded.engine, "mention.view", str(lead))

    with pytest.raises(NotFound, match=f"mention {lead} does not exist or is not in your role's inbox"):
        mentions.view_mention(seeded.engine, SERVICE, lead)
    with pytest.raises(NotFound):
        mentions.resolve(seeded.engine, SERVICE, lead)

    assert _audits(seeded.engine, "mention.view", str(lead)) == before
    assert mentions.view_mention(seeded.engine, SALES, lead).mention.id == lead


def test_a_role_without_the_capability_is_refused_whatever_it_asks_for(seeded: Seeded) -> None:
    mention_id = _visible_ids(seeded.engine, ADMIN)[0]
    refused = [
        lambda: mentions.view_mention(seeded.engine, MARKETING, mention_id),
        lambda: mentions.assign(seeded.engine, PRIVACY, mention_id, "someone"),
        lambda: contacts.contact_360(seeded.engine, MARKETING, CONTACT),
        lambda: contacts.record_consent(
            seeded.engine, SALES, CONTACT, contacts.ConsentRecord("enrichment", LawfulBasis.consent, "test", now_utc())
        ),
        lambda: gdpr.export(seeded.engine, SERVICE, CONTACT),
        lambda: gdpr.erase(seeded.engine, SALES, CONTACT),
        lambda: metrics.dashboard(seeded.engine, PRIVACY, datetime(2026, 11, 1, tzinfo=UTC), now_utc()),
        lambda: routing.dry_run(seeded.engine, Runtime.build(DEMO_CONFIG, seeded.engine, _NoModel()), SERVICE, {}, 5),
        lambda: sweeps.health(DEMO_CONFIG, seeded.engine, SALES),
    ]
    for ask in refused:
        with pytest.raises(Forbidden, match="may not"):
            ask()


class _NoModel:
    version = "none"

    def classify(self, documents: object) -> list[object]:
        raise AssertionError("a dry run reads stored verdicts")


def _linked_contact(engine: Engine, caller: Caller) -> str:
    visible = set(_visible_ids(engine, caller))
    with engine.connect() as connection:
        rows = connection.execute(select(links.c.contact_id, links.c.mention_id).where(links.c.contact_id.is_not(None)))
        return next(r.contact_id for r in rows if r.mention_id in visible)


def test_the_contact_360_is_one_view_and_one_audit_record_from_the_api_and_the_service_alike(
    seeded: Seeded, client: TestClient
) -> None:
    contact_id = _linked_contact(seeded.engine, SERVICE)
    before = _audits(seeded.engine, "contact.view", contact_id)

    found = contacts.contact_360(seeded.engine, SERVICE, contact_id)
    assert _audits(seeded.engine, "contact.view", contact_id) == before + 1

    answer = client.get(f"/api/contacts/{contact_id}", headers=seeded.auth(Role.service))
    assert answer.status_code == 200
    assert _audits(seeded.engine, "contact.view", contact_id) == before + 2
    # The API shows what the service returned: the same findings, routes and audit records.
    body = answer.json()
    assert [r["id"] for r in body["routes"]] == [r.id for r in found.contact.routes]
    assert len(body["why"]) == len(found.why)
    assert [r["route_id"] for r in body["route_records"]] == [r.route_id for r in found.route_records]


def test_a_contact_the_role_does_not_see_answers_as_one_that_does_not_exist(seeded: Seeded) -> None:
    with seeded.engine.connect() as connection:
        seen_by = {c: {s.id for s in inbox.search_contacts(connection, c.scope, None, 500)} for c in (SALES, SERVICE)}
    contact_id = min(seen_by[SALES] - seen_by[SERVICE])  # the sample holds leads from people who never complained
    before = _audits(seeded.engine, "contact.view", contact_id)
    for unseen in (contact_id, "c-does-not-exist"):
        with pytest.raises(NotFound, match=f"no contact with id '{unseen}' that your role may see"):
            contacts.contact_360(seeded.engine, SERVICE, unseen)
    assert _audits(seeded.engine, "contact.view", contact_id) == before
    assert contacts.contact_360(seeded.engine, SALES, contact_id).contact.id == contact_id


def test_the_dashboard_audits_naming_authors_once_per_view(seeded: Seeded) -> None:
    before = _audits(seeded.engine, "metrics.top_authors")
    start, end = datetime(2026, 10, 21, tzinfo=UTC), datetime(2026, 11, 20, tzinfo=UTC)
    found = metrics.dashboard(seeded.engine, MARKETING, start, end, spike_rule=VolumeAlerts())
    assert found.report.authors, "the sample names authors"
    assert _audits(seeded.engine, "metrics.top_authors") == before + 1
    # The alerts' volume rule marks the sample's complaint storm, and only that day.
    assert [found.report.volume[i].bucket.date().isoformat() for i in found.spike_days] == ["2026-11-12"]


def test_the_privacy_desk_record_audits_the_view_and_shows_it_in_the_trail(seeded: Seeded) -> None:
    found = gdpr.subject_record(seeded.engine, PRIVACY, CONTACT)
    assert found.contact.id == CONTACT
    assert (found.trail[-1].actor, found.trail[-1].action) == ("privacy-tester", "contact.view")


def test_retrying_a_delivery_another_role_routes_is_not_found_and_a_delivered_one_is_a_conflict(
    seeded: Seeded,
) -> None:
    with seeded.engine.connect() as connection:
        rows = list(connection.execute(select(deliveries.c.id, deliveries.c.status, routes.c.team).join(routes)))
    sales_delivery = next(r.id for r in rows if r.team == "sales")
    with pytest.raises(NotFound, match="not one of your role's routes"):
        routing.retry_delivery(seeded.engine, SERVICE, sales_delivery)
    with seeded.engine.begin() as connection:
        connection.execute(deliveries.update().where(deliveries.c.id == sales_delivery).values(status="delivered"))
    with pytest.raises(Conflict, match="only failed or dead deliveries"):
        routing.retry_delivery(seeded.engine, SALES, sales_delivery)
    with seeded.engine.begin() as connection:
        connection.execute(deliveries.update().where(deliveries.c.id == sales_delivery).values(status="failed"))
    assert leads.send_to_crm(seeded.engine, SALES, _mention_of(seeded.engine, sales_delivery)) is leads.CrmSend.queued


def _mention_of(engine: Engine, delivery_id: int) -> int:
    with engine.connect() as connection:
        return int(
            connection.execute(
                select(routes.c.mention_id).join(deliveries).where(deliveries.c.id == delivery_id)
            ).scalar_one()
        )


class _Refusing:
    name = "refusing:query"

    def sweep(self, cursor: str | None) -> Iterator[Page]:
        raise SourceError(self.name, "the platform answered 503")
        yield  # pragma: no cover


class _Broken:
    name = "broken:query"

    def sweep(self, cursor: str | None) -> Iterator[Page]:
        raise KeyError("a collector's bug")
        yield  # pragma: no cover


class _Quiet:
    name = "quiet:query"

    def sweep(self, cursor: str | None) -> Iterator[Page]:
        yield Page(mentions=[], next_cursor="after-nothing")


@pytest.fixture
def empty_runtime(tmp_path: Path, memo_classifier: MemoClassifier) -> Iterator[Runtime]:
    engine = open_database(f"sqlite:///{tmp_path / 'overheard.db'}")
    yield Runtime.build(DEMO_CONFIG, engine, memo_classifier)
    engine.dispose()


def test_one_collect_records_a_failing_source_and_sweeps_the_others(empty_runtime: Runtime) -> None:
    report = sweeps.collect(empty_runtime, [_Refusing(), _Broken(), _Quiet()], send=False)

    assert [(f.name, f.reason, f.crashed) for f in report.failures] == [
        ("refusing:query", "refusing:query: the platform answered 503", False),
        ("broken:query", 'KeyError: "a collector\'s bug"', True),
    ]
    assert isinstance(report.failures[0].error, SourceError)
    assert report.deliveries is None  # left to the sender
    with empty_runtime.engine.connect() as connection:
        assert get_cursor(connection, "quiet:query") == "after-nothing"


def test_a_recheck_while_another_process_rechecks_does_nothing(empty_runtime: Runtime) -> None:
    with task_runs.exclusive(empty_runtime.engine, sweeps.RECHECK_LOCK) as mine:
        assert mine
        assert sweeps.recheck(DEMO_CONFIG, empty_runtime.engine) is None
