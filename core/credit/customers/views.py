"""Back office: the customer list and search, new and changed customers, a customer's page, merging.

Changing anything needs ``credit.customer``; reading a customer (the list, its page, its statements) is
open to staff who rate or approve as well (``credit.rate``, ``credit.approve``).
"""

from __future__ import annotations

import sqlalchemy as sa
from pyramid.httpexceptions import HTTPForbidden, HTTPNotFound, HTTPSeeOther
from pyramid.view import view_config

from ... import audit
from ...admin.views import page_number
from ...forms import by_field, on_refusal
from ...members.models import Member
from ...templating import TemplateHelpers
from . import inputs, parties, services
from .identifiers import INDUSTRIES
from .inputs import ID_TYPE_LABELS, INDIVIDUAL_AMOUNTS, CustomerError
from .models import Customer, CustomerKind, MaritalStatus
from .ratios import RATIOS, ratios
from .statements import statements_of

EDIT = "credit.customer"
READERS = ("credit.customer", "credit.rate", "credit.approve")
PAGE_SIZE = 50


def may_read(request) -> bool:
    """Whether the signed-in staff member may read customers."""
    return any(request.has_permission(p) for p in READERS)


def readable(request) -> None:
    if not may_read(request):
        raise HTTPForbidden()


def customer_or_404(request) -> Customer:
    """The customer of the route's ``id`` (this tenant's only), or 404."""
    try:
        return services.get_customer(request.dbsession, request.tenant.id, request.matchdict["id"])
    except CustomerError:
        raise HTTPNotFound() from None


def facts_of(customer: Customer) -> dict:
    """What the page shows about the customer, for the audit log."""
    return {"name": customer.name, "number": customer.number, "kind": customer.kind}


def _refused_page(data: dict):
    def page(error):
        by_field(data, error)
        data["duplicate"] = getattr(error, "existing", None)
        return data

    return page


# -- list ------------------------------------------------------------------------------------------------


@view_config(route_name="admin.credit.customers", renderer="admin/credit/customers/list.pt", permission="staff")
def customer_list(request):
    readable(request)
    query = str(request.params.get("q", ""))[:100].strip()
    page = page_number(request)
    rows, more = services.search(request.dbsession, request.tenant.id, query, page=page, per_page=PAGE_SIZE)
    return {"customers": rows, "q": query, "page": page, "more": more, "can_edit": bool(request.has_permission(EDIT))}


# -- new and changed -------------------------------------------------------------------------------------


def _choices() -> dict:
    return {
        "id_types": ID_TYPE_LABELS,
        "maritals": [m.value for m in MaritalStatus],
        "industries": INDUSTRIES,
        "amount_fields": INDIVIDUAL_AMOUNTS,
        "duplicate": None,
        "errors": {},
    }


def _individual_form(customer: Customer, h) -> dict:
    p = customer.individual
    form = {
        "name": customer.name,
        "id_type": p.id_type,
        "id_number": customer.identifier,
        "birth_date": p.birth_date.isoformat() if p.birth_date else "",
        "phone": customer.phone,
        "email": customer.email,
        "address": customer.address,
        "employer": p.employer,
        "position": p.position,
        "marital_status": p.marital_status,
    }
    form |= {k: str(getattr(p, k)) for k in ("employment_years", "dependants", "property_count")}
    return form | {k: h.money_plain(getattr(p, k)) for k in INDIVIDUAL_AMOUNTS}


def _corporate_form(customer: Customer, h) -> dict:
    p = customer.corporate
    return {
        "name": customer.name,
        "credit_code": customer.identifier,
        "legal_representative": p.legal_representative,
        "registered_capital": h.money_plain(p.registered_capital),
        "industry": p.industry,
        "established_on": p.established_on.isoformat() if p.established_on else "",
        "phone": customer.phone,
        "email": customer.email,
        "address": customer.address,
    }


@view_config(
    route_name="admin.credit.customer_new_individual",
    renderer="admin/credit/customers/individual_form.pt",
    permission=EDIT,
)
def new_individual(request):
    data = {**_choices(), "customer": None, "form": dict(request.POST)}
    if request.method != "POST":
        data["form"] = {"id_type": "cn_resident"}
        return data
    on_refusal(request, _refused_page(data))
    tenant, form = request.tenant, request.POST
    who = inputs.identity(tenant, form)
    contact, details = inputs.contact(tenant, form), inputs.individual_details(tenant, form)
    customer = services.create_individual(
        request.dbsession, tenant, who, contact, details, manager_id=request.identity.principal_id
    )
    audit.record(request, "credit.customer.create", "credit_customer", customer.id, None, facts_of(customer))
    return HTTPSeeOther(request.route_path("admin.credit.customer", id=customer.id))


@view_config(
    route_name="admin.credit.customer_new_corporate",
    renderer="admin/credit/customers/corporate_form.pt",
    permission=EDIT,
)
def new_corporate(request):
    data = {**_choices(), "customer": None, "form": dict(request.POST)}
    if request.method != "POST":
        data["form"] = {}
        return data
    on_refusal(request, _refused_page(data))
    tenant = request.tenant
    company, contact = inputs.corporate(tenant, request.POST), inputs.contact(tenant, request.POST)
    customer = services.create_corporate(
        request.dbsession, tenant, company, contact, manager_id=request.identity.principal_id
    )
    audit.record(request, "credit.customer.create", "credit_customer", customer.id, None, facts_of(customer))
    return HTTPSeeOther(request.route_path("admin.credit.customer", id=customer.id))


@view_config(route_name="admin.credit.customer_edit", permission=EDIT)
def edit_customer(request):
    """The individual's or the company's form, filled in; POST saves it."""
    from pyramid.renderers import RendererHelper

    customer = customer_or_404(request)
    services.ensure_profile(request.dbsession, customer)
    h = TemplateHelpers(request)
    individual = customer.is_individual
    name = f"admin/credit/customers/{'individual' if individual else 'corporate'}_form.pt"
    renderer = request.page_renderer = RendererHelper(name, registry=request.registry)  # drawn again on refusal
    data = {**_choices(), "customer": customer}
    if request.method != "POST":
        data["form"] = _individual_form(customer, h) if individual else _corporate_form(customer, h)
        return renderer.render_to_response(data, None, request=request)
    data["form"] = dict(request.POST)
    on_refusal(request, _refused_page(data))
    before, tenant, form = facts_of(customer), request.tenant, request.POST
    if individual:
        who = None if customer.member_id else inputs.identity(tenant, form)
        contact, details = inputs.contact(tenant, form), inputs.individual_details(tenant, form)
        services.update_individual(request.dbsession, tenant, customer, who, contact, details)
    else:
        company, contact = inputs.corporate(tenant, form), inputs.contact(tenant, form)
        services.update_corporate(request.dbsession, tenant, customer, company, contact)
    audit.record(request, "credit.customer.update", "credit_customer", customer.id, before, facts_of(customer))
    return HTTPSeeOther(request.route_path("admin.credit.customer", id=customer.id))


# -- a customer's page -----------------------------------------------------------------------------------


def _ratings(request, customer: Customer):
    """The customer's ratings, newest first, as the rating package lists them."""
    from ..rating import services as rating_services

    return rating_services.ratings_of(request.dbsession, request.tenant.id, customer.id)


@view_config(route_name="admin.credit.customer", renderer="admin/credit/customers/detail.pt", permission="staff")
def customer_detail(request):
    readable(request)
    return _detail(request, customer_or_404(request))


def _detail(request, customer: Customer, *, sign_in_error=None, opened: bool = False) -> dict:
    session = request.dbsession
    account = session.get(Member, customer.member_id) if customer.member_id else None
    statements = statements_of(session, customer) if customer.kind == CustomerKind.CORPORATE.value else []
    return {
        "customer": customer,
        "merged_into": session.get(Customer, customer.merged_into_id) if customer.merged_into_id else None,
        "profile": customer.profile,
        "member": customer.member_id,
        "relations": parties.relations_of(session, customer),
        "shareholders": parties.shareholders_of(session, customer),
        "accounts": parties.bank_accounts_of(session, customer),
        "statement": statements[0] if statements else None,
        "ratios": ratios(statements[0]) if statements else {},
        "ratio_labels": RATIOS,
        "applications": services.applications_of(session, customer),
        "loans": services.loans_of(session, customer),
        "ratings": _ratings(request, customer),
        "can_edit": bool(request.has_permission(EDIT)),
        # a walk-in borrower's account, made at pay-out with no way in: staff give it the person's mobile
        "needs_sign_in": account is not None and not account.phone,
        "sign_in_error": sign_in_error,
        "opened": opened or request.params.get("opened") == "1",
    }


@view_config(
    route_name="admin.credit.customer_sign_in",
    request_method="POST",
    renderer="admin/credit/customers/detail.pt",
    permission=EDIT,
)
def open_customer_sign_in(request):
    """Give a walk-in borrower's account their mobile number: they set a password with it ("forgot password")."""
    customer = customer_or_404(request)
    on_refusal(request, lambda error: _detail(request, customer, sign_in_error=error.message))
    member = services.open_sign_in(request.dbsession, request.tenant, customer, request.POST.get("phone", ""))
    audit.record(request, "credit.customer.sign_in", "credit_customer", customer.id, None, {"member": member.id})
    return HTTPSeeOther(request.route_path("admin.credit.customer", id=customer.id, _query={"opened": 1}))


# -- merging ---------------------------------------------------------------------------------------------


@view_config(route_name="admin.credit.customer_merge", renderer="admin/credit/customers/merge.pt", permission=EDIT)
def merge_customer(request):
    """Merge another record of this customer (same ID number or credit code) into this one."""
    kept = customer_or_404(request)
    session = request.dbsession
    candidates = session.scalars(
        services.live(sa.select(Customer))
        .where(Customer.kind == kept.kind, Customer.identifier == kept.identifier, Customer.id != kept.id)
        .order_by(Customer.id)
    ).all()
    data = {"customer": kept, "candidates": candidates, "form": dict(request.POST), "errors": {}}
    if request.method != "POST" or kept.merged_into_id is not None:
        return data
    on_refusal(request, lambda error: by_field(data, error))
    other = next((c for c in candidates if str(c.id) == str(request.POST.get("other", ""))), None)
    if other is None:
        try:
            other = services.get_customer(session, request.tenant.id, request.POST.get("other"))
        except CustomerError as error:
            raise CustomerError("other", error.message) from None
    moved = parties.merge(session, kept, other)
    audit.record(
        request,
        "credit.customer.merge",
        "credit_customer",
        kept.id,
        {"merged": other.number, "name": other.name},
        {"number": kept.number, "name": kept.name, **moved},
    )
    return HTTPSeeOther(request.route_path("admin.credit.customer", id=kept.id))
