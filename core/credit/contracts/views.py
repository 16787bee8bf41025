"""Back office: contracts (credit.contract), the disbursement workbench and the lending fund (credit.disburse)."""

from __future__ import annotations

import datetime as dt

from pyramid.httpexceptions import HTTPNotFound, HTTPSeeOther
from pyramid.response import Response
from pyramid.view import view_config

from ... import audit
from ...forms import on_refusal
from ...i18n import _
from ...ledger import Ledger
from ...notifications import localizer_for
from ..applications.models import CreditProduct
from ..customers.models import Customer
from . import contracts, disbursement, fund
from .errors import ContractError
from .models import APPLICATION_LABELS, LABELS, Contract, ContractStatus
from .terms import product_name


def _application_or_404(request, *, lock: bool = False):
    find = contracts.locked_application if lock else contracts.find_application
    application = find(request.dbsession, request.matchdict["id"])
    if application is None:
        raise HTTPNotFound()
    return application


def _contract_page(request, application, *, error=None) -> dict:
    session = request.dbsession
    found = contracts.versions(session, application.id)
    latest = found[0] if found else None
    paid = disbursement.disbursement_of(session, application.id)
    return {
        "application": application,
        "customer": session.get(Customer, application.customer_id),
        "product_name": product_name(session.get(CreditProduct, application.product_id), request.locale_name),
        "contract": latest,
        "versions": found,
        "disbursement": paid,
        "can_draw": application.status == "approved" and (latest is None or latest.status == ContractStatus.DRAFT),
        "can_sign": application.status == "approved" and latest is not None and latest.status == ContractStatus.DRAFT,
        "can_cancel": application.status in ("approved", "contracted") and (paid is None or paid.status == "prepared"),
        "locales": request.tenant.locales,
        "term": _("${n} months", mapping={"n": application.term_months}),
        "application_labels": APPLICATION_LABELS,
        "labels": LABELS,
        "error": error,
    }


@view_config(
    route_name="admin.credit.contracts", renderer="admin/credit/contracts/list.pt", permission="credit.contract"
)
def contract_list(request):
    """The contracts in force, newest first (drawn up and waiting for signing, or signed)."""
    status = request.params.get("status", "")
    return {
        "rows": contracts.listing(request.dbsession, status=status),
        "status": status if status in ("draft", "signed") else "",
        "labels": LABELS,
        "filters": {"status": status},
    }


@view_config(
    route_name="admin.credit.application_contract",
    request_method="GET",
    renderer="admin/credit/contracts/contract.pt",
    permission="credit.contract",
)
def contract_page(request):
    """An application's contract: its versions, drawing it up, recording its signing."""
    return _contract_page(request, _application_or_404(request))


@view_config(
    route_name="admin.credit.application_contract",
    request_method="POST",
    renderer="admin/credit/contracts/contract.pt",
    permission="credit.contract",
)
def contract_act(request):
    """Draw the contract up (again, before signing), record its signing with the signed scan, or cancel the
    application the customer does not take up."""
    application = _application_or_404(request, lock=True)
    on_refusal(request, lambda error: _contract_page(request, application, error=error.message))
    settings, by = request.registry.settings_obj, audit.actor_of(request)
    before = {"status": application.status}
    if request.POST.get("action") == "cancel":
        reason = request.POST.get("reason", "")
        disbursement.cancel(request.dbsession, application, reason=reason, by=by)
        after = {"status": application.status, "reason": reason.strip()}
        audit.record(request, "credit.application.cancel", "credit_application", application.id, before, after)
    elif request.POST.get("action") == "sign":
        scan = request.POST.get("scan")
        has_file = hasattr(scan, "file")
        contract = contracts.sign(
            request.dbsession,
            settings,
            request.tenant,
            application,
            filename=scan.filename if has_file else "",
            content_type=scan.type if has_file else "",
            stream=scan.file if has_file else None,
            by=by,
        )
        after = {"status": application.status, "contract": contract.number, "scan_sha256": contract.scan_sha256}
        audit.record(request, "credit.contract.sign", "credit_contract", contract.id, before, after)
    else:
        locale = request.POST.get("locale") or request.tenant.default_locale
        contract = contracts.draw_up(
            request.dbsession,
            settings,
            request.tenant,
            request.hooks,
            application,
            locale=locale,
            by=by,
            translate=localizer_for(locale).translate,
        )
        after = {"contract": contract.number, "version": contract.version, "pdf_sha256": contract.pdf_sha256}
        audit.record(request, "credit.contract.draw_up", "credit_contract", contract.id, None, after)
    return HTTPSeeOther(request.route_path("admin.credit.application_contract", id=application.id))


def _file(request, contract: Contract, key: str, content_type: str, name: str) -> Response:
    data = contracts.read(request.registry.settings_obj, contract.tenant_id, key)
    if data is None:
        raise HTTPNotFound()
    response = Response(body=data, content_type=content_type)
    response.content_disposition = f'inline; filename="{name}"'
    response.headers["Cache-Control"] = "no-store"
    return response


def _contract_or_404(request) -> Contract:
    contract = request.dbsession.get(Contract, int(request.matchdict["id"]))
    if contract is None or contract.tenant_id != request.tenant.id:
        raise HTTPNotFound()
    return contract


@view_config(route_name="admin.credit.contract_pdf", permission="credit.contract")
def contract_pdf(request):
    """A contract version's PDF, as drawn up."""
    contract = _contract_or_404(request)
    return _file(request, contract, contract.pdf_key, "application/pdf", f"{contract.number}-v{contract.version}.pdf")


@view_config(route_name="admin.credit.contract_scan", permission="credit.contract")
def contract_scan(request):
    """The signed scan of a contract, to staff with ``credit.contract`` only; every opening is audited."""
    contract = _contract_or_404(request)
    if not contract.scan_key:
        raise HTTPNotFound()
    audit.record(request, "credit.contract.scan.open", "credit_contract", contract.id)
    return _file(request, contract, contract.scan_key, contract.scan_type, f"{contract.number}-signed")


def _workbench(request, *, error=None) -> dict:
    session = request.dbsession
    return {
        "waiting": disbursement.waiting(session),
        "recent": disbursement.recent(session),
        "fund_available": fund.available(session, request.tenant),
        "currency": request.tenant.currency,
        "business_date": request.tenant.business_date,
        "me": audit.actor_of(request),
        "same_person": fund.same_person,
        "labels": LABELS,
        "error": error,
    }


@view_config(
    route_name="admin.credit.disbursements",
    request_method="GET",
    renderer="admin/credit/contracts/disbursements.pt",
    permission="credit.disburse",
)
def disbursement_workbench(request):
    """出賬工作臺: signed contracts waiting for their money, and the latest disbursements."""
    return _workbench(request)


def parse_value_date(text) -> dt.date | None:
    """The value date a maker typed (``YYYY-MM-DD``), ``None`` when left empty."""
    text = str(text or "").strip()
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text[:10])
    except ValueError:
        raise ContractError("value_date", _("Enter a date such as 2026-12-31.")) from None


def act_on_disbursement(request, application, action: str, value_date_text: str = ""):
    """Prepare (the maker, for ``value_date_text``: empty for the business date) or approve (the checker)
    ``application``'s disbursement, audited; the page and the API act through here. ``application`` must be
    locked."""
    session, tenant, by = request.dbsession, request.tenant, audit.actor_of(request)
    before = {"status": application.status}
    if action == "approve":
        done = disbursement.approve(session, tenant, request.hooks, application, by=by)
    elif action == "prepare":
        value_date = parse_value_date(value_date_text)
        done = disbursement.prepare(session, tenant, application, value_date=value_date, by=by)
    else:
        raise ContractError("action", _("Choose to prepare or to approve."))
    after = {"status": application.status, "disbursement": done.status, "loan_id": done.loan_id}
    audit.record(request, f"credit.disbursement.{action}", "credit_application", application.id, before, after)
    return done


@view_config(
    route_name="admin.credit.disbursement_act",
    request_method="POST",
    renderer="admin/credit/contracts/disbursements.pt",
    permission="credit.disburse",
)
def disbursement_act(request):
    application = _application_or_404(request, lock=True)
    on_refusal(request, lambda error: _workbench(request, error=error.message))
    act_on_disbursement(request, application, request.POST.get("action", ""), request.POST.get("value_date", ""))
    return HTTPSeeOther(request.route_path("admin.credit.disbursements"))


HISTORY = 50


def _fund_page(request, *, error=None, form=None) -> dict:
    session, tenant = request.dbsession, request.tenant
    lender = fund.house_lender(session, tenant)
    wallet = fund.wallet(session, tenant)
    entries = Ledger(session, tenant.id).history(wallet.available, limit=HISTORY)
    return {
        "lender": lender,
        "funds": wallet.funds(),
        "entries": entries,
        "currency": tenant.currency,
        "injections": fund.injections(session),
        "labels": LABELS,
        "me": audit.actor_of(request),
        "same_person": fund.same_person,
        "error": error,
        "form": form or {},
    }


@view_config(
    route_name="admin.credit.lending_fund",
    request_method="GET",
    renderer="admin/credit/contracts/fund.pt",
    permission="credit.disburse",
)
def fund_page(request):
    """The lending fund: what it holds, its movements, capital injections."""
    return _fund_page(request)


@view_config(
    route_name="admin.credit.lending_fund",
    request_method="POST",
    renderer="admin/credit/contracts/fund.pt",
    permission="credit.disburse",
)
def fund_injection_request(request):
    """Ask for a capital injection; another person approves it."""
    form = {k: request.POST.get(k, "") for k in ("amount", "reason")}
    on_refusal(request, lambda error: _fund_page(request, error=error.message, form=form))
    injection = fund.request_injection(
        request.dbsession, request.tenant, amount_text=form["amount"], reason=form["reason"], by=audit.actor_of(request)
    )
    after = {"amount": injection.amount, "currency": injection.currency, "reason": injection.reason}
    audit.record(request, "credit.lending_fund.request", "credit_fund_injection", injection.id, None, after)
    return HTTPSeeOther(request.route_path("admin.credit.lending_fund"))


@view_config(
    route_name="admin.credit.lending_fund_decide",
    request_method="POST",
    renderer="admin/credit/contracts/fund.pt",
    permission="credit.disburse",
)
def fund_injection_decide(request):
    """Approve (the money moves) or reject another person's capital injection."""
    injection = fund.find_locked(request.dbsession, request.matchdict["id"])
    if injection is None:
        raise HTTPNotFound()
    on_refusal(request, lambda error: _fund_page(request, error=error.message))
    approve = request.POST.get("decision") == "approve"
    before = {"status": injection.status}
    fund.decide_injection(request.dbsession, request.tenant, injection, approve=approve, by=audit.actor_of(request))
    audit.record(
        request,
        "credit.lending_fund.decide",
        "credit_fund_injection",
        injection.id,
        before,
        {"status": injection.status},
    )
    return HTTPSeeOther(request.route_path("admin.credit.lending_fund"))
