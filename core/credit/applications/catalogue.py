"""Back office pages of products (貸款業務種類管理) and approval workflows (貸款審批流程維護), ``credit.workflow``.

A workflow is edited as the same TOML the ``lendstack credit workflow`` command exports and imports, and checked
by the same rules (:mod:`.workflows`).
"""

from __future__ import annotations

from pyramid.httpexceptions import HTTPNotFound, HTTPSeeOther
from pyramid.view import view_config

from ... import audit
from ...forms import form_page, on_refusal
from ...i18n import _
from ...loan_types import loan_types
from ...loans import cost
from ...schedules import repayment_methods
from . import products, workflows
from .models import FundingSource

PERMISSION = "credit.workflow"


def _choices(request) -> dict:
    return {
        "locales": request.tenant.locales,
        "kinds": products.KIND_LABELS,
        "fundings": products.FUNDING_LABELS,
        "loan_types": {code: t.name for code, t in loan_types(request.hooks).items()},
        "methods": {code: m.name for code, m in repayment_methods(request.hooks).items()},
        "document_types": products.DOCUMENT_TYPES,
        "workflows": workflows.all_latest(request.dbsession),
        "fee_percent": str((request.tenant.lending or {}).get("borrower_fee_percent", "0")),
        "fee_mode": cost.fee_mode(request.tenant),
        "cap": request.tenant.max_annual_rate_percent,
        "product_name": products.product_name,
    }


@view_config(
    route_name="admin.credit.products", renderer="admin/credit/applications/products.pt", permission=PERMISSION
)
def product_list(request):
    return {"products": products.products(request.dbsession), **_choices(request)}


@view_config(
    route_name="admin.credit.product_new", renderer="admin/credit/applications/product.pt", permission=PERMISSION
)
@view_config(route_name="admin.credit.product", renderer="admin/credit/applications/product.pt", permission=PERMISSION)
def product_page(request):
    """Create a product, or change one (deactivate: untick "offered"; applications made keep it)."""
    product = None
    if "id" in request.matchdict:
        product = products.product_of(request.dbsession, request.matchdict["id"])
        if product is None:
            raise HTTPNotFound()
    data = form_page(request, product=product, **_choices(request))
    if request.method != "POST":
        data["form"] = (
            products.product_form(product, request.tenant.currency)
            if product
            else {"active": "on", "workflow_code": "standard", "funding_source": FundingSource.OWN_FUNDS}
        )
        return data
    data["form"]["repayment_methods"] = request.POST.getall("repayment_methods")
    data["form"]["required_documents"] = request.POST.getall("required_documents")
    before = products.product_facts(product) if product else None
    saved = products.save_product(request.dbsession, request.tenant, request.hooks, request.POST, product)
    audit.record(request, "credit.product.save", "credit_product", saved.code, before, products.product_facts(saved))
    return HTTPSeeOther(request.route_path("admin.credit.products"))


TEMPLATE = """[workflows.{code}]
name = "…"

[[workflows.{code}.steps]]
code = "review"
name = "…"
role = "risk_officer"
actions = ["approve", "reject", "return"]
hours = 24
"""


@view_config(
    route_name="admin.credit.workflows", renderer="admin/credit/applications/workflows.pt", permission=PERMISSION
)
def workflow_list(request):
    """The workflows (their newest versions); a POST imports TOML (new workflows or new versions)."""
    data = form_page(request, workflows=workflows.all_latest(request.dbsession), error_path=None)
    if request.method != "POST":
        data["form"] = {"toml": TEMPLATE.format(code="new_workflow")}
        return data
    on_refusal(request, lambda error: _toml_refused(data, error))
    saved = workflows.import_toml(
        request.dbsession, request.tenant, str(request.POST.get("toml", "")), actor=audit.actor_of(request)
    )
    for workflow, outcome in saved:
        audit.record(
            request,
            f"credit.workflow.{outcome}",
            "credit_workflow",
            workflow.code,
            None,
            {"version": workflow.version, "steps": workflow.steps},
        )
    return HTTPSeeOther(request.route_path("admin.credit.workflows"))


@view_config(
    route_name="admin.credit.workflow", renderer="admin/credit/applications/workflow.pt", permission=PERMISSION
)
def workflow_page(request):
    """One workflow: its versions, its steps, and its definition as TOML to edit (a used version gets a successor)."""
    code = str(request.matchdict["code"])
    current = workflows.latest(request.dbsession, code)
    if current is None:
        raise HTTPNotFound()
    currency = request.tenant.currency
    data = form_page(
        request,
        workflow=current,
        versions=workflows.versions(request.dbsession, code),
        units=_unit_names(request),
        error_path=None,
    )
    if request.method != "POST":
        data["form"] = {"toml": workflows.to_toml(request.dbsession, [current], currency)}
        return data
    on_refusal(request, lambda error: _toml_refused(data, error))
    definitions = workflows.from_toml(str(request.POST.get("toml", "")))
    if set(definitions) != {code}:
        raise workflows.WorkflowError("toml", _("Keep this workflow's code: edit one workflow here."))
    saved, outcome = workflows.save_workflow(
        request.dbsession, request.tenant, code, definitions[code], actor=audit.actor_of(request)
    )
    audit.record(
        request,
        f"credit.workflow.{outcome}",
        "credit_workflow",
        code,
        {"version": current.version},
        {"version": saved.version, "steps": saved.steps},
    )
    return HTTPSeeOther(request.route_path("admin.credit.workflow", code=code))


def _toml_refused(data: dict, error) -> dict:
    """A refused definition: the message by the TOML field, with the path at fault (``steps.2.return_to``)."""
    data["errors"] = {"toml": error.message}
    data["error_path"] = error.field
    return data


def _unit_names(request) -> dict:
    import sqlalchemy as sa

    from ...accounts.models import OrgUnit

    return dict(request.dbsession.execute(sa.select(OrgUnit.id, OrgUnit.name)).all())
