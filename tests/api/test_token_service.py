"""Tokens and web sessions as use cases: only an admin issues, lists and revokes tokens, each issue and revocation
is audited once, a refused call changes nothing; signing in and out of the web app is audited too. The same
functions serve `overheard tokens`, `/api/tokens` and the sign-in form, so the last tests go through those."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, Table, func, select

from overheard.api import create_app
from overheard.services import Caller, Conflict, Forbidden, NotFound, sessions, tokens
from overheard.services.access import Invalid
from storage.audit import entries_for
from storage.schema import api_tokens, audit_log
from storage.tokens import Role, authenticate, session_for
from tests.api.seed import DEMO_CONFIG
from tests.conftest import sign_in

ADMIN = Caller("root", Role.admin)


def _count(engine: Engine, table: Table = audit_log) -> int:
    with engine.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(table)).scalar_one())


def _trail(engine: Engine, name: str) -> list[tuple[str, str]]:
    with engine.connect() as connection:
        return [(e.actor, e.action) for e in entries_for(connection, "token", name)]


def test_an_admin_issues_a_token_that_authenticates_and_the_issue_is_audited(engine: Engine) -> None:
    issued = tokens.issue(engine, ADMIN, "  ana ", "service", days=30)
    assert issued.token.name == "ana" and issued.token.role is Role.service and issued.token.expires_at is not None
    with engine.connect() as connection:
        found = authenticate(connection, issued.secret)
        [entry] = entries_for(connection, "token", "ana")
    assert found is not None and found.name == "ana"
    assert (entry.actor, entry.action, entry.detail["role"]) == ("root", "token.create", "service")
    assert issued.secret not in str(entry.detail)  # the secret is never logged
    assert [t.name for t in tokens.listed(engine, ADMIN)] == ["ana"]


@pytest.mark.parametrize("role", [r for r in Role if r is not Role.admin], ids=str)
def test_no_other_role_issues_lists_or_revokes_and_a_refusal_changes_nothing(engine: Engine, role: Role) -> None:
    tokens.issue(engine, ADMIN, "ana", Role.sales)
    before = (_count(engine), _count(engine, api_tokens))
    caller = Caller("mallory", role)
    with pytest.raises(Forbidden, match="manage tokens"):
        tokens.issue(engine, caller, "mallory-admin", Role.admin)
    with pytest.raises(Forbidden):
        tokens.listed(engine, caller)
    with pytest.raises(Forbidden):
        tokens.revoke(engine, caller, "ana")
    assert (_count(engine), _count(engine, api_tokens)) == before
    with engine.connect() as connection:
        assert [t.status(t.created_at) for t in tokens.listed(engine, ADMIN)] == ["live"]
        assert connection.execute(select(api_tokens.c.revoked_at)).scalar_one() is None


def test_a_taken_name_a_bad_role_or_lifetime_is_refused_with_what_was_wrong(engine: Engine) -> None:
    tokens.issue(engine, ADMIN, "ana", Role.sales)
    before = _count(engine)
    with pytest.raises(Conflict, match="'ana' already exists"):
        tokens.issue(engine, ADMIN, "ana", Role.sales)
    with pytest.raises(Invalid, match="'owner' is not one of admin, service, sales, marketing, privacy"):
        tokens.issue(engine, ADMIN, "bo", "owner")
    with pytest.raises(Invalid, match="1 to 128 characters"):
        tokens.issue(engine, ADMIN, "   ", Role.sales)
    with pytest.raises(Invalid, match="days must be 0"):
        tokens.issue(engine, ADMIN, "bo", Role.sales, days=-1)
    assert _count(engine) == before


def test_revoking_ends_the_tokens_sessions_and_is_audited_once(engine: Engine) -> None:
    issued = tokens.issue(engine, ADMIN, "ana", Role.service)
    signed = sessions.sign_in(engine, Caller("ana", Role.service), issued.token.id, hours=8)
    tokens.revoke(engine, ADMIN, "ana")
    with engine.connect() as connection:
        assert authenticate(connection, issued.secret) is None
        assert session_for(connection, signed.secret) is None
    with pytest.raises(NotFound, match="no live token is named 'ana'"):
        tokens.revoke(engine, ADMIN, "ana")
    assert _trail(engine, "ana") == [("root", "token.create"), ("ana", "session.start"), ("root", "token.revoke")]


def test_signing_out_ends_the_session_on_the_server_and_is_audited(engine: Engine) -> None:
    issued = tokens.issue(engine, ADMIN, "ana", Role.sales, days=0)
    signed = sessions.sign_in(engine, Caller("ana", Role.sales), issued.token.id, hours=2)
    with engine.connect() as connection:
        live = session_for(connection, signed.secret)
    assert live is not None and live.token.name == "ana"
    assert sessions.sign_out(engine, signed.secret) is True
    assert sessions.sign_out(engine, signed.secret) is False  # ended already: nothing more is recorded
    with engine.connect() as connection:
        assert session_for(connection, signed.secret) is None
    assert _trail(engine, "ana") == [("root", "token.create"), ("ana", "session.start"), ("ana", "session.end")]


def test_the_api_and_the_sign_in_form_go_through_the_same_functions(engine: Engine) -> None:
    root = tokens.issue(engine, ADMIN, "root", Role.admin).secret
    client = TestClient(create_app(engine, DEMO_CONFIG))
    admin = {"Authorization": f"Bearer {root}"}
    made = client.post("/api/tokens", json={"name": "crm-bot", "role": "marketing", "days": 0}, headers=admin)
    assert made.status_code == 201, made.text
    assert made.json()["token"] == {
        "name": "crm-bot", "role": "marketing", "status": "live", "created_at": made.json()["token"]["created_at"],
        "last_used_at": None, "expires_at": None,
    }  # fmt: skip
    bot = {"Authorization": f"Bearer {made.json()['secret']}"}
    assert client.get("/api/tokens", headers=bot).status_code == 403  # marketing may not manage tokens
    assert client.post("/api/tokens", json={"name": "crm-bot", "role": "sales"}, headers=admin).status_code == 409
    assert [t["name"] for t in client.get("/api/tokens", headers=admin).json()] == ["root", "crm-bot"]

    sign_in(client, made.json()["secret"])
    assert client.post("/api/tokens/crm-bot/revoke", headers=admin).status_code == 204
    assert client.get("/api/metrics/kpis", headers=bot).status_code == 401
    assert client.post("/api/tokens/crm-bot/revoke", headers=admin).status_code == 404
    assert _trail(engine, "crm-bot") == [
        ("root", "token.create"),
        ("crm-bot", "session.start"),
        ("root", "token.revoke"),
    ]
