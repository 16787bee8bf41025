"""Concurrent bids on one loan through the HTTP API, against the raw rate of locked-row updates.

Every bid on a loan must wait for the loan's row lock (that is what keeps a
loan from being over-funded), so bids on one loan are one writer at a time.
For each engine (SQLite; PostgreSQL when reachable) this measures, in the same
run, with ``--clients`` concurrent clients:

- raw: ``SELECT … FOR UPDATE`` of one row, ``UPDATE`` it, ``INSERT`` a row,
  ``COMMIT`` — the physical limit of transactions serialised on one row;
- service: ``place_bid`` called from threads, each bid its own transaction
  (transaction manager, session, tenant scope, ledger freeze, loan event);
- api: ``POST /api/v1/loans/{id}/bids`` with a member's bearer token and an
  ``Idempotency-Key``, to the app served by waitress in this process, each
  client on its own keep-alive connection.

Then checks what matters more than speed: the loan is funded exactly (the sum
of the accepted bids, never more), a bid past the amount is refused, and
``ledger verify`` (with the loans' invariants) is clean. Prints bids/s and the
ratios api ÷ raw and api ÷ service.

    .venv/bin/python bench/bids.py [--bids N] [--clients N] [--postgres URL | --no-postgres]
"""

from __future__ import annotations

import argparse
import itertools
import logging
import sys
import tempfile
import threading
import uuid
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
warnings.filterwarnings("ignore", message="pkg_resources is deprecated")

import httpx  # noqa: E402
import sqlalchemy as sa  # noqa: E402
import transaction  # noqa: E402
from ledger import in_threads, postgres_url  # noqa: E402 - bench/ledger.py
from webtest.http import StopableWSGIServer  # noqa: E402

import core.loans as loans  # noqa: E402
from core import make_config  # noqa: E402
from core.db import make_engine, scope_to_tenant, tm_session  # noqa: E402
from core.ledger import Ledger, Wallet, verify  # noqa: E402
from core.loans.models import Loan  # noqa: E402
from core.members.models import Member  # noqa: E402
from core.members.services import create_member  # noqa: E402
from core.migrate import upgrade  # noqa: E402
from core.money import Money  # noqa: E402
from core.tenancy.services import tenant_by_slug  # noqa: E402
from tenants.manifest import SHIPPED, apply_file  # noqa: E402

PASSWORD = "a bench password, long enough"
BID = "100.00"
HOST = "demo.localhost"


class Bench:
    """The app on a scratch database with the demo tenant, a borrower and one funded lender per client."""

    def __init__(self, url: str, folder: str, clients: int):
        settings = {
            "sqlalchemy.url": url,
            "lendstack.secret": "bench-" + "x" * 40,
            "lendstack.operator_hosts": "operator.localhost",
            "lendstack.jobs.backend": "immediate",
            "lendstack.var_dir": folder,
            "pyramid.default_locale_name": "en",
            "lendstack.argon2": "cheapest",
            "lendstack.page_cache_seconds": "0",
        }
        config = make_config(settings)
        self.registry = config.registry
        self.engine = config.registry["db_engine"]
        upgrade(self.engine)
        self.app = config.make_wsgi_app()
        self.plugins = config.registry["plugins"]
        self.factory = config.registry["dbsession_factory"]
        with self.session() as session:
            apply_file(session, SHIPPED / "demo.toml", self.plugins, ("operator.localhost",))
        with self.session(tenant=True) as session:
            demo = tenant_by_slug(session, "demo")
            borrower = create_member(
                session,
                demo,
                phone="13900000000",
                password=PASSWORD,
                legal_name="王小明",
                id_number="11010519491231002X",
                verified=True,
            )
            borrower.credit_line = 10**10
            self.borrower_id = borrower.id
            self.lenders = []
            for n in range(clients):
                lender = create_member(
                    session,
                    demo,
                    phone=f"1390000{n + 1:04d}",
                    password=PASSWORD,
                    legal_name="王小明",
                    id_number=_resident_id(n),
                    verified=True,
                )
                Wallet(Ledger(session, demo.id), lender.id, "CNY").recharge(
                    Money(10**11, "CNY"), key=f"seed:{n}", ref="bench", initiator="bench"
                )
                self.lenders.append((lender.id, lender.phone))

    def session(self, tenant=False):
        bench = self

        class _Scope:
            def __enter__(self):
                self.manager = transaction.TransactionManager(explicit=True)
                self.manager.begin()
                session = tm_session(bench.factory, self.manager)
                if tenant:
                    scope_to_tenant(session, tenant_by_slug(session, "demo").id)
                return session

            def __exit__(self, kind, *_):
                (self.manager.abort if kind else self.manager.commit)()

        return _Scope()

    def open_loan(self, amount_minor: int) -> int:
        with self.session(tenant=True) as session:
            demo = tenant_by_slug(session, "demo")
            hooks = self.plugins.for_tenant(demo)
            loan = loans.apply(
                session,
                demo,
                hooks,
                session.get(Member, self.borrower_id),
                {
                    "loan_type": "credit",
                    "title": "bench loan",
                    "amount": str(Money(amount_minor, "CNY").amount),
                    "annual_rate_percent": "12",
                    "term_months": "12",
                    "repayment_method": "equal_installment",
                    "fundraising_days": "30",
                    "min_bid": "50",
                },
            )
            loans.review(session, demo, hooks, loan, approve=True, reason="", by="staff:bench")
            return loan.id

    def check(self, loan_id: int, expected: int) -> None:
        with self.session() as session:
            loan = session.get(Loan, loan_id)
            if (loan.funded, loan.status) != (expected, "full"):
                raise SystemExit(
                    f"loan {loan.number}: funded {loan.funded} of {loan.amount} ({loan.status}), "
                    f"expected {expected}, full"
                )
            breaches = verify(session)
        if breaches:
            raise SystemExit(f"ledger verify failed after the run: {breaches[0]}")


def _resident_id(n: int) -> str:
    prefix = f"11010519800101{n:03d}"
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    return prefix + "10X98765432"[sum(int(d) * w for d, w in zip(prefix, weights)) % 11]


def raw_rate(engine, clients: int, ops: int) -> float:
    """Transactions serialised on one row: lock it, bump it, insert a row, commit."""
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE IF EXISTS bench_row")
        conn.exec_driver_sql("DROP TABLE IF EXISTS bench_rows")
        conn.exec_driver_sql("CREATE TABLE bench_row (id INTEGER PRIMARY KEY, funded BIGINT NOT NULL)")
        conn.exec_driver_sql("CREATE TABLE bench_rows (id BIGINT PRIMARY KEY, amount BIGINT NOT NULL)")
        conn.exec_driver_sql("INSERT INTO bench_row VALUES (1, 0)")
    lock = "SELECT funded FROM bench_row WHERE id = 1" + (" FOR UPDATE" if engine.dialect.name != "sqlite" else "")
    ids = itertools.count(1)

    def work(client, i):
        with engine.begin() as conn:
            conn.exec_driver_sql(lock)
            conn.exec_driver_sql("UPDATE bench_row SET funded = funded + 1 WHERE id = 1")
            conn.execute(sa.text("INSERT INTO bench_rows VALUES (:id, 1)"), {"id": next(ids)})

    return in_threads(clients, ops, work)


def service_rate(bench: Bench, clients: int, ops: int) -> float:
    loan_id = bench.open_loan(ops * 10_000)
    keys = itertools.count(1)

    def work(client, i):
        manager = transaction.TransactionManager(explicit=True)
        for attempt in manager.attempts(5):
            with attempt:
                session = tm_session(bench.factory, manager)
                demo = tenant_by_slug(session, "demo")
                scope_to_tenant(session, demo.id)
                loans.place_bid(
                    session,
                    demo,
                    bench.plugins.for_tenant(demo),
                    loan_id,
                    session.get(Member, bench.lenders[client][0]),
                    BID,
                    key=f"svc-{next(keys)}",
                )

    rate = in_threads(clients, ops, work)
    bench.check(loan_id, ops * 10_000)
    return rate


def api_rate(bench: Bench, clients: int, ops: int) -> float:
    loan_id = bench.open_loan(ops * 10_000)
    server = StopableWSGIServer.create(bench.app, threads=clients, expose_tracebacks=False)
    base = server.application_url.rstrip("/")
    local = threading.local()
    tokens = []
    with httpx.Client(base_url=base, headers={"Host": HOST}) as http:
        for _, phone in bench.lenders:
            answer = http.post("/api/v1/auth/token", json={"login": phone, "password": PASSWORD})
            answer.raise_for_status()
            tokens.append({"Authorization": "Bearer " + answer.json()["token"]})
    keys = itertools.count(1)

    def work(client, i):
        if not hasattr(local, "http"):
            local.http = httpx.Client(base_url=base, headers={"Host": HOST, **tokens[client]}, timeout=120)
        answer = local.http.post(
            f"/api/v1/loans/{loan_id}/bids",
            json={"amount": BID},
            headers={"Idempotency-Key": f"api-bid-{next(keys):08d}"},
        )
        if answer.status_code != 201:
            raise RuntimeError(f"bid refused: {answer.status_code} {answer.text[:200]}")

    try:
        rate = in_threads(clients, ops, work)
        with httpx.Client(base_url=base, headers={"Host": HOST, **tokens[0]}) as http:
            late = http.post(
                f"/api/v1/loans/{loan_id}/bids",
                json={"amount": BID},
                headers={"Idempotency-Key": "api-bid-one-too-many"},
            )
        if late.status_code != 422:
            raise SystemExit(f"a bid on a full loan answered {late.status_code}, not 422")
    finally:
        server.shutdown()
    bench.check(loan_id, ops * 10_000)
    return rate


def measure(url: str, clients: int, ops: int) -> tuple[float, float, float]:
    with tempfile.TemporaryDirectory() as folder:
        bench = Bench(url, folder, clients)
        try:
            raw = raw_rate(bench.engine, clients, ops)
            service = service_rate(bench, clients, ops)
            api = api_rate(bench, clients, ops)
        finally:
            bench.engine.dispose()
    return raw, service, api


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bids", type=int, default=1000, help="bids per measurement (default 1000)")
    parser.add_argument("--clients", type=int, default=8, help="concurrent clients (default 8)")
    parser.add_argument("--postgres", help="an admin URL; a scratch database is created and dropped")
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args(argv)
    logging.disable(logging.WARNING)
    ops = args.bids - args.bids % args.clients
    results = []
    with tempfile.TemporaryDirectory() as folder:
        results.append(("sqlite", *measure(f"sqlite:///{folder}/bench.sqlite", args.clients, ops)))
    url = postgres_url(args)
    if url:
        admin = make_engine(url, isolation_level="AUTOCOMMIT")
        name = f"lendstack_bench_{uuid.uuid4().hex[:8]}"
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        try:
            results.append(
                (
                    "postgresql",
                    *measure(admin.url.set(database=name).render_as_string(hide_password=False), args.clients, ops),
                )
            )
        finally:
            with admin.connect() as conn:
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            admin.dispose()
    else:
        print("PostgreSQL not reachable: measured SQLite only")
    print(f"{ops} bids of {BID} on one loan, {args.clients} clients; every loan funded exactly, verify clean")
    print(
        f"{'engine':<11} {'raw locked tx/s':>16} {'service bids/s':>15} {'api bids/s':>11} {'api÷raw':>8} "
        f"{'api÷service':>12}"
    )
    for engine_name, raw, service, api in results:
        print(f"{engine_name:<11} {raw:>16.0f} {service:>15.0f} {api:>11.0f} {api / raw:>8.2f} {api / service:>12.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
