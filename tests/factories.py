"""Test factories: a member, a staff member, a loan at a point of its lifecycle, one line each.

They arrange state through the product's own services (sign-up, the ledger,
apply → review → bid → final review → repay), inside a session the test
opened (``with db.transaction(tenant) as session``), so what they build is
what a person would have built through the pages. They compute nothing a test
asserts: figures the test checks are worked out in the test.
"""

from __future__ import annotations

import core.loans as loans
from core.accounts.services import create_staff
from core.ledger import Ledger, Wallet
from core.loans.models import Loan
from core.members.models import Member
from core.members.services import add_card, create_member
from core.money import Money
from tests.helpers import PASSWORD, resident_id

APPLICATION = {
    "loan_type": "credit",
    "title": "週轉資金借款",
    "amount": "10000.00",
    "annual_rate_percent": "12",
    "term_months": "12",
    "repayment_method": "equal_installment",
    "fundraising_days": "5",
    "min_bid": "100",
}
"""A credit loan of 10,000.00 at 12% over 12 months, equal installments; change any field per call."""

STATES = ("submitted", "bidding", "full", "repaying", "settled")
"""The points of the lifecycle :func:`loan` can stop at, in order."""


def member(
    session,
    tenant,
    phone: str,
    *,
    verified: bool = True,
    name: str = "王小明",
    id_number: str | None = None,
    credit_line: int = 0,
    balance: int = 0,
    card: str | None = None,
) -> Member:
    """A member who signed up with ``phone`` (and :data:`~tests.helpers.PASSWORD`).

    Verified (real name and a resident ID derived from the phone) unless told
    otherwise; ``credit_line`` and ``balance`` are minor units, the balance
    recharged through the ledger; ``card`` adds a bank card with that number.
    """
    verified_id = id_number or resident_id(int(phone[-3:]))
    person = create_member(
        session,
        tenant,
        phone=phone,
        password=PASSWORD,
        legal_name=name if verified else "",
        id_number=verified_id if verified else "",
        verified=verified,
    )
    person.credit_line = credit_line
    if card:
        add_card(session, tenant, person, bank_name="工商銀行", holder_name=name, number=card)
    if balance:
        recharge(session, tenant, person, balance, key=f"seed:{phone}")
    session.flush()
    return person


def recharge(session, tenant, person: Member, minor: int, *, key: str) -> None:
    """Put ``minor`` into the member's available funds, as a gateway's recharge would."""
    Wallet(Ledger(session, tenant.id), person.id, tenant.currency).recharge(
        Money(minor, tenant.currency), key=key, ref="test", initiator="test"
    )


def staff(session, tenant, login: str, role: str) -> str:
    """A staff member of ``tenant`` with one role; their TOTP secret (the password is ``PASSWORD``)."""
    return create_staff(session, tenant, login, PASSWORD, role).totp_secret


def loan(session, tenant, hooks, borrower: Member, state: str = "bidding", *, lenders=(), **application):
    """A loan of ``borrower`` taken through the lifecycle up to ``state`` (one of :data:`STATES`).

    ``application`` changes fields of :data:`APPLICATION`. From ``full`` on,
    ``lenders`` (members with enough funds) bid the whole amount in equal
    parts, the first taking what does not divide; ``settled`` recharges the
    borrower with twice the amount and repays installment after installment.
    """
    if state not in STATES:
        raise ValueError(f"state must be one of {', '.join(STATES)}")
    form = {**APPLICATION, **application}
    made = loans.apply(session, tenant, hooks, borrower, form)
    if state == "submitted":
        return made
    loans.review(session, tenant, hooks, made, approve=True, reason="", by="staff:factory")
    if state == "bidding":
        return made
    _fill(session, tenant, hooks, made, lenders)
    if state == "full":
        return made
    loans.final_review(session, tenant, hooks, made, approve=True, reason="", by="staff:factory")
    if state == "settled":
        recharge(session, tenant, borrower, 2 * made.amount, key=f"settle:{made.id}")
        while made.status == "repaying":
            loans.repay_next(session, tenant, made, by="member")
    return made


def _fill(session, tenant, hooks, made, lenders) -> None:
    if not lenders:
        raise ValueError("a loan past bidding needs lenders")
    part, rest = divmod(made.amount, len(lenders))
    for n, lender in enumerate(lenders):
        minor = part + (rest if n == 0 else 0)
        loans.place_bid(
            session,
            tenant,
            hooks,
            made.id,
            lender,
            str(Money(minor, tenant.currency)),
            key=f"bid:{made.id}:{lender.id}",
        )


def spent_loan(session, tenant, hooks, n: int, *, first_due=None, left: int = 0, amount: str = "10000.00") -> Loan:
    """A disbursed loan of a new borrower (``1374…n``) from a new lender (``1375…n``) whose borrower then spent
    all but ``left`` minor units of what was lent (frozen away, as a pending withdrawal would); ``first_due`` moves
    the whole schedule so that its first installment falls due that day."""
    borrower = member(session, tenant, f"1374{n:07d}", id_number=resident_id(n % 1000), credit_line=10**9)
    lender = member(session, tenant, f"1375{n:07d}", id_number=resident_id((n + 500) % 1000), balance=10**8)
    made = loan(session, tenant, hooks, borrower, "repaying", lenders=[lender], amount=amount)
    wallet = Wallet(Ledger(session, tenant.id), borrower.id, tenant.currency)
    spent = Money(wallet.funds().available - left, tenant.currency)
    wallet.freeze(spent, reason="withdraw_freeze", key=f"spent:{made.id}", ref="test", initiator="test")
    if first_due is not None:
        shift = first_due - min(i.due_date for i in made.installments)
        for installment in made.installments:
            installment.due_date += shift
    return made
