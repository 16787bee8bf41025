"""``lendstack operator create`` and ``lendstack staff create``.

Both print the otpauth:// URI of a two-factor secret when the account needs
one (operators always do). Passwords come from a prompt or the
``LENDSTACK_PASSWORD`` environment variable, never from the command line (it
would sit in shell history and process lists).
"""

from __future__ import annotations

import contextlib
import os

import click

from .app import BadInput, config_option


@contextlib.contextmanager
def _account_errors(if_missing: bool, exists_message: str):
    """Turn account errors into exit status 2; an existing account is fine with --if-missing."""
    from core.accounts.passwords import WeakPassword
    from core.accounts.services import AccountError
    from core.tenancy.services import TenantNotFound

    try:
        yield
    except AccountError as error:
        if if_missing and "already exists" in str(error):
            click.echo(exists_message)
            return
        raise BadInput(f"{error.field}: {error}") from None
    except WeakPassword as error:
        raise BadInput(f"password: {error}") from None
    except TenantNotFound as error:
        raise BadInput(f"tenant: {error}") from None


def _password() -> str:
    password = os.environ.get("LENDSTACK_PASSWORD")
    if password is None:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    return password


@click.group()
def operator():
    """Operators: the people who run this install."""


@operator.command("create")
@config_option
@click.option("--login", required=True)
@click.option("--if-missing", is_flag=True, help="Do nothing if the operator exists.")
def create_operator(env, login, if_missing):
    """Create an operator who signs in on the operator-console host.

    Operators always sign in with two-factor: the command prints the
    otpauth:// URI to add to an authenticator app (shown once).
    """
    from core.accounts.services import create_operator, operator_provisioning_uri

    with _account_errors(if_missing, f"operator {login} exists"):
        with env.transaction() as session:
            operator = create_operator(session, login, _password())
            uri = operator_provisioning_uri(operator)
        click.echo(f"created operator {login}")
        click.echo("two-factor sign-in is required for operators; add this to an authenticator app:")
        click.echo(uri)


@click.group()
def staff():
    """Staff: the people who run one tenant's back office."""


@staff.command("create")
@config_option
@click.option("--tenant", "slug", required=True)
@click.option("--login", required=True)
@click.option("--role", default="administrator", show_default=True)
@click.option("--name", "display_name", default="")
@click.option("--if-missing", is_flag=True, help="Do nothing if the staff member exists.")
def create_staff(env, slug, login, role, display_name, if_missing):
    """Create a staff member of one tenant.

    A role that moves money requires two-factor sign-in: the command prints the
    otpauth:// URI to add to an authenticator app (shown once).
    """
    from core.accounts import totp
    from core.accounts.services import create_staff
    from core.tenancy.services import tenant_by_slug

    with _account_errors(if_missing, f"staff {login} exists at {slug}"):
        with env.transaction() as session:
            tenant = tenant_by_slug(session, slug)
            staff = create_staff(session, tenant, login, _password(), role, display_name)
            uri = (
                totp.provisioning_uri(staff.totp_secret, f"{staff.login}@{slug}", tenant.name)
                if staff.totp_secret
                else None
            )
        click.echo(f"created staff {login} ({role}) at {slug}")
        if uri:
            click.echo(f"two-factor sign-in is required for {role}; add this to an authenticator app:")
            click.echo(uri)
