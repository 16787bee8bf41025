"""The anonymous page cache: the same public page for every visitor for a few seconds; never a private one."""

import pytest
from webtest import TestApp

from core import make_config
from core.page_cache import PageCache
from tests.helpers import member_client

DEMO = "demo.localhost"


@pytest.fixture(scope="module")
def cached_app(settings, plugins, wsgi_app):
    """The app again, on the same database, with a one-second page cache."""
    config = make_config({**settings, "lendstack.page_cache_seconds": "1"}, plugins)
    yield TestApp(config.make_wsgi_app())
    config.registry["db_engine"].dispose()


class Clock:
    """Monotonic nanoseconds that move only when the test says so."""

    def __init__(self):
        self.now = 1_000_000_000_000

    def __call__(self) -> int:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += int(seconds * 1_000_000_000)


@pytest.fixture
def clock(cached_app, monkeypatch):
    """The cached app's page cache, on a clock the test moves by hand."""
    fake = Clock()
    monkeypatch.setattr(cached_app.app.registry["page_cache"], "clock", fake)
    return fake


def get(app, path, **headers):
    return app.get(path, headers={"Host": DEMO, **headers})


def test_anonymous_pages_are_kept_briefly_and_private_ones_never(cached_app, clock, db, tenants, wsgi_app):
    first = get(cached_app, "/invest")
    again = get(cached_app, "/invest")
    assert "Age" in again.headers and "Age" not in first.headers
    assert again.body == first.body and "Content-Security-Policy" in again.headers
    assert "Age" not in get(cached_app, "/invest?tab=settled").headers  # another query, another page
    english = get(cached_app, "/invest", **{"Accept-Language": "en"})
    assert "Age" not in english.headers and english.body != first.body  # another language
    # A signed-in member is never served a kept page, and their pages are never kept.
    client, _ = member_client(wsgi_app, db, "13800138700")
    cookie = "; ".join(f"{c.name}={c.value}" for c in client.app.cookiejar)
    mine = get(cached_app, "/invest", Cookie=cookie)
    assert "Age" not in mine.headers
    assert "Age" not in get(cached_app, "/account", Cookie=cookie, status="*").headers
    cached_app.reset()  # forget the cookies the member's answers set: an anonymous visitor again
    clock.advance(0.9)
    assert get(cached_app, "/invest").headers["Age"] == "0"  # still within its second
    clock.advance(0.2)
    assert "Age" not in get(cached_app, "/invest").headers  # expired


def test_the_cache_keeps_at_most_its_size():
    from webob import Response

    cache = PageCache(60, max_entries=2)
    for n in range(3):
        cache.put(("h", f"/{n}", "", ""), Response(body=b"x", content_type="text/html"))
    assert cache.get(("h", "/0", "", "")) is None and cache.get(("h", "/2", "", "")) is not None
    cache.put(
        ("h", "/c", "", ""),
        Response(
            body=b"x", content_type="text/html", headerlist=[("Content-Type", "text/html"), ("Set-Cookie", "a=b")]
        ),
    )
    assert cache.get(("h", "/c", "", "")) is None  # a page that sets a cookie is not kept
