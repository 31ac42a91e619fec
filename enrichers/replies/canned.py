"""Canned replies: a team's saved answers with {variables}, filled in for one customer before sending.

`'Hi {name}, your order {order_number} ships today.'` is filled from what is known about the mention (`variables_for`:
the author's name and handle, the platform) and what the teammate types (an order number). A variable left unfilled
is named, never sent as '{order_number}'.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from dataclasses import dataclass

from enrichers.model import Contact
from listener.mention import Mention


@dataclass(frozen=True)
class Filled:
    """The reply text, or (when `missing` is not empty) the template's variables nobody filled in."""

    text: str
    missing: tuple[str, ...] = ()

    @property
    def complete(self) -> bool:
        return not self.missing


class TemplateError(ValueError):
    """A canned reply that cannot be a template (a stray brace, '{0}', '{name.attr}'): the message says where."""


def variables_of(template: str) -> tuple[str, ...]:
    """The variables a template uses, in order of first use; raises TemplateError for a malformed one."""
    names: list[str] = []
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError as error:
        raise TemplateError(
            f"canned reply is not a valid template: {error} (write a literal brace as '{{{{' )"
        ) from None
    for _, field, spec, conversion in parsed:
        if field is None:
            continue
        if not field.isidentifier() or spec or conversion:
            raise TemplateError(
                f"'{{{field}}}' is not a variable: use a plain name such as {{name}} or {{order_number}}"
            )
        if field not in names:
            names.append(field)
    return tuple(names)


def fill(template: str, values: Mapping[str, str]) -> Filled:
    """The template with `values` put in; variables without a (non-empty) value are listed in `missing`."""
    names = variables_of(template)
    missing = tuple(n for n in names if not str(values.get(n, "")).strip())
    if missing:
        return Filled(template, missing)
    return Filled(template.format_map({n: str(values[n]).strip() for n in names}))


def variables_for(mention: Mention, contact: Contact | None = None) -> dict[str, str]:
    """What a reply can say about the customer: their name (the contact's, else their display name, else @handle),
    handle and platform. The teammate adds the rest (e.g. order_number)."""
    handle = f"@{mention.author.handle}"
    name = (contact.name if contact and contact.name else None) or mention.author.name or handle
    return {
        "name": name.split()[0] if " " in name.strip() else name,
        "full_name": name,
        "handle": handle,
        "platform": mention.source.value,
    }
