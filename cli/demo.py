"""``lendstack demo seed``: fill a demo tenant with a believable sample site."""

from __future__ import annotations

import os

import click

from .app import BadInput, config_option


@click.group()
def demo():
    """The demo tenants' sample data (never for a real site)."""


@demo.command("seed")
@config_option
@click.option("--tenant", "slug", required=True, help="The demo tenant to fill (demo or acme).")
def seed(env, slug):
    """Seed members, money, loans in every state, news and a banner; running it again changes nothing.

    The seeded members sign in with $LENDSTACK_PASSWORD (a random password when it is not set).
    Close of day runs through the days the story needs, so the business date ends about a
    month past the manifest's.
    """
    from core.content.services import ContentError
    from core.db import scope_to_tenant
    from core.i18n import english
    from core.loans import LoanError
    from core.members.services import MemberError
    from core.payments.services import FundsError
    from core.tenancy.services import TenantNotFound, tenant_by_slug
    from tenants.demo_seed import SeedRefused
    from tenants.demo_seed import seed as seed_tenant

    try:
        with env.transaction() as session:
            tenant = tenant_by_slug(session, slug)
            scope_to_tenant(session, tenant.id)
            summary = seed_tenant(
                session,
                tenant,
                env.plugins,
                env.registry.settings_obj,
                password=os.environ.get("LENDSTACK_PASSWORD") or None,
            )
    except TenantNotFound as error:
        raise BadInput(f"tenant: {error}") from None
    except SeedRefused as error:
        raise BadInput(f"tenant: {error}") from None
    except (LoanError, MemberError, FundsError, ContentError) as error:
        raise BadInput(f"{error.field}: {english(error.message)}") from None
    if not summary["seeded"]:
        click.echo(f"demo data already seeded at {slug} (business date {summary['business_date']})")
        return
    states = ", ".join(f"{key} {status}" for key, status in summary["loans"].items())
    click.echo(
        f"seeded {slug}: {summary['members']} members, loans: {states}; closed {summary['closed_days']} "
        f"days from {summary['from']}, business date now {summary['business_date']}"
    )
