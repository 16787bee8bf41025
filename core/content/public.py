"""The content centre on the public site: section lists with paging, articles, pages, feeds, sitemap, robots.

Lists and feeds show the tenant's published items in the visitor's language (and those for every
language); an article or page is shown by its address to anyone once published. Nothing here shows a
draft, and another tenant's item is simply not found (the session's tenant filter).
"""

from __future__ import annotations

import sqlalchemy as sa
from pyramid.httpexceptions import HTTPMovedPermanently, HTTPNotFound
from pyramid.response import Response
from pyramid.view import view_config

from .. import markup
from .models import ContentItem
from .services import latest, public_item, public_page, published_in, visible
from .syndication import atom, robots, sitemap
from .views import BUILT_IN_LISTS, section_by_slug

PER_PAGE = 10
FEED_SIZE = 20
_LIST_ROUTES = {name: code for code, name in BUILT_IN_LISTS.items()}


def _number(request) -> int:
    text = request.params.get("page", "1")
    return min(int(text), 10_000) if text.isdigit() and int(text) > 0 else 1


def _section(request):
    slug = request.matchdict.get("section") or _LIST_ROUTES.get(request.matched_route.name, "")
    section = section_by_slug(request, slug)
    if section is None:
        raise HTTPNotFound()
    return section


def item_path(request, item: ContentItem) -> str:
    """An article's address (``/<section>/<id>``) or a page's (``/pages/<slug>``)."""
    if item.kind == "page":
        return request.route_path("content.page", slug=item.slug)
    if item.section is None:  # written before sections, or by a script that named none: a news item
        return request.route_path("content.item", id=item.id)
    return request.route_path("content.entry", section=item.section.slug, id=item.id)


def _name(request, section) -> str:
    return section.name_in(request.locale_name, request.tenant.default_locale)


@view_config(route_name="content.news", renderer="portal/news.pt")
@view_config(route_name="content.media", renderer="portal/news.pt")
@view_config(route_name="content.industry", renderer="portal/news.pt")
@view_config(route_name="content.section", renderer="portal/news.pt")
def section_list(request):
    section = _section(request)
    page = published_in(request.dbsession, section, request.locale_name, _number(request), PER_PAGE)
    if page.number > 1 and not page.items:
        raise HTTPNotFound()
    return {
        "section": section,
        "name": _name(request, section),
        "page": page,
        "url_of": lambda item: item_path(request, item),
        "feed_url": None if section.is_pages else request.route_path("content.feed", section=section.slug),
        "summary_of": lambda item: item.summary or markup.plain(item.body, 160),
    }


@view_config(route_name="content.feed")
def section_feed(request):
    section = _section(request)
    if section.is_pages:
        raise HTTPNotFound()
    items = published_in(request.dbsession, section, request.locale_name, 1, FEED_SIZE).items
    body = atom(
        title=f"{_name(request, section)} · {request.tenant.brand('site_title', request.tenant.name, request.locale_name)}",
        feed_url=request.route_url("content.feed", section=section.slug),
        page_url=request.route_url("content.section", section=section.slug),
        items=items,
        url_of=lambda item: request.application_url + item_path(request, item),
        site=request.tenant.brand("site_title", request.tenant.name, request.locale_name),
    )
    return Response(body=body, content_type="application/atom+xml", charset="utf-8")


def _open_graph(request, item: ContentItem, url: str) -> dict:
    graph = {
        "og:type": "article",
        "og:title": item.title,
        "og:description": item.summary or markup.plain(item.body, 200),
        "og:url": request.application_url + url,
        "og:site_name": request.tenant.brand("site_title", request.tenant.name, request.locale_name),
    }
    if item.cover_url:
        graph["og:image"] = request.application_url + item.cover_url
    return graph


def _article(request, item: ContentItem) -> dict:
    url = item_path(request, item)
    return {
        "item": item,
        "section_name": _name(request, item.section) if item.section is not None else "",
        "section_url": request.route_path("content.section", section=item.section.slug) if item.section else None,
        "body": markup.render(item.body),
        "open_graph": _open_graph(request, item, url),
        "canonical": request.application_url + url,
    }


@view_config(route_name="content.item", renderer="portal/news_item.pt")
@view_config(route_name="content.entry", renderer="portal/news_item.pt")
def article(request):
    """``/<section>/<id>`` (and ``/news/<id>``, the address articles had first): a published article."""
    item = public_item(request.dbsession, int(request.matchdict["id"]))
    if item is None or item.kind == "page":
        raise HTTPNotFound()
    if item_path(request, item) != request.path:
        return HTTPMovedPermanently(item_path(request, item))
    return _article(request, item)


@view_config(route_name="content.page", renderer="portal/news_item.pt")
def page(request):
    """``/pages/<slug>``: a published page in the visitor's language (else for every language, else another)."""
    item = public_page(request.dbsession, request.matchdict["slug"], request.locale_name, request.tenant.default_locale)
    if item is None:
        raise HTTPNotFound()
    return _article(request, item)


@view_config(route_name="content.sitemap")
def sitemap_xml(request):
    """The public pages of this tenant on the host asked: home, section lists, articles and pages."""
    base = request.application_url
    entries = [(base + "/", None)]
    newest = latest(request.dbsession, request.locale_name, 1)
    for section in request.content_sections:
        url = base + request.route_path("content.section", section=section.slug)
        entries.append((url, newest[0].published_at if newest and not section.is_pages else None))
    items = request.dbsession.scalars(
        sa.select(ContentItem)
        .where(ContentItem.kind != "banner", visible(None))
        .order_by(ContentItem.published_at.desc())
        .limit(5000)
    ).all()
    seen = set()
    for item in items:
        url = base + item_path(request, item)
        if url not in seen:
            seen.add(url)
            entries.append((url, item.updated_at))
    return Response(body=sitemap(entries), content_type="application/xml", charset="utf-8")


@view_config(route_name="content.robots")
def robots_txt(request):
    return Response(robots(request.application_url), content_type="text/plain", charset="utf-8")
