"""Source health: a broken source is flagged and alerted to the operator while the rest of the run continues;
a source that stops returning data while others go on raises an operator alert; CLI, API and web show it."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from fastapi.testclient import TestClient
from requests.structures import CaseInsensitiveDict
from sqlalchemy import Engine, func, select
from typer.testing import CliRunner

from overheard.api import create_app
from overheard.cli import _sweep_all, app
from overheard.config import parse_config
from overheard.pipeline import Runtime
from overheard.sources import build_collectors
from overheard.trust import ALERTS_EVERY_S, open_alerts, rate_limit_from_headers, record_sweep_outcome, sources_health
from storage.audit import entries_for
from storage.database import open_database
from storage.health import RateLimit, SourceState, raise_operator_alerts, record_sweep, source_health
from storage.schema import deliveries, mentions
from storage.tokens import Role, create_token
from tests.conftest import sign_in
from tests.listener.replay import OWN_FIXTURES, ReplayServer, Reply
from tests.trust.conftest import CueClassifier, serve_collection

BROKEN = "Unauthorized: this API tier no longer includes search"


def _config_text(platform: ReplayServer, database_url: str) -> str:
    return f"""
database: '{database_url}'
brands: [{{name: Acme, query: 'Acme OR hoot'}}]
http: {{allow_networks: ["127.0.0.1/32"], min_interval_s: 0}}
sources:
  - {{kind: mastodon, name: masto, instance: "{platform.base_url}", hashtags: [hoot]}}
  - {{kind: rss, name: lost, feeds: ["{platform.url("/lost.rss")}"]}}
  - {{kind: hackernews, name: hn, base_url: "{platform.base_url}"}}
"""


def _run_once(platform: ReplayServer, runtime: Runtime) -> tuple[int, list[str]]:
    collectors = build_collectors(runtime.config)
    return _sweep_all(runtime, collectors), [c.name for c in collectors]


def test_a_broken_source_is_flagged_and_alerted_while_the_others_are_collected(
    platform: ReplayServer, runtime: Runtime, database_url: str
) -> None:
    serve_collection(platform)
    refused = Reply(401, (("Content-Type", "text/plain"),), BROKEN.encode())
    platform.add("/lost.rss", refused, refused, Reply.file(OWN_FIXTURES / "rss" / "news.rss", "application/rss+xml"))
    runtime = Runtime.build(parse_config(_config_text(platform, database_url)), runtime.engine, CueClassifier())

    failed, names = _run_once(platform, runtime)

    assert failed == 1
    with runtime.engine.connect() as connection:
        by_source = dict(connection.execute(select(mentions.c.source, func.count()).group_by(mentions.c.source)).all())
        payloads = [str(p) for p in connection.execute(select(deliveries.c.payload)).scalars()]
    assert by_source == {"mastodon": 1, "hackernews": 3}, "the other sources were collected in the same run"
    health = {h.name: h for h in sources_health(runtime.engine, names)}
    lost = health[f"lost:{platform.url('/lost.rss')}"]
    assert lost.state is SourceState.failing and not lost.working
    assert "401" in (lost.last_error or "") and lost.last_success_at is None and lost.consecutive_failures == 1
    masto, hn = health["masto:#hoot"], health["hn:brand:Acme:acme"]
    assert masto.working and masto.items_last_hour == 1 and masto.items_last_day == 1
    assert masto.rate_limit is not None and (masto.rate_limit.remaining, masto.rate_limit.limit) == (299, 300)
    assert hn.working and hn.items_last_hour == 3 and hn.last_error is None
    [alert] = open_alerts(runtime.engine)
    assert (alert.kind, alert.subject) == ("source_failing", lost.name) and "401" in alert.message
    # The operator hears about it; the business teams' channels carry mentions only.
    assert not any("source_failing" in p or lost.name in p for p in payloads)
    with runtime.engine.connect() as connection:
        assert [e.action for e in entries_for(connection, "source", lost.name)] == ["source.alert"]

    # A second failing run keeps one alert; the source working again resolves it.
    _run_once(platform, runtime)
    assert len(open_alerts(runtime.engine)) == 1
    _run_once(platform, runtime)
    assert open_alerts(runtime.engine) == []
    recovered = {h.name: h for h in sources_health(runtime.engine, names)}[lost.name]
    assert recovered.working and recovered.last_error and "401" in recovered.last_error, "the last error is kept"


def test_a_source_that_stops_returning_data_while_others_continue_alerts_the_operator(engine: Engine) -> None:
    now = datetime(2026, 11, 20, 12, tzinfo=UTC)
    with engine.begin() as connection:
        for hours_ago, items in ((30, 12), (20, 9)):  # bluesky used to bring data ...
            at = now - timedelta(hours=hours_ago)
            record_sweep(connection, "bsky:brand:Acme", started_at=at, finished_at=at, items=items)
        for hours_ago in (5, 3, 1):  # ... and since then its sweeps succeed empty while Mastodon goes on
            at = now - timedelta(hours=hours_ago)
            record_sweep(connection, "bsky:brand:Acme", started_at=at, finished_at=at, items=0)
            record_sweep(
                connection, "masto:#acme", started_at=at, finished_at=at, items=4, rate_limit=RateLimit(250, 300)
            )
        record_sweep(connection, "rss:quiet-blog", started_at=now, finished_at=now, items=0)  # never had any
        raised = raise_operator_alerts(connection, now)
        states = {h.name: h.state for h in source_health(connection, now)}
    assert states == {
        "bsky:brand:Acme": SourceState.stopped,
        "masto:#acme": SourceState.working,
        "rss:quiet-blog": SourceState.quiet,
    }
    assert [(a.kind, a.subject) for a in raised] == [("source_stopped", "bsky:brand:Acme")]

    later = now + timedelta(hours=1)
    with engine.begin() as connection:
        record_sweep(connection, "bsky:brand:Acme", started_at=later, finished_at=later, items=2)
        assert raise_operator_alerts(connection, later) == []
    assert open_alerts(engine) == []


def test_when_every_source_is_silent_nothing_is_called_stopped(engine: Engine) -> None:
    now = datetime(2026, 11, 20, 12, tzinfo=UTC)
    with engine.begin() as connection:
        for name in ("a:q", "b:q"):
            old = now - timedelta(days=2)
            record_sweep(connection, name, started_at=old, finished_at=old, items=5)
            record_sweep(connection, name, started_at=now, finished_at=now, items=0)
        assert raise_operator_alerts(connection, now) == []
        assert {h.state for h in source_health(connection, now)} == {SourceState.quiet}


def test_overheard_sources_api_and_web_show_health_to_the_operator_only(
    platform: ReplayServer, runtime: Runtime, database_url: str, tmp_path: Path
) -> None:
    serve_collection(platform)
    platform.add("/lost.rss", Reply(401, (("Content-Type", "text/plain"),), BROKEN.encode()))
    config = parse_config(_config_text(platform, database_url))
    runtime = Runtime.build(config, runtime.engine, CueClassifier())
    _run_once(platform, runtime)
    lost = f"lost:{platform.url('/lost.rss')}"

    path = tmp_path / "overheard.yaml"
    path.write_text(_config_text(platform, database_url))
    shown = CliRunner().invoke(app, ["sources", "--config", str(path), "--format", "json"])
    assert shown.exit_code == 0, shown.output
    document = json.loads(shown.stdout)
    rows = {s["name"]: s for s in document["sources"]}
    assert rows[lost]["state"] == "failing" and "401" in rows[lost]["last_error"]
    assert rows["masto:#hoot"]["working"] is True and rows["masto:#hoot"]["rate_limit"]["remaining"] == 299
    assert [a["kind"] for a in document["operator_alerts"]] == ["source_failing"]
    table = CliRunner().invoke(app, ["sources", "--config", str(path)], env={"COLUMNS": "250"})
    assert table.exit_code == 0 and "failing" in table.stdout and "working" in table.stdout
    assert "alert" in table.stdout and "source_failing" in table.stdout

    with runtime.engine.begin() as connection:
        admin, _ = create_token(connection, "ops", Role.admin)
        sales, _ = create_token(connection, "seller", Role.sales)
    client = TestClient(create_app(runtime.engine, config))
    answer = client.get("/api/sources", headers={"Authorization": f"Bearer {admin}"})
    assert answer.status_code == 200
    api_rows = {s["name"]: s for s in answer.json()["sources"]}
    assert api_rows[lost]["working"] is False and api_rows["hn:brand:Acme:acme"]["items_last_day"] == 3
    assert answer.json()["operator_alerts"][0]["subject"] == lost
    assert client.get("/api/sources", headers={"Authorization": f"Bearer {sales}"}).status_code == 403

    sign_in(client, admin)
    page = client.get("/sources")
    assert page.status_code == 200 and "source_failing" in page.text and "failing" in page.text
    client.cookies.clear()
    sign_in(client, sales)
    assert client.get("/sources").status_code == 403


def test_app_store_connects_hourly_allowance_is_read_as_the_sources_headroom() -> None:
    headers = CaseInsensitiveDict({"X-Rate-Limit": "user-hour-lim:3600;user-hour-rem:3545;"})
    assert rate_limit_from_headers(headers, datetime.now(UTC)) == RateLimit(3545, 3600, None)
    assert rate_limit_from_headers(CaseInsensitiveDict({"X-Rate-Limit": "nonsense"}), datetime.now(UTC)) is None


def test_after_a_successful_sweep_alerts_are_looked_at_again_only_after_a_while_but_failures_and_recoveries_at_once(
    sqlite_url: str,
) -> None:
    # Looking at every source's alerts is ~10 queries; it ran after each sweep, most of an empty sweep's time.
    engine = open_database(sqlite_url)
    now = datetime(2026, 11, 20, 12, tzinfo=UTC)
    with engine.begin() as connection:
        for hours_ago, items in ((30, 12), (20, 9), (5, 0), (3, 0)):  # bluesky used to bring data, then stopped
            at = now - timedelta(hours=hours_ago)
            record_sweep(connection, "bsky:brand:Acme", started_at=at, finished_at=at, items=items)
            record_sweep(connection, "masto:#acme", started_at=at, finished_at=at, items=4)

    def outcome(name: str, seconds: float, items: int = 0, error: BaseException | None = None) -> list[str]:
        at = now + timedelta(seconds=seconds)
        raised = record_sweep_outcome(engine, name, started_at=at, finished_at=at, items=items, error=error)
        return [f"{a.kind} {a.subject}" for a in raised]

    assert outcome("masto:#acme", 0, items=4) == ["source_stopped bsky:brand:Acme"]  # the first sweep looks
    assert outcome("rss:blog", 1, error=ConnectionError("refused")) == ["source_failing rss:blog"]  # failures: at once
    assert outcome("masto:#acme", 2, items=4) == []  # nothing new, and not looked at
    assert outcome("rss:blog", 3) == []  # recovered: its open alert made this sweep look, and resolve it
    assert {a.subject for a in open_alerts(engine)} == {"bsky:brand:Acme"}
    with engine.begin() as connection:  # another source stopped; a successful sweep of a third does not look ...
        for hours_ago in (20, 3):
            at = now - timedelta(hours=hours_ago)
            record_sweep(connection, "hn:acme", started_at=at, finished_at=at, items=5 if hours_ago == 20 else 0)
    assert outcome("masto:#acme", 4, items=4) == []
    # ... until ALERTS_EVERY_S later
    assert outcome("masto:#acme", 4 + ALERTS_EVERY_S, items=4) == ["source_stopped hn:acme"]
    engine.dispose()
