"""What the browser tests share besides fixtures: finding Chromium, the live app, signing in, screenshots."""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from playwright.sync_api import Page

from overheard.api import create_app
from storage.tokens import Role
from tests.api.seed import DEMO_CONFIG, Seeded
from tests.conftest import ROOT

SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
# Playwright's own waits (for an element, a navigation) give up after this long: a stuck page fails, not hangs.
ACTION_TIMEOUT_MS = 15_000


def chromium_executable() -> str:
    """The system Chromium, or a clear failure (CI) / skip (a laptop without it).

    `OVERHEARD_CHROMIUM`, when set, is the only one tried: a wrong path there is a mistake to report, not
    a reason to quietly test another browser.
    """
    chosen = os.environ.get("OVERHEARD_CHROMIUM")
    candidates = [chosen] if chosen else [shutil.which("chromium"), "/usr/bin/chromium"]
    for candidate in candidates:
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return candidate
    looked = f"OVERHEARD_CHROMIUM={chosen}" if chosen else "`chromium` on PATH and /usr/bin/chromium"
    message = (
        f"Chromium not found ({looked}); install Debian's package with `apt-get install chromium` "
        "(scripts/services.sh does this for `make test`)"
    )
    if os.environ.get("CI") or os.environ.get("OVERHEARD_REQUIRE_POSTGRES") == "1":
        pytest.fail(message)
    pytest.skip(message)


@dataclass(frozen=True)
class LiveApp:
    """The web app served over HTTP: its address and the seeded database behind it."""

    url: str
    seeded: Seeded


def serve(seeded: Seeded) -> Iterator[LiveApp]:
    """The web app over `seeded`, served by uvicorn in a thread of the test process on a free port of 127.0.0.1
    (so the tests read the same database the pages write to), until the generator is closed."""
    with serving(create_app(seeded.engine, DEMO_CONFIG, rate_limit_per_minute=100_000)) as url:
        yield LiveApp(url, seeded)


def sign_in(page: Page, live_app: LiveApp, role: Role) -> None:
    """Through the sign-in form, as a person would: paste the role's token and submit."""
    page.goto("/login")
    page.get_by_label("Token").fill(live_app.seeded.tokens[role])
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()


def shot(page: Page, name: str) -> None:
    """A screenshot of a step in the middle of a journey."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


@contextmanager
def serving(app: Any) -> Iterator[str]:
    """Serve `app` with uvicorn in a thread on a free port of 127.0.0.1; yields its base URL."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            pytest.fail("uvicorn did not start serving the web app within 30 s")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        listener.close()
