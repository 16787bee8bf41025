"""The demo's credit back office: customers (two borrowing members and a walk-in company with its
statement), each rated by the shipped scorecards, and a member's application waiting for its relationship
manager — so the credit pages have something to show. Run by :func:`tenants.demo_seed.seed` at its end."""

from __future__ import annotations

import datetime as dt

from core.credit.applications.products import product_of
from core.credit.applications.services import create_application
from core.credit.customers import inputs, statements
from core.credit.customers.identifiers import credit_code_check_char
from core.credit.customers.services import create_corporate, customer_for_member
from core.credit.rating.services import model_in_use, rate

COMPANY = {
    "zh_Hant": {"name": "華興貿易有限公司", "legal_representative": "陳志明", "address": "台北市信義區松仁路 100 號"},
    "zh_Hans": {
        "name": "华兴贸易有限公司",
        "legal_representative": "陈志明",
        "address": "上海市浦东新区世纪大道 100 号",
    },
    "en": {
        "name": "Harbor Trading Ltd",
        "legal_representative": "Grace Chen",
        "address": "100 Harbor Street, Springfield",
    },
}
CODE_BODY = "91310115MA1K4B2C3"  # 17 characters of a Shanghai company's code; the check character is computed
STATEMENT = {  # last year's balance sheet, income statement and cash flows, in major units (it balances)
    "current_assets": "3200000",
    "inventory": "900000",
    "total_assets": "8500000",
    "current_liabilities": "1800000",
    "total_liabilities": "4100000",
    "equity": "4400000",
    "revenue": "12600000",
    "operating_profit": "1450000",
    "interest_expense": "210000",
    "net_profit": "980000",
    "operating_cash_flow": "1320000",
    "investing_cash_flow": "-450000",
    "financing_cash_flow": "-300000",
}


def _company(session, tenant):
    texts = COMPANY.get(tenant.default_locale, COMPANY["en"])
    company = inputs.corporate(
        tenant,
        {
            "name": texts["name"],
            "credit_code": CODE_BODY + credit_code_check_char(CODE_BODY),
            "legal_representative": texts["legal_representative"],
            "registered_capital": "5000000",
            "industry": "F",  # wholesale and retail trade
            "established_on": (tenant.business_date - dt.timedelta(days=9 * 365)).isoformat(),
        },
    )
    customer = create_corporate(session, tenant, company, {"address": texts["address"], "phone": "", "email": ""})
    year_end = dt.date(tenant.business_date.year - 1, 12, 31)
    statements.save(session, tenant, customer, "annual", year_end, statements.lines(tenant, STATEMENT), by="seed")
    return customer


def seed_credit(session, tenant, hooks, people: dict, *, actor: str) -> dict:
    """Customers, ratings and a waiting application for ``tenant``; what was made, by number."""
    customers = [customer_for_member(session, tenant, people[key]) for key in ("borrower1", "borrower2")]
    customers.append(_company(session, tenant))
    grades = {}
    for customer in customers:
        if model_in_use(session, customer.kind) is not None:
            grades[customer.number] = rate(session, tenant, customer, by=actor, accept=True).grade
    made = {"customers": [c.number for c in customers], "grades": grades}
    product = product_of(session, "marketplace_personal", tenant.id)
    if product is not None and product.active:
        application = create_application(
            session,
            tenant,
            hooks,
            customer=customers[1],
            product=product,
            form={
                "amount": str(product.min_amount * 5 // 100),
                "term_months": str(min(12, product.max_term_months)),
                "annual_rate_percent": str(product.min_rate_percent),
                "repayment_method": next(
                    (m for m in product.repayment_methods if m == "equal_installment"), product.repayment_methods[0]
                ),
                "purpose": "",
            },
            created_by=None,  # as a member applies from the account page: it waits for a relationship manager
        )
        made["application"] = application.number
    return made
