"""Fixtures for listener tests: the replay server on 127.0.0.1, a fake clock, and the HTTP client under test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from listener.http import Http
from tests.listener.replay import FakeTime, ReplayServer, start_server


@pytest.fixture
def server() -> Iterator[ReplayServer]:
    replay, httpd = start_server()
    yield replay
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


@pytest.fixture
def http(fake_time: FakeTime) -> Http:
    """The production client, allowed to reach only our own 127.0.0.1 server, on a fake clock."""
    return Http(
        user_agent="OverheardBot/0.1 (+tests)",
        allow_networks=("127.0.0.1/32",),
        min_interval_s=0.0,
        sleep=fake_time.sleep,
        clock=fake_time.clock,
    )
