"""In the demo, the German, Dutch, Spanish and French complaints reach the service team (issue 26), read by the
multilingual path: the English model alone found none of them as a complaint."""

from __future__ import annotations

import csv

from sqlalchemy import Engine, select

from overheard.demo import SAMPLES
from storage.schema import mentions, routes, verdicts


def test_every_german_dutch_spanish_and_french_complaint_reaches_customer_service(demo_engine: Engine) -> None:
    with (SAMPLES / "intended_intents.tsv").open(encoding="utf-8", newline="") as f:
        intended = {(r["source"], r["external_id"]): r["intent"] for r in csv.DictReader(f, delimiter="\t")}
    with demo_engine.connect() as connection:
        rows = connection.execute(
            select(
                mentions.c.id, mentions.c.source, mentions.c.external_id, verdicts.c.intent, verdicts.c.model_version
            )
            .join(verdicts, verdicts.c.mention_id == mentions.c.id)
            .where(mentions.c.language.in_(["de", "nl", "es", "fr"]))
        ).all()
        service = {
            (r.mention_id, r.rule)
            for r in connection.execute(
                select(routes.c.mention_id, routes.c.rule).where(routes.c.team == "customer_service")
            )
        }
    complaints = [r for r in rows if intended.get((r.source, r.external_id)) == "complaint"]
    assert len(complaints) == 16
    assert all(r.model_version.startswith("multilingual-") for r in rows)
    inbox = {mention for mention, _ in service}
    assert all(r.id in inbox for r in complaints)
    as_complaints = [r for r in complaints if (r.id, "complaint") in service]
    assert len(as_complaints) >= 8
