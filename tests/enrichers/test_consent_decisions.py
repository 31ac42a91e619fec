"""Enrichment for 'social_enrichment' needs a recorded, current basis; refusals are values with reasons."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from enrichers.consent import ConsentStatus, decide
from enrichers.model import ENRICHMENT_PURPOSE, Consent, LawfulBasis

AT = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


def record(basis=LawfulBasis.consent, granted="2026-01-01", withdrawn=None, due=None, purpose=ENRICHMENT_PURPOSE):
    def t(value):
        return datetime.fromisoformat(value).replace(tzinfo=UTC) if value else None

    return Consent(
        contact_id="c-1",
        purpose=purpose,
        basis=basis,
        source="signup_form" if basis is LawfulBasis.consent else "dpo:anna",
        granted_at=t(granted),
        withdrawn_at=t(withdrawn),
        review_due=t(due),
    )


def test_nothing_recorded_means_not_allowed_with_the_reason():
    decision = decide([], AT, contact_id="c-1")

    assert not decision.allowed
    assert decision.status is ConsentStatus.missing
    assert "no consent or other lawful basis" in decision.reason and "c-1" in decision.reason


def test_recorded_consent_allows_and_names_its_source():
    decision = decide([record(due="2027-01-01")], AT)

    assert decision.allowed
    assert decision.basis is LawfulBasis.consent
    assert decision.basis_label == "consent (signup_form)"
    assert "review due 2027-01-01" in decision.reason


def test_legitimate_interest_recorded_by_the_operator_allows():
    decision = decide([record(LawfulBasis.legitimate_interest, due="2027-06-01")], AT)

    assert decision.allowed and decision.basis is LawfulBasis.legitimate_interest


def test_withdrawn_consent_refuses_from_the_moment_of_withdrawal():
    records = [record(withdrawn="2026-10-01")]

    assert decide(records, datetime(2026, 9, 30, tzinfo=UTC)).allowed
    decision = decide(records, AT)
    assert decision.status is ConsentStatus.withdrawn
    assert "2026-10-01" in decision.reason


def test_withdrawal_also_blocks_a_legitimate_interest_recorded_before_it():
    records = [record(LawfulBasis.legitimate_interest, granted="2025-06-01"), record(withdrawn="2026-10-01")]

    assert decide(records, AT).status is ConsentStatus.withdrawn


def test_fresh_consent_after_a_withdrawal_allows_again():
    records = [record(withdrawn="2026-03-01"), record(granted="2026-05-01")]

    decision = decide(records, AT)

    assert decision.allowed
    assert decision.basis is LawfulBasis.consent


def test_basis_past_its_review_date_has_lapsed():
    decision = decide([record(LawfulBasis.contract, granted="2024-10-20", due="2026-11-01")], AT)

    assert decision.status is ConsentStatus.lapsed
    assert "due for review on 2026-11-01" in decision.reason


def test_consent_for_another_purpose_does_not_count():
    decision = decide([record(purpose="newsletter")], AT)

    assert decision.status is ConsentStatus.missing


def test_consent_granted_in_the_future_does_not_count_yet():
    decision = decide([record(granted="2027-01-01")], AT)

    assert decision.status is ConsentStatus.not_yet_granted


_days = st.integers(min_value=-800, max_value=400).map(lambda d: AT + timedelta(days=d))


@st.composite
def _records(draw):
    granted = draw(_days)
    withdrawn = draw(st.none() | st.integers(0, 600).map(lambda d: granted + timedelta(days=d)))
    due = draw(st.none() | st.integers(1, 900).map(lambda d: granted + timedelta(days=d)))
    return Consent(
        contact_id="c-1",
        basis=draw(st.sampled_from(LawfulBasis)),
        source="s",
        granted_at=granted,
        withdrawn_at=withdrawn,
        review_due=due,
    )


@given(st.lists(_records(), max_size=4), _records())
def test_adding_a_record_that_is_withdrawn_by_now_never_turns_a_refusal_into_an_allowance(records, extra):
    if extra.withdrawn_at is None or extra.withdrawn_at > AT:
        extra = extra.model_copy(update={"withdrawn_at": min(max(extra.granted_at, AT - timedelta(days=1)), AT)})
    if decide([*records, extra], AT).allowed:
        assert decide(records, AT).allowed
