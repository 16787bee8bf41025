"""``lendstack serve``, ``lendstack worker`` and ``lendstack jobs …``: the server, the consumer, batches."""
from __future__ import annotations

import subprocess

import click

from .app import BadInput, config_option, python


@click.group()
def jobs():
    """Batch jobs run by the scheduler (and by hand)."""


@click.command()
@config_option
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=6543, show_default=True, type=int)
@click.option("--worker/--no-worker", default=True, show_default=True,
              help="Run a job consumer beside the web server (embedded default).")
def serve(env, host, port, worker):
    """Serve the app with waitress, with a job consumer as a child process."""
    import waitress
    from pyramid.paster import get_app

    app = get_app(env.config_uri)
    child = None
    if worker and env.registry.settings_obj.jobs_backend != "immediate":
        child = subprocess.Popen([python(), "-m", "cli", "worker", "-c", env.config_uri])
    click.echo(f"serving on http://{host}:{port}")
    try:
        waitress.serve(app, host=host, port=port, threads=8)
    finally:
        if child is not None:
            child.terminate()
            child.wait(timeout=10)


@click.command()
@config_option
@click.option("--workers", default=2, show_default=True, type=int, help="Worker threads.")
def worker(env, workers):
    """Run the huey job consumer (in production: several, on Redis)."""
    from core.jobs import huey

    consumer = huey.create_consumer(workers=workers, worker_type="thread", periodic=True)
    consumer.run()


@jobs.command("close-of-day")
@config_option
@click.option("--tenant", "slug", required=True)
@click.option("--date", "day", required=True, help="The business date to close, YYYY-MM-DD (the tenant's current one).")
def close_of_day(env, slug, day):
    """Close one business day: expire fundraising, collect due installments, mark the overdue."""
    import datetime as dt

    from core.db import scope_to_tenant
    from core.i18n import english
    from core.loans.schedule_jobs import COMMIT_EVERY
    from core.loans.services import LoanError, close_of_day as close
    from core.tenancy.services import TenantNotFound, tenant_by_slug

    try:
        on = dt.date.fromisoformat(day)
    except ValueError:
        raise BadInput("date: give a date as YYYY-MM-DD") from None
    try:
        with env.transaction() as session:
            tenant = tenant_by_slug(session, slug)
            scope_to_tenant(session, tenant.id)
            summary = close(session, tenant, on, hooks=env.plugins.for_tenant(tenant), commit_every=COMMIT_EVERY)
            next_day = tenant.business_date
    except TenantNotFound as error:
        raise BadInput(f"tenant: {error}") from None
    except LoanError as error:
        raise BadInput(f"{error.field}: {english(error.message)}") from None
    click.echo(f"closed {day} for {slug}: {summary['expired']} expired, {summary['repaid']} repaid, "
               f"{summary['overdue']} overdue, {summary.get('advanced', 0)} advanced, "
               f"{summary.get('accelerated', 0)} accelerated; business date now {next_day}")
