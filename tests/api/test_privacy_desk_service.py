"""The privacy desk's service for authors who are not CRM contacts: only a role with the gdpr capability finds,
exports or erases them; each step is audited under the author's digest, and the erasure's receipt is kept."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select

from overheard.api import create_app
from overheard.services import gdpr
from overheard.services.access import Caller, Forbidden, NotFound, ServiceError
from storage.gdpr import author_subject
from storage.schema import mentions, tombstones
from storage.tokens import Role
from tests.api.seed import DEMO_CONFIG, MemoClassifier, Seeded, seed

PRIVACY = Caller("privacy-tester", Role.privacy)
SOURCE, HANDLE = "x", "therileykoc"  # an author of the demo sample who is not a CRM contact


@pytest.mark.parametrize("role", [Role.service, Role.sales, Role.marketing])
def test_a_role_without_the_gdpr_capability_may_not_find_export_erase_or_read_the_audit(
    seeded: Seeded, role: Role
) -> None:
    caller = Caller(f"{role}-tester", role)
    refused = [
        lambda: gdpr.find_authors(seeded.engine, caller, "riley"),
        lambda: gdpr.author_record(seeded.engine, caller, SOURCE, HANDLE),
        lambda: gdpr.export_author(seeded.engine, caller, SOURCE, HANDLE),
        lambda: gdpr.erase_author(seeded.engine, caller, SOURCE, HANDLE),
        lambda: gdpr.audit_trail(seeded.engine, caller, author=(SOURCE, HANDLE)),
        lambda: gdpr.erasure_receipt(seeded.engine, caller, "author", author_subject(SOURCE, HANDLE)),
    ]
    for ask in refused:
        with pytest.raises(Forbidden, match="may not"):
            ask()
    with seeded.engine.connect() as connection:
        kept = connection.execute(
            select(func.count()).select_from(mentions).where(mentions.c.author_handle == HANDLE)
        ).scalar_one()
    assert kept == 1


def test_an_author_linked_to_a_crm_contact_names_the_contact_to_erase_instead(seeded: Seeded) -> None:
    assert gdpr.author_record(seeded.engine, PRIVACY, "x", "priya_r_ops").contact_ids == ["c-0001"]
    assert gdpr.author_record(seeded.engine, PRIVACY, SOURCE, HANDLE).contact_ids == []


def test_a_search_too_short_or_an_unknown_author_says_what_was_wrong(seeded: Seeded) -> None:
    with pytest.raises(ServiceError, match="at least two characters"):
        gdpr.find_authors(seeded.engine, PRIVACY, "r")
    with pytest.raises(NotFound, match="no post by 'nobody-here' on x"):
        gdpr.author_record(seeded.engine, PRIVACY, "x", "nobody-here")
    with pytest.raises(NotFound, match="no erasure"):
        gdpr.erasure_receipt(seeded.engine, PRIVACY, "author", author_subject("x", "nobody-here"))


def test_the_privacy_role_finds_exports_and_erases_a_non_contact_author_with_a_receipt(
    engine: Engine, memo_classifier: MemoClassifier
) -> None:
    seed(engine, memo_classifier)
    [found] = [a for a in gdpr.find_authors(engine, PRIVACY, "riley koch") if a.handle == HANDLE]
    assert found.source == SOURCE and found.contact_id is None and found.posts == 1

    shown = gdpr.author_record(engine, PRIVACY, SOURCE, HANDLE)
    assert shown.counts["mentions"] == 1 and [p["author_handle"] for p in shown.posts] == [HANDLE]
    document = gdpr.export_author(engine, PRIVACY, SOURCE, HANDLE)
    assert [m["author_handle"] for m in document["tables"]["mentions"]] == [HANDLE]

    report = gdpr.erase_author(engine, PRIVACY, SOURCE, HANDLE)
    assert report.deleted["mentions"] == 1 and report.tombstoned_mentions == 1
    receipt = gdpr.erasure_receipt(engine, PRIVACY, "author", author_subject(SOURCE, HANDLE))
    assert receipt.detail["deleted"] == report.deleted and receipt.detail["tombstoned"] == 1

    trail = gdpr.audit_trail(engine, PRIVACY, author=(SOURCE, HANDLE))
    assert [e.action for e in trail][:2] == ["gdpr.erase", "gdpr.export"]
    assert all(HANDLE not in e.subject_id for e in trail)
    assert [a for a in gdpr.find_authors(engine, PRIVACY, "riley koch") if a.handle == HANDLE] == []
    with pytest.raises(NotFound):
        gdpr.erase_author(engine, PRIVACY, SOURCE, HANDLE)
    with engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(tombstones)).scalar_one() == 1


def test_the_api_finds_exports_and_erases_an_author_for_privacy_only(
    engine: Engine, memo_classifier: MemoClassifier
) -> None:
    seeded = seed(engine, memo_classifier)
    client = TestClient(create_app(engine, DEMO_CONFIG))
    privacy, service = seeded.auth(Role.privacy), seeded.auth(Role.service)
    base = f"/api/gdpr/authors/{SOURCE}/{HANDLE}"
    assert client.get("/api/gdpr/authors", params={"q": "riley"}, headers=service).status_code == 403
    assert client.post(f"{base}/export", headers=service).status_code == 403
    assert client.post(f"{base}/erase", json={"confirm": True}, headers=service).status_code == 403

    found = client.get("/api/gdpr/authors", params={"q": "riley koch"}, headers=privacy)
    assert found.status_code == 200, found.text
    assert {"source": SOURCE, "handle": HANDLE} in [
        {"source": a["source"], "handle": a["handle"]} for a in found.json()
    ]
    exported = client.post(f"{base}/export", headers=privacy)
    assert exported.status_code == 200 and exported.json()["author"]["handle"] == HANDLE
    assert client.post(f"{base}/erase", json={}, headers=privacy).status_code == 422
    erased = client.post(f"{base}/erase", json={"confirm": True}, headers=privacy)
    assert erased.status_code == 200, erased.text
    assert erased.json()["deleted"]["mentions"] == 1 and erased.json()["tombstoned_mentions"] == 1
    assert client.post(f"{base}/erase", json={"confirm": True}, headers=privacy).status_code == 404
    trail = client.get(f"{base}/audit", headers=privacy).json()
    assert [e["action"] for e in trail][:2] == ["gdpr.erase", "gdpr.export"]
