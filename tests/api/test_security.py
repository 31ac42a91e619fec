"""What protects every request and every sign-in: headers, the body limit, CSRF, sessions, token expiry and
limits on guessing. An app of its own per test (the demo data is not needed), on SQLite and PostgreSQL where
sessions and tokens are stored."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, update

from overheard.api import create_app
from overheard.config import OverheardConfig, WebConfig
from storage.schema import api_tokens, now_utc
from storage.tokens import Role, create_token, revoke
from tests.api.seed import DEMO_CONFIG
from tests.conftest import sign_in


@dataclass
class App:
    engine: Engine
    client: TestClient
    tokens: dict[Role, str]

    def bearer(self, role: Role) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[role]}"}


def _app(engine: Engine, config: OverheardConfig = DEMO_CONFIG) -> App:
    with engine.begin() as connection:
        tokens = {role: create_token(connection, f"{role.value}-{id(config)}", role)[0] for role in Role}
    return App(engine, TestClient(create_app(engine, config)), tokens)


@pytest.fixture
def app(engine: Engine) -> Iterator[App]:
    yield _app(engine)


def _csrf(page_html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page_html)
    assert found, "the page's forms carry a CSRF token"
    return found.group(1)


# ---- headers (finding 9) -------------------------------------------------------------------------------------


def test_every_response_carries_the_security_headers_and_personal_data_is_never_cached(app: App) -> None:
    sign_in(app.client, app.tokens[Role.admin])
    answers = {
        "page": app.client.get("/inbox"),
        "login": app.client.get("/login"),
        "api": app.client.get("/api/mentions", headers=app.bearer(Role.admin)),
        "api 401": app.client.get("/api/mentions", headers={"Authorization": "Bearer ohk_wrong"}),
        "page 404": app.client.get("/mentions/999999"),
        "api 404": app.client.get("/api/nowhere"),
    }
    for what, answer in answers.items():
        headers = answer.headers
        policy = headers.get("content-security-policy", "")
        assert "frame-ancestors 'none'" in policy and "script-src 'self'" in policy, what
        assert ("unsafe-inline" not in policy and "object-src" not in policy) or "default-src 'none'" in policy, what
        assert headers.get("x-content-type-options") == "nosniff", what
        assert headers.get("referrer-policy") == "same-origin", what
        assert headers.get("cache-control") == "no-store", what
    static = app.client.get("/static/app.css")
    assert static.headers.get("cache-control") != "no-store" and static.headers["x-content-type-options"] == "nosniff"


# ---- request body limit (finding 5) -------------------------------------------------------------------------


def test_an_oversized_body_is_refused_with_413_before_it_is_read_even_unauthenticated(engine: Engine) -> None:
    config = DEMO_CONFIG.model_copy(update={"web": WebConfig(max_body_bytes=4096)})
    app = _app(engine, config)
    big = b'{"basis": "consent", "source": "' + b"x" * 10_000 + b'"}'
    for headers in ({}, app.bearer(Role.privacy)):
        answer = app.client.post(
            "/api/contacts/c-1/consents", content=big, headers={**headers, "content-type": "application/json"}
        )
        assert answer.status_code == 413, answer.text
        assert "4096 bytes" in answer.json()["detail"]

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it arrives
        yield big[:3000]
        yield big[3000:]

    streamed = app.client.post(
        "/api/contacts/c-1/consents",
        content=chunks(),
        headers={**app.bearer(Role.privacy), "content-type": "application/json"},
    )
    assert streamed.status_code == 413
    small = app.client.post("/api/contacts/c-1/consents", json={}, headers=app.bearer(Role.privacy))
    assert small.status_code in (404, 422)


# ---- CSRF (finding 3) ---------------------------------------------------------------------------------------


def test_a_web_form_without_the_sessions_csrf_token_is_refused_and_with_it_works(app: App) -> None:
    sign_in(app.client, app.tokens[Role.privacy])
    page = app.client.get("/privacy")
    assert app.client.post("/logout", data={}, follow_redirects=False).status_code == 403
    assert app.client.post("/logout", data={"csrf": "forged"}, follow_redirects=False).status_code == 403
    assert app.client.get("/privacy").status_code == 200, "still signed in"
    done = app.client.post("/logout", data={"csrf": _csrf(page.text)}, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == "/login"


def test_a_post_sent_from_another_origin_is_refused_even_with_a_valid_token(app: App) -> None:
    sign_in(app.client, app.tokens[Role.privacy])
    csrf = _csrf(app.client.get("/privacy").text)
    for header in (
        {"Origin": "http://testserver:8001"},
        {"Origin": "http://evil.testserver"},
        {"Origin": "null"},
        {"Referer": "http://testserver.evil/page"},
    ):
        refused = app.client.post("/privacy/c-1/erase", data={"csrf": csrf, "confirm_id": "c-1"}, headers=header)
        assert refused.status_code == 403 and "another origin" in refused.text, header
    ours = app.client.post(
        "/logout", data={"csrf": csrf}, headers={"Origin": "http://testserver"}, follow_redirects=False
    )
    assert ours.status_code == 303


def test_the_sign_in_form_needs_its_own_csrf_token(app: App) -> None:
    refused = app.client.post("/login", data={"token": app.tokens[Role.admin]}, follow_redirects=False)
    assert refused.status_code == 403
    sign_in(app.client, app.tokens[Role.admin])


# ---- sessions and tokens (findings 4 and 12) ---------------------------------------------------------------


def test_the_session_cookie_is_not_the_api_token_and_signing_out_ends_it_on_the_server(app: App) -> None:
    sign_in(app.client, app.tokens[Role.admin])
    cookie = app.client.cookies.get("overheard_session")
    assert cookie and cookie != app.tokens[Role.admin] and cookie.startswith("ohs_")
    assert app.client.get("/api/mentions", headers={"Authorization": f"Bearer {cookie}"}).status_code == 401
    csrf = _csrf(app.client.get("/inbox").text)
    app.client.post("/logout", data={"csrf": csrf}, follow_redirects=False)

    copied = TestClient(app.client.app, cookies={"overheard_session": cookie})
    after = copied.get("/inbox", follow_redirects=False)
    assert after.status_code == 303 and after.headers["location"].startswith("/login")


def test_the_session_cookie_has_a_max_age_and_is_secure_when_configured(engine: Engine) -> None:
    plain = _app(engine)
    form = plain.client.get("/login")
    answer = plain.client.post(
        "/login", data={"token": plain.tokens[Role.admin], "csrf": _csrf(form.text)}, follow_redirects=False
    )
    cookie = answer.headers["set-cookie"]
    assert "overheard_session=" in cookie and "Max-Age=43" in cookie  # 12 h, less the time it took
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Secure" not in cookie.split("overheard_login")[0]

    always = _app(engine, DEMO_CONFIG.model_copy(update={"web": WebConfig(secure_cookies="always", session_hours=1)}))
    browser = TestClient(always.client.app, base_url="https://testserver")  # Secure cookies go back over https
    form = browser.get("/login")
    answer = browser.post(
        "/login", data={"token": always.tokens[Role.admin], "csrf": _csrf(form.text)}, follow_redirects=False
    )
    session_cookie = next(c for c in answer.headers.get_list("set-cookie") if c.startswith("overheard_session="))
    assert "; Secure" in session_cookie and "Max-Age=3" in session_cookie


def test_an_expired_token_neither_calls_the_api_nor_signs_in_and_its_sessions_end(app: App) -> None:
    sign_in(app.client, app.tokens[Role.admin])
    assert app.client.get("/inbox").status_code == 200
    with app.engine.begin() as connection:
        connection.execute(
            update(api_tokens).where(api_tokens.c.role == "admin").values(expires_at=now_utc() - timedelta(seconds=1))
        )
    assert app.client.get("/api/mentions", headers=app.bearer(Role.admin)).status_code == 401
    assert app.client.get("/inbox", follow_redirects=False).status_code == 303
    form = app.client.get("/login")
    again = app.client.post("/login", data={"token": app.tokens[Role.admin], "csrf": _csrf(form.text)})
    assert again.status_code == 401 and "expired" in again.text


def test_new_tokens_expire_and_revoking_one_signs_its_browsers_out(app: App) -> None:
    with app.engine.begin() as connection:
        secret, token = create_token(connection, "temp", Role.service)
    assert token.expires_at is not None and timedelta(days=89) < token.expires_at - now_utc() <= timedelta(days=90)
    sign_in(app.client, secret)
    assert app.client.get("/inbox").status_code == 200
    with app.engine.begin() as connection:
        assert revoke(connection, "temp")
    assert app.client.get("/inbox", follow_redirects=False).status_code == 303


# ---- guessing tokens (finding 10) ---------------------------------------------------------------------------


def test_one_address_sending_bad_tokens_is_slowed_down_on_the_api_and_the_sign_in_form(engine: Engine) -> None:
    app = _app(engine, DEMO_CONFIG.model_copy(update={"web": WebConfig(failed_sign_ins_per_minute=3)}))
    for _ in range(3):
        assert app.client.get("/api/mentions", headers={"Authorization": "Bearer ohk_guess"}).status_code == 401
    blocked = app.client.get("/api/mentions", headers=app.bearer(Role.admin))
    assert blocked.status_code == 429 and int(blocked.headers["Retry-After"]) > 0
    form = app.client.get("/login")
    refused = app.client.post("/login", data={"token": app.tokens[Role.admin], "csrf": _csrf(form.text)})
    assert refused.status_code == 429

    other = _app(engine, DEMO_CONFIG.model_copy(update={"web": WebConfig(failed_sign_ins_per_minute=3)}))
    assert other.client.get("/api/mentions", headers=other.bearer(Role.admin)).status_code == 200


# ---- what errors repeat (finding 14) -------------------------------------------------------------------------


def test_a_refused_field_is_echoed_cut_short_not_whole(app: App) -> None:
    huge = "x" * 500_000
    answer = app.client.post(
        "/api/contacts/c-1/consents", json={"basis": huge, "source": "y"}, headers=app.bearer(Role.privacy)
    )
    assert answer.status_code == 422
    assert len(answer.content) < 2_000
    [basis] = [e for e in answer.json()["detail"] if e["loc"] == ["body", "basis"]]
    assert basis["input"].startswith("xxx") and basis["input"].endswith("(500000 characters, cut)")


def test_options_and_405_name_every_method_of_the_path(app: App) -> None:
    options = app.client.options("/api/contacts/c-1/consents")
    assert options.status_code == 204 and options.headers["allow"] == "GET, POST, OPTIONS"
    wrong = app.client.delete("/api/contacts/c-1/consents", headers=app.bearer(Role.admin))
    assert wrong.status_code == 405 and wrong.headers["allow"] == "GET, POST, OPTIONS"
