"""Opening storage: migrations, SQLite settings, and clear errors for unusable locations."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from storage.database import StorageError, open_database, table_names, upsert
from storage.personal_data import NOT_PERSONAL, PERSONAL_DATA, personal_columns
from storage.schema import cursors, metadata


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


def test_a_page_upsert_repeated_at_the_same_size_is_parsed_by_psycopg_once(fresh_postgres_url: str) -> None:
    # psycopg keeps its parsing only of short statements unless told otherwise; a page's upsert is long (here 60
    # rows, 180 parameters) and repeats with the same text, so parsing it again each page was wasted CPU.
    from psycopg import _queries

    engine = open_database(fresh_postgres_url)
    at = datetime(2026, 12, 7, tzinfo=UTC)
    pages = [[{"name": f"{tag}{i}", "position": str(i), "updated_at": at} for i in range(60)] for tag in "abc"]
    try:
        with engine.begin() as connection:
            upsert(connection, cursors, pages[0], ("name",))
            before = _queries._query2pg.cache_info()
            upsert(connection, cursors, pages[1], ("name",))
            upsert(connection, cursors, pages[2], ("name",))
            after = _queries._query2pg.cache_info()
            stored = connection.execute(select(func.count()).select_from(cursors)).scalar_one()
    finally:
        engine.dispose()
    assert after.hits - before.hits >= 2 and after.misses == before.misses
    assert stored == 180
