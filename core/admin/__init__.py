"""The tenant back office (/admin on a tenant's hosts), for its staff only.

Each screen declares the named permission it needs; navigation shows only
the screens the signed-in staff user may open.
"""

from __future__ import annotations

from ..i18n import _

DOCUMENT_KINDS = {"id_front": _("ID card, front"), "id_back": _("ID card, back"), "other": _("Other")}
"""What an uploaded identity document is (``core.members.documents.KINDS``), as the member chose it."""


def _may(permission):
    return lambda request: request.identity is not None and bool(request.has_permission(permission))


def includeme(config):
    """The back office's routes and navigation, and the names it shows for permissions, roles and actors."""
    config.add_labels(
        permission="core.accounts.permissions:PERMISSIONS",
        role="core.accounts.permissions:ROLE_NAMES",
        actor_kind="core.audit:ACTOR_KINDS",
        document_kind=DOCUMENT_KINDS,
    )
    route = lambda name, pattern: config.add_route(name, pattern, host_kind="tenant")  # noqa: E731
    route("admin.login", "/admin/login")
    route("admin.two_factor", "/admin/login/verify")
    route("admin.logout", "/admin/logout")
    route("admin.dashboard", "/admin")
    route("admin.members", "/admin/members")
    route("admin.member", "/admin/members/{id:\\d+}")
    route("admin.member_review", "/admin/members/{id:\\d+}/verification")
    route("admin.member_violations", "/admin/members/{id:\\d+}/violations")
    route("admin.member_points", "/admin/members/{id:\\d+}/points")
    route("admin.member_credit_line", "/admin/members/{id:\\d+}/credit-line")
    route("admin.member_messages", "/admin/members/{id:\\d+}/messages")
    route("admin.member_document", "/admin/members/{id:\\d+}/documents/{doc:\\d+}")
    route("admin.staff", "/admin/staff")
    route("admin.staff_user", "/admin/staff/{id:\\d+}")
    route("admin.groups", "/admin/groups")
    route("admin.org", "/admin/org")
    route("admin.loans", "/admin/loans")
    route("admin.loan_new", "/admin/loans/new")
    route("admin.overdue", "/admin/loans/overdue")
    route("admin.loan", "/admin/loans/{id:\\d+}")
    route("admin.loan_decide", "/admin/loans/{id:\\d+}/decision")
    route("admin.loan_write_off", "/admin/loans/{id:\\d+}/write-off")
    route("admin.guarantors", "/admin/guarantors")
    route("admin.recharges", "/admin/funds/recharges")
    route("admin.recharge_review", "/admin/funds/recharges/{id:\\d+}")
    route("admin.recharge_query", "/admin/funds/recharges/{id:\\d+}/query")
    route("admin.withdrawals", "/admin/funds/withdrawals")
    route("admin.withdrawal_decide", "/admin/funds/withdrawals/{id:\\d+}")
    route("admin.adjustments", "/admin/funds/adjustments")
    route("admin.adjustment_decide", "/admin/funds/adjustments/{id:\\d+}")
    route("admin.reconciliation", "/admin/funds/reconciliation")
    route("admin.reserve", "/admin/funds/reserve")
    route("admin.reserve_requests", "/admin/funds/reserve/requests")
    route("admin.reserve_decide", "/admin/funds/reserve/requests/{id:\\d+}")
    route("admin.roles", "/admin/roles")
    route("admin.role", "/admin/roles/{id:\\d+}")
    route("admin.group", "/admin/groups/{id:\\d+}")
    route("admin.org_unit", "/admin/org/{id:\\d+}")
    route("admin.welcome", "/admin/welcome/{token}")
    route("admin.settings", "/admin/settings")
    route("admin.settings_branding", "/admin/settings/branding")
    route("admin.settings_parameters", "/admin/settings/parameters")
    route("admin.settings_menus", "/admin/settings/menus")
    route("admin.settings_versions", "/admin/settings/versions")
    route("admin.settings_version", "/admin/settings/versions/{number:\\d+}")
    route("admin.settings_manifest", "/admin/settings/manifest.toml")
    route("admin.settings_plugins", "/admin/settings/plugins")
    route("admin.settings_plugin", "/admin/settings/plugins/{code}")
    route("admin.settings_plugin_check", "/admin/settings/plugins/{code}/check")
    route("admin.audit", "/admin/audit")
    route("admin.sms", "/admin/sms")
    route("admin.sms_templates", "/admin/sms/templates")
    route("admin.mail", "/admin/mail")
    config.add_nav("admin.dashboard", _("Overview"), "admin.dashboard", order=0, area="admin")
    config.add_nav("admin.members", _("Members"), "admin.members", order=10, area="admin", visible=_may("member.view"))
    config.add_nav("admin.loans", _("Loans"), "admin.loans", order=15, area="admin", visible=_may("member.view"))
    config.add_nav("admin.overdue", _("Overdue"), "admin.overdue", order=16, area="admin", visible=_may("member.view"))
    config.add_nav(
        "admin.guarantors", _("Guarantors"), "admin.guarantors", order=17, area="admin", visible=_may("loan.review")
    )
    config.add_nav(
        "admin.recharges", _("Recharges"), "admin.recharges", order=20, area="admin", visible=_may("funds.view")
    )
    config.add_nav(
        "admin.withdrawals", _("Withdrawals"), "admin.withdrawals", order=21, area="admin", visible=_may("funds.view")
    )
    config.add_nav(
        "admin.adjustments", _("Adjustments"), "admin.adjustments", order=22, area="admin", visible=_may("funds.adjust")
    )
    config.add_nav(
        "admin.reconciliation",
        _("Reconciliation"),
        "admin.reconciliation",
        order=23,
        area="admin",
        visible=_may("funds.view"),
    )
    config.add_nav(
        "admin.reserve", _("Risk reserve"), "admin.reserve", order=24, area="admin", visible=_may("funds.view")
    )
    config.add_nav("admin.staff", _("Staff"), "admin.staff", order=70, area="admin", visible=_may("system.staff"))
    config.add_nav(
        "admin.roles", _("Roles and permissions"), "admin.roles", order=72, area="admin", visible=_may("system.roles")
    )
    config.add_nav(
        "admin.groups", _("User groups"), "admin.groups", order=73, area="admin", visible=_may("system.roles")
    )
    config.add_nav("admin.org", _("Organization"), "admin.org", order=74, area="admin", visible=_may("system.staff"))
    config.add_nav(
        "admin.settings", _("Settings"), "admin.settings", order=71, area="admin", visible=_may("settings.manage")
    )
    config.add_nav("admin.audit", _("Audit log"), "admin.audit", order=75, area="admin", visible=_may("audit.view"))
    config.add_nav("admin.sms", _("SMS outbox"), "admin.sms", order=80, area="admin", visible=_may("sms.view"))
    config.add_nav(
        "admin.sms_templates",
        _("SMS templates"),
        "admin.sms_templates",
        order=82,
        area="admin",
        visible=_may("sms.view"),
    )
    config.add_nav(
        "admin.mail",
        _("Email outbox"),
        "admin.mail",
        order=81,
        area="admin",
        visible=lambda request: _may("sms.view")(request) and request.tenant.email_sign_up,
    )
    config.scan(".views")
    config.scan(".members")
    config.scan(".staff")
    config.scan(".funds")
    config.scan(".reserve")
    config.scan(".loans")
    config.scan(".settings")
    config.scan(".plugins")
    config.scan(".welcome")
