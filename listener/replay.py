"""The `replay` source: reads mentions from a JSONL file so the whole pipeline runs offline.

Each line is one Mention as JSON (the shape `Mention.model_dump_json()` writes). A line that is not
valid JSON or not a valid Mention is quarantined with its line number and the reason; the rest goes on.
The cursor is the number of lines already handed on, so a re-run continues where the last sweep ended.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

from pydantic import ValidationError

from listener.base import Page, Rejected
from listener.mention import Mention


def _explain(error: ValidationError) -> str:
    parts = []
    for item in error.errors():
        where = ".".join(str(p) for p in item["loc"]) or "(root)"
        parts.append(f"{where}: {item['msg']}")
    return "; ".join(parts)


class ReplayCollector:
    """Yields mentions from a JSONL file in pages of `page_size` lines."""

    def __init__(self, path: Path | str, *, name: str | None = None, page_size: int = 100) -> None:
        self.path = Path(path)
        self.name = name or f"replay:{self.path.name}"
        self.page_size = page_size

    def sweep(self, cursor: str | None) -> Iterator[Page]:
        start = int(cursor) if cursor else 0
        mentions: list[Mention] = []
        rejected: list[Rejected] = []
        line_no = 0
        with self.path.open(encoding="utf-8") as lines:
            for line_no, line in enumerate(lines, start=1):
                if line_no <= start or not line.strip():
                    continue
                try:
                    mentions.append(Mention.model_validate(json.loads(line)))
                except json.JSONDecodeError as exc:
                    rejected.append(Rejected(self.name, f"{self.path.name} line {line_no}: not JSON ({exc.msg})", line))
                except ValidationError as exc:
                    rejected.append(Rejected(self.name, f"{self.path.name} line {line_no}: {_explain(exc)}", line))
                if len(mentions) + len(rejected) >= self.page_size:
                    yield Page(mentions, rejected, next_cursor=str(line_no))
                    mentions, rejected = [], []
        if mentions or rejected or line_no > start:
            yield Page(mentions, rejected, next_cursor=str(max(line_no, start)))
