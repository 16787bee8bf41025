"""Creating a tenant from one form with its first administrator; editing, archiving and restoring one.

Every change goes through :mod:`core.tenancy.manifest` (``apply_data`` to
create, ``change`` to edit) in the request's transaction: a refusal names the
field, shows the form again and leaves nothing half-made. The first
administrator gets a random password nobody knows, a TOTP secret and a
one-time welcome link (:mod:`core.accounts.welcome`); the page after saving
shows the link and the enrolment QR code once, never a password.
"""

from __future__ import annotations

import secrets
import zoneinfo

import sqlalchemy as sa
from pyramid.httpexceptions import HTTPSeeOther
from pyramid.renderers import render_to_response
from pyramid.view import view_config

from .. import audit
from ..accounts import totp
from ..accounts import welcome as links
from ..accounts.services import create_staff
from ..domain import DomainError, InvalidTransition
from ..forms import on_refusal
from ..i18n import SUPPORTED_LOCALES, _
from ..members.services import clean_email
from ..tenancy import manifest
from ..tenancy.models import Tenant, TenantStatus
from ..themes import available_themes
from . import TENANTS, tenant_or_404
from .forms import (
    chosen_locales,
    form_field,
    hosts_of,
    keep_languages,
    manifest_data,
    manifest_options,
    plugin_texts,
    required_settings,
    set_plugins,
)
from .usage import tenant_page

FIRST_ADMIN_ROLE = "administrator"
CURRENCIES = ("CNY", "HKD", "TWD", "USD", "EUR", "GBP", "SGD", "JPY")
"""Offered in the currency field (any ISO 4217 code may be typed)."""


def _choices(request) -> dict:
    """What the tenant forms offer: languages, themes, time zones, currencies and the installed plugins."""
    plugins = request.registry["plugins"]
    return {
        "all_locales": SUPPORTED_LOCALES,
        "themes": available_themes(),
        "timezones": sorted(zoneinfo.available_timezones()),
        "currencies": CURRENCIES,
        "infos": plugins.infos(),
        "required": {info.id: required_settings(info) for info in plugins.infos()},
    }


FORM_FIELDS = {"slug", "hosts", "currency", "locales", "default_locale", "timezone", "theme", "business_date"}
FORM_FIELDS |= {"admin_login", "admin_email"} | {f"site_title_{loc}" for loc in SUPPORTED_LOCALES}


def _refused(data: dict, error, default_locale: str = "") -> dict:
    """``data`` with ``error``'s message next to the input its field (a manifest path) belongs to, or on top
    of the form when the form has no such input (a setting only a manifest holds)."""
    field = form_field(error.field, default_locale)
    message = error.message
    setting = error.field[len(field) + 1 :] if error.field.startswith("plugins.") else ""
    if field in FORM_FIELDS or field.startswith("plugins."):
        data["errors"] = {field: f"{setting}: {message}" if setting else message}
    else:
        data["errors"], data["error"] = {}, f"{error.field}: {message}"
    return data


# -- creating ---------------------------------------------------------------------------------------------------------


NEW_TENANT_DEFAULTS = {"currency": "CNY", "timezone": "Asia/Shanghai", "theme": "default", "default_locale": "zh_Hant"}


def _new_page(request, error=None) -> dict:
    """The create form: empty with the usual defaults, or as it was sent (with ``error`` by its field)."""
    posted = request.method == "POST"
    infos = request.registry["plugins"].infos()
    data = {
        **_choices(request),
        "form": dict(request.POST) if posted else dict(NEW_TENANT_DEFAULTS),
        "chosen_locales": request.POST.getall("locales") if posted else [NEW_TENANT_DEFAULTS["default_locale"]],
        "chosen_plugins": set(request.POST.getall("plugins")) if posted else {i.id for i in infos if i.default_enabled},
        "errors": {},
        "error": None,
    }
    return _refused(data, error, request.POST.get("default_locale", "")) if error else data


@view_config(route_name="operator.tenant_new", renderer="operator/tenant_new.pt", permission="operator")
def new_tenant(request):
    """The create form; saving makes the site live on its hosts and shows the first administrator's link once."""
    if request.method != "POST":
        return _new_page(request)
    on_refusal(request, lambda failure: _new_page(request, failure))
    plugins = request.registry["plugins"]
    session = request.dbsession
    data = manifest_data(request.POST, plugins)
    if data["slug"] and session.scalar(sa.select(sa.func.count()).where(Tenant.slug == data["slug"])):
        raise DomainError("slug", _("A site with this short name exists already."))
    email = clean_email(request.POST.get("admin_email", ""))
    actor = audit.actor_of(request)
    try:
        tenant, created, _changes = manifest.apply_data(
            session, data, "operator console", plugins, actor=actor, action="tenant.create", **manifest_options(request)
        )
    except manifest.ManifestError as error:
        raise manifest.refusal(error) from None
    if not created:  # another console made it in the meantime
        raise DomainError("slug", _("A site with this short name exists already."))
    staff = create_staff(
        session, tenant, request.POST.get("admin_login", ""), secrets.token_urlsafe(32), FIRST_ADMIN_ROLE
    )
    staff.totp_secret = staff.totp_secret or totp.new_secret()
    token = links.issue(session, staff, email=email, by=actor)
    audit.record(request, "tenant.create", "tenant", tenant.slug, None, _summary(tenant), tenant_id=tenant.id)
    audit.record(
        request,
        "staff.create",
        "staff",
        staff.id,
        None,
        {"login": staff.login, "roles": [FIRST_ADMIN_ROLE], "email": email},
        tenant_id=tenant.id,
    )
    uri = totp.provisioning_uri(staff.totp_secret, f"{staff.login}@{tenant.slug}", tenant.name)
    page = {
        "tenant": tenant,
        "login": staff.login,
        "email": email,
        "link": f"{_site_url(request, tenant)}/admin/welcome/{token}",
        "qr": totp.qr_svg(uri),
        "secret": staff.totp_secret,
        "hours": int(links.LIFETIME.total_seconds() // 3600),
    }
    return render_to_response("operator/tenant_created.pt", page, request=request)


def _site_url(request, tenant) -> str:
    """The tenant's first host as the console is reached (its scheme and, when not the usual one, its port)."""
    port = request.host_port
    usual = {"http": "80", "https": "443"}.get(request.scheme)
    return f"{request.scheme}://{tenant.hosts[0].host}" + (f":{port}" if port and port != usual else "")


def _summary(tenant) -> dict:
    """What a new tenant's audit row records."""
    return {
        "name": tenant.name,
        "hosts": [h.host for h in tenant.hosts],
        "locales": list(tenant.locales),
        "default_locale": tenant.default_locale,
        "currency": tenant.currency,
        "timezone": tenant.timezone,
        "theme": tenant.theme,
        "plugins": sorted(tenant.enabled_plugin_ids),
    }


# -- editing ----------------------------------------------------------------------------------------------------------


def _edit_page(request, tenant, error=None) -> dict:
    if request.method == "POST":
        form = request.POST
        hosts, locales = form.get("hosts", ""), form.getall("locales")
        default, theme, chosen = form.get("default_locale", ""), form.get("theme", ""), set(form.getall("plugins"))
    else:
        hosts, locales = "\n".join(h.host for h in tenant.hosts), list(tenant.locales)
        default, theme, chosen = tenant.default_locale, tenant.theme, set(tenant.enabled_plugin_ids)
    data = {
        **_choices(request),
        "tenant": tenant,
        "hosts": hosts,
        "chosen_locales": locales,
        "default_locale": default,
        "chosen_theme": theme,
        "chosen_plugins": chosen,
        "errors": {},
        "error": None,
    }
    return _refused(data, error, default) if error else data


@view_config(route_name="operator.tenant_edit", renderer="operator/tenant_edit.pt", permission="operator")
def edit_tenant(request):
    """A tenant's hosts, languages, theme and plugins, changed through the manifest (a version is recorded)."""
    tenant = tenant_or_404(request)
    if request.method != "POST":
        return _edit_page(request, tenant)
    on_refusal(request, lambda failure: _edit_page(request, tenant, failure))
    post, plugins = request.POST, request.registry["plugins"]

    def edit(data):
        locales = chosen_locales(post)
        data["hosts"] = hosts_of(post.get("hosts", ""))
        data["locales"], data["default_locale"] = locales, post.get("default_locale", "")
        data["theme"] = post.get("theme", "")
        keep_languages(data, locales)
        set_plugins(data, plugins, set(post.getall("plugins")), plugin_texts(post))

    changes = _change(request, tenant, edit, "tenant.edit")
    return HTTPSeeOther(request.route_path("operator.tenant", slug=tenant.slug, _query={"saved": len(changes)}))


def _change(request, tenant, edit, action: str, audited: str | None = None) -> list[dict]:
    """Apply ``edit`` to ``tenant``'s manifest and audit what changed (path by path, before and after)."""
    changes = manifest.change(
        request.dbsession,
        tenant,
        request.registry["plugins"],
        edit,
        actor=audit.actor_of(request),
        action=action,
        **manifest_options(request),
    )
    if changes:
        audit.record(
            request,
            audited or action,
            "tenant",
            tenant.slug,
            {c["path"]: c["before"] for c in changes},
            {c["path"]: c["after"] for c in changes},
            tenant_id=tenant.id,
        )
    return changes


# -- archiving and restoring ------------------------------------------------------------------------------------------


@view_config(
    route_name="operator.tenant_archive", request_method="POST", renderer="operator/tenant.pt", permission="operator"
)
def archive_tenant(request):
    """Close a site for good (it answers 410) with every row kept; the operator types its slug to confirm."""
    tenant = tenant_or_404(request)
    on_refusal(request, lambda failure: tenant_page(request, tenant, {failure.field: failure.message}))
    if request.POST.get("confirm", "").strip() != tenant.slug:
        raise DomainError("confirm", _("Type the site's short name exactly to archive it."))
    if not TENANTS.allows(tenant.status, TenantStatus.archived):
        raise InvalidTransition("status", _("This site is archived already."))
    _change(
        request,
        tenant,
        lambda data: data.update(status=TenantStatus.archived.value),
        "tenant.archive",
        "tenant.archived",
    )
    return HTTPSeeOther(request.route_path("operator.tenant", slug=tenant.slug))


@view_config(
    route_name="operator.tenant_restore", request_method="POST", renderer="operator/tenant.pt", permission="operator"
)
def restore_tenant(request):
    """Open an archived site again, as it was."""
    tenant = tenant_or_404(request)
    on_refusal(request, lambda failure: tenant_page(request, tenant, {failure.field: failure.message}))
    if tenant.status != TenantStatus.archived.value:
        raise InvalidTransition("status", _("Only an archived site can be restored."))
    _change(
        request, tenant, lambda data: data.update(status=TenantStatus.active.value), "tenant.restore", "tenant.restored"
    )
    return HTTPSeeOther(request.route_path("operator.tenant", slug=tenant.slug))
