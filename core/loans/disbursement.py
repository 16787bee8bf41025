"""Final review (復審) and disbursement: a full loan is paid out to its borrower — every schedule set, the
fee charged as the tenant charges it — or every bid is refunded.

Every money movement is one ledger post under a key derived from the loan
(``loan:<id>:disburse``, ``loan:<id>:fee``, ``bid:<id>:refund``), so a retried
request or a re-run close of day never moves money twice.
"""

from __future__ import annotations

from ..i18n import _
from ..ledger import Ledger, Transfer, Wallet, disburse
from ..money import Money
from ..schedules import repayment_methods
from . import cost
from .errors import LoanError, rejection_reason
from .models import BIDS, LOANS, BidStatus, Installment, Loan, LoanStatus, Payback
from .projection import schedule_for
from .records import record


def refund_bids(session, tenant_id: int, loan: Loan, why: str) -> None:
    """Unfreeze every bid still frozen on a loan that does not go ahead (rejected, or fundraising expired)."""
    ledger = Ledger(session, tenant_id)
    for bid in loan.bids:
        if bid.status == BidStatus.FROZEN:
            Wallet(ledger, bid.member_id, loan.currency).unfreeze(
                Money(bid.amount, loan.currency),
                reason="bid_unfreeze",
                key=f"bid:{bid.id}:refund",
                ref=f"loan:{loan.number}",
                initiator="system",
            )
            BIDS.move(bid, BidStatus.REFUNDED)
    record(session, loan, "refunded", "system", why=why)


def final_review(session, tenant, hooks, loan: Loan, *, approve: bool, reason: str, by: str) -> None:
    """Final review (復審): disburse to the borrower and set every schedule, or refund every bid."""
    if loan.status != LoanStatus.FULL:
        raise LoanError("decision", _("This loan is not waiting for a final review."))
    if not approve:
        note = rejection_reason(reason)
        refund_bids(session, tenant.id, loan, "final review rejected")
        LOANS.move(loan, LoanStatus.REJECTED)
        loan.review_note = note
        record(session, loan, "final_reviewed", by, approve=False, reason=reason)
        return
    method = repayment_methods(hooks).get(loan.repayment_method)
    if method is None:
        raise LoanError("decision", _("The loan's repayment method is no longer enabled."))
    bids = [b for b in loan.bids if b.status == BidStatus.FROZEN]
    frozen = sum(b.amount for b in bids)
    if frozen != loan.amount or loan.funded != loan.amount:
        # The borrower gets exactly what the schedules will pay the lenders back: never more, never less.
        raise LoanError(
            "decision",
            _(
                "The frozen bids (${frozen}) do not add up to the loan's amount (${amount}); it cannot be disbursed.",
                mapping={"frozen": str(Money(frozen, loan.currency)), "amount": str(Money(loan.amount, loan.currency))},
            ),
        )
    schedule = schedule_for(tenant, method, loan, start=tenant.business_date)
    charged = cost.charges(tenant, loan.amount, len(schedule.installments))
    ledger = Ledger(session, tenant.id)
    borrower = Wallet(ledger, loan.borrower_id, loan.currency)
    if charged.mode == "upfront" and borrower.funds().available < charged.fee:
        raise LoanError(
            "decision",
            _(
                "The borrower's balance does not cover the fee of ${fee}, paid at "
                "disbursement; they must recharge first.",
                mapping={"fee": str(Money(charged.fee, loan.currency))},
            ),
        )
    disburse(
        ledger,
        lenders=[(b.member_id, Money(b.amount, loan.currency)) for b in bids],
        borrower_id=loan.borrower_id,
        key=f"loan:{loan.id}:disburse",
        ref=f"loan:{loan.number}",
        initiator=by,
        fee=Money(charged.fee if charged.mode == "deducted" else 0, loan.currency),
    )
    if charged.mode == "upfront" and charged.fee:
        # its own payment, from what the borrower held before the loan arrived (checked above)
        ledger.post(
            [
                Transfer(
                    borrower.available,
                    ledger.platform("fee_income", loan.currency),
                    Money(charged.fee, loan.currency),
                    "fee",
                    f"loan:{loan.number}",
                )
            ],
            key=f"loan:{loan.id}:fee",
            initiator=by,
        )
    for row, service_fee in zip(schedule.installments, charged.per_period):
        session.add(
            Installment(
                tenant_id=tenant.id,
                loan_id=loan.id,
                period=row.period,
                due_date=row.due_date,
                principal=row.principal,
                interest=row.interest,
                service_fee=service_fee,
            )
        )
    for bid, share in zip(bids, schedule.share([b.amount for b in bids])):
        BIDS.move(bid, BidStatus.ACCEPTED)
        for row in share.installments:
            session.add(
                Payback(
                    tenant_id=tenant.id,
                    loan_id=loan.id,
                    bid_id=bid.id,
                    member_id=bid.member_id,
                    period=row.period,
                    due_date=row.due_date,
                    principal=row.principal,
                    interest=row.interest,
                )
            )
    LOANS.move(loan, LoanStatus.REPAYING)
    loan.disbursed_on = tenant.business_date
    loan.borrower_fee, loan.fee_mode = charged.fee, charged.mode
    record(
        session,
        loan,
        "disbursed",
        by,
        amount=loan.amount,
        fee=charged.fee,
        fee_mode=charged.mode,
        periods=len(schedule.installments),
    )
