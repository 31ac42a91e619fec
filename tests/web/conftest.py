"""Fixtures of the browser tests: the demo sample behind a real uvicorn server, and Debian's headless Chromium.

The server runs in a thread of the test process on a socket bound to a free port of 127.0.0.1, so the tests
can read the same database the pages write to. Chromium is the system one (`OVERHEARD_CHROMIUM`, or
`chromium` on PATH): Playwright never downloads a browser here. Without it the tests skip on a laptop and
fail in CI (`CI` or `OVERHEARD_REQUIRE_POSTGRES=1`, which scripts/test.sh sets after installing it).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, sync_playwright

from overheard.runtime import load_classifier
from tests.api.conftest import _seeded_database
from tests.api.seed import MemoClassifier
from tests.web.browser import ACTION_TIMEOUT_MS, SCREENSHOTS, LiveApp, chromium_executable, serve


@pytest.fixture(scope="session")
def live_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveApp]:
    classifier = MemoClassifier(load_classifier())
    for seeded in _seeded_database("sqlite", tmp_path_factory.mktemp("web"), classifier):
        yield from serve(seeded)


@pytest.fixture(scope="session")
def playwright_session() -> Iterator[Playwright]:
    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture(scope="session")
def browser(playwright_session: Playwright) -> Iterator[Browser]:
    executable = chromium_executable()
    # --no-sandbox: CI runs the suite as root, where Chromium refuses its sandbox; containers have a small
    # /dev/shm, which Chromium would otherwise fill.
    browser = playwright_session.chromium.launch(
        executable_path=executable, headless=True, args=["--no-sandbox", "--disable-dev-shm-usage"]
    )
    yield browser
    browser.close()


@pytest.fixture
def context(browser: Browser, live_app: LiveApp) -> Iterator[BrowserContext]:
    context = browser.new_context(base_url=live_app.url, accept_downloads=True, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(ACTION_TIMEOUT_MS)
    yield context
    context.close()


@pytest.fixture
def page(context: BrowserContext, request: pytest.FixtureRequest) -> Iterator[Page]:
    """A fresh tab; what it shows at the end of the test is saved as a screenshot (the CI artifact)."""
    page = context.new_page()
    yield page
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name).strip("_")
    if not page.is_closed():
        page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))
