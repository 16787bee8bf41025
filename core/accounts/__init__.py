"""Signing in: server-side sessions, API tokens, CSRF, and the security policy.

Three kinds of people sign in: members (borrowers and lenders) and staff on
their tenant's hosts, operators on the operator-console host. Identity comes
from the ``lendstack_auth`` cookie (a server-side, revocable session) or, on
``/api/``, from an ``Authorization: Bearer`` token; either is honoured only
on the host kind and tenant it was issued for. Permissions are deny by
default: ``member``, ``staff`` and ``operator`` say who is signed in; every
other permission is a named staff permission (:mod:`.permissions`) one of the
staff user's roles must hold. A permission that moves money is granted only
to a session or token whose sign-in passed a second factor (a TOTP code),
whatever roles the staff user holds now: roles raised after a sign-in
without one never move money on it.

The signed cookie session (JSON, never pickle) carries only the CSRF token and
sign-in steps in progress (two-factor); it is replaced on every sign-in.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pyramid.csrf import SessionCSRFStoragePolicy
from pyramid.request import RequestLocalCache
from pyramid.security import Allowed, Denied
from pyramid.session import JSONSerializer, SignedCookieSessionFactory
from webob.cookies import make_cookie

from .. import events
from . import sessions
from .models import AuthSession, Operator, StaffUser
from .permissions import MONEY_PERMISSIONS, ensure_default_roles


@events.listen("lendstack_tenant_applied")
def _default_roles(session, tenant_id, tenant, created):
    """A new tenant starts with the built-in staff roles."""
    if created:
        ensure_default_roles(session, tenant_id)


AUTH_COOKIE = "lendstack_auth"
SESSION_IDLE_SECONDS = int(sessions.IDLE.total_seconds())
AREAS = frozenset({"member", "staff", "operator"})
# The last permission check's answer, for a 403 raised by hand after ``request.has_permission``.
LAST_CHECK = "lendstack.last_permission_check"


class SecondFactorRequired(Denied):
    """A role grants the permission, but it moves money and this sign-in passed no second factor."""


def second_factor_refused(request) -> bool:
    """Whether this request's 403 is for want of a second factor.

    A view's declared permission puts its answer on the exception; a view
    that checks ``request.has_permission`` and raises ``HTTPForbidden``
    itself leaves it to the last check made.
    """
    result = getattr(getattr(request, "exception", None), "result", None)
    if result is None:  # (a Denied is falsy: it subclasses int)
        result = request.environ.get(LAST_CHECK)
    return isinstance(result, SecondFactorRequired)


class SecondFactorRefusedPredicate:
    """View predicate ``second_factor_refused=True``: a 403 view for the missing second factor."""

    def __init__(self, value, config):
        self.value = bool(value)

    def text(self):
        return f"second_factor_refused = {self.value}"

    phash = text

    def __call__(self, context, request):
        return second_factor_refused(request) == self.value


@dataclass
class Identity:
    """Who is signed in, for this request."""

    kind: str
    principal_id: int
    tenant_id: int | None
    display_name: str
    user: object
    auth_session: AuthSession
    permissions: frozenset = field(default_factory=frozenset)
    # money permissions the roles grant but this sign-in may not use (no second factor)
    withheld: frozenset = field(default_factory=frozenset)


def kind_of(user) -> str:
    from ..members.models import Member

    if isinstance(user, Operator):
        return "operator"
    if isinstance(user, StaffUser):
        return "staff"
    if isinstance(user, Member):
        return "member"
    raise TypeError(f"cannot sign in a {type(user).__name__}")


def _load_user(request, found: AuthSession):
    from ..members.models import Member

    db = request.dbsession
    if found.kind == "operator":
        user = db.get(Operator, found.principal_id)
        return user if user is not None and user.active else None
    model = StaffUser if found.kind == "staff" else Member
    user = db.get(model, found.principal_id)
    if user is None or not user.active or user.tenant_id != found.tenant_id:
        return None
    if found.kind == "member" and user.login_frozen:
        return None
    return user


class SecurityPolicy:
    """Who is asking, worked out once per request: Pyramid asks the policy for ``request.identity`` on every use
    (each permission check of a page's menus), and each answer would look the session and the user up again.
    Signing in or out within a request forgets the answer (:meth:`remember`, :meth:`forget`)."""

    def __init__(self):
        self._identities = RequestLocalCache(self._identity)

    def identity(self, request):
        if request.host_kind is None:
            return None  # asked before the tenancy tween knew the host: nobody yet, and not kept
        return self._identities.get_or_create(request)

    def _identity(self, request):
        kind = request.host_kind
        if kind not in ("operator", "tenant"):
            return None
        found = None
        authorization = request.headers.get("Authorization", "")
        if request.path.startswith("/api/") and authorization.startswith("Bearer "):
            found = sessions.find_session(request.dbsession, authorization[7:].strip(), via="token")
        elif AUTH_COOKIE in request.cookies:
            found = sessions.find_session(request.dbsession, request.cookies[AUTH_COOKIE])
        if found is None:
            return None
        if kind == "operator" and found.kind != "operator":
            return None
        if kind == "tenant" and (found.kind == "operator" or found.tenant_id != request.tenant.id):
            return None
        user = _load_user(request, found)
        if user is None:
            return None
        name = getattr(user, "display_name", "") or getattr(user, "login", "")
        permissions = user.permissions if found.kind == "staff" else frozenset()
        withheld = frozenset() if found.second_factor_at is not None else permissions & MONEY_PERMISSIONS
        return Identity(found.kind, user.id, found.tenant_id, name, user, found, permissions - withheld, withheld)

    def authenticated_userid(self, request):
        identity = request.identity
        return None if identity is None else f"{identity.kind}:{identity.principal_id}"

    def permits(self, request, context, permission):
        result = self._permits(request.identity, permission)
        request.environ[LAST_CHECK] = result
        return result

    @staticmethod
    def _permits(identity, permission):
        if identity is None:
            return Denied(f"{permission} needs signing in")
        if permission == "operator" and identity.kind == "operator" and identity.auth_session.second_factor_at is None:
            return Denied("operators sign in with a second factor")  # a session opened before operators had one
        if permission in AREAS:
            return Allowed(permission) if identity.kind == permission else Denied(f"not a {permission}")
        if identity.kind == "staff" and permission in identity.permissions:
            return Allowed(permission)
        if identity.kind == "staff" and permission in identity.withheld:
            return SecondFactorRequired(f"{permission} moves money: sign in with a second factor")
        return Denied(f"no role grants {permission}")

    def remember(self, request, user, *, second_factor: bool = False, **kw):
        """Open a new server-side session for ``user`` (rotation) and a fresh CSRF token.

        ``second_factor``: the sign-in passed a TOTP code, so the session may move money.
        """
        token = sessions.open_session(
            request.dbsession,
            kind_of(user),
            user.id,
            getattr(user, "tenant_id", None),
            address=request.client_addr or "",
            user_agent=request.user_agent or "",
            second_factor=second_factor,
        )
        request.session.invalidate()
        self._identities.clear(request)
        return [("Set-Cookie", _auth_cookie(request, token))]

    def forget(self, request, **kw):
        identity = request.identity
        if identity is not None:
            sessions.revoke(request.dbsession, identity.auth_session)
        request.session.invalidate()
        self._identities.clear(request)
        return [("Set-Cookie", _auth_cookie(request, None))]


def _auth_cookie(request, token: str | None) -> str:
    """The auth cookie's header value; ``None`` expires it."""
    secure = request.registry.settings_obj.secure_cookies
    return make_cookie(
        AUTH_COOKIE,
        token or "",
        max_age=0 if token is None else None,
        path="/",
        secure=secure,
        httponly=True,
        samesite="Lax",
    )


def includeme(config):
    settings = config.registry.settings_obj
    secret = settings.secret
    config.set_session_factory(
        SignedCookieSessionFactory(
            secret,
            cookie_name="lendstack_session",
            httponly=True,
            samesite="Lax",
            timeout=SESSION_IDLE_SECONDS,
            serializer=JSONSerializer(),
            secure=settings.secure_cookies,
        )
    )
    config.set_csrf_storage_policy(SessionCSRFStoragePolicy())
    config.set_default_csrf_options(require_csrf=True)
    config.set_security_policy(SecurityPolicy())
    config.add_view_predicate("second_factor_refused", SecondFactorRefusedPredicate)
    if settings.argon2_cheapest:
        from .passwords import use_cheapest_profile

        use_cheapest_profile()
