"""Back-office views: thin — parse, call a service, audit, choose a response."""

from __future__ import annotations

import sqlalchemy as sa
from pyramid.httpexceptions import HTTPForbidden, HTTPNotFound, HTTPSeeOther
from pyramid.view import forbidden_view_config, view_config

from .. import audit
from ..accounts import totp
from ..accounts.models import Role, StaffUser
from ..accounts.organisation import OrganisationError, copy_role, save_roles
from ..accounts.permissions import (
    MONEY_PERMISSIONS,
    PERMISSIONS,
    ensure_default_roles,
    permissions_by_area,
    role_names,
)
from ..accounts.services import authenticate_staff, role_holders
from ..backoffice import login_view, logout_view, two_factor_view
from ..forms import on_refusal
from ..i18n import _, catalog_paths
from ..members.models import Member, Verification
from ..sms import SmsMessage
from ..templating import TemplateHelpers
from .staff import record_sessions_ended

PAGE_SIZE = 50


def page_number(request) -> int:
    try:
        return max(1, int(request.params.get("page", 1)))
    except ValueError:
        return 1


def newest_first(request, query, order_by) -> dict:
    """One page of ``query`` (newest first) as ``rows``, ``page`` and whether there are ``more``."""
    page = page_number(request)
    rows = request.dbsession.scalars(
        query.order_by(order_by.desc()).limit(PAGE_SIZE + 1).offset((page - 1) * PAGE_SIZE)
    ).all()
    return {"page": page, "more": len(rows) > PAGE_SIZE, "rows": rows[:PAGE_SIZE]}


@view_config(route_name="admin.login", renderer="login.pt", require_csrf=True)
def login(request):
    return login_view(
        request,
        "admin",
        lambda login, pw: authenticate_staff(request.dbsession, request.tenant, login, pw),
        "admin.dashboard",
        "admin/layout.pt",
        two_factor_route="admin.two_factor",
    )


@view_config(route_name="admin.two_factor", renderer="admin/two_factor.pt", require_csrf=True)
def two_factor(request):
    """The second step for staff whose roles move money: a TOTP code, enrolling first if needed."""
    tenant = request.tenant
    return two_factor_view(
        request,
        StaffUser,
        login_route="admin.login",
        throttle_scope=("admin-2fa", tenant.slug),
        provisioning_uri=lambda staff, secret: totp.provisioning_uri(
            secret, f"{staff.login}@{tenant.slug}", tenant.name
        ),
    )


@forbidden_view_config(path_info=r"^/admin/", second_factor_refused=True, renderer="admin/two_factor.pt")
def second_factor_needed(request):
    """A back-office action that moves money, refused to a sign-in without a second factor."""
    request.response.status = 403
    return {"needed": True, "enrolling": False, "error": None, "secret": None, "qr": None}


@view_config(route_name="admin.logout", request_method="POST")
def logout(request):
    return logout_view(request, "admin.login")


@view_config(route_name="admin.dashboard", renderer="admin/dashboard.pt", permission="staff")
def dashboard(request):
    plugins = request.registry["plugins"]
    enabled = request.tenant.enabled_plugin_ids
    count = lambda model, *where: request.dbsession.scalar(  # noqa: E731
        sa.select(sa.func.count()).select_from(model).where(*where)
    )
    from ..loans.models import Installment, Loan
    from .loans import queue_counts

    queues = queue_counts(request.dbsession)
    return {
        "plugins": [(info, info.id in enabled) for info in plugins.infos()],
        "sms_count": count(SmsMessage),
        "member_count": count(Member),
        "pending_verifications": count(Member, Member.verification == Verification.pending.value),
        # the work waiting for staff, each with the screen that does it
        "queues": {
            "first_review": queues["first_review"],
            "guarantor": queues["guarantor"],
            "final_review": count(Loan, Loan.status == "full"),
            "overdue": count(Installment, Installment.status == "overdue"),
        },
    }


# -- roles, audit ------------------------------------------------------


def _manifest_options(request) -> dict:
    """What :func:`core.tenancy.manifest.change` needs to know about the install, and who acts."""
    settings = request.registry.settings_obj
    return {
        "acting": request.identity.user,
        "actor": audit.actor_of(request),
        "operator_hosts": settings.operator_hosts,
        "production": settings.production,
    }


def _role_action(before: dict | None, after: dict) -> str:
    """The audit action of a role's save: created, deactivated, reactivated or otherwise changed."""
    if before is None:
        return "role.create"
    if before["active"] != after["active"]:
        return "role.reactivate" if after["active"] else "role.deactivate"
    return "role.update"


def _audit_roles(request, saved: list[dict]) -> None:
    """Audit each saved role (what it grants, before and after) and the sessions its change ended."""
    for change in saved:
        role, before, after = change["role"], change["before"], change["after"]
        action = _role_action(before, after)
        if before is not None:  # only what changed: the row names the role by its code
            changed = [key for key in after if before[key] != after[key]]
            before, after = {k: before[k] for k in changed}, {k: after[k] for k in changed}
        audit.record(request, action, "role", role.code, before, after)
        for staff, count in change["ended"].items():
            record_sessions_ended(request, staff, count, f"{action}:{role.code}")


def _roles_page(request, errors=None, form=None) -> dict:
    all_roles = ensure_default_roles(request.dbsession, request.tenant.id)
    return {
        "roles": sorted(all_roles.values(), key=lambda r: (not r.builtin, r.code)),
        "areas": permissions_by_area(),
        "permissions": PERMISSIONS,
        "money": MONEY_PERMISSIONS,
        "saved": request.params.get("saved"),
        "errors": errors or {},
        "form": form or {},
    }


def _matrix(request, roles) -> dict[str, dict]:
    """The custom roles' columns of the posted matrix as manifest entries; a built-in or unknown column refused."""
    posted: dict[str, set] = {}
    for key in request.POST:
        code, colon, permission = key.partition(":")
        if colon:
            posted.setdefault(code, set()).add(permission)
    for code in posted:
        if code not in roles or roles[code].builtin:
            raise OrganisationError("matrix", _("A built-in role cannot be changed; copy it to make your own."))
    return {
        code: {"name": role.name, "permissions": sorted(posted.get(code, ())), "active": role.active}
        for code, role in roles.items()
        if not role.builtin and sorted(posted.get(code, ())) != sorted(role.permissions)
    }


@view_config(route_name="admin.roles", renderer="admin/roles.pt", permission="system.roles")
def roles(request):
    """The permission matrix (one column per role, permissions by area) and the form for a new custom role."""
    if request.method != "POST":
        return _roles_page(request)
    session, options = request.dbsession, _manifest_options(request)
    if request.POST.get("action") == "create":
        form = {"code": request.POST.get("code", ""), "name": request.POST.get("name", "")}
        form["permissions"] = request.POST.getall("permissions")
        on_refusal(request, lambda failure: _roles_page(request, {failure.field: failure.message}, form))
        code = form["code"].strip()
        entry = {"name": form["name"], "permissions": form["permissions"], "active": True}
        saved = save_roles(
            session, request.tenant, request.registry["plugins"], {code: entry}, creating={code}, **options
        )
        _audit_roles(request, saved)
        return HTTPSeeOther(request.route_path("admin.role", id=saved[0]["role"].id))
    on_refusal(request, lambda failure: _roles_page(request, {"matrix": failure.message}))
    entries = _matrix(request, ensure_default_roles(session, request.tenant.id))
    saved = save_roles(session, request.tenant, request.registry["plugins"], entries, **options) if entries else []
    _audit_roles(request, saved)
    return HTTPSeeOther(request.route_path("admin.roles", _query={"saved": len(saved)}))


def _role_or_404(request) -> Role:
    role = request.dbsession.scalars(sa.select(Role).where(Role.id == int(request.matchdict["id"]))).first()
    if role is None:
        raise HTTPNotFound()
    return role


def _role_page(request, role: Role, errors=None, form=None) -> dict:
    return {
        "role": role,
        "areas": permissions_by_area(),
        "permissions": PERMISSIONS,
        "money": MONEY_PERMISSIONS,
        "holders": role_holders(request.dbsession, role),
        "errors": errors or {},
        "form": form or {"name": role.name, "permissions": list(role.permissions or [])},
        "saved": request.params.get("saved"),
    }


@view_config(route_name="admin.role", renderer="admin/role.pt", permission="system.roles")
def role(request):
    """One role: a custom one is renamed, regranted, deactivated or reactivated; any role is copied."""
    role = _role_or_404(request)
    if request.method != "POST":
        return _role_page(request, role)
    session, plugins, options = request.dbsession, request.registry["plugins"], _manifest_options(request)
    action = request.POST.get("action", "save")
    if action == "copy":
        on_refusal(request, lambda failure: _role_page(request, role, {"copy": failure.message}))
        name = request.localizer.translate(
            _("Copy of ${name}", mapping={"name": request.localizer.translate(role.name)})
        )
        saved = copy_role(session, request.tenant, plugins, role, name[:120], **options)
        _audit_roles(request, [saved])
        return HTTPSeeOther(request.route_path("admin.role", id=saved["role"].id))
    if role.builtin:
        raise HTTPForbidden()  # a built-in role is copied, never changed
    entry = {"name": role.name, "permissions": list(role.permissions or []), "active": role.active}
    if action in ("deactivate", "reactivate"):
        entry["active"] = action == "reactivate"
        on_refusal(request, lambda failure: _role_page(request, role, {"active": failure.message}))
    else:
        entry |= {"name": request.POST.get("name", ""), "permissions": request.POST.getall("permissions")}
        on_refusal(request, lambda failure: _role_page(request, role, {failure.field: failure.message}, dict(entry)))
    saved = save_roles(session, request.tenant, plugins, {role.code: entry}, **options)
    _audit_roles(request, saved)
    return HTTPSeeOther(request.route_path("admin.role", id=role.id, _query={"saved": len(saved)}))


class _NamingTenantRoles(TemplateHelpers):
    """The page's helpers, naming the tenant's own roles too (the ``role`` label table knows the built-in ones)."""

    def __init__(self, request, names: dict):
        super().__init__(request)
        self._role_names = names

    def role(self, role) -> str:
        if isinstance(role, str) and role in self._role_names:
            return self.t(self._role_names[role])
        return super().role(role)


@view_config(route_name="admin.audit", renderer="admin/audit.pt", permission="audit.view")
def audit_log(request):
    """The audit log newest first, each row a sentence with its changes in words and money formatted."""
    page = page_number(request)
    text = request.params.get("q", "")
    events, more = audit.search(request.dbsession, request.tenant.id, text=text, page=page)
    helpers = _NamingTenantRoles(request, role_names(request.dbsession, request.tenant.id))
    facts = _audit_facts(request.dbsession, events)
    entries = [(e, audit.describe(e, helpers, facts.get((e.object_type, e.object_id)))) for e in events]
    return {"entries": entries, "page": page, "more": more, "q": text}


def _audit_facts(session, events) -> dict:
    """Whose and how much each money record on this page was — the rows record only what changed."""
    from ..loans.models import Loan
    from ..payments.models import Adjustment, Payment, Withdrawal

    wanted: dict[str, set] = {}
    for event in events:
        wanted.setdefault(event.object_type, set()).add(event.object_id)
    found: dict = {}
    for object_type, model, key in (
        ("payment", Payment, Payment.reference),
        ("withdrawal", Withdrawal, Withdrawal.reference),
        ("adjustment", Adjustment, Adjustment.id),
    ):
        ids = wanted.get(object_type, set())
        if key.type.python_type is int:
            ids = {int(i) for i in ids if i.isdigit()}
        for row in session.scalars(sa.select(model).where(key.in_(ids))) if ids else ():
            found[(object_type, str(getattr(row, key.key)))] = {
                "member_id": row.member_id,
                "amount": row.amount,
                "currency": row.currency,
            }
    for loan in session.scalars(sa.select(Loan).where(Loan.number.in_(wanted.get("loan", set())))):
        found[("loan", loan.number)] = {"member_id": loan.borrower_id, "amount": loan.amount, "currency": loan.currency}
    names = dict(
        session.execute(
            sa.select(Member.id, sa.func.coalesce(sa.func.nullif(Member.legal_name, ""), Member.display_name)).where(
                Member.id.in_({f["member_id"] for f in found.values()})
            )
        ).all()
    )
    for fact in found.values():
        fact["whose"] = names.get(fact.pop("member_id"))
    members = {int(i) for i in wanted.get("member", set()) if i.isdigit()}
    for member in session.scalars(sa.select(Member).where(Member.id.in_(members))) if members else ():
        found[("member", str(member.id))] = {"object": f"{member.legal_name or member.display_name} (#{member.id})"}
    return found


@view_config(route_name="admin.mail", renderer="admin/mail.pt", permission="sms.view")
def mail_outbox(request):
    """Every email the tenant sent or holds in its outbox, newest first."""
    from ..mail import MailMessage

    listing = newest_first(request, sa.select(MailMessage), MailMessage.id)
    return {**listing, "messages": listing["rows"]}


@view_config(route_name="admin.sms", renderer="admin/sms.pt", permission="sms.view")
def sms_outbox(request):
    """Every SMS the tenant sent, newest first (the outbox provider's messages included)."""
    listing = newest_first(request, sa.select(SmsMessage), SmsMessage.id)
    return {**listing, "messages": listing["rows"]}


@view_config(route_name="admin.sms_templates", renderer="admin/sms_templates.pt", permission="sms.view")
def sms_templates(request):
    """Each template in each of the tenant's languages: the text in use, an override, a preview."""
    from .. import sms_templates as templates

    if request.method == "POST":
        if not request.has_permission("settings.manage"):
            raise HTTPForbidden()
        code, locale = request.POST.get("code", ""), request.POST.get("locale", "")
        before = templates.override(request.dbsession, request.tenant.id, code, locale)
        before = {"body": before.body} if before is not None else None
        on_refusal(request, lambda failure: _sms_templates_page(request, failure.message))
        saved = templates.save(request.dbsession, request.tenant, code, locale, request.POST.get("body", ""))
        audit.record(
            request,
            "sms_template.save",
            "sms_template",
            f"{code}/{locale}",
            before,
            {"body": saved.body} if saved is not None else None,
        )
        return HTTPSeeOther(request.route_path("admin.sms_templates", _query={"saved": 1}))
    return _sms_templates_page(request)


def _sms_templates_page(request, error=None) -> dict:
    """Each template in each of the tenant's languages, with ``error`` (a refused save) on top."""
    from pyramid.i18n import make_localizer

    from .. import sms_templates as templates

    translation_dirs = catalog_paths(request.registry.settings_obj.catalog_dirs)
    rows = []
    for code in templates.DEFAULTS:
        for locale in request.tenant.locales:
            localizer = make_localizer(locale, translation_dirs)
            custom = templates.override(request.dbsession, request.tenant.id, code, locale)
            rows.append(
                {
                    "code": code,
                    "locale": locale,
                    "custom": custom.body if custom else "",
                    "preview": templates.render(
                        request.dbsession,
                        request.tenant,
                        code,
                        localizer,
                        templates.SAMPLE | {"site": request.tenant.name},
                    ),
                }
            )
    return {
        "rows": rows,
        "error": error,
        "placeholders": sorted(templates.SAMPLE),
        "can_edit": bool(request.has_permission("settings.manage")),
        "saved": request.params.get("saved"),
    }
