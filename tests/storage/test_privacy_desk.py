"""The privacy desk for authors who are not CRM contacts: find them, export what is kept, erase it with a receipt."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, select

from listener.mention import Author, Mention
from storage.audit import entries_for
from storage.gdpr import UnknownAuthor, author_subject, erase_author, export_author, find_authors
from storage.mentions import save_mentions, save_verdicts
from storage.schema import metadata, quarantine, tombstones
from tests.storage.test_mentions_store import a_verdict

NOW = datetime(2026, 11, 20, tzinfo=UTC)


def _post(external_id: str, handle: str, name: str, text: str) -> Mention:
    return Mention(
        source="x",
        external_id=external_id,
        url=f"https://x.example/{handle}/{external_id}",
        author=Author(handle=handle, name=name, followers=40),
        text=text,
        language="en",
        created_at=NOW - timedelta(days=1),
    )


def _seed(engine: Engine) -> dict[tuple[str, str], int]:
    with engine.begin() as c:
        ids = save_mentions(
            c,
            [
                _post("5001", "kim_w", "Kim W", "My Lumora lamp flickers"),
                _post("5002", "Kim_W", "Kim W", "Still flickering, Lumora"),
                _post("5003", "lee", "Lee", "@kim_w same with mine, Lumora"),
            ],
        )
        save_verdicts(c, [(i, a_verdict()) for i in ids.values()])
        c.execute(
            quarantine.insert().values(
                source="x",
                reason="text: Field required",
                payload='{"user": "kim_w"}',
                payload_hash="q1",
                created_at=NOW,
            )
        )
    return ids


def _everything(engine: Engine) -> str:
    with engine.connect() as c:
        return json.dumps(
            {t.name: [list(r) for r in c.execute(select(t))] for t in metadata.sorted_tables}, default=str
        ).lower()


def test_the_privacy_role_finds_an_author_who_is_no_contact_by_part_of_their_handle(engine: Engine) -> None:
    _seed(engine)
    with engine.connect() as c:
        [kim] = find_authors(c, "@KIM")
    assert (kim.source, kim.handle, kim.posts, kim.contact_id) == ("x", "Kim_W", 2, None)
    with engine.connect() as c, pytest.raises(ValueError, match="at least two characters"):
        find_authors(c, "k")


def test_an_authors_export_holds_their_posts_verdicts_and_quarantined_items_and_is_audited(engine: Engine) -> None:
    _seed(engine)
    with engine.begin() as c:
        document = export_author(c, "x", "@kim_w", actor="dpo")
        [entry] = entries_for(c, "author", author_subject("x", "kim_w"))
    tables = document["tables"]
    assert sorted(m["external_id"] for m in tables["mentions"]) == ["5001", "5002"]
    assert len(tables["verdicts"]) == 2
    assert [q["payload"] for q in tables["quarantine"]] == ['{"user": "kim_w"}']
    assert (entry.action, entry.actor) == ("gdpr.export", "dpo")


def test_erasing_an_author_leaves_their_handle_nowhere_and_gives_a_receipt_per_table(engine: Engine) -> None:
    _seed(engine)
    with engine.begin() as c:
        receipt = erase_author(c, "x", "kim_w", actor="dpo")
    assert receipt.deleted["mentions"] == 2 and receipt.deleted["verdicts"] == 2
    assert receipt.deleted["quarantine"] == 1 and receipt.tombstoned_mentions == 2
    assert "kim_w" not in _everything(engine)  # the audit log names them by a digest
    with engine.connect() as c:
        texts = [r.text for r in c.execute(select(metadata.tables["mentions"]))]
        buried = {r.external_id for r in c.execute(select(tombstones))}
        [entry] = [e for e in entries_for(c, "author", author_subject("x", "kim_w")) if e.action == "gdpr.erase"]
    assert texts == ["[erased] same with mine, Lumora"]  # Lee's post stays, without Kim's handle
    assert buried == {"5001", "5002"}
    assert entry.detail["deleted"]["mentions"] == 2


def test_an_author_with_nothing_kept_is_named_in_the_error(engine: Engine) -> None:
    with engine.begin() as c, pytest.raises(UnknownAuthor, match="no post by 'nobody' on x is kept"):
        erase_author(c, "x", "nobody", actor="dpo")
