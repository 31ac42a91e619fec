"""save_enrichments: a batch's links, findings, routes and deliveries, with their audit records, in one go.

Runs on SQLite and PostgreSQL with the enrichers' test CRM stored for real and read back through
SqlContactDirectory (handles prefetched for the batch, as the pipeline does).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select, update

from classifiers.verdict import Verdict
from enrichers.enrich import enrich
from enrichers.linking import CompanyIndex, author_handle
from enrichers.routing import DEFAULT_ROUTING
from listener.mention import Mention
from storage.contacts import SqlContactDirectory
from storage.mentions import save_mentions, save_verdicts
from storage.outbox import Enriched, save_enrichments
from storage.schema import deliveries, findings, links, routes

DATA = Path(__file__).parents[1] / "enrichers" / "data"
NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
THRESHOLDS = {"sentiment": 0.5, "intent": {"complaint": 0.5}}


def _data(name: str) -> dict[str, Any]:
    return json.loads((DATA / name).read_text())


MENTIONS = {name: Mention.model_validate(m) for name, m in _data("mentions.json").items()}
VERDICTS = {name: Verdict.model_validate(v) for name, v in _data("verdicts.json").items()}


def _enrich_and_save(engine: Engine, pairs: list[tuple[str, str]]) -> list[Enriched]:
    """Store the named mentions with the named verdicts and save what enrichment decided, as the pipeline does."""
    chosen = [(MENTIONS[m], VERDICTS[v]) for m, v in pairs]
    with engine.begin() as c:
        ids = save_mentions(c, [m for m, _ in chosen])
        save_verdicts(c, [(ids[m.key], v) for m, v in chosen], NOW)
        directory = SqlContactDirectory(c)
        directory.prefetch_handles(author_handle(m) for m, _ in chosen)
        index = CompanyIndex(directory.companies())
        batch = [
            Enriched(ids[m.key], m, v, enrich(m, v, directory, DEFAULT_ROUTING, NOW, timedelta(days=365), index))
            for m, v in chosen
        ]
        save_enrichments(c, batch, THRESHOLDS)
    return batch


def test_a_batch_keeps_each_finding_route_and_delivery_with_its_audit_record(crm: Engine) -> None:
    batch = _enrich_and_save(
        crm,
        [
            ("jane_complains_on_x", "complaint"),
            ("unknown_wants_to_buy", "purchase_intent"),
            ("emma_complains", "complaint"),
        ],
    )
    jane, lead, emma = (item.enrichment for item in batch)
    assert jane.finding is not None and jane.link is not None and jane.link.contact_id == "c-jane"

    with crm.connect() as c:
        [finding] = c.execute(select(findings)).all()
        kept_routes = c.execute(select(routes).order_by(routes.c.id)).all()
        sent = c.execute(select(deliveries)).all()
        kept_links = {r.mention_id: r for r in c.execute(select(links))}

    assert (finding.contact_id, finding.external_id) == ("c-jane", MENTIONS["jane_complains_on_x"].external_id)
    assert finding.mention_id == batch[0].mention_id
    assert finding.model_version == VERDICTS["complaint"].model_version and finding.thresholds == THRESHOLDS
    assert finding.approved_by == "rule:finding_policy" and finding.reasons == list(VERDICTS["complaint"].reasons)
    expected_routes = {
        (item.mention.external_id, routed.route.team.value) for item in batch for routed in item.enrichment.routes
    }
    assert {(r.external_id, r.team) for r in kept_routes} == expected_routes and len(kept_routes) >= 3
    for row in kept_routes:
        assert row.evidence["platform_id"] == row.external_id and row.approved_by == f"rule:{row.rule}"
        assert row.thresholds == THRESHOLDS and row.basis
    emma_route = next(r for r in kept_routes if r.external_id == MENTIONS["emma_complains"].external_id)
    assert emma_route.basis.startswith("routed without profiling")
    assert {d.idempotency_key for d in sent} == {
        d.idempotency_key for e in (jane, lead, emma) for r in e.routes for d in r.deliveries
    }
    assert {d.route_id for d in sent} == {r.id for r in kept_routes}
    # Emma withdrew consent: she is answered, but no link or finding is kept on her.
    assert batch[2].mention_id not in kept_links and batch[0].mention_id in kept_links


def test_saving_a_batch_again_keeps_closed_routes_delivery_progress_and_a_persons_link(crm: Engine) -> None:
    pairs = [("jane_complains_on_x", "complaint"), ("influencer_complains", "complaint")]
    first = _enrich_and_save(crm, pairs)
    jane_id = first[0].mention_id
    with crm.begin() as c:
        c.execute(update(routes).values(status="closed"))
        c.execute(update(deliveries).values(status="delivered", attempts=1))
        c.execute(update(links).where(links.c.mention_id == jane_id).values(status="confirmed", decided_by="ana"))

    _enrich_and_save(crm, pairs)

    with crm.connect() as c:
        assert {r.status for r in c.execute(select(routes))} == {"closed"}
        assert {(d.status, d.attempts) for d in c.execute(select(deliveries))} == {("delivered", 1)}
        assert c.execute(select(links.c.decided_by).where(links.c.mention_id == jane_id)).scalar_one() == "ana"
        assert c.execute(select(findings)).all().__len__() == 1


def test_a_mention_met_twice_in_one_batch_is_written_once_with_its_last_copy(crm: Engine) -> None:
    mention = MENTIONS["jane_complains_on_x"]
    edited = mention.model_copy(update={"text": mention.text + " (edited)"})
    with crm.begin() as c:
        mention_id = save_mentions(c, [mention])[mention.key]
        directory = SqlContactDirectory(c)
        directory.prefetch_handles([author_handle(mention)])
        batch = [
            Enriched(mention_id, m, VERDICTS["complaint"], enrich(m, VERDICTS["complaint"], directory, DEFAULT_ROUTING, NOW, timedelta(days=365)))
            for m in (mention, edited)
        ]  # fmt: skip
        save_enrichments(c, batch, None)
    with crm.connect() as c:
        [finding] = c.execute(select(findings)).all()
        assert finding.excerpt.endswith("(edited)")
        assert len(c.execute(select(routes)).all()) == len(batch[1].enrichment.routes)


def test_prefetched_handles_find_the_same_contacts_as_one_at_a_time_lookups(crm: Engine) -> None:
    with crm.connect() as c:
        one_at_a_time = SqlContactDirectory(c)
        prefetched = SqlContactDirectory(c)
        prefetched.prefetch_handles(author_handle(m) for m in MENTIONS.values())
        for mention in MENTIONS.values():
            platform, handle = author_handle(mention)
            expected = one_at_a_time.contact_by_handle(platform, handle)
            assert prefetched.contact_by_handle(platform, handle) == expected, mention.key
        assert any(one_at_a_time.contact_by_handle(*author_handle(m)) for m in MENTIONS.values())
