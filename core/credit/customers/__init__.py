"""Credit customers (see core/credit/__init__.py): individuals and companies, their relationships,
documents and financial statements; the facts rating scorecards read (:mod:`.facts`)."""

from __future__ import annotations

from ...i18n import _

KIND_LABELS = {"individual": _("Individual"), "corporate": _("Corporate")}
MARITAL_LABELS = {"single": _("Single"), "married": _("Married"), "divorced": _("Divorced"), "widowed": _("Widowed")}


def includeme(config):
    """Routes, views and labels of credit customers."""
    from .documents import KINDS
    from .identifiers import INDUSTRIES
    from .inputs import ID_TYPE_LABELS
    from .parties import RELATION_KINDS
    from .statements import PERIOD_KINDS

    def route(name, pattern):
        config.add_route(name, f"/admin/credit/customers{pattern}", host_kind="tenant")

    route("admin.credit.customer_new_individual", "/new/individual")
    route("admin.credit.customer_new_corporate", "/new/corporate")
    route("admin.credit.statement_template", "/statement-template.xlsx")
    route("admin.credit.customer", r"/{id:\d+}")
    route("admin.credit.customer_edit", r"/{id:\d+}/edit")
    route("admin.credit.customer_documents", r"/{id:\d+}/documents")
    route("admin.credit.customer_document", r"/{id:\d+}/documents/{doc:\d+}")
    route("admin.credit.customer_relations", r"/{id:\d+}/relationships")
    route("admin.credit.customer_company", r"/{id:\d+}/company")
    route("admin.credit.customer_statements", r"/{id:\d+}/statements")
    route("admin.credit.customer_merge", r"/{id:\d+}/merge")
    route("admin.credit.customer_sign_in", r"/{id:\d+}/sign-in")
    config.add_labels(
        credit_customer_kind=KIND_LABELS,
        credit_marital_status=MARITAL_LABELS,
        credit_industry=INDUSTRIES,
        credit_relation=RELATION_KINDS,
        credit_document_kind=KINDS,
        credit_period=PERIOD_KINDS,
        credit_id_type=ID_TYPE_LABELS,
    )
    config.scan(".views")
    config.scan(".part_views")
    config.include(".api")
