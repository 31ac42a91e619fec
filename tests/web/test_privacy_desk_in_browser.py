"""The privacy desk for people who are not CRM contacts, in a real browser: find an author of stored posts,
see what is kept, download the export, erase them, read the receipt and the audit log."""

from __future__ import annotations

import json
import re
from pathlib import Path

from playwright.sync_api import Page, expect
from sqlalchemy import func, select

from storage.audit import entries_for
from storage.gdpr import author_subject
from storage.schema import mentions, tombstones
from storage.tokens import Role
from tests.web.browser import LiveApp, shot, sign_in

# An author of the demo sample who is not a CRM contact (one post on X, display name "Riley Koch").
SOURCE, HANDLE = "x", "therileykoc"


def _their_posts(live_app: LiveApp) -> int:
    with live_app.seeded.engine.connect() as connection:
        return int(
            connection.execute(
                select(func.count())
                .select_from(mentions)
                .where(mentions.c.source == SOURCE, func.lower(mentions.c.author_handle) == HANDLE)
            ).scalar_one()
        )


def test_the_privacy_role_exports_and_erases_an_author_who_is_not_a_contact(
    page: Page, live_app: LiveApp, tmp_path: Path
) -> None:
    assert _their_posts(live_app) == 1
    sign_in(page, live_app, Role.privacy)
    page.get_by_label("Author handle or name").fill("Riley Koch")
    page.get_by_role("button", name="Find author").click()
    found = page.locator("#authors")
    expect(found).to_contain_text(HANDLE)
    expect(found.get_by_role("row").filter(has_text=HANDLE)).to_contain_text("—")  # no CRM contact
    found.get_by_role("link", name=HANDLE).click()

    expect(page.locator("h1")).to_contain_text(HANDLE)
    expect(page.locator("#kept").get_by_role("row").filter(has_text="mentions")).to_contain_text("1")
    expect(page.locator("#posts tbody tr")).to_have_count(1)
    expect(page.locator("#linked")).to_have_count(0)  # not linked to a CRM contact: no pointer to one
    shot(page, "privacy-author-before-erasure")

    with page.expect_download() as started:
        page.get_by_role("button", name="Download export").click()
    download = started.value
    assert re.fullmatch(rf"export-author-{SOURCE}-{HANDLE}-\d{{8}}T\d{{6}}Z\.json", download.suggested_filename)
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    document = json.loads(saved.read_text(encoding="utf-8"))
    assert document["author"] == {"source": SOURCE, "handle": HANDLE}
    assert [m["author_handle"] for m in document["tables"]["mentions"]] == [HANDLE]

    page.get_by_label("to confirm").fill("someone-else")
    page.get_by_role("button", name="Erase").click()
    expect(page.get_by_role("status")).to_contain_text("Nothing was erased: type the handle to confirm.")
    assert _their_posts(live_app) == 1

    page.get_by_label("to confirm").fill(HANDLE)
    page.get_by_role("button", name="Erase").click()
    expect(page).to_have_url(re.compile(r"/privacy/receipt\?"))
    expect(page.get_by_role("status")).to_contain_text(f"Erased {HANDLE} on {SOURCE}")
    expect(page.locator("h1")).to_have_text("Erasure receipt")
    expect(page.locator("#receipt").get_by_role("row").filter(has_text="mentions").first).to_contain_text("1")
    expect(page.locator("#receipt")).to_contain_text("verdicts")
    expect(page.locator("#tombstoned")).to_contain_text("1 posts tombstoned")
    expect(page.locator("main")).to_contain_text(author_subject(SOURCE, HANDLE))  # named by digest, as in the log
    shot(page, "privacy-author-erasure-receipt")
    assert _their_posts(live_app) == 0
    with live_app.seeded.engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(tombstones)).scalar_one() >= 1

    page.get_by_role("link", name="Audit log").click()
    page.get_by_label("Source").fill(SOURCE)
    page.get_by_label("Author handle").fill(HANDLE)
    page.get_by_role("button", name="Filter by author").click()
    log = page.locator("#audit-log")
    expect(log).to_contain_text("gdpr.export")
    expect(log).to_contain_text("gdpr.erase")
    expect(log).to_contain_text("privacy-tester")
    expect(log.get_by_role("link", name="Receipt")).to_have_count(1)
    with live_app.seeded.engine.connect() as connection:
        actions = [e.action for e in entries_for(connection, "author", author_subject(SOURCE, HANDLE))]
    assert actions[-1] == "gdpr.erase" and "gdpr.export" in actions

    page.goto("/privacy?a=Riley+Koch")
    expect(page.locator(".empty")).to_contain_text("No stored post has an author matching")
    page.goto(f"/privacy?a={HANDLE}")
    expect(page.locator("#authors")).to_have_count(0)


def test_erasing_a_contact_ends_on_its_receipt_and_the_audit_log_still_finds_it(page: Page, live_app: LiveApp) -> None:
    contact = "c-0035"  # a contact of the demo sample no other browser test opens
    sign_in(page, live_app, Role.privacy)
    page.goto(f"/privacy/{contact}")
    page.get_by_label("to confirm").fill(contact)
    page.get_by_role("button", name="Erase").click()
    expect(page).to_have_url(re.compile(r"/privacy/receipt\?"))
    expect(page.get_by_role("status")).to_contain_text(f"Erased {contact}")
    expect(page.locator("#receipt").get_by_role("row").filter(has_text="contacts").last).to_contain_text("1")

    response = page.goto(f"/privacy/{contact}")
    assert response is not None and response.status == 404
    page.goto("/privacy/audit")
    page.get_by_label("Contact id").fill(contact)
    page.get_by_role("button", name="Filter by contact").click()
    log = page.locator("#audit-log")
    expect(log).to_contain_text("gdpr.erase")
    log.get_by_role("link", name="Receipt").click()
    expect(page.locator("h1")).to_have_text("Erasure receipt")
    expect(page.locator("main")).to_contain_text(f"contact {contact}")


def test_an_author_who_is_a_crm_contact_is_pointed_to_the_contacts_erasure(page: Page, live_app: LiveApp) -> None:
    sign_in(page, live_app, Role.privacy)
    page.goto("/privacy?a=priya_r_ops")
    expect(page.locator("#authors").get_by_role("row").filter(has_text="priya_r_ops")).to_contain_text("c-0001")
    page.locator("#authors").get_by_role("link", name="priya_r_ops").click()
    expect(page.locator("#linked")).to_contain_text("erase the contact")
    page.locator("#linked").get_by_role("link", name="c-0001").click()
    expect(page.locator("h1")).to_contain_text("Priya Raman")
