"""Every route the app registers: a non-public one refuses an anonymous visitor."""
import re

import pytest

from core.tenancy import HostKindPredicate

# Routes anyone may open: the public portal, sign-in and sign-up, the public API, static files.
PUBLIC = {
    "portal.home", "tools.index", "tools.method", "static", "invest.index", "invest.loan", "borrow.index",
    "member.register", "member.login", "member.forgot",
    "admin.login", "admin.two_factor", "operator.login",
    "api.tools", "api.tools.schedule", "api.spec", "api.spec.yaml", "api.auth.token", "api.loans", "api.loan",
    "content.item", "content.image",  # published items only; drafts answer 404
    # Gateways call these without a session; each checks the gateway's signature instead.
    "payments.callback", "payments.payout_callback", "sandbox.checkout", "sms.status_callback",
}
REFUSALS = {302, 303, 401, 403, 404, 405}
SIGN_IN_PAGES = ("/login", "/admin/login", "/operator/login")


def routes(app):
    for route in app.routes_mapper.get_routes():
        kinds = [p.value for p in route.predicates if isinstance(p, HostKindPredicate)]
        host = "operator.localhost" if kinds == ["operator"] else "demo.localhost"
        path = re.sub(r"\{[^}]+\}", "1", route.pattern)
        yield route.name, host, path


def test_every_route_is_known(wsgi_app):
    names = {name for name, _, _ in routes(wsgi_app)}
    assert PUBLIC <= names, PUBLIC - names
    assert len(names) > 30


def test_non_public_routes_refuse_anonymous_visitors(client, tenants, wsgi_app):
    checked = []
    for name, host, path in routes(wsgi_app):
        if name in PUBLIC:
            continue
        for method in ("GET", "POST", "DELETE"):
            response = client.app.request(path, method=method, headers={"Host": host}, expect_errors=True)
            assert response.status_int in REFUSALS, f"{method} {host}{path} ({name}) answered {response.status}"
            if response.status_int in (302, 303):
                location = response.location.split("?")[0]
                assert location.endswith(SIGN_IN_PAGES) or location.endswith("/"), (name, response.location)
        checked.append(name)
    assert {"account.home", "admin.members", "admin.roles", "operator.tenants", "api.me"} <= set(checked)


@pytest.mark.parametrize("path", ["/admin/members", "/admin/roles", "/account/funds", "/operator"])
def test_protected_pages_are_not_cached(client, tenants, path):
    host = "operator.localhost" if path.startswith("/operator") else "demo.localhost"
    response = client.get(host, path, status=302)
    assert response.headers["Cache-Control"] == "no-store"
