"""The master contract's text (貸款主合同): the tenant's template filled with the application's data, and its PDF.

The template is the tenant's published ``loan-contract`` page of the content
centre in the customer's language (as :func:`core.content.services.public_page`
falls back); until one is published the built-in text below is used — the one
:func:`core.credit.contracts.defaults.ensure_defaults` gives every tenant as a
draft page to edit. Its Markdown names the data with placeholders written
``{{name}}`` (:data:`PLACEHOLDERS`), filled as :func:`core.loans.agreement.fill`
fills a loan agreement. The filled Markdown is rendered by :mod:`core.markup`
into an HTML page and printed to PDF by WeasyPrint, with a CJK font.
"""

from __future__ import annotations

from babel.dates import format_date

from ... import markup
from ...i18n import _, region_locale
from ...loans.agreement import fill
from ...money import Money
from ...schedules import repayment_methods
from . import terms

SLUG = "loan-contract"
PLACEHOLDERS = {
    "contract_number": "The contract's number (HT2612000001)",
    "application_number": "The credit application's number",
    "date": "The date the contract was drawn up",
    "lender_name": "The tenant's company name",
    "lender_address": "The tenant's company address",
    "lender_licence": "The tenant's licence number",
    "borrower_name": "The customer's name",
    "borrower_id": "The customer's ID number or unified social credit code",
    "borrower_address": "The customer's address",
    "product": "The credit product's name",
    "purpose": "The purpose of the loan",
    "amount": "The amount lent, with its currency",
    "annual_rate": "The annual interest rate (12%)",
    "term": "The term in words (12 months)",
    "repayment_method": "The repayment method's name",
    "schedule": "The repayment schedule as a table",
    "fees": "The platform's fee and how it is charged",
    "guarantees": "The guarantors and what each guarantees",
    "collateral": "The collateral and its appraised value",
}
"""The placeholders a contract template may use, with what each becomes (docs/credit/contracts.md lists them)."""

_EN = (
    "Loan contract",
    """# Loan contract {{contract_number}}

Drawn up on {{date}} for credit application {{application_number}}.

## The parties

**Lender:** {{lender_name}}, {{lender_address}} (licence {{lender_licence}})

**Borrower:** {{borrower_name}}, ID {{borrower_id}}, {{borrower_address}}

## The loan

| | |
|---|---|
| Product | {{product}} |
| Amount | {{amount}} |
| Annual interest rate | {{annual_rate}} |
| Term | {{term}} |
| Repayment method | {{repayment_method}} |
| Purpose | {{purpose}} |

The loan is paid out on the disbursement date; the schedule below starts from it
(the due dates shown assume disbursement on the date this contract was drawn up).

## Repayment schedule

{{schedule}}

## Fees

{{fees}}

## Guarantees

{{guarantees}}

## Collateral

{{collateral}}

## Signatures

Lender (seal): ____________________ Borrower: ____________________ Date: ____________
""",
)

_ZH_HANT = (
    "貸款主合同",
    """# 貸款主合同 {{contract_number}}

訂立日期：{{date}}；信貸申請編號：{{application_number}}。

## 合同雙方

**貸款人：** {{lender_name}}，{{lender_address}}（許可證號 {{lender_licence}}）

**借款人：** {{borrower_name}}，證件號碼 {{borrower_id}}，{{borrower_address}}

## 貸款要素

| | |
|---|---|
| 貸款品種 | {{product}} |
| 貸款金額 | {{amount}} |
| 年利率 | {{annual_rate}} |
| 貸款期限 | {{term}} |
| 還款方式 | {{repayment_method}} |
| 貸款用途 | {{purpose}} |

貸款於放款日發放，還款計劃自放款日起算（下表的到期日按本合同訂立當日放款計算）。

## 還款計劃

{{schedule}}

## 費用

{{fees}}

## 保證擔保

{{guarantees}}

## 抵押擔保

{{collateral}}

## 簽署

貸款人（蓋章）：____________________ 借款人（簽字）：____________________ 日期：____________
""",
)

_ZH_HANS = (
    "贷款主合同",
    """# 贷款主合同 {{contract_number}}

订立日期：{{date}}；信贷申请编号：{{application_number}}。

## 合同双方

**贷款人：** {{lender_name}}，{{lender_address}}（许可证号 {{lender_licence}}）

**借款人：** {{borrower_name}}，证件号码 {{borrower_id}}，{{borrower_address}}

## 贷款要素

| | |
|---|---|
| 贷款品种 | {{product}} |
| 贷款金额 | {{amount}} |
| 年利率 | {{annual_rate}} |
| 贷款期限 | {{term}} |
| 还款方式 | {{repayment_method}} |
| 贷款用途 | {{purpose}} |

贷款于放款日发放，还款计划自放款日起算（下表的到期日按本合同订立当日放款计算）。

## 还款计划

{{schedule}}

## 费用

{{fees}}

## 保证担保

{{guarantees}}

## 抵押担保

{{collateral}}

## 签署

贷款人（盖章）：____________________ 借款人（签字）：____________________ 日期：____________
""",
)

TEMPLATES = {"en": _EN, "zh_Hant": _ZH_HANT, "zh_Hans": _ZH_HANS}
"""The built-in contract template per language: (title, Markdown)."""


def built_in(locale: str, default_locale: str) -> tuple[str, str]:
    """The built-in template in ``locale`` (else the site's default language, else English)."""
    return TEMPLATES.get(locale) or TEMPLATES.get(default_locale) or TEMPLATES["en"]


def _rate(value) -> str:
    return f"{format(value.normalize(), 'f')}%"


def _cell(text: str) -> str:
    """Text safe inside a Markdown table cell."""
    return " ".join(str(text).split()).replace("|", "/")


def schedule_table(preview, currency: str, locale: str, translate) -> str:
    """The schedule as a Markdown table: each period's due date, principal, interest, service fee and payment."""
    heads = (_("Period"), _("Due date"), _("Principal"), _("Interest"), _("Service fee"), _("Payment"))
    lines = ["| " + " | ".join(translate(h) for h in heads) + " |", "|" + "---|" * len(heads)]
    for row, fee in preview.rows:
        cells = (
            str(row.period),
            format_date(row.due_date, format="medium", locale=region_locale(locale)),
            Money(row.principal, currency).format(locale),
            Money(row.interest, currency).format(locale),
            Money(fee, currency).format(locale),
            Money(row.principal + row.interest + fee, currency).format(locale),
        )
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _fees(preview, currency: str, locale: str, translate) -> str:
    charges = preview.charges
    if not charges.fee:
        return translate(_("No fee is charged."))
    fee = Money(charges.fee, currency).format(locale)
    if charges.mode == "installments":
        return translate(_("A fee of ${fee}, spread over the installments as the service fee.", mapping={"fee": fee}))
    if charges.mode == "upfront":
        return translate(_("A fee of ${fee}, paid once at disbursement.", mapping={"fee": fee}))
    return translate(_("A fee of ${fee}, deducted from the amount paid out.", mapping={"fee": fee}))


def _pledges(pledges, locale: str, translate) -> str:
    if not pledges:
        return translate(_("None."))
    lines = []
    for pledge in pledges:
        if pledge.kind == "guarantee":
            amount = pledge.amount.format(locale) if pledge.amount is not None else translate(_("the whole loan"))
            lines.append(f"- {_cell(pledge.party)} ({_cell(pledge.description)}): {amount}")
        else:
            value = translate(_("appraised at ${value}", mapping={"value": pledge.amount.format(locale)}))
            lines.append(f"- {_cell(pledge.party)}: {_cell(pledge.description)}, {value}")
    return "\n".join(lines)


def values(session, tenant, hooks, application, customer, product, preview, *, number, locale, translate) -> dict:
    """What each placeholder becomes for ``application`` in ``locale`` (``preview``: its schedule and fee)."""
    method = repayment_methods(hooks).get(application.repayment_method)
    currency = application.currency
    return {
        "contract_number": number,
        "application_number": application.number,
        "date": format_date(tenant.business_date, format="long", locale=region_locale(locale)),
        "lender_name": _cell(tenant.brand("company_name", tenant.name, locale)),
        "lender_address": _cell(tenant.brand("company_address", "", locale)),
        "lender_licence": _cell(tenant.brand("company_licence", "", locale)),
        "borrower_name": _cell(customer.name),
        "borrower_id": _cell(customer.identifier),
        "borrower_address": _cell(getattr(customer, "address", "") or ""),
        "product": _cell(terms.product_name(product, locale)),
        "purpose": _cell(application.purpose or ""),
        "amount": Money(application.amount, currency).format(locale),
        "annual_rate": _rate(application.annual_rate_percent),
        "term": translate(_("${n} months", mapping={"n": application.term_months})),
        "repayment_method": translate(method.name) if method is not None else application.repayment_method,
        "schedule": schedule_table(preview, currency, locale, translate),
        "fees": _fees(preview, currency, locale, translate),
        "guarantees": _pledges(terms.guarantees(session, application), locale, translate),
        "collateral": _pledges(terms.collateral(session, application), locale, translate),
    }


def filled(template_body: str, filled_values: dict) -> str:
    """The template's Markdown with each placeholder replaced."""
    return fill(template_body, filled_values)


STYLE = """
@page { size: A4; margin: 18mm 16mm; }
body { font-family: "WenQuanYi Zen Hei", sans-serif; font-size: 10.5pt; line-height: 1.5; color: #111; }
h1 { font-size: 17pt; text-align: center; margin: 0 0 8mm; }
h2 { font-size: 12pt; margin: 6mm 0 2mm; border-bottom: 0.5pt solid #999; }
table { border-collapse: collapse; width: 100%; margin: 2mm 0; }
th, td { border: 0.5pt solid #999; padding: 1.2mm 2mm; text-align: left; }
td:nth-child(n+3) { text-align: right; }
footer { position: running(footer); font-size: 8pt; color: #555; }
@page { @bottom-center { content: element(footer); } }
"""


def html_page(title: str, body_markdown: str, *, number: str, version: int, locale: str) -> str:
    """The contract as a complete HTML page, ready to print."""
    from markupsafe import escape

    lang = locale.replace("_", "-") or "en"
    return (
        f'<!DOCTYPE html><html lang="{escape(lang)}"><head><meta charset="utf-8"><title>{escape(title)}</title>'
        f"<style>{STYLE}</style></head><body>"
        f"<footer>{escape(number)} · v{version}</footer>"
        f"{markup.render(body_markdown)}</body></html>"
    )


def pdf_of(html: str) -> bytes:
    """The HTML page printed to PDF (WeasyPrint)."""
    from weasyprint import HTML

    return HTML(string=html).write_pdf()
