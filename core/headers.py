"""Security headers on every response: a CSP without inline script, no framing, no sniffing.

Pages load nothing from other origins (fonts, scripts and images are served
locally), so ``default-src 'self'`` holds; inline ``style`` is allowed for the
tenant's brand colours, inline script is not. A tenant logo may be an https
URL, hence ``img-src https:``.
"""
from __future__ import annotations

CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: https:; "
       "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'")
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}


def security_headers_tween_factory(handler, registry):
    hsts = registry.settings.get("lendstack.secure_cookies", "false") == "true"

    def tween(request):
        response = handler(request)
        for name, value in HEADERS.items():
            response.headers.setdefault(name, value)
        if hsts:
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        # Not request.identity: this tween runs outside the request's transaction.
        signed_in = "lendstack_auth" in request.cookies or "Authorization" in request.headers
        if signed_in or request.path.startswith(("/admin", "/operator", "/account")):
            response.headers.setdefault("Cache-Control", "no-store")
        return response

    return tween


def includeme(config):
    config.add_tween("core.headers.security_headers_tween_factory")
