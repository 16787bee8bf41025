"""The lending fund (自有資金): the money the tenant lends from its own balance sheet.

The fund is the wallet of the tenant's **house lender**, a member record made
on first use (one per tenant, :class:`LendingFund`) that cannot sign in: it
has no phone or email to sign in with, no password hash any password matches,
and its sign-in is frozen. An own-funds loan is an ordinary loan with one bid,
the house lender's, for the whole amount; its paybacks come back to the fund
through the ordinary close of day.

Capital comes in by a **capital injection**: one staff member asks
(:func:`request_injection`), another approves (:func:`decide_injection`), which
posts one transfer from the platform's bank account (``gateway_clearing``, as
a guarantor's deposit or a risk-reserve top-up is recorded) to the fund under
the key ``lending_fund:<id>`` — a retried approval never moves money twice.
"""

from __future__ import annotations

import sqlalchemy as sa

from ...db import utcnow
from ...domain import DomainError
from ...i18n import _
from ...ledger import Ledger, Transfer, Wallet
from ...members.models import Member, Verification
from ...money import InvalidAmount, Money, parse_positive, whole_number
from .models import INJECTIONS, FundInjection, InjectionStatus, LendingFund

SOURCE_ACCOUNT = "gateway_clearing"  # the platform's bank account, where injected capital arrives
REASON = "capital_injection"  # the ledger's reason code of an injection
NO_PASSWORD = "!"  # not a password hash: no password ever matches it
MAX_REASON = 300
MAX_ID = 2**31 - 1


class FundError(DomainError):
    """A lending-fund request refused (the field, a message to act on)."""


def house_lender(session, tenant) -> Member:
    """The tenant's house lender (its lending fund's owner), made on first use — once, however many ask."""
    found = _fund_member(session)
    if found is not None:
        return found
    from ...tenancy.models import Tenant

    session.scalars(sa.select(Tenant.id).where(Tenant.id == tenant.id).with_for_update()).first()
    found = _fund_member(session)
    if found is not None:
        return found
    name = tenant.brand("company_name", tenant.name, tenant.default_locale)[:80]
    member = Member(
        tenant_id=tenant.id,
        phone=None,
        email=None,
        password_hash=NO_PASSWORD,
        display_name=name,
        legal_name=name,
        verification=Verification.verified.value,
        verified_at=utcnow(),
        login_frozen=True,
    )
    session.add(member)
    session.flush()
    session.add(LendingFund(tenant_id=tenant.id, member_id=member.id))
    session.flush()
    return member


def _fund_member(session) -> Member | None:
    fund = session.scalars(sa.select(LendingFund)).first()
    return session.get(Member, fund.member_id) if fund is not None else None


def house_lender_ids() -> sa.Select:
    """A select of the house lender's member id (to leave it out of lists of people)."""
    return sa.select(LendingFund.member_id)


def wallet(session, tenant) -> Wallet:
    """The lending fund's wallet in the tenant's currency."""
    return Wallet(Ledger(session, tenant.id), house_lender(session, tenant).id, tenant.currency)


def available(session, tenant) -> int:
    """What the lending fund can lend now, in minor units (its frozen part is held for loans being made)."""
    return wallet(session, tenant).funds().available


def injections(session, *, limit: int = 50) -> list[FundInjection]:
    """The latest injection requests, newest first."""
    return session.scalars(sa.select(FundInjection).order_by(FundInjection.id.desc()).limit(limit)).all()


def find_locked(session, injection_id) -> FundInjection | None:
    """The injection with this id (``"12"`` or ``12``), locked for a decision; ``None`` for anything else."""
    number = whole_number(injection_id)
    if number is None or not 1 <= number <= MAX_ID:
        return None
    return session.scalars(
        sa.select(FundInjection)
        .where(FundInjection.id == number)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).first()


def request_injection(session, tenant, *, amount_text, reason: str, by: str) -> FundInjection:
    """Ask to inject capital into the lending fund from the platform's bank account; nothing moves yet."""
    try:
        amount = parse_positive(amount_text, tenant.currency)
    except InvalidAmount as error:
        raise FundError("amount", error.message) from None
    reason = (reason or "").strip()
    if not reason:
        raise FundError("reason", _("A reason is required."))
    if len(reason) > MAX_REASON:
        raise FundError("reason", _("Give a reason of up to 300 characters."))
    injection = FundInjection(
        tenant_id=tenant.id, amount=amount.minor, currency=amount.currency, reason=reason, requested_by=by
    )
    session.add(injection)
    session.flush()
    return injection


def same_person(actor: str, other: str) -> bool:
    """Whether two audit actors (``staff:<id>:<name>``) are one person, even if the name changed between."""
    return actor.split(":")[:2] == other.split(":")[:2]


def decide_injection(session, tenant, injection: FundInjection, *, approve: bool, by: str) -> None:
    """A second person approves (one transfer into the fund, key ``lending_fund:<id>``) or rejects (nothing
    moves). ``injection`` must be locked (:func:`find_locked`)."""
    if injection.status != InjectionStatus.PENDING:
        raise FundError("decision", _("This request was already decided."))
    if same_person(by, injection.requested_by):
        raise FundError("decision", _("Another person must approve a capital injection."))
    injection.decided_by, injection.decided_at = by, utcnow()
    if not approve:
        INJECTIONS.move(injection, InjectionStatus.REJECTED)
        return
    ledger = Ledger(session, tenant.id)
    fund = Wallet(ledger, house_lender(session, tenant).id, injection.currency)
    ledger.post(
        [
            Transfer(
                ledger.platform(SOURCE_ACCOUNT, injection.currency),
                fund.available,
                Money(injection.amount, injection.currency),
                REASON,
                f"lending_fund_injection:{injection.id}",
            )
        ],
        key=injection.key,
        initiator=by,
    )
    INJECTIONS.move(injection, InjectionStatus.APPLIED)
