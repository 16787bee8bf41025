"""Portal pages under load, against a bare Pyramid view rendering a static Chameleon page.

Builds the app on a scratch database (SQLite by default, ``--postgres URL`` for
PostgreSQL) with the shipped demo tenant and ``--loans`` loans open for bids
(10,000 by default, each with a bid), then serves, with waitress in this process:

- the portal (``make_config``, with its anonymous page cache unless ``--page-cache 0``): ``/`` (home), ``/invest`` (the bidding tab,
  first page of the 10,000), ``/invest/<number>`` (a loan's page: schedule,
  borrower summary, bids);
- bare: a Pyramid app with one view rendering a static Chameleon page of the
  same size as the home page, no database, no tenancy, no sessions.

Each target gets ``--clients`` client threads on keep-alive connections for
``--seconds``; prints requests per second, p50 and p99 latency, and each page's
throughput as a share of the bare page's (target: at least 0.30).

    .venv/bin/python bench/portal.py [--loans N] [--clients N] [--seconds S] [--postgres URL]
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import statistics
import sys
import tempfile
import threading
import time
import warnings
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
warnings.filterwarnings("ignore", message="pkg_resources is deprecated")

import logging  # noqa: E402

import sqlalchemy as sa  # noqa: E402
import transaction  # noqa: E402
import waitress  # noqa: E402
from chameleon import PageTemplate  # noqa: E402
from pyramid.config import Configurator  # noqa: E402
from pyramid.response import Response  # noqa: E402

from core import make_config  # noqa: E402
from core.db import scope_to_tenant, tm_session  # noqa: E402
from core.loans.models import Bid, Loan  # noqa: E402
from core.members.models import Member  # noqa: E402
from core.migrate import upgrade  # noqa: E402
from core.plugin_registry import PluginRegistry  # noqa: E402
from tenants.manifest import SHIPPED, apply_file  # noqa: E402

HOST = "demo.localhost"


def portal_app(database_url: str, var_dir: str, page_cache_seconds: float = 5):
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
        "lendstack.page_cache_seconds": str(page_cache_seconds),
    }
    config = make_config(settings, plugins)
    upgrade(config.registry["db_engine"])
    return config.make_wsgi_app(), config.registry, plugins


def seed(registry, plugins, loans: int) -> str:
    """The demo tenant, a borrower and a lender, and ``loans`` loans open for bids; a loan number."""
    factory = registry["dbsession_factory"]
    manager = transaction.TransactionManager(explicit=True)
    with manager:
        session = tm_session(factory, manager)
        tenant, _ = apply_file(session, SHIPPED / "demo.toml", plugins, ("operator.localhost",))
        tenant_id, today = tenant.id, tenant.business_date
        scope_to_tenant(session, tenant_id)
        borrower = Member(
            tenant_id=tenant_id,
            phone="+8613800000001",
            password_hash="x",
            legal_name="王小明",
            verification="verified",
            credit_grade="A",
        )
        lender = Member(
            tenant_id=tenant_id, phone="+8613800000002", password_hash="x", legal_name="陳大文", verification="verified"
        )
        session.add_all([borrower, lender])
        session.flush()
        borrower_id, lender_id = borrower.id, lender.id
    rows = [
        {
            "tenant_id": tenant_id,
            "number": f"B{n:07d}",
            "borrower_id": borrower_id,
            "loan_type": "credit",
            "title": f"週轉資金借款 {n}",
            "purpose": "店面週轉",
            "amount": 1_000_000 + n * 100,
            "currency": "CNY",
            "annual_rate_percent": Decimal(6 + n % 12),
            "term_months": 3 + n % 22,
            "repayment_method": "equal_installment",
            "min_bid": 5000,
            "fundraising_days": 7,
            "funded": 500_000,
            "status": "bidding",
            "type_data": {},
            "deadline": today + dt.timedelta(days=7),
            "created_at": dt.datetime.now(dt.timezone.utc),
        }
        for n in range(loans)
    ]
    engine = registry["db_engine"]
    with engine.begin() as conn:
        conn.execute(sa.insert(Loan), rows)
        ids = conn.execute(sa.select(Loan.id).where(Loan.tenant_id == tenant_id)).scalars().all()
        conn.execute(
            sa.insert(Bid),
            [
                {
                    "tenant_id": tenant_id,
                    "loan_id": i,
                    "member_id": lender_id,
                    "amount": 500_000,
                    "key": "seed",
                    "auto": False,
                    "status": "frozen",
                    "created_at": dt.datetime.now(dt.timezone.utc),
                }
                for i in ids
            ],
        )
    return rows[len(rows) // 2]["number"]


def bare_app(size: int):
    """One view rendering a static Chameleon page of ``size`` characters."""
    filler = "<p>Lendstack — a static paragraph of the bare page, as long as the home page.</p>\n"
    template = PageTemplate(
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'/><title>${title}</title>"
        "</head><body><main>" + filler * max(1, size // len(filler)) + "</main></body></html>"
    )

    def view(request):
        return Response(template(title="Bare"), content_type="text/html", charset="utf-8")

    config = Configurator()
    config.add_route("bare", "/")
    config.add_view(view, route_name="bare")
    return config.make_wsgi_app()


def serve(app, threads: int):
    server = waitress.create_server(app, host="127.0.0.1", port=0, threads=threads)
    threading.Thread(target=server.run, daemon=True).start()
    return server


def load(port: int, path: str, clients: int, seconds: float) -> tuple[float, float, float]:
    """Requests per second, p50 and p99 latency (ms) of GET ``path`` from ``clients`` threads."""
    latencies: list[list[float]] = [[] for _ in range(clients)]
    errors: list[str] = []
    stop = time.perf_counter() + seconds
    barrier = threading.Barrier(clients)

    def client(i):
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        barrier.wait()
        while time.perf_counter() < stop:
            start = time.perf_counter()
            connection.request("GET", path, headers={"Host": HOST})
            response = connection.getresponse()
            response.read()
            if response.status != 200:
                errors.append(f"{path} answered {response.status}")
                return
            latencies[i].append(time.perf_counter() - start)
        connection.close()

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    if errors:
        raise SystemExit(errors[0])
    every = sorted(x for per in latencies for x in per)
    return len(every) / elapsed, statistics.median(every) * 1000, every[int(len(every) * 0.99) - 1] * 1000


def main() -> None:
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)  # "task queue depth" is the point here
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loans", type=int, default=10_000)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--threads", type=int, default=4, help="waitress worker threads")
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--postgres", help="run the portal on this PostgreSQL database (emptied first)")
    parser.add_argument(
        "--page-cache",
        type=int,
        default=5,
        help="lendstack.page_cache_seconds for the portal (0: every request renders its page)",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        if args.postgres:
            url = args.postgres
            engine = sa.create_engine(url)
            with engine.begin() as conn:
                conn.exec_driver_sql("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
            engine.dispose()
        else:
            url = f"sqlite:///{scratch}/portal.db"
        app, registry, plugins = portal_app(url, scratch, args.page_cache)
        start = time.perf_counter()
        number = seed(registry, plugins, args.loans)
        print(
            f"{registry['db_engine'].dialect.name}: {args.loans:,} loans open for bids, seeded in "
            f"{time.perf_counter() - start:.1f} s; {args.clients} clients, waitress with {args.threads} threads, "
            f"{args.seconds:.0f} s a page, page cache {args.page_cache:g} s"
        )
        portal = serve(app, args.threads)
        pages = {"home": "/", "invest list": "/invest", "loan detail": f"/invest/{number}"}
        for path in pages.values():  # warm up templates and caches
            load(portal.effective_port, path, 1, 0.5)
        home_size = len(_get(portal.effective_port, "/"))
        bare = serve(bare_app(home_size), args.threads)
        load(bare.effective_port, "/", 1, 0.5)
        bare_rps, bare_p50, bare_p99 = load(bare.effective_port, "/", args.clients, args.seconds)
        print(f"{'page':<14}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'÷ bare':>9}")
        print(f"{'bare page':<14}{bare_rps:>9.0f}{bare_p50:>9.1f}{bare_p99:>9.1f}{1:>9.2f}")
        worst = 1.0
        for name, path in pages.items():
            rps, p50, p99 = load(portal.effective_port, path, args.clients, args.seconds)
            worst = min(worst, rps / bare_rps)
            print(f"{name:<14}{rps:>9.0f}{p50:>9.1f}{p99:>9.1f}{rps / bare_rps:>9.2f}")
        print(f"target: every page at least 0.30 of the bare page: {'met' if worst >= 0.30 else 'NOT met'}")
        registry["db_engine"].dispose()  # the servers' daemon threads end with the process


def _get(port: int, path: str) -> bytes:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.request("GET", path, headers={"Host": HOST})
    body = connection.getresponse().read()
    connection.close()
    return body


if __name__ == "__main__":
    main()
