"""``lendstack plugins``: what is installed, and what a tenant enabled."""

from __future__ import annotations

import click

from .app import BadInput, config_option, emit, table


@click.group()
def plugins():
    """Plugins: loan types, payment gateways, SMS providers, repayment methods."""


@plugins.command("list")
@config_option
@click.option("--tenant", "slug", help="Show whether each plugin is enabled for this tenant.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def list_(env, slug, as_json):
    """List installed plugins (with --tenant: only those the tenant enabled)."""
    from core.tenancy.services import TenantNotFound, tenant_by_slug

    enabled = None
    if slug:
        try:
            with env.transaction() as session:
                enabled = tenant_by_slug(session, slug).enabled_plugin_ids
        except TenantNotFound as error:
            raise BadInput(str(error)) from None
    data = [
        {"id": i.id, "kind": i.kind, "name": i.name, "version": i.version, "default_enabled": i.default_enabled}
        for i in env.plugins.infos()
        if enabled is None or i.id in enabled
    ]
    emit(
        data,
        as_json,
        lambda rows: table(
            [[r["id"], r["kind"], r["version"], "yes" if r["default_enabled"] else "no", r["name"]] for r in rows],
            ["id", "kind", "version", "default", "name"],
        ),
    )
