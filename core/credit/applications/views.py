"""Back office pages of applications: my workbench, the status query, a new application, the approval workbench
(with its documents, guarantees, collateral and the step's actions)."""

from __future__ import annotations

from pyramid.httpexceptions import HTTPForbidden, HTTPNotFound, HTTPSeeOther
from pyramid.response import FileResponse
from pyramid.view import view_config

from ... import audit
from ...forms import form_page, on_refusal
from ...i18n import _
from . import documents, engine, products, services, workbench
from .models import ApplicationStatus
from .services import ApplicationError


def _may_see(request) -> None:
    if not (request.has_permission("credit.apply") or request.has_permission("credit.approve")):
        raise HTTPForbidden()


def application_or_404(request, *, lock: bool = False):
    application = services.find_application(request.dbsession, request.matchdict["id"], lock=lock)
    if application is None:
        raise HTTPNotFound()
    return application


@view_config(route_name="admin.credit.workbench", renderer="admin/credit/applications/workbench.pt", permission="staff")
def my_workbench(request):
    """My workbench (我的工作臺): the steps the signed-in person may act on now, overdue first in colour, counted by step."""
    staff = request.identity.user
    rows = engine.queue(request.dbsession, request.tenant, staff) if "credit.approve" in staff.permissions else []
    counts: dict[str, list] = {}
    for _application, _progress, step in rows:
        counts.setdefault(step["code"], [step["name"], 0])[1] += 1
    return {
        "rows": rows,
        "counts": counts,
        "overdue": sum(1 for _a, progress, _s in rows if engine.is_overdue(progress)),
        "is_overdue": engine.is_overdue,
        "drafts": services.search(request.dbsession, status=ApplicationStatus.DRAFT, limit=50)
        if "credit.apply" in staff.permissions
        else [],
        "names": _customer_names(request, [a for a, _p, _s in rows]),
    }


def _customer_names(request, applications) -> dict[int, str]:
    from ..customers.models import Customer

    ids = {a.customer_id for a in applications}
    if not ids:
        return {}
    import sqlalchemy as sa

    return dict(request.dbsession.execute(sa.select(Customer.id, Customer.name).where(Customer.id.in_(ids))).all())


@view_config(route_name="admin.credit.applications", renderer="admin/credit/applications/list.pt", permission="staff")
def application_list(request):
    """The status query (審批狀態查詢): applications filtered by status, product, step and overdue."""
    _may_see(request)
    status = str(request.params.get("status", ""))
    status = status if status in tuple(ApplicationStatus) else ""
    product = (
        products.product_of(request.dbsession, request.params.get("product")) if request.params.get("product") else None
    )
    step = services.query_text(request.params.get("step"))
    overdue = request.params.get("overdue") == "1"
    rows = services.search(
        request.dbsession, status=status, product_id=product.id if product else None, step=step, overdue=overdue
    )
    return {
        "rows": rows,
        "status": status,
        "product": product,
        "step": step,
        "overdue": overdue,
        "statuses": tuple(ApplicationStatus),
        "products": products.products(request.dbsession),
        "product_name": products.product_name,
        "is_overdue": engine.is_overdue,
        "names": _customer_names(request, [a for a, _p in rows]),
    }


@view_config(
    route_name="admin.credit.application_new", renderer="admin/credit/applications/new.pt", permission="credit.apply"
)
def new_application(request):
    """A new application for a customer (by the customer's id) and an active product of their kind."""
    data = form_page(
        request,
        products=products.products(request.dbsession, active_only=True),
        product_name=products.product_name,
        methods=_method_names(request),
    )
    if request.method != "POST":
        return data
    customer = services.customer_named(request.dbsession, request.tenant.id, request.POST.get("customer_id"))
    product = products.product_of(request.dbsession, request.POST.get("product"))
    if product is None:
        raise ApplicationError("product", _("Choose one of the products."))
    application = services.create_application(
        request.dbsession,
        request.tenant,
        request.hooks,
        customer=customer,
        product=product,
        form=request.POST,
        created_by=request.identity.principal_id,
    )
    audit.record(
        request, "credit.application.create", "credit_application", application.number, None, _facts(application)
    )
    return HTTPSeeOther(request.route_path("admin.credit.application", id=application.id))


def _method_names(request) -> dict:
    from ...schedules import repayment_methods

    return {code: method.name for code, method in repayment_methods(request.hooks).items()}


def _facts(application) -> dict:
    return {
        "status": application.status,
        "amount": application.amount,
        "rate": str(application.annual_rate_percent),
        "term_months": application.term_months,
        "method": application.repayment_method,
    }


def _page(request, application, errors=None, form=None) -> dict:
    data = workbench.approval_page(request.dbsession, request.tenant, request.hooks, application, request.identity.user)
    data.update(
        errors=errors or {},
        form=form or {},
        may_apply=bool(request.has_permission("credit.apply")),
        document_types=products.DOCUMENT_TYPES,
        collateral_kinds=services.COLLATERAL_KINDS,
        methods=_method_names(request),
        product_name=products.product_name,
        guarantors=_guarantor_names(request, data["guarantees"]),
        contract_ready=application.status
        in (ApplicationStatus.APPROVED, ApplicationStatus.CONTRACTED, ApplicationStatus.DISBURSED),
        contract_url=_contract_url(request, application),
    )
    return data


def _contract_url(request, application):
    try:
        return request.route_path("admin.credit.application_contract", id=application.id)
    except KeyError:  # the contracts package registers the route
        return None


def _guarantor_names(request, guarantees) -> dict[int, str]:
    from ..customers.models import Customer

    return {g.guarantor_id: request.dbsession.get(Customer, g.guarantor_id).name for g in guarantees}


@view_config(
    route_name="admin.credit.application", renderer="admin/credit/applications/application.pt", permission="staff"
)
def application_page(request):
    """The approval workbench (貸款審批工作臺); a POST is an action: submit, a step's decision, or withdraw."""
    _may_see(request)
    if request.method != "POST":
        return _page(request, application_or_404(request))
    application = application_or_404(request, lock=True)
    action = str(request.POST.get("action", ""))
    if action in ("submit", "withdraw") and not request.has_permission("credit.apply"):
        raise HTTPForbidden()
    before = {"status": application.status, "step": services.progress_of(request.dbsession, application).step}
    on_refusal(request, lambda error: _page(request, application, {error.field: error.message}, dict(request.POST)))
    engine.act(
        request.dbsession,
        request.tenant,
        application,
        request.identity.user,
        action,
        comment=request.POST.get("comment", ""),
        to_step=request.POST.get("to_step", ""),
        step=str(request.POST.get("step", ""))[:40],
    )
    after = {"status": application.status, "step": services.progress_of(request.dbsession, application).step}
    audit.record(request, f"credit.application.{action}", "credit_application", application.number, before, after)
    return HTTPSeeOther(request.route_path("admin.credit.application", id=application.id))


@view_config(
    route_name="admin.credit.application_edit",
    renderer="admin/credit/applications/application.pt",
    permission="credit.apply",
    request_method="POST",
)
def application_edit(request):
    """A draft's terms, guarantees and collateral; a document attached (to a draft or one in review)."""
    application = application_or_404(request, lock=True)
    on_refusal(request, lambda error: _page(request, application, {error.field: error.message}, dict(request.POST)))
    what = str(request.POST.get("what", ""))
    session, tenant = request.dbsession, request.tenant
    if what == "terms":
        before = _facts(application)
        services.change_terms(session, tenant, request.hooks, application, request.POST)
        audit.record(
            request, "credit.application.terms", "credit_application", application.number, before, _facts(application)
        )
    elif what == "guarantee":
        guarantee = services.add_guarantee(session, tenant, application, request.POST)
        audit.record(
            request,
            "credit.application.guarantee",
            "credit_application",
            application.number,
            None,
            {"guarantor": guarantee.guarantor_id, "amount": guarantee.amount},
        )
    elif what == "collateral":
        pledged = services.add_collateral(session, tenant, application, request.POST)
        audit.record(
            request,
            "credit.application.collateral",
            "credit_application",
            application.number,
            None,
            {"kind": pledged.kind, "appraised_value": pledged.appraised_value},
        )
    elif what in ("remove_guarantee", "remove_collateral"):
        services.remove_security(session, application, what.removeprefix("remove_"), request.POST.get("item"))
        audit.record(
            request,
            f"credit.application.{what}",
            "credit_application",
            application.number,
            {"item": str(request.POST.get("item", ""))[:10]},
            None,
        )
    elif what == "document":
        upload = request.POST.get("file")
        document = documents.store(
            session,
            request.registry.settings_obj,
            application,
            doc_type=str(request.POST.get("doc_type", "")),
            filename=getattr(upload, "filename", ""),
            stream=getattr(upload, "file", None),
            uploaded_by=audit.actor_of(request),
        )
        engine.documents_arrived(session, application)
        audit.record(
            request,
            "credit.application.document",
            "credit_application",
            application.number,
            None,
            {"document": document.id, "type": document.doc_type},
        )
    else:
        raise ApplicationError("what", _("Choose what to change."))
    return HTTPSeeOther(request.route_path("admin.credit.application", id=application.id))


@view_config(route_name="admin.credit.application_document", permission="staff")
def application_document(request):
    """A supporting document, only to staff with credit.apply or credit.approve; every opening is audited."""
    _may_see(request)
    application = application_or_404(request)
    document = documents.document_of(request.dbsession, application, request.matchdict["doc"])
    if document is None:
        raise HTTPNotFound()
    path = documents.path_of(request.registry.settings_obj, document)
    if not path.is_file():
        raise HTTPNotFound()
    audit.record(
        request,
        "credit.document.open",
        "credit_application_document",
        document.id,
        None,
        {"application": application.number},
    )
    response = FileResponse(str(path), request=request, content_type=document.content_type)
    response.content_disposition = f'inline; filename="document-{document.id}"'
    response.headers["Cache-Control"] = "no-store"
    return response
