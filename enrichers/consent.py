"""Whether a contact's profile may be enriched, decided from the consent and lawful-basis records held.

Rules (GDPR Art. 6 and 7(3)):

- only records for the purpose asked about count (default 'social_enrichment');
- a record counts from `granted_at`, until `withdrawn_at`, and only until `review_due` (a basis not
  reviewed in time is treated as lapsed, not silently renewed);
- a withdrawal (or objection) in force blocks *every* basis granted before it, not just the record it
  is on: a person who said stop is not re-enriched under legitimate interest. A record granted after
  the withdrawal (fresh consent) allows again.

A refusal is a value (`ConsentStatus`) plus a sentence, never an exception: the mention is still
triaged and answered, only nothing is attached to the person's profile.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from enrichers.model import ENRICHMENT_PURPOSE, Consent, LawfulBasis


class ConsentStatus(StrEnum):
    allowed = "allowed"
    missing = "missing"  # nothing recorded for this purpose
    not_yet_granted = "not_yet_granted"  # recorded, but granted_at is in the future
    withdrawn = "withdrawn"
    lapsed = "lapsed"  # review_due passed without a review


class ConsentDecision(BaseModel):
    """Whether processing for `purpose` is allowed now, on which recorded basis, and why."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    status: ConsentStatus
    purpose: str
    basis: LawfulBasis | None = Field(default=None, description="The basis relied on, when allowed.")
    source: str | None = Field(default=None, description="Where that basis was recorded, when allowed.")
    reason: str = Field(description="The decision in words, for the audit trail and the contact 360° view.")

    @property
    def allowed(self) -> bool:
        return self.status is ConsentStatus.allowed

    @property
    def basis_label(self) -> str:
        """'consent (signup_form)' — what a Finding records as its basis."""
        return f"{self.basis.value if self.basis else 'none'} ({self.source or 'unknown source'})"


def decide(
    consents: Sequence[Consent], at: datetime, purpose: str = ENRICHMENT_PURPOSE, contact_id: str | None = None
) -> ConsentDecision:
    """Decide whether `purpose` is allowed at `at` from a contact's consent records."""
    who = f"contact {contact_id}" if contact_id else "the contact"
    for_purpose = [c for c in consents if c.purpose == purpose]
    if not for_purpose:
        return ConsentDecision(
            status=ConsentStatus.missing,
            purpose=purpose,
            reason=f"no consent or other lawful basis is recorded for {who} for '{purpose}'",
        )
    granted = [c for c in for_purpose if c.granted_at <= at]
    if not granted:
        first = min(c.granted_at for c in for_purpose)
        return ConsentDecision(
            status=ConsentStatus.not_yet_granted,
            purpose=purpose,
            reason=f"the basis recorded for {who} for '{purpose}' only starts on {first.isoformat()}",
        )

    withdrawals = [c.withdrawn_at for c in granted if c.withdrawn_at is not None and c.withdrawn_at <= at]
    last_withdrawal = max(withdrawals) if withdrawals else None
    usable = [
        c for c in granted if c.allows(purpose, at) and (last_withdrawal is None or c.granted_at > last_withdrawal)
    ]
    if usable:
        # Prefer the newest record; on a tie, the person's own consent over a basis the operator claims.
        chosen = max(usable, key=lambda c: (c.granted_at, c.basis is LawfulBasis.consent))
        return ConsentDecision(
            status=ConsentStatus.allowed,
            purpose=purpose,
            basis=chosen.basis,
            source=chosen.source,
            reason=f"{chosen.basis.value} recorded via {chosen.source} on {chosen.granted_at.isoformat()}"
            + (f", review due {chosen.review_due.isoformat()}" if chosen.review_due else ""),
        )
    if last_withdrawal is not None:
        return ConsentDecision(
            status=ConsentStatus.withdrawn,
            purpose=purpose,
            reason=f"{who} withdrew or objected to '{purpose}' on {last_withdrawal.isoformat()}",
        )
    last_due = max(c.review_due for c in granted if c.review_due is not None)
    return ConsentDecision(
        status=ConsentStatus.lapsed,
        purpose=purpose,
        reason=f"the basis recorded for {who} for '{purpose}' was due for review on {last_due.isoformat()} "
        "and has not been renewed",
    )
