"""Fixtures of the trust-feature tests: a real local server replaying platforms, a deterministic classifier
with review thresholds, and the config that points Mastodon and Hacker News collectors at the server."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from classifiers.model import Thresholds
from classifiers.verdict import Document, Intent, Sentiment, Verdict
from overheard.config import OverheardConfig, parse_config
from overheard.pipeline import Runtime
from overheard.services import contacts as crm
from storage.database import open_database
from storage.schema import metadata
from tests.listener.replay import OWN_FIXTURES, RECORDED_FIXTURES, ReplayServer, Reply, start_server

FIXTURES = Path(__file__).resolve().parent / "fixtures"
JSON = "application/json; charset=utf-8"
MASTODON_TAG_PAGE = RECORDED_FIXTURES / "mastodon" / "test_hashtag_tl" / "002_GET_api_v1_timelines_tag_hoot"
MASTODON_STATUS_MISSING = RECORDED_FIXTURES / "mastodon" / "test_status_missing" / "000_GET_api_v1_statuses_0"
TOOT_ID = "117020593741189701"
TOOT_TEXT = "hashtag toot"  # words of the recorded toot
HN_DELETED, HN_LIVE, HN_ASK = "41234567", "41234500", "41200001"
HN_DELETED_TEXT = "all green"  # words of the comment deleted on HN


class CueClassifier:
    """Every post is a complaint, with a reason that quotes it (as real reasons may), and review thresholds."""

    version = "cue-test-1+thresholds.a1b2c3d4"
    thresholds = Thresholds(sentiment=0.55, intent={Intent.complaint: 0.6, Intent.purchase_intent: 0.7})

    def classify(self, documents: Sequence[Document]) -> list[Verdict]:
        return [
            Verdict(
                sentiment=Sentiment.negative,
                sentiment_confidence=0.81,
                intent=Intent.complaint,
                intent_confidence=0.92,
                reasons=(f"complaint cue in '{d.text[:40]}'",),
                model_version=self.version,
            )
            for d in documents
        ]


@pytest.fixture
def platform() -> Iterator[ReplayServer]:
    replay, httpd = start_server()
    yield replay
    httpd.shutdown()
    httpd.server_close()


def serve_collection(platform: ReplayServer) -> None:
    """The pages the collectors read: the recorded #hoot timeline and two HN search pages."""
    platform.add(
        "/api/v1/timelines/tag/hoot",
        Reply.recorded(MASTODON_TAG_PAGE, rewrite={"http://localhost:3000": platform.base_url}),
    )
    for page in ("0", "1"):
        platform.add(
            "/api/v1/search_by_date",
            Reply.file(OWN_FIXTURES / "hackernews" / f"search_page{page}.json", JSON),
            query={"page": page},
        )


def trust_config(platform: ReplayServer, extra_sources: str = "") -> OverheardConfig:
    return parse_config(f"""
brands: [{{name: Acme, query: 'Acme OR hoot'}}]
http: {{allow_networks: ["127.0.0.1/32"], min_interval_s: 0}}
sources:
  - {{kind: mastodon, name: masto, instance: "{platform.base_url}", hashtags: [hoot]}}
  - {{kind: hackernews, name: hn, base_url: "{platform.base_url}"}}
{extra_sources}
recheck: {{every: 2h, per_source: 50, window_days: 30}}
""")


def import_contact(engine: Engine, platform: ReplayServer, tmp_path: Path) -> None:
    """The CRM contact who wrote the recorded toot, with consent, imported the way operators do."""
    host = platform.base_url.removeprefix("http://")
    csv = tmp_path / "contacts.csv"
    csv.write_text((FIXTURES / "contacts.csv").read_text().replace("{host}", host))
    assert not crm.import_contacts(engine, csv).errors


@pytest.fixture
def runtime(platform: ReplayServer, database_url: str, tmp_path: Path) -> Iterator[Runtime]:
    engine = open_database(database_url)
    import_contact(engine, platform, tmp_path)
    yield Runtime.build(trust_config(platform), engine, CueClassifier())
    engine.dispose()


def everything_stored(engine: Engine, leave_out: tuple[str, ...] = ()) -> str:
    """Every row of every table (but `leave_out`) as one JSON text, to search for what must be gone."""
    rows: dict[str, list[dict[str, object]]] = {}
    with engine.connect() as connection:
        for table in metadata.sorted_tables:
            if table.name in leave_out:
                continue
            rows[table.name] = [r._asdict() for r in connection.execute(select(table))]
    return json.dumps(rows, default=str, ensure_ascii=False)
