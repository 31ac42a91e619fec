"""Linking a mention's author to a contact and a company happens on evidence only."""

from __future__ import annotations

import pytest

from enrichers.linking import (
    CONFIDENCE_CONFIRMED_HANDLE,
    CONFIDENCE_IMPORTED_HANDLE,
    CONFIDENCE_PROFILE_DOMAIN,
    CompanyIndex,
    confirm,
    confirm_identity,
    link_author,
    normalise_handle,
    unlink_identity,
)
from enrichers.model import Company, Contact, Identity


def test_known_x_handle_links_the_author_whatever_the_case(mentions, directory):
    resolution = link_author(mentions["jane_complains_on_x"], directory)

    assert resolution.link is not None
    assert resolution.link.contact_id == "c-jane"
    assert resolution.link.confidence == CONFIDENCE_IMPORTED_HANDLE
    assert "handle x:jane_doe (crm_import)" in resolution.link.evidence
    assert resolution.contact is not None and resolution.contact.id == "c-jane"


def test_company_link_prefers_the_membership_whose_domain_the_contact_email_is_at(mentions, directory):
    # Jane is a member of Initech (listed first) and Acme; her email is at acme.com.
    link = link_author(mentions["jane_complains_on_x"], directory).link

    assert link is not None
    assert link.company_id == "co-acme"
    assert "email domain acme.com owned by company co-acme" in link.evidence


def test_bare_mastodon_handle_takes_its_instance_from_the_profile_link(mentions, directory):
    link = link_author(mentions["jane_asks_on_mastodon_local_handle"], directory).link

    assert link is not None and link.contact_id == "c-jane"
    assert link.confidence == CONFIDENCE_CONFIRMED_HANDLE  # that identity was confirmed by a person
    assert "mastodon:jane@mastodon.social (verified_profile_link)" in link.evidence


def test_same_user_name_on_another_mastodon_instance_is_a_different_person(mentions, directory):
    resolution = link_author(mentions["jane_on_other_instance"], directory)

    assert resolution.link is None
    assert "jane@fosstodon.org" in resolution.reason


def test_bare_mastodon_handle_without_profile_link_is_not_matched(mentions, directory):
    mention = mentions["jane_asks_on_mastodon_local_handle"]
    mention = mention.model_copy(update={"author": mention.author.model_copy(update={"profile_url": None})})

    resolution = link_author(mention, directory)

    assert resolution.link is None
    assert "has no instance" in resolution.reason
    assert directory.lookups == []  # not even asked


def test_same_display_name_with_another_handle_is_never_linked_to_the_person(mentions, directory):
    mention = mentions["same_name_other_handle"]
    assert mention.author.name == "Jane Doe"  # exactly the contact's name

    resolution = link_author(mention, directory)

    assert resolution.link is None
    assert resolution.contact is None
    assert "no contact holds x:jane_d0e_fan" in resolution.reason


def test_handle_known_on_x_does_not_link_the_same_handle_on_reddit(mentions, directory):
    assert link_author(mentions["jane_handle_on_reddit"], directory).link is None


def test_blog_author_links_only_to_the_company_that_owns_the_profile_domain(mentions, directory):
    resolution = link_author(mentions["acme_blog_author"], directory)

    assert resolution.link is not None
    assert resolution.link.contact_id is None
    assert resolution.link.company_id == "co-acme"
    assert resolution.link.confidence == CONFIDENCE_PROFILE_DOMAIN
    assert "profile link domain acme.com" in resolution.link.evidence


def test_contact_returned_without_that_identity_is_refused(mentions):
    stranger = Contact(id="c-x", identities=(Identity(platform="x", handle="someone_else"),))

    class SloppyDirectory:
        def contact_by_handle(self, platform, handle):
            return stranger

        def contacts_by_email_domain(self, domain):
            return []

        def company_by_domain(self, domain):
            return None

        def consents_for(self, contact_id):
            return []

    resolution = link_author(mentions["jane_complains_on_x"], SloppyDirectory())

    assert resolution.link is None
    assert "holds no identity x:jane_doe" in resolution.reason


@pytest.mark.parametrize(
    ("platform", "handle", "expected"),
    [
        ("x", "@Jane_Doe", "jane_doe"),
        ("mastodon", "@Jane@Mastodon.Social", "jane@mastodon.social"),
        ("mastodon", " jane@mastodon.social ", "jane@mastodon.social"),
        ("reddit", "u/JaneD", "janed"),
        ("reddit", "/u/JaneD", "janed"),
        ("bluesky", "@Anna.bsky.social", "anna.bsky.social"),
    ],
)
def test_handles_compare_in_their_normal_form(platform, handle, expected):
    assert normalise_handle(platform, handle) == expected


def test_company_names_aliases_and_domains_are_found_as_whole_words(companies):
    index = CompanyIndex(companies, aliases={"co-brightwave": ["BW Lighting"]})

    def found(text: str) -> list[str]:
        return [m.company.id for m in index.find(text)]

    assert found("Lumora or Brightwave? Need a quote") == ["co-brightwave"]
    assert found("switched from bw lighting last year") == ["co-brightwave"]
    assert found("see https://brightwavelighting.com/pricing") == ["co-brightwave"]
    assert found("Brightwaves of nostalgia") == []
    assert found("mail me at ops@acme.com.") == ["co-acme"]
    assert found("acme.com.evil.example is not acme") == []


def test_company_found_in_title_or_text_is_reported_once_with_the_words_that_named_it():
    index = CompanyIndex([Company(id="co-1", name="Nimbus Home", domain="nimbushome.co")])

    found = index.find("Nimbus Home vs Lumora", "I left nimbushome.co for good; Nimbus Home support was slow")

    assert [(m.company.id, m.matched) for m in found] == [("co-1", "Nimbus Home")]


def test_a_person_confirming_an_identity_makes_later_links_certain_and_says_who(mentions, directory):
    jane = directory.contacts["c-jane"]
    directory.contacts["c-jane"] = confirm_identity(jane, "x", "@JANE_DOE", by="ana")

    link = link_author(mentions["jane_complains_on_x"], directory).link

    assert link is not None and link.confidence == CONFIDENCE_CONFIRMED_HANDLE
    assert "handle x:jane_doe (confirmed_by:ana)" in link.evidence
    assert len([i for i in directory.contacts["c-jane"].identities if i.platform == "x"]) == 1
    assert confirm(link, by="ana").confirmed_by == "ana" and confirm(link, by="ana").confidence == 1.0


def test_a_person_unlinking_an_identity_stops_later_links(mentions, directory):
    directory.contacts["c-jane"] = unlink_identity(directory.contacts["c-jane"], "x", "jane_doe")

    assert link_author(mentions["jane_complains_on_x"], directory).link is None
    assert [i.platform for i in directory.contacts["c-jane"].identities] == ["mastodon"]
