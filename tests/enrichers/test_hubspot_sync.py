"""HubSpot sync against a real local HTTP server replaying HubSpot's documented answers (tests/fixtures/recorded/hubspot).

A lead creates its contact, company and note exactly once however often the send is retried; a rate limit is waited
out or deferred as HubSpot asks; a refused token fails with its reason and is never called delivered.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
from pydantic import SecretStr

from classifiers.verdict import Intent, Sentiment, Verdict
from enrichers.crm.hubspot.client import HubSpotSettings, Pacer
from enrichers.crm.sync import CrmFailure
from enrichers.delivery import (
    Channel,
    ChannelKind,
    crm_record,
    deliver,
    event_payload,
    new_delivery,
    sending_client,
)
from enrichers.leads import score_lead
from enrichers.model import Company, CompanyClass, Contact, Delivery, DeliveryStatus, Membership, Priority, Route, Team
from listener.http import guarded_transport
from listener.mention import Mention
from tests.listener.replay import RECORDED_FIXTURES, FakeTime, ReplayServer, Reply, start_server

HUBSPOT = RECORDED_FIXTURES / "hubspot"
NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
CONTACTS_SEARCH = "/crm/v3/objects/contacts/search"
CONTACTS = "/crm/v3/objects/contacts"
COMPANIES_SEARCH = "/crm/v3/objects/companies/search"
COMPANIES = "/crm/v3/objects/companies"
ASSOCIATE = "/crm/v4/objects/contacts/512/associations/default/companies/731"
NOTES_SEARCH = "/crm/v3/objects/notes/search"
NOTES = "/crm/v3/objects/notes"


def recorded(name: str) -> Reply:
    return Reply.recorded(HUBSPOT / name)


@pytest.fixture
def hubspot() -> Iterator[ReplayServer]:
    replay, httpd = start_server()
    try:
        yield replay
    finally:
        httpd.shutdown()
        httpd.server_close()


def serve_new_lead(server: ReplayServer, *note_replies: Reply) -> None:
    """HubSpot knows neither the contact nor the company yet."""
    server.add(CONTACTS_SEARCH, recorded("search_contacts_none"), method="POST")
    server.add(CONTACTS, recorded("create_contact"), method="POST")
    server.add(COMPANIES_SEARCH, recorded("search_companies_none"), method="POST")
    server.add(COMPANIES, recorded("create_company"), method="POST")
    server.add(ASSOCIATE, recorded("associate_contact_company"), method="PUT")
    server.add(NOTES_SEARCH, recorded("search_notes_none"), method="POST")
    server.add(NOTES, *(note_replies or (recorded("create_note"),)), method="POST")


def channel(server: ReplayServer, **settings: object) -> Channel:
    return Channel(
        name="sales-crm",
        kind=ChannelKind.hubspot,
        hubspot=HubSpotSettings(base_url=server.base_url, **settings),  # type: ignore[arg-type]
        token=SecretStr("pat-na1-test"),
    )


def lead_delivery() -> Delivery:
    mention = Mention.model_validate(
        {
            "source": "x",
            "external_id": "2123562925552938810",
            "url": "https://x.com/rachelkim_re/status/2123562925552938810",
            "author": {"handle": "rachelkim_re", "name": "Rachel Kim", "followers": 1870},
            "text": "Property manager here — 300 units, looking at smart lighting for common areas. Lumora came up.",
            "language": "en",
            "created_at": "2026-11-19T23:43:50Z",
            "collected_at": "2026-11-20T00:12:05Z",
        }
    )
    verdict = Verdict(
        sentiment=Sentiment.neutral,
        sentiment_confidence=0.6,
        intent=Intent.other,
        intent_confidence=0.41,
        needs_human=True,
        model_version="test-1",
    )
    contact = Contact(
        id="c-0024",
        name="Rachel Kim",
        emails=("rachel.kim@oakridgerealty.com",),
        segment="prospect",
        memberships=(Membership(company_id="co-006", role="Director of Property Management"),),
    )
    company = Company(
        id="co-006", name="Oakridge Realty", domain="oakridgerealty.com", classification=CompanyClass.prospect
    )
    route = Route(
        source="x",
        external_id=mention.external_id,
        team=Team.sales,
        channel="sales-crm",
        priority=Priority.high,
        rule="crm-buying-signal",
        explanation="rule 'crm-buying-signal' matched: contact segment prospect is in [prospect]",
    )
    lead = score_lead(mention, verdict, NOW, contact, company)
    payload = event_payload(route, mention, verdict, NOW, contact.id, crm=crm_record(contact, company), lead=lead)
    return new_delivery(route, payload, NOW)


def sent_json(server: ReplayServer, path: str) -> list[dict[str, object]]:
    return [json.loads(seen.body) for seen in server.requests_to(path)]


def test_contact_company_and_note_are_created_once_across_a_retry_after_a_500(
    hubspot: ReplayServer, local: httpx.Client
) -> None:
    serve_new_lead(hubspot, recorded("error_500"), recorded("create_note"))
    target = channel(hubspot)

    first = deliver(lead_delivery(), target, NOW, local)
    assert first.status is DeliveryStatus.failed
    assert first.last_error is not None and "hubspot note: HTTP 500 INTERNAL_ERROR" in first.last_error
    assert first.receipt is not None
    assert (first.receipt["contact"]["id"], first.receipt["company"]["id"]) == ("512", "731")
    assert "note" not in first.receipt

    second = deliver(first, target, first.next_attempt_at or NOW, local)

    assert second.status is DeliveryStatus.delivered and second.last_error is None
    assert second.receipt is not None and second.receipt["note"] == {"id": "9001", "created": True}
    assert len(hubspot.requests_to(CONTACTS)) == 1
    assert len(hubspot.requests_to(COMPANIES)) == 1
    assert [s.path for s in hubspot.seen].count(NOTES) == 2  # the refused one, then the one HubSpot stored
    # The retry reused the stored ids: it searched for the note, not again for the contact or company.
    assert len(hubspot.requests_to(CONTACTS_SEARCH)) == 2  # by email, then by twitterhandle: first attempt only
    assert len(hubspot.requests_to(COMPANIES_SEARCH)) == 2  # by domain, then by name: first attempt only
    assert len(hubspot.requests_to(NOTES_SEARCH)) == 2


def test_what_is_sent_names_the_person_company_and_mention_and_associates_the_note_with_both(
    hubspot: ReplayServer, local: httpx.Client
) -> None:
    serve_new_lead(hubspot)

    done = deliver(lead_delivery(), channel(hubspot), NOW, local)

    assert done.status is DeliveryStatus.delivered
    assert hubspot.requests_to(CONTACTS)[0].headers["authorization"] == "Bearer pat-na1-test"
    [by_email, by_handle] = sent_json(hubspot, CONTACTS_SEARCH)
    assert by_email["filterGroups"] == [
        {"filters": [{"propertyName": "email", "operator": "EQ", "value": "rachel.kim@oakridgerealty.com"}]}
    ]
    assert by_handle["filterGroups"][0]["filters"][0]["propertyName"] == "twitterhandle"  # type: ignore[index]
    [created] = sent_json(hubspot, CONTACTS)
    assert created["properties"] == {
        "email": "rachel.kim@oakridgerealty.com",
        "firstname": "Rachel",
        "lastname": "Kim",
        "company": "Oakridge Realty",
        "twitterhandle": "rachelkim_re",
    }
    [company] = sent_json(hubspot, COMPANIES)
    assert company["properties"] == {"name": "Oakridge Realty", "domain": "oakridgerealty.com"}
    [note] = sent_json(hubspot, NOTES)
    assert note["associations"] == [
        {"to": {"id": "512"}, "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 202}]},
        {"to": {"id": "731"}, "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 190}]},
    ]
    body = note["properties"]["hs_note_body"]  # type: ignore[index]
    assert "300 units" in body and "lead score" in body and done.idempotency_key in body
    assert note["properties"]["hs_timestamp"] == "2026-11-19T23:43:50Z"  # type: ignore[index]


def test_a_short_retry_after_is_waited_out_and_the_note_is_created_once(
    hubspot: ReplayServer, local: httpx.Client
) -> None:
    serve_new_lead(hubspot, recorded("error_429_secondly"), recorded("create_note"))

    done = deliver(lead_delivery(), channel(hubspot), NOW, local)

    assert done.status is DeliveryStatus.delivered and done.attempts == 1
    assert done.receipt is not None and done.receipt["note"]["id"] == "9001"
    assert len(hubspot.requests_to(NOTES)) == 2


def test_a_long_retry_after_defers_the_next_attempt_at_least_that_long(
    hubspot: ReplayServer, local: httpx.Client
) -> None:
    serve_new_lead(hubspot, recorded("error_429_secondly").with_headers(Retry_After="120"))

    done = deliver(lead_delivery(), channel(hubspot), NOW, local)

    assert done.status is DeliveryStatus.failed
    assert done.last_error is not None and "rate limited" in done.last_error and "SECONDLY" in done.last_error
    assert done.next_attempt_at is not None and done.next_attempt_at >= NOW + timedelta(seconds=120)
    assert len(hubspot.requests_to(NOTES)) == 1  # not hammered


def test_a_refused_token_fails_with_its_reason_and_is_never_delivered(
    hubspot: ReplayServer, local: httpx.Client
) -> None:
    hubspot.add(CONTACTS_SEARCH, recorded("error_401"), method="POST")

    done = deliver(lead_delivery(), channel(hubspot), NOW, local)

    assert done.status is DeliveryStatus.failed
    assert done.last_error is not None
    assert "refused the private-app token" in done.last_error
    assert "INVALID_AUTHENTICATION" in done.last_error and "$OVERHEARD_HUBSPOT_TOKEN" in done.last_error
    assert done.receipt == {"system": "hubspot"}  # nothing stored there
    assert [s.path for s in hubspot.seen] == [CONTACTS_SEARCH]


def test_the_daily_limit_is_a_clear_failure_that_waits_for_the_next_day(
    hubspot: ReplayServer, local: httpx.Client
) -> None:
    hubspot.add(CONTACTS_SEARCH, recorded("error_429_daily"), method="POST")

    done = deliver(lead_delivery(), channel(hubspot), NOW, local)

    assert done.status is DeliveryStatus.failed
    assert done.last_error is not None and "daily limit reached" in done.last_error
    assert len(hubspot.seen) == 1


def test_a_contact_hubspot_already_holds_is_reused_and_its_owner_and_stage_read_back(
    hubspot: ReplayServer, local: httpx.Client
) -> None:
    serve_new_lead(hubspot)
    hubspot.routes[0] = type(hubspot.routes[0])("POST", CONTACTS_SEARCH, {}, [recorded("search_contacts_found")])

    done = deliver(lead_delivery(), channel(hubspot), NOW, local)

    assert done.status is DeliveryStatus.delivered
    assert hubspot.requests_to(CONTACTS) == []
    assert done.receipt is not None
    assert done.receipt["contact"] == {
        "id": "512",
        "created": False,
        "owner_id": "8192",
        "lifecycle_stage": "salesqualifiedlead",
    }


def test_a_deal_is_created_with_the_contact_and_company_when_configured(
    hubspot: ReplayServer, local: httpx.Client
) -> None:
    serve_new_lead(hubspot)
    hubspot.add("/crm/v3/objects/deals/search", recorded("search_deals_none"), method="POST")
    hubspot.add("/crm/v3/objects/deals", recorded("create_deal"), method="POST")

    done = deliver(lead_delivery(), channel(hubspot, record="deal"), NOW, local)

    assert done.status is DeliveryStatus.delivered
    assert done.receipt is not None and done.receipt["deal"] == {"id": "14021", "created": True}
    [deal] = sent_json(hubspot, "/crm/v3/objects/deals")
    assert deal["properties"]["dealname"].startswith("Overheard: @rachelkim_re on x")  # type: ignore[index]
    assert [a["types"][0]["associationTypeId"] for a in deal["associations"]] == [3, 341]  # type: ignore[index,union-attr]


def test_a_hubspot_channel_without_a_token_names_the_variable_to_set() -> None:
    with pytest.raises(ValueError, match="set OVERHEARD_HUBSPOT_TOKEN"):
        Channel(name="sales-crm", kind=ChannelKind.hubspot, hubspot=HubSpotSettings())


def test_pacing_keeps_to_ten_requests_a_second_and_a_daily_cap() -> None:
    time = FakeTime()
    pacer = Pacer(10, clock=time.clock, sleep=time.sleep, today=lambda: "2026-11-20")
    started = time.now

    for _ in range(25):
        pacer.take(daily_limit=None)

    assert time.now - started >= 2.0  # 25 requests at 10 a second need at least two more seconds
    capped = Pacer(10, clock=time.clock, sleep=time.sleep, today=lambda: "2026-11-20")
    for _ in range(3):
        capped.take(daily_limit=3)
    with pytest.raises(CrmFailure, match="daily limit reached: 3 of the 3"):
        capped.take(daily_limit=3)


def test_an_author_hubspot_could_never_find_again_is_dead_lettered_with_the_setting_to_change(
    hubspot: ReplayServer, local: httpx.Client
) -> None:
    serve_new_lead(hubspot)
    anonymous = lead_delivery()
    assert anonymous.payload is not None
    data = {**anonymous.payload["data"], "crm": None, "contact_id": None}
    data["mention"] = {**data["mention"], "source": "reddit"}
    anonymous = anonymous.model_copy(update={"payload": {**anonymous.payload, "data": data}})

    done = deliver(anonymous, channel(hubspot), NOW, local)

    assert done.status is DeliveryStatus.dead
    assert done.last_error is not None and "set crm.hubspot.handle_properties.reddit" in done.last_error
    assert hubspot.requests_to(CONTACTS) == []


class _Trickle(BaseHTTPRequestHandler):
    """Answers any request one byte every 0.3 s: each read is in time, the whole answer never is."""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["content-length"]))
        for byte in b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}":
            if self.server.stop.wait(0.3):  # type: ignore[attr-defined]
                return
            self.wfile.write(bytes([byte]))
            self.wfile.flush()

    def log_message(self, *args: object) -> None:
        pass


def test_a_hubspot_that_trickles_is_cut_off_at_the_channels_deadline() -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Trickle)
    server.daemon_threads = True
    server.stop = threading.Event()  # type: ignore[attr-defined]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    slow = Channel(
        name="sales-crm",
        kind=ChannelKind.hubspot,
        hubspot=HubSpotSettings(base_url=f"http://127.0.0.1:{server.server_port}", timeout_s=5),
        token=SecretStr("pat-na1-test"),
        deadline_s=1.0,
    )
    try:
        with sending_client(guarded_transport(("127.0.0.1/32",))) as client:
            started = time.monotonic()
            done = deliver(lead_delivery(), slow, NOW, client)
            took = time.monotonic() - started
    finally:
        server.stop.set()  # type: ignore[attr-defined]
        server.shutdown()
        server.server_close()

    assert done.status is DeliveryStatus.failed
    assert done.last_error is not None and "no answer from" in done.last_error
    assert took < 3.0  # the deadline, not 5 s a read
