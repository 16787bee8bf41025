"""Every route the app registers: a non-public one refuses an anonymous visitor, and one that
moves money refuses a sign-in that passed no second factor."""

import re

import pytest

from core.accounts.permissions import MONEY_PERMISSIONS
from core.tenancy import HostKindPredicate
from tests.helpers import fill_route

# Routes anyone may open: the public portal, sign-in and sign-up, the public API, static files.
PUBLIC = {
    "portal.home",
    "tools.index",
    "tools.method",
    "static",
    "media",
    "community.index",
    "community.search",
    "community.board",
    "community.topic",
    "chat.start",
    "content.news",
    "content.media",
    "content.industry",
    "content.section",
    "content.entry",
    "content.feed",
    "content.page",
    "content.sitemap",
    "content.robots",
    "api.content_item",
    "api.content_section",
    "help.index",
    "help.search",
    "help.question",
    "help.vote",
    "help.contact",
    "api.faq",
    "api.messages",
    "invest.index",
    "invest.loan",
    "borrow.index",
    "member.register",
    "member.login",
    "member.forgot",
    "admin.login",
    "admin.two_factor",
    "operator.login",
    "api.tools",
    "api.tools.schedule",
    "api.spec",
    "api.spec.yaml",
    "api.auth.token",
    "api.loans",
    "api.loan",
    "content.item",
    "content.image",  # published items only; drafts answer 404
    # Gateways call these without a session; each checks the gateway's signature instead.
    "payments.callback",
    "payments.payout_callback",
    "sandbox.checkout",
    "sms.status_callback",
}
REFUSALS = {302, 303, 401, 403, 404, 405}
SIGN_IN_PAGES = ("/login", "/admin/login", "/operator/login")


def routes(app):
    for route in app.routes_mapper.get_routes():
        kinds = [p.value for p in route.predicates if isinstance(p, HostKindPredicate)]
        host = "operator.localhost" if kinds == ["operator"] else "demo.localhost"
        path = fill_route(route.pattern, "1")
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


def money_views(app):
    """(route name, request method) of every view whose declared permission moves money."""
    for view in app.registry.introspector.get_category("views"):
        permissions = {p["value"] for p in view["related"] if p.category_name == "permissions"}
        if permissions & MONEY_PERMISSIONS:
            methods = view["introspectable"]["request_methods"] or ("GET",)
            for method in [methods] if isinstance(methods, str) else methods:
                yield view["introspectable"]["route_name"], method


def test_routes_that_move_money_refuse_a_sign_in_without_a_second_factor(client, tenants, wsgi_app, db):
    """An administrator whose session passed no second factor (opened before the role was given,
    as sessions from before second factors were recorded) holds every permission but money's."""
    from core.accounts.models import StaffUser
    from core.accounts.permissions import ensure_default_roles
    from core.accounts.services import create_staff
    from core.tenancy.services import tenant_by_slug
    from tests.helpers import PASSWORD, submit

    with db.transaction() as session:
        demo = tenant_by_slug(session, "demo")
        staff_id = create_staff(session, demo, "late-admin", PASSWORD, "content_editor").id
    page = client.get("demo.localhost", "/admin/login")
    submit(client, "demo.localhost", page, {"login": "late-admin", "password": PASSWORD}, status=303)
    with db.transaction() as session:
        staff = session.get(StaffUser, staff_id)
        staff.roles = [ensure_default_roles(session, staff.tenant_id)["administrator"]]
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', client.get("demo.localhost", "/admin/roles").text).group(1)
    paths = {name: path for name, _, path in routes(wsgi_app)}
    checked = set()
    for name, method in money_views(wsgi_app):
        params = {"csrf_token": csrf} if method == "POST" else None
        response = client.app.request(
            paths[name] + "?_LOCALE_=en",
            method=method,
            POST=params,
            headers={"Host": "demo.localhost"},
            expect_errors=True,
        )
        assert response.status_int == 403, f"{method} {paths[name]} ({name}) answered {response.status}"
        assert "second factor" in response.text, name
        checked.add(name)
    assert {"admin.withdrawal_decide", "admin.recharge_review", "admin.adjustments", "admin.loan_write_off"} <= checked
    client.get("demo.localhost", "/admin/roles", status=200)  # what moves no money, the session still does
