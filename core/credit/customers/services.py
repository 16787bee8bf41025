"""Customers: creating, finding and changing them; a member's customer; the related customers of one.

A customer's ``identifier`` (resident ID number or unified social credit code) is unique per tenant among
customers not merged away: creating or changing one to an identifier another live customer has is refused
with :class:`DuplicateCustomer`, which names the existing one. The check runs under the tenant's customer
number counter lock, so two requests creating the same customer at once cannot both pass it.
"""

from __future__ import annotations

import sqlalchemy as sa

from ...i18n import _
from ...members.identity import resident_id_problem
from ...members.models import Member
from ...numbering import next_number
from .inputs import CustomerError, Identity
from .models import CorporateProfile, Customer, CustomerKind, CustomerRelation, IndividualProfile, Shareholder

MAX_SEARCH = 100


class DuplicateCustomer(CustomerError):
    """Another live customer has this identifier: ``existing`` is that customer (the API answers 409)."""

    status = 409

    def __init__(self, field: str, existing: Customer):
        super().__init__(
            field,
            _(
                "Customer ${number} (${name}) has this number already: open it instead.",
                mapping={"number": existing.number, "name": existing.name},
            ),
        )
        self.existing = existing


def get_customer(session, tenant_id: int, customer_id) -> Customer:
    """The tenant's customer ``customer_id``; refused (``customer``) when missing or another tenant's."""
    try:
        wanted = int(customer_id)
    except (TypeError, ValueError):
        wanted = 0
    found = None
    if 0 < wanted < 2**31:
        found = session.scalars(
            sa.select(Customer).where(Customer.tenant_id == tenant_id, Customer.id == wanted)
        ).first()
    if found is None:
        raise CustomerError("customer", _("There is no such customer."))
    return found


def lock_customers(session, tenant_id: int, *customer_ids: int) -> None:
    """Hold the customers' rows (in id order, so two requests never wait on each other crosswise) until the
    transaction ends, refreshed: a change that reads others of their rows first (shares, periods, merges)."""
    session.scalars(
        sa.select(Customer)
        .where(Customer.tenant_id == tenant_id, Customer.id.in_(sorted(set(customer_ids))))
        .order_by(Customer.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).all()


def live(query):
    """``query`` without customers merged into another."""
    return query.where(Customer.merged_into_id.is_(None))


def find_duplicate(session, tenant_id: int, kind: str, identifier: str, excluding: int | None = None):
    """The live customer of this kind with this identifier, other than ``excluding``, or ``None``."""
    query = live(sa.select(Customer)).where(
        Customer.tenant_id == tenant_id, Customer.kind == kind, Customer.identifier == identifier
    )
    if excluding is not None:
        query = query.where(Customer.id != excluding)
    return session.scalars(query.order_by(Customer.id)).first()


def _new_customer(session, tenant, kind: str, name: str, identifier: str, field: str, **columns) -> Customer:
    number = f"C{tenant.business_date:%y%m}{next_number(session, tenant.id, 'customer'):06d}"  # the lock first
    existing = find_duplicate(session, tenant.id, kind, identifier)
    if existing is not None:
        raise DuplicateCustomer(field, existing)
    customer = Customer(tenant_id=tenant.id, number=number, kind=kind, name=name, identifier=identifier, **columns)
    session.add(customer)
    session.flush()
    return customer


def create_individual(
    session, tenant, who: Identity, contact: dict, details: dict, *, member_id=None, manager_id=None
) -> Customer:
    """A new individual customer (a walk-in, or a member's when ``member_id``), with its profile."""
    customer = _new_customer(
        session,
        tenant,
        CustomerKind.INDIVIDUAL.value,
        who.name,
        who.identifier,
        "id_number",
        member_id=member_id,
        relationship_manager_id=manager_id,
        **contact,
    )
    session.add(
        IndividualProfile(
            tenant_id=tenant.id, customer_id=customer.id, id_type=who.id_type, birth_date=who.birth_date, **details
        )
    )
    session.flush()
    return customer


def create_corporate(session, tenant, company: dict, contact: dict, *, manager_id=None) -> Customer:
    """A new corporate customer from :func:`inputs.corporate`'s values and its contact."""
    profile = {k: v for k, v in company.items() if k not in ("name", "identifier")}
    customer = _new_customer(
        session,
        tenant,
        CustomerKind.CORPORATE.value,
        company["name"],
        company["identifier"],
        "credit_code",
        relationship_manager_id=manager_id,
        **contact,
    )
    session.add(CorporateProfile(tenant_id=tenant.id, customer_id=customer.id, **profile))
    session.flush()
    return customer


def ensure_profile(session, customer: Customer):
    """The customer's profile, an empty one made first for a customer entered without one (an import)."""
    if customer.profile is None:
        model = IndividualProfile if customer.is_individual else CorporateProfile
        session.add(model(tenant_id=customer.tenant_id, customer_id=customer.id))
        session.flush()
        session.refresh(customer)
    return customer.profile


def update_individual(session, tenant, customer: Customer, who: Identity | None, contact: dict, details: dict):
    """Change an individual's details; ``who`` ``None`` keeps the identity (a member's comes from their
    verification, not from staff)."""
    if who is not None:
        _change_identity(session, customer, who.name, who.identifier, "id_number")
        customer.individual.id_type, customer.individual.birth_date = who.id_type, who.birth_date
    _set(customer, contact)
    _set(customer.individual, details)
    session.flush()


def update_corporate(session, tenant, customer: Customer, company: dict, contact: dict):
    """Change a company's name, code, registration and contact."""
    _change_identity(session, customer, company["name"], company["identifier"], "credit_code")
    _set(customer, contact)
    _set(customer.corporate, {k: v for k, v in company.items() if k not in ("name", "identifier")})
    session.flush()


def _change_identity(session, customer: Customer, name: str, identifier: str, field: str) -> None:
    if identifier != customer.identifier:
        existing = find_duplicate(session, customer.tenant_id, customer.kind, identifier, excluding=customer.id)
        if existing is not None:
            raise DuplicateCustomer(field, existing)
    customer.name, customer.identifier = name, identifier


def _set(row, values: dict) -> None:
    for key, value in values.items():
        setattr(row, key, value)


def customer_for_member(session, tenant, member: Member) -> Customer:
    """The member's customer, created from the member's verified data when missing.

    A live individual customer with the member's ID number (a walk-in entered before they joined) becomes
    the member's; otherwise a new one is made with their legal name, ID number, phone and email. A member
    without real-name verification is refused (``member``).
    """
    found = live(sa.select(Customer)).where(Customer.tenant_id == tenant.id, Customer.member_id == member.id)
    customer = session.scalars(found.order_by(Customer.id)).first()
    if customer is not None:
        return customer
    if not member.is_verified or not member.id_number:
        raise CustomerError("member", _("The member has not completed real-name verification."))
    identifier = "".join(member.id_number.split()).upper()
    customer = find_duplicate(session, tenant.id, CustomerKind.INDIVIDUAL.value, identifier)
    if customer is not None and customer.member_id in (None, member.id):
        customer.member_id = member.id
        session.flush()
        return customer
    resident = member.id_type in ("", "cn_resident") and resident_id_problem(identifier, tenant.business_date) is None
    born = None
    if resident:
        from ...members.identity import birth_date

        born = birth_date(identifier)
    who = Identity(
        member.legal_name or member.display_name, "cn_resident" if resident else "passport", identifier, born
    )
    contact = {"phone": member.phone or "", "email": member.email or "", "address": ""}
    return create_individual(session, tenant, who, contact, {}, member_id=member.id)


def related_customer_ids(session, tenant_id: int, customer_id: int) -> set[int]:
    """Every customer related to this one (spouse, guarantor, related party, shareholder that is a customer,
    company it holds shares in), both directions, without itself."""
    relation = CustomerRelation
    pairs = session.execute(
        sa.select(relation.customer_id, relation.related_id).where(
            relation.tenant_id == tenant_id,
            sa.or_(relation.customer_id == customer_id, relation.related_id == customer_id),
        )
    ).all()
    holdings = session.execute(
        sa.select(Shareholder.customer_id, Shareholder.holder_id).where(
            Shareholder.tenant_id == tenant_id,
            Shareholder.holder_id.is_not(None),
            sa.or_(Shareholder.customer_id == customer_id, Shareholder.holder_id == customer_id),
        )
    ).all()
    return {other for pair in (*pairs, *holdings) for other in pair} - {customer_id}


def search(session, tenant_id: int, query: str = "", *, page: int = 1, per_page: int = 50):
    """Live customers newest first, matching ``query`` in name, number, ID / credit code or phone;
    ``(rows, more)``."""
    select = live(sa.select(Customer)).where(Customer.tenant_id == tenant_id)
    query = " ".join(str(query or "").split())[:MAX_SEARCH].replace("\x00", "")
    if query:
        like = "%" + query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        select = select.where(
            sa.or_(
                Customer.name.ilike(like, escape="\\"),
                Customer.number.ilike(like, escape="\\"),
                Customer.identifier.ilike(like, escape="\\"),
                Customer.phone.ilike(like, escape="\\"),
            )
        )
    page = max(1, min(int(page), 10**6))
    rows = session.scalars(select.order_by(Customer.id.desc()).limit(per_page + 1).offset((page - 1) * per_page)).all()
    return rows[:per_page], len(rows) > per_page


def applications_of(session, customer: Customer):
    """The customer's credit applications, newest first."""
    from ..applications.models import CreditApplication

    return session.scalars(
        sa.select(CreditApplication)
        .where(CreditApplication.tenant_id == customer.tenant_id, CreditApplication.customer_id == customer.id)
        .order_by(CreditApplication.id.desc())
    ).all()


def loans_of(session, customer: Customer):
    """The loans of the customer's member (none for a walk-in), newest first."""
    from ...loans.models import Loan

    if customer.member_id is None:
        return []
    return session.scalars(
        sa.select(Loan)
        .where(Loan.tenant_id == customer.tenant_id, Loan.borrower_id == customer.member_id)
        .order_by(Loan.id.desc())
    ).all()


def open_sign_in(session, tenant, customer: Customer, phone: str) -> Member:
    """Let a walk-in borrower sign in: their member record (made when their loan was paid out, with no way in)
    takes ``phone``, with which they set a password on the site's "forgot password" page — an SMS code proves
    the phone is theirs. Refused for a customer who is no member, a member who has a number already, or a number
    another member of the site holds."""
    from ...members.services import clean_phone

    member = session.get(Member, customer.member_id) if customer.member_id else None
    if member is None or member.tenant_id != tenant.id:
        raise CustomerError(
            "phone", _("This customer has no account on the site yet: it is made when a loan is paid out.")
        )
    if member.phone:
        raise CustomerError("phone", _("This customer's account has a mobile number already: they sign in with it."))
    number = clean_phone(tenant, phone)
    session.execute(sa.select(Member.id).where(Member.id == member.id).with_for_update())
    taken = session.scalar(
        sa.select(Member.id).where(Member.tenant_id == tenant.id, Member.phone == number, Member.id != member.id)
    )
    if taken is not None:
        raise CustomerError("phone", _("Another account of this site has this mobile number."))
    member.phone = number
    if not customer.phone:
        customer.phone = number
    session.flush()
    return member
