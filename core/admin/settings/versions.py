"""The settings' versions (/admin/settings/versions): every saved change, one version's changes by name and its
restore, and the settings as a manifest file to download (/admin/settings/manifest.toml)."""

from __future__ import annotations

from pyramid.httpexceptions import HTTPNotFound, HTTPSeeOther
from pyramid.response import Response
from pyramid.view import view_config

from ...forms import on_refusal
from ...i18n import _
from ...tenancy import manifest
from ...tenancy import versions as tenant_versions
from .common import PERMISSION, audit_changes, change_options
from .names import SettingNames, action_label


@view_config(route_name="admin.settings_versions", renderer="admin/settings/versions.pt", permission=PERMISSION)
def versions(request):
    return {
        "versions": tenant_versions.versions(request.dbsession, request.tenant),
        "action_label": action_label,
        "restored": request.GET.get("restored"),
    }


def _version_or_404(request):
    try:
        return tenant_versions.version(request.dbsession, request.tenant, int(request.matchdict["number"]))
    except (LookupError, ValueError):
        raise HTTPNotFound() from None


@view_config(route_name="admin.settings_version", renderer="admin/settings/version.pt", permission=PERMISSION)
def version(request):
    found = _version_or_404(request)
    if request.method == "POST":
        on_refusal(request, lambda error: _version_page(request, found, error.message))
        changes = tenant_versions.restore(
            request.dbsession, request.tenant, found.number, request.registry["plugins"], **change_options(request)
        )
        audit_changes(request, "settings.restore", changes)
        return HTTPSeeOther(
            request.route_path("admin.settings_versions", _query={"restored": found.number if changes else "0"})
        )
    return _version_page(request, found)


def _version_page(request, found, error=None) -> dict:
    describe = SettingNames(request)
    return {
        "version": found,
        "action_label": action_label,
        "changes": [
            {
                "name": describe.path(change["path"]),
                "before": describe.value(change["path"], change["before"]),
                "after": describe.value(change["path"], change["after"]),
            }
            for change in found.changes or []
        ],
        "error": error,
    }


@view_config(route_name="admin.settings_manifest", permission=PERMISSION)
def manifest_download(request):
    """The tenant's settings as a manifest file (TOML), every plugin secret left out."""
    tenant = request.tenant
    data = manifest.export(tenant, request.registry["plugins"], secrets=False)
    translate = request.localizer.translate
    header = "\n".join(
        (
            translate(_("The settings of ${site}, as a manifest file.", mapping={"site": tenant.name})),
            translate(
                _("Plugin secrets (keys, passwords, signing secrets) are left out: add them before applying it.")
            ),
        )
    )
    response = Response(manifest.dumps(data, header=header), content_type="application/toml", charset="utf-8")
    response.content_disposition = f'attachment; filename="{tenant.slug}.toml"'
    return response
