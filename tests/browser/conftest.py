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


@pytest.fixture(scope="session")
def live_server(wsgi_app):
    """The test app on a free loopback port; ``*.localhost`` hosts reach it from chromium."""
    import waitress

    server = waitress.create_server(wsgi_app, host="127.0.0.1", port=0, threads=4)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    yield server.effective_port
    server.close()


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
