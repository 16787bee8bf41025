"""Back office: a customer's documents, relationships, shareholders and accounts, and financial statements."""

from __future__ import annotations

from pyramid.httpexceptions import HTTPForbidden, HTTPNotFound, HTTPSeeOther
from pyramid.response import FileResponse, Response
from pyramid.view import view_config

from ... import audit
from ...forms import by_field, on_refusal
from ...i18n import _
from ...templating import TemplateHelpers
from . import documents, parties, statements
from .inputs import CustomerError
from .models import BankAccount, CustomerKind, Shareholder
from .ratios import RATIOS, ratios
from .views import EDIT, customer_or_404, readable

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _back(request, route: str, customer):
    return HTTPSeeOther(request.route_path(route, id=customer.id))


# -- documents -------------------------------------------------------------------------------------------


@view_config(
    route_name="admin.credit.customer_documents", renderer="admin/credit/customers/documents.pt", permission=EDIT
)
def customer_documents(request):
    """The customer's documents and the upload form (POST uploads one)."""
    customer = customer_or_404(request)
    session = request.dbsession
    data = {
        "customer": customer,
        "documents": documents.documents_of(session, customer),
        "kinds": documents.KINDS,
        "form": dict(request.POST) if request.method == "POST" else {},
        "errors": {},
    }
    if request.method != "POST":
        return data
    on_refusal(request, lambda error: by_field(data, error))
    upload = request.POST.get("file")
    stored = documents.store(
        session,
        request.registry.settings_obj,
        customer,
        kind=str(request.POST.get("kind", "")),
        filename=getattr(upload, "filename", "") or "",
        data=documents.read_upload(upload),
        by=audit.actor_of(request),
    )
    audit.record(
        request,
        "credit.customer.document.upload",
        "credit_customer_document",
        stored.id,
        None,
        {"customer": customer.number, "kind": stored.kind, "name": stored.filename},
    )
    return _back(request, "admin.credit.customer_documents", customer)


@view_config(route_name="admin.credit.customer_document", permission=EDIT)
def customer_document(request):
    """One document, to staff with ``credit.customer`` only; every opening is audited."""
    customer = customer_or_404(request)
    document = documents.document_of(request.dbsession, customer, request.matchdict["doc"])
    if document is None:
        raise HTTPNotFound()
    path = documents.path_of(request.registry.settings_obj, document)
    if not path.is_file():
        raise HTTPNotFound()
    audit.record(
        request,
        "credit.customer.document.open",
        "credit_customer_document",
        document.id,
        None,
        {"customer": customer.number, "name": document.filename},
    )
    response = FileResponse(str(path), request=request, content_type=document.content_type)
    response.content_disposition = f'inline; filename="document-{document.id}"'
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


# -- relationships ---------------------------------------------------------------------------------------


@view_config(
    route_name="admin.credit.customer_relations", renderer="admin/credit/customers/relations.pt", permission=EDIT
)
def customer_relations(request):
    """The customer's relationships; POST adds one (``action=add``) or removes one (``action=remove``)."""
    customer = customer_or_404(request)
    session = request.dbsession
    data = {
        "customer": customer,
        "relations": parties.relations_of(session, customer),
        "kinds": parties.RELATION_KINDS,
        "form": dict(request.POST) if request.method == "POST" else {},
        "errors": {},
    }
    if request.method != "POST":
        return data
    on_refusal(request, lambda error: by_field(data, error))
    if request.POST.get("action") == "remove":
        relation = parties.remove_relation(session, customer, request.POST.get("relation"))
        audit.record(
            request,
            "credit.customer.relation.remove",
            "credit_customer",
            customer.id,
            {"name": customer.name, "kind": relation.kind, "related": relation.related_id},
            None,
        )
    else:
        relation = parties.add_relation(session, customer, request.POST)
        audit.record(
            request,
            "credit.customer.relation.add",
            "credit_customer",
            customer.id,
            None,
            {"name": customer.name, "kind": relation.kind, "related": relation.related_id},
        )
    return _back(request, "admin.credit.customer_relations", customer)


# -- a company's shareholders and accounts ---------------------------------------------------------------


@view_config(route_name="admin.credit.customer_company", renderer="admin/credit/customers/company.pt", permission=EDIT)
def customer_company(request):
    """A company's shareholders and bank accounts; POST ``action`` adds or removes one."""
    customer = customer_or_404(request)
    if customer.kind != CustomerKind.CORPORATE.value:
        raise HTTPNotFound()
    session = request.dbsession
    data = {
        "customer": customer,
        "shareholders": parties.shareholders_of(session, customer),
        "accounts": parties.bank_accounts_of(session, customer),
        "form": dict(request.POST) if request.method == "POST" else {},
        "errors": {},
    }
    if request.method != "POST":
        return data
    on_refusal(request, lambda error: by_field(data, error))
    action = request.POST.get("action", "")
    if action == "add_shareholder":
        row = parties.add_shareholder(session, customer, request.POST)
        after = {"name": row.name, "share_percent": str(row.share_percent)}
    elif action == "add_account":
        row = parties.add_bank_account(session, customer, request.POST)
        after = {"bank_name": row.bank_name, "account": row.account_number[-4:]}
    elif action in ("remove_shareholder", "remove_account"):
        model = Shareholder if action == "remove_shareholder" else BankAccount
        row = parties.remove_row(session, customer, model, request.POST.get("row"))
        after = None
    else:
        raise CustomerError("action", _("Choose what to do."))
    audit.record(request, f"credit.customer.{action}", "credit_customer", customer.id, None, after)
    return _back(request, "admin.credit.customer_company", customer)


# -- financial statements --------------------------------------------------------------------------------


def _statements_page(request, customer) -> dict:
    rows = statements.statements_of(request.dbsession, customer)
    return {
        "customer": customer,
        "statements": [(s, ratios(s)) for s in rows],
        "lines": statements.LINES,
        "sections": statements.SECTIONS,
        "periods": statements.PERIOD_KINDS,
        "ratio_labels": RATIOS,
        "can_edit": bool(request.has_permission(EDIT)),
        "form": dict(request.POST) if request.method == "POST" else {"period_kind": "annual"},
        "errors": {},
    }


@view_config(
    route_name="admin.credit.customer_statements",
    renderer="admin/credit/customers/statements.pt",
    permission="staff",
)
def customer_statements(request):
    """A company's statements with their ratios; POST enters one (``action=enter``), imports an XLSX
    (``action=import``) or deletes one (``action=delete``) — with ``credit.customer``."""
    readable(request)
    customer = customer_or_404(request)
    if customer.kind != CustomerKind.CORPORATE.value:
        raise HTTPNotFound()
    data = _statements_page(request, customer)
    if request.method != "POST":
        return data
    if not request.has_permission(EDIT):
        raise HTTPForbidden()
    on_refusal(request, lambda error: by_field(data, error))
    session, tenant, action = request.dbsession, request.tenant, request.POST.get("action", "enter")
    if action == "delete":
        gone = statements.delete(session, customer, request.POST.get("statement"))
        audit.record(
            request,
            "credit.statement.delete",
            "credit_customer",
            customer.id,
            {"name": customer.name, "period_end": gone.period_end.isoformat()},
            None,
        )
        return _back(request, "admin.credit.customer_statements", customer)
    kind, end = statements.period(tenant, request.POST)
    if action == "import":
        upload = request.POST.get("file")
        raw = upload.file.read(statements.MAX_XLSX_BYTES + 1) if getattr(upload, "file", None) else b""
        values = statements.read_xlsx(raw, tenant)
    else:
        values = statements.lines(tenant, request.POST)
    saved = statements.save(session, tenant, customer, kind, end, values, by=audit.actor_of(request))
    audit.record(
        request,
        f"credit.statement.{'import' if action == 'import' else 'enter'}",
        "credit_customer",
        customer.id,
        None,
        {
            "name": customer.name,
            "period_kind": saved.period_kind,
            "period_end": saved.period_end.isoformat(),
        },
    )
    return _back(request, "admin.credit.customer_statements", customer)


@view_config(route_name="admin.credit.statement_template", permission="staff")
def statement_template(request):
    """The empty XLSX template for importing a statement."""
    readable(request)
    body = statements.template_xlsx(TemplateHelpers(request).t)
    response = Response(body=body, content_type=XLSX)
    response.content_disposition = 'attachment; filename="statement-template.xlsx"'
    return response
