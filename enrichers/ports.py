"""What enrichers need from the outside world, declared as Protocols; `storage` implements them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from enrichers.model import Company, Consent, Contact, Delivery


class ContactDirectory(Protocol):
    def contact_by_handle(self, platform: str, handle: str) -> Contact | None: ...

    def contacts_by_email_domain(self, domain: str) -> list[Contact]: ...

    def company_by_domain(self, domain: str) -> Company | None: ...

    def consents_for(self, contact_id: str) -> list[Consent]: ...


class DeliveryQueue(Protocol):
    """The sending side of the outbox: deliveries that are due, and saving each one's new state."""

    def claim(self, now: datetime, limit: int) -> list[Delivery]:
        """Pending or failed deliveries whose next_attempt_at <= now, oldest first, taken for this sender: no
        other sender gets them until their new state is saved (or the claim lapses, its sender having died)."""
        ...

    def save_many(self, deliveries: Sequence[Delivery]) -> None:
        """Store the deliveries' new states (by idempotency_key), together, and give back their claims."""
        ...
