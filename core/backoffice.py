"""What the back office (/admin) and the operator console (/operator) share: sign-in and out."""
from __future__ import annotations

from pyramid.httpexceptions import HTTPFound, HTTPSeeOther
from pyramid.security import forget, remember
from pyramid.view import forbidden_view_config

from .i18n import _


def login_view(request, area: str, authenticate, home_route: str, layout: str):
    """Render and handle a sign-in form for ``area``; failures say nothing about which part was wrong."""
    error = None
    login = request.params.get("login", "")
    if request.method == "POST":
        who = authenticate(login, request.POST.get("password", ""))
        if who is not None:
            headers = remember(request, who)
            target = request.params.get("next") or request.route_path(home_route)
            if not target.startswith("/") or target.startswith("//"):
                target = request.route_path(home_route)
            return HTTPSeeOther(target, headers=headers)
        error = _("The login or password is not correct.")
        request.response.status = 400
    return {"area": area, "layout": layout, "login": login, "error": error,
            "next": request.params.get("next", "")}


def logout_view(request, login_route: str):
    return HTTPSeeOther(request.route_path(login_route), headers=forget(request))


@forbidden_view_config()
def forbidden(request):
    """Anonymous visitors of a protected page are sent to the right sign-in page."""
    if request.identity is None:
        if request.path.startswith("/operator") and request.host_kind == "operator":
            return HTTPFound(request.route_path("operator.login", _query={"next": request.path}))
        if request.path.startswith("/admin") and request.host_kind == "tenant":
            return HTTPFound(request.route_path("admin.login", _query={"next": request.path}))
    request.response.status = 403
    request.response.text = "Forbidden"
    return request.response


def includeme(config):
    config.scan(".backoffice")
