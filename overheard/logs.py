"""Log lines people can read: the event name followed by its structured fields.

Overheard logs events as a short name with the details in `extra` (`log.warning("alert.raised",
extra={"alert": ..., "summary": ...})`). The standard formatter drops those fields; this one appends
them as `key=value`, so stderr says which alert, which task, which reason.
"""

from __future__ import annotations

import logging

# Attributes every LogRecord has; anything else on a record came from `extra`.
_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime", "taskName"}


class EventFormatter(logging.Formatter):
    """`%(name)s %(message)s` plus each `extra` field as key=value, strings with spaces quoted."""

    def __init__(self) -> None:
        super().__init__("%(name)s %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        fields = [f"{key}={_value(value)}" for key, value in vars(record).items() if key not in _STANDARD]
        return " ".join([line, *fields]) if fields else line


def _value(value: object) -> str:
    text = str(value)
    return repr(text) if not text or any(c.isspace() or c in "\"'=" for c in text) else text


def configure(level: int) -> None:
    """Send Overheard's events to stderr at `level`, formatted by EventFormatter."""
    handler = logging.StreamHandler()
    handler.setFormatter(EventFormatter())
    logging.basicConfig(level=level, handlers=[handler])
