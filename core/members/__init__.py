"""Members (會員): the borrowers and lenders of a tenant — sign-up, sign-in, account pages."""

from __future__ import annotations

from ..i18n import _
from .models import VERIFICATION_LABELS

POINTS_REASONS = {
    "invested": _("Invested in a loan that was disbursed"),
    "community.topic": _("Posted a topic in the community"),
    "community.reply": _("Replied in the community"),
    "community.hidden": _("A moderator hid a post"),
}


def _is_member(request) -> bool:
    return request.identity is not None and request.identity.kind == "member"


def includeme(config):
    config.add_labels(verification=VERIFICATION_LABELS, points_reason=POINTS_REASONS)
    route = lambda name, pattern: config.add_route(name, pattern, host_kind="tenant")
    route("member.register", "/register")
    route("member.login", "/login")
    route("member.logout", "/logout")
    route("member.forgot", "/password/forgot")
    route("account.home", "/account")
    route("account.funds", "/account/funds")
    route("account.profile", "/account/profile")
    route("account.password", "/account/password")
    route("account.verification", "/account/verification")
    route("account.cards", "/account/cards")
    route("account.security", "/account/security")
    route("account.messages", "/account/messages")
    route("account.points", "/account/points")
    route("account.notifications", "/account/notifications")
    config.add_nav("account", _("My account"), "account.home", order=80, visible=_is_member)
    for key, title, name, order in (
        ("account.home", _("Overview"), "account.home", 0),
        ("account.funds", _("Fund records"), "account.funds", 10),
        ("account.verification", _("Real-name verification"), "account.verification", 20),
        ("account.cards", _("Bank cards"), "account.cards", 30),
        ("account.messages", _("Messages"), "account.messages", 35),
        ("account.notifications", _("Notifications"), "account.notifications", 36),
        ("account.points", _("VIP points"), "account.points", 38),
        ("account.profile", _("Profile"), "account.profile", 40),
        ("account.password", _("Password"), "account.password", 50),
        ("account.security", _("Sessions"), "account.security", 60),
    ):
        config.add_nav(key, title, name, order=order, area="account")
    config.include(".agreements")
    config.scan(".views")
    config.scan(".notifications_views")
