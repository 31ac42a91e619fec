"""`gdpr erase` leaves the person nowhere: every table of the database, every column, read back as text.

Redis is not dumped because it never holds personal data: Celery messages carry a run id and a subject
(a source name or "page") and results are not kept (`task_ignore_result`); a pushed page waits in
`task_runs.arguments`, which is dumped here. The last test pins that configuration.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, select, update

from enrichers.linking import Link
from enrichers.model import Contact, Delivery, Finding, Identity, Route, Team
from listener.mention import Author, Mention
from storage import task_runs
from storage.audit import record
from storage.contacts import save_contact, save_link
from storage.gdpr import erase_contact, export_contact
from storage.mentions import save_mentions, save_verdicts
from storage.outbox import SqlFindingSink, SqlOutbox
from storage.schema import metadata, quarantine, routes, tombstones, triage_feedback
from tests.storage.test_mentions_store import a_verdict

NOW = datetime(2026, 11, 20, tzinfo=UTC)
# How the person appears anywhere: handles (as typed, and as a Mastodon name in URLs), name, email.
NEEDLES = ("jo_smith", "josmith", "jo smith", "jo.smith@northwind.example")


def _post(source: str, external_id: str, handle: str, name: str, text: str, profile_url: str | None = None) -> Mention:
    return Mention(
        source=source,
        external_id=external_id,
        url=f"https://example.social/{handle}/{external_id}",
        author=Author(handle=handle, name=name, followers=120, profile_url=profile_url),
        text=text,
        language="en",
        created_at=NOW - timedelta(days=2),
    )


JO_ON_X = _post("x", "1001", "Jo_Smith", "Jo Smith", "My Lumora hub is offline again")
# Linked to Jo by a person, though the stored handle lacks the instance the identity has.
JO_ON_MASTODON = _post(
    "mastodon", "2001", "josmith", "Jo Smith", "Lumora app keeps crashing", "https://mastodon.social/@josmith"
)
SAM_NAMES_JO = _post("x", "1002", "sam_lee", "Sam Lee", "@Jo_Smith same here, Lumora support is slow #jo_smith")
JO_PUSHED = _post("x", "1003", "JO_SMITH", "Jo Smith", "Still offline. Jo Smith, jo.smith@northwind.example")
SAM_PUSHED = _post("x", "1004", "sam_lee", "Sam Lee", "cc @jo_smith: Lumora status page is green")


def _seed_jo_everywhere(engine: Engine) -> dict[str, int]:
    with engine.begin() as c:
        save_contact(
            c,
            Contact(
                id="c-0001",
                name="Jo Smith",
                emails=("jo.smith@northwind.example",),
                identities=(
                    Identity(platform="x", handle="Jo_Smith"),
                    Identity(platform="mastodon", handle="josmith@mastodon.social"),
                ),
            ),
        )
        ids = save_mentions(c, [JO_ON_X, JO_ON_MASTODON, SAM_NAMES_JO])
        quoted = a_verdict().model_copy(update={"reasons": ("quote: '@Jo_Smith same here'",)})
        save_verdicts(c, [(mention_id, quoted) for mention_id in ids.values()])
        save_link(
            c,
            ids[("mastodon", "2001")],
            Link(contact_id="c-0001", evidence="confirmed by agent-7: same person", confidence=1.0, confirmed_by="a7"),
        )
        save_link(
            c, ids[("x", "1001")], Link(contact_id="c-0001", evidence="handle x:jo_smith (crm_import)", confidence=0.9)
        )
        SqlFindingSink(c).attach(
            Finding(
                contact_id="c-0001", source="x", external_id="1001", url=JO_ON_X.url, excerpt=JO_ON_X.text,
                sentiment="negative", intent="complaint", confidence=0.84, link_evidence="handle x:jo_smith",
                link_confidence=0.9, basis="consent (signup_form)", created_at=NOW, expires_at=NOW + timedelta(days=180),
            )
        )  # fmt: skip
        for post in (JO_ON_X, SAM_NAMES_JO):
            SqlOutbox(c).add(
                Route(
                    source="x",
                    external_id=post.external_id,
                    team=Team.customer_service,
                    channel="service-webhook",
                    rule="complaints",
                    explanation=f"intent is complaint; author @{post.author.handle}",
                ),
                [
                    Delivery(
                        idempotency_key=f"x:{post.external_id}:customer_service:service-webhook",
                        channel="service-webhook",
                        payload={"author": post.author.handle, "name": post.author.name, "excerpt": post.text},
                        last_error=f"HTTP 503 while sending the post by {post.author.name}",
                    )
                ],
            )
            c.execute(
                update(routes)
                .where(routes.c.external_id == post.external_id)
                .values(evidence={"author": post.author.handle, "excerpt": post.text})
            )
        for mention_id in (ids[("x", "1001")], ids[("x", "1002")]):
            c.execute(
                triage_feedback.insert().values(
                    mention_id=mention_id, action="relabel", actor="agent-7", human_intent="question", at=NOW
                )
            )
        task_runs.enqueue(
            c,
            "page-1",
            "overheard.process_page",
            "page",
            {
                "mentions": [m.model_dump(mode="json") for m in (JO_PUSHED, SAM_PUSHED)],
                "rejected": [{"source": "x", "reason": "text: Field required", "payload": '{"user": "Jo_Smith"}'}],
            },
        )
        task_runs.enqueue(c, "page-2", "overheard.process_page", "page", {"mentions": [], "rejected": []})
        task_runs.fail(c, "page-2", "could not parse the post of jo.smith@northwind.example", dead=True)
        c.execute(
            quarantine.insert().values(
                source="x",
                reason="created_at: Field required",
                payload='{"id": "1005", "user": {"screen_name": "Jo_Smith"}}',
                payload_hash="h-1005",
                created_at=NOW,
            )
        )
        record(c, "analyst", "mention.note", "mention", "x:1001", note="asked Jo Smith (jo.smith@northwind.example)")
    return {"sam": ids[("x", "1002")]}


def _dump(engine: Engine) -> dict[str, str]:
    """Every table, every column, every row, as lower-case text."""
    with engine.connect() as c:
        return {
            table.name: json.dumps([list(row) for row in c.execute(select(table))], default=str).lower()
            for table in metadata.sorted_tables
        }


def test_after_erasure_no_table_holds_the_persons_handles_names_or_emails(engine: Engine) -> None:
    _seed_jo_everywhere(engine)
    before = _dump(engine)
    for table in (
        "mentions", "identities", "findings", "routes", "deliveries", "task_runs", "audit_log", "quarantine",
        "contacts", "contact_emails", "links", "verdicts", "mention_tags",
    ):  # fmt: skip
        assert any(n in before[table] for n in NEEDLES), f"the seed left {table} without the person"

    with engine.begin() as c:
        report = erase_contact(c, "c-0001", actor="dpo")

    left = {table: [n for n in NEEDLES if n in text] for table, text in _dump(engine).items()}
    assert {table: found for table, found in left.items() if found} == {}
    assert report.tombstoned_mentions == 3  # both stored posts and the one still waiting in a pushed page


def test_erasure_keeps_other_peoples_posts_without_the_persons_name_and_tombstones_pushed_posts(
    engine: Engine,
) -> None:
    seeded = _seed_jo_everywhere(engine)
    with engine.begin() as c:
        erase_contact(c, "c-0001", actor="dpo")
    with engine.connect() as c:
        texts = [r.text for r in c.execute(select(metadata.tables["mentions"]))]
        page = c.execute(
            select(metadata.tables["task_runs"]).where(metadata.tables["task_runs"].c.id == "page-1")
        ).one()
        feedback = [r.mention_id for r in c.execute(select(triage_feedback))]
        buried = {(r.source, r.external_id) for r in c.execute(select(tombstones))}
        erase_entry = c.execute(
            select(metadata.tables["audit_log"]).where(metadata.tables["audit_log"].c.action == "gdpr.erase")
        ).one()
    assert texts == ["[erased] same here, Lumora support is slow #[erased]"]
    assert [(m["external_id"], m["text"]) for m in page.arguments["mentions"]] == [
        ("1004", "cc [erased]: Lumora status page is green")
    ]
    assert page.arguments["rejected"] == []
    assert feedback == [seeded["sam"]]
    assert buried == {("x", "1001"), ("x", "1003"), ("mastodon", "2001")}
    assert erase_entry.subject_id == "c-0001" and erase_entry.actor == "dpo"
    assert erase_entry.detail["deleted"]["mentions"] == 2
    assert erase_entry.detail["scrubbed"]["pushed_pages"] == 1


def test_a_handle_that_is_a_plain_word_is_only_erased_where_it_stands_as_a_handle(engine: Engine) -> None:
    with engine.begin() as c:
        save_contact(c, Contact(id="c-0002", name="Ana Lima", identities=(Identity(platform="x", handle="support"),)))
        save_mentions(c, [_post("x", "3001", "kim", "Kim", "Lumora support told me to ask @support or x:support")])
        erase_contact(c, "c-0002", actor="dpo")
    with engine.connect() as c:
        [text] = [r.text for r in c.execute(select(metadata.tables["mentions"]))]
    assert text == "Lumora support told me to ask [erased] or x:[erased]"


def test_redis_keeps_no_results_so_only_run_ids_and_subjects_pass_through_it() -> None:
    from overheard.config import Settings
    from overheard.tasks import make_app

    app = make_app(Settings(redis_url="redis://127.0.0.1:1/0"))
    assert app.conf.task_ignore_result is True
    assert app.conf.result_backend is None


def test_a_handle_is_not_erased_inside_a_longer_handle_or_domain(engine: Engine) -> None:
    with engine.begin() as c:
        save_contact(c, Contact(id="c-0003", name="Ida Berg", identities=(Identity(platform="x", handle="ida_b"),)))
        text = "Ask @ida_b. Not @ida_bee, ida_b.bsky.social or major@ida_b.example"
        save_mentions(c, [_post("x", "3002", "kim", "Kim", text)])
        erase_contact(c, "c-0003", actor="dpo")
    with engine.connect() as c:
        [stored] = [r.text for r in c.execute(select(metadata.tables["mentions"]))]
    assert stored == "Ask [erased]. Not @ida_bee, ida_b.bsky.social or major@ida_b.example"


def test_a_post_that_names_the_person_in_full_loses_every_word_of_their_name_even_in_its_reasons(
    engine: Engine,
) -> None:
    thanks = _post("x", "4001", "kim", "Kim", "Priya Raman at Lumora fixed my order. Thanks Priya!")
    noodles = _post("x", "4002", "lee", "Lee", "Raman noodles and a Lumora lamp, perfect evening")
    with engine.begin() as c:
        save_contact(c, Contact(id="c-0003", name="Priya Raman", identities=(Identity(platform="x", handle="praman"),)))
        ids = save_mentions(c, [thanks, noodles])
        quoting = a_verdict().model_copy(update={"reasons": ("praise 0.81: words 'Priya', 'Raman', 'fixed'",)})
        save_verdicts(c, [(mention_id, quoting) for mention_id in ids.values()])
        erase_contact(c, "c-0003", actor="dpo")
    with engine.connect() as c:
        texts = {r.external_id: r.text for r in c.execute(select(metadata.tables["mentions"]))}
        reasons = {r.mention_id: r.reasons for r in c.execute(select(metadata.tables["verdicts"]))}
    assert texts["4001"] == "[erased] at Lumora fixed my order. Thanks [erased]!"
    assert reasons[ids[("x", "4001")]] == ["praise 0.81: words '[erased]', '[erased]', 'fixed'"]
    # a post that never named her keeps its words: 'Raman' alone is not her
    assert texts["4002"] == noodles.text
    assert reasons[ids[("x", "4002")]] == ["praise 0.81: words 'Priya', 'Raman', 'fixed'"]


def test_the_access_export_shows_every_waiting_and_quarantined_item_that_erasure_removes(engine: Engine) -> None:
    _seed_jo_everywhere(engine)
    with engine.begin() as c:
        document = export_contact(c, "c-0001", actor="dpo")
    waiting = document["tables"]["waiting_to_be_stored"]
    assert [(w["page"], w["kind"], w["item"].get("external_id")) for w in waiting] == [
        ("page-1", "post waiting to be stored", "1003"),
        ("page-1", "rejected item naming them", None),
    ]
    assert [q["payload"] for q in document["tables"]["quarantine"]] == [
        '{"id": "1005", "user": {"screen_name": "Jo_Smith"}}'
    ]
    with engine.begin() as c:
        report = erase_contact(c, "c-0001", actor="dpo")
    assert report.deleted["quarantine"] == len(document["tables"]["quarantine"])
    with engine.connect() as c:
        assert c.execute(select(quarantine)).all() == []
        [page] = [r.arguments for r in c.execute(select(metadata.tables["task_runs"])) if r.id == "page-1"]
    assert [m["external_id"] for m in page["mentions"]] == ["1004"] and page["rejected"] == []
