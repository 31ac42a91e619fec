"""CRM import/export: per-row errors naming row and column, whole contacts only, and lossless round trips."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from enrichers.crm_io import (
    export_companies_csv,
    export_csv,
    export_hubspot,
    import_companies_csv,
    import_csv,
    import_hubspot,
    spreadsheet_cell,
)
from enrichers.model import CompanyClass, Identity, LawfulBasis, Membership

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="module")
def known_companies():
    result = import_companies_csv(DATA / "companies.csv")
    assert result.ok, result.errors
    return result.companies


@pytest.fixture(scope="module")
def imported(known_companies):
    return import_csv(DATA / "contacts.csv", known_companies)


def _contact(result, contact_id):
    return next(c for c in result.contacts if c.id == contact_id)


def test_rows_sharing_a_contact_id_merge_into_one_contact_with_several_memberships(imported):
    assert imported.ok, imported.errors
    jane = _contact(imported, "c-jane")

    assert jane.memberships == (
        Membership(company_id="co-acme", role="CTO"),
        Membership(company_id="co-initech", role="Advisor"),
    )
    assert jane.emails == ("jane@acme.com", "jane.doe@initech.io")
    assert set(jane.identities) == {
        Identity(platform="x", handle="jane_doe"),
        Identity(platform="mastodon", handle="jane@mastodon.social"),
        Identity(platform="reddit", handle="janed"),
    }
    assert [c.id for c in imported.contacts].count("c-jane") == 1


def test_company_domains_resolve_to_known_companies_and_unknown_domains_become_companies(imported):
    ids = {c.id: c for c in imported.companies}

    assert ids["co-acme"].name == "Acme Hotels"
    assert ids["fjord.example"].domain == "fjord.example"
    assert _contact(imported, "c-new").memberships == (Membership(company_id="fjord.example", role="Buyer"),)


def test_a_role_held_at_no_company_is_kept_on_the_contact(imported):
    mei = _contact(imported, "c-mei")

    assert mei.role == "Tech reviewer" and mei.memberships == ()


def test_consent_columns_become_consent_records_with_source_and_review_date(imported):
    by_contact = {c.contact_id: c for c in imported.consents}

    assert by_contact["c-jane"].basis is LawfulBasis.consent
    assert by_contact["c-jane"].review_due == datetime(2027, 1, 10, tzinfo=UTC)
    assert by_contact["c-mei"].basis is LawfulBasis.legitimate_interest and by_contact["c-mei"].source == "dpo:anna"
    assert by_contact["c-emma"].withdrawn_at == datetime(2026, 10, 1, 7, 45, tzinfo=UTC)
    assert "c-new" not in by_contact


@pytest.fixture(scope="module")
def broken(known_companies):
    return import_csv(DATA / "contacts_broken.csv", known_companies)


def test_broken_rows_are_reported_by_row_and_column_and_valid_rows_still_import(broken):
    assert [c.id for c in broken.contacts] == ["c-ok"]
    reported = {(e.row, e.column) for e in broken.errors}
    assert {
        (3, "email"),
        (6, "contact_id"),
        (9, "consent_basis"),
        (9, "consent_source"),
        (9, "consent_granted_at"),
        (10, "consent_withdrawn_at"),
        (13, None),
    } <= reported
    assert "row 3, column email: 'not-an-email' is not an email address" in map(str, broken.errors)


def test_a_contact_with_one_bad_row_is_not_imported_at_all(broken):
    messages = [str(e) for e in broken.errors if e.contact_id == "c-split"]

    assert messages == [
        "row 4: contact c-split not imported: row(s) 5 have errors",
        "row 5, column mastodon_handle: 'jane': write Mastodon handles as user@instance, e.g. jane@mastodon.social",
    ]
    assert not any(c.contact_id == "c-split" for c in broken.consents)


def test_a_handle_claimed_by_two_contacts_rejects_both_and_names_the_other(broken):
    claims = [str(e) for e in broken.errors if e.contact_id in {"c-claim1", "c-claim2"}]

    assert claims == [
        "row 7, column x_handle: x handle 'same_handle' is also claimed by contact c-claim2 (row 8)",
        "row 8, column x_handle: x handle 'same_handle' is also claimed by contact c-claim1 (row 7)",
    ]


def test_rows_of_one_contact_that_disagree_on_the_name_are_reported(broken):
    assert "row 12, column name: 'Name Two' disagrees with 'Name One' on row 11 for contact c-names" in map(
        str, broken.errors
    )


def test_a_header_with_an_unknown_column_imports_nothing():
    text = "contact_id,name,x_handel\nc-1,Ann,ann\n"

    result = import_csv(text)

    assert result.contacts == ()
    assert [str(e) for e in result.errors] == [
        "row 1, column x_handel: unknown column (expected some of: contact_id, name, email, company_domain, role, "
        "segment, preferred_channel, x_handle, mastodon_handle, reddit_handle, bluesky_handle, consent_basis, "
        "consent_source, consent_granted_at, consent_withdrawn_at, consent_review_due, company_name)"
    ]


def test_row_numbers_follow_the_file_even_with_multi_line_cells():
    text = 'contact_id,name,email\nc-1,"Ann\nMarie",ann@example.com\nc-2,Bo,not-mail\n'

    result = import_csv(text)

    assert [str(e) for e in result.errors] == ["row 4, column email: 'not-mail' is not an email address"]
    assert _contact(result, "c-1").name == "Ann\nMarie"


def test_csv_export_reads_back_to_the_same_contacts_companies_and_consents(imported, known_companies):
    text = export_csv(imported.contacts, imported.companies, imported.consents)

    again = import_csv(text, known_companies)

    assert again.ok, again.errors
    assert again.contacts == imported.contacts
    assert again.consents == imported.consents
    assert {c.id for c in again.companies} == {c.id for c in imported.companies}


def test_companies_csv_round_trips_and_a_reused_domain_rejects_both_rows(known_companies):
    assert import_companies_csv(export_companies_csv(known_companies)).companies == known_companies
    assert known_companies[1].classification is CompanyClass.competitor

    text = "company_id,name,domain,classification\nco-1,One,one.example,customer\nco-2,Two,one.example,boss\n"
    result = import_companies_csv(text)

    assert result.companies == ()
    assert [str(e) for e in result.errors] == [
        "row 2, column domain: 'one.example' is also used on row 3",
        "row 3, column classification: 'boss' is not one of customer, prospect, partner, competitor, other",
        "row 3, column domain: 'one.example' is also used on row 2",
    ]


@pytest.fixture(scope="module")
def hubspot():
    return import_hubspot(json.loads((DATA / "hubspot_contacts.json").read_text()))


def test_hubspot_properties_map_to_contacts_companies_and_lawful_bases(hubspot):
    priya = _contact(hubspot, "hubspot-501")

    assert priya.name == "Priya Raman" and priya.external_ref == "501"
    assert priya.emails == ("priya.raman@kestrelcowork.com", "priya@raman.example")
    assert priya.identities == (Identity(platform="x", handle="priya_r_ops"),)
    assert priya.memberships == (Membership(company_id="kestrelcowork.com", role="Head of Workplace"),)
    assert priya.segment == "opportunity"
    consents = {c.contact_id: c for c in hubspot.consents}
    assert consents["hubspot-501"].basis is LawfulBasis.legitimate_interest
    assert consents["hubspot-501"].granted_at == datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
    assert consents["hubspot-502"].basis is LawfulBasis.consent  # the person's own consent wins
    assert consents["hubspot-502"].granted_at == datetime(2025, 11, 14, 18, 22, tzinfo=UTC)
    assert "hubspot-504" not in consents  # 'Not applicable' records no basis


def test_hubspot_bad_records_are_reported_by_number_and_property(hubspot):
    assert [str(e) for e in hubspot.errors] == [
        "row 3, column email: 'broken@@example' is not an email address",
        "row 3, column hs_legal_basis: 'Because we can' is not a HubSpot legal basis we know",
        "row 3, column jobtitle: a job title needs the company (or website) it is held at",
        "row 5: is not an object with properties",
    ]
    assert "hubspot-503" not in {c.id for c in hubspot.contacts}


def test_hubspot_export_reads_back_with_our_contact_ids(imported, known_companies):
    exported = export_hubspot(imported.contacts, imported.companies, imported.consents)

    again = import_hubspot(json.loads(json.dumps(exported)), known_companies)

    assert again.ok, again.errors
    assert [c.id for c in again.contacts] == [c.id for c in imported.contacts]
    mei = _contact(again, "c-mei")
    assert mei.role == "Tech reviewer" and mei.identities == _contact(imported, "c-mei").identities
    jane = _contact(again, "c-jane")
    assert jane.memberships == (Membership(company_id="co-acme", role="CTO"),)  # HubSpot holds one company
    assert {(c.contact_id, c.basis, c.withdrawn_at) for c in again.consents} == {
        (c.contact_id, c.basis, c.withdrawn_at) for c in imported.consents
    }


def test_a_handle_another_stored_contact_holds_rejects_the_row_naming_the_owner(known_companies):
    owners = {("x", "jane_doe"): "c-stored", ("x", "meitanaka_tech"): "c-mei"}  # c-mei re-imports its own

    result = import_csv(DATA / "contacts.csv", known_companies, owners)

    assert [str(e) for e in result.errors if e.contact_id == "c-jane" and e.column] == [
        "row 2, column x_handle: x handle 'jane_doe' already belongs to contact c-stored in the database; "
        "remove it there first if it changed hands"
    ]
    assert {c.id for c in result.contacts} == {c.id for c in import_csv(DATA / "contacts.csv").contacts} - {"c-jane"}


HOSTILE = ['=HYPERLINK("http://evil.example","click")', "+cmd|' /C calc'!A0", "-2+3", "@SUM(1+1)", "\tTab"]


def test_csv_exports_write_no_cell_a_spreadsheet_would_evaluate_and_read_back_the_same():
    from enrichers.model import Company, Contact

    contacts = [
        Contact(id=f"c-{i}", name=text, role=text, emails=(), identities=(), memberships=())
        for i, text in enumerate(HOSTILE)
    ]
    companies = [Company(id="co-x", name='=IMPORTXML("http://evil.example")', domain="x.example")]

    for exported in (export_csv(contacts, [], []), export_companies_csv(companies)):
        for row in csv.reader(io.StringIO(exported, newline="")):
            for cell in row:
                assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), cell
    again = import_csv(export_csv(contacts, [], []))
    assert again.ok, again.errors
    assert [(c.name, c.role) for c in again.contacts] == [(c.name, c.role) for c in contacts]
    assert import_companies_csv(export_companies_csv(companies)).companies == tuple(companies)


def test_numbers_are_not_escaped():
    assert spreadsheet_cell(-3) == -3 and spreadsheet_cell("-12.5%") == "-12.5%" and spreadsheet_cell("+4") == "+4"
    assert spreadsheet_cell("-x") == "'-x" and spreadsheet_cell("\rCR") == "'\rCR"
