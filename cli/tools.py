"""``lendstack tools schedule``: a repayment schedule from a tenant's calculators."""

from __future__ import annotations

import click

from .app import BadInput, config_option, emit, table


@click.group()
def tools():
    """The calculators (repayment methods)."""


@tools.command()
@config_option
@click.option("--tenant", "slug", required=True, help="Whose enabled methods and currency to use.")
@click.option("--method", required=True, help="A repayment method code, e.g. equal_installment.")
@click.option("--principal", required=True, help="Amount in major units, e.g. 10000.00.")
@click.option("--rate", required=True, help="Annual rate in percent, e.g. 12.")
@click.option("--months", type=str, default="", help="Term in months.")
@click.option("--days", type=str, default="", help="Term in days (methods that take days).")
@click.option("--start", default="", help="Start date YYYY-MM-DD (default: the tenant's business date).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def schedule(env, slug, method, principal, rate, months, days, start, as_json):
    """Print the repayment schedule of a loan."""
    from core.i18n import english
    from core.portal import tools as calc
    from core.schedules import repayment_methods
    from core.tenancy.services import TenantNotFound, tenant_by_slug

    form = {
        "principal": principal,
        "annual_rate_percent": rate,
        "term_months": months,
        "term_days": days,
        "start_date": start,
    }
    try:
        with env.transaction() as session:
            tenant = tenant_by_slug(session, slug)
            available = repayment_methods(env.plugins.for_tenant(tenant))
            if method not in available:
                raise BadInput(
                    f"method: {method!r} is not enabled for {slug} (enabled: {', '.join(available) or 'none'})"
                )
            chosen = available[method]
            terms = calc.parse_terms(form, tenant, calc.term_unit(chosen, form))
            result = calc.calculate(chosen, terms)
    except TenantNotFound as error:
        raise BadInput(f"tenant: {error}") from None
    except calc.CalculatorInput as invalid:
        field, message = next(iter(invalid.errors.items()))
        raise BadInput(f"{field}: {english(message)}") from None
    data = calc.schedule_json(result)

    def human(d):
        table(
            [
                [r["period"], r["due_date"], r["principal"], r["interest"], r["payment"], r["balance"]]
                for r in d["installments"]
            ],
            ["period", "due date", "principal", "interest", "payment", "balance"],
        )
        click.echo(
            f"total {d['total_payment']} {d['currency']} "
            f"(principal {d['total_principal']}, interest {d['total_interest']})"
        )

    emit(data, as_json, human)
