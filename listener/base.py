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


class SourceError(Exception):
    """A sweep could not go on: the source is down, rate-limited for long, refused us, or sent a page we cannot
    read. Pages yielded before it are valid; the cursor stays where the last stored page left it. The shell
    records `reason` on the source's status and goes on with the other sources.
    """

    def __init__(self, source: str, reason: str, *, retry_after_s: float | None = None) -> None:
        super().__init__(f"{source}: {reason}")
        self.source = source
        self.reason = reason
        self.retry_after_s = retry_after_s


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
