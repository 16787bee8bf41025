"""What every tenant starts with: the standard approval workflow and three credit products.

The ``standard`` workflow: a supervisor's review (``risk_officer``, 24 hours), the credit approver's decision
(``credit_approver``, 48 hours), and a credit committee (``administrator``, 72 hours) for amounts over
1,000,000.00 — the approver's limit is that same amount, so a larger loan always reaches the committee. The
products: an individual consumer loan and a corporate working-capital loan from the tenant's own funds, and an
individual loan published on the marketplace as a ``credit`` listing (offered on the member's credit page).
:func:`ensure_defaults` adds only what is missing, so it runs on every apply of the tenant's manifest.
"""

from __future__ import annotations

from decimal import Decimal

from ... import events
from ...accounts.permissions import ensure_default_roles
from ...loan_types import loan_types
from ...money import Money
from ...schedules import repayment_methods
from .models import CreditProduct, FundingSource
from .products import product_of
from .workflows import latest, save_workflow

COMMITTEE_OVER = 100_000_000  # minor units: 1,000,000.00

STANDARD = {
    "name": {"en": "Standard approval", "zh_Hant": "標準審批流程", "zh_Hans": "标准审批流程"},
    "steps": [
        {
            "code": "review",
            "name": {"en": "Supervisor review", "zh_Hant": "主管審核", "zh_Hans": "主管审核"},
            "role": "risk_officer",
            "actions": ["approve", "reject", "return", "request_documents"],
            "return_to": ["draft"],
            "hours": 24,
        },
        {
            "code": "approval",
            "name": {"en": "Credit approval", "zh_Hant": "信貸審批", "zh_Hans": "信贷审批"},
            "role": "credit_approver",
            "actions": ["approve", "reject", "return", "request_documents"],
            "hours": 48,
            "approval_limit": "{committee}",
        },
        {
            "code": "committee",
            "name": {"en": "Credit committee", "zh_Hant": "貸審會", "zh_Hans": "贷审会"},
            "role": "administrator",
            "condition": {"amount_over": "{committee}"},
            "actions": ["approve", "reject", "return"],
            "hours": 72,
        },
    ],
}

PRODUCTS = (
    # code, names, kind, funding, offered, amount bounds (major), terms, rates, documents
    (
        "consumer",
        {"en": "Consumer loan", "zh_Hant": "個人消費貸款", "zh_Hans": "个人消费贷款"},
        "individual",
        FundingSource.OWN_FUNDS,
        False,
        (1_000, 300_000),
        (3, 36),
        ("6", "18"),
        ["id_card", "income_proof"],
    ),
    (
        "working_capital",
        {"en": "Working-capital loan", "zh_Hant": "流動資金貸款", "zh_Hans": "流动资金贷款"},
        "corporate",
        FundingSource.OWN_FUNDS,
        False,
        (50_000, 5_000_000),
        (6, 36),
        ("5", "15"),
        ["business_licence", "financial_statements"],
    ),
    (
        "marketplace_personal",
        {"en": "Personal loan (marketplace)", "zh_Hant": "個人信用借款（網貸）", "zh_Hans": "个人信用借款（网贷）"},
        "individual",
        FundingSource.MARKETPLACE,
        True,
        (1_000, 200_000),
        (3, 24),
        ("8", "18"),
        ["id_card"],
    ),
)


def _standard(currency: str, locale: str) -> dict:
    """The standard workflow's definition, named in ``locale``."""
    committee = str(Money(COMMITTEE_OVER, currency))
    steps = []
    for step in STANDARD["steps"]:
        step = dict(step, name=step["name"].get(locale, step["name"]["en"]))
        if step.get("approval_limit"):
            step["approval_limit"] = committee
        if step.get("condition"):
            step["condition"] = {"amount_over": committee}
        steps.append(step)
    return {"name": STANDARD["name"].get(locale, STANDARD["name"]["en"]), "steps": steps}


def ensure_defaults(session, tenant, hooks=None) -> None:
    """Add the standard workflow and the default products a tenant is missing (nothing else changes)."""
    ensure_default_roles(session, tenant.id)
    if latest(session, "standard", tenant.id) is None:
        save_workflow(session, tenant, "standard", _standard(tenant.currency, tenant.default_locale), actor="system")
    hooks = hooks if hooks is not None else events.hooks_for(session, tenant.id)
    if hooks is None:
        return
    types, methods = list(loan_types(hooks)), list(repayment_methods(hooks))
    if not types or not methods:
        return
    loan_type = "credit" if "credit" in types else types[0]
    cap = tenant.max_annual_rate_percent
    for code, names, kind, funding, offered, amounts, terms, rates, documents in PRODUCTS:
        if product_of(session, code, tenant.id) is not None:
            continue
        session.add(
            CreditProduct(
                tenant_id=tenant.id,
                code=code,
                names=names,
                customer_kind=kind,
                funding_source=funding,
                loan_type=loan_type,
                min_amount=Money.parse(amounts[0], tenant.currency).minor,
                max_amount=Money.parse(amounts[1], tenant.currency).minor,
                min_term_months=terms[0],
                max_term_months=terms[1],
                min_rate_percent=min(Decimal(rates[0]), cap),
                max_rate_percent=min(Decimal(rates[1]), cap),
                repayment_methods=methods,
                required_documents=documents,
                workflow_code="standard",
                offered_to_members=offered,
                active=True,
            )
        )
    session.flush()


@events.listen("lendstack_tenant_applied")
def _default_workflow_and_products(session, tenant_id, tenant, created):
    """Every apply: the tenant has the standard workflow and the default products (added when missing)."""
    ensure_defaults(session, tenant)
