"""Back-office views: thin — parse, call a service, audit, choose a response."""

from __future__ import annotations

import sqlalchemy as sa
from pyramid.httpexceptions import HTTPSeeOther
from pyramid.security import remember
from pyramid.view import forbidden_view_config, view_config

from .. import audit
from ..accounts import totp
from ..accounts.models import StaffUser
from ..accounts.permissions import PERMISSIONS, ensure_default_roles
from ..accounts.services import authenticate_staff, change_role_permissions
from ..backoffice import login_view, logout_view, pending_two_factor, throttle_message
from ..forms import on_refusal
from ..i18n import _, catalog_paths
from ..members.models import Member, Verification
from ..sms import SmsMessage
from ..templating import TemplateHelpers
from ..throttle import Throttled
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
    pending = pending_two_factor(request)
    if pending is None:
        return HTTPSeeOther(request.route_path("admin.login"))
    staff_id, target = pending
    staff = request.dbsession.get(StaffUser, staff_id)
    if staff is None or not staff.active:
        return HTTPSeeOther(request.route_path("admin.login"))
    enrolling = not staff.totp_secret
    if enrolling:
        secret = request.session.get("totp_enroll") or totp.new_secret()
        request.session["totp_enroll"] = secret
    error = None
    if request.method == "POST":
        try:
            request.throttle.hit("login.account", "admin-2fa", request.tenant.slug, staff.login)
        except Throttled as throttled:
            error, request.response.status = throttle_message(throttled), 429
        else:
            if enrolling:
                staff.totp_secret = secret
            if totp.verify(staff, request.POST.get("code", "")):
                request.session.pop("pending_2fa", None)
                request.session.pop("totp_enroll", None)
                if enrolling:
                    audit.record(request, "totp_enrolled", "staff", staff.id, actor=f"staff:{staff.id}:{staff.login}")
                return _signed_in_with_second_factor(request, staff, target)
            error, request.response.status = _("The code is not correct."), 400
    uri = (
        totp.provisioning_uri(secret, f"{staff.login}@{request.tenant.slug}", request.tenant.name)
        if enrolling
        else None
    )
    return {
        "enrolling": enrolling,
        "error": error,
        "secret": secret if enrolling else None,
        "qr": totp.qr_svg(uri) if uri else None,
        "needed": False,
    }


def _signed_in_with_second_factor(request, staff: StaffUser, target: str):
    """Open a session that passed a second factor (it may move money), audit it and go on."""
    headers = remember(request, staff, second_factor=True)
    audit.record(
        request, "sign_in", "staff", staff.id, None, {"second_factor": True}, actor=f"staff:{staff.id}:{staff.login}"
    )
    return HTTPSeeOther(target, headers=headers)


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


@view_config(route_name="admin.roles", renderer="admin/roles.pt", permission="system.roles")
def roles(request):
    """The permissions matrix: one column per role, one row per permission."""
    all_roles = sorted(ensure_default_roles(request.dbsession, request.tenant.id).values(), key=lambda r: r.code)
    if request.method == "POST":
        changes = []
        for role in all_roles:
            granted = [p for p in PERMISSIONS if request.POST.get(f"{role.code}:{p}") == "on"]
            if sorted(granted) != sorted(role.permissions):
                before = {"permissions": list(role.permissions)}
                ended = change_role_permissions(request.dbsession, role, granted)
                changes.append(role.code)
                audit.record(
                    request,
                    "role.permissions",
                    "role",
                    role.code,
                    before,
                    {"permissions": role.permissions, "requires_2fa": role.requires_2fa},
                )
                for staff, count in ended.items():
                    record_sessions_ended(request, staff, count, f"role.permissions:{role.code}")
        return HTTPSeeOther(request.route_path("admin.roles", _query={"saved": len(changes)}))
    return {"roles": all_roles, "permissions": PERMISSIONS, "saved": request.params.get("saved")}


@view_config(route_name="admin.audit", renderer="admin/audit.pt", permission="audit.view")
def audit_log(request):
    """The audit log newest first, each row a sentence with its changes in words and money formatted."""
    page = page_number(request)
    text = request.params.get("q", "")
    events, more = audit.search(request.dbsession, request.tenant.id, text=text, page=page)
    helpers, facts = TemplateHelpers(request), _audit_facts(request.dbsession, events)
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
            from pyramid.httpexceptions import HTTPForbidden

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
