"""The ledger: exact postings, atomic batches, idempotency, invariants, concurrency."""

import random
import threading

import pytest
import sqlalchemy as sa
import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.db import scope_to_tenant, tm_session
from core.ledger import (
    IdempotencyConflict,
    InsufficientFunds,
    InvalidTransfer,
    Ledger,
    LedgerAccount,
    LedgerError,
    LedgerTransfer,
    Share,
    Transfer,
    Wallet,
    disburse,
    pay_installment,
    verify,
)
from core.money import Money
from core.tenancy.services import tenant_by_slug


def cny(text):
    return Money.parse(text, "CNY")


@pytest.fixture
def demo(db, tenants):
    with db.transaction() as session:
        return tenant_by_slug(session, "demo").id


@pytest.fixture
def acme(db, tenants):
    with db.transaction() as session:
        return tenant_by_slug(session, "acme").id


@pytest.fixture
def book(db, demo):
    """Run ``work(ledger)`` in one committed transaction of the demo tenant."""

    def _book(work, tenant_id=demo):
        with db.transaction(tenant_id) as session:
            return work(Ledger(session, tenant_id))

    return _book


def funds(book, member_id, currency="CNY"):
    result = book(lambda ledger: Wallet(ledger, member_id, currency).funds())
    return result.available, result.frozen


def recharge(book, member_id, amount, key=None):
    return book(
        lambda ledger: Wallet(ledger, member_id, "CNY").recharge(
            cny(amount),
            key=key or f"recharge:{member_id}:{amount}:{random.random()}",
            ref="payment:1",
            initiator="gateway:offline",
        )
    )


def test_wallet_life_cycle_and_fund_movement_record(book, db):
    recharge(book, 1, "1000.00", key="recharge:p1")
    book(
        lambda l: Wallet(l, 1, "CNY").freeze(
            cny("300.00"), reason="bid_freeze", key="bid:7", ref="bid:7", initiator="member:1"
        )
    )
    assert funds(book, 1) == (70000, 30000)
    book(
        lambda l: Wallet(l, 1, "CNY").unfreeze(
            cny("100.00"), reason="bid_unfreeze", key="bid:7:release", ref="bid:7", initiator="system"
        )
    )
    book(
        lambda l: Wallet(l, 1, "CNY").freeze(
            cny("200.00"), reason="withdraw_freeze", key="wd:3", ref="wd:3", initiator="member:1"
        )
    )
    book(
        lambda l: Wallet(l, 1, "CNY").withdraw(
            cny("200.00"), fee=cny("2.00"), key="wd:3:paid", ref="wd:3", initiator="gateway:offline"
        )
    )
    assert funds(book, 1) == (60000, 20000)
    assert book(lambda l: Wallet(l, 1, "CNY").funds().total) == 80000

    movements, total = book(lambda l: Wallet(l, 1, "CNY").movements(page=1, per_page=3))
    assert total == 6  # recharge, freeze, unfreeze, freeze, fee, withdrawal
    assert [(m.reason, m.available_change, m.frozen_change, m.available_after, m.frozen_after) for m in movements] == [
        ("withdrawal", 0, -19800, 60000, 20000),
        ("fee", 0, -200, 60000, 39800),
        ("withdraw_freeze", -20000, 20000, 60000, 40000),
    ]
    older, _ = book(lambda l: Wallet(l, 1, "CNY").movements(page=2, per_page=3))
    assert [(m.reason, m.available_after, m.frozen_after) for m in older] == [
        ("bid_unfreeze", 80000, 20000),
        ("bid_freeze", 70000, 30000),
        ("recharge", 100000, 0),
    ]
    with db.transaction() as session:
        assert verify(session) == []


def test_a_batch_that_overdraws_changes_nothing(book, db):
    recharge(book, 1, "100.00")

    def overdraw(ledger):
        wallet, other = Wallet(ledger, 1, "CNY"), Wallet(ledger, 2, "CNY")
        ledger.post(
            [
                Transfer(wallet.available, other.available, cny("60.00"), "adjustment"),
                Transfer(wallet.available, other.available, cny("60.00"), "adjustment"),
            ],
            key="too-much",
            initiator="staff:1",
        )

    with pytest.raises(InsufficientFunds) as error:
        book(overdraw)
    assert "overdrawn by 20.00" in str(error.value)
    assert funds(book, 1) == (10000, 0)
    assert funds(book, 2) == (0, 0)
    with db.transaction() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(LedgerTransfer)) == 1


def test_the_same_key_applies_once_and_a_different_content_is_refused(book):
    recharge(book, 1, "50.00", key="recharge:p9")
    replay = recharge(book, 1, "50.00", key="recharge:p9")
    assert replay.replayed
    assert funds(book, 1) == (5000, 0)
    with pytest.raises(IdempotencyConflict) as error:
        recharge(book, 1, "51.00", key="recharge:p9")
    assert error.value.result == "exists_with_different_amount"
    with pytest.raises(IdempotencyConflict) as error:
        recharge(book, 2, "50.00", key="recharge:p9")
    assert error.value.result == "exists_with_different_credit_account_id"
    assert funds(book, 1) == (5000, 0) and funds(book, 2) == (0, 0)


@pytest.mark.parametrize(
    "make, field",
    [
        (lambda w, o: [Transfer(w.available, o.available, cny("0"), "x")], "amount"),
        (lambda w, o: [Transfer(w.available, w.available, cny("1"), "x")], "account"),
        (lambda w, o: [Transfer(w.available, o.available, Money.parse("1", "USD"), "x")], "currency"),
        (lambda w, o: [Transfer(w.available, 10**9, cny("1"), "x")], "account"),
        (lambda w, o: [], "transfers"),
        (lambda w, o: [Transfer(w.available, o.available, cny("1"), "")], "reason"),
    ],
)
def test_invalid_transfers_are_refused_with_the_field(book, make, field):
    recharge(book, 1, "10.00")

    def post(ledger):
        ledger.post(make(Wallet(ledger, 1, "CNY"), Wallet(ledger, 2, "CNY")), key="k", initiator="t")

    with pytest.raises(LedgerError) as error:
        book(post)
    assert error.value.field == field
    assert funds(book, 1) == (1000, 0)


def test_another_tenants_account_is_unknown(book, demo, acme):
    acme_account = book(lambda l: Wallet(l, 1, "CNY").available, tenant_id=acme)
    recharge(book, 1, "10.00")
    with pytest.raises(InvalidTransfer, match="no account"):
        book(
            lambda l: l.post(
                [Transfer(Wallet(l, 1, "CNY").available, acme_account, cny("1"), "x")], key="steal", initiator="t"
            )
        )


def test_a_reversal_restores_balances_once(book, db):
    recharge(book, 1, "80.00", key="recharge:wrong")
    posted = book(lambda l: l.reverse("recharge:wrong", key="fix:1", initiator="staff:2"))
    assert funds(book, 1) == (0, 0)
    with db.transaction() as session:
        row = session.scalars(sa.select(LedgerTransfer).where(LedgerTransfer.id == posted.transfer_ids[0])).one()
        assert row.reason == "reversal" and row.reverses_id is not None
    with pytest.raises(InvalidTransfer, match="already been reversed"):
        book(lambda l: l.reverse("recharge:wrong", key="fix:2", initiator="staff:2"))
    with db.transaction() as session:
        assert verify(session) == []


def test_disbursement_and_an_installment_to_many_lenders(book, db):
    for lender, amount in ((11, "600.00"), (12, "400.00")):
        recharge(book, lender, amount)
        book(
            lambda l, m=lender, a=amount: Wallet(l, m, "CNY").freeze(
                cny(a), reason="bid_freeze", key=f"bid:{m}", ref="loan:5", initiator=f"member:{m}"
            )
        )
    book(
        lambda l: disburse(
            l,
            lenders=[(11, cny("600.00")), (12, cny("400.00"))],
            borrower_id=20,
            key="disburse:5",
            ref="loan:5",
            initiator="staff:1",
            fee=cny("10.00"),
        )
    )
    assert funds(book, 20) == (99000, 0)
    assert funds(book, 11) == (0, 0)
    book(
        lambda l: pay_installment(
            l,
            borrower_id=20,
            key="repay:5:1",
            ref="loan:5:1",
            initiator="member:20",
            fee=cny("1.00"),
            shares=[Share(11, cny("50.00"), cny("6.00")), Share(12, cny("33.33"), cny("4.00"))],
        )
    )
    assert funds(book, 11) == (5600, 0)
    assert funds(book, 12) == (3733, 0)
    assert funds(book, 20) == (99000 - 5600 - 3733 - 100, 0)
    fee_income = book(lambda l: l.balance(l.platform("fee_income", "CNY")))
    assert fee_income == cny("11.00")
    with db.transaction() as session:
        assert verify(session) == []


def test_history_gives_running_balances_newest_first(book):
    for i in range(5):
        recharge(book, 3, f"{i + 1}.00")
    lines = book(lambda l: l.history(Wallet(l, 3, "CNY").available, limit=2))
    assert [(e.change, e.balance_after) for e in lines] == [(500, 1500), (400, 1000)]
    older = book(lambda l: l.history(Wallet(l, 3, "CNY").available, limit=10, before=lines[-1].transfer_id))
    assert [e.balance_after for e in older] == [600, 300, 100]


def test_verify_names_each_broken_account(book, db, demo):
    recharge(book, 1, "10.00")
    with db.transaction() as session:
        account = session.scalars(sa.select(LedgerAccount).where(LedgerAccount.code == "available")).one()
        account.credits_posted += 1
        tampered = account.id
    with db.transaction() as session:
        breaches = verify(session, demo)
    assert {(b.account_id, b.invariant) for b in breaches} == {(tampered, 4), (None, 1)}
    assert all(b.tenant == "demo" for b in breaches)


# -- properties -------------------------------------------------------------

MEMBERS = (1, 2, 3)
leg = st.tuples(
    st.sampled_from(range(5)),
    st.sampled_from(range(5)),
    st.integers(-5, 5000),
    st.sampled_from(["CNY", "CNY", "CNY", "USD"]),
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batches=st.lists(st.lists(leg, min_size=1, max_size=4), min_size=1, max_size=8))
def test_random_batches_keep_the_invariants(book, db, demo, batches):
    with db.transaction() as session:
        session.execute(sa.delete(LedgerTransfer))
        session.execute(sa.delete(LedgerAccount))

    def accounts(ledger):
        return [ledger.platform("gateway_clearing", "CNY"), ledger.platform("suspense", "CNY")] + [
            Wallet(ledger, m, "CNY").available for m in MEMBERS
        ]

    ids = book(accounts)

    def snapshot():
        with db.transaction() as session:
            return (
                session.execute(
                    sa.select(LedgerAccount.id, LedgerAccount.debits_posted, LedgerAccount.credits_posted).order_by(
                        LedgerAccount.id
                    )
                ).all(),
                session.scalar(sa.select(sa.func.count()).select_from(LedgerTransfer)),
            )

    for n, batch in enumerate(batches):
        before = snapshot()
        legs = [Transfer(ids[d], ids[c], Money(amount, currency), "adjustment") for d, c, amount, currency in batch]
        try:
            book(lambda l: l.post(legs, key=f"batch:{n}", initiator="property"))
        except LedgerError:
            assert snapshot() == before
        with db.transaction() as session:
            assert verify(session) == []
        for member in MEMBERS:
            assert funds(book, member)[0] >= 0


# -- concurrency --------------------------------------------------------------


def run_threads(count, work):
    """Start ``count`` threads at once; return their errors (there should be none)."""
    barrier = threading.Barrier(count)
    errors = []

    def runner(i):
        try:
            barrier.wait()
            work(i)
        except Exception as error:  # noqa: BLE001 - collected and asserted on
            errors.append(error)

    threads = [threading.Thread(target=runner, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    return errors


def attempt(db, tenant_id, work, attempts=5):
    """One transaction per thread, retried on transient failures (deadlock, serialization)."""
    manager = transaction.TransactionManager(explicit=True)
    for try_ in manager.attempts(attempts):
        with try_:
            session = tm_session(db.factory, manager)
            scope_to_tenant(session, tenant_id)
            result = work(Ledger(session, tenant_id))
    return result


def test_concurrent_withdrawals_never_overdraw(book, db, demo):
    recharge(book, 1, "1000.00")
    outcomes = []

    def withdraw(i):
        try:
            attempt(
                db,
                demo,
                lambda l: Wallet(l, 1, "CNY").freeze(
                    cny("30.00"), reason="withdraw_freeze", key=f"wd:{i}", ref=f"wd:{i}", initiator="member:1"
                ),
            )
            outcomes.append("ok")
        except InsufficientFunds:
            outcomes.append("refused")

    assert run_threads(50, withdraw) == []
    assert outcomes.count("ok") == 33 and outcomes.count("refused") == 17
    assert funds(book, 1) == (1000, 99000)
    with db.transaction() as session:
        assert verify(session) == []


def test_concurrent_transfers_between_wallets_conserve_money(book, db, demo):
    wallets = range(100, 110)
    for member in wallets:
        recharge(book, member, "100.00")

    def shuffle(i):
        rng = random.Random(i)
        source, target = rng.sample(list(wallets), 2)
        try:
            attempt(
                db,
                demo,
                lambda l: l.post(
                    [
                        Transfer(
                            Wallet(l, source, "CNY").available,
                            Wallet(l, target, "CNY").available,
                            Money(rng.randint(1, 6000), "CNY"),
                            "adjustment",
                        )
                    ],
                    key=f"move:{i}",
                    initiator="test",
                ),
            )
        except InsufficientFunds:
            pass

    assert run_threads(50, shuffle) == []
    balances = [funds(book, m)[0] for m in wallets]
    assert all(b >= 0 for b in balances)
    assert sum(balances) == 100000
    with db.transaction() as session:
        assert verify(session) == []


def test_the_same_key_posted_concurrently_applies_once(book, db, demo):
    results = []

    def post(i):
        results.append(
            attempt(
                db,
                demo,
                lambda l: Wallet(l, 7, "CNY").recharge(
                    cny("25.00"), key="recharge:same", ref="payment:77", initiator="gateway"
                ),
            )
        )

    assert run_threads(100, post) == []
    assert funds(book, 7) == (2500, 0)
    assert sum(not r.replayed for r in results) == 1
    assert len({r.transfer_ids for r in results}) == 1


def test_a_refused_post_inside_a_transaction_leaves_it_as_it_was(book, db, demo):
    recharge(book, 1, "10.00")
    with db.transaction(demo) as session:
        ledger = Ledger(session, demo)
        wallet = Wallet(ledger, 1, "CNY")
        wallet.freeze(cny("4.00"), reason="bid_freeze", key="bid:a", ref="bid:a", initiator="member:1")
        with pytest.raises(InsufficientFunds):
            wallet.freeze(cny("7.00"), reason="bid_freeze", key="bid:b", ref="bid:b", initiator="member:1")
        with pytest.raises(IdempotencyConflict):
            wallet.freeze(cny("5.00"), reason="bid_freeze", key="bid:a", ref="bid:a", initiator="member:1")
        wallet.freeze(cny("6.00"), reason="bid_freeze", key="bid:c", ref="bid:c", initiator="member:1")
    assert funds(book, 1) == (0, 1000)
    with db.transaction() as session:
        assert verify(session) == []


def test_replaying_a_spent_withdrawal_returns_the_original(book):
    recharge(book, 1, "50.00")

    def freeze(ledger):
        return Wallet(ledger, 1, "CNY").freeze(
            cny("50.00"), reason="withdraw_freeze", key="wd:9", ref="wd:9", initiator="member:1"
        )

    first = book(freeze)
    again = book(freeze)
    assert again.replayed and again.transfer_ids == first.transfer_ids
    assert funds(book, 1) == (0, 5000)
