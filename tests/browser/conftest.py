"""Browser tests: the app served by waitress in a thread, driven by Playwright with Debian's chromium.

Chromium comes from Debian (``/usr/bin/chromium``; ``make test`` installs it
when missing and the user may); Playwright never downloads a browser. Without
chromium the tests are skipped with the reason shown.
"""

import os
import shutil
import threading
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
]


@pytest.fixture(scope="session")
def browser():
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"browser tests skipped: {CHROMIUM} is not installed (Debian package chromium)")
    playwright_api = pytest.importorskip("playwright.sync_api", reason="browser tests need the playwright package")
    with playwright_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield browser
        browser.close()


class InFlight:
    """WSGI middleware counting the requests being answered, to wait for the last one at the end of a test."""

    def __init__(self, app):
        self.app = app
        self.count = 0
        self.idle = threading.Condition()

    def __call__(self, environ, start_response):
        with self.idle:
            self.count += 1
        try:
            return self.app(environ, start_response)
        finally:
            with self.idle:
                self.count -= 1
                self.idle.notify_all()

    def wait_idle(self, timeout: float) -> bool:
        with self.idle:
            return self.idle.wait_for(lambda: self.count == 0, timeout)


@pytest.fixture(scope="session")
def _waitress(wsgi_app):
    import waitress

    app = InFlight(wsgi_app)
    server = waitress.create_server(app, host="127.0.0.1", port=0, threads=4)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    yield server.effective_port, app
    server.close()


@pytest.fixture
def live_server(_waitress, engine, browser):
    """The test app on a free loopback port; ``*.localhost`` hosts reach it from chromium.

    After the test every page is closed and the requests still being answered (a chat's long-poll waits up to
    ``HOLD_SECONDS``) are let finish before the tables are emptied: a request of one test running into the next
    one's data, or into the emptying, fails there and can hold SQLite's write lock."""
    from core.chat.waiting import HOLD_SECONDS

    port, in_flight = _waitress
    yield port
    for context in browser.contexts:
        context.close()
    assert in_flight.wait_idle(timeout=HOLD_SECONDS + 20), "a request of this test was still being answered"


@pytest.fixture
def artifacts(request):
    """A folder for this test's screenshots (kept after the run, under test-artifacts/)."""
    folder = ARTIFACTS / request.node.name.replace("[", "-").replace("]", "")
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def pytest_collection_modifyitems(config, items):
    """Browser tests run once, on SQLite: what a browser sees does not depend on the engine, and the PostgreSQL
    run reads the same pages through WebTest (the readable-page, accessibility and domain tests)."""
    once = pytest.mark.skip(reason="browser tests run on SQLite only; the PostgreSQL run covers these pages by WebTest")
    for item in items:
        callspec = getattr(item, "callspec", None)
        if "/browser/" in str(item.fspath) and callspec is not None and callspec.params.get("backend") == "postgresql":
            item.add_marker(once)
