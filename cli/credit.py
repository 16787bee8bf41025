"""``lendstack credit``: the credit system's batch work (re-rating customers, classifying loans, workflow definitions
as TOML)."""

from __future__ import annotations

import click

from .credit_classify import classify
from .credit_rating import rate
from .credit_workflow import workflow


@click.group()
def credit():
    """The credit system: rate customers, classify loans, export and import approval workflows."""


credit.add_command(rate)
credit.add_command(classify)
credit.add_command(workflow)
