"""``lendstack db``: schema migrations."""

from __future__ import annotations

import click

from .app import config_option


@click.group()
def db():
    """The database schema (Alembic migrations)."""


@db.command()
@config_option
def upgrade(env):
    """Migrate the database to the latest schema."""
    from core import migrate

    migrate.upgrade(env.engine)
    click.echo(f"database at revision {migrate.current(env.engine)}")


@db.command()
@config_option
def current(env):
    """Show the database's schema revision and the latest one."""
    from core import migrate

    now, head = migrate.current(env.engine), migrate.head(env.engine)
    click.echo(f"current: {now or 'empty'}\nlatest:  {head}")
    if now != head:
        raise click.exceptions.Exit(1)
