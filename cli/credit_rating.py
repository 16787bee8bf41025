"""``lendstack credit rate``: (re-)rate customers with the tenant's active model."""

from __future__ import annotations

import click


@click.command()
def rate():
    """Rate customers with the tenant's active rating model."""
    raise click.UsageError("not built yet")
