"""``/api/v1/auth/token``: bearer tokens for members and staff; ``/api/v1/me``: who the token is.

A member signs in by phone (or email), staff by login (``"as": "staff"``), with
the TOTP code (``totp``) when their role needs two-factor. A token asked for
with a valid code records the second factor; without one it never moves money
(403, a second factor is needed). A member whose sign-in is frozen gets 403,
as on the form. The token is shown once; only its hash is stored, it expires
after 12 hours and ``DELETE`` revokes it.
"""

from __future__ import annotations

import datetime as dt

from pyramid.view import forbidden_view_config, view_config

from ..accounts import sessions, totp
from ..accounts.services import authenticate_staff
from ..i18n import _
from ..members.conduct import login_freeze_reasons
from ..members.services import authenticate
from ..throttle import Throttled
from . import PREFIX, Problem, problem_response

SECOND_FACTOR_NEEDED = _(
    "This moves money, so it needs a second factor: ask for a new token with the code from "
    "your authenticator app (totp)."
)

API = {"renderer": "json", "openapi": True, "require_csrf": False}


@view_config(route_name="api.auth.token", request_method="POST", **API)
def issue_token(request):
    body = request.json_body
    kind = body.get("as", "member")
    login = body["login"].strip()
    try:
        request.throttle.hit("login.address", request.client_addr or "-")
        request.throttle.hit("token.account", kind, request.tenant.slug, login.lower())
    except Throttled as throttled:
        raise Problem(
            {
                "login": _(
                    "Too many attempts. Try again in ${minutes} minutes.",
                    mapping={"minutes": max(1, -(-throttled.retry_after // 60))},
                )
            },
            status=429,
            title="Too many requests",
        ) from None
    if kind == "staff":
        user = authenticate_staff(request.dbsession, request.tenant, login, body["password"])
    else:
        user = authenticate(request.dbsession, request.tenant, login, body["password"])
    if user is None:
        raise Problem({"login": _("The login or password is not correct.")}, status=401, title="Unauthorized")
    if kind == "staff":
        second_factor = _second_factor(user, body.get("totp", ""))
    else:
        _refuse_frozen(request, user)
        second_factor = False
    token = sessions.open_session(
        request.dbsession,
        kind,
        user.id,
        user.tenant_id,
        via="token",
        address=request.client_addr or "",
        user_agent=request.user_agent or "",
        second_factor=second_factor,
    )
    expires = dt.datetime.now(dt.timezone.utc) + sessions.TOKEN_LIFETIME
    return {"token": token, "token_type": "Bearer", "expires_at": expires.isoformat(timespec="seconds")}


def _second_factor(staff, code: str) -> bool:
    """Whether the token passes a second factor: required for roles that move money, optional otherwise.

    A code that is given must be right (and unused), whatever the roles.
    """
    if not code and not staff.requires_2fa:
        return False
    if not staff.totp_secret:
        raise Problem(
            {"totp": _("Enrol two-factor first: sign in to the back office, which shows how.")},
            status=401,
            title="Unauthorized",
        )
    if not totp.verify(staff, code):
        raise Problem({"totp": _("The code is not correct.")}, status=401, title="Unauthorized")
    return True


def _refuse_frozen(request, member) -> None:
    """A member whose sign-in a violation froze gets no token: 403 with the reasons, as on the form."""
    reasons = login_freeze_reasons(request.dbsession, member)
    if reasons is not None:
        raise Problem(
            {"login": _("Your account is frozen: ${reason}", mapping={"reason": reasons})},
            status=403,
            title="Forbidden",
        )


@forbidden_view_config(path_info=r"^/api/", second_factor_refused=True)
def second_factor_needed(request):
    """An API call that moves money, refused to a token asked for without a second factor."""
    message = request.localizer.translate(SECOND_FACTOR_NEEDED)
    return problem_response(request, 403, "Forbidden", message, [{"field": "Authorization", "message": message}])


@view_config(route_name="api.auth.token", request_method="DELETE", **API)
def revoke_token(request):
    if request.identity is None or request.identity.auth_session.via != "token":
        raise Problem({"Authorization": _("Sign in (a bearer token) first.")}, status=401, title="Unauthorized")
    sessions.revoke(request.dbsession, request.identity.auth_session)
    return {"revoked": True}


@view_config(route_name="api.me", request_method="GET", **API)
def me(request):
    identity = request.identity
    if identity is None:
        raise Problem({"Authorization": _("Sign in (a bearer token) first.")}, status=401, title="Unauthorized")
    body = {"kind": identity.kind, "id": identity.principal_id, "name": identity.display_name}
    if identity.kind == "staff":
        body["permissions"] = sorted(identity.permissions)
    else:
        body["verified"] = identity.user.is_verified
    return body


def includeme(config):
    config.add_route("api.auth.token", f"{PREFIX}/auth/token", host_kind="tenant")
    config.add_route("api.me", f"{PREFIX}/me", host_kind="tenant")
    config.scan(".auth")
