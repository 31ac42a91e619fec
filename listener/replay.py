"""The `replay` source: reads mentions from a JSONL file so the whole pipeline runs offline.

Each line is one Mention as JSON (the shape `Mention.model_dump_json()` writes). A line that is not UTF-8,
not valid JSON or not a valid Mention is quarantined with its line number and the reason; the rest goes on.
The cursor is the number of lines already handed on, so a re-run continues where the last sweep ended.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationError

from listener.base import BuildContext, Collector, Page, Rejected, SourceBase, SourceNotAvailable
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
        with self.path.open("rb") as lines:  # decoded line by line: one bad byte costs one line
            for line_no, raw in enumerate(lines, start=1):
                if line_no <= start or not raw.strip():
                    continue
                item = self._read(line_no, raw)
                if isinstance(item, Mention):
                    mentions.append(item)
                else:
                    rejected.append(item)
                if len(mentions) + len(rejected) >= self.page_size:
                    yield Page(mentions, rejected, next_cursor=str(line_no))
                    mentions, rejected = [], []
        if mentions or rejected or line_no > start:
            yield Page(mentions, rejected, next_cursor=str(max(line_no, start)))

    def _read(self, line_no: int, raw: bytes) -> Mention | Rejected:
        where = f"{self.path.name} line {line_no}"
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            reason = f"{where}: not UTF-8 (byte 0x{raw[exc.start]:02x} at column {exc.start + 1})"
            return Rejected(self.name, reason, raw.decode("utf-8", errors="backslashreplace"))
        try:
            return Mention.model_validate(json.loads(line))
        except json.JSONDecodeError as exc:
            return Rejected(self.name, f"{where}: not JSON ({exc.msg})", line)
        except ValidationError as exc:
            return Rejected(self.name, f"{where}: {_explain(exc)}", line)


# --- overheard.yaml: `kind: replay` -------------------------------------------------------------------------------


class ReplaySource(SourceBase):
    kind: Literal["replay"]
    path: Path = Field(description="JSONL file of mentions (one Mention per line).")


def build(source: ReplaySource, ctx: BuildContext) -> list[Collector]:
    """The file as one collector; its cursor is the line reached."""
    if not source.path.exists():
        raise SourceNotAvailable(f"source '{source.name}': replay file {source.path} does not exist")
    return [ReplayCollector(source.path, name=f"replay:{source.name}")]
