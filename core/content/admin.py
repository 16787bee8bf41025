"""The content centre in the back office: items by section and status, the editor, the review steps,
versions compared, and the sections.

Writers (``content.write``) write articles and pages and submit them; designers (``content.design``) make
banners and change images; reviewers (``content.review``) approve, return, publish and unpublish, and
manage the sections. Every step is audited.
"""

from __future__ import annotations

import sqlalchemy as sa
from pyramid.httpexceptions import HTTPForbidden, HTTPNotFound, HTTPSeeOther
from pyramid.interfaces import IRoutesMapper
from pyramid.view import view_config

from .. import audit
from ..accounts.models import AuditEvent
from ..db import utcnow
from ..forms import by_field, on_refusal
from ..templating import TemplateHelpers
from . import review, sections, services, versions
from .models import ContentItem, ItemStatus, Section, SectionKind
from .views import CONTENT_PERMISSIONS

PER_PAGE = 30


def _require(request, *permissions: str) -> None:
    """403 unless the staff member holds one of ``permissions``."""
    if not any(request.has_permission(p) for p in permissions):
        raise HTTPForbidden()


def _editor(request) -> services.Editor:
    return services.Editor(
        staff_id=request.identity.principal_id,
        actor=audit.actor_of(request),
        writes=bool(request.has_permission("content.write")),
        designs=bool(request.has_permission("content.design")),
    )


def _item_or_404(request) -> ContentItem:
    item = request.dbsession.scalars(
        sa.select(ContentItem).where(ContentItem.id == int(request.matchdict["id"]))
    ).first()
    if item is None:
        raise HTTPNotFound()
    return item


def _section_or_404(request, value) -> Section:
    section = next((s for s in request.content_sections if str(s.id) == str(value)), None)
    if section is None:
        raise HTTPNotFound()
    return section


def _may_edit(request, banner: bool) -> bool:
    """Writers change articles and pages, designers banners."""
    return bool(request.has_permission("content.design" if banner else "content.write"))


def _step_permission(item: ContentItem, action: str) -> str:
    """The permission a review step takes on ``item``: a designer submits their own banners."""
    return "content.design" if action == "submit" and item.kind == "banner" else review.PERMISSION[action]


def _number(value, default: int = 1) -> int:
    text = str(value or "")
    return min(int(text), 100_000) if text.isdigit() and int(text) > 0 else default


def _recorded(item: ContentItem) -> dict:
    return {"title": item.title, "kind": item.kind, "status": item.status}


@view_config(route_name="admin.content", renderer="admin/content.pt", permission="staff")
def content_list(request):
    """Items newest first, by section (or banners) and status; reviewers see what awaits them first."""
    _require(request, *CONTENT_PERMISSIONS)
    params = request.GET
    query = sa.select(ContentItem)
    chosen = params.get("section", "")
    if chosen == "banners":
        query = query.where(ContentItem.kind == "banner")
    elif chosen:
        query = query.where(ContentItem.section_id == _section_or_404(request, chosen).id)
    status = params.get("status", "")
    if status in tuple(ItemStatus):
        query = query.where(ContentItem.status == status)
    page = _number(params.get("page"))
    rows = request.dbsession.scalars(
        query.order_by(ContentItem.updated_at.desc(), ContentItem.id.desc())
        .limit(PER_PAGE + 1)
        .offset((page - 1) * PER_PAGE)
    ).all()
    return {
        "items": rows[:PER_PAGE],
        "more": len(rows) > PER_PAGE,
        "page": page,
        "sections": request.content_sections,
        "chosen": chosen,
        "status": status,
        "statuses": list(ItemStatus),
        "can_write": bool(request.has_permission("content.write")),
        "can_design": bool(request.has_permission("content.design")),
        "can_review": bool(request.has_permission("content.review")),
    }


def _form_of(item: ContentItem, tenant) -> dict:
    local = item.published_at.astimezone(_zone(tenant)) if item.published_at else None
    return {
        "title": item.title,
        "summary": item.summary,
        "body": item.body,
        "locale": item.locale,
        "slug": item.slug or "",
        "link_url": item.link_url,
        "source": item.source,
        "position": str(item.position),
        "publish_at": local.strftime("%Y-%m-%dT%H:%M") if local and item.published_at > utcnow() else "",
    }


def _zone(tenant):
    from zoneinfo import ZoneInfo

    return ZoneInfo(tenant.timezone)


def _history(request, item: ContentItem) -> list:
    events = request.dbsession.scalars(
        sa.select(AuditEvent)
        .where(AuditEvent.object_type == "content_item", AuditEvent.object_id == str(item.id))
        .order_by(AuditEvent.id.desc())
        .limit(100)
    ).all()
    helpers = TemplateHelpers(request)
    return [(e, audit.describe(e, helpers)) for e in events]


def _page(request, item: ContentItem | None, section: Section | None, banner: bool, form: dict) -> dict:
    editable = item is None or ItemStatus(item.status) in services.EDITABLE
    return {
        "item": item,
        "section": section,
        "banner": banner,
        "form": form,
        "errors": {},
        "note": "",
        "locales": request.tenant.locales,
        "may_edit": editable and _may_edit(request, banner),
        "may_change_cover": item is not None and editable and bool(request.has_permission("content.design")),
        "steps": _steps(request, item),
        "history": _history(request, item) if item is not None else [],
        "versions": versions.versions(request.dbsession, item) if item is not None else [],
    }


def _steps(request, item: ContentItem | None) -> list[str]:
    """The review steps this staff member may take on ``item`` now."""
    if item is None:
        return []
    status = ItemStatus(item.status)
    possible = {
        ItemStatus.DRAFT: ["submit"],
        ItemStatus.SUBMITTED: ["approve", "return"],
        ItemStatus.APPROVED: ["publish"],
        ItemStatus.SCHEDULED: ["unpublish"],
        ItemStatus.PUBLISHED: ["unpublish"],
    }.get(status, [])
    return [step for step in possible if request.has_permission(_step_permission(item, step))]


@view_config(route_name="admin.content_new", renderer="admin/content_edit.pt", permission="staff")
def content_new(request):
    """The editor for a new article or page (``?section=<id>``) or banner (``?section=banners``)."""
    chosen = request.params.get("section", "")
    if not chosen:  # a writer's usual start: the news section; a designer's: a banner
        news = next((s for s in request.content_sections if s.code == "news"), None)
        chosen = str(news.id) if news and request.has_permission("content.write") else "banners"
    banner = chosen == "banners"
    section = None if banner else _section_or_404(request, chosen)
    _require(request, "content.design" if banner else "content.write")
    blank = {"locale": request.tenant.default_locale if section is not None and section.is_pages else ""}
    data = _page(request, None, section, banner, dict(request.POST) if request.method == "POST" else blank)
    if request.method != "POST":
        return data
    on_refusal(request, lambda error: by_field(data, error))
    cover = request.POST.get("cover")
    item = services.save(
        request.dbsession,
        request.tenant,
        request.registry.settings_obj,
        dict(request.POST),
        editor=_editor(request),
        section=section,
        banner=banner,
        cover=cover if hasattr(cover, "file") else None,
    )
    audit.record(request, "content.save", "content_item", item.id, None, _recorded(item))
    return HTTPSeeOther(request.route_path("admin.content_item", id=item.id))


@view_config(route_name="admin.content_item", renderer="admin/content_edit.pt", permission="staff")
def content_item(request):
    """An item: its editor (or its text, once published), review steps, versions and history."""
    _require(request, *CONTENT_PERMISSIONS)
    item = _item_or_404(request)
    banner = item.kind == "banner"
    data = _page(request, item, item.section, banner, _form_of(item, request.tenant))
    if request.method != "POST":
        return data
    data["form"] = dict(request.POST)
    on_refusal(request, lambda error: by_field(data, error))
    before = _recorded(item)
    what = request.POST.get("what", "edit")
    if what == "delete":
        _require(request, "content.design" if banner else "content.write")
        item_id = item.id
        services.delete(request.dbsession, item)
        audit.record(request, "content.delete", "content_item", item_id, before, None)
        return HTTPSeeOther(request.route_path("admin.content"))
    cover = request.POST.get("cover")
    cover = cover if hasattr(cover, "file") else None
    if what == "cover":
        _require(request, "content.design")
        data["form"] = _form_of(item, request.tenant)
        services.change_cover(request.dbsession, request.registry.settings_obj, item, cover, editor=_editor(request))
        audit.record(request, "content.cover", "content_item", item.id, before, _recorded(item))
    else:
        _require(request, "content.design" if banner else "content.write")
        services.save(
            request.dbsession,
            request.tenant,
            request.registry.settings_obj,
            dict(request.POST),
            editor=_editor(request),
            item=item,
            cover=cover,
        )
        audit.record(request, "content.save", "content_item", item.id, before, _recorded(item))
    return HTTPSeeOther(request.route_path("admin.content_item", id=item.id))


@view_config(
    route_name="admin.content_review", renderer="admin/content_edit.pt", permission="staff", request_method="POST"
)
def content_review(request):
    """One review step (``action``): submit, approve, return (with ``note``), publish, unpublish."""
    item = _item_or_404(request)
    action = request.POST.get("action", "")
    if action not in review.ACTIONS:
        raise HTTPNotFound()
    _require(request, _step_permission(item, action))
    data = _page(request, item, item.section, item.kind == "banner", _form_of(item, request.tenant))
    data["note"] = request.POST.get("note", "")
    on_refusal(request, lambda error: by_field(data, error))
    before = {"status": item.status}
    review.act(item, action, reviewer_id=request.identity.principal_id, note=request.POST.get("note", ""))
    after = {**_recorded(item), "status": item.status}
    if action == "return":
        after["note"] = item.review_note
    if item.status == ItemStatus.SCHEDULED:
        after["published_at"] = item.published_at.isoformat()
    audit.record(request, f"content.{action}", "content_item", item.id, before, after)
    return HTTPSeeOther(request.route_path("admin.content_item", id=item.id))


@view_config(route_name="admin.content_version", renderer="admin/content_version.pt", permission="staff")
def content_version(request):
    """What one version changed from the one before it (or from ``?against=<number>``)."""
    _require(request, *CONTENT_PERMISSIONS)
    item = _item_or_404(request)
    chosen = versions.version(request.dbsession, item, int(request.matchdict["number"]))
    if chosen is None:
        raise HTTPNotFound()
    against = _number(request.params.get("against"), chosen.number - 1)
    older = versions.version(request.dbsession, item, against) if against != chosen.number else None
    return {
        "item": item,
        "version": chosen,
        "older": older,
        "changes": versions.compare(older, chosen),
        "versions": versions.versions(request.dbsession, item),
    }


# -- sections -------------------------------------------------------------------------------------------------


def _taken(request):
    """Whether ``/<slug>`` already answers as another page of the site (a route other than a section's)."""
    mapper = request.registry.getUtility(IRoutesMapper)

    def taken(slug: str) -> bool:
        for route in mapper.get_routes():
            if route.name.startswith("content.") or route.name.startswith("admin.content"):
                continue
            if route.match(f"/{slug}") is not None or route.match(f"/{slug}/1") is not None:
                return True
        return False

    return taken


def _sections_page(request, section: Section | None = None, form: dict | None = None) -> dict:
    return {
        "sections": request.content_sections,
        "section": section,
        "kinds": list(SectionKind),
        "locales": request.tenant.locales,
        "form": form if form is not None else {},
        "errors": {},
    }


def _section_form(section: Section) -> dict:
    form = {f"name_{locale}": name for locale, name in (section.names or {}).items()}
    form |= {"slug": section.slug, "position": str(section.position), "kind": section.kind}
    form |= {"in_menu": "on" if section.in_menu else "", "in_footer": "on" if section.in_footer else ""}
    return form


def _section_record(section: Section) -> dict:
    return {
        "name": section.name_in(""),
        "slug": section.slug,
        "in_menu": section.in_menu,
        "in_footer": section.in_footer,
    }


@view_config(route_name="admin.content_sections", renderer="admin/content_sections.pt", permission="content.review")
def content_sections(request):
    """The sections in their order, and a form for a new one."""
    data = _sections_page(request, form=dict(request.POST) if request.method == "POST" else {"kind": "news"})
    if request.method != "POST":
        return data
    on_refusal(request, lambda error: by_field(data, error))
    section = sections.save_section(request.dbsession, request.tenant, dict(request.POST), taken=_taken(request))
    audit.record(request, "content_section.create", "content_section", section.id, None, _section_record(section))
    return HTTPSeeOther(request.route_path("admin.content_sections"))


@view_config(route_name="admin.content_section", renderer="admin/content_section.pt", permission="content.review")
def content_section(request):
    """One section: its names, address (staff-made sections), order, menu and footer; deleting an empty one."""
    section = _section_or_404(request, request.matchdict["id"])
    data = _sections_page(request, section, dict(request.POST) if request.method == "POST" else _section_form(section))
    if request.method != "POST":
        return data
    on_refusal(request, lambda error: by_field(data, error))
    before = _section_record(section)
    if request.POST.get("what") == "delete":
        sections.delete_section(request.dbsession, section)
        audit.record(request, "content_section.delete", "content_section", section.id, before, None)
        return HTTPSeeOther(request.route_path("admin.content_sections"))
    sections.save_section(request.dbsession, request.tenant, dict(request.POST), section=section, taken=_taken(request))
    audit.record(request, "content_section.update", "content_section", section.id, before, _section_record(section))
    return HTTPSeeOther(request.route_path("admin.content_sections"))
