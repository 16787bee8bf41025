"""``lendstack funds adjust``: an operator's balance adjustment (調賬), audited as such."""

from __future__ import annotations

import click

from .app import BadInput, config_option


@click.group()
def funds():
    """Members' money: adjustments."""


@funds.command()
@config_option
@click.option("--tenant", "slug", required=True)
@click.option("--member", "phone", required=True, help="The member's mobile number.")
@click.option("--amount", required=True, help="Major units; negative debits the member (e.g. -20.00).")
@click.option("--reason", required=True, help="Why (kept in the audit log and the member's record).")
@click.option("--operator", default="console", show_default=True, help="Who is acting, for the audit log.")
def adjust(env, slug, phone, amount, reason, operator):
    """Credit or debit a member's available balance against the suspense account."""
    from core import audit
    from core.i18n import english
    from core.members.services import MemberError, clean_phone, find_member
    from core.payments.services import FundsError, decide_adjustment, request_adjustment
    from core.tenancy.services import TenantNotFound, tenant_by_slug

    actor = f"operator:{operator}"
    try:
        with env.transaction() as session:
            tenant = tenant_by_slug(session, slug)
            member = find_member(session, tenant, clean_phone(tenant, phone))
            if member is None:
                raise BadInput(f"member: no member with phone {phone} at {slug}")
            adjustment = request_adjustment(session, tenant, member, amount, reason, by=actor)
            decide_adjustment(session, tenant.id, adjustment, approve=True, by=actor, allow_self=True)
            audit.record_cli(
                session,
                "adjustment.apply",
                "adjustment",
                adjustment.id,
                None,
                {"member": member.id, "amount": adjustment.amount, "reason": adjustment.reason},
                tenant_id=tenant.id,
                actor=actor,
            )
            summary = f"adjusted member {member.id} by {amount} {tenant.currency} (adjustment {adjustment.id})"
    except TenantNotFound as error:
        raise BadInput(f"tenant: {error}") from None
    except (FundsError, MemberError) as error:
        raise BadInput(f"{error.field}: {english(error.message)}") from None
    click.echo(summary)
