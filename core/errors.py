"""Error pages: themed 404 on a tenant's site, plain elsewhere; JSON problem details under /api."""
from __future__ import annotations

from pyramid.httpexceptions import HTTPNotFound
from pyramid.renderers import render_to_response
from pyramid.view import notfound_view_config

from .tenancy import UNKNOWN_HOST_PAGE


@notfound_view_config()
def not_found(request):
    if request.path.startswith("/api/"):
        request.response.status = 404
        request.response.content_type = "application/problem+json"
        response = request.response
        response.json_body = {"type": "about:blank", "title": "Not Found", "status": 404,
                              "detail": "No such resource."}
        return response
    if request.tenant is None:
        return HTTPNotFound(body=UNKNOWN_HOST_PAGE.replace("Site not found", "Page not found"),
                            content_type="text/html")
    response = render_to_response("errors/404.pt", {}, request=request)
    response.status = 404
    return response


def includeme(config):
    config.scan(".errors")
