"""The disbursement workbench (出賬工作臺): a maker prepares, a different checker approves and the money moves.

Both steps take the application's row lock first, so two checkers approving
at once run one after the other: the second finds the application disbursed
and is refused, and the ledger keys of the final review (``loan:<id>:disburse``)
would refuse to move the money twice anyway. Refused, with nothing changed: an
unsigned contract, an application already disbursed, a checker who is the
maker, a value date that is not today's business date, a loan the lending
fund cannot pay in full.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from ... import events
from ...db import utcnow
from ...i18n import _
from ...loans.models import LoanStatus
from ..applications.models import APPLICATIONS, ApplicationStatus, CreditApplication, CreditProduct, FundingSource
from ..customers.models import Customer
from . import lending
from .contracts import current
from .errors import ContractError
from .fund import same_person
from .models import DISBURSEMENTS, ContractStatus, Disbursement, DisbursementStatus


def disbursement_of(session, application_id: int) -> Disbursement | None:
    """The application's disbursement (prepared or done), or ``None``."""
    return session.scalars(sa.select(Disbursement).where(Disbursement.application_id == application_id)).first()


def _check_waiting(application: CreditApplication) -> None:
    if application.status in (ApplicationStatus.DISBURSED,):
        raise ContractError("application_id", _("This application is already disbursed."))
    if application.status != ApplicationStatus.CONTRACTED:
        raise ContractError("application_id", _("The contract is not signed yet: it cannot be disbursed."))


def prepare(session, tenant, application: CreditApplication, *, value_date: dt.date | None, by: str) -> Disbursement:
    """The maker prepares the disbursement of a signed contract on ``value_date`` (default: the business date).

    ``application`` must be locked (:func:`.contracts.locked_application`).
    """
    _check_waiting(application)
    value_date = value_date or tenant.business_date
    if value_date < tenant.business_date:
        raise ContractError("value_date", _("The value date cannot be before today's business date."))
    existing = disbursement_of(session, application.id)
    if existing is not None and existing.status == DisbursementStatus.PUBLISHED:
        raise ContractError("application_id", _("This loan is already listed for bids."))
    contract = current(session, application.id)
    if contract is None or contract.status != ContractStatus.SIGNED:
        raise ContractError("application_id", _("The contract is not signed yet: it cannot be disbursed."))
    if _product(session, application).funding_source == FundingSource.OWN_FUNDS:
        lending.check_fund_covers(session, tenant, application)
    if existing is not None:  # prepared again (another value date): whoever prepares it last is its maker
        existing.value_date, existing.prepared_by, existing.prepared_at = value_date, by, utcnow()
        return existing
    disbursement = Disbursement(
        tenant_id=tenant.id,
        application_id=application.id,
        contract_id=contract.id,
        value_date=value_date,
        prepared_by=by,
    )
    session.add(disbursement)
    session.flush()
    return disbursement


MAX_REASON = 300


def cancel(session, application: CreditApplication, *, reason: str, by: str) -> None:
    """The customer does not take the loan up: an approved or contracted application is cancelled with a
    reason, and a disbursement prepared for it with it; nothing was paid. Refused once the loan is listed or
    disbursed. ``application`` must be locked (:func:`.contracts.locked_application`)."""
    existing = disbursement_of(session, application.id)
    if application.status == ApplicationStatus.DISBURSED or (
        existing is not None and existing.status != DisbursementStatus.PREPARED
    ):
        raise ContractError("application", _("The loan is already listed or disbursed: it cannot be cancelled."))
    if application.status not in (ApplicationStatus.APPROVED, ApplicationStatus.CONTRACTED):
        raise ContractError("application", _("Only an approved or contracted application can be cancelled."))
    reason = (reason or "").strip()
    if not reason or len(reason) > MAX_REASON:
        raise ContractError("reason", _("Give a reason of up to 300 characters."))
    if existing is not None:
        existing.approved_by, existing.approved_at = by, utcnow()
        DISBURSEMENTS.move(existing, DisbursementStatus.CANCELLED)
    APPLICATIONS.move(application, ApplicationStatus.CANCELLED)


def _product(session, application: CreditApplication) -> CreditProduct:
    return session.get(CreditProduct, application.product_id)


def approve(session, tenant, hooks, application: CreditApplication, *, by: str) -> Disbursement:
    """The checker approves: an own-funds loan is made and disbursed now (the application disbursed); a
    marketplace loan is published for bids (the final review disburses it later).

    ``application`` must be locked (:func:`.contracts.locked_application`).
    """
    _check_waiting(application)
    disbursement = disbursement_of(session, application.id)
    if disbursement is None or disbursement.status != DisbursementStatus.PREPARED:
        if disbursement is not None and disbursement.status == DisbursementStatus.PUBLISHED:
            raise ContractError("application_id", _("This loan is already listed for bids."))
        raise ContractError("application_id", _("Prepare the disbursement first; another person approves it."))
    if same_person(by, disbursement.prepared_by):
        raise ContractError("application_id", _("Another person must approve a disbursement you prepared."))
    if disbursement.value_date != tenant.business_date:
        raise ContractError(
            "value_date",
            _(
                "This disbursement is prepared for ${date}; today's business date is ${today}.",
                mapping={"date": disbursement.value_date.isoformat(), "today": tenant.business_date.isoformat()},
            ),
        )
    disbursement.approved_by, disbursement.approved_at = by, utcnow()
    if _product(session, application).funding_source == FundingSource.OWN_FUNDS:
        loan = lending.lend_from_fund(session, tenant, hooks, application, by=by)
        DISBURSEMENTS.move(disbursement, DisbursementStatus.DISBURSED)
        APPLICATIONS.move(application, ApplicationStatus.DISBURSED)
    else:
        loan = lending.publish_listing(session, tenant, hooks, application, by=by)
        DISBURSEMENTS.move(disbursement, DisbursementStatus.PUBLISHED)
    disbursement.loan_id = application.loan_id = loan.id
    session.flush()
    return disbursement


def waiting(session, *, limit: int = 100) -> list[tuple[CreditApplication, Customer, Disbursement | None]]:
    """Signed contracts waiting for their money (contracted applications), oldest first, with any prepared
    disbursement."""
    rows = session.execute(
        sa.select(CreditApplication, Customer, Disbursement)
        .join(Customer, Customer.id == CreditApplication.customer_id)
        .outerjoin(Disbursement, Disbursement.application_id == CreditApplication.id)
        .where(CreditApplication.status == ApplicationStatus.CONTRACTED)
        .order_by(CreditApplication.id)
        .limit(limit)
    ).all()
    return [tuple(row) for row in rows]


def recent(session, *, limit: int = 50) -> list[tuple[Disbursement, CreditApplication]]:
    """The latest disbursements approved, newest first."""
    return session.execute(
        sa.select(Disbursement, CreditApplication)
        .join(CreditApplication, CreditApplication.id == Disbursement.application_id)
        .where(Disbursement.status != DisbursementStatus.PREPARED)
        .order_by(Disbursement.approved_at.desc(), Disbursement.id.desc())
        .limit(limit)
    ).all()


@events.listen("lendstack_loan_status_changed")
def _listing_disbursed(session, tenant_id, loan, old_status, new_status) -> None:
    """A marketplace listing of a credit application disbursed by the ordinary final review: the application
    and its disbursement are disbursed (an own-funds loan's were moved by :func:`approve` itself)."""
    if str(getattr(new_status, "value", new_status)) != LoanStatus.REPAYING.value or loan.disbursed_on is None:
        return
    application = lending.application_of(session, loan)
    if application is None or application.status != ApplicationStatus.CONTRACTED:
        return
    APPLICATIONS.move(application, ApplicationStatus.DISBURSED)
    application.loan_id = loan.id
    disbursement = disbursement_of(session, application.id)
    if disbursement is not None and disbursement.status == DisbursementStatus.PUBLISHED:
        DISBURSEMENTS.move(disbursement, DisbursementStatus.DISBURSED)
