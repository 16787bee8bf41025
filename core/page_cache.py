"""A short-lived cache of public pages for visitors who are not signed in ("microcaching").

The busiest pages — home, the invest list and a loan's page — are the same for
every anonymous visitor of a tenant in one language, and may be a few seconds
old for them. This tween, the outermost, keeps such responses for
``lendstack.page_cache_seconds`` (default 5; 0 turns it off) and answers the
next identical request from memory, without a transaction, a tenant lookup or
a template.

Only ``GET``/``HEAD`` of the paths in :data:`PATHS`, only without a sign-in or
session cookie or an ``Authorization`` header, and only ``200`` HTML answers
that set no cookie and are not marked ``no-store`` are kept. The key is the
host, the path with its query, and the raw inputs of the language choice
(the ``_LOCALE_`` cookie and ``Accept-Language``). Signed-in members always get
a fresh page. At most ``MAX_ENTRIES`` pages are kept per process (least
recently used go first).
"""

from __future__ import annotations

import re
import threading
import time
from collections import OrderedDict

from pyramid.tweens import INGRESS
from webob import Response

from .i18n import LOCALE_COOKIE

PATHS = re.compile(r"^/(invest(/[A-Za-z0-9_-]+)?)?$")
PRIVATE_COOKIES = ("lendstack_auth", "lendstack_session")
MAX_ENTRIES = 1024


class PageCache:
    """Kept pages by key, each for ``seconds`` by ``clock`` (monotonic nanoseconds; tests pass their own)."""

    def __init__(self, seconds: int, max_entries: int = MAX_ENTRIES, clock=time.monotonic_ns):
        self.lifetime_ns, self.max_entries, self.clock = seconds * 1_000_000_000, max_entries, clock
        self._pages: OrderedDict[tuple, tuple[int, str, list, bytes]] = OrderedDict()
        self._lock = threading.Lock()

    @staticmethod
    def key(request) -> tuple | None:
        if request.method not in ("GET", "HEAD") or not PATHS.match(request.path_info):
            return None
        if "Authorization" in request.headers or any(name in request.cookies for name in PRIVATE_COOKIES):
            return None
        return (
            request.host.lower(),
            request.path_qs,
            request.cookies.get(LOCALE_COOKIE, ""),
            request.headers.get("Accept-Language", ""),
        )

    def get(self, key) -> Response | None:
        with self._lock:
            entry = self._pages.get(key)
            if entry is None:
                return None
            stored, status, headers, body = entry
            age = self.clock() - stored
            if age > self.lifetime_ns:
                del self._pages[key]
                return None
            self._pages.move_to_end(key)
        response = Response(status=status, headerlist=list(headers), body=body)
        response.headers["Age"] = str(age // 1_000_000_000)
        return response

    def put(self, key, response) -> None:
        if response.status_code != 200 or not (response.content_type or "").startswith("text/html"):
            return
        if "Set-Cookie" in response.headers or "no-store" in response.headers.get("Cache-Control", ""):
            return
        headers = [(k, v) for k, v in response.headerlist if k.lower() != "content-length"]
        with self._lock:
            self._pages[key] = (self.clock(), response.status, headers, response.body)
            self._pages.move_to_end(key)
            while len(self._pages) > self.max_entries:
                self._pages.popitem(last=False)


def page_cache_tween_factory(handler, registry):
    seconds = registry.settings_obj.page_cache_seconds
    if seconds <= 0:
        return handler
    cache = registry["page_cache"] = PageCache(seconds)

    def tween(request):
        key = cache.key(request)
        if key is None:
            return handler(request)
        cached = cache.get(key)
        if cached is not None:
            return cached
        response = handler(request)
        if request.method == "GET":  # a HEAD answer has no body to keep
            cache.put(key, response)
        return response

    return tween


def includeme(config):
    config.add_tween("core.page_cache.page_cache_tween_factory", under=INGRESS)
