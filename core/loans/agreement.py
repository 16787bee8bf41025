"""The loan agreement (借款協議): the tenant's template filled with the loan's data when it is disbursed, and
kept with the loan — a frozen copy, never rendered again, whatever happens to the template later.

The template is the tenant's published ``loan-agreement`` page of the content centre, in the borrower's
language (else as :func:`core.content.services.public_page` falls back). Its Markdown names the loan's data
with placeholders, written ``{{name}}`` or ``{name}`` (:data:`PLACEHOLDERS`); any other braces stay as
written. A loan disbursed while no agreement page was published keeps none. The borrower and the loan's
lenders read it at ``/account/loans/<number>/agreement``; anyone else (another tenant too) gets a 404.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import sqlalchemy as sa
from babel.dates import format_date
from pyramid.httpexceptions import HTTPNotFound
from pyramid.view import view_config
from sqlalchemy.orm import Mapped, mapped_column

from .. import events, markup
from ..content.services import public_page
from ..db import Base, TenantOwned, utcnow
from ..i18n import _, region_locale
from ..money import Money
from .models import Bid, BidStatus, Loan, LoanStatus

SLUG = "loan-agreement"
PLACEHOLDERS = {
    "loan_number": "The loan's number (L2701…)",
    "borrower_name": "The borrower's legal name",
    "amount": "The amount lent, with its currency",
    "annual_rate": "The annual interest rate (12%)",
    "term_months": "The term in months (12)",
    "term": "The term in words (12 months)",
    "repayment_method": "The repayment method's name",
    "disbursed_on": "The date the loan was disbursed",
    "lenders": "A list of the lenders (names masked) with each one's amount",
}
"""The placeholders a loan agreement template may use, with what each becomes (docs/portal.md lists them)."""
_PLACEHOLDER = re.compile(r"\{\{\s*([a-z_]+)\s*\}\}|\{([a-z_]+)\}")


class LoanAgreement(TenantOwned, Base):
    """A loan's agreement as filled in at disbursement (Markdown, rendered by :mod:`core.markup` to read)."""

    __tablename__ = "loan_agreements"
    __table_args__ = (sa.UniqueConstraint("tenant_id", "loan_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    loan_id: Mapped[int] = mapped_column(sa.ForeignKey("loans.id", ondelete="CASCADE"))
    item_id: Mapped[int | None] = mapped_column(sa.ForeignKey("content_items.id", ondelete="SET NULL"))
    version: Mapped[int]  # the template's version number
    locale: Mapped[str] = mapped_column(sa.String(16), default="")
    title: Mapped[str] = mapped_column(sa.String(120))
    body: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


def fill(template: str, values: dict[str, str]) -> str:
    """``template`` with each known placeholder replaced by its value (unknown ones left as written)."""

    def one(match):
        name = match.group(1) or match.group(2)
        return values[name] if name in values else match.group(0)

    return _PLACEHOLDER.sub(one, template)


def _rate(value) -> str:
    text = format(Decimal(str(value)).normalize(), "f")
    return f"{text}%"


def values(session, tenant, loan: Loan, locale: str, translate) -> dict[str, str]:
    """What each placeholder becomes for ``loan`` in ``locale`` (``translate``: a translation string to text)."""
    from ..members.models import Member
    from ..schedules import repayment_methods

    borrower = session.get(Member, loan.borrower_id)
    hooks = events.hooks_for(session, tenant.id)
    method = repayment_methods(hooks).get(loan.repayment_method) if hooks is not None else None
    lenders = []
    for bid in sorted(loan.bids, key=lambda b: b.id):
        if bid.status != BidStatus.ACCEPTED:
            continue
        lender = session.get(Member, bid.member_id)
        name = lender.masked_name or lender.masked_phone
        lenders.append(f"- {name}: {Money(bid.amount, loan.currency).format(locale)}")
    return {
        "loan_number": loan.number,
        "borrower_name": borrower.legal_name or borrower.display_name or borrower.masked_phone,
        "amount": Money(loan.amount, loan.currency).format(locale),
        "annual_rate": _rate(loan.annual_rate_percent),
        "term_months": str(loan.term_months),
        "term": translate(_("${n} months", mapping={"n": loan.term_months})),
        "repayment_method": translate(method.name) if method is not None else loan.repayment_method,
        "disbursed_on": format_date(loan.disbursed_on, format="long", locale=region_locale(locale))
        if loan.disbursed_on
        else "",
        "lenders": "\n" + "\n".join(lenders) + "\n",
    }


def keep(session, tenant, loan: Loan) -> LoanAgreement | None:
    """Fill the tenant's published template for ``loan`` and keep it — once: a loan keeps its first copy."""
    from ..members.models import Member
    from ..notifications import localizer_for, member_locale

    existing = session.scalars(sa.select(LoanAgreement).where(LoanAgreement.loan_id == loan.id)).first()
    if existing is not None:
        return existing
    borrower = session.get(Member, loan.borrower_id)
    locale = member_locale(tenant, borrower)
    template = public_page(session, SLUG, locale, tenant.default_locale)
    if template is None:
        return None
    localizer = localizer_for(template.locale or locale)
    filled = values(session, tenant, loan, template.locale or locale, localizer.translate)
    agreement = LoanAgreement(
        tenant_id=tenant.id,
        loan_id=loan.id,
        item_id=template.id,
        version=template.version,
        locale=template.locale,
        title=template.title,
        body=fill(template.body, filled),
    )
    session.add(agreement)
    session.flush()
    return agreement


@events.listen("lendstack_loan_status_changed")
def _disbursed(session, tenant_id, loan, old_status, new_status) -> None:
    """A loan that starts repaying (it was just disbursed) keeps its agreement."""
    if str(getattr(new_status, "value", new_status)) != LoanStatus.REPAYING.value or loan.disbursed_on is None:
        return
    from ..tenancy.models import Tenant

    tenant = session.get(Tenant, tenant_id)
    if tenant is not None:
        keep(session, tenant, loan)


def _party(session, loan: Loan, member_id: int) -> bool:
    """Whether the member is the loan's borrower or one of its lenders."""
    if loan.borrower_id == member_id:
        return True
    found = session.scalar(
        sa.select(Bid.id).where(
            Bid.loan_id == loan.id, Bid.member_id == member_id, Bid.status == BidStatus.ACCEPTED.value
        )
    )
    return found is not None


@view_config(route_name="account.loan_agreement", renderer="account/loan_agreement.pt", permission="member")
def agreement_page(request):
    """A loan's agreement, for its borrower and its lenders (anyone else: 404)."""
    session, member_id = request.dbsession, request.identity.principal_id
    number = request.matchdict["number"]
    loan = session.scalars(sa.select(Loan).where(Loan.number == number[:20])).first()
    if loan is None or not _party(session, loan, member_id):
        raise HTTPNotFound()
    agreement = session.scalars(sa.select(LoanAgreement).where(LoanAgreement.loan_id == loan.id)).first()
    if agreement is None:
        raise HTTPNotFound()
    return {"loan": loan, "agreement": agreement, "body": markup.render(agreement.body)}


def includeme(config):
    config.add_route("account.loan_agreement", "/account/loans/{number}/agreement", host_kind="tenant")
    config.scan("core.loans.agreement")
