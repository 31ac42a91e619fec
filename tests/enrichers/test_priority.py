"""Priority: a 0–100 score of named parts, response targets counted from the post's own time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import yaml

from classifiers.verdict import Intent, Sentiment, Verdict
from enrichers.enrich import enrich
from enrichers.model import Contact
from enrichers.priority import (
    DueState,
    PriorityConfig,
    due_state,
    priority_score,
    rescored,
    response_due,
    severity_part,
)
from enrichers.routing import DEFAULT_ROUTING
from listener.mention import Author, Mention, Platform
from tests.enrichers.conftest import InMemoryDirectory

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


def complaint(confidence: float = 0.9) -> Verdict:
    return Verdict(
        sentiment=Sentiment.negative,
        sentiment_confidence=0.9,
        intent=Intent.complaint,
        intent_confidence=confidence,
        model_version="test",
    )


def post(text: str, followers: int | None = 100, written: timedelta = timedelta(minutes=10), **extra: Any) -> Mention:
    return Mention(
        source=Platform.x,
        external_id=extra.pop("external_id", "1"),
        author=Author(handle=extra.pop("handle", "someone"), followers=followers),
        text=text,
        created_at=NOW - written,
        **extra,
    )


def parts(score: Any) -> dict[str, float]:
    return {p.name: p.points for p in score.parts}


def test_a_96400_follower_psa_outranks_the_same_complaint_from_29_followers() -> None:
    text = "PSA: Lumora's 4.2.0 update bricks the hub. Don't update."
    big = priority_score(post(text, followers=96_400), complaint(), NOW)
    small = priority_score(post(text, followers=29), complaint(), NOW)

    assert big.score > small.score
    assert parts(big)["reach"] == 15.0 and parts(small)["reach"] == 4.4
    assert [p.reason for p in big.parts if p.name == "reach"] == ["96,400 followers"]


def test_the_score_is_the_sum_of_its_named_parts_each_with_a_reason() -> None:
    score = priority_score(
        post("@LumoraHelp hub offline since the update, charged twice for Care too", written=timedelta(hours=12)),
        complaint(0.8),
        NOW,
    )

    assert [p.name for p in score.parts] == ["intent", "severity", "reach", "contact", "waiting"]
    assert score.score == round(sum(p.points for p in score.parts))
    reasons = {p.name: p.reason for p in score.parts}
    assert reasons["intent"] == "complaint at 80% confidence"
    assert reasons["severity"] == "outage ('offline'), money ('charged twice')"
    assert reasons["contact"] == "not linked to a contact"
    assert reasons["waiting"] == "written 12 h 00 min ago"
    assert parts(score)["intent"] == 32.0 and parts(score)["waiting"] == 5.0


def test_an_unsure_complaint_ranks_below_a_sure_one() -> None:
    mention = post("hub is offline")
    assert priority_score(mention, complaint(0.95), NOW).score > priority_score(mention, complaint(0.55), NOW).score


def test_severity_cues_are_read_in_several_languages() -> None:
    config = PriorityConfig()
    german = severity_part(post("ihr habt mir Lumora Care doppelt abgebucht, bitte um Erstattung"), config)
    french = severity_part(post("mon hub est en panne depuis la mise à jour"), config)
    safety = severity_part(post("the adapter is overheating and smells of smoke"), config)

    assert german.reason == "money ('doppelt')" and german.points == 15.0
    assert french.reason == "outage ('en panne')"
    assert safety.points == 25.0  # safety alone gives all severity points
    assert severity_part(post("love the warm white"), config).reason == "no severity cues"


def test_a_vip_contact_counts_and_an_unknown_segment_does_not() -> None:
    mention = post("hub offline")
    vip = Contact(id="c1", segment="VIP")
    nobody = Contact(id="c2", segment="newsletter")

    assert parts(priority_score(mention, complaint(), NOW, contact=vip))["contact"] == 10.0
    assert parts(priority_score(mention, complaint(), NOW, contact=nobody))["contact"] == 0.0
    valued = priority_score(mention, complaint(), NOW, contact=nobody, contact_value=5_000)
    assert parts(valued)["contact"] == 5.0
    assert [p.reason for p in valued.parts if p.name == "contact"] == ["segment newsletter, value 5,000"]


def test_waiting_counts_from_when_the_post_was_written_and_grows_while_it_waits() -> None:
    mention = post("hub offline", written=timedelta(hours=2))
    first = priority_score(mention, complaint(), NOW)
    later = rescored(first, mention, NOW + timedelta(hours=10))

    assert parts(first)["waiting"] == round(10 * 2 / 24, 1)
    assert parts(later)["waiting"] == 5.0 and later.score > first.score
    assert {k: v for k, v in parts(later).items() if k != "waiting"} == {
        k: v for k, v in parts(first).items() if k != "waiting"
    }


def test_response_targets_count_from_the_posts_own_time() -> None:
    written = NOW - timedelta(hours=3)
    due = response_due(written, timedelta(hours=2))

    assert due == NOW - timedelta(hours=1)
    assert due_state(due, NOW) is DueState.overdue
    assert due_state(NOW + timedelta(minutes=20), NOW) is DueState.due_soon
    assert due_state(NOW + timedelta(hours=1), NOW) is DueState.on_time
    assert due_state(None, NOW) is None


def test_weights_and_the_waiting_window_come_from_overheard_yaml() -> None:
    section = yaml.safe_load(
        "intent_points: {complaint: 60}\nreach_points: 0\nwaiting_full_after: 2h\nsegment_share: {gold: 1.0}"
    )
    config = PriorityConfig.model_validate(section)
    score = priority_score(
        post("hub offline", followers=50_000, written=timedelta(hours=1)), complaint(1.0), NOW, config
    )

    assert parts(score)["intent"] == 60.0 and parts(score)["reach"] == 0.0 and parts(score)["waiting"] == 5.0
    assert config.waiting_full_after == timedelta(hours=2)


def test_every_route_of_a_mention_carries_its_score() -> None:
    influencer = post("Lumora hub offline after the update. Unacceptable.", followers=24_100)

    outcome = enrich(influencer, complaint(), InMemoryDirectory([], [], []), DEFAULT_ROUTING, NOW, timedelta(days=1))

    teams = [r.route.team.value for r in outcome.routes]
    assert teams == ["communications", "customer_service"]
    scores = {r.route.score for r in outcome.routes}
    assert len(scores) == 1 and next(iter(scores)) is not None
    assert [r.route.due_at for r in outcome.routes] == [
        influencer.created_at + timedelta(hours=1),
        influencer.created_at + timedelta(hours=2),
    ]
