"""The `overheard` command as a user runs it: a real process, a real SQLite file."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.e2e.cli import FIXTURES, overheard

CONFIG_FIXTURES = Path(__file__).resolve().parents[1] / "overheard" / "fixtures"


@pytest.mark.slow
def test_demo_runs_offline_and_prints_the_triage_summary(tmp_path: Path) -> None:
    result = overheard("demo", "--workdir", str(tmp_path / "demo"), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "Triage summary: routes per team and intent" in out
    assert "customer_service" in out  # complaints and questions from the sample always reach service
    assert "most pressing:" in out
    assert "quarantined: mentions.jsonl line 359: text: Field required" in out
    assert (tmp_path / "demo" / "overheard.db").exists()
    stored = int(out.split("mentions stored and classified")[0].split()[-1])
    assert stored == 357
    in_inboxes = int(" ".join(out.split()).split(" deliveries in the teams' web inboxes")[0].split()[-1])
    assert in_inboxes > 0  # the demo's channels are web inboxes: placed there, never "sent"
    # Per team: routed, flagged spam, from owned accounts, about competitors; each noise column adds up to its total.
    assert "Per team: routed, and what noise screening kept out of its queue" in out
    rows = {
        cells[0]: [int(n) for n in cells[1:]]
        for line in out.splitlines()
        if len(cells := [c.strip() for c in line.strip("│ ").split("│")]) == 5 and cells[1].isdigit()
    }
    assert rows["customer_service"][0] > 0 and rows["customer_service"][2] >= 1  # @LumoraHelp's post held back
    totals = [sum(r[i] for r in rows.values()) for i in (1, 2, 3)]
    flagged = " ".join(out.split()).split("kept out of the queues: ")[1]
    said = [int(flagged.split(label)[0].split()[-1]) for label in (" flagged as spam", " from the brand's", " about")]
    assert all(total >= n > 0 for total, n in zip(totals, said, strict=True))  # one mention may be held from two teams


def test_init_refuses_to_overwrite_an_existing_config(workspace: Path) -> None:
    result = overheard("init", cwd=workspace)
    assert result.returncode == 1
    assert "already exists" in result.stderr


def test_contacts_import_reports_each_bad_row_and_imports_the_rest(workspace: Path) -> None:
    result = overheard(
        "contacts", "import", str(FIXTURES / "contacts_with_bad_rows.csv"), "--skip-bad-rows", cwd=workspace
    )
    assert result.returncode == 1
    assert "row 3, email" in result.stderr
    assert "row 4, consent_granted_at" in result.stderr
    assert "imported 2 contacts" in result.stdout
    exported = overheard("gdpr", "export", "c-9004", cwd=workspace)
    assert exported.returncode == 0, exported.stderr
    document = json.loads(exported.stdout)
    assert document["tables"]["identities"][0]["handle"] in {"dev_rao", "dev@fosstodon.org"}
    missing = overheard("gdpr", "export", "c-9002", cwd=workspace)
    assert missing.returncode == 1
    assert "no contact with id 'c-9002'" in missing.stderr


def test_gdpr_erase_needs_confirmation_then_removes_the_contact(workspace: Path) -> None:
    overheard("contacts", "import", str(FIXTURES / "contacts_with_bad_rows.csv"), "--skip-bad-rows", cwd=workspace)
    assert overheard("gdpr", "erase", "c-9001", cwd=workspace).returncode == 1
    erased = overheard("gdpr", "erase", "c-9001", "--yes", cwd=workspace)
    assert erased.returncode == 0, erased.stderr
    assert "erased c-9001" in erased.stdout
    assert overheard("gdpr", "export", "c-9001", cwd=workspace).returncode == 1


def test_an_invalid_config_stops_before_anything_runs(tmp_path: Path) -> None:
    result = overheard("collect", "--config", str(CONFIG_FIXTURES / "bad_unknown_key.yaml"), cwd=tmp_path)
    assert result.returncode == 1
    assert "line 8" in result.stderr and "pagesize" in result.stderr
    assert not (tmp_path / "var").exists()


def test_worker_without_a_broker_names_the_variable_to_set(workspace: Path) -> None:
    env_before = os.environ.pop("OVERHEARD_REDIS_URL", None)
    try:
        result = overheard("worker", cwd=workspace)
    finally:
        if env_before is not None:
            os.environ["OVERHEARD_REDIS_URL"] = env_before
    assert result.returncode == 1
    assert "OVERHEARD_REDIS_URL" in result.stderr


def test_report_in_an_unknown_format_is_refused_with_the_known_ones(workspace: Path) -> None:
    result = overheard("report", "--format", "pdf", cwd=workspace)
    assert result.returncode == 1
    assert "'pdf'" in result.stderr and "html" in result.stderr
