"""HubSpot CRM client: a private-app token, HubSpot's rate limits, and the `CrmGateway` calls `sync_lead` makes.

All HTTP goes through the `httpx.Client` it is given (the delivery path hands it `enrichers.delivery.
sending_client` over the SSRF-guarded transport). Rate limits, as HubSpot documents them for private apps:

- at most `requests_per_second` (10 by default) from this process, paced before each request;
- a 429 with `Retry-After` of at most `max_wait_s` is waited out and the request tried again (up to
  `retries_on_429` times); a longer one ends the attempt with that wait as the time to come back;
- the daily limit: a 429 whose policy is DAILY, a `X-HubSpot-RateLimit-Daily-Remaining: 0` header, or
  `daily_limit` requests made today by this process end the attempt with "daily limit reached" and the time the
  day ends (UTC), not with another retry that would only spend more of tomorrow's allowance.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import httpx
from pydantic import BaseModel, ConfigDict, Field

from enrichers.crm.hubspot import mapper
from enrichers.crm.sync import CrmFailure, CrmLead, CrmObject, CrmOrganisation, CrmPerson, ObjectKind

DEFAULT_BASE_URL = "https://api.hubapi.com"


class HubSpotSettings(BaseModel):
    """The `crm: hubspot:` section of overheard.yaml (the token itself lives in the environment)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    token_env: str = Field(
        default="OVERHEARD_HUBSPOT_TOKEN", min_length=1, description="Env var holding the private-app access token."
    )
    base_url: str = Field(default=DEFAULT_BASE_URL, description="HubSpot's API root (a test server in tests).")
    handle_properties: dict[str, str] = Field(
        default_factory=lambda: {"x": "twitterhandle"},
        description="Contact property holding the author's handle, per platform (searched when no email matches).",
    )
    record: Literal["none", "deal", "lead"] = Field(
        default="none", description="Besides the note, create or update a deal or a HubSpot lead per mention."
    )
    deal_pipeline: str = Field(default="default", description="Pipeline of created deals.")
    deal_stage: str = Field(default="appointmentscheduled", description="Stage of created deals.")
    requests_per_second: float = Field(default=10, gt=0, le=100, description="HubSpot allows private apps 10/s.")
    max_wait_s: float = Field(default=2.0, ge=0, le=60, description="Longest Retry-After waited out in an attempt.")
    retries_on_429: int = Field(default=2, ge=0, le=10)
    daily_limit: int | None = Field(
        default=None, ge=1, description="Requests this process may make a UTC day (your portal's daily limit)."
    )
    timeout_s: float = Field(default=10.0, gt=0, le=300, description="Seconds to connect, and for each read.")


class Pacer:
    """At most `per_second` requests in any one-second window, across the threads of one process; and a count
    of requests per UTC day for `daily_limit`."""

    def __init__(
        self,
        per_second: float,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        today: Callable[[], str] = lambda: datetime.now(UTC).date().isoformat(),
    ) -> None:
        self.per_second, self.clock, self.sleep, self.today = per_second, clock, sleep, today
        self._sent: deque[float] = deque()
        self._lock = threading.Lock()
        self._day = ""
        self.sent_today = 0

    def take(self, daily_limit: int | None) -> None:
        """Wait for a slot; raise `CrmFailure` when today's `daily_limit` is spent."""
        while True:
            with self._lock:
                if self.today() != self._day:
                    self._day, self.sent_today = self.today(), 0
                if daily_limit is not None and self.sent_today >= daily_limit:
                    raise CrmFailure(
                        f"daily limit reached: {self.sent_today} of the {daily_limit} requests a day allowed "
                        "(crm.hubspot.daily_limit) were made today; sends resume when the UTC day ends",
                        retry_after=_until_tomorrow(),
                    )
                now = self.clock()
                window = max(int(self.per_second), 1)
                while self._sent and now - self._sent[0] >= 1.0:
                    self._sent.popleft()
                if len(self._sent) < window:
                    self._sent.append(now)
                    self.sent_today += 1
                    return
                wait = 1.0 - (now - self._sent[0])
            self.sleep(max(wait, 0.001))


_PACERS: dict[tuple[str, float], Pacer] = {}
_PACERS_LOCK = threading.Lock()


def pacer_for(base_url: str, per_second: float) -> Pacer:
    """This process's pacer for one HubSpot account endpoint (kept across sends, as HubSpot counts them)."""
    with _PACERS_LOCK:
        return _PACERS.setdefault((base_url, per_second), Pacer(per_second))


def _until_tomorrow(now: datetime | None = None) -> timedelta:
    now = now or datetime.now(UTC)
    tomorrow = (now + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return tomorrow - now


def _retry_after(response: httpx.Response) -> timedelta | None:
    value = response.headers.get("retry-after")
    if value is None:
        return None
    try:
        return timedelta(seconds=max(float(value), 0.0))
    except ValueError:
        return None


class HubSpotGateway:
    """`CrmGateway` over HubSpot's CRM API with one private-app token."""

    system = "hubspot"

    def __init__(
        self,
        client: httpx.Client,
        settings: HubSpotSettings,
        token: str,
        pacer: Pacer | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.client, self.settings, self.token = client, settings, token
        self.pacer = pacer or pacer_for(settings.base_url, settings.requests_per_second)
        self.sleep = sleep
        self.requests = 0

    # ---- HTTP -------------------------------------------------------------------------------------------

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        url = self.settings.base_url.rstrip("/") + path
        headers = {"authorization": f"Bearer {self.token}", "accept": "application/json"}
        for attempt in range(self.settings.retries_on_429 + 1):
            self.pacer.take(self.settings.daily_limit)
            self.requests += 1
            try:
                response = self.client.request(method, url, json=body, headers=headers, timeout=self.settings.timeout_s)
            except httpx.TimeoutException:
                raise CrmFailure(
                    f"no answer from {url} within {self.settings.timeout_s:g}s (or within the send's deadline)"
                ) from None
            except httpx.HTTPError as error:
                raise CrmFailure(f"{type(error).__name__}: {error}") from None
            if response.is_success:
                if response.status_code == 204 or not response.content:
                    return {}
                try:
                    return response.json()
                except ValueError:
                    raise CrmFailure(f"HTTP {response.status_code} with a body that is not JSON") from None
            self._refuse(response, attempt)
        raise AssertionError("unreachable: the last 429 raises")  # pragma: no cover

    def _refuse(self, response: httpx.Response, attempt: int) -> None:
        """Raise the failure `response` means, or return (after waiting) when a short 429 may be tried again."""
        try:
            document = response.json()
        except ValueError:
            document = None
        status = response.status_code
        reason = mapper.error_reason(status, document, response.text)
        policy = str(document.get("policyName", "")) if isinstance(document, dict) else ""
        if status == 429:
            daily = "DAILY" in policy.upper() or response.headers.get("x-hubspot-ratelimit-daily-remaining") == "0"
            if daily:
                raise CrmFailure(
                    f"daily limit reached ({reason}); sends resume when HubSpot's day ends",
                    status_code=status,
                    retry_after=_until_tomorrow(),
                )
            wait = _retry_after(response) or timedelta(seconds=1)
            if attempt < self.settings.retries_on_429 and wait.total_seconds() <= self.settings.max_wait_s:
                self.sleep(wait.total_seconds())
                return
            raise CrmFailure(f"rate limited ({reason})", status_code=status, retry_after=wait)
        if status == 401:
            raise CrmFailure(
                f"HubSpot refused the private-app token ({reason}); check the token in "
                f"${self.settings.token_env} and that the app is installed",
                status_code=status,
            )
        if status == 403:
            raise CrmFailure(
                f"the private app lacks a scope this needs ({reason}); give it crm.objects.contacts.write, "
                "crm.objects.companies.write (and deals for deals)",
                status_code=status,
            )
        raise CrmFailure(reason, status_code=status, retry_after=_retry_after(response), permanent=400 <= status < 429)

    # ---- CrmGateway -------------------------------------------------------------------------------------

    def find_contact(self, person: CrmPerson) -> CrmObject | None:
        for email in person.emails:
            found = mapper.first_result(
                self._call(
                    "POST",
                    "/crm/v3/objects/contacts/search",
                    mapper.search_body("email", email, mapper.CONTACT_READ_BACK),
                )
            )
            if found is not None:
                return found
        prop = self.settings.handle_properties.get(person.platform)
        if prop:
            return mapper.first_result(
                self._call(
                    "POST",
                    "/crm/v3/objects/contacts/search",
                    mapper.search_body(prop, person.handle, mapper.CONTACT_READ_BACK),
                )
            )
        return None

    def create_contact(self, person: CrmPerson, organisation: CrmOrganisation | None) -> CrmObject:
        prop = self.settings.handle_properties.get(person.platform)
        if not person.emails and not prop:
            # A contact HubSpot cannot find again would be created anew for every mention of this author.
            raise CrmFailure(
                f"cannot find or create a contact for @{person.handle} on {person.platform}: no email is shared and "
                f"no contact property holds {person.platform} handles (set crm.hubspot.handle_properties."
                f"{person.platform} to one)",
                permanent=True,
            )
        body = {"properties": mapper.contact_properties(person, organisation, prop)}
        return mapper.as_object(self._call("POST", "/crm/v3/objects/contacts", body))

    def find_company(self, organisation: CrmOrganisation) -> CrmObject | None:
        if organisation.domain:
            found = mapper.first_result(
                self._call(
                    "POST",
                    "/crm/v3/objects/companies/search",
                    mapper.search_body("domain", organisation.domain, ("name", "domain")),
                )
            )
            if found is not None:
                return found
        return mapper.first_result(
            self._call(
                "POST",
                "/crm/v3/objects/companies/search",
                mapper.search_body("name", organisation.name, ("name", "domain")),
            )
        )

    def create_company(self, organisation: CrmOrganisation) -> CrmObject:
        body = {"properties": mapper.company_properties(organisation)}
        return mapper.as_object(self._call("POST", "/crm/v3/objects/companies", body))

    def associate_contact_company(self, contact_id: str, company_id: str) -> None:
        # v4 "default" association: idempotent, so a retry that repeats it changes nothing.
        self._call("PUT", f"/crm/v4/objects/contacts/{contact_id}/associations/default/companies/{company_id}")

    def find_note(self, lead: CrmLead) -> CrmObject | None:
        return mapper.first_result(
            self._call(
                "POST",
                "/crm/v3/objects/notes/search",
                mapper.search_body("hs_note_body", lead.key, ("hs_note_body",), operator="CONTAINS_TOKEN"),
            )
        )

    def create_note(self, lead: CrmLead, contact_id: str, company_id: str | None) -> CrmObject:
        return mapper.as_object(
            self._call("POST", "/crm/v3/objects/notes", mapper.note_body(lead, contact_id, company_id))
        )

    def record_kind(self) -> ObjectKind | None:
        return None if self.settings.record == "none" else self.settings.record

    def _record_path(self) -> str:
        return "/crm/v3/objects/deals" if self.settings.record == "deal" else "/crm/v3/objects/leads"

    def find_record(self, lead: CrmLead) -> CrmObject | None:
        prop = "dealname" if self.settings.record == "deal" else "hs_lead_name"
        return mapper.first_result(
            self._call("POST", self._record_path() + "/search", mapper.search_body(prop, lead.title))
        )

    def create_record(self, lead: CrmLead, contact_id: str, company_id: str | None) -> CrmObject:
        if self.settings.record == "deal":
            body = mapper.deal_body(lead, contact_id, company_id, self.settings.deal_pipeline, self.settings.deal_stage)
        else:
            body = mapper.lead_record_body(lead, contact_id)
        return mapper.as_object(self._call("POST", self._record_path(), body))

    def update_record(self, record_id: str, lead: CrmLead) -> CrmObject:
        prop = "dealname" if self.settings.record == "deal" else "hs_lead_name"
        return mapper.as_object(
            self._call("PATCH", f"{self._record_path()}/{record_id}", {"properties": {prop: lead.title}})
        )

    def contact_state(self, contact: CrmObject) -> dict[str, str | None]:
        return {
            "owner_id": contact.properties.get("hubspot_owner_id") or None,
            "lifecycle_stage": contact.properties.get("lifecyclestage") or None,
        }
