"""The access log: one line per request on the ``lendstack.access`` logger, at INFO.

``GET /invest 200 tenant=demo host=demo.localhost 12.3ms id=4f2c…`` — the
method, the path (percent-escaped, so a line cannot be forged with a newline;
never the query, which may carry a reset token or a signature), the status,
the tenant's slug (``-`` on the operator console, for an unknown host, and for
a page answered from the page cache before the tenant is looked up), the host,
the time the request took, and the ``X-Request-ID`` a proxy sent, if any.

The tween sits outermost, so the time includes the page cache, the
transaction and its commit. ``lendstack.access_log = true`` turns it on
(development.ini); production.ini leaves it off, where the proxy usually keeps
its own log.
"""

from __future__ import annotations

import logging
import re
import time
from urllib.parse import quote

from pyramid.tweens import INGRESS, MAIN

log = logging.getLogger("lendstack.access")

_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")
_PATH_SAFE = "/:@!$&'()*+,;=-._~%"  # WebOb quotes the path already; this keeps a line one line


def request_id(request) -> str:
    """The ``X-Request-ID`` a proxy set, when it looks like an id (anything else is not copied into the log)."""
    value = request.headers.get("X-Request-ID", "")
    return value if _REQUEST_ID.fullmatch(value) else ""


def access_line(request, status: int, nanoseconds: int) -> str:
    """One request as the access log writes it."""
    tenant = getattr(request, "tenant", None)
    slug = tenant.slug if tenant is not None else "-"
    host = quote(request.host or "-", safe=":.-[]")
    line = f"{request.method} {quote(request.path, safe=_PATH_SAFE)} {status} tenant={slug} host={host}"
    tenths = nanoseconds // 100_000  # whole tenths of a millisecond, truncated
    line += f" {tenths // 10}.{tenths % 10}ms"
    found = request_id(request)
    return f"{line} id={found}" if found else line


def access_log_tween_factory(handler, registry):
    """Time each request and log it (the tween is left out when ``lendstack.access_log`` is off)."""

    def access_log_tween(request):
        started = time.perf_counter_ns()
        try:
            response = handler(request)
        except Exception:  # escaped every exception view: the server answers 500, and the line says so
            log.info("%s", access_line(request, 500, time.perf_counter_ns() - started))
            raise
        log.info("%s", access_line(request, response.status_int, time.perf_counter_ns() - started))
        return response

    return access_log_tween


def includeme(config):
    """The access log tween, outermost, when ``lendstack.access_log`` is on."""
    if config.registry.settings_obj.access_log:
        config.add_tween(
            "core.access_log.access_log_tween_factory",
            under=INGRESS,
            over=("core.page_cache.page_cache_tween_factory", MAIN),
        )
