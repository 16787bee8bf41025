"""Signing in: sessions, CSRF, and the security policy for staff and operators.

Staff belong to one tenant and are recognised only on that tenant's hosts;
operators only on the operator-console host. Permissions here are the two
areas (``admin``, ``operator``); finer staff permissions arrive with roles.
"""
from __future__ import annotations

from pyramid.csrf import SessionCSRFStoragePolicy
from pyramid.security import Allowed, Denied
from pyramid.session import JSONSerializer, SignedCookieSessionFactory

from .models import Operator, StaffUser

SESSION_IDLE_SECONDS = 30 * 60


class SecurityPolicy:
    def identity(self, request):
        session = request.session
        kind = request.host_kind
        if kind == "operator" and session.get("operator_id"):
            operator = request.dbsession.get(Operator, session["operator_id"])
            return operator if operator is not None and operator.active else None
        if kind == "tenant" and session.get("staff_id") and session.get("tenant_id") == request.tenant.id:
            staff = request.dbsession.get(StaffUser, session["staff_id"])
            if staff is not None and staff.active and staff.tenant_id == request.tenant.id:
                return staff
        return None

    def authenticated_userid(self, request):
        identity = request.identity
        return None if identity is None else f"{type(identity).__name__}:{identity.id}"

    def permits(self, request, context, permission):
        identity = request.identity
        if permission == "operator" and isinstance(identity, Operator):
            return Allowed("operator")
        if permission == "admin" and isinstance(identity, StaffUser):
            return Allowed("staff")
        return Denied(f"{permission} needs signing in")

    def remember(self, request, userid, **kw):
        request.session.invalidate()
        if isinstance(userid, Operator):
            request.session["operator_id"] = userid.id
        else:
            request.session["staff_id"] = userid.id
            request.session["tenant_id"] = userid.tenant_id
        return []

    def forget(self, request, **kw):
        request.session.invalidate()
        return []


def includeme(config):
    secret = config.registry.settings_obj.secret
    config.set_session_factory(SignedCookieSessionFactory(
        secret, cookie_name="lendstack_session", httponly=True, samesite="Lax",
        timeout=SESSION_IDLE_SECONDS, serializer=JSONSerializer(),
        secure=config.get_settings().get("lendstack.secure_cookies", "false") == "true",
    ))
    config.set_csrf_storage_policy(SessionCSRFStoragePolicy())
    config.set_default_csrf_options(require_csrf=True)
    config.set_security_policy(SecurityPolicy())
    if config.get_settings().get("lendstack.argon2") == "cheapest":
        from .passwords import use_cheapest_profile

        use_cheapest_profile()
