"""Spike alerts in operation: a storm in stored mentions becomes routes and deliveries, once, with evidence."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, Table, func, select

from listener.mention import Author, Mention
from overheard.alerting import check_spikes
from overheard.config import ConfigError, OverheardConfig, load_config
from overheard.pipeline import Runtime, process_batch
from storage.mentions import get_cursor
from storage.schema import deliveries, routes
from tests.distributed.keyword_classifier import KeywordClassifier

START = datetime(2026, 11, 2, tzinfo=UTC)
STORM = START + timedelta(days=4, hours=9)  # 6 Nov 09:00 UTC


def _config() -> OverheardConfig:
    return OverheardConfig.model_validate({"brands": [{"name": "Lumora", "query": "Lumora"}]})


def _mention(n: int, at: datetime, text: str) -> Mention:
    return Mention(
        source="mastodon",
        external_id=f"m{n}",
        url=f"https://mastodon.example/@u{n % 40}/{n}",
        author=Author(handle=f"u{n % 40}@mastodon.example", followers=50 + n % 40),
        text=text,
        created_at=at,
        collected_at=at + timedelta(minutes=5),
    )


def _quiet_days(days: int) -> list[Mention]:
    """Two Lumora mentions an hour, one in five of them a grievance."""
    out, n = [], 0
    for hour in range(days * 24):
        for minute in (10, 40):
            n += 1
            text = "Lumora hub broke again" if n % 5 == 0 else "Lumora lights on a timer this evening"
            out.append(_mention(n, START + timedelta(hours=hour, minutes=minute), text))
    return out


def _storm() -> list[Mention]:
    """Thirty mentions in one hour, nearly all of them angry."""
    return [
        _mention(
            10_000 + i,
            STORM + timedelta(minutes=2 * i),
            "Lumora update broke my hub, worst day" if i % 6 else "Lumora?",
        )
        for i in range(30)
    ]


@pytest.fixture
def runtime(engine: Engine) -> Runtime:
    return Runtime.build(_config(), engine, KeywordClassifier())


def _count(engine: Engine, table: Table) -> int:
    with engine.connect() as c:
        return c.execute(select(func.count()).select_from(table)).scalar_one()


def test_a_storm_is_routed_to_communications_and_marketing_with_its_evidence_once(runtime: Runtime) -> None:
    process_batch(runtime, _quiet_days(4) + _storm() + _quiet_days(5)[4 * 48 + 20 :])
    before_routes = _count(runtime.engine, routes)

    report = check_spikes(runtime, now=STORM + timedelta(hours=3, minutes=7))

    assert {(a.kind.value, a.hour) for a, _ in report.alerts} == {("volume", STORM), ("negative_share", STORM)}
    with runtime.engine.connect() as c:
        rows = c.execute(select(routes).where(routes.c.rule.like("alert:%"))).all()
        sent = c.execute(select(deliveries.c.payload).where(deliveries.c.route_id.in_([r.id for r in rows]))).all()
    assert {(r.team, r.rule) for r in rows} == {
        ("communications", "alert:volume"),
        ("marketing", "alert:volume"),
        ("communications", "alert:negative_share"),
    }
    assert report.routes == len(rows) == _count(runtime.engine, routes) - before_routes
    for row in rows:
        assert row.external_id.startswith("m1"), "keyed on a mention of the storm hour"
        assert "Driven by:" in row.explanation and "Lumora update broke my hub" in row.explanation
    alerts = [payload["data"]["alert"] for (payload,) in sent]
    assert len(alerts) == 3
    assert all(a["hour"] == "2026-11-06T09:00:00Z" and len(a["evidence"]) == 5 for a in alerts)
    assert get_cursor_value(runtime) == (STORM + timedelta(hours=3)).isoformat()

    again = check_spikes(runtime, now=STORM + timedelta(hours=3, minutes=50))
    assert again.alerts == [] and again.routes == 0
    assert _count(runtime.engine, routes) == before_routes + 3


def get_cursor_value(runtime: Runtime) -> str | None:
    with runtime.engine.connect() as c:
        return get_cursor(c, "alerts:Lumora")


def test_quiet_days_raise_nothing(runtime: Runtime) -> None:
    process_batch(runtime, _quiet_days(6))
    report = check_spikes(runtime, now=START + timedelta(days=6))
    assert report.alerts == [] and report.routes == 0
    assert get_cursor_value(runtime) == (START + timedelta(days=6)).isoformat()


def test_an_hour_is_judged_only_once_it_has_ended(runtime: Runtime) -> None:
    process_batch(runtime, _quiet_days(4) + _storm()[:20])
    early = check_spikes(runtime, now=STORM + timedelta(minutes=45))
    assert early.alerts == [], "the storm's hour is not over yet"
    process_batch(runtime, _storm()[20:])
    late = check_spikes(runtime, now=STORM + timedelta(hours=1, minutes=1))
    assert {a.hour for a, _ in late.alerts} == {STORM}
    assert max(a.mentions for a, _ in late.alerts) == 30, "judged on all of the hour's mentions"


def test_an_alert_team_without_a_channel_is_refused_with_the_key_named(tmp_path: Path) -> None:
    path = tmp_path / "overheard.yaml"
    path.write_text(
        "brands: [{name: Lumora, query: Lumora}]\n"
        "channels: {customer_service: {kind: inbox}}\n"
        "routing: {rules: []}\n"
        "alerts: {volume: {teams: [marketing]}, negative_share: {enabled: false}}\n"
    )
    with pytest.raises(ConfigError, match=r"alerts\.volume\.teams: 'marketing' has no channel"):
        load_config(path)


def test_an_alert_rides_on_a_mention_the_team_does_not_already_have(runtime: Runtime) -> None:
    """The loudest storm posts are influencers' complaints, already routed to communications by their rule."""
    storm = [
        m.model_copy(update={"author": Author(handle=f"big{i}@mastodon.example", followers=50_000 + i)}) if i < 8 else m
        for i, m in enumerate(_storm())
    ]
    process_batch(runtime, _quiet_days(4) + storm)
    with runtime.engine.connect() as c:
        influencer = {
            r.external_id
            for r in c.execute(
                select(routes).where(routes.c.rule == "influencer-complaint", routes.c.team == "communications")
            )
        }
    assert len(influencer) >= 6

    report = check_spikes(runtime, now=STORM + timedelta(hours=1))

    with runtime.engine.connect() as c:
        alert_rows = c.execute(
            select(routes).where(routes.c.rule.like("alert:%"), routes.c.team == "communications")
        ).all()
        kept = c.execute(
            select(func.count()).select_from(routes).where(routes.c.rule == "influencer-complaint")
        ).scalar_one()
    assert {r.rule for r in alert_rows} == {"alert:volume", "alert:negative_share"}
    assert not {r.external_id for r in alert_rows} & influencer, "an influencer's own route is not overwritten"
    assert kept == len(influencer)
    assert report.already_routed == []


def test_without_an_alerts_section_a_team_lacking_a_channel_sees_alerts_in_the_inbox_only(engine: Engine) -> None:
    config = OverheardConfig.model_validate(
        {
            "brands": [{"name": "Lumora", "query": "Lumora"}],
            "channels": {"communications": {"kind": "inbox"}},
            "routing": {"rules": []},
        }
    )
    runtime = Runtime.build(config, engine, KeywordClassifier())
    process_batch(runtime, _quiet_days(4) + _storm())
    check_spikes(runtime, now=STORM + timedelta(hours=1))
    with engine.connect() as c:
        rows = c.execute(
            select(routes.c.team, func.count(deliveries.c.id))
            .select_from(routes.outerjoin(deliveries))
            .where(routes.c.rule.like("alert:%"))
            .group_by(routes.c.team)
        ).all()
    assert dict(rows) == {"communications": 2, "marketing": 0}
