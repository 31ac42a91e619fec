"""Alembic environment: migrations run on the connection `storage.database.migrate` hands in."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, create_engine

from storage.schema import metadata

config = context.config
connection = config.attributes.get("connection")


def _run(conn: Connection) -> None:
    context.configure(
        connection=conn,
        target_metadata=metadata,
        render_as_batch=True,  # SQLite needs batch mode to alter tables
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if connection is not None:
    _run(connection)
else:  # `alembic revision --autogenerate` from the command line: -x url=sqlite:///...
    url = context.get_x_argument(as_dictionary=True).get("url", "sqlite:///./var/autogen.db")
    with create_engine(url).begin() as conn:
        _run(conn)
