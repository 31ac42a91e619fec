"""After an erasure, the person's name, email and handle are in no file of a SQLite deployment, WAL included."""

from __future__ import annotations

from pathlib import Path

from enrichers.model import Contact
from overheard.services import Caller, gdpr
from storage.contacts import save_contact
from storage.database import open_database

NAME, EMAIL, HANDLE = "Zephyrine Quillfeather", "zephyrine.q@example.org", "zq_lamps_4471"


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in folder.iterdir() if p.name.startswith("overheard.db")}


def test_an_erased_contact_leaves_no_bytes_in_the_database_file_or_its_write_ahead_log(tmp_path: Path) -> None:
    engine = open_database(f"sqlite:///{tmp_path / 'overheard.db'}")
    with engine.begin() as connection:
        save_contact(
            connection,
            Contact.model_validate(
                {"id": "c-z", "name": NAME, "emails": [EMAIL], "identities": [{"platform": "x", "handle": HANDLE}]}
            ),
        )
    before = _files(tmp_path)
    assert any(NAME.encode() in data for data in before.values()), "the fixture must be on disk to begin with"

    gdpr.erase(engine, Caller.operator("dpo@example.com"), "c-z")  # the engine stays open, as in a running service

    after = _files(tmp_path)
    assert "overheard.db" in after
    for needle in (NAME, EMAIL, HANDLE):
        holding = [name for name, data in after.items() if needle.encode() in data]
        assert not holding, f"{needle!r} still in {holding}"
    engine.dispose()
