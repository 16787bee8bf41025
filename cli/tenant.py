"""``lendstack tenant``: provision tenants from manifests and change their status."""

from __future__ import annotations

import click

from .app import BadInput, config_option, emit, table


def _masked(plugins, plugin_id: str, settings: dict) -> dict:
    """Plugin settings as they may be shown: secrets cut to their last 4 characters."""
    from core.plugin_registry import PluginError

    try:
        return plugins.info(plugin_id).masked(dict(settings or {}))
    except PluginError:
        return {key: "••••" for key in (settings or {})}


def describe(tenant, plugins) -> dict:
    return {
        "slug": tenant.slug,
        "name": tenant.name,
        "status": tenant.status,
        "hosts": [h.host for h in tenant.hosts],
        "theme": tenant.theme,
        "default_locale": tenant.default_locale,
        "locales": list(tenant.locales),
        "currency": tenant.currency,
        "timezone": tenant.timezone,
        "business_date": tenant.business_date.isoformat(),
        "branding": dict(tenant.branding or {}),
        "plugins": {
            p.plugin_id: {"enabled": p.enabled, "settings": _masked(plugins, p.plugin_id, p.settings)}
            for p in tenant.plugins
        },
    }


@click.group()
def tenant():
    """Tenants: the branded sites of this install."""


@tenant.command()
@config_option
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
def apply(env, files):
    """Create or update tenants from manifest FILES (all or nothing)."""
    from tenants.manifest import ManifestError, apply_file

    try:
        settings = env.registry.settings_obj
        with env.transaction() as session:
            with click.progressbar(files, label="Applying manifests") as bar:
                results = [
                    apply_file(
                        session, f, env.plugins, settings.operator_hosts, production=settings.production, actor="cli"
                    )
                    for f in bar
                ]
            lines = [
                f"{'created' if created else 'updated'} tenant {t.slug} ({', '.join(h.host for h in t.hosts)})"
                for t, created in results
            ]
    except ManifestError as error:
        raise BadInput(f"{error}; nothing was applied") from None
    for line in lines:
        click.echo(line)


@tenant.command("list")
@config_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def list_(env, as_json):
    """List the tenants."""
    from core.tenancy.services import all_tenants

    with env.transaction() as session:
        data = [describe(t, env.plugins) for t in all_tenants(session)]
    emit(
        data,
        as_json,
        lambda rows: table(
            [
                [
                    r["slug"],
                    r["name"],
                    r["status"],
                    r["currency"],
                    r["default_locale"],
                    r["theme"],
                    " ".join(r["hosts"]),
                ]
                for r in rows
            ],
            ["slug", "name", "status", "currency", "locale", "theme", "hosts"],
        ),
    )


@tenant.command()
@config_option
@click.argument("slug")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def show(env, slug, as_json):
    """Show one tenant."""
    from core.tenancy.services import TenantNotFound, tenant_by_slug

    try:
        with env.transaction() as session:
            data = describe(tenant_by_slug(session, slug), env.plugins)
    except TenantNotFound as error:
        raise BadInput(str(error)) from None

    def human(d):
        for key in ("slug", "name", "status", "theme", "currency", "timezone", "business_date"):
            click.echo(f"{key:14} {d[key]}")
        click.echo(f"{'locales':14} {', '.join(d['locales'])} (default {d['default_locale']})")
        click.echo(f"{'hosts':14} {', '.join(d['hosts'])}")
        for key, value in d["branding"].items():
            click.echo(f"{'branding':14} {key} = {value}")
        for plugin_id, p in d["plugins"].items():
            click.echo(f"{'plugin':14} {plugin_id} {'on' if p['enabled'] else 'off'}")

    emit(data, as_json, human)


def _set_status(env, slug, status, action):
    from core.domain import DomainError
    from core.tenancy.manifest import change
    from core.tenancy.services import TenantNotFound, tenant_by_slug

    settings = env.registry.settings_obj
    try:
        with env.transaction() as session:
            change(
                session,
                tenant_by_slug(session, slug),
                env.plugins,
                lambda data: data.update(status=status),
                actor="cli",
                action=action,
                operator_hosts=settings.operator_hosts,
                production=settings.production,
            )
    except TenantNotFound as error:
        raise BadInput(str(error)) from None
    except DomainError as error:
        raise BadInput(f"{error.field}: {error.message}; nothing was changed") from None
    click.echo(f"tenant {slug} is {status}")


@tenant.command()
@config_option
@click.argument("slug")
def suspend(env, slug):
    """Suspend a tenant: its site answers 503 until resumed."""
    _set_status(env, slug, "suspended", "tenant.suspended")


@tenant.command()
@config_option
@click.argument("slug")
def resume(env, slug):
    """Resume a suspended tenant."""
    _set_status(env, slug, "active", "tenant.active")


@tenant.command()
@config_option
@click.argument("slug")
def archive(env, slug):
    """Archive a tenant: its site answers 410 (gone); every record is kept and it can be restored."""
    _set_status(env, slug, "archived", "tenant.archived")


@tenant.command()
@config_option
@click.argument("slug")
def restore(env, slug):
    """Restore an archived (or suspended) tenant: its site opens again."""
    _set_status(env, slug, "active", "tenant.restored")


@tenant.command()
@config_option
@click.argument("slug")
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True), help="Write to FILE, not stdout.")
def export(env, slug, output):
    """Print a tenant as a manifest (TOML) that `tenant apply` takes back; it holds plugin secrets."""
    from core.tenancy.manifest import dumps, export
    from core.tenancy.services import TenantNotFound, tenant_by_slug

    try:
        with env.transaction() as session:
            tenant = tenant_by_slug(session, slug)
            text = dumps(
                export(tenant, env.plugins),
                header=f"Tenant {slug}, exported from Lendstack: `lendstack tenant apply` takes this file back.\n"
                "It holds the plugins' secrets: keep it as safe as the install's keys.",
            )
    except TenantNotFound as error:
        raise BadInput(str(error)) from None
    if output:
        with open(output, "w", encoding="utf-8") as file:
            file.write(text)
        click.echo(f"wrote tenant {slug} to {output}", err=True)
    else:
        click.echo(text, nl=False)
