"""The whole path with the shipped model: the demo's business asks become sales leads with contact and company, and
a `kind: hubspot` channel syncs them into a local server replaying HubSpot's answers; inbox channels send nothing
and say so."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from classifiers.verdict import Classifier
from enrichers.crm_io import import_companies_csv, import_csv
from listener.replay import ReplayCollector
from overheard.config import ConfigError, parse_config
from overheard.demo import SAMPLES
from overheard.pipeline import Runtime, deliver_due, sweep
from storage.contacts import save_company, save_consent, save_contact
from storage.database import open_database
from storage.leads import contact_crm_state, lead_feed
from storage.schema import deliveries, routes
from tests.listener.replay import RECORDED_FIXTURES, ReplayServer, Reply, start_server

BUSINESS_ASKS = {
    "2123562925552938810",  # Oakridge Realty: 300 units
    "2120221860426680320",  # Harbourlight Hotels: 120 hotel rooms
    "2121128169833138300",  # Fernhill Property: ~90 units
    "t3_1oj9g3r",  # Kestrel Cowork: 40 sites
    "2122258094358928397",  # Cedar & Pine Coffee: volume pricing for six more cafés
}


def recorded(name: str) -> Reply:
    return Reply.recorded(RECORDED_FIXTURES / "hubspot" / name)


@pytest.fixture
def hubspot() -> Iterator[ReplayServer]:
    replay, httpd = start_server()
    replay.add("/crm/v3/objects/contacts/search", recorded("search_contacts_found"), method="POST")
    replay.add("/crm/v3/objects/companies/search", recorded("search_companies_none"), method="POST")
    replay.add("/crm/v3/objects/companies", recorded("create_company"), method="POST")
    replay.add(
        "/crm/v4/objects/contacts/512/associations/default/companies/731",
        recorded("associate_contact_company"),
        method="PUT",
    )
    replay.add("/crm/v3/objects/notes/search", recorded("search_notes_none"), method="POST")
    replay.add("/crm/v3/objects/notes", recorded("create_note"), method="POST")
    try:
        yield replay
    finally:
        httpd.shutdown()
        httpd.server_close()


def _runtime(engine: Engine, classifier: Classifier, hubspot_url: str, monkeypatch: pytest.MonkeyPatch) -> Runtime:
    monkeypatch.setenv("TEST_HUBSPOT_TOKEN", "pat-na1-test")
    config = parse_config(
        f"""
brands: [{{name: Lumora, query: 'Lumora OR LumoraHelp'}}]
http: {{allow_networks: ["127.0.0.1/32"]}}  # the test HubSpot is on this machine
crm:
  hubspot: {{token_env: TEST_HUBSPOT_TOKEN, base_url: "{hubspot_url}"}}
channels:
  customer_service: {{kind: inbox}}
  sales: {{kind: hubspot}}
  marketing: {{kind: inbox}}
  product: {{kind: inbox}}
  communications: {{kind: inbox}}
"""
    )
    return Runtime.build(config, engine, classifier)


def _demo_crm(engine: Engine) -> None:
    companies = import_companies_csv(SAMPLES / "companies.csv")
    contacts = import_csv(SAMPLES / "contacts.csv", companies.companies)
    with engine.begin() as c:
        for company in companies.companies:
            save_company(c, company)
        for contact in contacts.contacts:
            save_contact(c, contact)
        for consent in contacts.consents:
            save_consent(c, consent)


def _asks(tmp_path: Path) -> Path:
    lines = (SAMPLES / "mentions.jsonl").read_text(encoding="utf-8").splitlines(True)[:-2]
    path = tmp_path / "asks.jsonl"
    path.write_text("".join(line for line in lines if any(f'"external_id": "{key}"' in line for key in BUSINESS_ASKS)))
    return path


def test_the_demos_business_asks_reach_hubspot_as_leads_with_contact_and_company(
    sqlite_url: str, classifier: Classifier, hubspot: ReplayServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = open_database(sqlite_url)
    _demo_crm(engine)
    runtime = _runtime(engine, classifier, hubspot.base_url, monkeypatch)

    sweep(runtime, ReplayCollector(_asks(tmp_path), name="demo"))
    report = deliver_due(runtime)

    with engine.connect() as c:
        feed = lead_feed(c, runtime.clock())
        sales = c.execute(select(routes.c.external_id, routes.c.rule).where(routes.c.team == "sales")).all()
        statuses = set(c.execute(select(deliveries.c.channel, deliveries.c.status).distinct()).all())
        [state] = contact_crm_state(c, "c-0024")
    assert {r.external_id for r in sales} == BUSINESS_ASKS
    assert {lead.company_name for lead in feed} == {
        "Oakridge Realty",
        "Harbourlight Hotels",
        "Fernhill Property Group",
        "Kestrel Cowork",
        "Cedar & Pine Coffee",
    }
    assert all(lead.contact_id for lead in feed)
    assert report.delivered == len(BUSINESS_ASKS)
    assert ("sales", "delivered") in statuses
    assert all(status != "delivered" for channel, status in statuses if channel != "sales")
    assert all(lead.crm[0].status == "sent" and "note 9001" in (lead.crm[0].detail or "") for lead in feed)
    assert (state.external_id, state.owner_id, state.lifecycle_stage) == ("512", "8192", "salesqualifiedlead")
    assert len(hubspot.requests_to("/crm/v3/objects/notes")) == len(BUSINESS_ASKS)
    assert hubspot.requests_to("/crm/v3/objects/contacts") == []  # each contact was found, none created


def test_a_hubspot_channel_without_the_crm_section_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match=r"a hubspot channel needs the crm\.hubspot section"):
        parse_config(
            """
brands: [{name: Lumora, query: Lumora}]
channels: {sales: {kind: hubspot}}
routing: {rules: [{name: leads, team: sales}]}
"""
        )
