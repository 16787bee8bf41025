"""``/api/v1/content``: the tenant's published articles and pages, for apps and integrators (no sign-in)."""

from __future__ import annotations

from pyramid.view import view_config

from .. import markup
from ..content.public import item_path
from ..content.services import public_item, published_in
from ..content.views import section_by_slug
from ..i18n import _
from . import PREFIX, Problem

API = {"renderer": "json", "openapi": True, "require_csrf": False}
MAX_PER_PAGE = 50


def _not_found(field: str, message) -> Problem:
    return Problem({field: message}, status=404, title="Not Found")


def item_json(request, item, *, with_body: bool = False) -> dict:
    """An item as the API shows it; ``body_html`` is the sanitised rendering of ``body`` (Markdown)."""
    body = {
        "id": item.id,
        "section": item.section.slug if item.section is not None else None,
        "kind": item.kind,
        "slug": item.slug,
        "locale": item.locale or None,
        "title": item.title,
        "summary": item.summary or markup.plain(item.body, 200),
        "published_at": item.published_at.isoformat(),
        "url": request.application_url + item_path(request, item),
        "cover_url": request.application_url + item.cover_url if item.cover_url else None,
        "link_url": item.link_url or None,
        "source": item.source or None,
    }
    if with_body:
        body["body"] = item.body
        body["body_html"] = str(markup.render(item.body))
    return body


@view_config(route_name="api.content_item", request_method="GET", **API)
def content_item(request):
    item = public_item(request.dbsession, int(request.matchdict["id"]))
    if item is None:
        raise _not_found("id", _("There is no such published item."))
    return item_json(request, item, with_body=True)


@view_config(route_name="api.content_section", request_method="GET", **API)
def content_section(request):
    """One page of a section's published items in the request's language (and those for every language)."""
    section = section_by_slug(request, request.matchdict["section"])
    if section is None:
        raise _not_found("section", _("There is no such section."))
    number = int(request.params.get("page", 1))
    per_page = int(request.params.get("per_page", 10))
    page = published_in(request.dbsession, section, request.locale_name, number, per_page)
    return {
        "section": section.slug,
        "name": section.name_in(request.locale_name, request.tenant.default_locale),
        "page": page.number,
        "per_page": page.per_page,
        "pages": page.pages,
        "total": page.total,
        "items": [item_json(request, item) for item in page.items],
    }


def includeme(config):
    # the item's route first: ``items`` is never a section's address
    config.add_route("api.content_item", f"{PREFIX}/content/items/{{id}}", host_kind="tenant")
    config.add_route("api.content_section", f"{PREFIX}/content/{{section}}", host_kind="tenant")
    config.scan(__name__)
