"""Error answers in one place: themed pages on a tenant's site, plain elsewhere, problem details under /api.

- 404: :func:`not_found`; 403 for a bad CSRF token: :func:`bad_csrf`.
- 400/413/414 for input the layer refused (``core.inputs.BadInput``): :func:`bad_input`.
- A service's refusal (``core.domain.DomainError``): :func:`refused` — a problem
  detail under /api (the error's ``status``, 422 unless it says otherwise), else
  the view's own page again with the message by its field (400): the data the
  view declared with ``core.forms.on_refusal`` drawn by the view's renderer
  (:func:`page_renderer` keeps it on the request). A view that declared no page
  answers the message as plain text (400). Either way the answer is 4xx, so
  pyramid_tm's commit veto aborts the transaction: a refusal changes nothing.
- Anything else a view raised: :func:`internal_error`, one catch-all that logs
  the error once (the path escaped with ``repr``) and answers a themed 500
  page or a problem detail — never the traceback.

The catch-all must not swallow an error pyramid_retry would retry (a
serialization failure or deadlock on a first attempt): the ``retry_pending``
predicate asks the transaction whether the error is retryable (pyramid_tm only
asks once the error reaches it, and not at all when its commit veto aborts a
rendered 500) and declines the error while another attempt is left, so it
travels up to pyramid_tm (abort) and pyramid_retry (another attempt). On the
last attempt it is rendered like any other error. Every answer from here goes
back up through ``core.headers``, which adds the security headers.
"""

from __future__ import annotations

import logging

from pyramid.exceptions import BadCSRFToken
from pyramid.httpexceptions import HTTPException, HTTPNotFound
from pyramid.renderers import render_to_response
from pyramid.response import Response
from pyramid.view import exception_view_config, notfound_view_config, view_config
from pyramid_retry import is_error_retryable

from .domain import DomainError
from .forms import refusal_page
from .inputs import BadInput
from .tenancy import TENANT, UNKNOWN_HOST_PAGE

log = logging.getLogger(__name__)

PLAIN_500_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Something went wrong</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body style="font-family:system-ui,sans-serif;max-width:36rem;margin:4rem auto;padding:0 1rem;color:#222">
<h1>Something went wrong</h1>
<p>The server could not answer this request. Please try again later.</p>
</body></html>"""


def _is_api(request) -> bool:
    return request.path_info.startswith("/api/") if _decodes(request) else False


def _decodes(request) -> bool:
    try:
        request.path_info  # noqa: B018 - decoding is the test
    except UnicodeDecodeError:
        return False
    return True


def _themed(request) -> bool:
    return getattr(request, "tenant", None) is not None and getattr(request, "host_kind", None) == TENANT


@notfound_view_config()
def not_found(request):
    if _is_api(request):
        from .api import problem_response

        return problem_response(request, 404, "Not Found", "No such resource.")
    if not _themed(request):
        return HTTPNotFound(
            body=UNKNOWN_HOST_PAGE.replace("Site not found", "Page not found"), content_type="text/html"
        )
    response = render_to_response("errors/404.pt", {}, request=request)
    response.status = 404
    return response


@view_config(context=BadCSRFToken)
def bad_csrf(request):
    """A form without a valid CSRF token is refused (403) and changes nothing."""
    if _is_api(request):
        from .api import problem_response

        return problem_response(
            request,
            403,
            "Forbidden",
            "Missing or invalid CSRF token.",
            [{"field": "csrf_token", "message": "missing or invalid"}],
        )
    response = request.response
    response.status = 403
    response.content_type = "text/plain"
    response.text = "The form has expired or did not come from this site. Go back, reload the page and try again."
    return response


TITLES = {400: "Bad request", 413: "Payload too large", 414: "URI too long"}


@view_config(context=BadInput)
def bad_input(context: BadInput, request):
    """Input the layer refused: the field and the reason, as a problem detail or a themed page."""
    message = request.localizer.translate(context.message)
    if _is_api(request):
        from .api import problem_response

        return problem_response(
            request,
            context.status,
            TITLES.get(context.status, "Bad request"),
            f"{context.field}: {message}",
            [{"field": context.field, "message": message}],
        )
    if _themed(request):
        response = _render_or_none("errors/400.pt", {"field": context.field, "message": message}, request)
        if response is not None:
            response.status = context.status
            return response
    return Response(f"{context.field}: {message}", status=context.status, content_type="text/plain", charset="utf-8")


PROBLEM_TITLES = {400: "Bad request", 404: "Not Found", 409: "Conflict", 422: "Unprocessable request"}


@exception_view_config(DomainError)
def refused(context: DomainError, request):
    """A service refused the input: a problem detail naming the field (API), else the view's page again."""
    message = request.localizer.translate(context.message)
    if _is_api(request):
        from .api import api_field, problem_response

        field = api_field(request, context.field)
        return problem_response(
            request,
            context.status,
            PROBLEM_TITLES.get(context.status, "Unprocessable request"),
            f"{field}: {message}",
            [{"field": field, "message": message}],
        )
    declared, renderer = refusal_page(request), getattr(request, "page_renderer", None)
    if declared is None or renderer is None:  # a form-less action (a back-office button): the message alone
        return Response(message, status=400, content_type="text/plain", charset="utf-8")
    page, status = declared
    response = renderer.render_to_response(page(context), None, request=request)
    response.status = status
    return response


def page_renderer(view, info):
    """View deriver: keep the view's renderer on the request, for :func:`refused` to draw its page again."""
    renderer = info.options.get("renderer")
    if renderer is None or info.exception_only:
        return view

    def keeping_renderer(context, request):
        request.page_renderer = renderer
        return view(context, request)

    return keeping_renderer


class RetryPendingPredicate:
    """View predicate ``retry_pending``: True when pyramid_retry will try the request again for this error."""

    def __init__(self, value, config):
        self.value = bool(value)

    def text(self):
        return f"retry_pending = {self.value}"

    phash = text

    def __call__(self, context, request):
        return retry_pending(request, request.exception) == self.value


def retry_pending(request, exc) -> bool:
    """Tag ``exc`` as retryable if the transaction says so (as pyramid_tm does); is another attempt left for it?"""
    from pyramid_tm import maybe_tag_retryable

    try:
        maybe_tag_retryable(request, (type(exc), exc, None))
    except Exception:  # no transaction (it already ended): nothing to ask
        pass
    return is_error_retryable(request, exc)


def internal_error(context, request):
    """The catch-all: log once, answer 500 without internals; HTTP exceptions answer as themselves."""
    if isinstance(context, HTTPException):
        return context
    log.error(
        "Unhandled %s on %s %r",
        type(context).__name__,
        request.method,
        _escaped_path(request),
        exc_info=(type(context), context, context.__traceback__),
    )
    return error_page(request)


def error_page(request, status: int = 500) -> Response:
    """The 500 answer: a problem detail under /api, the themed page on a tenant's site, plain HTML elsewhere."""
    if _is_api(request):
        from .api import problem_response

        return problem_response(request, status, "Internal error", "The server could not answer this request.")
    if _themed(request):
        response = _render_or_none("errors/500.pt", {}, request)
        if response is not None:
            response.status = status
            return response
    return Response(PLAIN_500_PAGE, status=status, content_type="text/html", charset="utf-8")


def _render_or_none(template: str, values: dict, request) -> Response | None:
    """Render a themed error page; ``None`` when rendering fails too (say the database is what broke)."""
    try:
        return render_to_response(template, values, request=request)
    except Exception:
        log.debug("Themed %s failed; answering the plain page", template, exc_info=True)
        return None


def _escaped_path(request) -> str:
    """The raw path and query as the client sent them, safe to log (``%r`` escapes what is left)."""
    environ = request.environ
    query = environ.get("QUERY_STRING", "")
    return environ.get("PATH_INFO", "") + ("?" + query if query else "")


def last_resort(request, exc_info) -> Response:
    """An error that escaped the exception views (raised above them, or by a commit): the catch-all's answer.

    The request's transaction has ended by now, so the page is drawn in a transaction of its own that is rolled
    back after: what the page reads (the tenant's menus) begins a database transaction, and one nobody ends keeps
    its connection, on SQLite with the write lock, until the garbage collector finds it."""
    from transaction.interfaces import NoTransaction

    manager = request.tm
    try:
        manager.get()
    except NoTransaction:
        manager.begin()
    try:
        try:
            return request.invoke_exception_view(exc_info)
        except Exception:
            log.error("Unhandled error on %s %r", request.method, _escaped_path(request), exc_info=exc_info)
            return error_page(request)
    finally:
        manager.abort()


def includeme(config):
    config.add_view_predicate("retry_pending", RetryPendingPredicate)
    config.add_view_deriver(page_renderer)
    config.add_exception_view(internal_error, context=Exception, retry_pending=False)
    config.scan(".errors")
