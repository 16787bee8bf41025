"""The ``lendstack`` command."""

from __future__ import annotations

import warnings

import click

# Pyramid 2.1 still imports pkg_resources; its deprecation notice is not for operators.
warnings.filterwarnings("ignore", message="pkg_resources is deprecated")

from . import accounts, credit, db, demo, funds, jobs, ledger, members, plugins, report, tenant, tools  # noqa: E402


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="lendstack")
def main():
    """Lendstack: run and operate a multi-tenant lending platform.

    Every command takes -c/--config INI (default $LENDSTACK_CONFIG, else
    development.ini). Bad input exits with status 2 and changes nothing.
    """


main.add_command(db.db)
main.add_command(tenant.tenant)
main.add_command(plugins.plugins)
main.add_command(tools.tools)
main.add_command(ledger.ledger)
main.add_command(funds.funds)
main.add_command(accounts.operator)
main.add_command(accounts.staff)
main.add_command(members.member)
main.add_command(jobs.serve)
main.add_command(jobs.worker)
main.add_command(jobs.jobs)
main.add_command(demo.demo)
main.add_command(credit.credit)
main.add_command(report.report)
