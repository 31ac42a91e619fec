"""When a period may be compared with the one before it, and why not when it may not.

A change "+952%" against a previous period that collection barely covered says nothing about the brand: it
says when Overheard was switched on. So a comparison is offered only where the previous period has data: it
lies (almost) wholly after the first stored mention, and holds at least a few mentions. Otherwise the figures
say "no comparison" and why. Pure: the caller reads the first stored mention and the previous period's count.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

MIN_PREVIOUS_MENTIONS = 10
"""A previous period with fewer mentions than this is too thin to compare with (one mention more is +10%)."""
MIN_COVERAGE = 0.9
"""The share of the previous period that must lie after the first stored mention (collection covered it)."""


@dataclass(frozen=True)
class Comparison:
    """Whether [start, end) is compared with [previous_start, start), the period of the same length before.

    `available` False means the changes are not shown; `reason` then says why, in words for the page and the
    report (`None` when the comparison is available)."""

    previous_start: datetime
    start: datetime
    available: bool
    reason: str | None


def _day(moment: datetime, like: datetime) -> str:
    """The day of `moment` in the time zone of `like` (the period's own)."""
    return f"{moment.astimezone(like.tzinfo):%d %b %Y}"


def _span(first: datetime, end: datetime) -> str:
    """'06 Nov 2026 to 12 Nov 2026': the days of [first, end), the last one included."""
    return f"{_day(first, first)} to {_day(end - timedelta(microseconds=1), first)}"


def comparison(
    start: datetime,
    end: datetime,
    previous_mentions: int,
    first_stored: datetime | None,
    minimum: int = MIN_PREVIOUS_MENTIONS,
    coverage: float = MIN_COVERAGE,
) -> Comparison:
    """The comparison of [start, end) with the period of the same length before it.

    `previous_mentions` is how many mentions that previous period holds (in the same brand scope);
    `first_stored` is when the oldest stored mention was posted (None: nothing is stored)."""
    previous_start = start - (end - start)
    if first_stored is None:
        return Comparison(previous_start, start, False, "no comparison: nothing has been collected yet")
    covered = (start - max(first_stored, previous_start)) / (start - previous_start)
    if covered < coverage:
        return Comparison(
            previous_start,
            start,
            False,
            f"no comparison: collection began on {_day(first_stored, start)}, so it covered "
            f"{max(covered, 0.0):.0%} of the previous period ({_span(previous_start, start)})",
        )
    if previous_mentions < minimum:
        return Comparison(
            previous_start,
            start,
            False,
            f"no comparison: the previous period ({_span(previous_start, start)}) holds "
            f"{previous_mentions} mention{'' if previous_mentions == 1 else 's'}, fewer than {minimum}",
        )
    return Comparison(previous_start, start, True, None)
