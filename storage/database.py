"""Opening the database: SQLite (WAL) by default, PostgreSQL by URL, migrated by Alembic."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any, NamedTuple, cast

from alembic import command
from alembic.config import Config
from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    ColumnDefault,
    ColumnElement,
    Connection,
    DateTime,
    Engine,
    Float,
    Integer,
    String,
    Table,
    Text,
    any_,
    bindparam,
    create_engine,
    delete,
    event,
    func,
    inspect,
    select,
    text,
    tuple_,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError, StatementError
from sqlalchemy.types import TypeDecorator

MIGRATIONS = Path(__file__).parent / "migrations"

PREPARE_THRESHOLD = 2
"""psycopg's `prepare_threshold` (documented, default 5): a statement text executed this many times on a connection
is prepared on the server, which then parses and plans it once. A page's statements keep their text whatever the
page's size (`upsert` on PostgreSQL), so the second page of a sweep already skips the server's parsing; psycopg keeps
up to `prepared_max` (100) prepared statements per connection, dropping the least used."""


class StorageError(RuntimeError):
    """A storage problem a user can act on (bad URL, unwritable path, unreachable server)."""


def _sqlite_path_problem(url: str) -> str | None:
    database = make_url(url).database
    if not database or database == ":memory:":
        return None
    path = Path(database).expanduser().resolve()
    parent = path.parent
    if path.is_dir():
        return f"the SQLite database path {path} is a folder; give a file path such as {path / 'overheard.db'}"
    if not parent.exists():
        try:
            parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            return f"cannot create the folder {parent} for the SQLite database: {exc.strerror}"
    if path.exists() and not os.access(path, os.W_OK):
        return f"the SQLite database {path} is not writable"
    if not path.exists() and not os.access(parent, os.W_OK):
        return f"cannot create the SQLite database {path}: folder {parent} is not writable"
    return None


def error_text(exc: BaseException) -> str:
    """An error as words fit to keep (source health, task runs, operator alerts, logs): for a database error, the
    database's own first line, without the SQL statement and its parameters, which hold post text and handles
    and would outlive an erasure there. Other errors as they read."""
    if not isinstance(exc, StatementError):
        return str(exc)
    if exc.orig is None:  # raised before the database saw it; the message is SQLAlchemy's own, without the SQL
        return f"{type(exc).__name__}: {exc.args[0] if exc.args else ''}"[:500]
    first = (str(exc.orig).strip().splitlines() or [""])[0]  # later lines (DETAIL) may quote the values
    return f"{type(exc.orig).__name__}: {first}"[:500]


def create_db_engine(url: str) -> Engine:
    """An engine for `url`; SQLite gets WAL, foreign keys and a busy timeout."""
    try:
        backend = make_url(url).get_backend_name()
    except Exception as exc:
        raise StorageError(f"database URL {url!r} is not a valid SQLAlchemy URL ({exc})") from exc
    if backend == "sqlite":
        problem = _sqlite_path_problem(url)
        if problem:
            raise StorageError(problem)
        engine = create_engine(url, connect_args={"timeout": 30})

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=30000")
            # deleted rows are overwritten with zeros, not left in free pages for a byte search to find
            cursor.execute("PRAGMA secure_delete=ON")
            cursor.close()

        return engine
    if backend == "postgresql":
        if make_url(url).drivername == "postgresql":
            url = str(make_url(url).set(drivername="postgresql+psycopg"))
        return create_engine(url, pool_pre_ping=True, connect_args={"prepare_threshold": PREPARE_THRESHOLD})
    raise StorageError(f"database URL {url!r}: only sqlite:/// and postgresql:// are supported")


def purge_freed_pages(engine: Engine) -> None:
    """After an erasure: leave no copy of deleted rows in the database's own files.

    SQLite: the write-ahead log still holds the pages as they were before the erasure until a checkpoint, so it is
    checkpointed and truncated to nothing (``secure_delete`` already zeroed the rows in the main file). PostgreSQL
    keeps dead tuples until VACUUM and old pages in its WAL until recycled: the operator's post-erasure step is
    ``VACUUM`` (docs/security.md); nothing is done here.
    """
    if engine.dialect.name != "sqlite":
        return
    with engine.connect() as connection:
        connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")


def compact_files(engine: Engine, tables: Sequence[str]) -> list[str]:
    """The operator's post-erasure maintenance step: rewrite the database files so deleted rows leave no trace.

    PostgreSQL: ``VACUUM (FULL)`` each of ``tables`` (a new file per table, the old one removed; it locks the table
    while it runs), then ``CHECKPOINT``, so the WAL holding the old pages can be recycled. SQLite: ``VACUUM`` (a new
    file) and the write-ahead log truncated. Returns the statements run, for the audit record.
    """
    statements: list[str] = []
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        if engine.dialect.name == "postgresql":
            preparer = engine.dialect.identifier_preparer
            statements += [f"VACUUM (FULL) {preparer.quote(name)}" for name in tables]
            statements.append("CHECKPOINT")
        else:
            statements += ["VACUUM", "PRAGMA wal_checkpoint(TRUNCATE)"]
        for statement in statements:
            connection.exec_driver_sql(statement)
    return statements


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest Alembic revision (idempotent)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    try:
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "heads")  # parallel branches of work may each add a head
    except OperationalError as exc:
        raise StorageError(
            f"cannot open the database {engine.url.render_as_string(hide_password=True)}: {exc.orig}"
        ) from exc


def open_database(url: str) -> Engine:
    """Create the engine and migrate: the one way every entrypoint opens storage."""
    engine = create_db_engine(url)
    migrate(engine)
    return engine


@contextmanager
def transaction(engine: Engine) -> Iterator[Connection]:
    with engine.begin() as connection:
        yield connection


def upsert(
    connection: Connection,
    table: Table,
    rows: Sequence[dict[str, Any]],
    keys: Iterable[str],
    *,
    update: Iterable[str] | None = None,
    returning: Sequence[str] = (),
) -> list[Any]:
    """Insert rows, updating `update` columns (default: all but keys) where the natural key exists.

    `update=()` means insert-if-absent. One statement and one round trip per batch, whatever its size. SQLite gets
    INSERT … VALUES (…), (…) … ON CONFLICT (SQLAlchemy's "insertmanyvalues", compiled once per shape). PostgreSQL
    gets INSERT … SELECT … FROM unnest(one array per column) ON CONFLICT (`column_arrays`): its text is the same for
    a page of 3 rows and one of 100, so psycopg parses it once (it keeps the parsing only of statements under 4 KB
    and 50 parameters, which a multi-row VALUES of a page is not) and the server prepares it (`PREPARE_THRESHOLD`).
    Rows that share a key are merged first, as upserting them one after another would leave them: the first row's
    values, with the `update` columns of the last one (a database refuses to touch one row twice in one
    statement). `returning` names columns to read back from each row written or updated (with `update=()`, rows
    that already existed are not returned), in no particular order.
    """
    if not rows:
        return []
    keys = list(keys)
    columns = list(update) if update is not None else [c for c in rows[0] if c not in keys]
    merged: dict[tuple[Any, ...], dict[str, Any]] = {}
    for row in rows:
        key = tuple(row[k] for k in keys)
        if key not in merged:
            merged[key] = dict(row)
        elif columns:
            merged[key].update({c: row[c] for c in columns if c in row})
    read_back = tuple(returning) or (keys[0],)
    values = list(merged.values())
    arrays = column_arrays(connection, table, values) if connection.dialect.name == "postgresql" else None
    if arrays is not None:
        names, bound = arrays
        statement = _unnest_upsert(connection.dialect, table, names, tuple(keys), tuple(columns), read_back)
        found = connection.exec_driver_sql(statement, bound).all()
    else:
        found = connection.execute(
            _upsert_statement(connection.dialect.name, table, tuple(keys), tuple(columns), read_back), values
        ).all()
    return list(found) if returning else []


@lru_cache(maxsize=256)
def _upsert_statement(
    dialect: str, table: Table, keys: tuple[str, ...], columns: tuple[str, ...], read_back: tuple[str, ...]
) -> Any:
    """The INSERT … ON CONFLICT … RETURNING of `upsert`, built once per shape: building one anew each time (its
    ``excluded`` column collection above all) cost more than compiling it, which SQLAlchemy caches anyway."""
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(table)
    if columns:
        statement = statement.on_conflict_do_update(
            index_elements=keys, set_={c: statement.excluded[c] for c in columns}
        )
    else:
        statement = statement.on_conflict_do_nothing(index_elements=keys)
    return statement.returning(*(table.c[c] for c in read_back))


class _Arrays(NamedTuple):
    """How `column_arrays` turns one column's values into a PostgreSQL array parameter."""

    array_type: str
    """The array's SQL type, e.g. "text[]": the column's type without its length, so that a value too long for a
    VARCHAR(n) column is refused when stored (as a one-row INSERT refuses it), never cut by the cast."""
    bind: Callable[[Any], Any] | None
    """SQLAlchemy's bind processing of the column's type (UTC for timestamps, psycopg's Json for JSON)."""
    coerce: type | None
    """float for Float columns: psycopg refuses a list mixing 1 and 0.5, where a one-row statement casts the 1."""
    default: Any
    """The column's Python-side default for rows that leave it out, or _NO_DEFAULT."""


_NO_DEFAULT = object()


def _array_type(column: Column[Any], dialect: Any) -> str | None:
    kind = column.type.dialect_impl(dialect)
    if isinstance(kind, TypeDecorator):
        kind = kind.impl_instance
    if isinstance(kind, JSON):
        return "jsonb[]" if isinstance(kind, postgresql.JSONB) else "json[]"
    for base, name in ((Boolean, "boolean"), (Integer, "bigint"), (Float, "float8"), (String, "text")):
        if isinstance(kind, base):
            return f"{name}[]"
    if isinstance(kind, DateTime):
        return "timestamptz[]" if kind.timezone else "timestamp[]"
    return None


@lru_cache(maxsize=512)
def _column_arrays(dialect: Any, table: Table, name: str) -> _Arrays | None:
    column = table.c[name]
    array_type = _array_type(column, dialect)
    if array_type is None:
        return None
    default: Any = _NO_DEFAULT
    if column.default is not None:
        if isinstance(column.default, ColumnDefault) and column.default.is_scalar:
            default = column.default.arg
        elif isinstance(column.default, ColumnDefault) and column.default.is_callable:
            default = column.default  # called per row, as an INSERT calls it per row
        else:
            return None
    bind = column.type.dialect_impl(dialect).bind_processor(dialect)
    return _Arrays(array_type, bind, float if array_type == "float8[]" else None, default)


def column_arrays(
    connection: Connection, table: Table, rows: Sequence[dict[str, Any]], *, defaults: bool = True
) -> tuple[tuple[str, ...], dict[str, list[Any]]] | None:
    """`rows` of `table` as one PostgreSQL array per column (the columns of the first row, and with `defaults` those
    the table fills with a Python-side default), for a statement over unnest(…): (column names, parameters).

    None when a column cannot go as an array as it would go in a one-row statement (a type without a plain array
    type, a default made by SQL, values of mixed Python types, a row without a column of the first): the caller then
    sends the rows as VALUES."""
    dialect = connection.dialect
    names = tuple(rows[0])
    filled = tuple(
        c.name
        for c in table.columns
        if defaults and c.name not in rows[0] and c.default is not None and not getattr(c.default, "is_sequence", False)
    )
    bound: dict[str, list[Any]] = {}
    for index, name in enumerate((*names, *filled)):
        how = _column_arrays(dialect, table, name)
        if how is None:
            return None
        if index < len(names):
            try:
                values = [row[name] for row in rows]
            except KeyError:  # rows naming different columns: SQLAlchemy's VALUES path says what is missing
                return None
        elif isinstance(how.default, ColumnDefault):
            values = [how.default.arg(None) for _ in rows]
        else:
            values = [how.default] * len(rows)
        if how.coerce is not None:
            values = [how.coerce(v) if isinstance(v, int) and not isinstance(v, bool) else v for v in values]
        if how.bind is not None:
            try:
                values = [how.bind(v) for v in values]
            except Exception as exc:  # as SQLAlchemy reports a value its bind processing refused
                raise StatementError(f"{table.name}.{name}: {exc}", None, None, exc) from exc
        if len({type(v) for v in values if v is not None}) > 1:
            return None
        bound[f"p{index}"] = values
    return (*names, *filled), bound


@lru_cache(maxsize=256)
def _unnest_upsert(
    dialect: Any,
    table: Table,
    names: tuple[str, ...],
    keys: tuple[str, ...],
    columns: tuple[str, ...],
    read_back: tuple[str, ...],
) -> str:
    """INSERT … SELECT * FROM unnest(%(p0)b::type[], …) ON CONFLICT …: `upsert`'s PostgreSQL statement in psycopg's
    own placeholders, built once per shape; parameter p<i> is the array of column names[i] (`column_arrays`). The
    arrays go in PostgreSQL's binary format (`%b`): psycopg writes text-format arrays in Python, escaping each
    element with a regular expression, which cost three times as long for a page."""
    quote = dialect.identifier_preparer.quote
    arrays = ", ".join(f"%(p{i})b::{_column_arrays(dialect, table, n).array_type}" for i, n in enumerate(names))  # type: ignore[union-attr]
    if columns:
        conflict = "DO UPDATE SET " + ", ".join(f"{quote(c)} = excluded.{quote(c)}" for c in columns)
    else:
        conflict = "DO NOTHING"
    return (
        f"INSERT INTO {dialect.identifier_preparer.format_table(table)} ({', '.join(map(quote, names))}) "
        f"SELECT * FROM unnest({arrays}) "
        f"ON CONFLICT ({', '.join(map(quote, keys))}) {conflict} "
        f"RETURNING {', '.join(map(quote, read_back))}"
    )


def update_rows(
    connection: Connection,
    table: Table,
    key: str,
    rows: Sequence[dict[str, Any]],
    *,
    keep: Iterable[str] = (),
    clear: Iterable[str] = (),
) -> None:
    """For each row, UPDATE `table` SET its other columns to its values WHERE `key` = its `key`: one statement and
    one round trip for all rows. Columns in `keep` keep their stored value where the row's is None (COALESCE);
    columns in `clear` are set to NULL. A key met twice keeps its last row.

    PostgreSQL: UPDATE … FROM unnest(one array per column), one text whatever the number of rows (prepared, as
    `upsert`'s); SQLite: one executemany of the one-row UPDATE (in process, no round trips to save)."""
    latest = list({row[key]: row for row in rows}.values())
    if not latest:
        return
    keep, clear = tuple(keep), tuple(clear)
    arrays = (
        column_arrays(connection, table, latest, defaults=False) if connection.dialect.name == "postgresql" else None
    )
    if arrays is not None:
        names, bound = arrays
        connection.exec_driver_sql(_unnest_update(connection.dialect, table, key, names, keep, clear), bound)
        return
    connection.execute(
        _update_statement(table, key, tuple(latest[0]), keep, clear),
        [{f"b_{name}": value for name, value in row.items()} for row in latest],
    )


@lru_cache(maxsize=64)
def _update_statement(
    table: Table, key: str, names: tuple[str, ...], keep: tuple[str, ...], clear: tuple[str, ...]
) -> Any:
    values: dict[str, Any] = {
        n: func.coalesce(bindparam(f"b_{n}", type_=table.c[n].type), table.c[n])
        if n in keep
        else bindparam(f"b_{n}", type_=table.c[n].type)
        for n in names
        if n != key
    }
    values.update(dict.fromkeys(clear))
    return update(table).where(table.c[key] == bindparam(f"b_{key}", type_=table.c[key].type)).values(values)


@lru_cache(maxsize=64)
def _unnest_update(
    dialect: Any, table: Table, key: str, names: tuple[str, ...], keep: tuple[str, ...], clear: tuple[str, ...]
) -> str:
    """UPDATE … FROM unnest(%(p0)b::type[], …) AS v(…) WHERE key = v.key: `update_rows`'s PostgreSQL statement, as
    `_unnest_upsert`'s."""
    quote = dialect.identifier_preparer.quote
    target = dialect.identifier_preparer.format_table(table)
    arrays = ", ".join(f"%(p{i})b::{_column_arrays(dialect, table, n).array_type}" for i, n in enumerate(names))  # type: ignore[union-attr]
    sets = [
        f"{quote(n)} = COALESCE(v.{quote(n)}, {target}.{quote(n)})" if n in keep else f"{quote(n)} = v.{quote(n)}"
        for n in names
        if n != key
    ] + [f"{quote(n)} = NULL" for n in clear]
    return (
        f"UPDATE {target} SET {', '.join(sets)} "
        f"FROM unnest({arrays}) AS v({', '.join(map(quote, names))}) "
        f"WHERE {target}.{quote(key)} = v.{quote(key)}"
    )


def among(connection: Connection, column: Any, values: Iterable[Any]) -> ColumnElement[bool]:
    """`column IN values` for a page's worth of values. PostgreSQL: `column = ANY(one array)`, whose text does not
    change with the number of values, so psycopg keeps its parsing and the server can prepare it (an IN list of
    75 ids is 75 parameters, parsed anew each time); SQLite: the IN list."""
    values = list(values)
    if connection.dialect.name != "postgresql":
        return cast("ColumnElement[bool]", column.in_(values))
    return cast("ColumnElement[bool]", column == any_(bindparam(None, values, type_=_lookup_array(column))))


def pairs_among(
    connection: Connection, columns: tuple[Any, Any], pairs: Iterable[tuple[Any, Any]]
) -> ColumnElement[bool]:
    """`(a, b) IN pairs`, as `among`: PostgreSQL reads the pairs from unnest(two arrays)."""
    pairs = list(pairs)
    if connection.dialect.name != "postgresql":
        return tuple_(*columns).in_(pairs)
    arrays = [
        bindparam(None, [pair[i] for pair in pairs], type_=_lookup_array(column)) for i, column in enumerate(columns)
    ]
    listed = func.unnest(*arrays).table_valued("a", "b").render_derived()
    return tuple_(*columns).in_(select(listed.c.a, listed.c.b))


def _lookup_array(column: Any) -> postgresql.ARRAY[Any]:
    """The array type to look `column`'s values up in: its own for numbers, unbounded text for strings (a cast to
    VARCHAR(n)[] would cut a longer value to fit, and it could then match a row it is not)."""
    return postgresql.ARRAY(Text if isinstance(column.type, String) else column.type)


def drain_log(
    connection: Connection, table: Table, column: str, lock_key: int, *, wait: bool = False
) -> list[Any] | None:
    """Take every row of a change log (`column` of each), in the caller's transaction; None when there is no work.

    Triggers append to such logs (metric_dirty, mention_tags_log) and the caller recomputes what they name.
    On PostgreSQL one transaction drains a log at a time (an advisory lock on `lock_key`, held to its end):
    with `wait=False` a writer that finds another one draining returns None and leaves its rows for the next
    drain instead of waiting. One DELETE … RETURNING takes exactly the rows it sees; rows committed after it
    stay logged.
    """
    if connection.execute(select(table.c[column]).limit(1)).first() is None:
        return None
    if connection.dialect.name == "postgresql":
        if wait:
            connection.execute(select(func.pg_advisory_xact_lock(lock_key)))
        elif not connection.execute(select(func.pg_try_advisory_xact_lock(lock_key))).scalar_one():
            return None
    return list(connection.execute(delete(table).returning(table.c[column])).scalars())


def table_names(engine: Engine) -> list[str]:
    return sorted(inspect(engine).get_table_names())


def unready(engine: Engine, required: Iterable[str]) -> str | None:
    """Why the database cannot serve yet (unreachable, or `required` tables missing: not migrated), or None."""
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        missing = sorted(set(required) - set(table_names(engine)))
    except Exception as exc:  # any failure to reach the database means not ready
        return f"database unreachable: {type(exc).__name__}"
    return f"run the migrations: missing tables {', '.join(missing)}" if missing else None
