"""Retention runs by itself: `overheard run` applies it every `retention.every`, audited as scheduled."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select

from overheard.retention import SCHEDULED
from storage.schema import audit_log, mentions
from tests.e2e.cli import overheard

FIXTURES = Path(__file__).parent / "fixtures" / "bad_input"


@pytest.mark.e2e
def test_overheard_run_applies_retention_on_its_own_and_audits_it(tmp_path: Path) -> None:
    shutil.copyfile(FIXTURES / "replay.jsonl", tmp_path / "good.jsonl")
    (tmp_path / "overheard.yaml").write_text(
        f"""
brands: [{{name: Lumora, query: Lumora}}]
database: "sqlite:///{tmp_path}/o.db"
retention: {{mentions_days: 1, every: 1d}}
sources:
  - {{kind: replay, name: good, path: good.jsonl}}
"""
    )
    env = {"OVERHEARD_CLASSIFIER": "tests.distributed.keyword_classifier:load", "PYTHONPATH": str(Path.cwd())}

    done = overheard("run", "--sweeps", "1", cwd=tmp_path, env=env, timeout=120)

    assert done.returncode == 0, done.stderr
    assert "stored 5 mentions" in done.stdout  # the replayed posts were written in November 2026: past one day
    [line] = [x for x in done.stdout.splitlines() if x.startswith("retention: deleted")]
    assert "5 mentions" in line and "5 verdicts" in line  # a mention's verdict goes with it
    engine = create_engine(f"sqlite:///{tmp_path}/o.db")
    with engine.connect() as c:
        assert c.execute(select(mentions)).all() == []
        [entry] = c.execute(select(audit_log).where(audit_log.c.action == "retention.apply")).all()
    assert entry.actor == SCHEDULED and entry.detail["removed"]["mentions"] == 5
