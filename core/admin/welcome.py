"""The first administrator's welcome link: set a password and enrol two-factor sign-in (/admin/welcome/{token}).

The link comes from the operator console, once, when it creates a tenant. It
works once and for 72 hours (:mod:`core.accounts.welcome`); a used or expired
link answers 410, an unknown one 404. Success signs the administrator in with
the second factor recorded: the code typed here was that second factor.
"""

from __future__ import annotations

from pyramid.httpexceptions import HTTPNotFound
from pyramid.view import view_config

from .. import audit
from ..accounts import totp
from ..accounts import welcome as links
from ..backoffice import signed_in_with_second_factor, throttle_message
from ..forms import on_refusal
from ..throttle import Throttled


@view_config(route_name="admin.welcome", renderer="admin/welcome.pt", require_csrf=True)
def welcome(request):
    try:
        link, staff = links.find(
            request.dbsession, request.tenant, request.matchdict["token"], lock=request.method == "POST"
        )
    except links.WelcomeGone:
        request.response.status = 410
        return {"gone": True}
    except LookupError:
        raise HTTPNotFound() from None
    if request.method != "POST":
        return _page(request, staff)
    try:
        request.throttle.hit("login.account", "admin-welcome", request.tenant.slug, staff.login)
    except Throttled as throttled:
        request.response.status = 429
        return _page(request, staff, {"code": throttle_message(throttled)})
    on_refusal(request, lambda failure: _page(request, staff, {failure.field: failure.message}))
    enrolling = not links.enrolment_confirmed(staff)
    links.accept(
        request.dbsession,
        link,
        staff,
        password=request.POST.get("password", ""),
        confirm=request.POST.get("confirm", ""),
        code=request.POST.get("code", ""),
    )
    actor = f"staff:{staff.id}:{staff.login}"
    audit.record(request, "staff.welcome", "staff", staff.id, None, {"login": staff.login}, actor=actor)
    if enrolling:
        audit.record(request, "totp_enrolled", "staff", staff.id, actor=actor)
    return signed_in_with_second_factor(request, staff, request.route_path("admin.dashboard"))


def _page(request, staff, errors: dict | None = None) -> dict:
    """The form: the login, two new-password fields and a code; the QR code until a code was ever accepted."""
    uri = None
    if not links.enrolment_confirmed(staff):
        uri = totp.provisioning_uri(staff.totp_secret, f"{staff.login}@{request.tenant.slug}", request.tenant.name)
    return {
        "gone": False,
        "login": staff.login,
        "errors": errors or {},
        "qr": totp.qr_svg(uri) if uri else None,
        "secret": staff.totp_secret if uri else None,
    }
