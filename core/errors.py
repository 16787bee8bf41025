"""Error pages: themed 404 on a tenant's site, plain elsewhere; JSON problem details under /api."""
from __future__ import annotations

from pyramid.httpexceptions import HTTPNotFound
from pyramid.renderers import render_to_response
from pyramid.exceptions import BadCSRFToken
from pyramid.view import notfound_view_config, view_config

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


@view_config(context=BadCSRFToken)
def bad_csrf(request):
    """A form without a valid CSRF token is refused (403) and changes nothing."""
    if request.path.startswith("/api/"):
        from .api import problem_response

        return problem_response(request, 403, "Forbidden", "Missing or invalid CSRF token.",
                                [{"field": "csrf_token", "message": "missing or invalid"}])
    response = request.response
    response.status = 403
    response.content_type = "text/plain"
    response.text = "The form has expired or did not come from this site. Go back, reload the page and try again."
    return response


def includeme(config):
    config.scan(".errors")
