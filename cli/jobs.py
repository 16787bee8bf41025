"""``lendstack serve`` and ``lendstack worker``: the web server and the job consumer."""
from __future__ import annotations

import subprocess

import click

from .app import config_option, python


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
