"""Importing contacts through the service the CLI uses: a bad file changes nothing, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import Engine, func, select

from overheard.services import contacts as crm
from storage.schema import contacts, identities
from tests.conftest import SAMPLES

TAKEN = Path(__file__).resolve().parents[1] / "e2e" / "fixtures" / "contacts_claiming_taken_handles.csv"


def _stored(engine: Engine) -> tuple[int, set[tuple[str, str, str]]]:
    with engine.connect() as c:
        count = c.execute(select(func.count()).select_from(contacts)).scalar_one()
        held = {(r.platform, r.handle_key, r.contact_id) for r in c.execute(select(identities))}
    return count, held


def test_handles_claimed_twice_or_held_by_a_stored_contact_leave_the_database_unchanged(engine: Engine) -> None:
    assert crm.import_crm(engine, SAMPLES / "contacts.csv", companies_path=SAMPLES / "companies.csv").applied
    before = _stored(engine)

    result = crm.import_crm(engine, TAKEN)

    assert not result.applied
    assert [(e.row, e.column, e.contact_id) for e in result.errors if e.column] == [
        (2, "x_handle", "c-7001"),
        (3, "x_handle", "c-7002"),
        (4, "x_handle", "c-7003"),
    ]
    assert "c-0001" in result.errors[0].message
    assert _stored(engine) == before  # not even the valid c-7004


def test_skipping_bad_rows_imports_only_the_whole_valid_contacts(engine: Engine) -> None:
    crm.import_crm(engine, SAMPLES / "contacts.csv", companies_path=SAMPLES / "companies.csv")
    count, held = _stored(engine)

    result = crm.import_crm(engine, TAKEN, skip_bad_rows=True)

    assert result.applied and [c.id for c in result.contacts.contacts] == ["c-7004"]
    assert _stored(engine) == (count + 1, held | {("x", "val_ok", "c-7004")})


def test_a_hubspot_record_claiming_a_stored_handle_is_named_by_its_number(engine: Engine, tmp_path: Path) -> None:
    crm.import_crm(engine, SAMPLES / "contacts.csv", companies_path=SAMPLES / "companies.csv")
    before = _stored(engine)
    export = tmp_path / "hubspot.json"
    export.write_text(
        json.dumps(
            {
                "results": [
                    {"id": "501", "properties": {"firstname": "Ok", "email": "ok@ok.example"}},
                    {"id": "502", "properties": {"firstname": "Pat", "twitterhandle": "@PRIYA_R_OPS"}},
                ]
            }
        )
    )

    result = crm.import_crm(engine, export)

    assert not result.applied
    assert [(e.row, e.column) for e in result.errors if e.column] == [(2, "twitterhandle")]
    assert _stored(engine) == before


def test_a_broken_companies_file_stops_the_contacts_too(engine: Engine, tmp_path: Path) -> None:
    companies = tmp_path / "companies.csv"
    companies.write_text("company_id,name,domain\nco-1,Acme,acme.example\nco-2,Acme Again,acme.example\n")

    result = crm.import_crm(engine, SAMPLES / "contacts.csv", companies_path=companies)

    assert not result.applied
    assert [(e.row, e.column) for e in result.companies.errors] == [(2, "domain"), (3, "domain")]
    assert _stored(engine) == (0, set())
