"""Close of day over many repaying loans on PostgreSQL, against one set-based UPDATE of the same rows.

Seeds a scratch database (set-based INSERTs, not the lifecycle: seeding
100,000 loans one by one would take longer than the close itself) with one
tenant, ``--loans`` repaying loans of 10,000.00 at 12% over 6 months, each
with its own borrower and one lender share per installment:

- a fifth of the loans have an installment due on the business date; 95% of
  their borrowers hold enough to pay it, 5% hold half (collected in part, then
  overdue);
- one loan in fifty is already 10 days overdue with an empty wallet (penalty
  interest accrues);
- the rest fall due on the next four days (untouched today).

Then, in the same run:

- baseline: one ``UPDATE loan_installments … WHERE status IN ('due', 'overdue')
  AND due_date <= :day`` marking the same installment rows paid, rolled back;
- close of day: ``close_of_day(…, commit_every=500)`` as the job and the CLI run
  it — every collection a ledger post with the lender's share and fee, every
  overdue row its penalty and event, a commit every 500 loans.

Prints loans per second (all loans, and the installments it acted on) and the
ratio baseline ÷ close of day. Target: 100,000 loans in under 2 minutes.

    .venv/bin/python bench/close_of_day.py [--loans N] [--postgres URL]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import socket
import sys
import time
import warnings
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
warnings.filterwarnings("ignore", message="pkg_resources is deprecated")

import sqlalchemy as sa  # noqa: E402
import transaction  # noqa: E402

from core.credit.classification.engine import classify  # noqa: E402
from core.db import make_engine, make_session_factory, scope_to_tenant, tm_session  # noqa: E402
from core.ledger import Ledger, Wallet  # noqa: E402
from core.ledger.models import DEBITS_MUST_NOT_EXCEED_CREDITS, LedgerAccount, LedgerTransfer  # noqa: E402
from core.loans import close_of_day  # noqa: E402
from core.loans.models import Bid, Installment, Loan, Payback  # noqa: E402
from core.members.models import Member  # noqa: E402
from core.migrate import upgrade  # noqa: E402
from core.money import Money  # noqa: E402
from core.schedules import LoanTerms  # noqa: E402
from core.tenancy.models import Tenant  # noqa: E402
from plugins.tools.equal_installment import EqualInstallment  # noqa: E402

DAY = dt.date(2027, 3, 1)
AMOUNT = 1_000_000  # 10,000.00
MONTHS = 6


def filled(table: sa.Table, values: dict) -> dict:
    """``values`` plus every other NOT NULL column's Python-side default, as SQL literals."""
    out = dict(values)
    for column in table.columns:
        default = column.default
        if column.name in out or column.primary_key or column.nullable or default is None:
            continue
        out[column.name] = sa.literal(default.arg(None) if default.is_callable else default.arg, column.type)
    return out


def insert_select(conn, model, values: dict, from_) -> None:
    table = model.__table__
    values = filled(table, values)
    conn.execute(sa.insert(table).from_select(list(values), sa.select(*values.values()).select_from(from_)))
    conn.exec_driver_sql(f"ANALYZE {table.name}")  # the next INSERT … SELECT joins it: plan with its real size


def seed(engine, factory, loans: int) -> int:
    """The tenant, its lender and ``loans`` borrowers with their repaying loans; returns the tenant id."""
    manager = transaction.TransactionManager(explicit=True)
    with manager:
        session = tm_session(factory, manager)
        tenant = Tenant(
            slug="bench-cod",
            name="Bench",
            default_locale="en",
            locales=["en"],
            currency="CNY",
            timezone="UTC",
            business_date=DAY,
            branding={},
            lending={"lender_fee_percent": "10", "penalty_rate_percent_per_day": "0.05"},
        )
        session.add(tenant)
        session.flush()
        tenant_id = tenant.id
        scope_to_tenant(session, tenant_id)
        lender = Member(tenant_id=tenant_id, phone="13900000000", password_hash="x", verification="verified")
        session.add(lender)
        session.flush()
        lender_id = lender.id
        ledger = Ledger(session, tenant_id)
        clearing = ledger.platform("gateway_clearing", "CNY")
        ledger.platform("fee_income", "CNY")
        Wallet(ledger, lender_id, "CNY").funds()  # the lender's accounts
    schedule = EqualInstallment().schedule(LoanTerms(Money(AMOUNT, "CNY"), Decimal(12), MONTHS, "month", DAY))
    rows = [(r.period, r.principal, r.interest) for r in schedule.installments]
    payment = rows[0][1] + rows[0][2]
    g = sa.func.generate_series(1, loans).table_valued("value").render_derived(name="g")
    i = g.c.value
    with engine.begin() as conn:
        insert_select(
            conn,
            Member,
            {
                "tenant_id": sa.literal(tenant_id),
                "phone": sa.literal("138") + sa.func.lpad(sa.cast(i, sa.Text), 8, "0"),
                "password_hash": sa.literal("x"),
                "verification": sa.literal("verified"),
            },
            g,
        )
        members = (
            sa.select(Member.id.label("id"), Member.phone.label("phone"))
            .where(Member.tenant_id == tenant_id, Member.id != lender_id)
            .subquery("m")
        )
        for code in ("available", "frozen"):
            insert_select(
                conn,
                LedgerAccount,
                {
                    "tenant_id": sa.literal(tenant_id),
                    "owner_kind": sa.literal("member"),
                    "owner_id": members.c.id,
                    "code": sa.literal(code),
                    "currency": sa.literal("CNY"),
                    "flags": sa.literal(DEBITS_MUST_NOT_EXCEED_CREDITS),
                },
                members,
            )
        insert_select(
            conn,
            Loan,
            {
                "tenant_id": sa.literal(tenant_id),
                "number": sa.literal("B") + sa.func.substr(members.c.phone, 4),
                "borrower_id": members.c.id,
                "loan_type": sa.literal("credit"),
                "title": sa.literal("Bench loan"),
                "amount": sa.literal(AMOUNT),
                "currency": sa.literal("CNY"),
                "annual_rate_percent": sa.literal(12),
                "term_months": sa.literal(MONTHS),
                "repayment_method": sa.literal("equal_installment"),
                "min_bid": sa.literal(5000),
                "fundraising_days": sa.literal(5),
                "funded": sa.literal(AMOUNT),
                "status": sa.literal("repaying"),
                "type_data": sa.literal({}, sa.JSON),
                "disbursed_on": sa.literal(DAY - dt.timedelta(days=30)),
            },
            members,
        )
        loan_rows = (
            sa.select(Loan.id.label("id"), sa.cast(sa.func.substr(Loan.number, 2), sa.Integer).label("n"))
            .where(Loan.tenant_id == tenant_id)
            .subquery("l")
        )
        insert_select(
            conn,
            Bid,
            {
                "tenant_id": sa.literal(tenant_id),
                "loan_id": loan_rows.c.id,
                "member_id": sa.literal(lender_id),
                "amount": sa.literal(AMOUNT),
                "key": sa.literal("seed"),
                "status": sa.literal("accepted"),
            },
            loan_rows,
        )
        periods = sa.values(
            sa.column("period", sa.Integer),
            sa.column("principal", sa.BigInteger),
            sa.column("interest", sa.BigInteger),
            name="s",
        ).data(rows)
        first_due = sa.literal(DAY) + sa.case((loan_rows.c.n % 50 == 7, -10), else_=loan_rows.c.n % 5)
        due = sa.cast(first_due + sa.func.make_interval(0, periods.c.period - 1), sa.Date)
        overdue = sa.and_(loan_rows.c.n % 50 == 7, periods.c.period == 1)
        insert_select(
            conn,
            Installment,
            {
                "tenant_id": sa.literal(tenant_id),
                "loan_id": loan_rows.c.id,
                "period": periods.c.period,
                "due_date": due,
                "principal": periods.c.principal,
                "interest": periods.c.interest,
                "status": sa.case((overdue, "overdue"), else_="due"),
                "penalty_through": sa.case((overdue, sa.literal(DAY - dt.timedelta(days=1))), else_=None),
            },
            sa.join(loan_rows, periods, sa.true()),
        )
        bids = (
            sa.select(Bid.id.label("bid_id"), Bid.loan_id.label("loan_id"))
            .where(Bid.tenant_id == tenant_id)
            .subquery("b")
        )
        insert_select(
            conn,
            Payback,
            {
                "tenant_id": sa.literal(tenant_id),
                "loan_id": Installment.loan_id,
                "bid_id": bids.c.bid_id,
                "member_id": sa.literal(lender_id),
                "period": Installment.period,
                "due_date": Installment.due_date,
                "principal": Installment.principal,
                "interest": Installment.interest,
            },
            sa.join(
                Installment, bids, sa.and_(bids.c.loan_id == Installment.loan_id, Installment.tenant_id == tenant_id)
            ),
        )
        # Borrowers due today hold the installment (one in twenty only half); the others a little.
        funded = (
            sa.select(LedgerAccount.id.label("account"), loan_rows.c.n.label("n"))
            .select_from(
                sa.join(
                    LedgerAccount,
                    Loan,
                    sa.and_(Loan.borrower_id == LedgerAccount.owner_id, Loan.tenant_id == tenant_id),
                ).join(loan_rows, loan_rows.c.id == Loan.id)
            )
            .where(LedgerAccount.tenant_id == tenant_id, LedgerAccount.code == "available", loan_rows.c.n % 50 != 7)
            .subquery("f")
        )
        amount = sa.case((funded.c.n % 100 == 5, payment // 2), (funded.c.n % 5 == 0, payment + 10_000), else_=10_000)
        insert_select(
            conn,
            LedgerTransfer,
            {
                "tenant_id": sa.literal(tenant_id),
                "key": sa.literal("seed:") + sa.cast(funded.c.account, sa.Text),
                "leg": sa.literal(0),
                "debit_account_id": sa.literal(clearing),
                "credit_account_id": funded.c.account,
                "amount": amount,
                "currency": sa.literal("CNY"),
                "reason": sa.literal("recharge"),
                "ref": sa.literal("bench"),
                "initiator": sa.literal("bench"),
                "debit_balance_after": sa.literal(0),
                "credit_balance_after": amount,
            },
            funded,
        )
        conn.execute(
            sa.text(
                "UPDATE ledger_accounts a SET credits_posted = t.amount FROM ledger_transfers t "
                "WHERE t.tenant_id = :t AND t.credit_account_id = a.id AND t.key LIKE 'seed:%'"
            ),
            {"t": tenant_id},
        )
        conn.execute(
            sa.text(
                "UPDATE ledger_accounts SET debits_posted = (SELECT sum(amount) FROM ledger_transfers "
                "WHERE tenant_id = :t AND key LIKE 'seed:%') WHERE id = :clearing"
            ),
            {"t": tenant_id, "clearing": clearing},
        )
        conn.exec_driver_sql("ANALYZE")
    return tenant_id


def baseline(engine, tenant_id: int) -> tuple[float, int]:
    """One set-based UPDATE marking the installments close of day acts on paid; rolled back."""
    with engine.connect() as conn:
        with conn.begin() as tx:
            start = time.perf_counter()
            touched = conn.execute(
                sa.update(Installment)
                .where(
                    Installment.tenant_id == tenant_id,
                    Installment.status.in_(["due", "overdue"]),
                    Installment.due_date <= DAY,
                )
                .values(
                    status="paid", paid_on=DAY, paid_principal=Installment.principal, paid_interest=Installment.interest
                )
            ).rowcount
            elapsed = time.perf_counter() - start
            tx.rollback()
    return elapsed, touched


def run_close(factory, tenant_id: int, commit_every: int) -> tuple[float, dict]:
    manager = transaction.TransactionManager(explicit=True)
    start = time.perf_counter()
    with manager:
        session = tm_session(factory, manager)
        scope_to_tenant(session, tenant_id)
        tenant = session.get(Tenant, tenant_id)
        summary = close_of_day(session, tenant, DAY, commit_every=commit_every)
    return time.perf_counter() - start, summary


def run_classify(factory, tenant_id: int, commit_every: int) -> tuple[float, dict]:
    """The five-level classification of every outstanding loan as of the day just closed (close of day's step in
    an app; timed on its own here, since this script calls ``close_of_day`` without the app's steps)."""
    manager = transaction.TransactionManager(explicit=True)
    start = time.perf_counter()
    with manager:
        session = tm_session(factory, manager)
        scope_to_tenant(session, tenant_id)
        summary = classify(session, session.get(Tenant, tenant_id), DAY, commit_every=commit_every)
    return time.perf_counter() - start, summary


def scratch_database(url: str) -> str:
    """A fresh database next to ``url``'s (dropped first); returns its URL."""
    base = sa.engine.make_url(url)
    name = "lendstack_bench_close_of_day"
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        conn.exec_driver_sql(f"CREATE DATABASE {name}")
    admin.dispose()
    return base.set(database=name).render_as_string(hide_password=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loans", type=int, default=100_000)
    parser.add_argument("--commit-every", type=int, default=500)
    parser.add_argument("--postgres", help="a PostgreSQL URL whose server may host a scratch database")
    args = parser.parse_args()
    url = args.postgres or os.environ.get("LENDSTACK_BENCH_DATABASE_URL")
    if not url:
        try:
            socket.create_connection(("127.0.0.1", 5432), timeout=1).close()
        except OSError:
            raise SystemExit("PostgreSQL is not reachable: give --postgres URL") from None
        url = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
    engine = make_engine(scratch_database(url))
    upgrade(engine)
    factory = make_session_factory(engine)
    start = time.perf_counter()
    tenant_id = seed(engine, factory, args.loans)
    print(f"seeded {args.loans:,} repaying loans in {time.perf_counter() - start:.1f} s")
    base_seconds, touched = baseline(engine, tenant_id)
    seconds, summary = run_close(factory, tenant_id, args.commit_every)
    acted = summary["repaid"] + summary["overdue"] + summary["collected_part"]
    print(f"set-based UPDATE of the {touched:,} installments due: {base_seconds:.2f} s")
    print(
        f"close of day: {seconds:.1f} s — {args.loans / seconds:,.0f} loans/s over {args.loans:,} loans, "
        f"{touched / seconds:,.0f} due installments/s ({summary})"
    )
    print(
        f"ratio set-based UPDATE ÷ close of day: {base_seconds / seconds:.4f}; "
        f"target 100,000 loans in under 120 s: {'met' if seconds * 100_000 / args.loans < 120 else 'NOT met'}"
        f" ({acted:,} installments acted on)"
    )
    first, classified = run_classify(factory, tenant_id, args.commit_every)
    again, _same = run_classify(factory, tenant_id, args.commit_every)
    print(
        f"classification: {first:.1f} s the first time ({classified['changed']:,} loans changed class), "
        f"{again:.1f} s run again; ratio to close of day {first / seconds:.3f}; target at most 30 s for 100,000 "
        f"loans: {'met' if first * 100_000 / args.loans <= 30 else 'NOT met'}"
    )
    engine.dispose()


if __name__ == "__main__":
    main()
