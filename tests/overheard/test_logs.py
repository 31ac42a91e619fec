"""Structured log events keep their fields on stderr."""

from __future__ import annotations

import logging

from overheard.logs import EventFormatter


def _record(msg: str, **extra: object) -> logging.LogRecord:
    record = logging.LogRecord("overheard.tasks", logging.ERROR, __file__, 1, msg, None, None)
    for key, value in extra.items():
        setattr(record, key, value)
    return record


def test_the_extra_fields_follow_the_event_name_quoted_where_they_have_spaces() -> None:
    line = EventFormatter().format(_record("task.dead", run=42, task="deliver", reason="HTTP 500 from crm"))
    assert line == "overheard.tasks task.dead run=42 task=deliver reason='HTTP 500 from crm'"


def test_an_event_without_fields_is_just_its_name() -> None:
    assert EventFormatter().format(_record("runtime.ready")) == "overheard.tasks runtime.ready"
