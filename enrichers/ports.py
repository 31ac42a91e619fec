"""What enrichers need from the outside world, declared as Protocols; `storage` implements them."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from enrichers.model import Company, Consent, Contact, Delivery, Finding, Route


class ContactDirectory(Protocol):
    def contact_by_handle(self, platform: str, handle: str) -> Contact | None: ...

    def contacts_by_email_domain(self, domain: str) -> list[Contact]: ...

    def company_by_domain(self, domain: str) -> Company | None: ...

    def consents_for(self, contact_id: str) -> list[Consent]: ...


class FindingSink(Protocol):
    def attach(self, finding: Finding) -> None: ...


class Outbox(Protocol):
    """Writes a route and its deliveries in the caller's transaction (transactional outbox)."""

    def add(self, route: Route, deliveries: list[Delivery]) -> None: ...


class DeliveryQueue(Protocol):
    """The sending side of the outbox: deliveries that are due, and saving each one's new state."""

    def due(self, now: datetime, limit: int) -> list[Delivery]:
        """Pending or failed deliveries whose next_attempt_at <= now, oldest first."""
        ...

    def save(self, delivery: Delivery) -> None:
        """Store the delivery's new state (upsert on idempotency_key)."""
        ...
