"""The lead feed's use cases: ranked by score for sales and admin only, and each decision (accept, dismiss,
snooze) checked against the caller's role and written to the audit log exactly once."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Engine, func, select

from overheard.services import Caller, Forbidden, NotFound, leads
from overheard.services.access import Invalid
from storage.audit import entries_for
from storage.schema import audit_log, now_utc
from storage.schema import leads as lead_rows
from storage.tokens import Role
from tests.api.seed import Seeded

SALES = Caller("sales-tester", Role.sales)
ADMIN = Caller("admin-tester", Role.admin)
SERVICE = Caller("service-tester", Role.service)
MARKETING = Caller("marketing-tester", Role.marketing)
PRIVACY = Caller("privacy-tester", Role.privacy)


def _lowest_new(engine: Engine) -> int:
    """The lowest-ranked new lead now (each test that decides one takes a fresh one)."""
    return leads.ranked(engine, SALES, states=("new",), limit=500).leads[-1].mention_id


def _lead(engine: Engine, mention_id: int) -> tuple[str, str | None, str | None]:
    with engine.connect() as connection:
        row = connection.execute(
            select(lead_rows.c.state, lead_rows.c.dismiss_reason, lead_rows.c.owner).where(
                lead_rows.c.mention_id == mention_id
            )
        ).one()
        return row.state, row.dismiss_reason, row.owner


def _audit_count(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(audit_log)).scalar_one())


def _actions(engine: Engine, mention_id: int) -> list[tuple[str, str]]:
    with engine.connect() as connection:
        return [(e.actor, e.action) for e in entries_for(connection, "mention", str(mention_id))]


def test_the_feed_ranks_by_score_and_a_prospects_volume_ask_comes_first_with_contact_and_company(
    seeded: Seeded,
) -> None:
    feed = leads.ranked(seeded.engine, SALES, limit=500)
    scores = [lead.score for lead in feed.leads]
    assert scores == sorted(scores, reverse=True) and len(scores) > 10
    first = feed.leads[0]
    assert (first.contact_name, first.company_name) == ("Sam Whitaker", "Fernhill Property Group")
    assert "is a prospect" in first.explanation and "90 units" in first.explanation
    assert {p["name"] for p in first.parts} == {"intent", "signal", "crm", "reach", "recency"}
    assert all(c.status != "delivered" for lead in feed.leads for c in lead.crm)
    assert sum(feed.counts.values()) >= len(feed.leads)
    # The admin sees the same feed; an owner nobody has matches nothing.
    assert [lead.mention_id for lead in leads.ranked(seeded.engine, ADMIN, limit=500).leads] == [
        lead.mention_id for lead in feed.leads
    ]
    assert leads.ranked(seeded.engine, SALES, owner="nobody-owns-this").leads == []


@pytest.mark.parametrize("caller", [SERVICE, MARKETING, PRIVACY], ids=lambda c: c.role.value)
def test_roles_other_than_sales_and_admin_are_refused_the_feed_and_every_decision(
    seeded: Seeded, caller: Caller
) -> None:
    lead = _lowest_new(seeded.engine)
    before = _audit_count(seeded.engine)
    with pytest.raises(Forbidden, match=f"role '{caller.role.value}' may not work leads"):
        leads.ranked(seeded.engine, caller)
    with pytest.raises(Forbidden):
        leads.accept(seeded.engine, caller, lead)
    with pytest.raises(Forbidden):
        leads.dismiss(seeded.engine, caller, lead, "not for us")
    with pytest.raises(Forbidden):
        leads.snooze(seeded.engine, caller, lead, now_utc() + timedelta(days=1))
    assert _lead(seeded.engine, lead) == ("new", None, None)
    assert _audit_count(seeded.engine) == before


def test_a_dismissal_needs_a_reason_keeps_it_and_is_audited_once(seeded: Seeded) -> None:
    lead = _lowest_new(seeded.engine)
    before = _audit_count(seeded.engine)
    with pytest.raises(Invalid, match="say why this is not a lead"):
        leads.dismiss(seeded.engine, SALES, lead, "   ")
    assert _lead(seeded.engine, lead)[0] == "new" and _audit_count(seeded.engine) == before

    leads.dismiss(seeded.engine, SALES, lead, "  a household   question ")

    assert _lead(seeded.engine, lead)[:2] == ("dismissed", "a household question")
    assert _audit_count(seeded.engine) == before + 1
    assert _actions(seeded.engine, lead).count(("sales-tester", "lead.dismiss")) == 1
    assert lead not in [v.mention_id for v in leads.ranked(seeded.engine, SALES, states=("new",), limit=500).leads]
    dismissed = leads.ranked(seeded.engine, SALES, states=("dismissed",), limit=500).leads
    assert lead in [v.mention_id for v in dismissed]


def test_accepting_sets_the_owner_and_snoozing_hides_the_lead_each_audited_once(seeded: Seeded) -> None:
    accepted = _lowest_new(seeded.engine)
    before = _audit_count(seeded.engine)
    assert leads.accept(seeded.engine, SALES, accepted) == "sales-tester"  # the caller owns it by default
    assert _lead(seeded.engine, accepted) == ("accepted", None, "sales-tester")
    assert leads.accept(seeded.engine, ADMIN, accepted, owner=" dana ") == "dana"
    assert _lead(seeded.engine, accepted) == ("accepted", None, "dana")
    assert [v.mention_id for v in leads.ranked(seeded.engine, SALES, owner="dana").leads] == [accepted]

    snoozed = _lowest_new(seeded.engine)
    with pytest.raises(Invalid, match="a time in the future"):
        leads.snooze(seeded.engine, SALES, snoozed, now_utc() - timedelta(minutes=1))
    leads.snooze(seeded.engine, SALES, snoozed, now_utc() + timedelta(days=2))
    assert _lead(seeded.engine, snoozed)[0] == "snoozed"
    assert snoozed not in [v.mention_id for v in leads.ranked(seeded.engine, SALES, limit=500).leads]

    assert _audit_count(seeded.engine) == before + 3
    assert _actions(seeded.engine, accepted)[-2:] == [("sales-tester", "lead.accept"), ("admin-tester", "lead.accept")]
    assert _actions(seeded.engine, snoozed)[-1] == ("sales-tester", "lead.snooze")


def test_a_mention_that_is_no_lead_is_not_found_and_an_unknown_state_is_named(seeded: Seeded) -> None:
    with pytest.raises(NotFound, match="mention 999999999 is not a lead"):
        leads.accept(seeded.engine, SALES, 999_999_999)
    with pytest.raises(Invalid, match="unknown lead state won"):
        leads.ranked(seeded.engine, SALES, states=("won",))
