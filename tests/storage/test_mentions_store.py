"""Storing mentions: idempotent upserts on (source, external_id), verdicts, quarantine, cursors."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Engine, func, select

from classifiers.verdict import Intent, Sentiment, Verdict
from listener.base import Rejected
from listener.mention import Author, Engagement, Mention
from storage.mentions import get_cursor, quarantine_items, save_mentions, save_verdicts, set_cursor
from storage.schema import mentions, quarantine, tombstones, verdicts


def a_mention(external_id: str = "1001", text: str = "My Lumora hub is offline again", likes: int = 3) -> Mention:
    return Mention(
        source="x",
        external_id=external_id,
        url=f"https://x.com/jo/status/{external_id}",
        author=Author(handle="jo_smith", name="Jo Smith", followers=120),
        text=text,
        language="en",
        created_at=datetime(2026, 11, 12, 9, 30, tzinfo=UTC),
        engagement=Engagement(likes=likes, reposts=1),
    )


def a_verdict() -> Verdict:
    return Verdict(
        sentiment=Sentiment.negative,
        sentiment_confidence=0.91,
        intent=Intent.complaint,
        intent_confidence=0.84,
        reasons=("words: 'offline'",),
        model_version="test",
    )


def test_storing_the_same_mention_twice_keeps_one_row_with_the_newest_counts(engine: Engine) -> None:
    with engine.begin() as c:
        first = save_mentions(c, [a_mention(likes=3)])
    with engine.begin() as c:
        second = save_mentions(c, [a_mention(likes=40)])
        count = c.execute(select(func.count()).select_from(mentions)).scalar_one()
        likes = c.execute(select(mentions.c.likes)).scalar_one()
    assert first == second
    assert count == 1
    assert likes == 40


def test_recollection_keeps_the_triage_state_people_set(engine: Engine) -> None:
    with engine.begin() as c:
        ids = save_mentions(c, [a_mention()])
        c.execute(mentions.update().values(status="resolved", assignee="ana"))
    with engine.begin() as c:
        save_mentions(c, [a_mention(text="My Lumora hub is offline again (edited)")])
        row = c.execute(select(mentions).where(mentions.c.id == ids[("x", "1001")])).one()
    assert (row.status, row.assignee) == ("resolved", "ana")
    assert row.text.endswith("(edited)")


def test_timestamps_come_back_timezone_aware_in_utc(engine: Engine) -> None:
    with engine.begin() as c:
        save_mentions(c, [a_mention()])
        created = c.execute(select(mentions.c.created_at)).scalar_one()
    assert created == datetime(2026, 11, 12, 9, 30, tzinfo=UTC)
    assert created.tzinfo is not None


def test_a_tombstoned_mention_is_not_stored_again(engine: Engine) -> None:
    with engine.begin() as c:
        c.execute(
            tombstones.insert().values(
                source="x", external_id="1001", reason="deleted_on_platform", at=datetime.now(UTC)
            )
        )
        ids = save_mentions(c, [a_mention("1001"), a_mention("1002")])
        stored = set(c.execute(select(mentions.c.external_id)).scalars())
    assert stored == {"1002"}
    assert ("x", "1001") not in ids


def test_reclassifying_updates_the_verdict_in_place(engine: Engine) -> None:
    with engine.begin() as c:
        mention_id = save_mentions(c, [a_mention()])[("x", "1001")]
        save_verdicts(c, [(mention_id, a_verdict())])
        save_verdicts(c, [(mention_id, a_verdict().model_copy(update={"intent": Intent.question}))])
        rows = c.execute(select(verdicts.c.intent)).scalars().all()
    assert rows == ["question"]


def test_quarantine_keeps_each_bad_payload_once_with_its_reason(engine: Engine) -> None:
    bad = Rejected("replay:sample.jsonl", "line 7: text: Field required", '{"source": "x"}')
    with engine.begin() as c:
        quarantine_items(c, [bad, bad])
        quarantine_items(c, [bad])
        reasons = c.execute(select(quarantine.c.reason)).scalars().all()
    assert reasons == ["line 7: text: Field required"]


def test_cursor_round_trips_and_moves_forward(engine: Engine) -> None:
    with engine.begin() as c:
        assert get_cursor(c, "x:brand") is None
        set_cursor(c, "x:brand", "1001")
        set_cursor(c, "x:brand", "1050")
        assert get_cursor(c, "x:brand") == "1050"
