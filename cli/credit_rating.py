"""``lendstack credit rate``: (re-)rate customers with the tenant's active model.

``--customer ID`` rates one customer, ``--all`` every customer not merged away, each with the model in
use for their kind. The console is no second person: a result whose grade is the customer's grade
already is approved at once (its score and date are brought up to date); a result that would change the
grade waits in the back office (``/admin/credit/ratings``) for a person with ``credit.rate`` to approve
or reject it. Ratings are recorded with the actor ``cli``. All of a run is one transaction.
"""

from __future__ import annotations

import click

from .app import BadInput, config_option, emit


@click.command()
@config_option
@click.option("--tenant", "slug", required=True)
@click.option("--customer", "customer_id", help="The customer's id.")
@click.option("--all", "every", is_flag=True, help="Every customer of the tenant not merged into another.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def rate(env, slug, customer_id, every, as_json):
    """Rate customers with the tenant's active rating model; grade changes wait for a person's approval."""
    from core import audit
    from core.credit.rating import services
    from core.credit.rating.scorecard import ModelError, shown
    from core.i18n import english
    from core.tenancy.services import TenantNotFound, tenant_by_slug

    if bool(customer_id) == every:
        raise BadInput("customer: give --customer ID or --all")
    results = []
    try:
        with env.transaction() as session:
            tenant = tenant_by_slug(session, slug)
            if every:
                customers = services.customers_to_rate(session, tenant.id)
            else:
                customers = [services.customer_of(session, tenant.id, customer_id)]
            for customer in customers:
                before = customer.grade
                try:
                    rating = services.rerate(session, tenant, customer, by=services.CLI)
                except ModelError as error:
                    if not every:
                        raise
                    results.append(_skipped(customer, english(error.message)))
                    continue
                audit.record_cli(
                    session,
                    "credit.rating.batch",
                    "credit_rating",
                    rating.id,
                    {"grade": before},
                    {"status": rating.status, "proposed_grade": rating.proposed_grade, "score": str(rating.score)},
                    tenant_id=tenant.id,
                )
                results.append(_result(customer, rating, before, shown))
    except TenantNotFound as error:
        raise BadInput(f"tenant: {error}") from None
    except ModelError as error:
        raise BadInput(f"{error.field}: {english(error.message)}") from None
    emit(results, as_json, _print)


def _result(customer, rating, before, shown) -> dict:
    return {
        "customer": customer.id,
        "number": customer.number,
        "name": customer.name,
        "rating": rating.id,
        "score": shown(rating.score),
        "max_score": shown(rating.max_score),
        "proposed_grade": rating.proposed_grade,
        "grade_before": before,
        "status": rating.status,
    }


def _skipped(customer, reason: str) -> dict:
    return {"customer": customer.id, "number": customer.number, "name": customer.name, "skipped": reason}


def _print(results: list[dict]) -> None:
    if not results:
        click.echo("no customers to rate")
    for r in results:
        if "skipped" in r:
            click.echo(f"{r['number']} {r['name']}: skipped ({r['skipped']})")
            continue
        outcome = (
            "approved (grade unchanged)"
            if r["status"] == "approved"
            else f"waiting for approval (grade now {r['grade_before'] or 'none'})"
        )
        click.echo(
            f"{r['number']} {r['name']}: score {r['score']}/{r['max_score']}, "
            f"proposed {r['proposed_grade']}, {outcome}, rating {r['rating']}"
        )
