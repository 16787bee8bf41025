"""State machines (core/states.py): one status enum and one transition table per lifecycle.

The tables are written out here by hand from DESIGN.md's loan lifecycle and
the funds flows (docs/architecture.md, "State machines"), in the code's
words. DESIGN.md's ``pending_review`` (初審) is ``submitted``; ``full`` (滿標)
is also ``final_review`` (復審), which waits on it; ``advanced`` (墊付) is an
installment's ``advanced_on`` date, not a status; there is no ``draft``.
"""

import json
import types

import pytest
import sqlalchemy as sa

from core.domain import DomainError, InvalidTransition
from core.loans.models import (
    BIDS,
    INSTALLMENTS,
    LOANS,
    PAYBACKS,
    STATUS_LABELS,
    BidStatus,
    InstallmentStatus,
    Loan,
    LoanStatus,
    PaybackStatus,
)
from core.payments.models import (
    ADJUSTMENTS,
    PAYMENTS,
    WITHDRAWALS,
    AdjustmentStatus,
    PaymentStatus,
    WithdrawalStatus,
)
from core.payments.reserve import RESERVE_REQUESTS, ReserveStatus
from core.states import StateMachine
from core.tenancy.services import tenant_by_slug
from tests import factories
from tests.helpers import resident_id, staff_client, submit

DEMO = "demo.localhost"

LIFECYCLES = {
    # submitted (初審) → bidding (招標中) → full (滿標, 復審) → repaying (還款中) → settled (已完成);
    # bidding --expired--> failed (流標); first or final review (or the guarantor) --rejected--> rejected;
    # repaying --accelerated--> defaulted → settled (paid after all) | written_off (核銷)
    LOANS: (
        "submitted",
        {
            "submitted": {"bidding", "rejected"},
            "bidding": {"full", "failed"},
            "full": {"repaying", "rejected"},
            "repaying": {"settled", "defaulted"},
            "defaulted": {"settled", "written_off"},
            "rejected": set(),
            "failed": set(),
            "settled": set(),
            "written_off": set(),
            "cancelled": set(),
        },
    ),
    # frozen while the loan raises money; accepted at disbursement, refunded when it does not go ahead
    BIDS: ("frozen", {"frozen": {"accepted", "refunded"}, "accepted": set(), "refunded": set()}),
    # due → overdue (逾期) → paid; a defaulted loan's unpaid installments are written off
    INSTALLMENTS: (
        "due",
        {
            "due": {"overdue", "paid", "written_off"},
            "overdue": {"paid", "written_off"},
            "paid": set(),
            "written_off": set(),
        },
    ),
    # paid by the borrower or an advance (墊付); written off with the loan
    PAYBACKS: ("due", {"due": {"paid", "written_off"}, "paid": set(), "written_off": set()}),
    # online: pending → succeeded | failed (a late success still credits); offline: pending → declared → cashier
    PAYMENTS: (
        "pending",
        {
            "pending": {"declared", "succeeded", "failed", "rejected"},
            "declared": {"succeeded", "rejected"},
            "failed": {"succeeded"},
            "succeeded": set(),
            "rejected": set(),
        },
    ),
    # requested → (first_approved →) processing → paid | failed; rejected by a cashier; cancelled by the member
    WITHDRAWALS: (
        "requested",
        {
            "requested": {"first_approved", "processing", "rejected", "cancelled"},
            "first_approved": {"processing", "rejected"},
            "processing": {"paid", "failed"},
            "paid": set(),
            "failed": set(),
            "rejected": set(),
            "cancelled": set(),
        },
    ),
    ADJUSTMENTS: ("pending", {"pending": {"applied", "rejected"}, "applied": set(), "rejected": set()}),
    RESERVE_REQUESTS: ("pending", {"pending": {"applied", "rejected"}, "applied": set(), "rejected": set()}),
}


@pytest.mark.parametrize("machine", list(LIFECYCLES), ids=lambda m: m.name)
def test_each_lifecycle_has_the_designed_table(machine):
    initial, table = LIFECYCLES[machine]
    assert machine.initial == initial
    assert {source: set(targets) for source, targets in machine.table().items()} == table


@pytest.mark.parametrize("machine", list(LIFECYCLES), ids=lambda m: m.name)
def test_every_state_but_a_retired_one_is_reached_from_the_initial_state(machine):
    reached, frontier = {machine.initial}, [machine.initial]
    while frontier:
        for target in machine.targets_of(frontier.pop()) - reached:
            reached.add(target)
            frontier.append(target)
    assert set(machine.states) - reached == ({LoanStatus.CANCELLED} if machine is LOANS else set())


def test_statuses_keep_their_strings_in_labels_json_and_comparisons():
    assert all(
        status in STATUS_LABELS for enum in (LoanStatus, BidStatus, InstallmentStatus, PaybackStatus) for status in enum
    )
    assert LoanStatus.REPAYING == "repaying" and str(LoanStatus.REPAYING) == "repaying"
    assert json.dumps({"status": WithdrawalStatus.FIRST_APPROVED}) == '{"status": "first_approved"}'
    assert ReserveStatus("applied") is ReserveStatus.applied and AdjustmentStatus("applied") is AdjustmentStatus.APPLIED


def test_move_follows_the_table_and_can_says_so_beforehand():
    payment = types.SimpleNamespace(status="pending")
    assert PAYMENTS.can(payment, PaymentStatus.DECLARED) and not PAYMENTS.can(payment, "paid")
    assert PAYMENTS.move(payment, PaymentStatus.DECLARED) is PaymentStatus.DECLARED
    assert payment.status is PaymentStatus.DECLARED
    PAYMENTS.move(payment, "succeeded")  # a string naming a state is taken as that state
    assert payment.status is PaymentStatus.SUCCEEDED and not PAYMENTS.can(payment, PaymentStatus.FAILED)


@pytest.mark.parametrize(
    "current, target",
    [
        ("succeeded", "failed"),
        ("pending", "pending"),
        ("declared", "failed"),
        ("pending", "credited"),
        ("lost", "succeeded"),
    ],
)
def test_a_refused_transition_raises_and_changes_nothing(current, target):
    payment = types.SimpleNamespace(status=current)
    with pytest.raises(InvalidTransition) as refused:
        PAYMENTS.move(payment, target)
    assert payment.status == current
    assert isinstance(refused.value, DomainError) and refused.value.field == "status"
    assert refused.value.message.mapping == {"machine": "recharge", "current": current, "target": target}


def test_a_bulk_update_selects_the_rows_the_table_lets_change():
    assert PAYBACKS.sources_of(PaybackStatus.WRITTEN_OFF) == {PaybackStatus.DUE}
    assert LOANS.sources_of(LoanStatus.SETTLED) == {LoanStatus.REPAYING, LoanStatus.DEFAULTED}
    assert LOANS.sources_of(LoanStatus.SUBMITTED) == set()
    assert INSTALLMENTS.final_states() == {InstallmentStatus.PAID, InstallmentStatus.WRITTEN_OFF}


def test_a_table_naming_a_state_its_enum_lacks_fails_when_it_is_built():
    with pytest.raises(ValueError):
        StateMachine("bid", BidStatus, {BidStatus.FROZEN: {"cashed"}}, initial=BidStatus.FROZEN)


def test_a_refused_loan_transition_leaves_the_loan_and_its_events_alone(db, tenants, plugins):
    with db.transaction() as session:
        demo = tenant_by_slug(session, "demo")
        borrower = factories.member(session, demo, "13800139401", id_number=resident_id(941), credit_line=5_000_000)
        loan = factories.loan(session, demo, plugins.for_tenant(demo), borrower, "bidding")
        loan_id, noted = loan.id, list(session.info.get("lendstack_loan_status_changes", []))
        with pytest.raises(InvalidTransition):
            LOANS.move(loan, LoanStatus.REPAYING)  # disbursing a loan still raising money
        assert loan.status == "bidding" and session.info.get("lendstack_loan_status_changes", []) == noted
    with db.transaction() as session:
        assert session.get(Loan, loan_id).status == LoanStatus.BIDDING


def test_a_rejected_loan_cannot_be_reviewed_again_through_the_pages(wsgi_app, db, tenants, plugins):
    with db.transaction() as session:
        demo = tenant_by_slug(session, "demo")
        borrower = factories.member(session, demo, "13800139402", id_number=resident_id(942), credit_line=5_000_000)
        loan_id = factories.loan(session, demo, plugins.for_tenant(demo), borrower, "submitted").id
    officer = staff_client(wsgi_app, db, "risk-states", "risk_officer")
    page = officer.get(DEMO, f"/admin/loans/{loan_id}")
    stale = officer.get(DEMO, f"/admin/loans/{loan_id}")  # the same page, open in a second tab
    submit(officer, DEMO, page, {"reason": "收入證明不足"}, "reject", status=303)
    again = submit(officer, DEMO, stale, {"reason": ""}, "approve")
    assert again.status_int >= 400
    with db.transaction() as session:
        loan = session.get(Loan, loan_id)
        assert (loan.status, loan.review_note, loan.deadline) == ("rejected", "收入證明不足", None)
        assert session.scalar(sa.select(sa.func.count()).select_from(Loan).where(Loan.status == "bidding")) == 0
