"""Bad input never stops collection: one bad item costs one item, never a page, a source or the process."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, insert, select
from sqlalchemy.exc import IntegrityError

from listener.base import Page
from listener.mention import MAX_QUARANTINE_PAYLOAD_CHARS, MAX_TEXT_CHARS, Author, Mention
from listener.replay import ReplayCollector
from overheard.config import parse_config
from overheard.pipeline import Runtime, process_batch, sweep
from storage.mentions import get_cursor
from storage.schema import mentions, now_utc, quarantine, source_runs, tombstones
from tests.distributed.keyword_classifier import KeywordClassifier
from tests.e2e.cli import overheard

FIXTURES = Path(__file__).parent / "fixtures" / "bad_input"
CONFIG = """
brands: [{name: Lumora, query: Lumora}]
routing:
  rules:
    - {name: everything, team: customer_service, channel: customer_service}
"""


def _runtime(engine: Engine) -> Runtime:
    return Runtime.build(parse_config(CONFIG), engine, KeywordClassifier())


def _stored(engine: Engine) -> dict[str, object]:
    with engine.connect() as c:
        return {r.external_id: r for r in c.execute(select(mentions))}


def _quarantined(engine: Engine) -> list[object]:
    with engine.connect() as c:
        return list(c.execute(select(quarantine).order_by(quarantine.c.id)))


def _with_a_huge_post(tmp_path: Path) -> Path:
    """The fixture plus a 10 MB post (built here: a 10 MB file does not belong in the repository)."""
    path = tmp_path / "replay.jsonl"
    shutil.copyfile(FIXTURES / "replay.jsonl", path)
    huge = json.loads((FIXTURES / "replay.jsonl").read_bytes().splitlines()[0])
    huge.update(external_id="bad-input-huge", text="Lumora " + "la " * 3_500_000)
    with path.open("ab") as out:
        out.write(json.dumps(huge).encode() + b"\n")
    return path


def test_a_replay_file_with_a_bad_byte_a_nul_a_long_id_a_future_date_and_a_huge_post_stores_every_good_line(
    engine: Engine, tmp_path: Path
) -> None:
    report = sweep(_runtime(engine), ReplayCollector(_with_a_huge_post(tmp_path), name="replay:bad", page_size=4))

    stored = _stored(engine)
    assert sorted(stored) == [f"bad-input-{n}" for n in (1, 3, 7, 8, 9)] + ["bad-input-huge"]
    assert report.stored == 6
    assert stored["bad-input-3"].text == "Lumora hub\ufffd broke after the update"  # the NUL, made storable
    assert stored["bad-input-7"].author_name == "\ufffdAna"  # a lone surrogate cannot be encoded
    assert stored["bad-input-8"].language is None  # not a language tag: dropped, not a failed page
    huge = stored["bad-input-huge"]
    assert len(huge.text) == MAX_TEXT_CHARS and "truncated:text" in huge.signals

    reasons = [row.reason for row in _quarantined(engine)]
    assert len(reasons) == 4 and len(report.quarantined) == 4
    assert "replay.jsonl line 2: not UTF-8 (byte 0xe9 at column" in reasons[0]
    assert "replay.jsonl line 4: not JSON" in reasons[1]
    assert "replay.jsonl line 5: external_id: Value error, 600 characters, more than the 512" in reasons[2]
    assert "replay.jsonl line 6:" in reasons[3] and "not a post from the future" in reasons[3]
    with engine.connect() as c:
        assert get_cursor(c, "replay:bad") == "10"  # the whole file was read: a rerun does not fail again


def test_a_quarantined_item_too_large_or_holding_a_nul_is_kept_in_part(engine: Engine, tmp_path: Path) -> None:
    path = tmp_path / "replay.jsonl"
    path.write_bytes(b'{"text": "\x00' + b"x" * 200_000 + b'"}\n')

    sweep(_runtime(engine), ReplayCollector(path, name="replay:nul"))

    [kept] = _quarantined(engine)
    assert "\x00" not in kept.payload and kept.payload.startswith('{"text": "\ufffdxxx')
    assert len(kept.payload) < MAX_QUARANTINE_PAYLOAD_CHARS + 100 and kept.payload.endswith("characters in all]")


def test_a_mention_the_database_refuses_costs_that_mention_not_its_page(engine: Engine) -> None:
    """A value no limit foresaw (here: built without validation) is quarantined with the database's reason."""
    good = [
        Mention(
            source="mastodon",
            external_id=f"ok-{n}",
            author=Author(handle="ana"),
            text="Lumora hub broke",
            created_at="2026-11-06T06:34:50Z",
        )
        for n in range(3)
    ]
    unstorable = good[0].model_copy(update={"external_id": "refused", "text": "Lumora \ud800 hub"})

    report = process_batch(_runtime(engine), [good[0], unstorable, good[1], good[2]])

    assert sorted(_stored(engine)) == ["ok-0", "ok-1", "ok-2"]
    assert report.stored == 3
    [kept] = _quarantined(engine)
    assert kept.reason.startswith("mastodon:refused: the database refused it (")
    assert "[SQL" not in kept.reason and "parameters" not in kept.reason


@pytest.mark.e2e
def test_collect_sweeps_the_next_source_after_one_that_fails(tmp_path: Path) -> None:
    (tmp_path / "not-a-file.jsonl").mkdir()  # reading it raises IsADirectoryError, no SourceError
    shutil.copyfile(FIXTURES / "replay.jsonl", tmp_path / "good.jsonl")
    (tmp_path / "overheard.yaml").write_text(
        CONFIG
        + f"""
database: "sqlite:///{tmp_path}/o.db"
sources:
  - {{kind: replay, name: broken, path: not-a-file.jsonl}}
  - {{kind: replay, name: good, path: good.jsonl}}
"""
    )
    env = {"OVERHEARD_CLASSIFIER": "tests.distributed.keyword_classifier:load", "PYTHONPATH": str(Path.cwd())}

    done = overheard("collect", cwd=tmp_path, env=env, timeout=120)

    assert done.returncode == 1, done.stderr
    assert "source replay:broken" in done.stderr or "source broken" in done.stderr
    assert "IsADirectoryError" in done.stderr
    assert "stored 5 mentions, quarantined 4" in done.stdout


class _FailsInTheDatabase:
    """A collector whose sweep hits a database error whose statement carries a person's name."""

    name = "replay:erroring"

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def sweep(self, cursor: str | None) -> Iterator[Page]:
        row = {"source": "x", "external_id": "Priya Raman", "reason": "Priya Raman asked", "at": now_utc()}
        with self.engine.begin() as connection:
            connection.execute(insert(tombstones), [row])
        with self.engine.begin() as connection:
            connection.execute(insert(tombstones), [row])  # the same key again
        yield Page([])


def test_a_database_error_is_kept_in_source_health_without_the_statements_values(engine: Engine) -> None:
    with pytest.raises(IntegrityError):
        sweep(_runtime(engine), _FailsInTheDatabase(engine))

    with engine.connect() as c:
        [error] = c.execute(select(source_runs.c.error)).scalars()
    assert error.startswith(("IntegrityError: UNIQUE constraint failed", "UniqueViolation: duplicate key value"))
    assert "Priya" not in error and "INSERT" not in error
