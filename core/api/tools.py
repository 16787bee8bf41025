"""``/api/v1/tools``: the calculators as JSON, sharing the pages' parsing and plugins."""

from __future__ import annotations

from pyramid.view import view_config

from ..i18n import _
from ..loans import cost
from ..portal import tools as calc
from ..schedules import DAY, MONTH, repayment_methods
from . import PREFIX, Problem

API = {"renderer": "json", "openapi": True, "require_csrf": False}


@view_config(route_name="api.tools", request_method="GET", **API)
def list_tools(request):
    translate = request.localizer.translate
    return {
        "currency": request.tenant.currency,
        "max_annual_rate_percent": str(request.tenant.max_annual_rate_percent),
        "methods": [
            {
                "code": m.code,
                "name": translate(m.name),
                "description": translate(m.description or ""),
                "term_units": list(m.term_units),
            }
            for m in repayment_methods(request.hooks).values()
        ],
    }


@view_config(route_name="api.tools.schedule", request_method="POST", **API)
def schedule(request):
    body = request.json_body
    method = repayment_methods(request.hooks).get(body["method"])
    if method is None:
        raise Problem({"method": _("Unknown or disabled repayment method.")})
    given = [f for f in ("term_months", "term_days") if body.get(f) is not None]
    if len(given) != 1:
        raise Problem({"term_months": _("Give term_months or term_days, not both.")})
    unit = DAY if given == ["term_days"] else MONTH
    if unit not in method.term_units:
        raise Problem(
            {
                given[0]: _("This method takes a term in months.")
                if MONTH in method.term_units
                else _("This method takes a term in days.")
            }
        )
    form = {k: body[k] for k in body}
    try:
        terms = calc.parse_terms(form, request.tenant, unit)
        result = calc.calculate(method, terms)
    except calc.CalculatorInput as invalid:
        raise Problem(invalid.errors) from None
    answer = calc.schedule_json(result)
    periods = len(result.installments)
    if body.get("with_fees"):  # the borrow page's preview: the site's fee as a loan would charge it
        charged = cost.charges(request.tenant, terms.principal.minor, periods)
        money = result.money
        for row, installment, fee in zip(answer["installments"], result.installments, charged.per_period):
            row.update(service_fee=str(money(fee)), payment=str(money(installment.payment + fee)))
        answer.update(
            fee=str(money(charged.fee)),
            fee_mode=charged.mode,
            fee_at_start=str(money(charged.at_start)),
            total_payment=str(money(result.total_payment + charged.fee)),
        )
    else:  # the calculator: the schedule alone
        charged = cost.Charges("installments", 0, 0, (0,) * periods, terms.principal.minor)
    apr = cost.apr_percent(terms.start_date, result.installments, charged)
    return {**answer, "apr_percent": None if apr is None else f"{apr:.2f}"}


def includeme(config):
    config.add_route("api.tools", f"{PREFIX}/tools", host_kind="tenant")
    config.add_route("api.tools.schedule", f"{PREFIX}/tools/schedule", host_kind="tenant")
    config.scan(".tools")
