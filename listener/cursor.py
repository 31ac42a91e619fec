"""Cursors for sources that list newest first (X, Reddit, Bluesky, Hacker News), so no sweep loses a mention.

Such a source pages from the newest result backwards. If a sweep stops at its page limit before reaching
what the previous sweep stored, saving "the newest id seen" would skip the gap for ever. So the cursor
carries three positions:

- `floor`: everything at or below it is stored; the next sweep asks only for newer results;
- `resume`: set while a backlog is unfinished: continue below this position (older than what is stored);
- `ceiling`: the newest position seen in the unfinished backlog; it becomes the floor once the backlog
  reaches the floor.

Every page's cursor is a valid place to resume from once that page and the ones before it are stored,
so the shell may save any page's cursor, and must at least save the last one after the whole sweep.
A cursor with only a floor is written as the bare position (`"1578516068309794817"`), which also
reads old, plain cursors.

The first sweep that finds anything sets the first floor: what was published before it (beyond the pages
that sweep read) is history, which the listener does not dig into.

Positions are strings the source compares in its own way (snowflake ids, epoch seconds, timestamps).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

LATE_INDEXING_OVERLAP_S = 600
"""Seconds below the floor a time-ordered search asks for again (Hacker News, Bluesky, Reddit): a post indexed
minutes after it was written sorts below a floor set meanwhile, and would be skipped for ever. What is
fetched twice is deduplicated by the upsert on (source, external_id) and refreshes its engagement counts."""


@dataclass(frozen=True)
class Watermark:
    floor: str | None = None
    resume: str | None = None
    ceiling: str | None = None

    @classmethod
    def load(cls, cursor: str | None) -> Watermark:
        if not cursor:
            return cls()
        if not cursor.startswith("{"):
            return cls(floor=cursor)
        try:
            data = json.loads(cursor)
        except json.JSONDecodeError as exc:
            raise ValueError(f"cursor is neither a position nor a watermark: {cursor!r}") from exc
        return cls(floor=data.get("floor"), resume=data.get("resume"), ceiling=data.get("ceiling"))

    def dump(self) -> str | None:
        if self.resume is None:
            return self.floor
        return json.dumps({"floor": self.floor, "resume": self.resume, "ceiling": self.ceiling}, sort_keys=True)

    @property
    def in_backlog(self) -> bool:
        return self.resume is not None

    def after_page(
        self, *, newest: str | None, oldest: str | None, exhausted: bool, order: Callable[[str], Any] = int
    ) -> Watermark:
        """Called on the sweep's *starting* watermark: where to resume once the sweep's pages so far are stored.

        `newest`: the newest position seen in this sweep so far; `oldest`: the oldest position on the page
        just fetched; `exhausted`: nothing older is left above the floor. `order` turns a position into
        something comparable. A first sweep (no floor) does not dig into history: it starts listening from
        the newest position it saw.
        """
        ceiling = _newest(self.ceiling, newest, order)
        if exhausted or (self.floor is None and not self.in_backlog):
            return Watermark(floor=_newest(self.floor, ceiling, order))
        return Watermark(floor=self.floor, resume=oldest or self.resume, ceiling=ceiling)


def _newest(a: str | None, b: str | None, order: Callable[[str], Any]) -> str | None:
    if a is None:
        return b
    if b is None:
        return a
    return a if order(a) >= order(b) else b
