"""``lendstack credit``: the credit system's batch work (re-rating customers, workflow definitions as TOML)."""

from __future__ import annotations

import click

from .credit_rating import rate
from .credit_workflow import workflow


@click.group()
def credit():
    """The credit system: rate customers, export and import approval workflows."""


credit.add_command(rate)
credit.add_command(workflow)
