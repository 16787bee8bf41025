"""Content pages: the editor in the back office (``content.publish``), news item pages, content images."""

from __future__ import annotations

import sqlalchemy as sa
from pyramid.httpexceptions import HTTPNotFound, HTTPSeeOther
from pyramid.response import FileResponse
from pyramid.view import view_config

from .. import audit
from ..forms import by_field, on_refusal
from ..i18n import _
from . import services
from .models import KIND_LABELS, KINDS, ContentItem


def _item_or_404(request) -> ContentItem:
    item = request.dbsession.get(ContentItem, int(request.matchdict["id"]))
    if item is None or item.tenant_id != request.tenant.id:
        raise HTTPNotFound()
    return item


@view_config(route_name="admin.content", renderer="admin/content.pt", permission="content.publish")
def content_list(request):
    kind = request.params.get("kind", "")
    query = sa.select(ContentItem)
    if kind in KINDS:
        query = query.where(ContentItem.kind == kind)
    items = request.dbsession.scalars(
        query.order_by(ContentItem.kind, ContentItem.position, ContentItem.id.desc()).limit(200)
    ).all()
    return {"items": items, "kind": kind, "kinds": KINDS, "labels": KIND_LABELS}


@view_config(route_name="admin.content_new", renderer="admin/content_edit.pt", permission="content.publish")
@view_config(route_name="admin.content_item", renderer="admin/content_edit.pt", permission="content.publish")
def content_edit(request):
    item = _item_or_404(request) if "id" in request.matchdict else None
    data = {
        "item": item,
        "errors": {},
        "kinds": KINDS,
        "labels": KIND_LABELS,
        "locales": request.tenant.locales,
        "form": dict(request.POST)
        if request.method == "POST"
        else (
            {
                "kind": item.kind,
                "title": item.title,
                "summary": item.summary,
                "body": item.body,
                "link_url": item.link_url,
                "source": item.source,
                "locale": item.locale,
                "position": str(item.position),
                "published": "on" if item.published else "",
            }
            if item
            else {"kind": request.params.get("kind", "news"), "published": "on"}
        ),
    }
    if request.method != "POST":
        return data
    if request.POST.get("delete") and item is not None:
        audit.record(request, "content.delete", "content_item", item.id, {"title": item.title}, None)
        request.dbsession.delete(item)
        return HTTPSeeOther(request.route_path("admin.content"))
    image = request.POST.get("image")
    on_refusal(request, lambda error: by_field(data, error))
    saved = services.save(
        request.dbsession,
        request.tenant,
        request.registry.settings_obj,
        dict(request.POST),
        image=image if hasattr(image, "file") else None,
        item=item,
        by=audit.actor_of(request),
    )
    audit.record(
        request,
        "content.save",
        "content_item",
        saved.id,
        None,
        {"kind": saved.kind, "title": saved.title, "published": saved.published},
    )
    return HTTPSeeOther(request.route_path("admin.content", _query={"kind": saved.kind}))


@view_config(route_name="content.item", renderer="portal/news_item.pt")
def news_item(request):
    item = _item_or_404(request)
    if not item.published or item.kind == "banner":
        raise HTTPNotFound()
    return {"item": item, "label": KIND_LABELS.get(item.kind, item.kind)}


@view_config(route_name="content.image")
def content_image(request):
    """A content item's image, served by the site (published items only, or to its editors)."""
    item = _item_or_404(request)
    if not item.image_key or not (item.published or request.has_permission("content.publish")):
        raise HTTPNotFound()
    path = services.image_path(request.registry.settings_obj, item)
    if not path.is_file():
        raise HTTPNotFound()
    response = FileResponse(str(path), request=request, content_type=item.image_type)
    response.headers["Cache-Control"] = "public, max-age=3600"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def includeme(config):
    config.add_labels(content_kind=KIND_LABELS)
    route = lambda name, pattern: config.add_route(name, pattern, host_kind="tenant")  # noqa: E731
    route("admin.content", "/admin/content")
    route("admin.content_new", "/admin/content/new")
    route("admin.content_item", "/admin/content/{id:\\d+}")
    route("content.item", "/news/{id:\\d+}")
    route("content.image", "/content/images/{id:\\d+}")
    config.add_nav(
        "admin.content",
        _("Site content"),
        "admin.content",
        order=60,
        area="admin",
        visible=lambda request: request.identity is not None and bool(request.has_permission("content.publish")),
    )
    config.scan(".views")
