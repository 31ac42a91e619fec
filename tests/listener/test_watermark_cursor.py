"""Watermark cursors: whatever the page limits, arrivals and crashes, no mention is ever skipped."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from listener.cursor import Watermark


def test_plain_positions_read_as_floors_and_write_back_plain() -> None:
    assert Watermark.load("1578516068309794817") == Watermark(floor="1578516068309794817")
    assert Watermark(floor="42").dump() == "42"
    assert Watermark.load(None) == Watermark()


def test_backlog_round_trips_through_json() -> None:
    mark = Watermark(floor="10", resume="50", ceiling="90")

    assert Watermark.load(mark.dump()) == mark


def test_garbage_cursor_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="neither a position nor a watermark"):
        Watermark.load("{not json")


def sweep(ids: list[int], cursor: str | None, page_size: int, max_pages: int) -> Iterator[tuple[list[int], str | None]]:
    """A newest-first source with since_id/until_id (both exclusive), used the way the collectors use it."""
    start = Watermark.load(cursor)
    floor = int(start.floor) if start.floor else None
    until = int(start.resume) if start.resume else None
    matching = sorted((i for i in ids if (floor is None or i > floor) and (until is None or i < until)), reverse=True)
    newest: str | None = None
    for page_number in range(max_pages):
        page = matching[page_number * page_size : (page_number + 1) * page_size]
        if page and (newest is None or page[0] > int(newest)):
            newest = str(page[0])
        exhausted = (page_number + 1) * page_size >= len(matching)
        mark = start.after_page(newest=newest, oldest=str(page[-1]) if page else None, exhausted=exhausted)
        yield page, mark.dump()
        if exhausted:
            return


@settings(max_examples=200, deadline=None)
@given(
    arrivals=st.lists(st.integers(min_value=0, max_value=30), min_size=2, max_size=8),
    page_size=st.integers(min_value=1, max_value=5),
    max_pages=st.integers(min_value=1, max_value=3),
    crash_after=st.lists(st.integers(min_value=0, max_value=3), min_size=8, max_size=8),
)
def test_no_mention_after_the_first_sweep_is_ever_lost(
    arrivals: list[int], page_size: int, max_pages: int, crash_after: list[int]
) -> None:
    """Between sweeps new posts arrive; some sweeps crash after a few pages (their cursor is then not saved).
    Once the source stops receiving posts and sweeps run to the end, everything newer than what the first
    sweep whose cursor was saved saw has been collected (history before that is deliberately not dug into)."""
    ids: list[int] = []
    stored: set[int] = set()
    saved: str | None = None
    next_id = 1
    first_seen_max = 0
    for round_number, count in enumerate(arrivals):
        ids.extend(range(next_id, next_id + count))
        next_id += count
        crash_at = crash_after[round_number]
        last_cursor = saved
        for page_number, (page, cursor) in enumerate(sweep(ids, saved, page_size, max_pages)):
            if crash_at and page_number == crash_at:
                break  # crashed: pages so far are stored, the cursor is not saved
            stored.update(page)
            last_cursor = cursor
        else:
            saved = last_cursor
        if saved is not None and not first_seen_max:
            first_seen_max = max(stored)
    for _ in range(len(ids) + 2):  # quiet period: keep sweeping until caught up
        for page, cursor in sweep(ids, saved, page_size, max_pages):
            stored.update(page)
            saved = cursor
        if saved is not None and not first_seen_max:
            first_seen_max = max(stored)

    assert {i for i in ids if i > first_seen_max} <= stored
