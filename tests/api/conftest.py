"""Fixtures of the API tests: the demo sample seeded through the real pipeline, once per backend per session."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from overheard.api import create_app
from overheard.runtime import load_classifier
from storage.database import create_db_engine, open_database
from tests.api.seed import DEMO_CONFIG, MemoClassifier, Seeded, seed
from tests.conftest import _require_postgres


@pytest.fixture(scope="session")
def memo_classifier() -> MemoClassifier:
    """The shipped model, loaded once; each text is classified once however many databases are seeded."""
    return MemoClassifier(load_classifier())


def _seeded_database(backend: str, folder: Path, classifier: MemoClassifier) -> Iterator[Seeded]:
    if backend == "sqlite":
        engine = open_database(f"sqlite:///{folder / 'overheard.db'}")
        yield seed(engine, classifier)
        engine.dispose()
        return
    base = _require_postgres()
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_db_engine(base)
    with admin.begin() as connection:
        connection.execute(text(f"CREATE SCHEMA {schema}"))
    sep = "&" if "?" in base else "?"
    engine = open_database(f"{base}{sep}options=-csearch_path%3D{schema}")
    try:
        yield seed(engine, classifier)
    finally:
        engine.dispose()
        with admin.begin() as connection:
            connection.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def seeded(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, memo_classifier: MemoClassifier
) -> Iterator[Seeded]:
    """The demo sample on SQLite and on PostgreSQL, shared by the tests of a session.

    Tests that change it pick their own records at run time (e.g. the newest *new* complaint), so they
    do not depend on each other's order; tests that erase use a database of their own.
    """
    yield from _seeded_database(request.param, tmp_path_factory.mktemp("seeded"), memo_classifier)


@pytest.fixture
def client(seeded: Seeded) -> TestClient:
    return TestClient(create_app(seeded.engine, DEMO_CONFIG, rate_limit_per_minute=100_000))
