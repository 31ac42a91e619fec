"""Fixtures of the metrics tests: a small hand-checkable data set on both backends, and the demo data."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, update

from classifiers.verdict import Classifier, Intent, Sentiment, Verdict
from listener.mention import Mention
from listener.replay import ReplayCollector
from overheard.config import load_config
from overheard.demo import SAMPLES
from overheard.pipeline import Runtime, sweep
from overheard.runtime import load_classifier
from storage.database import open_database
from storage.mentions import save_mentions, save_verdicts
from storage.schema import verdicts

DATA = Path(__file__).parent / "data"


def load_small_dataset(engine: Engine) -> None:
    """Store data/mentions.jsonl with the verdicts (and people's relabels) of data/verdicts.tsv."""
    lines = (DATA / "mentions.jsonl").read_text(encoding="utf-8").splitlines()
    batch = [Mention.model_validate_json(line) for line in lines if line.strip()]
    with (DATA / "verdicts.tsv").open(encoding="utf-8") as handle:
        readings = list(csv.DictReader(handle, delimiter="\t"))
    with engine.begin() as connection:
        ids = save_mentions(connection, batch)
        pairs = [
            (
                ids[(r["source"], r["external_id"])],
                Verdict(
                    sentiment=Sentiment(r["sentiment"]),
                    sentiment_confidence=0.9,
                    intent=Intent.other,
                    intent_confidence=0.9,
                    model_version="fixture",
                ),
            )
            for r in readings
        ]
        save_verdicts(connection, pairs)
        for r in readings:
            if r["human_sentiment"]:
                connection.execute(
                    update(verdicts)
                    .where(verdicts.c.mention_id == ids[(r["source"], r["external_id"])])
                    .values(human_sentiment=r["human_sentiment"], relabelled_by="analyst")
                )


@pytest.fixture
def small(engine: Engine) -> Engine:
    """The hand-checkable data set (see the expected figures in test_metrics.py), on SQLite and PostgreSQL."""
    load_small_dataset(engine)
    return engine


@pytest.fixture(scope="session")
def demo_engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    """The bundled Lumora sample run through the real pipeline once, on SQLite."""
    classifier: Classifier = load_classifier()
    path = tmp_path_factory.mktemp("demo") / "overheard.db"
    engine = open_database(f"sqlite:///{path}")
    runtime = Runtime.build(load_config(SAMPLES / "demo.yaml"), engine, classifier)
    sweep(runtime, ReplayCollector(SAMPLES / "mentions.jsonl", name="demo"))
    yield engine
    engine.dispose()
