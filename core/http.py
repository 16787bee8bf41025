"""Outbound HTTP for plugins (gateways, SMS providers): one place to set timeouts and test transports.

``client(base_url)`` returns an ``httpx.Client`` with sane timeouts. Tests (and
demos without internet) point a base URL at an in-process fake with
``register_transport(base_url, httpx.WSGITransport(app=fake))``; nothing else
in a plugin changes.
"""

from __future__ import annotations

import httpx

TIMEOUT = httpx.Timeout(10, connect=5)
_transports: dict[str, httpx.BaseTransport] = {}


def register_transport(base_url: str, transport: httpx.BaseTransport | None) -> None:
    """Route requests for ``base_url`` through ``transport`` (``None`` removes it)."""
    key = base_url.rstrip("/")
    if transport is None:
        _transports.pop(key, None)
    else:
        _transports[key] = transport


def client(base_url: str) -> httpx.Client:
    base_url = base_url.rstrip("/")
    return httpx.Client(base_url=base_url, timeout=TIMEOUT, transport=_transports.get(base_url))


HttpError = httpx.HTTPError
