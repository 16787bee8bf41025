"""``lendstack credit workflow export|import``: approval workflow definitions as TOML."""

from __future__ import annotations

import click


@click.group()
def workflow():
    """Export and import approval workflow definitions (TOML)."""
