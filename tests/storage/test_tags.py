"""Campaign tags: extracted when a mention is stored, kept in step with its text, gone with the mention."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, func, insert, select, update

from listener.mention import Author, Mention
from storage import metrics
from storage.database import MIGRATIONS, create_db_engine, open_database
from storage.deletions import apply_deletion
from storage.gdpr import Retention, apply_retention
from storage.mentions import save_mentions
from storage.schema import TAG_VALUE_LENGTH, mention_tags, mention_tags_log, mentions
from storage.tags import HASHTAG, UTM_CAMPAIGN, refresh_mention_tags, tags_of

AT = datetime(2026, 11, 12, 9, 30, tzinfo=UTC)
START, END = datetime(2026, 11, 12, tzinfo=UTC), datetime(2026, 11, 13, tzinfo=UTC)


def a_post(
    external_id: str, text: str, url: str | None = None, title: str | None = None, followers: int = 100
) -> Mention:
    return Mention(
        source="x",
        external_id=external_id,
        url=url,
        author=Author(handle=f"author{external_id}", followers=followers),
        text=text,
        title=title,
        created_at=AT,
    )


def stored_tags(engine: Engine) -> dict[str, set[tuple[str, str]]]:
    with engine.connect() as c:
        rows = c.execute(
            select(mentions.c.external_id, mention_tags.c.kind, mention_tags.c.value).join(
                mention_tags, mention_tags.c.mention_id == mentions.c.id
            )
        )
        found: dict[str, set[tuple[str, str]]] = {}
        for external_id, kind, value in rows:
            found.setdefault(external_id, set()).add((kind, value))
        return found


def logged(engine: Engine) -> int:
    with engine.connect() as c:
        return c.execute(select(func.count()).select_from(mention_tags_log)).scalar_one()


def campaign_mentions(engine: Engine, **wanted: str) -> int:
    with engine.connect() as c:
        return metrics.campaign(c, START, END, **wanted).kpis.current.mentions


def test_hashtags_and_campaign_values_follow_the_campaign_definitions() -> None:
    assert tags_of(None, "Loving #LumoraGlow and #lumora-hub, not a#b or &#35;x", None) == {
        (HASHTAG, "lumoraglow"),
        (HASHTAG, "lumora"),
    }
    assert tags_of("Deal of the day", "https://l.io/?utm_source=x&UTM_Campaign=Spring.Sale-2&x=1", None) == {
        (UTM_CAMPAIGN, "spring.sale-2")
    }
    assert tags_of("#Launch", "text", "https://lumora.io/blog/#promo?utm_campaign=glowup") == {
        (HASHTAG, "launch"),
        (HASHTAG, "promo"),
        (UTM_CAMPAIGN, "glowup"),
    }
    assert tags_of(None, "#" + "a" * (TAG_VALUE_LENGTH + 1), None) == set()  # too long to store: found by text


def test_tags_are_extracted_when_a_mention_is_stored_and_again_when_its_text_changes(engine: Engine) -> None:
    with engine.begin() as c:
        save_mentions(c, [a_post("1", "New #LumoraGlow bulbs", url="https://l.io/?utm_campaign=GlowUp")])
    assert stored_tags(engine) == {"1": {(HASHTAG, "lumoraglow"), (UTM_CAMPAIGN, "glowup")}}
    assert logged(engine) == 0
    with engine.begin() as c:  # collected again after an edit on the platform
        save_mentions(c, [a_post("1", "New bulbs #Lumora")])
    assert stored_tags(engine) == {"1": {(HASHTAG, "lumora")}}
    assert logged(engine) == 0


def test_a_mention_changed_by_hand_is_read_from_its_text_until_the_refresh(engine: Engine) -> None:
    with engine.begin() as c:
        save_mentions(c, [a_post("1", "Hub offline #lumora"), a_post("2", "Hub offline", followers=250)])
    with engine.begin() as c:  # an operator's correction in plain SQL: the trigger logs it all the same
        c.execute(update(mentions).where(mentions.c.external_id == "1").values(text="Hub offline"))
        c.execute(update(mentions).where(mentions.c.external_id == "2").values(text="Hub offline #Lumora"))
    assert logged(engine) == 2
    assert stored_tags(engine) == {"1": {(HASHTAG, "lumora")}}  # stale until the refresh
    with engine.connect() as c:
        before = metrics.campaign(c, START, END, hashtag="lumora").kpis.current
    with engine.begin() as c:
        assert refresh_mention_tags(c, wait=True) == 2
    assert stored_tags(engine) == {"2": {(HASHTAG, "lumora")}}
    with engine.connect() as c:
        after = metrics.campaign(c, START, END, hashtag="lumora").kpis.current
    assert before == after
    assert (after.mentions, after.potential_reach) == (1, 250)  # post 2, not post 1


def test_a_moved_mention_counts_in_its_new_period_before_and_after_the_refresh(engine: Engine) -> None:
    with engine.begin() as c:
        save_mentions(c, [a_post("1", "#lumora")])
        c.execute(update(mentions).values(created_at=AT + timedelta(days=1)))
    assert campaign_mentions(engine, hashtag="lumora") == 0
    with engine.begin() as c:
        refresh_mention_tags(c)
    assert campaign_mentions(engine, hashtag="lumora") == 0
    with engine.connect() as c:
        moved = metrics.campaign(c, START + timedelta(days=1), END + timedelta(days=1), hashtag="lumora")
    assert moved.kpis.current.mentions == 1


def test_values_no_tag_row_holds_are_found_by_the_text(engine: Engine) -> None:
    with engine.begin() as c:
        save_mentions(
            c,
            [
                a_post("1", "Our #glow-up is here"),
                a_post("2", "Sale https://l.io/?utm_campaign=spring+sale&x=1"),
                a_post("3", "#" + "a" * (TAG_VALUE_LENGTH + 1)),
                a_post("4", "#glow and ?utm_campaign=spring"),
            ],
        )
    assert campaign_mentions(engine, hashtag="glow-up") == 1
    assert campaign_mentions(engine, utm_campaign="spring+sale") == 1
    assert campaign_mentions(engine, hashtag="a" * (TAG_VALUE_LENGTH + 1)) == 1
    assert campaign_mentions(engine, hashtag="glow") == 2  # '#glow-up' carries the hashtag 'glow'
    assert campaign_mentions(engine, utm_campaign="spring") == 2  # as the text scan always read it
    assert campaign_mentions(engine, hashtag="glow-up", utm_campaign="spring") == 3  # 1, or 2 and 4


def test_hashtags_match_whatever_their_case_on_both_backends(engine: Engine) -> None:
    with engine.begin() as c:
        save_mentions(c, [a_post("1", "Sommer #ÉTÉ2026"), a_post("2", "#Été2026 encore"), a_post("3", "#ete2026")])
    assert campaign_mentions(engine, hashtag="été2026") == 2
    assert campaign_mentions(engine, hashtag="#ÉTÉ2026") == 2


def test_a_campaign_without_a_hashtag_or_value_is_refused(engine: Engine) -> None:
    with engine.connect() as c, pytest.raises(ValueError, match="needs a hashtag or a utm_campaign"):
        metrics.campaign(c, START, END)


def test_platform_deletion_and_retention_take_the_tags_with_the_mention(engine: Engine) -> None:
    with engine.begin() as c:
        save_mentions(c, [a_post("1", "#lumora one"), a_post("2", "#lumora two")])
        report = apply_deletion(c, "x", "1", "deleted_on_platform (HTTP 404)")
    assert report.removed["mention_tags"] == 1
    assert set(stored_tags(engine)) == {"2"}
    with engine.begin() as c:
        apply_retention(c, Retention(mentions_days=30), now=AT + timedelta(days=31))
    assert stored_tags(engine) == {}


def test_the_migration_extracts_the_tags_of_mentions_stored_before_it(database_url: str) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    engine = create_db_engine(database_url)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0007_metric_rollups")
    row = {
        "source": "x", "author_handle": "jo", "text": "Launch #Lumora", "url": "https://l.io/?utm_campaign=glowup",
        "created_at": AT, "collected_at": AT, "matched_queries": [], "signals": [], "raw_hash": "", "status": "new",
    }  # fmt: skip
    with engine.begin() as connection:
        connection.execute(insert(mentions), [{**row, "external_id": "1"}, {**row, "external_id": "2", "text": "x"}])
    engine.dispose()
    engine = open_database(database_url)
    try:
        assert stored_tags(engine) == {
            "1": {(HASHTAG, "lumora"), (UTM_CAMPAIGN, "glowup")},
            "2": {(UTM_CAMPAIGN, "glowup")},
        }
        assert logged(engine) == 0
        assert campaign_mentions(engine, hashtag="lumora") == 1
    finally:
        engine.dispose()
