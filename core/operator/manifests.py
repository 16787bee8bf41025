"""A tenant's manifest in and out of the console: download it as TOML, upload one to create or update a tenant.

An upload is shown first as what it would change (``manifest.preview``);
the confirm button carries the same text back and applies it through
``manifest.apply_data`` — the path ``lendstack tenant apply`` takes.
"""

from __future__ import annotations

import tomllib

from pyramid.httpexceptions import HTTPSeeOther
from pyramid.response import Response
from pyramid.view import view_config

from .. import audit
from ..domain import DomainError
from ..forms import on_refusal
from ..i18n import _
from ..templating import TemplateHelpers
from ..tenancy import manifest
from . import tenant_or_404
from .forms import manifest_options

MAX_UPLOAD_BYTES = 256 * 1024  # a manifest is a page of settings; a bigger upload is a mistake
SOURCE = "uploaded manifest"


@view_config(route_name="operator.tenant_manifest", permission="operator")
def download(request):
    """The tenant as a TOML manifest, plugin secrets included (applying it gives back this tenant): audited."""
    tenant = tenant_or_404(request)
    data = manifest.export(tenant, request.registry["plugins"], secrets=True)
    header = f"Tenant {tenant.slug}, exported from the operator console.\nIt holds plugin secrets: keep it safe."
    audit.record(request, "tenant.export", "tenant", tenant.slug, tenant_id=tenant.id)
    return Response(
        manifest.dumps(data, header=header),
        content_type="application/toml",
        charset="utf-8",
        content_disposition=f'attachment; filename="{tenant.slug}.toml"',
    )


def _upload_page(request, error=None, text="") -> dict:
    return {"error": error, "text": text, "preview": None}


@view_config(route_name="operator.upload", renderer="operator/upload.pt", permission="operator")
def upload(request):
    """Upload (or paste) a manifest: first what it would change, then — confirmed — apply it."""
    if request.method != "POST":
        return _upload_page(request)
    text = _text_of(request)
    on_refusal(request, lambda failure: _upload_page(request, _message(failure), text))
    data = _data_of(text)
    plugins, options = request.registry["plugins"], manifest_options(request)
    try:
        if "confirm" not in request.POST:
            created, changes = manifest.preview(request.dbsession, data, SOURCE, plugins, **options)
            return {"error": None, "text": text, "preview": _preview(request, data, created, changes)}
        tenant, created, changes = manifest.apply_data(
            request.dbsession, data, SOURCE, plugins, actor=audit.actor_of(request), action="tenant.upload", **options
        )
    except manifest.ManifestError as error:
        raise manifest.refusal(error) from None
    audit.record(
        request,
        "tenant.upload",
        "tenant",
        tenant.slug,
        None if created else {c["path"]: c["before"] for c in changes},
        {c["path"]: c["after"] for c in changes},
        tenant_id=tenant.id,
    )
    return HTTPSeeOther(request.route_path("operator.tenant", slug=tenant.slug, _query={"saved": len(changes)}))


def _text_of(request) -> str:
    """The manifest's text: the uploaded file's, else the pasted (or carried back) text."""
    upload = request.POST.get("file")
    if getattr(upload, "file", None) is not None:
        raw = upload.file.read(MAX_UPLOAD_BYTES + 1)
        if raw:
            if len(raw) > MAX_UPLOAD_BYTES:
                raise DomainError("file", _("A manifest is at most 256 KB."))
            try:
                return raw.decode("utf-8")
            except UnicodeDecodeError:
                raise DomainError("file", _("A manifest is UTF-8 text.")) from None
    return request.POST.get("text", "")


def _data_of(text: str) -> dict:
    if not text.strip():
        raise DomainError("text", _("Choose a manifest file or paste its text."))
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise DomainError("text", _("This is not valid TOML: ${error}", mapping={"error": str(error)})) from None


def _message(failure):
    """A refusal as the upload page shows it: the manifest's field with its message, or the message alone."""
    if failure.field in ("text", "file"):
        return failure.message
    return f"{failure.field}: {failure.message}"


def _preview(request, data: dict, created: bool, changes: list[dict]) -> dict:
    """What the confirm page shows: the tenant, whether it is new, and each change in words."""
    h = TemplateHelpers(request)
    return {
        "slug": data.get("slug"),
        "name": data.get("name"),
        "created": created,
        "changes": [
            {
                "path": c["path"],
                "label": audit.field_label(c["path"], h),
                "before": audit.value_text(c["path"], c["before"], h, kind="tenant_status"),
                "after": audit.value_text(c["path"], c["after"], h, kind="tenant_status"),
            }
            for c in changes
        ],
    }
