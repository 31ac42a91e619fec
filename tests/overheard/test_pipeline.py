"""The pipeline over batches: crash-safe cursors, idempotent re-runs, quarantine, consent-aware enrichment."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, Table, func, select

from classifiers.verdict import Classifier
from listener.base import Page, RatingSeen
from listener.replay import ReplayCollector
from overheard.config import load_config
from overheard.demo import SAMPLES
from overheard.pipeline import Runtime, process_batch, sweep, sweep_each
from overheard.services import contacts as crm
from storage.database import open_database
from storage.mentions import get_cursor
from storage.ratings import ratings_seen
from storage.schema import deliveries, findings, links, mentions, quarantine, routes, verdicts


class CrashAfter:
    """Wraps a collector and dies after `pages` pages, like a worker killed mid-sweep."""

    def __init__(self, inner: ReplayCollector, pages: int) -> None:
        self.inner, self.pages, self.name = inner, pages, inner.name

    def sweep(self, cursor: str | None) -> Iterator[Page]:
        for number, page in enumerate(self.inner.sweep(cursor), start=1):
            yield page
            if number == self.pages:
                raise ConnectionError("worker lost")


def _sample(tmp_path: Path, lines: int) -> Path:
    path = tmp_path / "sample.jsonl"
    path.write_text("".join((SAMPLES / "mentions.jsonl").read_text(encoding="utf-8").splitlines(True)[:lines]))
    return path


def _runtime(engine: Engine, classifier: Classifier) -> Runtime:
    return Runtime.build(load_config(SAMPLES / "demo.yaml"), engine, classifier)


def _count(engine: Engine, table: Table) -> int:
    with engine.connect() as c:
        return c.execute(select(func.count()).select_from(table)).scalar_one()


def test_a_crash_between_pages_keeps_the_stored_pages_and_resumes_after_them(
    engine: Engine, classifier: Classifier, tmp_path: Path
) -> None:
    runtime = _runtime(engine, classifier)
    replay = ReplayCollector(_sample(tmp_path, 60), name="replay:sample", page_size=20)
    with pytest.raises(ConnectionError):
        sweep(runtime, CrashAfter(replay, pages=2))
    with engine.connect() as c:
        assert get_cursor(c, "replay:sample") == "40"  # the stored pages count: the next sweep resumes after them
    assert _count(engine, mentions) == 40

    read: list[int] = []
    sweep(runtime, replay, on_page=lambda batch: read.append(batch.stored))
    assert sum(read) == 20  # only the page the crash cut off is read again
    with engine.connect() as c:
        assert get_cursor(c, "replay:sample") == "60"
    assert _count(engine, mentions) == 60
    assert _count(engine, verdicts) == 60


def test_running_the_same_sweep_again_changes_nothing(engine: Engine, classifier: Classifier, tmp_path: Path) -> None:
    runtime = _runtime(engine, classifier)
    path = _sample(tmp_path, 80)
    sweep(runtime, ReplayCollector(path, name="first"))
    before = {t.name: _count(engine, t) for t in (mentions, verdicts, routes, deliveries, links, findings)}
    sweep(runtime, ReplayCollector(path, name="second"))  # a new cursor: every line is read again
    after = {t.name: _count(engine, t) for t in (mentions, verdicts, routes, deliveries, links, findings)}
    assert before == after
    assert before["routes"] > 0


def test_bad_lines_are_quarantined_with_their_reason_and_the_rest_is_stored(
    engine: Engine, classifier: Classifier
) -> None:
    runtime = _runtime(engine, classifier)
    report = sweep(runtime, ReplayCollector(SAMPLES / "mentions.jsonl", name="all"))
    assert report.stored >= 330
    assert len(report.quarantined) == 2
    assert any("text: Field required" in reason for reason in report.quarantined)
    assert _count(engine, quarantine) == 2


def test_a_contact_without_a_valid_basis_is_routed_but_never_profiled(classifier: Classifier, sqlite_url: str) -> None:
    engine = open_database(sqlite_url)
    crm.import_companies(engine, SAMPLES / "companies.csv")
    imported = crm.import_contacts(engine, SAMPLES / "contacts.csv")
    runtime = _runtime(engine, classifier)
    sweep(runtime, ReplayCollector(SAMPLES / "mentions.jsonl", name="all"))
    with engine.connect() as c:
        profiled = set(c.execute(select(findings.c.contact_id)).scalars())
        linked = set(c.execute(select(links.c.contact_id).where(links.c.contact_id.is_not(None))).scalars())
    directory_consents = {consent.contact_id for consent in imported.consents if consent.withdrawn_at is None}
    assert profiled, "the sample has consenting contacts whose mentions should be profiled"
    assert profiled <= directory_consents
    assert linked <= directory_consents
    assert _count(engine, routes) > 0


def test_an_empty_batch_stores_nothing_and_does_not_fail(engine: Engine, classifier: Classifier) -> None:
    report = process_batch(_runtime(engine, classifier), [])
    assert report.stored == 0
    assert _count(engine, mentions) == 0


class RatedPages:
    """A review collector at the edge: two sweeps of a page whose overall rating moves from 3.8 to 3.9 stars."""

    name = "reviews:kettle"

    def __init__(self) -> None:
        self.ratings = iter(
            [RatingSeen("https://shop.example/kettle", 3.8, 127), RatingSeen("https://shop.example/kettle", 3.9, 131)]
        )

    def sweep(self, cursor: str | None) -> Iterator[Page]:
        yield Page(mentions=[], rating=next(self.ratings))


def test_the_overall_rating_a_review_page_states_is_kept_over_time(engine: Engine, classifier: Classifier) -> None:
    runtime = _runtime(engine, classifier)
    pages = RatedPages()

    sweep(runtime, pages)
    sweep(runtime, pages)

    with engine.connect() as c:
        seen = [rating for _, rating in ratings_seen(c, "reviews:kettle")]
    assert [(r.rating, r.count) for r in seen] == [(3.8, 127), (3.9, 131)]


def test_sources_swept_side_by_side_store_what_one_at_a_time_stores_and_a_failing_one_stops_only_itself(
    tmp_path: Path, classifier: Classifier
) -> None:
    lines = (SAMPLES / "mentions.jsonl").read_text(encoding="utf-8").splitlines(True)[:90]
    paths = []
    for i in range(3):
        paths.append(tmp_path / f"s{i}.jsonl")
        paths[-1].write_text("".join(lines[i * 30 : (i + 1) * 30]))
    counts = {}
    for at_once in (1, 2):
        engine = open_database(f"sqlite:///{tmp_path / f'at-once-{at_once}.db'}")
        runtime = _runtime(engine, classifier)
        collectors = [ReplayCollector(p, name=f"replay:{p.stem}", page_size=10) for p in paths]
        broken = CrashAfter(ReplayCollector(paths[0], name="replay:broken", page_size=10), pages=1)
        pages: list[str] = []
        order = [collectors[0], broken, *collectors[1:]]
        outcomes = sweep_each(runtime, order, lambda c, _b, pages=pages: pages.append(c.name), at_once)
        assert [c.name for c, _ in outcomes] == ["replay:s0", "replay:broken", "replay:s1", "replay:s2"]
        assert isinstance(outcomes[1][1], ConnectionError)
        assert [o.stored for _, o in outcomes if not isinstance(o, Exception)] == [30, 30, 30]
        assert pages.count("replay:s1") == pages.count("replay:s0") >= 3 and pages.count("replay:broken") == 1
        with engine.connect() as c:
            # the broken source keeps the page it stored before it crashed (progress is saved per page)
            assert get_cursor(c, "replay:s2") == "30" and get_cursor(c, "replay:broken") == "10"
        counts[at_once] = {t.name: _count(engine, t) for t in (mentions, verdicts, routes, deliveries, findings)}
    assert counts[1] == counts[2] and counts[2]["mentions"] == 90
