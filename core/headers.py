"""Security headers on every response: a CSP without inline script, no framing, no sniffing.

Pages load nothing from other origins (fonts, scripts and images are served
locally), so ``default-src 'self'`` holds; inline ``style`` is allowed for the
tenant's brand colours, inline script is not. A tenant logo may be an https
URL, hence ``img-src https:``.

The tween sits above pyramid_tm, so error pages rendered by the exception
views (``core.errors``) pass through it like any page. An error that escapes
them — raised above the exception-view tween, or by the commit — is answered
here by the same catch-all (:func:`core.errors.last_resort`), so even that
answer carries the headers; an error pyramid_retry will retry is let through.
"""

from __future__ import annotations

import sys

from pyramid_retry import is_error_retryable

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: https:; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}


def add_security_headers(request, response, hsts: bool = False):
    """Set the security headers (and ``no-store`` for private pages) unless the response set its own."""
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    if hsts:
        response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    # Not request.identity: this runs outside the request's transaction.
    signed_in = "lendstack_auth" in request.cookies or "Authorization" in request.headers
    if signed_in or request.environ.get("PATH_INFO", "").startswith(("/admin", "/operator", "/account")):
        response.headers.setdefault("Cache-Control", "no-store")
    return response


def security_headers_tween_factory(handler, registry):
    hsts = registry.settings_obj.secure_cookies  # an install behind HTTPS says so once, for cookies and HSTS

    def tween(request):
        try:
            response = handler(request)
        except Exception as exc:
            if is_error_retryable(request, exc):
                raise  # pyramid_retry tries the request again
            from .errors import last_resort

            response = last_resort(request, sys.exc_info())
        return add_security_headers(request, response, hsts)

    return tween


def includeme(config):
    config.add_tween("core.headers.security_headers_tween_factory")
