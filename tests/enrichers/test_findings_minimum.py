"""A finding is attached only when relevant and allowed, and keeps the minimum for a limited time."""

from __future__ import annotations

from datetime import timedelta

import pytest

from enrichers.consent import decide
from enrichers.findings import EXCERPT_MAX, build_finding, excerpt
from enrichers.linking import link_author

RETENTION = timedelta(days=180)


def _inputs(mentions, directory, name, now):
    mention = mentions[name]
    resolution = link_author(mention, directory)
    consent = decide(directory.consents_for(resolution.contact.id), now) if resolution.contact else None
    return mention, resolution.link, consent


def test_finding_keeps_only_the_link_the_verdict_and_a_short_excerpt(mentions, verdicts, directory, now):
    mention, link, consent = _inputs(mentions, directory, "jane_complains_on_x", now)

    outcome = build_finding(mention, verdicts["complaint"], link, consent, now, RETENTION)

    finding = outcome.finding
    assert finding is not None, outcome.reason
    assert (finding.contact_id, finding.source, finding.external_id) == ("c-jane", "x", "1001")
    assert (finding.intent, finding.sentiment, finding.confidence) == ("complaint", "negative", 0.88)
    assert finding.excerpt == mention.text
    assert finding.link_evidence == link.evidence and finding.link_confidence == link.confidence
    assert finding.basis == "consent (signup_form)"
    stored = finding.model_dump_json()
    assert "Jane D." not in stored  # the author's display name is not kept
    assert "followers" not in stored


def test_finding_expires_after_the_configured_retention(mentions, verdicts, directory, now):
    mention, link, consent = _inputs(mentions, directory, "jane_complains_on_x", now)

    finding = build_finding(mention, verdicts["complaint"], link, consent, now, timedelta(days=30)).finding

    assert finding is not None
    assert finding.created_at == now
    assert finding.expires_at == now + timedelta(days=30)


def test_long_text_is_cut_at_a_word_boundary_within_280_characters():
    text = "Lumora " + "really quite long complaint about the hub " * 20

    short = excerpt(text)

    assert len(short) <= EXCERPT_MAX
    assert short.endswith("…")
    assert short[:-1] == text[: len(short) - 1].rstrip() and text[len(short) - 1] == " "


@pytest.mark.parametrize(
    ("name", "verdict", "reason"),
    [
        ("jane_off_topic", "praise", "matched no brand, product or competitor query"),
        ("spam_with_query", "praise", "flagged spam"),
        ("jane_complains_on_x", None, "needs a verdict"),
        ("same_name_other_handle", "praise", "not linked to a contact"),
        ("emma_complains", "complaint", "withdrew"),
        ("greg_complains", "complaint", "due for review"),
        ("bob_complains", "complaint", "no consent or other lawful basis"),
    ],
)
def test_no_finding_is_attached_unless_relevant_classified_linked_and_allowed(
    mentions, verdicts, directory, now, name, verdict, reason
):
    mention, link, consent = _inputs(mentions, directory, name, now)

    outcome = build_finding(mention, verdicts[verdict] if verdict else None, link, consent, now, RETENTION)

    assert outcome.finding is None
    assert reason in outcome.reason


def test_a_query_that_is_not_about_our_brands_does_not_make_a_mention_relevant(mentions, verdicts, directory, now):
    mention, link, consent = _inputs(mentions, directory, "jane_complains_on_x", now)

    outcome = build_finding(mention, verdicts["complaint"], link, consent, now, RETENTION, relevant_queries={"jobs"})

    assert outcome.finding is None
    assert "not brand, product or competitor queries" in outcome.reason


def test_retention_must_be_positive(mentions, verdicts, directory, now):
    mention, link, consent = _inputs(mentions, directory, "jane_complains_on_x", now)

    with pytest.raises(ValueError, match="retention must be positive"):
        build_finding(mention, verdicts["complaint"], link, consent, now, timedelta(0))
