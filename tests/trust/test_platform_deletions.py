"""Platform deletions flow downstream: one re-check sweep against a real local server removes a deleted post
from every table, keeps only a tombstone without personal data, and writes the audit log."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import ColumnElement, Engine, Table, func, select
from typer.testing import CliRunner

from listener.http import Http
from listener.mention import Mention
from listener.recheck import MastodonChecker, PostState, RedditChecker
from overheard.cli import app
from overheard.config import Settings
from overheard.pipeline import Runtime, sweep
from overheard.scheduler import beat_schedule
from overheard.sources import build_collectors
from overheard.tasks import PLATFORM_DELETIONS, RECHECK
from overheard.trust import apply_platform_notice, notice_ids, recheck_sweep, run_recheck
from storage import task_runs
from storage.mentions import mention_from_row, save_mentions
from storage.schema import audit_log, cursors, findings, mentions, quarantine, routes, tombstones
from tests.listener.replay import RECORDED_FIXTURES, ReplayServer, Reply
from tests.trust.conftest import (
    FIXTURES,
    HN_ASK,
    HN_DELETED,
    HN_DELETED_TEXT,
    HN_LIVE,
    JSON,
    MASTODON_STATUS_MISSING,
    TOOT_ID,
    TOOT_TEXT,
    everything_stored,
    serve_collection,
)

REDDIT_DELETED = RECORDED_FIXTURES / "reddit" / "TestComment.test_refresh__deleted_comment" / "001_GET_api_info"


def collect(runtime: Runtime) -> dict[str, int]:
    stored = {}
    for collector in build_collectors(runtime.config):
        stored[collector.name] = sweep(runtime, collector).stored
    return stored


def serve_recheck(platform: ReplayServer) -> None:
    """What the platforms answer on re-check: the toot and one HN comment are gone, the rest is there."""
    platform.add(f"/api/v1/statuses/{TOOT_ID}", Reply.recorded(MASTODON_STATUS_MISSING))
    platform.add(f"/api/v1/items/{HN_DELETED}", Reply.file(FIXTURES / "hackernews_item_deleted.json", JSON))
    for live in (HN_LIVE, HN_ASK):
        platform.add(f"/api/v1/items/{live}", Reply.file(FIXTURES / "hackernews_item_live.json", JSON))


def _count(engine: Engine, table: Table, *where: ColumnElement[bool]) -> int:
    with engine.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(table).where(*where)).scalar_one())


def test_a_post_deleted_on_its_platform_is_gone_from_every_table_after_one_recheck(
    platform: ReplayServer, runtime: Runtime
) -> None:
    serve_collection(platform)
    collect(runtime)
    engine = runtime.engine
    toot = select(mentions.c.id, mentions.c.external_id).where(mentions.c.source == "mastodon")
    with engine.begin() as connection:
        toot_id, toot_key = connection.execute(toot).one()
        # A pushed page still waiting for a worker, and a raw copy in quarantine, hold the toot too.
        row = connection.execute(select(mentions).where(mentions.c.id == toot_id)).one()
        page = {"mentions": [mention_from_row(row).model_dump(mode="json")], "rejected": []}
        task_runs.enqueue(connection, "page-1", "overheard.process_page", "page", page)
        connection.execute(
            quarantine.insert().values(
                source="masto:#hoot",
                reason="test",
                payload=f'{{"uri": "{toot_key}", "content": "{TOOT_TEXT}"}}',
                payload_hash="h1",
                created_at=datetime.now(UTC),
            )
        )
    before = everything_stored(engine)
    assert TOOT_TEXT in before and HN_DELETED_TEXT in before
    assert _count(engine, findings, findings.c.mention_id == toot_id) == 1, "the toot is on a profile"
    assert _count(engine, routes, routes.c.mention_id == toot_id) == 1, "and routed to a team"

    serve_recheck(platform)
    report = run_recheck(runtime.config, engine, rng=random.Random(7))

    assert report.checked == 4  # one toot, three HN items (the quarantined hit never became a mention)
    assert report.states == {"deleted": 2, "exists": 2}
    # The CRM record of the contact stays (their handle is in `identities`); everything the post brought goes.
    after = everything_stored(engine, leave_out=("identities", "tombstones", "audit_log"))
    for gone in (TOOT_TEXT, HN_DELETED_TEXT, "mastodonpy_test_2", "tptacek", toot_key, HN_DELETED):
        assert gone not in after, gone
    assert TOOT_TEXT not in everything_stored(engine) and HN_DELETED_TEXT not in everything_stored(engine)
    with engine.connect() as connection:
        kept = dict(connection.execute(select(tombstones.c.external_id, tombstones.c.reason)).all())
        audit = [
            (r.action, r.subject_id, r.detail)
            for r in connection.execute(select(audit_log).where(audit_log.c.action == "platform.deletion"))
        ]
        left = set(connection.execute(select(mentions.c.external_id)).scalars())
    assert kept == {toot_key: "deleted on platform (HTTP 404)", HN_DELETED: "deleted on platform (item emptied)"}
    assert {subject for _, subject, _ in audit} == {f"mastodon:{toot_key}", f"hackernews:{HN_DELETED}"}
    toot_audit = next(detail for _, subject, detail in audit if subject == f"mastodon:{toot_key}")
    assert toot_audit["removed"]["mentions"] == 1 and toot_audit["removed"]["findings"] == 1
    assert toot_audit["removed"]["deliveries"] == 1 and toot_audit["removed"]["task_runs"] == 1
    assert toot_audit["removed"]["quarantine"] == 1
    assert left == {HN_LIVE, HN_ASK}, "posts still on their platform are kept"
    assert [s.path for s in platform.seen if s.path.startswith("/api/v1/statuses/")] == [f"/api/v1/statuses/{TOOT_ID}"]


def test_a_deleted_post_is_not_stored_again_when_it_is_collected_again(
    platform: ReplayServer, runtime: Runtime
) -> None:
    serve_collection(platform)
    collect(runtime)
    serve_recheck(platform)
    run_recheck(runtime.config, runtime.engine)
    with runtime.engine.begin() as connection:
        connection.execute(mentions.delete())  # forget everything but the tombstones, and collect again
        connection.execute(cursors.delete())
    collect(runtime)
    assert TOOT_TEXT not in everything_stored(runtime.engine)
    assert HN_DELETED_TEXT not in everything_stored(runtime.engine)


def test_a_recheck_that_cannot_reach_the_platform_changes_nothing(platform: ReplayServer, runtime: Runtime) -> None:
    serve_collection(platform)
    collect(runtime)
    platform.add(f"/api/v1/statuses/{TOOT_ID}", Reply(503, (("Content-Type", "application/json"),), b"{}"))
    for item in (HN_DELETED, HN_LIVE, HN_ASK):
        platform.add(f"/api/v1/items/{item}", Reply(500, (("Content-Type", "application/json"),), b"{}"))
    # The configured client retries 5xx with backoff; one attempt keeps the test fast and says the same.
    http = Http(allow_networks=("127.0.0.1/32",), min_interval_s=0, max_attempts=1)
    report = run_recheck(runtime.config, runtime.engine, http=http)
    assert report.deletions == [] and report.states == {"unknown": 4}
    assert TOOT_TEXT in everything_stored(runtime.engine)
    assert _count(runtime.engine, tombstones) == 0


def test_a_toot_from_another_instance_is_rechecked_by_its_local_id_on_the_instance_it_was_read_from(
    platform: ReplayServer, runtime: Runtime
) -> None:
    instance = platform.base_url.split("://", 1)[1]
    toot = Mention(
        source="mastodon",
        external_id="https://elsewhere.example/users/someone/statuses/109999",  # its URI, on its home instance
        local_id="4242",  # its id on the instance we collected it from
        reply_ref={"status_id": "4242", "instance": instance},
        url="https://elsewhere.example/@someone/109999",
        author={"handle": "someone@elsewhere.example"},
        text="Acme lost my parcel again",
        created_at=datetime.now(UTC) - timedelta(hours=1),
        collected_at=datetime.now(UTC),
    )
    with runtime.engine.begin() as connection:
        save_mentions(connection, [toot])
    platform.add("/api/v1/statuses/4242", Reply.recorded(MASTODON_STATUS_MISSING))  # 404: deleted
    http = Http(allow_networks=("127.0.0.1/32",), min_interval_s=0)

    report = recheck_sweep(runtime.engine, {"mastodon": [MastodonChecker(http, platform.base_url)]})

    assert report.states == {"deleted": 1}
    assert "lost my parcel" not in everything_stored(runtime.engine)
    assert len(platform.requests_to("/api/v1/statuses/4242")) == 1, "asked by its local id on this instance"


def test_a_platform_compliance_notice_removes_the_posts_it_names(runtime: Runtime) -> None:
    tweet = Mention(
        source="x",
        external_id="1460323737035677698",
        url="https://x.com/someone/status/1460323737035677698",
        author={"handle": "someone"},
        text="Acme ate my homework",
        created_at=datetime.now(UTC) - timedelta(hours=1),
        collected_at=datetime.now(UTC),
    )
    with runtime.engine.begin() as connection:
        save_mentions(connection, [tweet])
    ids = notice_ids((FIXTURES / "x_compliance.jsonl").read_text())
    assert ids == ["1460323737035677698", "1460323737035677699"]
    removed = apply_platform_notice(runtime.engine, "x", ids, "X compliance job", actor="compliance")
    assert [r.removed.get("mentions", 0) for r in removed] == [1, 0]
    assert "ate my homework" not in everything_stored(runtime.engine)
    assert _count(runtime.engine, tombstones) == 2, "an id never stored is still kept from being collected"
    assert _count(runtime.engine, audit_log, audit_log.c.actor == "compliance") == 2


def test_reddit_comments_marked_deleted_are_seen_as_deleted(platform: ReplayServer) -> None:
    platform.add("/api/info.json", Reply.recorded(REDDIT_DELETED))
    checker = RedditChecker(Http(allow_networks=("127.0.0.1/32",), min_interval_s=0), platform.base_url)
    answer = checker.check("t1_d7ltvl0", None)
    assert answer.state is PostState.deleted and "[deleted]" in answer.reason
    assert platform.requests_to("/api/info.json")[0].param("id") == "t1_d7ltvl0"


def test_the_recheck_is_scheduled_and_runs_from_the_cli(
    platform: ReplayServer, runtime: Runtime, tmp_path: Path
) -> None:
    schedule = beat_schedule(runtime.config, Settings())
    assert schedule["recheck platform deletions"] == {"task": RECHECK, "schedule": 7200.0, "args": [PLATFORM_DELETIONS]}
    serve_collection(platform)
    collect(runtime)
    serve_recheck(platform)
    config = tmp_path / "overheard.yaml"
    url = runtime.engine.url.render_as_string(hide_password=False)
    config.write_text(f"database: '{url}'\n" + _yaml_of(platform))
    result = CliRunner().invoke(app, ["recheck", "--config", str(config)])
    assert result.exit_code == 0, result.output
    assert "removed 2" in result.output and "deleted on platform (HTTP 404)" in result.output


def _yaml_of(platform: ReplayServer) -> str:
    return f"""
brands: [{{name: Acme, query: 'Acme OR hoot'}}]
http: {{allow_networks: ["127.0.0.1/32"], min_interval_s: 0}}
sources:
  - {{kind: mastodon, name: masto, instance: "{platform.base_url}", hashtags: [hoot]}}
  - {{kind: hackernews, name: hn, base_url: "{platform.base_url}"}}
recheck: {{every: 2h, per_source: 50, window_days: 30}}
"""
