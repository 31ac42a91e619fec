"""Opening storage: migrations, SQLite settings, and clear errors for unusable locations."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    event,
    func,
    select,
    text,
)
from sqlalchemy.exc import DataError

from storage.database import StorageError, among, open_database, pairs_among, table_names, update_rows, upsert
from storage.personal_data import NOT_PERSONAL, PERSONAL_DATA, personal_columns
from storage.schema import UTCDateTime, cursors, metadata


def test_migrations_create_every_table_and_can_run_twice(database_url: str) -> None:
    first = open_database(database_url)
    second = open_database(database_url)
    assert set(metadata.tables) <= set(table_names(second))
    first.dispose()
    second.dispose()


def test_sqlite_runs_in_wal_mode_with_foreign_keys(sqlite_url: str) -> None:
    engine = open_database(sqlite_url)
    with engine.connect() as c:
        assert c.execute(text("PRAGMA journal_mode")).scalar_one() == "wal"
        assert c.execute(text("PRAGMA foreign_keys")).scalar_one() == 1


def test_database_path_that_is_a_folder_gives_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "overheard.db").mkdir()
    with pytest.raises(StorageError, match="is a folder"):
        open_database(f"sqlite:///{tmp_path / 'overheard.db'}")


def test_database_path_under_a_file_gives_a_clear_error(tmp_path: Path) -> None:
    a_file = tmp_path / "not-a-folder"
    a_file.write_text("x")
    with pytest.raises(StorageError, match="cannot create the folder"):
        open_database(f"sqlite:///{a_file / 'sub' / 'overheard.db'}")


def test_unsupported_database_url_is_named_in_the_error() -> None:
    with pytest.raises(StorageError, match="mysql://"):
        open_database("mysql://localhost/overheard")


def test_every_column_is_classified_as_personal_or_not() -> None:
    unclassified = [
        f"{table.name}.{column.name}"
        for table in metadata.tables.values()
        for column in table.columns
        if column.name not in personal_columns(table.name) and column.name not in NOT_PERSONAL.get(table.name, ())
    ]
    assert unclassified == []


def test_personal_data_registry_names_only_real_columns() -> None:
    for entry in PERSONAL_DATA:
        table = metadata.tables[entry.table]
        assert set(entry.columns) <= set(table.columns.keys()), entry.table


def test_a_page_upsert_on_postgresql_is_one_short_statement_whatever_the_page_size(fresh_postgres_url: str) -> None:
    # psycopg keeps its parsing only of statements under 4 KB and 50 parameters, and the server plans a statement
    # once only when it is prepared: a multi-row VALUES changes its text with the page's size and outgrows both.
    engine = open_database(fresh_postgres_url)
    sent: list[tuple[str, int]] = []

    @event.listens_for(engine, "before_cursor_execute")
    def _seen(_c: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool) -> None:
        if statement.startswith("INSERT INTO cursors"):
            sent.append((statement, len(parameters)))

    at = datetime(2026, 12, 7, tzinfo=UTC)
    pages = [
        [{"name": f"{tag}{i}", "position": str(i), "updated_at": at} for i in range(size)]
        for tag, size in (("a", 60), ("b", 7), ("c", 100))
    ]
    try:
        with engine.begin() as connection:
            for page in pages:
                upsert(connection, cursors, page, ("name",))
            prepared = connection.execute(
                text("SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE 'INSERT INTO cursors%'")
            ).scalar_one()
            stored = connection.execute(select(func.count()).select_from(cursors)).scalar_one()
    finally:
        engine.dispose()
    assert len({statement for statement, _ in sent}) == 1
    assert len(sent[0][0].encode()) < 4096 and all(count == 3 for _, count in sent)  # one array per column
    assert prepared == 1  # psycopg's prepare_threshold (storage.database.PREPARE_THRESHOLD)
    assert stored == 167


PROBE = Table(
    "upsert_probe",
    MetaData(),
    Column("id", Integer, primary_key=True),
    Column("name", String(10), nullable=False, unique=True),
    Column("score", Float),
    Column("ok", Boolean),
    Column("count", BigInteger),
    Column("detail", JSON),
    Column("tags", JSON, nullable=False, default=list),
    Column("state", String(8), nullable=False, default="new"),
    Column("at", UTCDateTime),
)


def test_upsert_stores_what_one_row_inserts_store(database_url: str) -> None:
    # On PostgreSQL the rows go as one array per column; what is stored must not depend on it: a whole number in a
    # Float column, JSON null against SQL NULL, Python-side defaults, time zones, updates of the `update` columns.
    engine = open_database(database_url)
    PROBE.metadata.create_all(engine)
    at = datetime(2026, 12, 7, 10, 30, tzinfo=timezone(timedelta(hours=2)))
    rows = [
        {"name": "a", "score": 1, "ok": True, "count": 3, "detail": {"k": [1, "x"]}, "at": at},
        {"name": "b", "score": 0.5, "ok": None, "count": None, "detail": None, "at": None},
        {"name": "c", "score": None, "ok": False, "count": 2**40, "detail": [], "at": at},
    ]
    try:
        with engine.begin() as connection:
            upsert(connection, PROBE, rows, ("name",))
            upsert(connection, PROBE, [{**rows[0], "score": 2.5, "detail": None}], ("name",), update=("score",))
            read = connection.execute(
                select(
                    PROBE.c.name,
                    PROBE.c.score,
                    PROBE.c.ok,
                    PROBE.c.count,
                    PROBE.c.detail,
                    PROBE.c.detail.is_(None).label("sql_null"),
                    PROBE.c.tags,
                    PROBE.c.state,
                    PROBE.c.at,
                ).order_by(PROBE.c.name)
            ).all()
    finally:
        engine.dispose()
    assert [tuple(r) for r in read] == [
        ("a", 2.5, True, 3, {"k": [1, "x"]}, False, [], "new", at.astimezone(UTC)),
        ("b", 0.5, None, None, None, False, [], "new", None),  # None in a JSON column is JSON null, not SQL NULL
        ("c", None, False, 2**40, [], False, [], "new", at.astimezone(UTC)),
    ]


def test_a_value_too_long_for_its_column_is_refused_not_cut(fresh_postgres_url: str) -> None:
    engine = open_database(fresh_postgres_url)
    PROBE.metadata.create_all(engine)
    try:
        with pytest.raises(DataError, match="too long"), engine.begin() as connection:
            upsert(connection, PROBE, [{"name": "short"}, {"name": "much too long"}], ("name",))
    finally:
        engine.dispose()


def test_update_rows_sets_keeps_and_clears_as_one_row_updates_would(database_url: str) -> None:
    engine = open_database(database_url)
    PROBE.metadata.create_all(engine)
    at = datetime(2026, 12, 7, tzinfo=UTC)
    try:
        with engine.begin() as connection:
            upsert(
                connection,
                PROBE,
                [{"name": n, "score": 1.0, "ok": True, "count": 1, "detail": {"n": n}, "at": at} for n in "abc"],
                ("name",),
            )
            update_rows(
                connection,
                PROBE,
                "name",
                [
                    {"name": "a", "score": 2, "detail": None, "at": None},  # at: kept where None
                    {"name": "b", "score": 3.5, "detail": [1], "at": at + timedelta(days=1)},
                    {"name": "a", "score": 4, "detail": None, "at": None},  # the last row of a key wins
                ],
                keep=("at",),
                clear=("ok",),
            )
            read = connection.execute(
                select(PROBE.c.name, PROBE.c.score, PROBE.c.ok, PROBE.c.detail, PROBE.c.at).order_by(PROBE.c.name)
            ).all()
    finally:
        engine.dispose()
    assert [tuple(r) for r in read] == [
        ("a", 4.0, None, None, at),
        ("b", 3.5, None, [1], at + timedelta(days=1)),
        ("c", 1.0, True, {"n": "c"}, at),  # not named: untouched
    ]


def test_among_and_pairs_among_find_what_an_in_list_finds(database_url: str) -> None:
    engine = open_database(database_url)
    PROBE.metadata.create_all(engine)
    try:
        with engine.begin() as connection:
            upsert(
                connection,
                PROBE,
                [{"name": n, "count": i} for i, n in enumerate(["a", "b", "c", "abcdefghij"])],
                ("name",),
            )

            def names(condition: Any) -> list[str]:
                return sorted(connection.execute(select(PROBE.c.name).where(condition)).scalars())

            assert names(among(connection, PROBE.c.count, [0, 2, 7])) == ["a", "c"]
            assert names(among(connection, PROBE.c.count, [])) == []
            # a value longer than the column is looked up whole, never cut to fit it
            assert names(among(connection, PROBE.c.name, ["abcdefghijk", "b"])) == ["b"]
            pairs = [("a", 0), ("b", 2), ("abcdefghij", 3)]
            assert names(pairs_among(connection, (PROBE.c.name, PROBE.c.count), pairs)) == ["a", "abcdefghij"]
            assert names(pairs_among(connection, (PROBE.c.name, PROBE.c.count), [])) == []
    finally:
        engine.dispose()
