"""Time to launch a branded site from the browser, against one page view measured in the same run.

Builds the app on a scratch database (SQLite by default, ``--postgres URL`` for
PostgreSQL) with no tenant at all, serves it with waitress, and drives Debian's
chromium (``/usr/bin/chromium``) through the path of ``tests/browser/launch.py``:
the operator signs in with a second factor and creates tenant "nova" (en +
zh_Hans, USD, classic theme, sandbox payments, two loan types); its new
administrator chooses a password with a TOTP code, uploads a logo, sets the
colours and the footer and turns a calculator on; a visitor registers on
nova.localhost. Prints each step's seconds, the total, the total as a share of
the 60-second goal, and as a multiple of the baseline: one browser page view (the
console's sign-in page, loaded and rendered), the unit a person's launch is made
of. ``--runs N`` repeats the path on fresh databases and reports the median.
``--screenshots DIR`` keeps a screenshot of each step (docs/operators.md uses them).

    .venv/bin/python bench/launch.py [--runs N] [--postgres URL] [--screenshots DIR]
"""

from __future__ import annotations

import argparse
import logging
import statistics
import sys
import tempfile
import threading
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
warnings.filterwarnings("ignore", message="pkg_resources is deprecated")

import sqlalchemy as sa  # noqa: E402
import transaction  # noqa: E402
import waitress  # noqa: E402

from core import make_config  # noqa: E402
from core.accounts.services import create_operator  # noqa: E402
from core.db import tm_session  # noqa: E402
from core.migrate import upgrade  # noqa: E402
from core.plugin_registry import PluginRegistry  # noqa: E402
from tests.browser import launch  # noqa: E402
from tests.browser.conftest import ARGS, CHROMIUM  # noqa: E402
from tests.dev_outbox import OUTBOX  # noqa: E402

GOAL_SECONDS = 60


def serve(database_url: str, var_dir: str):
    """The app on a fresh schema, served on a free loopback port; (port, registry, server)."""
    plugins = PluginRegistry()
    plugins.load_entry_points()
    settings = {
        "sqlalchemy.url": database_url,
        "lendstack.secret": "bench-" + "x" * 40,
        "lendstack.operator_hosts": "operator.localhost",
        "lendstack.jobs.backend": "immediate",
        "lendstack.var_dir": var_dir,
        "pyramid.default_locale_name": "en",
        "lendstack.argon2": "cheapest",
    }
    config = make_config(settings, plugins)
    upgrade(config.registry["db_engine"])
    server = waitress.create_server(config.make_wsgi_app(), host="127.0.0.1", port=0, threads=4)
    threading.Thread(target=server.run, daemon=True).start()
    return server.effective_port, config.registry, server


def make_operator(registry) -> tuple[str, str, str]:
    manager = transaction.TransactionManager(explicit=True)
    with manager:
        session = tm_session(registry["dbsession_factory"], manager)
        secret = create_operator(session, "launcher", launch.PASSWORD).totp_secret
    return ("launcher", launch.PASSWORD, secret)


def page_view(browser, port: int) -> float:
    """Seconds for one page view: the console's sign-in page loaded and rendered in a fresh tab."""
    page = browser.new_context().new_page()
    page.goto(f"http://operator.localhost:{port}/operator/login")  # warm: first connection, templates compiled
    started = time.perf_counter()
    for _ in range(10):
        page.goto(f"http://operator.localhost:{port}/operator/login")
    page.context.close()
    return (time.perf_counter() - started) / 10


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--postgres", metavar="URL", help="run on this PostgreSQL database (emptied first)")
    parser.add_argument("--screenshots", metavar="DIR", type=Path, help="keep a screenshot of each step here")
    args = parser.parse_args()
    if not Path(CHROMIUM).exists():
        sys.exit(f"{CHROMIUM} is not installed (Debian package chromium)")
    from playwright.sync_api import sync_playwright

    logging.getLogger("lendstack.access").disabled = True
    results, views = [], []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        for run in range(args.runs):
            with tempfile.TemporaryDirectory() as scratch:
                url = f"sqlite:///{scratch}/bench.sqlite"
                if args.postgres:  # emptied before each run, as bench/portal.py does
                    url = args.postgres
                    engine = sa.create_engine(url)
                    with engine.begin() as conn:
                        conn.exec_driver_sql("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
                    engine.dispose()
                port, registry, server = serve(url, scratch)
                views.append(page_view(browser, port))
                OUTBOX.clear()
                shots = args.screenshots if (args.screenshots and run == 0) else None
                if shots:
                    shots.mkdir(parents=True, exist_ok=True)
                results.append(launch.launch(browser, port, make_operator(registry), OUTBOX.code_for, shots))
                server.close()
                registry["db_engine"].dispose()
        browser.close()
    steps = [name for name in results[0] if name != "total"]
    print(f"launch path, {args.runs} runs on {'PostgreSQL' if args.postgres else 'SQLite'} (median seconds):")
    for name in steps:
        print(f"  {name:40} {statistics.median(r[name] for r in results):6.2f}")
    total, view = statistics.median(r["total"] for r in results), statistics.median(views)
    print(f"  {'total':40} {total:6.2f}")
    print(f"baseline: one page view {view * 1000:.0f} ms")
    print(f"total / goal ({GOAL_SECONDS} s): {total / GOAL_SECONDS:.2f}   total / page view: {total / view:.0f}")


if __name__ == "__main__":
    main()
