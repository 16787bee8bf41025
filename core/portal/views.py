"""Portal views: thin — parse, call a service, choose a response."""

from __future__ import annotations

import time

import sqlalchemy as sa
from pyramid.httpexceptions import HTTPFound, HTTPNotFound
from pyramid.response import Response
from pyramid.view import view_config

from ..content import services as content
from ..loan_types import loan_types
from ..loans import public_loans
from ..loans.models import Installment, Loan, Payback
from ..members.models import Member
from ..payments import gateways
from ..schedules import repayment_methods
from . import tools

_FIGURES: dict[int, tuple[int, dict]] = {}


def cached_figures(request) -> dict:
    """:func:`platform_figures`, kept per tenant for ``lendstack.page_cache_seconds`` (0: read every time):
    four sums over every loan are the home page's dearest part, and a few seconds' delay does not matter."""
    seconds = request.registry.settings_obj.page_cache_seconds
    if seconds <= 0:
        return platform_figures(request.dbsession)
    now, tenant_id = time.monotonic_ns(), request.tenant.id
    kept = _FIGURES.get(tenant_id)
    if kept is None or now - kept[0] > seconds * 1_000_000_000:
        kept = _FIGURES[tenant_id] = (now, platform_figures(request.dbsession))
    return kept[1]


def platform_figures(session) -> dict:
    """The tenant's figures from its own records: lent, repaid, members, lenders' earnings (minor units)."""
    lent = session.scalar(
        sa.select(sa.func.coalesce(sa.func.sum(Loan.amount), 0)).where(Loan.disbursed_on.is_not(None))
    )
    repaid = session.scalar(
        sa.select(sa.func.coalesce(sa.func.sum(Installment.paid_principal + Installment.paid_interest), 0))
    )  # partial payments count too
    earned = session.scalar(sa.select(sa.func.coalesce(sa.func.sum(Payback.paid_interest), 0)))
    members = session.scalar(sa.select(sa.func.count()).select_from(Member))
    return {"lent": int(lent), "repaid": int(repaid), "earned": int(earned), "members": int(members)}


@view_config(route_name="portal.home", renderer="portal/home.pt")
def home(request):
    featured = request.dbsession.scalars(public_loans(Loan.status == "bidding").order_by(Loan.id.desc()).limit(4)).all()
    locale = request.localizer.locale_name
    return {
        "banners": content.banners(request.dbsession, locale),
        "news": content.latest(request.dbsession, locale),
        "figures": cached_figures(request),
        "featured": featured,
        "products": list(loan_types(request.hooks).values()),
        "calculators": list(repayment_methods(request.hooks).values()),
        "gateways": list(gateways(request.hooks).values()),
    }


@view_config(route_name="tools.index")
def tools_index(request):
    available = repayment_methods(request.hooks)
    if not available:
        raise HTTPNotFound()
    return HTTPFound(request.route_path("tools.method", code=next(iter(available))))


@view_config(route_name="tools.method", renderer="portal/calculator.pt")
def calculator(request):
    available = repayment_methods(request.hooks)
    method = available.get(request.matchdict["code"])
    if method is None:
        raise HTTPNotFound()
    form = dict(request.params)
    schedule, errors = None, {}
    if "principal" in request.params:
        try:
            terms = tools.parse_terms(form, request.tenant, tools.term_unit(method, form))
            schedule = tools.calculate(method, terms)
        except tools.CalculatorInput as invalid:
            errors = invalid.errors
            request.response.status = 400
        else:
            if request.params.get("format") == "csv":
                return Response(
                    tools.schedule_csv(schedule),
                    content_type="text/csv",
                    charset="utf-8",
                    content_disposition=f'attachment; filename="{method.code}-schedule.csv"',
                )
    return {
        "method": method,
        "methods": list(available.values()),
        "form": form,
        "errors": errors,
        "schedule": schedule,
        "payment_heading": tools.payment_heading(schedule.installments) if schedule else tools.PAYMENT_PER_PERIOD,
        "takes_days": tools.DAY in method.term_units,
        "bars": tools.chart_bars(schedule) if schedule else [],
        "chart_size": (tools.CHART_WIDTH, tools.CHART_HEIGHT),
        "csv_url": request.current_route_path(_query={**form, "format": "csv"}) if schedule else None,
    }
