"""Spike and storm alerts as marketing and communications read them: the alerts of a period, each with the
posts it was raised on, and one such post opened. Opening a post is audited; a post no alert names stays
closed to these roles (they hold no record scope), whatever its id."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import Engine

from overheard.services.access import Caller, Capability, NotFound
from storage import alert_evidence, inbox
from storage.audit import record

MAX_MENTION_ID = 2**63 - 1


def list_alerts(
    engine: Engine, caller: Caller, start: datetime, end: datetime, kind: str | None = None
) -> list[alert_evidence.AlertRecord]:
    """Alerts whose hour lies in [start, end), newest first, each with its evidence posts (`read_alerts`)."""
    caller.require(Capability.read_alerts)
    with engine.connect() as connection:
        return alert_evidence.list_alerts(connection, start, end, kind)


@dataclass(frozen=True)
class EvidenceRecord:
    """A post an alert names, as the alerts page shows it: `alerts` are the keys of the alerts that name it."""

    mention: inbox.MentionDetail
    alerts: list[str]


def open_evidence(engine: Engine, caller: Caller, mention_id: int) -> EvidenceRecord:
    """One post that an alert names as its evidence; `NotFound` for any other post (audited when shown).

    The thread around it is left out: only the posts an alert names are opened this way."""
    caller.require(Capability.read_alerts)
    with engine.begin() as connection:
        keys = alert_evidence.alerts_citing(connection, mention_id) if 0 < mention_id <= MAX_MENTION_ID else []
        found = inbox.get_mention(connection, inbox.Scope(), mention_id) if keys else None
        if found is None:
            raise NotFound(f"mention {mention_id} is not the evidence of any alert")
        record(connection, caller.name, "mention.view", "mention", str(mention_id), via="alert", alerts=keys)
        return EvidenceRecord(replace(found, thread=[]), keys)
