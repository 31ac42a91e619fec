"""Request models of the API. Every one forbids unknown fields, so a typo is an error and not a no-op."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints

from classifiers.verdict import Intent, Sentiment
from enrichers.model import ENRICHMENT_PURPOSE, LawfulBasis

# PostgreSQL cannot store NUL characters; refusing them here keeps them from ever reaching it.
_NO_NUL = r"^[^\x00]*$"


_ISO_DATE = re.compile(r"\d{4}-\d\d-\d\d[T ]")


def _iso_only(value: object) -> object:
    # Pydantic alone would read a number as seconds since 1970: '0.49' would be a date, which the schema
    # ('format: date-time') says it is not, and which no caller means.
    if not isinstance(value, datetime) and not (isinstance(value, str) and _ISO_DATE.match(value)):
        raise ValueError("expected an ISO 8601 date-time with a time zone, e.g. 2026-11-12T09:30:00Z")
    return value


Instant = Annotated[AwareDatetime, BeforeValidator(_iso_only)]
"""A point in time as the API takes it: ISO 8601 with a time zone, never a bare number."""


def text(max_length: int, min_length: int = 0) -> StringConstraints:
    """The constraints on free text the API takes, for `Annotated[str, text(...)]`: bounded and free of NUL."""
    return StringConstraints(pattern=_NO_NUL, min_length=min_length, max_length=max_length)


_STRICT = ConfigDict(extra="forbid")

MAX_CONTACT_ID_CHARS = 64
MAX_STAFF_NAME_CHARS = 128
MAX_SEARCH_CHARS = 200
MAX_SNOOZE_HOURS = 720
"""The limits of what the API takes; the web pages' forms hold to the same ones."""

ContactId = Annotated[str, text(MAX_CONTACT_ID_CHARS, 1)]
StaffName = Annotated[str, text(MAX_STAFF_NAME_CHARS, 1)]
SearchText = Annotated[str, text(MAX_SEARCH_CHARS)]
Purpose = Annotated[str, text(64, 1)]
ConsentSource = Annotated[str, text(256, 1)]
MAX_ROW_ID = 2**31 - 1


class AssignIn(BaseModel):
    model_config = _STRICT

    assignee: StaffName = Field(description="Who handles the mention (a staff name).")


class SnoozeIn(BaseModel):
    model_config = _STRICT

    hours: int = Field(
        ge=1, le=MAX_SNOOZE_HOURS, description="Hide the mention from the open inbox for this many hours."
    )


class RelabelIn(BaseModel):
    """A person's correction of the model; kept on the mention and as training feedback."""

    model_config = _STRICT

    intent: Intent
    sentiment: Sentiment | None = None


class ConsentIn(BaseModel):
    """A consent or other lawful basis to record for a contact (withdraw by sending `withdrawn_at`)."""

    model_config = _STRICT

    purpose: Purpose = ENRICHMENT_PURPOSE
    basis: LawfulBasis
    source: ConsentSource = Field(description="Where it was recorded: 'signup_form', 'dpo:<name>'.")
    granted_at: Instant
    withdrawn_at: Instant | None = None
    review_due: Instant | None = None


class DryRunIn(BaseModel):
    """A routing rule to try on the most recent mentions, without routing anything."""

    model_config = _STRICT

    rule: dict[str, Any] = Field(
        description="One rule as in overheard.yaml `routing.rules`: {name, when: {...}, team, priority, respond_within}."
    )
    recent: int = Field(default=200, ge=1, le=1000, description="How many of the newest mentions to check.")


class EraseIn(BaseModel):
    model_config = _STRICT

    confirm: Literal[True] = Field(description="Erasure cannot be undone; send true to confirm.")


class AcceptLeadIn(BaseModel):
    model_config = _STRICT

    owner: StaffName | None = Field(default=None, description="Who works the lead; the caller when left out.")


class DismissLeadIn(BaseModel):
    model_config = _STRICT

    reason: Annotated[str, text(500, 1)] = Field(
        description="Why this is not a lead; kept as training feedback for the classifier."
    )


class SnoozeLeadIn(BaseModel):
    model_config = _STRICT

    until: Instant = Field(description="Hide the lead until then (in the future); it comes back as new.")


class TokenIn(BaseModel):
    model_config = _STRICT

    name: StaffName = Field(description="Who the token is for; the actor in the audit log. Unique.")
    role: Literal["admin", "service", "sales", "marketing", "privacy"] = Field(description="What the token may do.")
    days: int = Field(default=90, ge=0, le=3650, description="Days until it expires; 0: never (not advised).")
