"""What the back office (/admin), the operator console (/operator) and the portal share:
signing in and out (throttled, audited, two-factor for staff who need it) and the
403 page."""

from __future__ import annotations

import math
import time

from pyramid.httpexceptions import HTTPFound, HTTPSeeOther
from pyramid.renderers import render_to_response
from pyramid.security import forget, remember
from pyramid.view import forbidden_view_config

from . import audit, inputs
from .accounts import kind_of, totp
from .i18n import _
from .throttle import Throttled

PENDING_2FA_SECONDS = 300


class SignInRefused(Exception):
    """The password was right but this person may not sign in now; ``message`` says why."""

    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


def safe_next(request, target: str | None, home_route: str) -> str:
    """A local path to go to after signing in (never another site, never a control character)."""
    return inputs.safe_next(request, target, request.route_path(home_route))


def throttle_message(throttled: Throttled):
    return _(
        "Too many attempts. Try again in ${minutes} minutes.",
        mapping={"minutes": max(1, math.ceil(throttled.retry_after / 60))},
    )


def signed_in(request, user, target: str):
    """Remember ``user`` (a new server-side session), audit the sign-in and go to ``target``."""
    headers = remember(request, user)
    if kind_of(user) != "member":
        audit.record(
            request, "sign_in", kind_of(user), user.id, actor=f"{kind_of(user)}:{user.id}:{getattr(user, 'login', '')}"
        )
    return HTTPSeeOther(target, headers=headers)


def login_view(request, area: str, authenticate, home_route: str, layout: str, two_factor_route: str | None = None):
    """Render and handle a sign-in form; failures say nothing about which part was wrong."""
    error = None
    login = request.params.get("login", "")
    if request.method == "POST":
        tenant = request.tenant.slug if request.tenant is not None else "-"
        try:
            request.throttle.hit("login.address", request.client_addr or "-")
            request.throttle.hit("login.account", area, tenant, login.strip().lower())
        except Throttled as throttled:
            error = throttle_message(throttled)
            request.response.status = 429
        else:
            try:
                who = authenticate(login, request.POST.get("password", ""))
            except SignInRefused as refused:
                request.response.status = 403
                return {
                    "area": area,
                    "layout": layout,
                    "login": login,
                    "error": refused.message,
                    "next": request.params.get("next", ""),
                }
            target = safe_next(request, request.params.get("next"), home_route)
            if who is not None:
                request.throttle.clear("login.account", area, tenant, login.strip().lower())
                if two_factor_route and getattr(who, "requires_2fa", False):
                    request.session["pending_2fa"] = {"id": who.id, "at": int(time.time()), "next": target}
                    return HTTPSeeOther(request.route_path(two_factor_route))
                return signed_in(request, who, target)
            error = _("The login or password is not correct.")
            request.response.status = 400
    return {"area": area, "layout": layout, "login": login, "error": error, "next": request.params.get("next", "")}


def pending_two_factor(request) -> tuple[int, str] | None:
    """The staff id and target of a sign-in waiting for its second factor, if still fresh."""
    pending = request.session.get("pending_2fa")
    if not isinstance(pending, dict) or time.time() - pending.get("at", 0) > PENDING_2FA_SECONDS:
        request.session.pop("pending_2fa", None)
        return None
    return pending["id"], pending["next"]


def logout_view(request, login_route: str):
    if request.identity is not None and request.identity.kind != "member":
        audit.record(request, "sign_out", request.identity.kind, request.identity.principal_id)
    return HTTPSeeOther(request.route_path(login_route), headers=forget(request))


@forbidden_view_config()
def forbidden(request):
    """Anonymous visitors of a protected page go to the right sign-in page; others get 403."""
    if request.identity is None and request.method == "GET":
        if request.path.startswith("/operator") and request.host_kind == "operator":
            return HTTPFound(request.route_path("operator.login", _query={"next": request.path}))
        if request.path.startswith("/admin") and request.host_kind == "tenant":
            return HTTPFound(request.route_path("admin.login", _query={"next": request.path}))
        if request.path.startswith("/account") and request.host_kind == "tenant":
            return HTTPFound(request.route_path("member.login", _query={"next": request.path}))
    if request.path.startswith("/api/"):
        from .api import problem_response

        status = 401 if request.identity is None else 403
        return problem_response(
            request,
            status,
            "Unauthorized" if status == 401 else "Forbidden",
            "Sign in (a bearer token) first." if status == 401 else "You do not have permission for this.",
        )
    if request.tenant is not None and request.host_kind == "tenant":
        response = render_to_response("errors/403.pt", {}, request=request)
        response.status = 403
        return response
    request.response.status = 403
    request.response.content_type = "text/plain"
    request.response.text = "Forbidden"
    return request.response


def includeme(config):
    config.scan(".backoffice")


def signed_in_with_second_factor(request, user, target: str):
    """Open a session that passed a second factor (it may move money), audit the sign-in and go to ``target``."""
    kind = kind_of(user)
    headers = remember(request, user, second_factor=True)
    audit.record(
        request, "sign_in", kind, user.id, None, {"second_factor": True}, actor=f"{kind}:{user.id}:{user.login}"
    )
    return HTTPSeeOther(target, headers=headers)


def two_factor_view(request, model, *, login_route: str, throttle_scope: tuple[str, str], provisioning_uri):
    """The second step of a staff user's or an operator's sign-in: a TOTP code, enrolling with a QR code first
    when the account has no secret yet. ``model`` is the account's class, ``throttle_scope`` the throttle's keys
    before the login, ``provisioning_uri(account, secret)`` the otpauth URI an enrolling account scans. Returns a
    response or the page's values."""
    pending = pending_two_factor(request)
    if pending is None:
        return HTTPSeeOther(request.route_path(login_route))
    account_id, target = pending
    account = request.dbsession.get(model, account_id)
    if account is None or not account.active:
        return HTTPSeeOther(request.route_path(login_route))
    enrolling = not account.totp_secret
    secret = None
    if enrolling:
        secret = request.session.get("totp_enroll") or totp.new_secret()
        request.session["totp_enroll"] = secret
    error = None
    if request.method == "POST":
        try:
            request.throttle.hit("login.account", *throttle_scope, account.login)
        except Throttled as throttled:
            error, request.response.status = throttle_message(throttled), 429
        else:
            if enrolling:
                account.totp_secret = secret
            if totp.verify(account, request.POST.get("code", "")):
                request.session.pop("pending_2fa", None)
                request.session.pop("totp_enroll", None)
                if enrolling:
                    kind = kind_of(account)
                    audit.record(
                        request, "totp_enrolled", kind, account.id, actor=f"{kind}:{account.id}:{account.login}"
                    )
                return signed_in_with_second_factor(request, account, target)
            error, request.response.status = _("The code is not correct."), 400
    uri = provisioning_uri(account, secret) if enrolling else None
    return {
        "enrolling": enrolling,
        "error": error,
        "secret": secret,
        "qr": totp.qr_svg(uri) if uri else None,
        "needed": False,
    }
