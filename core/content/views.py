"""The content centre's routes: the back office (:mod:`.admin`), the public pages (:mod:`.public`), images.

A section's list lives at ``/<slug>`` (``/news``, ``/media``, ``/industry`` and any section staff add), its
articles at ``/<slug>/<id>`` and its feed at ``/<slug>/feed.xml``; these routes match only a slug that is one
of the tenant's sections (:class:`SectionPredicate`), so every other address goes on to its own route.
"""

from __future__ import annotations

import sqlalchemy as sa
from pyramid.httpexceptions import HTTPNotFound
from pyramid.response import FileResponse
from pyramid.view import view_config

from .. import uploads
from ..i18n import _
from .models import KIND_LABELS, SECTION_KIND_LABELS, STATUS_LABELS, ContentItem, Section
from .sections import sections

CONTENT_PERMISSIONS = ("content.write", "content.design", "content.review")
BUILT_IN_LISTS = {"news": "content.news", "media": "content.media", "industry": "content.industry"}
"""The built-in sections' list routes (their addresses never change), for the menu."""
MENU_ORDER = 73
"""Where the menu shows the other sections staff put in it: after the built-in lists, in the sections' order."""


def content_sections(request) -> list[Section]:
    """The tenant's sections, read once per request (``request.content_sections``)."""
    if getattr(request, "host_kind", None) != "tenant" or request.tenant is None:
        return []
    return sections(request.dbsession, request.tenant)


def section_by_slug(request, slug: str) -> Section | None:
    return next((s for s in request.content_sections if s.slug == slug), None)


class SectionPredicate:
    """Route predicate ``content_section=True``: the ``section`` placeholder names one of the tenant's sections."""

    def __init__(self, value, config):
        self.value = bool(value)

    def text(self):
        return f"content_section = {self.value}"

    phash = text

    def __call__(self, info, request):
        return (section_by_slug(request, info["match"].get("section", "")) is not None) == self.value


def may_see_drafts(request) -> bool:
    return request.identity is not None and any(request.has_permission(p) for p in CONTENT_PERMISSIONS)


def _in_menu(code: str):
    def visible(request) -> bool:
        return any(s.code == code and s.in_menu for s in request.content_sections)

    return visible


def menu_links(request, area: str) -> list:
    """The portal menu's entries for the sections staff show in it beyond the built-in lists (news, media,
    industry have entries of their own): a list section's name linking to its list, or each published page of
    a pages section, in the visitor's language and the sections' order."""
    from ..templating import NavLink
    from .services import published_in

    if area != "portal":
        return []
    links = []
    for section in request.content_sections:
        if not section.in_menu or section.code in BUILT_IN_LISTS:
            continue
        if section.is_pages:
            for page in published_in(request.dbsession, section, request.locale_name, 1, 50).items:
                url = request.route_path("content.page", slug=page.slug)
                if all(link.url != url for link in links):
                    links.append(NavLink(f"content.page.{page.slug}", page.title, url, order=MENU_ORDER))
        else:
            url = request.route_path("content.section", section=section.slug)
            label = section.name_in(request.locale_name, request.tenant.default_locale)
            links.append(NavLink(f"content.section.{section.slug}", label, url, order=MENU_ORDER))
    return links


def footer_links(request) -> list[dict]:
    """The published pages of the sections shown in the footer, in the visitor's language (``key``, ``label``, ``url``)."""
    from .services import published_in

    links = []
    for section in request.content_sections:
        if section.in_footer and section.is_pages:
            for page in published_in(request.dbsession, section, request.locale_name, 1, 50).items:
                url = request.route_path("content.page", slug=page.slug)
                if all(link["url"] != url for link in links):
                    links.append({"key": f"content.page.{page.slug}", "label": page.title, "url": url})
        elif section.in_footer:
            url = request.route_path("content.section", section=section.slug)
            label = section.name_in(request.locale_name, request.tenant.default_locale)
            links.append({"key": f"content.section.{section.slug}", "label": label, "url": url})
    return links


@view_config(route_name="content.image", request_method=("GET", "HEAD"))
def content_image(request):
    """An item's image (its cover, or a banner's picture kept before covers were uploads): published items
    only, or to content staff."""
    item = request.dbsession.scalars(
        sa.select(ContentItem).where(ContentItem.id == int(request.matchdict["id"]))
    ).first()
    if item is None or not item.has_image or not (item.is_public or may_see_drafts(request)):
        raise HTTPNotFound()
    settings = request.registry.settings_obj
    if item.cover is not None:
        path, content_type = uploads.file_path(settings, item.tenant_id, item.cover.key), item.cover.content_type
    else:
        path, content_type = settings.var_dir / "content" / str(item.tenant_id) / item.image_key, item.image_type
    if not path.is_file():
        raise HTTPNotFound()
    response = FileResponse(str(path), request=request, content_type=content_type)
    response.headers["Cache-Control"] = "public, max-age=3600"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def includeme(config):
    config.add_labels(content_kind=KIND_LABELS, content_status=STATUS_LABELS, content_section_kind=SECTION_KIND_LABELS)
    config.add_request_method(content_sections, "content_sections", reify=True)
    config.add_route_predicate("content_section", SectionPredicate)
    config.registry.setdefault("footer_links", []).append(footer_links)
    config.registry.setdefault("nav_links", []).append(menu_links)
    route = lambda name, pattern, **kw: config.add_route(name, pattern, host_kind="tenant", **kw)  # noqa: E731
    # the back office
    route("admin.content", "/admin/content")
    route("admin.content_new", "/admin/content/new")
    route("admin.content_item", "/admin/content/{id:\\d+}")
    route("admin.content_review", "/admin/content/{id:\\d+}/review")
    route("admin.content_version", "/admin/content/{id:\\d+}/versions/{number:\\d+}")
    route("admin.content_sections", "/admin/content/sections")
    route("admin.content_section", "/admin/content/sections/{id:\\d+}")
    # the public site
    route("content.sitemap", "/sitemap.xml")
    route("content.robots", "/robots.txt")
    route("content.page", "/pages/{slug:[a-z0-9][a-z0-9-]{0,59}}")
    route("content.image", "/content/images/{id:\\d+}")
    route("content.item", "/news/{id:\\d+}")
    for code, name in BUILT_IN_LISTS.items():
        route(name, f"/{code}")
    section = "{section:[a-z][a-z0-9-]{1,39}}"
    route("content.feed", f"/{section}/feed.xml", content_section=True)
    route("content.entry", f"/{section}/{{id:\\d+}}", content_section=True)
    route("content.section", f"/{section}", content_section=True)
    config.add_nav(
        "admin.content",
        _("Site content"),
        "admin.content",
        order=60,
        area="admin",
        visible=lambda request: request.identity is not None and may_see_drafts(request),
    )
    config.add_nav("content.news", _("News"), "content.news", order=70, visible=_in_menu("news"))
    config.add_nav("content.media", _("In the media"), "content.media", order=71, visible=_in_menu("media"))
    config.add_nav("content.industry", _("Industry news"), "content.industry", order=72, visible=_in_menu("industry"))
    config.scan(".admin")
    config.scan(".public")
    config.scan(".views")
