"""The operator's post-erasure step rewrites the database files: no copy of an erased post stays on disk."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, text

from overheard.services import gdpr
from overheard.services.access import Caller
from storage.audit import latest
from storage.database import open_database
from tests.storage.test_erasure_everywhere import _seed_jo_everywhere


def _relfilenode(engine: Engine, table: str) -> int:
    with engine.connect() as c:
        # the table this connection's search_path names (each test has its own schema with its own `mentions`)
        return int(c.execute(text("SELECT pg_relation_filenode(CAST(:t AS regclass))"), {"t": table}).scalar_one())


def test_compact_rewrites_every_personal_data_table_and_is_audited(database_url: str) -> None:
    engine = open_database(database_url)
    _seed_jo_everywhere(engine)
    gdpr.erase(engine, Caller.operator("dpo"), "c-0001")
    before = _relfilenode(engine, "mentions") if engine.dialect.name == "postgresql" else None

    statements = gdpr.compact(engine, Caller.operator("dpo"))

    if engine.dialect.name == "postgresql":
        assert 'VACUUM (FULL) "mentions"' in statements or "VACUUM (FULL) mentions" in statements
        assert statements[-1] == "CHECKPOINT"
        assert _relfilenode(engine, "mentions") != before  # a new file: the old one, with the dead rows, is gone
    else:
        assert statements == ["VACUUM", "PRAGMA wal_checkpoint(TRUNCATE)"]
        path = Path(engine.url.database or "")
        found = path.read_bytes() + (Path(f"{path}-wal").read_bytes() if Path(f"{path}-wal").exists() else b"")
        assert b"jo.smith@northwind.example" not in found.lower() and b"jo_smith" not in found.lower()
    with engine.connect() as c:
        assert [e.action for e in latest(c, limit=1)] == ["gdpr.compact"]
    engine.dispose()
