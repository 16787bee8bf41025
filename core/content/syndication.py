"""What machines read: an Atom feed per section, the tenant's ``sitemap.xml`` and ``robots.txt``.

Built with :mod:`xml.etree.ElementTree` (it escapes every text it writes); addresses are absolute on the host
the request came to, so each of a tenant's hosts describes itself.
"""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from collections.abc import Iterable

from .. import markup

ATOM = "http://www.w3.org/2005/Atom"
SITEMAP = "http://www.sitemaps.org/schemas/sitemap/0.9"


def _stamp(when: dt.datetime | None) -> str:
    return (when or dt.datetime(2000, 1, 1, tzinfo=dt.timezone.utc)).astimezone(dt.timezone.utc).isoformat()


def atom(*, title: str, feed_url: str, page_url: str, items: Iterable, url_of, site: str) -> bytes:
    """An Atom document: ``items`` (newest first) with their summaries in plain text; ``url_of(item)``."""
    ET.register_namespace("", ATOM)
    items = list(items)
    feed = ET.Element(f"{{{ATOM}}}feed")
    ET.SubElement(feed, f"{{{ATOM}}}title").text = title
    ET.SubElement(feed, f"{{{ATOM}}}id").text = feed_url
    ET.SubElement(feed, f"{{{ATOM}}}link", rel="self", href=feed_url, type="application/atom+xml")
    ET.SubElement(feed, f"{{{ATOM}}}link", rel="alternate", href=page_url, type="text/html")
    updated = max((i.updated_at or i.published_at for i in items), default=None)
    ET.SubElement(feed, f"{{{ATOM}}}updated").text = _stamp(updated)
    ET.SubElement(ET.SubElement(feed, f"{{{ATOM}}}author"), f"{{{ATOM}}}name").text = site
    for item in items:
        url = url_of(item)
        entry = ET.SubElement(feed, f"{{{ATOM}}}entry")
        ET.SubElement(entry, f"{{{ATOM}}}title").text = item.title
        ET.SubElement(entry, f"{{{ATOM}}}id").text = url
        ET.SubElement(entry, f"{{{ATOM}}}link", rel="alternate", href=url, type="text/html")
        ET.SubElement(entry, f"{{{ATOM}}}published").text = _stamp(item.published_at)
        ET.SubElement(entry, f"{{{ATOM}}}updated").text = _stamp(max(item.published_at, item.updated_at))
        ET.SubElement(entry, f"{{{ATOM}}}summary", type="text").text = item.summary or markup.plain(item.body, 300)
    return ET.tostring(feed, encoding="utf-8", xml_declaration=True)


def sitemap(entries: Iterable[tuple[str, dt.datetime | None]]) -> bytes:
    """A sitemap of ``(absolute url, last changed or None)``."""
    ET.register_namespace("", SITEMAP)
    urlset = ET.Element(f"{{{SITEMAP}}}urlset")
    for url, changed in entries:
        node = ET.SubElement(urlset, f"{{{SITEMAP}}}url")
        ET.SubElement(node, f"{{{SITEMAP}}}loc").text = url
        if changed is not None:
            ET.SubElement(node, f"{{{SITEMAP}}}lastmod").text = changed.astimezone(dt.timezone.utc).date().isoformat()
    return ET.tostring(urlset, encoding="utf-8", xml_declaration=True)


PRIVATE_PATHS = ("/admin", "/account", "/api/", "/login", "/register", "/password/")


def robots(host_url: str) -> str:
    """Crawlers may read the public site; staff, member and API pages are not for them."""
    lines = ["User-agent: *", *(f"Disallow: {path}" for path in PRIVATE_PATHS), "Allow: /"]
    return "\n".join([*lines, "", f"Sitemap: {host_url}/sitemap.xml", ""])
