"""In real Chromium: a page on another origin of the same site cannot post our forms through a signed-in
browser, our own forms still work, a `javascript:` post link is never a link, and the security headers hold."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select, update

from storage.schema import contacts, mentions
from storage.tokens import Role
from tests.web.browser import LiveApp, sign_in

TARGET = "c-0040"  # a contact the attack tries to erase


class _AttackPage(BaseHTTPRequestHandler):
    """A page on another port of 127.0.0.1 (same site, other origin) that posts the erase form on load."""

    target = ""

    def do_GET(self) -> None:
        body = f"""<!doctype html><html><body>
<form id="f" method="post" action="{self.target}/privacy/{TARGET}/erase">
<input name="confirm_id" value="{TARGET}"><input name="csrf" value="guessed"></form>
<script>document.getElementById('f').submit()</script></body></html>""".encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def attacker(live_app: LiveApp) -> Iterator[str]:
    handler = type("Attack", (_AttackPage,), {"target": live_app.url})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


def _contact_exists(live_app: LiveApp) -> bool:
    with live_app.seeded.engine.connect() as connection:
        return connection.execute(select(contacts.c.id).where(contacts.c.id == TARGET)).first() is not None


def test_another_origins_page_cannot_erase_a_contact_through_a_signed_in_privacy_officer(
    page: Page, live_app: LiveApp, attacker: str
) -> None:
    sign_in(page, live_app, Role.privacy)
    assert _contact_exists(live_app)

    with page.expect_response(lambda r: r.request.method == "POST" and "/erase" in r.url) as posted:
        page.goto(attacker)
    assert posted.value.status == 403
    assert posted.value.request.headers.get("origin") == attacker.rstrip("/")
    assert _contact_exists(live_app), "the cross-origin form erased nothing"

    # Our own form on our own page still works (here it refuses for a wrong confirmation, as designed).
    page.goto(f"/privacy/{TARGET}")
    page.locator("form[action$='/erase'] input[name='confirm_id']").fill("not-the-id")
    page.locator("form[action$='/erase'] button").click()
    expect(page.get_by_role("status")).to_contain_text("Nothing was erased")
    assert _contact_exists(live_app)


def test_signing_out_and_back_in_goes_through_the_forms_with_their_tokens(page: Page, live_app: LiveApp) -> None:
    sign_in(page, live_app, Role.service)
    expect(page.locator("header .who")).to_contain_text("service-tester")
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(f"{live_app.url}/login")
    page.goto("/inbox")
    expect(page).to_have_url(f"{live_app.url}/login?next=%2Finbox")


def test_a_javascript_post_link_stored_before_links_were_checked_is_never_rendered_as_a_link(
    page: Page, live_app: LiveApp
) -> None:
    with live_app.seeded.engine.begin() as connection:
        mention_id, url = connection.execute(
            select(mentions.c.id, mentions.c.url).where(mentions.c.url.is_not(None)).order_by(mentions.c.id)
        ).first()  # type: ignore[misc]
        connection.execute(
            update(mentions).where(mentions.c.id == mention_id).values(url="javascript:alert(document.domain)")
        )
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    try:
        sign_in(page, live_app, Role.admin)
        answer = page.goto(f"/mentions/{mention_id}")
        assert answer is not None and answer.status == 200
        for where in (f"/mentions/{mention_id}", "/inbox?status="):
            page.goto(where)
            assert page.locator("a[href^='javascript' i], a[href^='data' i]").count() == 0, where
            hrefs = page.locator("a[href]").evaluate_all("links => links.map(a => a.protocol)")
            assert set(hrefs) <= {"http:", "https:"}, where
        assert dialogs == []
    finally:
        with live_app.seeded.engine.begin() as connection:
            connection.execute(update(mentions).where(mentions.c.id == mention_id).values(url=url))


def test_every_answer_carries_the_headers_and_the_policy_stops_injected_script(page: Page, live_app: LiveApp) -> None:
    login = page.goto("/login")
    assert login is not None
    sign_in(page, live_app, Role.admin)
    answers = {
        "page": page.goto("/inbox"),
        "api": page.goto("/api/mentions"),  # 401: the API reads no cookie
        "static": page.goto("/static/app.js"),
        "login": login,
    }
    for what, answer in answers.items():
        assert answer is not None, what
        headers = answer.headers
        assert "frame-ancestors 'none'" in headers["content-security-policy"], what
        assert headers["x-content-type-options"] == "nosniff", what
        assert headers["referrer-policy"] == "same-origin", what
        assert (headers.get("cache-control") == "no-store") == (what != "static"), what

    page.goto("/inbox")
    violated = page.evaluate(
        """() => new Promise(resolve => {
            document.addEventListener('securitypolicyviolation', e => resolve(e.violatedDirective));
            const s = document.createElement('script');
            s.textContent = 'window.injected = true';
            document.body.appendChild(s);
            setTimeout(() => resolve(window.injected ? 'ran' : 'nothing reported'), 3000);
        })"""
    )
    assert violated.startswith("script-src")
