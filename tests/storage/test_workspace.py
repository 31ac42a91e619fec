"""The service workspace in storage: reply data and noise flags kept with the mention, priority on the route, and the
team's work on a mention (assignment, status history, notes, canned replies, who is replying, replies sent).

Runs on SQLite and PostgreSQL (the `engine` fixture)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, func, inspect, select

from classifiers.verdict import Intent, Sentiment, Verdict
from enrichers.enrich import enrich
from enrichers.model import Consent, Contact, Identity, LawfulBasis
from enrichers.priority import DueState
from enrichers.replies import ReplyResult
from enrichers.replies.canned import TemplateError
from enrichers.routing import DEFAULT_ROUTING
from listener.mention import Author, Mention, Platform, ReplyRef
from storage.contacts import SqlContactDirectory, save_consent, save_contact
from storage.database import MIGRATIONS, open_database
from storage.gdpr import erase_contact
from storage.mentions import mention_from_row, save_mentions, save_verdicts
from storage.outbox import Enriched, save_enrichments
from storage.schema import mention_notes, mentions, reply_records, routes
from storage.workspace import (
    QueueCounts,
    QueueItem,
    WorkspaceError,
    add_note,
    assign_to,
    canned_replies_for,
    delete_canned_reply,
    draft_for,
    flag_counts,
    history,
    notes_for,
    others_replying,
    queue_counts,
    record_reply,
    replies_for,
    save_canned_reply,
    set_status,
    start_replying,
    team_queue,
)

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


def a_post(
    external_id: str,
    text: str,
    handle: str = "kaylee_builds",
    source: Platform = Platform.x,
    followers: int = 412,
    queries: tuple[str, ...] = ("brand:Lumora",),
    reply_ref: ReplyRef | None = None,
    written: timedelta = timedelta(hours=3),
    language: str | None = None,
) -> Mention:
    return Mention(
        source=source,
        external_id=external_id,
        author=Author(handle=handle, followers=followers),
        text=text,
        created_at=NOW - written,
        matched_queries=queries,
        reply_ref=reply_ref,
        language=language,
    )


def complaint() -> Verdict:
    return Verdict(
        sentiment=Sentiment.negative,
        sentiment_confidence=0.9,
        intent=Intent.complaint,
        intent_confidence=0.9,
        model_version="test",
    )


def store(
    engine: Engine,
    posts: list[Mention],
    owned: dict[Platform, tuple[str, ...]] | None = None,
    verdict: Verdict | None = None,
) -> dict[str, int]:
    """Store, classify (as complaints) and enrich the posts as the pipeline does; external id → mention id."""
    read = verdict or complaint()
    with engine.begin() as c:
        ids = save_mentions(c, posts)
        save_verdicts(c, [(ids[m.key], read) for m in posts], NOW)
        directory = SqlContactDirectory(c)
        batch = [
            Enriched(
                ids[m.key],
                m,
                read,
                enrich(m, read, directory, DEFAULT_ROUTING, NOW, timedelta(days=30), owned_accounts=owned),
            )
            for m in posts
        ]
        save_enrichments(c, batch, None)
    return {m.external_id: ids[m.key] for m in posts}


# ---- what enrichment decided, kept ------------------------------------------------------------------------------


def test_reply_data_is_kept_with_the_mention_and_read_back(engine: Engine) -> None:
    toot = a_post(
        "https://mastodon.social/users/kim/statuses/1",
        "my Lumora hub is offline",
        handle="kim@mastodon.social",
        source=Platform.mastodon,
        reply_ref=ReplyRef(status_id="117568103383088833", instance="mastodon.social"),
    )
    store(engine, [toot])
    with engine.connect() as c:
        [row] = c.execute(select(mentions)).all()
    assert mention_from_row(row).reply_ref == toot.reply_ref


def test_flags_are_stored_with_their_reason_and_flagged_mentions_get_no_route(engine: Engine) -> None:
    ids = store(
        engine,
        [
            a_post("1", "4.2.1 is rolling out now", handle="LumoraHelp", followers=18_400),
            a_post(
                "2", "Contact this support agent on WhatsApp +44 7700 900123, he fixed mine", handle="help_desk_fix01"
            ),
            a_post("3", "Brightwave support took 3 weeks", handle="eva79", queries=("competitor:Brightwave",)),
            a_post("4", "@LumoraHelp my Lumora Hub is unresponsive after your update"),
        ],
        owned={Platform.x: ("LumoraHelp",)},
    )
    with engine.connect() as c:
        flags = {r.external_id: (r.flag, r.flag_rule) for r in c.execute(select(mentions))}
        teams = {(r.external_id, r.team) for r in c.execute(select(routes))}
        [spam_reason] = c.execute(select(mentions.c.flag_reason).where(mentions.c.id == ids["2"])).scalars()

    assert flags == {
        "1": ("owned", "owned_account"),
        "2": ("spam", "support_impersonation"),
        "3": ("competitor", "about_competitor"),
        "4": (None, None),
    }
    assert spam_reason.startswith("poses as support and moves the customer off the platform")
    assert teams == {("3", "marketing"), ("4", "customer_service")}


def test_a_flag_that_no_longer_applies_is_cleared_when_enriched_again(engine: Engine) -> None:
    status = a_post("1", "4.2.1 is rolling out now", handle="LumoraHelp")
    store(engine, [status], owned={Platform.x: ("LumoraHelp",)})
    store(engine, [status], owned={})  # the account was taken off owned_accounts
    with engine.connect() as c:
        assert c.execute(select(mentions.c.flag, mentions.c.flag_reason)).one() == (None, None)


def test_each_route_keeps_its_priority_score_and_parts(engine: Engine) -> None:
    ids = store(engine, [a_post("9", "Lumora hub offline since the update. Unacceptable.", followers=96_400)])
    with engine.connect() as c:
        kept = c.execute(select(routes.c.team, routes.c.score, routes.c.score_parts).order_by(routes.c.team)).all()
    assert [k.team for k in kept] == ["communications", "customer_service"]
    assert kept[0].score == kept[1].score and 50 < kept[0].score <= 100
    assert [p["name"] for p in kept[0].score_parts] == ["intent", "severity", "reach", "contact", "waiting"]
    assert kept[0].score_parts[2]["reason"] == "96,400 followers"
    assert ids["9"]


# ---- the team's work on a mention --------------------------------------------------------------------------------


@pytest.fixture
def mention_id(engine: Engine) -> int:
    return store(engine, [a_post("42", "@LumoraHelp hub dead since the update")])["42"]


def test_assigning_to_a_teammate_and_changing_status_leave_a_history(engine: Engine, mention_id: int) -> None:
    with engine.begin() as c:
        assign_to(c, mention_id, "anna", "lead", NOW)
        set_status(c, mention_id, "resolved", "anna", NOW + timedelta(minutes=5), team="customer_service")
        set_status(c, mention_id, "new", "lead", NOW + timedelta(minutes=9))
    with engine.connect() as c:
        changes = history(c, mention_id)
        row = c.execute(select(mentions.c.status, mentions.c.assignee).where(mentions.c.id == mention_id)).one()
        route_status = set(c.execute(select(routes.c.status).where(routes.c.mention_id == mention_id)).scalars())

    assert [(h.action, h.actor, h.from_status, h.to_status, h.assignee) for h in changes] == [
        ("assign", "lead", "new", "assigned", "anna"),
        ("status", "anna", "assigned", "resolved", None),
        ("status", "lead", "resolved", "new", None),
    ]
    assert tuple(row) == ("new", "anna")
    assert route_status == {"open"}  # reopened with the mention


def test_an_unknown_status_or_mention_is_refused_with_its_name(engine: Engine, mention_id: int) -> None:
    with engine.begin() as c, pytest.raises(WorkspaceError, match="status 'done' is not one of new, assigned"):
        set_status(c, mention_id, "done", "anna", NOW)
    with engine.begin() as c, pytest.raises(WorkspaceError, match="mention 999999 does not exist"):
        assign_to(c, 999_999, "anna", "lead", NOW)


def test_internal_notes_are_kept_in_order_and_an_empty_one_is_refused(engine: Engine, mention_id: int) -> None:
    with engine.begin() as c:
        add_note(c, mention_id, "anna", "Customer also emailed; ticket #448213", NOW)
        add_note(c, mention_id, "ben", "  Called them back.  ", NOW + timedelta(minutes=1))
        with pytest.raises(WorkspaceError, match="needs some text"):
            add_note(c, mention_id, "ben", "   ", NOW)
    with engine.connect() as c:
        assert [(n.author, n.body) for n in notes_for(c, mention_id)] == [
            ("anna", "Customer also emailed; ticket #448213"),
            ("ben", "Called them back."),
        ]


def test_canned_replies_per_team_and_language_and_a_bad_template_is_refused(engine: Engine) -> None:
    with engine.begin() as c:
        save_canned_reply(c, "sorry-outage", "Hi {name}, a fix is rolling out.", "lead", NOW, team="customer_service")
        save_canned_reply(c, "order", "Hi {name}, order {order_number} ships today.", "lead", NOW)
        save_canned_reply(c, "de-sorry", "Hallo {name}, wir kümmern uns.", "lead", NOW, language="de")
        save_canned_reply(c, "order", "Hi {name}, order {order_number} is on its way.", "ben", NOW)  # replaced
        save_canned_reply(c, "sales-hello", "Hi {name}!", "lead", NOW, team="sales")
        with pytest.raises(TemplateError, match=re.escape("'{0}' is not a variable")):
            save_canned_reply(c, "broken", "Hi {0}", "lead", NOW)
    with engine.connect() as c:
        service_en = canned_replies_for(c, team="customer_service", language="en")
        everything = canned_replies_for(c)
    assert [r.name for r in service_en] == ["order", "sorry-outage"]
    assert service_en[0].body.endswith("is on its way.") and service_en[0].updated_by == "ben"
    assert len(everything) == 4
    with engine.begin() as c:
        assert delete_canned_reply(c, "order") and not delete_canned_reply(c, "order")


def test_a_teammate_is_warned_that_someone_else_is_replying_until_the_claim_lapses(
    engine: Engine, mention_id: int
) -> None:
    with engine.begin() as c:
        assert start_replying(c, mention_id, "anna", NOW) == []
        assert start_replying(c, mention_id, "ben", NOW + timedelta(minutes=1)) == ["anna"]
    with engine.connect() as c:
        assert others_replying(c, mention_id, "anna", NOW + timedelta(minutes=2)) == ["ben"]
        assert others_replying(c, mention_id, "ben", NOW + timedelta(minutes=6)) == []  # anna's claim lapsed


def test_a_sent_reply_is_recorded_on_the_thread_and_a_failed_one_keeps_its_draft(
    engine: Engine, mention_id: int
) -> None:
    failed = ReplyResult.failed("x", "Sorry {name}", "X refused the reply (HTTP 400: ...)", 400)
    sent = ReplyResult(platform="x", sent=True, post_id="1456012973835788293", url="https://x.com/i/web/status/1")
    with engine.begin() as c:
        start_replying(c, mention_id, "anna", NOW)
        record_reply(c, mention_id, failed, "Sorry {name}", "lumora-x", "anna", NOW, "attempt-1")
        draft = draft_for(c, mention_id, "anna")
        assert (
            draft is not None and draft.text == "Sorry {name}" and draft.reason == "X refused the reply (HTTP 400: ...)"
        )
        record_reply(
            c,
            mention_id,
            sent,
            "Sorry Kaylee, a fix is out.",
            "lumora-x",
            "anna",
            NOW + timedelta(minutes=1),
            "attempt-2",
        )
        record_reply(
            c,
            mention_id,
            sent,
            "Sorry Kaylee, a fix is out.",
            "lumora-x",
            "anna",
            NOW + timedelta(minutes=2),
            "attempt-2",
        )
    with engine.connect() as c:
        thread = replies_for(c, mention_id)
        status = c.execute(select(mentions.c.status).where(mentions.c.id == mention_id)).scalar_one()
        actions = [h.action for h in history(c, mention_id)]
        assert draft_for(c, mention_id, "anna") is None  # sent after the failure: no draft left
        assert others_replying(c, mention_id, None, NOW + timedelta(minutes=1)) == []  # the claim ended with the send

    assert [(r.sent, r.sent_by, r.post_id, r.text) for r in thread] == [
        (False, "anna", None, "Sorry {name}"),
        (True, "anna", "1456012973835788293", "Sorry Kaylee, a fix is out."),
    ]  # the repeat with the same key changed nothing
    assert status == "replied"
    assert actions == ["reply_failed", "reply_sent"]


def test_erasing_a_person_takes_the_notes_and_replies_on_their_posts(engine: Engine) -> None:
    ids = store(engine, [a_post("77", "my Lumora hub is dead", handle="Jo_Smith")])
    with engine.begin() as c:
        save_contact(c, Contact(id="c-jo", name="Jo Smith", identities=(Identity(platform="x", handle="Jo_Smith"),)))
        save_consent(c, Consent(contact_id="c-jo", basis=LawfulBasis.consent, source="form", granted_at=NOW))
        add_note(c, ids["77"], "anna", "Jo Smith called about this", NOW)
        sent = ReplyResult(platform="x", sent=True, post_id="5")
        record_reply(c, ids["77"], sent, "Hi Jo, sorry!", "lumora-x", "anna", NOW, "k-1")
        erase_contact(c, "c-jo", actor="dpo")
    with engine.connect() as c:
        assert c.execute(select(func.count()).select_from(mention_notes)).scalar_one() == 0
        assert c.execute(select(func.count()).select_from(reply_records)).scalar_one() == 0


def test_the_migration_goes_down_and_up_again_keeping_the_mentions(database_url: str) -> None:
    engine = open_database(database_url)
    store(engine, [a_post("1", "my Lumora hub is offline")])
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0011_workspace-1")
    assert "flag" not in {c["name"] for c in inspect(engine).get_columns("mentions")}
    assert "reply_records" not in inspect(engine).get_table_names()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "heads")
    with engine.connect() as c:
        assert c.execute(select(mentions.c.external_id, mentions.c.flag)).all() == [("1", None)]
    engine.dispose()


# ---- the team's queue ---------------------------------------------------------------------------------------------


def test_the_service_queue_is_in_priority_order_with_due_views_and_a_language_filter(engine: Engine) -> None:
    store(
        engine,
        [
            a_post("small", "the app is a bit slow", followers=29, written=timedelta(minutes=20)),
            a_post("psa", "PSA: Lumora 4.2.0 bricks the hub, hub offline. Unacceptable.", followers=9_640),
            a_post(
                "de",
                "Lumora Hub kaputt seit dem Update",
                followers=500,
                written=timedelta(hours=1, minutes=45),
                language="de-AT",
            ),
            a_post("feed", "Lumora hub offline for many readers", source=Platform.rss, written=timedelta(hours=1)),
        ],
    )
    with engine.connect() as c:
        queue = team_queue(c, "customer_service", NOW)
        overdue = team_queue(c, "customer_service", NOW, view="overdue")
        soon = team_queue(c, "customer_service", NOW, view="due_soon")
        german = team_queue(c, "customer_service", NOW, language="de")
        counts = queue_counts(c, NOW)

    assert [i.excerpt.split()[0] for i in queue] == ["PSA:", "Lumora", "Lumora", "the"]  # the 29-follower post last
    assert [i.score for i in queue] == sorted((i.score or 0 for i in queue), reverse=True)
    assert [i.due for i in overdue] == [DueState.overdue] and overdue[0].excerpt.startswith("PSA")
    assert [i.excerpt for i in soon] == ["Lumora Hub kaputt seit dem Update"]  # 2 h target, written 1 h 45 ago
    assert [i.language for i in german] == ["de-AT"]
    assert {i.source: i.can_reply for i in queue} == {"x": True, "rss": False}
    assert counts["customer_service"] == QueueCounts(open=4, due_soon=1, overdue=1)


def test_the_waiting_part_is_counted_to_the_time_the_queue_is_read_not_when_the_post_was_routed(
    engine: Engine,
) -> None:
    # Routed at NOW: the older post leads on waiting (12 h of 24 h: 5 points); the newer one has more reach.
    ids = store(
        engine,
        [
            a_post("newer", "my hub is offline", followers=2_000, written=timedelta(minutes=1)),
            a_post("older", "my hub is offline", followers=412, written=timedelta(hours=12)),
        ],
    )
    with engine.connect() as c:
        scores = select(routes.c.mention_id, routes.c.score).where(routes.c.team == "customer_service")
        stored = {r.mention_id: r.score for r in c.execute(scores)}
        at_routing = team_queue(c, "customer_service", NOW)
        a_day_later = team_queue(c, "customer_service", NOW + timedelta(hours=24))
        stored_after = {r.mention_id: r.score for r in c.execute(scores)}

    def waiting(item: QueueItem) -> dict[str, object]:
        return next(p for p in item.parts if p["name"] == "waiting")

    assert [i.mention_id for i in at_routing] == [ids["older"], ids["newer"]]
    assert [i.score for i in at_routing] == [stored[ids["older"]], stored[ids["newer"]]]
    # A day on, both have waited a full day: the newer post's reach puts it first, and the scores show it.
    assert [i.mention_id for i in a_day_later] == [ids["newer"], ids["older"]]
    newer = a_day_later[0]
    assert waiting(newer)["points"] == 10.0 and waiting(newer)["reason"] == "written 24 h 01 min ago"
    assert newer.score is not None and newer.score == stored[ids["newer"]] + 10
    assert stored_after == stored  # reading changes nothing stored


def test_a_complaint_the_model_read_as_other_but_routed_to_service_is_in_the_service_queue(engine: Engine) -> None:
    unsure = Verdict(
        sentiment=Sentiment.negative,
        sentiment_confidence=0.6,
        intent=Intent.other,
        intent_confidence=0.41,
        needs_human=True,
        model_version="test",
    )
    store(engine, [a_post("7", "Hub lost all my scenes after a power cut. @LumoraHelp")], verdict=unsure)
    with engine.connect() as c:
        [item] = team_queue(c, "customer_service", NOW)
    assert (item.intent, item.priority) == ("other", "normal")  # the verdict is a label on the card, not a gate


def test_flag_counts_say_how_many_mentions_were_kept_out(engine: Engine) -> None:
    store(
        engine,
        [
            a_post("1", "4.2.1 is rolling out now", handle="LumoraHelp"),
            a_post("2", "$LUMO airdrop is LIVE! Lumora holders claim free tokens", handle="moonboy4419"),
            a_post("3", "$LUMO airdrop live now!! claim before midnight", handle="gains4u"),
            a_post("4", "my hub is offline"),
        ],
        owned={Platform.x: ("LumoraHelp",)},
    )
    with engine.connect() as c:
        assert flag_counts(c) == {"owned": 1, "spam": 2}
