"""``/api/v1/auth/token``: bearer tokens for members and staff; ``/api/v1/me``: who the token is.

A member signs in by phone (or email), staff by login (``"as": "staff"``), with
the TOTP code when their role needs two-factor. The token is shown once; only
its hash is stored, it expires after 12 hours and ``DELETE`` revokes it.
"""
from __future__ import annotations

import datetime as dt

from pyramid.view import view_config

from ..accounts import sessions, totp
from ..accounts.services import authenticate_staff
from ..i18n import _
from ..members.services import authenticate
from ..throttle import Throttled
from . import PREFIX, Problem

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
        raise Problem({"login": _("Too many attempts. Try again in ${minutes} minutes.",
                                  mapping={"minutes": max(1, -(-throttled.retry_after // 60))})},
                      status=429, title="Too many requests") from None
    if kind == "staff":
        user = authenticate_staff(request.dbsession, request.tenant, login, body["password"])
    else:
        user = authenticate(request.dbsession, request.tenant, login, body["password"])
    if user is None:
        raise Problem({"login": _("The login or password is not correct.")}, status=401, title="Unauthorized")
    if kind == "staff" and user.requires_2fa and not totp.verify(user, body.get("totp", "")):
        raise Problem({"totp": _("The code is not correct.")}, status=401, title="Unauthorized")
    token = sessions.open_session(request.dbsession, kind, user.id, user.tenant_id, via="token",
                                  address=request.client_addr or "", user_agent=request.user_agent or "")
    expires = dt.datetime.now(dt.timezone.utc) + sessions.TOKEN_LIFETIME
    return {"token": token, "token_type": "Bearer", "expires_at": expires.isoformat(timespec="seconds")}


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
