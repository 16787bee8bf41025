"""``lendstack serve``, ``lendstack worker`` and ``lendstack jobs …``: the server, the consumer, batches."""

from __future__ import annotations

import subprocess

import click

from .app import BadInput, config_option, python


@click.group()
def jobs():
    """Batch jobs run by the scheduler (and by hand)."""


DEFAULT_LISTEN = "127.0.0.1:6543"
DEFAULT_THREADS = 8


def server_options(config_uri: str, host: str | None, port: int | None) -> dict:
    """waitress's settings: the ini's ``[server:main]`` (``listen``, ``threads`` …), --host/--port first.

    Without a ``[server:main]`` section: 127.0.0.1:6543 with 8 threads.
    """
    import plaster

    section = plaster.get_loader(config_uri, protocols=["wsgi"]).get_settings("server:main")  # {} if missing
    options = {key: value for key, value in section.items() if key not in ("use", "here", "__file__")}
    if host or port:  # waitress takes either listen or host and port
        default_host, _, default_port = DEFAULT_LISTEN.rpartition(":")
        options.pop("listen", None)
        options["host"] = host or options.get("host", default_host)
        options["port"] = port or options.get("port", default_port)
    elif not {"listen", "host", "port"} & set(options):
        options["listen"] = DEFAULT_LISTEN
    options.setdefault("threads", DEFAULT_THREADS)
    return options


def _where(options: dict) -> str:
    if "listen" in options:
        return " ".join(f"http://{address}" for address in str(options["listen"]).split())
    return f"http://{options['host']}:{options['port']}"


@click.command()
@config_option
@click.option("--host", default=None, help="Listen on this address instead of the ini's [server:main] listen.")
@click.option("--port", default=None, type=int, help="Listen on this port instead of the ini's.")
@click.option(
    "--worker/--no-worker",
    default=True,
    show_default=True,
    help="Run a job consumer beside the web server (embedded default).",
)
def serve(env, host, port, worker):
    """Serve the app with waitress, as the ini's [server:main] says, with a job consumer as a child process."""
    import waitress
    from pyramid.paster import get_app
    from waitress.adjustments import Adjustments

    options = server_options(env.config_uri, host, port)
    try:
        Adjustments(**options)
    except ValueError as error:
        raise BadInput(f"[server:main]: {error}") from None
    app = get_app(env.config_uri)
    child = None
    if worker and env.registry.settings_obj.jobs_backend != "immediate":
        child = subprocess.Popen([python(), "-m", "cli", "worker", "-c", env.config_uri])
    click.echo(f"serving on {_where(options)} with {options['threads']} threads")
    try:
        waitress.serve(app, **options)
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
    from core.loans import LoanError
    from core.loans import close_of_day as close
    from core.loans.schedule_jobs import COMMIT_EVERY
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
            next_day = tenant_by_slug(session, slug).business_date  # the run may have committed part-way
    except TenantNotFound as error:
        raise BadInput(f"tenant: {error}") from None
    except LoanError as error:
        raise BadInput(f"{error.field}: {english(error.message)}") from None
    click.echo(
        f"closed {day} for {slug}: {summary['expired']} expired, {summary['repaid']} repaid, "
        f"{summary['overdue']} overdue, {summary.get('advanced', 0)} advanced, "
        f"{summary.get('accelerated', 0)} accelerated, {summary.get('classified', 0)} classified "
        f"({summary.get('changed', 0)} changed class); business date now {next_day}"
    )
