"""Fixtures shared by the whole suite: databases on both backends, the bundled samples."""

from __future__ import annotations

import json
import os
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from enrichers.model import Company, Consent, Contact
from storage.contacts import save_company, save_consent, save_contact
from storage.database import create_db_engine, open_database

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "overheard" / "samples"


def postgres_url() -> str | None:
    return os.environ.get("OVERHEARD_TEST_POSTGRES_URL")


def _require_postgres() -> str:
    url = postgres_url()
    if url:
        return url
    if os.environ.get("OVERHEARD_REQUIRE_POSTGRES") == "1":
        pytest.fail("OVERHEARD_TEST_POSTGRES_URL is not set; run the suite with `make test` (it starts PostgreSQL)")
    pytest.skip("PostgreSQL not configured for this run (make test starts one)")


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'overheard.db'}"


@pytest.fixture
def fresh_postgres_url() -> Iterator[str]:
    """A brand-new PostgreSQL schema per test, dropped afterwards."""
    with postgres_schema(_require_postgres()) as url:
        yield url


@contextmanager
def postgres_schema(base: str, prefix: str = "t_") -> Iterator[str]:
    """A URL of the database at `base` whose search_path is a brand-new schema, dropped on leaving.

    A plain context manager (not a fixture) so benchmark scripts get the same isolation.
    """
    schema = f"{prefix}{uuid.uuid4().hex[:12]}"
    admin = create_db_engine(base)
    with admin.begin() as connection:
        connection.execute(text(f"CREATE SCHEMA {schema}"))
    sep = "&" if "?" in base else "?"
    try:
        yield f"{base}{sep}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as connection:
            connection.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Runs the test once on SQLite and once on PostgreSQL: the same code serves both."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'overheard.db'}"
    return request.getfixturevalue("fresh_postgres_url")


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = open_database(database_url)
    yield engine
    engine.dispose()


_SERVICE_FIXTURES = {"postgres": ("postgres",), "redis": ("redis",), "browser": ("browser", "playwright")}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark every test by the services it needs, so `make check` can leave them out with `-m`.

    A test needs PostgreSQL when one of its parameters is "postgresql" (the `database_url` family) or a fixture
    it uses names postgres; Redis and the browser likewise (every page fixture stands on `browser`), so a new
    test file cannot forget its marker.
    """
    e2e = Path(__file__).parent / "e2e"
    for item in items:
        if e2e in item.path.parents:  # whole journeys through the `overheard` command, run in a subprocess
            item.add_marker(pytest.mark.e2e)
        params = getattr(getattr(item, "callspec", None), "params", {})
        names = [name.lower() for name in getattr(item, "fixturenames", ())]
        for marker, words in _SERVICE_FIXTURES.items():
            in_params = marker == "postgres" and "postgresql" in params.values()
            if in_params or any(word in name for name in names for word in words):
                item.add_marker(getattr(pytest.mark, marker))


@pytest.fixture
def crm(engine: Engine) -> Engine:
    """The enrichers' test CRM (Jane, Bob, Emma, Greg and their companies and consents) stored for real."""
    raw = json.loads((ROOT / "tests" / "enrichers" / "data" / "crm.json").read_text())
    with engine.begin() as c:
        for company in raw["companies"]:
            save_company(c, Company.model_validate(company))
        for contact in raw["contacts"]:
            save_contact(c, Contact.model_validate(contact))
        for consent in raw["consents"]:
            save_consent(c, Consent.model_validate(consent))
    return engine


def sign_in(client: TestClient, secret: str) -> None:
    """Sign a test client in through the sign-in form, as a browser does (CSRF token and session cookie)."""
    form = client.get("/login")
    csrf = re.search(r'name="csrf" value="([^"]+)"', form.text)
    assert csrf, "the sign-in form carries a CSRF token"
    answer = client.post("/login", data={"token": secret, "csrf": csrf.group(1)}, follow_redirects=False)
    assert answer.status_code == 303, answer.text
