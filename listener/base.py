"""The one interface every source implements: a sweep that yields pages of mentions."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Protocol

from listener.mention import Mention


@dataclass(frozen=True)
class Rejected:
    """A raw item we could not turn into a Mention, kept with the reason (quarantine, never dropped)."""

    source: str
    reason: str
    payload: str


@dataclass(frozen=True)
class Page:
    """One page of a sweep.

    `next_cursor` is the position to save once *every* page of the sweep is stored; the caller saves
    the last page's value only after the whole sweep is stored, so a crash mid-sweep loses nothing.
    """

    mentions: list[Mention]
    rejected: list[Rejected] = field(default_factory=list)
    next_cursor: str | None = None


class Collector(Protocol):
    """A source of mentions for one configured query.

    `name` identifies the cursor: '<platform>:<query name>' is conventional.
    """

    name: str

    def sweep(self, cursor: str | None) -> Iterator[Page]:
        """Yield pages of mentions newer than `cursor` (None = first run)."""
        ...
