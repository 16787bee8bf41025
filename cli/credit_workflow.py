"""``lendstack credit workflow export|import``: approval workflow definitions as TOML.

``export --tenant T [--code C] [-o FILE]`` writes the newest version of each workflow (or of ``C``) as
``[workflows.<code>]`` tables; ``import --tenant T FILE`` checks every definition of FILE by the rules of the
back office's page and saves them all, or — bad TOML or an invalid definition — says which file and which path
is at fault, exits 2 and changes nothing. A definition a started application uses is saved as a new version.
"""

from __future__ import annotations

from pathlib import Path

import click

from .app import BadInput, config_option


@click.group()
def workflow():
    """Export and import approval workflow definitions (TOML)."""


def _tenant(session, slug: str):
    from core.tenancy.services import TenantNotFound, tenant_by_slug

    try:
        return tenant_by_slug(session, slug)
    except TenantNotFound as error:
        raise BadInput(str(error)) from None


@workflow.command("export")
@config_option
@click.option("--tenant", "slug", required=True, help="The tenant's slug.")
@click.option("--code", default=None, help="One workflow's code (default: every workflow).")
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True), default=None, help="Write to FILE.")
def export(env, slug, code, output):
    """Write the tenant's workflows (their newest versions) as TOML."""
    from core.credit.applications import workflows
    from core.db import scope_to_tenant

    with env.transaction() as session:
        tenant = _tenant(session, slug)
        scope_to_tenant(session, tenant.id)
        chosen = [workflows.latest(session, code)] if code else workflows.all_latest(session)
        if not chosen or chosen[0] is None:
            raise BadInput(f"tenant {slug} has no workflow {code!r}" if code else f"tenant {slug} has no workflow")
        text = workflows.to_toml(session, chosen, tenant.currency)
    if output:
        try:
            Path(output).write_text(text, encoding="utf-8")
        except OSError as error:
            raise BadInput(f"{output}: {error.strerror or error}") from None
        click.echo(f"wrote {len(chosen)} workflow(s) to {output}")
    else:
        click.echo(text, nl=False)


@workflow.command("import")
@config_option
@click.option("--tenant", "slug", required=True, help="The tenant's slug.")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
def import_(env, slug, file):
    """Check and save every workflow of FILE (all or nothing)."""
    from core.audit import record_cli
    from core.credit.applications import workflows
    from core.db import scope_to_tenant
    from core.i18n import english

    text = Path(file).read_text(encoding="utf-8", errors="replace")
    try:
        with env.transaction() as session:
            tenant = _tenant(session, slug)
            scope_to_tenant(session, tenant.id)
            saved = workflows.import_toml(session, tenant, text, actor="cli")
            for item, outcome in saved:
                record_cli(
                    session,
                    f"credit.workflow.{outcome}",
                    "credit_workflow",
                    item.code,
                    None,
                    {"version": item.version},
                    tenant_id=tenant.id,
                )
            lines = [f"{item.code}: {outcome} (version {item.version})" for item, outcome in saved]
    except workflows.WorkflowError as error:
        raise BadInput(f"{file}: {error.field}: {english(error.message)}; nothing was changed") from None
    for line in lines:
        click.echo(line)
