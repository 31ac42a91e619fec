"""Canned replies: {variables} filled for one customer, and every unfilled one named instead of sent."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from enrichers.model import Contact
from enrichers.replies.canned import TemplateError, fill, variables_for, variables_of
from listener.mention import Author, Mention, Platform

TEMPLATE = "Hi {name}, sorry about order {order_number}. We'll update you here, {name}."


def a_post(name: str | None = "Grace O'Neill") -> Mention:
    return Mention(
        source=Platform.x,
        external_id="2120840960668971091",
        author=Author(handle="graceoneill_", name=name),
        text="charged twice",
        created_at=datetime(2026, 11, 20, tzinfo=UTC),
    )


def test_a_template_is_filled_from_the_mention_and_what_the_teammate_types() -> None:
    values = {**variables_for(a_post()), "order_number": " 448213 "}
    filled = fill(TEMPLATE, values)
    assert filled.complete
    assert filled.text == "Hi Grace, sorry about order 448213. We'll update you here, Grace."


def test_an_unfilled_variable_is_named_and_the_template_is_not_sent_half_done() -> None:
    filled = fill(TEMPLATE, variables_for(a_post()))
    assert not filled.complete and filled.missing == ("order_number",)
    assert filled.text == TEMPLATE


def test_the_contacts_name_wins_and_an_anonymous_author_is_greeted_by_handle() -> None:
    assert variables_for(a_post(), Contact(id="c1", name="Grace Ann O'Neill"))["full_name"] == "Grace Ann O'Neill"
    anonymous = variables_for(a_post(name=None))
    assert anonymous["name"] == "@graceoneill_" and anonymous["platform"] == "x"


@pytest.mark.parametrize(
    ("template", "problem"),
    [
        ("Hi {0}", "'{0}' is not a variable"),
        ("Hi {name.upper}", "'{name.upper}' is not a variable"),
        ("Hi {name!r}", "'{name}' is not a variable"),
        ("Hi {name", "not a valid template"),
    ],
)
def test_a_malformed_template_is_refused_with_what_is_wrong(template: str, problem: str) -> None:
    with pytest.raises(TemplateError, match=re.escape(problem)):
        variables_of(template)


def test_literal_braces_stay_and_are_no_variable() -> None:
    assert variables_of("Use {{braces}} for {name}") == ("name",)
    assert fill("Use {{braces}} for {name}", {"name": "Kim"}).text == "Use {braces} for Kim"
