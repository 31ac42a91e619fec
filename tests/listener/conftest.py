"""Fixtures for listener tests: the replay server on 127.0.0.1, a fake clock, and the HTTP client under test."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import pytest

from listener.http import Http
from tests.listener.replay import FakeTime, ReplayServer, start_server


@pytest.fixture(autouse=True)
def no_internet(monkeypatch: pytest.MonkeyPatch) -> None:
    """Listener tests never leave 127.0.0.1: resolving any other name fails loudly instead of going online."""
    real = socket.getaddrinfo

    def local_only(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host not in ("127.0.0.1", "localhost", "127.0.0.2", "::1"):
            raise socket.gaierror(f"test tried to reach {host!r}: listener tests stay on 127.0.0.1")
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", local_only)


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
