"""``/api/v1/admin/customers``: the tenant's credit customers for integrators (staff bearer tokens).

- ``GET /admin/customers?q=&page=``: live customers newest first, searched by name, number, ID number or
  credit code, or phone (50 a page); staff with ``credit.customer``, ``credit.rate`` or ``credit.approve``.
- ``POST /admin/customers``: a new individual or corporate customer (``kind``), checked as the back
  office's forms check it; ``credit.customer``. A duplicate ID number or credit code is a 409 naming the
  field and the existing customer's number.
- ``GET /admin/customers/{id}``: one customer with its details, and for a company its shareholders,
  accounts and latest statements with their ratios.
"""

from __future__ import annotations

from pyramid.httpexceptions import HTTPForbidden
from pyramid.view import view_config

from ... import audit
from ...api import PREFIX, Problem
from ...i18n import _
from ...money import Money
from . import inputs, parties, services
from .inputs import INDIVIDUAL_AMOUNTS, CustomerError
from .models import Customer, CustomerKind
from .ratios import ratios
from .statements import LINE_CODES, statements_of
from .views import EDIT, may_read

API = {"renderer": "json", "openapi": True, "require_csrf": False}
LATEST_STATEMENTS = 4


def _readable(request) -> None:
    if not may_read(request):
        raise HTTPForbidden()


def _amount(minor: int, currency: str) -> str:
    return str(Money(minor, currency))


def _decimal(value) -> str | None:
    return None if value is None else format(value, "f")


def summary_json(request, customer: Customer) -> dict:
    return {
        "id": customer.id,
        "number": customer.number,
        "kind": customer.kind,
        "name": customer.name,
        "identifier": customer.identifier,
        "member_id": customer.member_id,
        "grade": customer.grade,
        "phone": customer.phone,
        "email": customer.email,
        "created_at": customer.created_at.isoformat(),
        "url": request.route_url("admin.credit.customer", id=customer.id),
    }


def _individual_json(customer: Customer, currency: str) -> dict:
    p = customer.individual
    body = {
        "id_type": p.id_type,
        "birth_date": p.birth_date.isoformat() if p.birth_date else None,
        "employer": p.employer,
        "position": p.position,
        "employment_years": p.employment_years,
        "marital_status": p.marital_status or None,
        "dependants": p.dependants,
        "property_count": p.property_count,
    }
    return body | {k: _amount(getattr(p, k), currency) for k in INDIVIDUAL_AMOUNTS}


def _corporate_json(request, customer: Customer, currency: str) -> dict:
    p, session = customer.corporate, request.dbsession
    return {
        "legal_representative": p.legal_representative,
        "registered_capital": _amount(p.registered_capital, currency),
        "industry": p.industry,
        "established_on": p.established_on.isoformat() if p.established_on else None,
        "shareholders": [
            {"name": s.name, "share_percent": _decimal(s.share_percent), "customer_id": s.holder_id}
            for s in parties.shareholders_of(session, customer)
        ],
        "bank_accounts": [
            {"bank_name": a.bank_name, "account_name": a.account_name, "account_number": a.account_number}
            for a in parties.bank_accounts_of(session, customer)
        ],
    }


def statement_json(statement) -> dict:
    body = {
        "period_kind": statement.period_kind,
        "period_end": statement.period_end.isoformat(),
        "currency": statement.currency,
        "lines": {code: _amount(getattr(statement, code), statement.currency) for code in LINE_CODES},
        "ratios": {code: _decimal(value) for code, value in ratios(statement).items()},
    }
    return body


def customer_json(request, customer: Customer) -> dict:
    currency, session = request.tenant.currency, request.dbsession
    merged = session.get(Customer, customer.merged_into_id) if customer.merged_into_id else None
    body = summary_json(request, customer) | {
        "address": customer.address,
        "merged_into": merged.number if merged else None,
        "individual": _individual_json(customer, currency) if customer.individual else None,
        "corporate": _corporate_json(request, customer, currency) if customer.corporate else None,
        "related_customer_ids": sorted(services.related_customer_ids(session, customer.tenant_id, customer.id)),
        "statements": [statement_json(s) for s in statements_of(session, customer)[:LATEST_STATEMENTS]],
    }
    return body


@view_config(route_name="api.credit.customers", request_method="GET", permission="staff", **API)
def list_customers(request):
    _readable(request)
    query = str(request.params.get("q", ""))[:100]
    page = request.openapi_validated.parameters.query.get("page", 1)
    rows, more = services.search(request.dbsession, request.tenant.id, query, page=page)
    return {"q": query.strip(), "page": page, "more": more, "customers": [summary_json(request, c) for c in rows]}


@view_config(route_name="api.credit.customers", request_method="POST", permission=EDIT, **API)
def create_customer(request):
    """A new customer: 201 with its details."""
    body, tenant, session = request.json_body, request.tenant, request.dbsession
    form = {k: v for k, v in body.items() if v is not None}
    contact = inputs.contact(tenant, form)
    manager = request.identity.principal_id
    if body.get("kind") == CustomerKind.INDIVIDUAL.value:
        who = inputs.identity(tenant, form)
        details = inputs.individual_details(tenant, form)
        customer = services.create_individual(session, tenant, who, contact, details, manager_id=manager)
    else:
        company = inputs.corporate(tenant, form)
        customer = services.create_corporate(session, tenant, company, contact, manager_id=manager)
    audit.record(
        request,
        "credit.customer.create",
        "credit_customer",
        customer.id,
        None,
        {"name": customer.name, "number": customer.number, "kind": customer.kind},
    )
    request.response.status = 201
    return customer_json(request, customer)


@view_config(route_name="api.credit.customer", request_method="GET", permission="staff", **API)
def get_customer(request):
    _readable(request)
    try:
        customer = services.get_customer(request.dbsession, request.tenant.id, request.matchdict["id"])
    except CustomerError:
        raise Problem({"id": _("There is no such customer.")}, status=404, title="Not Found") from None
    return customer_json(request, customer)


def includeme(config):
    route = lambda name, pattern: config.add_route(name, f"{PREFIX}{pattern}", host_kind="tenant")  # noqa: E731
    route("api.credit.customers", "/admin/customers")
    route("api.credit.customer", "/admin/customers/{id}")
    config.scan(".api")
