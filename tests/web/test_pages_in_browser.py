"""The other desks in a real browser: contact 360°, the marketing dashboard, the privacy desk, and the pages a
role may not open (the lead feed: test_leads_in_browser.py)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from storage.audit import entries_for
from storage.tokens import Role
from tests.web.browser import LiveApp, shot, sign_in

pytestmark = pytest.mark.browser


def _trail(live_app: LiveApp, contact_id: str) -> list[tuple[str, str]]:
    with live_app.seeded.engine.connect() as connection:
        return [(e.actor, e.action) for e in entries_for(connection, "contact", contact_id)]


def test_a_linked_contact_opens_as_a_360_view_from_the_inbox(page: Page, live_app: LiveApp) -> None:
    sign_in(page, live_app, Role.service)
    page.goto("/inbox?status=")
    linked = page.locator("li.mention", has=page.locator("p.link a")).first
    mention_id = linked.get_attribute("data-id")
    contact_link = linked.locator("p.link a")
    contact_id = (contact_link.get_attribute("href") or "").rsplit("/", 1)[-1]
    name = contact_link.inner_text()

    contact_link.click()
    expect(page).to_have_url(re.compile(rf"/contacts/{contact_id}$"))
    expect(page.locator("h1")).to_contain_text(name)
    for section in ("Identities", "Companies and roles", "Consents", "Findings timeline", "Mentions"):
        expect(page.get_by_role("heading", name=section, exact=True)).to_be_visible()
    # The mention we came from is among the contact's mentions, and leads back to it.
    expect(page.locator(f'a[href="/mentions/{mention_id}"]')).to_have_count(1)
    expect(page.get_by_role("link", name="Privacy desk →")).to_have_count(0)  # service does not run GDPR requests
    assert ("service-tester", "contact.view") in _trail(live_app, contact_id)


def test_the_dashboard_says_what_to_do_when_empty_then_draws_charts_with_data(page: Page, live_app: LiveApp) -> None:
    sign_in(page, live_app, Role.marketing)
    expect(page).to_have_url(re.compile(r"/dashboard$"))
    page.goto("/dashboard?end=1990-01-01&days=30")
    expect(page.get_by_role("heading", name="No mentions in this period")).to_be_visible()
    expect(page.locator("svg.chart")).to_have_count(0)

    page.get_by_role("link", name="Show the 30 days up to it").click()
    volume = page.get_by_role("img", name="Mentions per day")
    sentiment = page.get_by_role("img", name="Sentiment per day")
    expect(volume).to_be_visible()
    shot(page, "dashboard_with_data")

    assert sentiment.locator("rect.bar").count() > 0
    assert page.get_by_role("img", name="Share of voice (mentions)").locator("rect.bar").count() > 0
    assert page.get_by_role("img", name="Mentions by source").locator("rect.bar").count() > 0
    assert page.locator("table.list tbody tr").count() > 0  # top authors
    # The line has a point per day, and the points add up to the mentions the KPI reports.
    assert (volume.locator("path").get_attribute("d") or "").count("L") >= 1
    per_day = [float(t.split(": ")[-1]) for t in volume.locator("circle:not(.spike) > title").all_text_contents()]
    kpi = page.locator(".kpi", has=page.locator(".label", has_text="Mentions")).locator(".value").inner_text()
    assert per_day and sum(per_day) == int(kpi.replace(",", "")) > 0
    negative = sentiment.locator("rect.bar.negative > title").all_text_contents()
    assert sum(int(t.rsplit(": ", 1)[-1]) for t in negative) > 0
    # Marketing sees that a day spiked, but no link into the inbox it may not open.
    expect(page.locator(".spikes")).to_contain_text("Spikes on")
    expect(page.locator(".spikes a")).to_have_count(0)


def test_a_spike_day_on_the_dashboard_opens_that_days_mentions_in_the_inbox(page: Page, live_app: LiveApp) -> None:
    sign_in(page, live_app, Role.admin)
    page.goto("/dashboard?end=1990-01-01&days=30")
    page.get_by_role("link", name="Show the 30 days up to it").click()
    spike = page.locator(".spikes a").first
    expect(spike).to_have_attribute("href", re.compile(r"since=\d{4}-\d\d-\d\d"))
    day = re.search(r"since=([\d-]+)", spike.get_attribute("href") or "")
    assert day is not None
    spike.click()

    expect(page).to_have_url(re.compile(r"/inbox\?"))
    expect(page.get_by_label("From")).to_have_value(day[1])
    expect(page.get_by_label("Until")).to_have_value(day[1])
    published = page.locator("li.mention .meta time").evaluate_all("times => times.map(t => t.dateTime)")
    assert published and all(t.startswith(day[1]) for t in published)


def test_the_dashboard_shows_one_languages_figures_and_topics(page: Page, live_app: LiveApp) -> None:
    sign_in(page, live_app, Role.admin)
    page.goto("/dashboard?end=1990-01-01&days=30")
    page.get_by_role("link", name="Show the 30 days up to it").click()
    kpi = page.locator(".kpi", has=page.locator(".label", has_text="Mentions")).locator(".value")
    every = int(kpi.inner_text().replace(",", ""))
    expect(page.locator("#terms .term").first).to_be_visible()

    page.get_by_label("Language").select_option("de")
    page.get_by_role("button", name="Show").click()
    expect(page).to_have_url(re.compile(r"language=de"))
    expect(page.get_by_role("heading", name="Top terms in de")).to_be_visible()
    german = int(kpi.inner_text().replace(",", ""))
    assert 0 < german < every
    terms = set(page.locator("#terms .term").all_text_contents())
    assert terms and not terms & {"und", "die", "der", "nicht", "ist", "ich", "das", "want", "every", "since"}
    expect(page.get_by_label("Language")).to_have_value("de")
    for link in page.locator(".spikes a").all():  # a spike day opens that day's German mentions
        assert "language=de" in (link.get_attribute("href") or "")


def test_the_privacy_desk_finds_a_person_exports_their_data_and_shows_the_audit_trail(
    page: Page, live_app: LiveApp, tmp_path: Path
) -> None:
    sign_in(page, live_app, Role.privacy)
    expect(page).to_have_url(re.compile(r"/privacy$"))
    page.get_by_label("Name, email, handle or contact id").fill("Priya")
    page.get_by_role("button", name="Search").click()
    page.get_by_role("link", name="c-0001").click()
    expect(page.locator("h1")).to_contain_text("Priya Raman")

    with page.expect_download() as started:
        page.get_by_role("button", name="Download export").click()
    download = started.value
    assert re.fullmatch(r"export-c-0001-\d{8}T\d{6}Z\.json", download.suggested_filename)
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    document = json.loads(saved.read_text(encoding="utf-8"))
    assert document["contact_id"] == "c-0001"
    assert document["tables"]["contacts"][0]["name"] == "Priya Raman"
    assert document["tables"]["mentions"]

    page.reload()
    audit = page.locator("#audit")
    expect(audit).to_contain_text("privacy-tester")
    expect(audit).to_contain_text("gdpr.export")
    assert ("privacy-tester", "gdpr.export") in _trail(live_app, "c-0001")


def test_an_unknown_search_and_an_unconfirmed_erasure_tell_the_user_what_to_do(page: Page, live_app: LiveApp) -> None:
    sign_in(page, live_app, Role.privacy)
    page.goto("/privacy?q=nobody-by-this-name")
    expect(page.locator(".empty")).to_contain_text("No contact matches")
    expect(page.locator(".empty")).to_contain_text("social handle")

    page.goto("/privacy/c-0002")
    page.get_by_label("to confirm").fill("c-9999")
    page.get_by_role("button", name="Erase").click()
    expect(page.get_by_role("status")).to_contain_text("Nothing was erased: type the contact id to confirm.")
    expect(page.locator("h1")).to_contain_text("Jonas Weber")


@pytest.mark.parametrize(
    ("role", "refused", "allowed"),
    [
        (Role.marketing, ["/inbox", "/leads", "/privacy", "/mentions/1", "/contacts/c-0001"], ["/dashboard"]),
        (
            Role.service,
            [
                "/privacy",
                "/privacy/c-0001",
                "/privacy/audit",
                "/privacy/authors/x/therileykoc",
                "/sources",
                "/queue/flagged",  # spam review is for admin and communications
                "/settings/accounts",  # connecting reply accounts is the admin's
            ],
            ["/inbox", "/dashboard"],
        ),
        (Role.sales, ["/privacy", "/sources", "/queue/flagged"], ["/leads"]),
        (Role.privacy, ["/inbox", "/dashboard", "/leads"], ["/privacy", "/privacy/audit", "/contacts/c-0001"]),
    ],
    ids=["marketing", "service", "sales", "privacy"],
)
def test_a_role_is_refused_the_pages_it_may_not_see_and_its_menu_does_not_offer_them(
    page: Page, live_app: LiveApp, role: Role, refused: list[str], allowed: list[str]
) -> None:
    sign_in(page, live_app, role)
    offered = set(page.locator("header nav a").evaluate_all("links => links.map(a => a.getAttribute('href'))"))
    for path in refused:
        response = page.goto(path)
        assert response is not None and response.status == 403, path
        expect(page.get_by_role("heading", name="Not for your role")).to_be_visible()
        expect(page.get_by_role("link", name="your start page")).to_be_visible()
        assert path not in offered
    for path in allowed:
        response = page.goto(path)
        assert response is not None and response.status == 200, path


def test_empty_results_and_unknown_records_say_what_happened_and_what_to_do(page: Page, live_app: LiveApp) -> None:
    sign_in(page, live_app, Role.service)
    page.goto("/inbox?q=no-post-says-this")
    expect(page.get_by_role("heading", name="Inbox zero")).to_be_visible()
    expect(page.get_by_role("link", name="Show all statuses")).to_be_visible()
    expect(page.get_by_label("Search")).to_have_value("no-post-says-this")

    response = page.goto("/mentions/999999999")
    assert response is not None and response.status == 404
    expect(page.get_by_role("heading", name="Not found")).to_be_visible()
    expect(page.locator(".error")).to_contain_text("not in your role's inbox")
    page.get_by_role("link", name="your start page").click()
    expect(page).to_have_url(re.compile(r"/inbox$"))
