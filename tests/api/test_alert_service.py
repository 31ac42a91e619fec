"""The alerts' use cases: who reads alerts and their evidence, that an evidence post is the only post they open,
and that opening one is audited once (a database of its own with the sample's alerts checked)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine

from overheard.alerting import check_spikes
from overheard.pipeline import Runtime
from overheard.services import alerts
from overheard.services.access import Caller, Forbidden, NotFound
from storage.audit import entries_for
from storage.tokens import Role
from tests.api.conftest import _seeded_database
from tests.api.seed import DEMO_CONFIG, MemoClassifier

NOVEMBER = datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 12, 1, tzinfo=UTC)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def alerted(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, memo_classifier: MemoClassifier
) -> Iterator[Engine]:
    for seeded in _seeded_database(request.param, tmp_path_factory.mktemp("alerts"), memo_classifier):
        runtime = Runtime.build(DEMO_CONFIG, seeded.engine, memo_classifier)
        check_spikes(runtime, datetime(2026, 12, 1, tzinfo=UTC))
        check_spikes(runtime, datetime(2026, 12, 1, tzinfo=UTC))  # a second check changes nothing
        yield seeded.engine


def test_marketing_and_communications_read_the_alerts_with_the_posts_each_was_raised_on(alerted: Engine) -> None:
    for role in (Role.marketing, Role.communications, Role.admin):
        found = alerts.list_alerts(alerted, Caller(f"{role}-tester", role), *NOVEMBER)
        assert [(a.kind, a.brand, f"{a.hour:%d %H}") for a in found] == [
            ("negative_share", "Lumora", "12 09"),
            ("volume", "Lumora", "12 09"),
        ]
        assert all(len(a.evidence) == 5 and [e.rank for e in a.evidence] == list(range(5)) for a in found)
    storm = alerts.list_alerts(alerted, Caller("c", Role.communications), *NOVEMBER, kind="negative_share")
    assert [a.kind for a in storm] == ["negative_share"]
    assert all(e.sentiment == "negative" for e in storm[0].evidence)


def test_the_other_roles_may_not_read_alerts(alerted: Engine) -> None:
    for role in (Role.service, Role.sales, Role.privacy):
        with pytest.raises(Forbidden, match="may not read alerts"):
            alerts.list_alerts(alerted, Caller("x", role), *NOVEMBER)
        with pytest.raises(Forbidden, match="may not read alerts"):
            alerts.open_evidence(alerted, Caller("x", role), 1)


def test_an_evidence_post_opens_audited_once_and_no_other_post_opens(alerted: Engine) -> None:
    marketing = Caller("marketing-desk", Role.marketing)
    [storm] = alerts.list_alerts(alerted, marketing, *NOVEMBER, kind="negative_share")
    post = storm.evidence[0]
    opened = alerts.open_evidence(alerted, marketing, post.mention_id)
    assert opened.mention.id == post.mention_id and storm.key in opened.alerts
    assert opened.mention.thread == []  # only the named posts, not the conversation around them
    with alerted.connect() as connection:
        views = [e for e in entries_for(connection, "mention", str(post.mention_id)) if e.actor == "marketing-desk"]
    assert [e.action for e in views] == ["mention.view"]
    cited = {e.mention_id for a in alerts.list_alerts(alerted, marketing, *NOVEMBER) for e in a.evidence}
    unnamed = next(i for i in range(1, 400) if i not in cited)
    for asked in (unnamed, 0, -3, 2**70):
        with pytest.raises(NotFound, match="is not the evidence of any alert"):
            alerts.open_evidence(alerted, marketing, asked)
