"""The triage inbox in a real browser: sign in, work a complaint end to end, keyboard shortcuts, relabel.

Each test signs in through the form with a token and checks the database afterwards, not only the page:
a button that shows a notice but writes nothing must fail here. Tests that change a mention pick their own
(the newest still-new complaint at run time), so they do not depend on each other's order.
"""

from __future__ import annotations

import re
from urllib.parse import urlparse

import pytest
from playwright.sync_api import Page, expect

from enrichers.replies import can_reply
from storage import inbox
from storage.inbox import Scope
from storage.tokens import Role
from tests.web.browser import LiveApp, shot, sign_in

pytestmark = pytest.mark.browser


def _stored(live_app: LiveApp, mention_id: int) -> inbox.MentionDetail:
    with live_app.seeded.engine.connect() as connection:
        found = inbox.get_mention(connection, Scope(), mention_id)
    assert found is not None
    return found


def _feedback(live_app: LiveApp, mention_id: int) -> list[inbox.Feedback]:
    with live_app.seeded.engine.connect() as connection:
        return inbox.feedback_for(connection, mention_id)


def _ids_on_page(page: Page) -> list[int]:
    return [int(i) for i in page.locator("li.mention").evaluate_all("items => items.map(i => i.dataset.id)")]


def test_a_token_signs_in_to_the_role_home_and_a_wrong_one_is_told_what_to_do(page: Page, live_app: LiveApp) -> None:
    page.goto("/login")
    page.get_by_label("Token").fill("not-a-token")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("unknown or revoked")
    expect(page.get_by_role("alert")).to_contain_text("overheard tokens create")

    sign_in(page, live_app, Role.service)
    expect(page).to_have_url(re.compile(r"/inbox$"))
    expect(page.locator("header .who")).to_contain_text("service-tester · service")
    expect(page.get_by_role("heading", name="Triage inbox")).to_be_visible()


def test_a_page_opened_before_signing_in_is_shown_after_signing_in(page: Page, live_app: LiveApp) -> None:
    page.goto("/inbox?intent=question")
    expect(page).to_have_url(re.compile(r"/login\?next="))
    page.get_by_label("Token").fill(live_app.seeded.tokens[Role.service])
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/inbox\?intent=question$"))
    intents = page.locator("li.mention .badge.intent").all_inner_texts()
    assert intents and {i.rstrip(" ✎") for i in intents} == {"question"}


def test_service_triages_a_complaint_from_inbox_to_resolved(page: Page, live_app: LiveApp) -> None:
    sign_in(page, live_app, Role.service)
    page.goto("/inbox?intent=complaint&status=new")
    first = page.locator("li.mention").first
    mention_id = int(first.get_attribute("data-id") or 0)
    expect(first.locator(".badge.intent")).to_have_text(re.compile("^complaint"))
    expect(first.locator(".badge.confidence")).to_contain_text("%")
    expect(first.locator(".reach")).to_contain_text(re.compile(r"followers|reach unknown"))

    first.get_by_role("link", name="Open with thread context").click()
    expect(page).to_have_url(re.compile(rf"/mentions/{mention_id}$"))
    expect(page.get_by_role("heading", name="Thread")).to_be_visible()
    # "Reply on <source>" opens the post where it was written ("Open on" where the platform takes no reply); a post
    # without an address offers no link.
    stored = _stored(live_app, mention_id)
    reply = page.locator("article a.reply")
    expect(reply).to_have_count(1 if stored.url else 0)
    if stored.url:
        expect(reply).to_have_attribute("href", stored.url)
        verb = "Reply on" if can_reply(stored.source) else "Open on"
        expect(reply).to_have_text(f"{verb} {stored.source} ↗")

    # While the request is on its way the button says so and cannot be pressed twice. To look at that moment,
    # a listener on the window (it runs after the page's own) keeps this first submission from leaving.
    form = page.locator("article form[data-key=a]")
    page.wait_for_load_state()  # the page's script is listening
    page.evaluate("() => window.addEventListener('submit', event => event.preventDefault(), {once: true})")
    form.get_by_role("button", name="Assign to me").click()
    expect(form).to_have_attribute("aria-busy", "true")
    expect(form.locator("button")).to_be_disabled()
    expect(form.locator("button")).to_have_text("Working…")
    assert _stored(live_app, mention_id).assignee is None
    page.reload()

    page.get_by_role("button", name="Assign to me").click()
    expect(page.get_by_role("status")).to_contain_text(f"Mention {mention_id} assigned to service-tester")
    expect(page.locator("article .badge.status-assigned")).to_contain_text("service-tester")
    shot(page, "triage_assigned")

    page.get_by_role("button", name="Resolve").click()
    expect(page.get_by_role("status")).to_contain_text(f"Mention {mention_id} resolved")

    stored = _stored(live_app, mention_id)
    assert (stored.status, stored.assignee) == ("resolved", "service-tester")
    assert [(f.action, f.actor) for f in _feedback(live_app, mention_id)] == [
        ("assign", "service-tester"),
        ("resolve", "service-tester"),
    ]
    page.goto("/inbox?intent=complaint")  # the open inbox no longer lists it
    assert mention_id not in _ids_on_page(page)


def test_keyboard_moves_with_j_and_k_then_assigns_relabels_and_resolves(page: Page, live_app: LiveApp) -> None:
    sign_in(page, live_app, Role.service)
    page.goto("/inbox")
    items = page.locator("li.mention")
    selected = page.locator("li.mention.selected")
    assert items.count() >= 3
    expect(items.nth(0)).to_have_class(re.compile(r"\bselected\b"))
    page.keyboard.press("j")
    page.keyboard.press("j")
    expect(items.nth(2)).to_have_class(re.compile(r"\bselected\b"))
    page.keyboard.press("k")
    expect(items.nth(1)).to_have_class(re.compile(r"\bselected\b"))
    expect(selected).to_have_count(1)
    mention_id = int(items.nth(1).get_attribute("data-id") or 0)

    page.keyboard.press("a")
    expect(page.get_by_role("status")).to_contain_text(f"Mention {mention_id} assigned to service-tester")
    assert _stored(live_app, mention_id).assignee == "service-tester"
    expect(selected).to_have_attribute("data-id", str(mention_id))  # the selection stays on it after the reload

    page.keyboard.press("l")
    chosen = selected.locator("select[name=intent]")
    expect(chosen).to_be_focused()
    new_intent = "question" if _stored(live_app, mention_id).intent != "question" else "complaint"
    chosen.select_option(new_intent)
    # Enter on the focused button saves the label; the global Enter ("open the mention") must not fire too.
    opened: list[str] = []
    mention_href = selected.get_attribute("data-href") or "/mentions/"
    page.on(
        "request",
        lambda r: opened.append(r.url) if r.method == "GET" and urlparse(r.url).path == mention_href else None,
    )
    selected.get_by_role("button", name="Save label").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_contain_text(f"relabelled as {new_intent}")
    assert opened == [], "Enter on the focused button also opened the mention"
    assert _stored(live_app, mention_id).intent == new_intent
    expect(selected).to_have_attribute("data-id", str(mention_id))

    page.keyboard.press("r")
    expect(page.get_by_role("status")).to_contain_text(f"Mention {mention_id} resolved")
    assert _stored(live_app, mention_id).status == "resolved"
    assert [f.action for f in _feedback(live_app, mention_id)] == ["assign", "relabel", "resolve"]
    # It left the open inbox; the mention that took its place is selected, ready for the next key.
    assert mention_id not in _ids_on_page(page)
    expect(items.nth(1)).to_have_class(re.compile(r"\bselected\b"))


def test_relabelling_a_mention_keeps_the_correction_as_training_feedback(page: Page, live_app: LiveApp) -> None:
    sign_in(page, live_app, Role.service)
    page.goto("/inbox?intent=question&status=new")
    mention_id = _ids_on_page(page)[0]
    model = _stored(live_app, mention_id)
    page.goto(f"/mentions/{mention_id}")
    form = page.locator("article form.relabel")
    form.get_by_label("intent").select_option("complaint")
    form.get_by_label("sentiment").select_option("negative")
    form.get_by_role("button", name="Save label").click()
    expect(page.get_by_role("status")).to_contain_text("kept as training feedback")

    page.goto(f"/mentions/{mention_id}")
    expect(page.locator("article .badge.intent")).to_have_text("complaint ✎")
    expect(page.locator("article .badge.intent")).to_have_attribute(
        "title", re.compile(rf"relabelled by service-tester; model said {model.model_intent}")
    )
    expect(page.get_by_role("heading", name="History").locator("xpath=..")).to_contain_text(
        "service-tester · relabel → complaint / negative"
    )
    [relabel] = [f for f in _feedback(live_app, mention_id) if f.action == "relabel"]
    assert (relabel.model_intent, relabel.human_intent, relabel.human_sentiment) == (
        model.model_intent,
        "complaint",
        "negative",
    )
    assert relabel.model_version


def test_an_open_routes_due_time_counts_down_in_the_page(page: Page, live_app: LiveApp) -> None:
    sign_in(page, live_app, Role.service)
    page.goto("/inbox?status=new")
    due = page.locator("li.mention .due").first
    # The server writes the target's time; the script turns it into a countdown (the sample is old: overdue).
    expect(due).to_have_text(re.compile(r"customer_service · \w+ · (due in|overdue by) \d+ (d|h|min)"))
    expect(due).to_have_attribute("data-due", re.compile(r"^\d{4}-\d\d-\d\dT"))
