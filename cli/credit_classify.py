"""``lendstack credit classify``: classify the tenant's outstanding loans as of the last closed day.

Close of day runs the same classification for every day it closes; this command runs it again by hand (after
changing the rules, say). The loans' figures are today's, so the only day it classifies is the one before the
business date. Running it twice for the day changes nothing more: a loan whose class changed that day records
no second change. All of a run is one transaction.
"""

from __future__ import annotations

import datetime as dt

import click

from .app import BadInput, config_option, emit


@click.command()
@config_option
@click.option("--tenant", "slug", required=True)
@click.option(
    "--date", "day", required=True, help="The last closed day (the one before the business date), YYYY-MM-DD."
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def classify(env, slug, day, as_json):
    """Classify every outstanding loan (five levels) and work out the provisions, as close of day does."""
    from core.credit.classification.engine import classify as run
    from core.db import scope_to_tenant
    from core.money import Money
    from core.tenancy.services import TenantNotFound, tenant_by_slug

    try:
        on = dt.date.fromisoformat(day)
    except ValueError:
        raise BadInput("date: give a date as YYYY-MM-DD") from None
    try:
        with env.transaction() as session:
            tenant = tenant_by_slug(session, slug)
            scope_to_tenant(session, tenant.id)
            closed = tenant.business_date - dt.timedelta(days=1)
            if on != closed:
                raise BadInput(
                    f"date: the last closed day of {slug} is {closed.isoformat()}; only it can be classified "
                    "(the loans' figures are today's)"
                )
            summary = run(session, tenant, on)
            result = {"tenant": slug, "date": on.isoformat(), "currency": tenant.currency, **summary}
    except TenantNotFound as error:
        raise BadInput(f"tenant: {error}") from None

    def show(r):
        provision = Money(r["provision"], r["currency"])
        click.echo(
            f"classified {r['classified']} loans of {r['tenant']} as of {r['date']}: {r['changed']} changed class "
            f"({r['downgraded']} to a stricter one); provision required {provision} {r['currency']}"
        )

    emit(result, as_json, show)
