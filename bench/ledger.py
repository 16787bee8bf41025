"""Ledger postings per second against the raw single-writer commit rate.

For each engine (SQLite file in WAL mode; PostgreSQL when reachable) and for 1
and 8 concurrent clients, measures in the same run:

- raw: single-row ``INSERT … COMMIT`` transactions on a one-table scratch
  table (the physical limit of committing one write at a time);
- ledger: one two-leg transfer (debit one wallet, credit another) per
  transaction through the public API — a transaction manager, a session,
  ``Ledger.post`` with a fresh idempotency key, commit — each client on its
  own pair of wallets.

Prints postings/s and the ratio ledger ÷ raw (target: at least 0.5).

    .venv/bin/python bench/ledger.py [--ops N] [--postgres URL | --no-postgres]
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import os
import socket
import sys
import tempfile
import threading
import time
import uuid
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
warnings.filterwarnings("ignore", message="pkg_resources is deprecated")

import sqlalchemy as sa  # noqa: E402
import transaction  # noqa: E402

from core.db import make_engine, make_session_factory, scope_to_tenant, tm_session  # noqa: E402
from core.ledger import Ledger, Transfer, Wallet, verify  # noqa: E402
from core.migrate import upgrade  # noqa: E402
from core.money import Money  # noqa: E402
from core.tenancy.models import Tenant  # noqa: E402

RAW = sa.table("bench_raw", sa.column("id"), sa.column("value"))


def setup(engine, clients: int) -> tuple[int, list[tuple[int, int]]]:
    """A tenant and, per client, two funded wallets; returns the tenant id and account pairs."""
    upgrade(engine)
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE IF EXISTS bench_raw")
        conn.exec_driver_sql(
            "CREATE TABLE bench_raw (id BIGINT PRIMARY KEY, value BIGINT NOT NULL)"
            if engine.dialect.name == "postgresql"
            else "CREATE TABLE bench_raw (id INTEGER PRIMARY KEY, value BIGINT NOT NULL)"
        )
    factory = make_session_factory(engine)
    manager = transaction.TransactionManager(explicit=True)
    with manager:
        session = tm_session(factory, manager)
        tenant = Tenant(
            slug=f"bench-{uuid.uuid4().hex[:8]}",
            name="Bench",
            default_locale="en",
            locales=["en"],
            currency="CNY",
            timezone="UTC",
            business_date=dt.date(2027, 1, 1),
            branding={},
        )
        session.add(tenant)
        session.flush()
        tenant_id = tenant.id
        scope_to_tenant(session, tenant_id)
        ledger = Ledger(session, tenant_id)
        pairs = []
        for client in range(clients):
            a, b = Wallet(ledger, 2 * client + 1, "CNY"), Wallet(ledger, 2 * client + 2, "CNY")
            a.recharge(Money(10**12, "CNY"), key=f"fund:{client}", ref="bench", initiator="bench")
            pairs.append((a.available, b.available))
    return tenant_id, pairs


def in_threads(clients: int, ops: int, work) -> float:
    """Run ``work(client, i)`` ``ops`` times split over ``clients`` threads; postings per second."""
    per_client = ops // clients
    barrier = threading.Barrier(clients + 1)
    errors = []

    def runner(client):
        barrier.wait()
        try:
            for i in range(per_client):
                work(client, i)
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=runner, args=(c,)) for c in range(clients)]
    for thread in threads:
        thread.start()
    barrier.wait()
    start = time.perf_counter()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - start
    if errors:
        raise errors[0]
    return per_client * clients / elapsed


def measure(engine, clients: int, ops: int) -> tuple[float, float]:
    tenant_id, pairs = setup(engine, clients)
    factory = make_session_factory(engine)
    statement = sa.insert(RAW)
    ids = itertools.count(1)

    def raw(client, i):
        with engine.begin() as conn:
            conn.execute(statement, {"id": next(ids), "value": i})

    keys = itertools.count(1)

    def post(client, i):
        debit, credit = pairs[client]
        manager = transaction.TransactionManager(explicit=True)
        for attempt in manager.attempts(5):
            with attempt:
                session = tm_session(factory, manager)
                scope_to_tenant(session, tenant_id)
                Ledger(session, tenant_id).post(
                    [Transfer(debit, credit, Money(1, "CNY"), "bench")],
                    key=f"bench:{client}:{next(keys)}",
                    initiator="bench",
                )

    in_threads(clients, min(ops, 200), raw)  # warm up connections and caches
    raw_rate = in_threads(clients, ops, raw)
    ledger_rate = in_threads(clients, ops, post)
    with factory() as session:
        breaches = verify(session, tenant_id)
    if breaches:
        raise SystemExit(f"ledger verify failed after the run: {breaches[0]}")
    return raw_rate, ledger_rate


def postgres_url(args) -> str | None:
    if args.no_postgres:
        return None
    url = args.postgres or os.environ.get("LENDSTACK_BENCH_DATABASE_URL")
    if url:
        return url
    try:
        socket.create_connection(("127.0.0.1", 5432), timeout=1).close()
    except OSError:
        return None
    return "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ops", type=int, default=4000, help="transactions per measurement (default 4000)")
    parser.add_argument("--postgres", help="an admin URL; a scratch database is created and dropped")
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args(argv)
    results = []
    with tempfile.TemporaryDirectory() as folder:
        engine = make_engine(f"sqlite:///{folder}/bench.sqlite", pool_size=10)
        for clients in (1, 8):
            results.append(("sqlite", clients, *measure(engine, clients, args.ops)))
        engine.dispose()
    url = postgres_url(args)
    if url:
        admin = make_engine(url, isolation_level="AUTOCOMMIT")
        name = f"lendstack_bench_{uuid.uuid4().hex[:8]}"
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        try:
            engine = make_engine(admin.url.set(database=name).render_as_string(hide_password=False), pool_size=10)
            for clients in (1, 8):
                results.append(("postgresql", clients, *measure(engine, clients, args.ops)))
            engine.dispose()
        finally:
            with admin.connect() as conn:
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            admin.dispose()
    else:
        print("PostgreSQL not reachable: measured SQLite only")
    print(f"{'engine':<11} {'clients':>7} {'raw commits/s':>14} {'ledger posts/s':>15} {'ratio':>6}")
    worst = min(r[3] / r[2] for r in results)
    for engine_name, clients, raw_rate, ledger_rate in results:
        print(f"{engine_name:<11} {clients:>7} {raw_rate:>14.0f} {ledger_rate:>15.0f} {ledger_rate / raw_rate:>6.2f}")
    print(f"lowest ratio {worst:.2f} — {'meets' if worst >= 0.5 else 'misses'} the 0.5 target")
    return 0


if __name__ == "__main__":
    sys.exit(main())
