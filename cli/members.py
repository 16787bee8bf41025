"""``lendstack member create``: a member made by an operator (imports, support cases, demos)."""

from __future__ import annotations

import click

from .accounts import _account_errors, _password
from .app import BadInput, config_option


@click.group()
def member():
    """Members: a tenant's borrowers and lenders."""


@member.command("create")
@config_option
@click.option("--tenant", "slug", required=True)
@click.option("--phone", required=True, help="Mobile number (the tenant's country by default).")
@click.option("--name", "legal_name", default="", help="Legal name, for a verified member.")
@click.option("--id-number", default="", help="Mainland resident ID number, for a verified member.")
@click.option("--verified", is_flag=True, help="Mark the real-name verification as approved.")
@click.option("--credit-line", default="", help="A credit line for a verified member, e.g. 50000.00.")
@click.option("--grade", default="", help="With --credit-line: the credit grade, AA (best) to HR.")
@click.option("--if-missing", is_flag=True, help="Do nothing if the phone is already registered.")
def create_member(env, slug, phone, legal_name, id_number, verified, credit_line, grade, if_missing):
    """Create a member (password from a prompt or LENDSTACK_PASSWORD)."""
    from core import audit
    from core.i18n import english
    from core.members.services import MemberError
    from core.members.services import create_member as create

    with _account_errors(False, ""):
        try:
            with env.transaction() as session:
                from core.tenancy.services import tenant_by_slug

                tenant = tenant_by_slug(session, slug)
                created = create(
                    session,
                    tenant,
                    phone=phone,
                    password=_password(),
                    legal_name=legal_name,
                    id_number=id_number,
                    verified=verified,
                )
                if credit_line:
                    from core.loans import LoanError, set_credit_line

                    try:
                        set_credit_line(created, credit_line, tenant.currency, grade or None)
                    except LoanError as error:
                        field = "grade" if error.field == "grade" else "credit-line"
                        raise BadInput(f"{field}: {english(error.message)}") from None
                    except ValueError:
                        raise BadInput("credit-line: a verified member and an amount such as 50000.00") from None
                audit.record_cli(
                    session,
                    "member.create",
                    "member",
                    created.id,
                    None,
                    {"phone": created.phone, "verification": created.verification},
                    tenant_id=tenant.id,
                )
                summary = f"created member {created.id} ({created.phone}, {created.verification}) at {slug}"
        except MemberError as error:
            if if_missing and "already registered" in english(error.message):
                click.echo(f"member {phone} exists at {slug}")
                return
            raise BadInput(f"{error.field}: {english(error.message)}") from None
    click.echo(summary)
