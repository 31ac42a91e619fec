"""`overheard contacts` and `overheard gdpr` as an operator runs them: a real process on a real SQLite file."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from listener.mention import Author, Mention
from storage.database import open_database
from storage.mentions import save_mentions
from storage.schema import mentions
from tests.conftest import SAMPLES
from tests.e2e.cli import FIXTURES, init_workspace, overheard


@pytest.fixture
def crm(tmp_path: Path) -> Path:
    """A workspace holding the bundled sample contacts and companies."""
    folder = init_workspace(tmp_path / "crm")
    result = overheard(
        "contacts", "import", str(SAMPLES / "contacts.csv"), "--companies", str(SAMPLES / "companies.csv"), cwd=folder
    )
    assert result.returncode == 0, result.stderr
    assert "imported 41 contacts" in result.stdout
    return folder


def test_contacts_show_prints_the_360_as_json_and_the_view_is_audited_with_its_actor(crm: Path) -> None:
    shown = overheard("contacts", "show", "c-0001", "--actor", "dpo-anna", cwd=crm)
    assert shown.returncode == 0, shown.stderr
    view = json.loads(shown.stdout)
    assert view["id"] == "c-0001" and view["name"] == "Priya Raman"
    assert {(i["platform"], i["handle"]) for i in view["identities"]} >= {("x", "priya_r_ops")}
    assert [c["domain"] for c in view["companies"]] == ["kestrelcowork.com"]
    assert view["consents"][0]["basis"] == "legitimate_interest"
    assert {"findings", "mentions", "routes", "why", "route_records"} <= view.keys()

    written = overheard("contacts", "show", "c-0002", "--out", "c-0002.json", cwd=crm)
    assert written.returncode == 0, written.stderr
    assert json.loads((crm / "c-0002.json").read_text())["emails"] == ["jonas.weber@example.com"]

    missing = overheard("contacts", "show", "c-9999", cwd=crm)
    assert missing.returncode == 1
    assert "no contact with id 'c-9999'" in missing.stderr

    audit = overheard("gdpr", "audit", "--contact", "c-0001", "--format", "json", cwd=crm)
    assert audit.returncode == 0, audit.stderr
    assert [(e["actor"], e["action"]) for e in json.loads(audit.stdout)] == [("dpo-anna", "contact.view")]


def test_contacts_export_in_csv_and_hubspot_shapes_reads_back_to_the_same_contacts(crm: Path, tmp_path: Path) -> None:
    as_csv = overheard("contacts", "export", "--out", "contacts.csv", "--companies", "companies.csv", cwd=crm)
    as_hubspot = overheard("contacts", "export", "--format", "hubspot", "--out", "hubspot.export", cwd=crm)
    assert as_csv.returncode == 0 and as_hubspot.returncode == 0, as_csv.stderr + as_hubspot.stderr
    assert len(json.loads((crm / "hubspot.export").read_text())["results"]) == 41

    from_csv, from_hubspot = init_workspace(tmp_path / "from_csv"), init_workspace(tmp_path / "from_hubspot")
    imported = overheard(
        "contacts", "import", str(crm / "contacts.csv"), "--companies", str(crm / "companies.csv"), cwd=from_csv
    )
    assert imported.returncode == 0, imported.stderr
    # Not named .json: the shape is given.
    imported = overheard("contacts", "import", str(crm / "hubspot.export"), "--format", "hubspot", cwd=from_hubspot)
    assert imported.returncode == 0, imported.stderr
    assert "imported 41 contacts" in imported.stdout

    original = overheard("contacts", "export", cwd=crm).stdout
    assert overheard("contacts", "export", cwd=from_csv).stdout == original
    jonas = json.loads(overheard("contacts", "show", "c-0002", cwd=from_hubspot).stdout)
    assert jonas["emails"] == ["jonas.weber@example.com"]
    assert {(i["platform"], i["handle"]) for i in jonas["identities"]} == {
        ("x", "jonasweb3r"),
        ("mastodon", "jonas@chaos.social"),
    }

    audit = json.loads(overheard("gdpr", "audit", "--format", "json", cwd=crm).stdout)
    # Newest first; the audit keeps who exported, the shape and how many, never whom.
    assert [e["detail"] for e in audit if e["action"] == "contacts.export"] == [
        {"format": "csv", "contacts": 41},
        {"format": "hubspot", "contacts": 41},
        {"format": "csv", "contacts": 41},
    ]


def test_a_file_with_broken_rows_imports_nothing_and_names_every_row(tmp_path: Path) -> None:
    folder = init_workspace(tmp_path)
    result = overheard("contacts", "import", str(FIXTURES / "contacts_with_bad_rows.csv"), cwd=folder)
    assert result.returncode == 1
    assert "row 3, email" in result.stderr and "row 4, consent_granted_at" in result.stderr
    assert "nothing imported" in result.stderr
    assert overheard("contacts", "export", cwd=folder).stdout.count("\n") == 1  # the header alone


def test_handles_claimed_twice_in_the_file_or_already_held_in_the_database_reject_the_file(crm: Path) -> None:
    result = overheard("contacts", "import", str(FIXTURES / "contacts_claiming_taken_handles.csv"), cwd=crm)
    assert result.returncode == 1
    lines = result.stderr.replace("\n ", " ")
    assert "row 2, x_handle: x handle 'priya_r_ops' already belongs to contact c-0001 in the database" in lines
    assert "row 3, x_handle: x handle 'twin_handle' is also claimed by contact c-7003 (row 4)" in lines
    assert "row 4, x_handle: x handle 'twin_handle' is also claimed by contact c-7002 (row 3)" in lines
    assert "nothing imported" in lines
    # Nothing partially applied: not even the valid row 5, and the owner keeps the handle.
    assert overheard("contacts", "show", "c-7004", cwd=crm).returncode == 1
    owner = json.loads(overheard("contacts", "show", "c-0001", cwd=crm).stdout)
    assert ("x", "priya_r_ops") in {(i["platform"], i["handle"]) for i in owner["identities"]}


def test_retention_dry_run_counts_per_data_class_then_the_run_deletes_and_is_audited(tmp_path: Path) -> None:
    folder = init_workspace(tmp_path)
    engine = open_database(f"sqlite:///{folder}/o.db")
    two_years_ago = datetime.now(UTC) - timedelta(days=730)
    post = Mention(
        source="x",
        external_id="old-1",
        author=Author(handle="someone"),
        text="an old post about Lumora",
        created_at=two_years_ago,
    )
    with engine.begin() as connection:
        save_mentions(
            connection, [post, post.model_copy(update={"external_id": "new-1", "created_at": datetime.now(UTC)})]
        )

    dry = overheard("gdpr", "retention", "--dry-run", cwd=folder)
    assert dry.returncode == 0, dry.stderr
    assert "mentions: would delete 1" in dry.stdout and "findings: would delete 0" in dry.stdout
    assert "nothing was deleted" in dry.stdout
    with engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(mentions)).scalar_one() == 2

    run = overheard("gdpr", "retention", "--actor", "ops-bot", cwd=folder)
    assert run.returncode == 0, run.stderr
    assert "mentions: deleted 1" in run.stdout
    with engine.connect() as connection:
        assert connection.execute(select(mentions.c.external_id)).scalars().all() == ["new-1"]
    audit = json.loads(overheard("gdpr", "audit", "--format", "json", "--limit", "5", cwd=folder).stdout)
    assert [(e["actor"], e["action"], e["detail"]["removed"]["mentions"]) for e in audit] == [
        ("ops-bot", "retention.apply", 1)
    ]
    engine.dispose()
