"""Writing content: checked input, cover images, versions; and what the public pages read.

An item's body is Markdown (rendered by :mod:`core.markup`, never stored as HTML). A cover image is an
upload checked by its bytes and kept in the tenant's upload store (:mod:`core.uploads`, served at
``/media/…``). Every save that changes the words keeps a :class:`ContentVersion`.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from .. import markup, uploads
from ..db import utcnow
from ..domain import DomainError
from ..i18n import _
from .models import ITEM_KIND, ITEMS, ContentItem, ContentVersion, ItemStatus, Section
from .versions import keep_version

COVER = "cover"
uploads.PURPOSES.setdefault(
    COVER,
    uploads.Purpose(
        2 * 1024 * 1024,
        ("PNG", "JPEG", "GIF", "WEBP"),
        _("The image is larger than 2 MB."),
        _("Upload a JPEG, PNG, GIF or WebP image."),
        _("SVG images are not accepted: upload a JPEG, PNG, GIF or WebP image."),
    ),
)
PAGE_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,59}$")
EDITABLE = frozenset({ItemStatus.DRAFT, ItemStatus.SUBMITTED, ItemStatus.RETURNED, ItemStatus.APPROVED})


class ContentError(DomainError):
    """Content staff cannot save as typed; ``field`` names it and ``message`` is a translation string."""


@dataclass(frozen=True)
class Editor:
    """Who saves: their staff id (the four-eyes check), their actor name, what their roles let them change."""

    staff_id: int | None
    actor: str
    writes: bool = True
    designs: bool = False


def _bounded(form: dict, field: str, limit: int) -> str:
    """A text field as typed (trimmed), refused (never cut) past ``limit`` characters."""
    text = str(form.get(field) or "").strip()
    if len(text) > limit:
        raise ContentError(field, _("Use at most ${n} characters.", mapping={"n": limit}))
    if "\x00" in text:
        raise ContentError(field, _("Remove the control characters from the text."))
    return text


def _link(value: str, field: str) -> str:
    value = (value or "").strip()
    if not value:
        return ""
    if len(value) > 500:
        raise ContentError(field, _("Use at most ${n} characters.", mapping={"n": 500}))
    if value.startswith("/") and not value.startswith("//"):
        return value  # a page of this site
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ContentError(field, _("Give a link starting with https:// or with / for a page of this site."))
    return value


def publish_time(text: str, tenant, now: dt.datetime | None = None) -> dt.datetime | None:
    """The publish-at time typed in the tenant's time zone (``2026-05-01T09:30``) in UTC; refused if past."""
    text = (text or "").strip()
    if not text:
        return None
    try:
        local = dt.datetime.fromisoformat(text)
    except ValueError:
        raise ContentError("publish_at", _("Give the date and time as 2026-05-01 09:30.")) from None
    if local.tzinfo is None:
        local = local.replace(tzinfo=ZoneInfo(tenant.timezone))
    when = local.astimezone(dt.timezone.utc)
    if when <= (now or utcnow()):
        raise ContentError("publish_at", _("Choose a time in the future, or leave it empty to publish when approved."))
    return when


def check_cover(upload, field: str = "cover") -> uploads.CheckedImage | None:
    """A cover image from a form's file field, checked by its bytes (``None``: no file sent)."""
    data = uploads.read_upload(upload, COVER)
    return None if data is None else uploads.check_image(data, COVER, field)


def _store_cover(session, settings, item: ContentItem, checked, by: str) -> None:
    row = uploads.store(session, settings, item.tenant_id, checked, by=by)
    item.cover_id, item.cover = row.id, row


def _check_body(body: str) -> str:
    if len(body) > markup.MAX_CHARS:
        raise ContentError(
            "body",
            _(
                "The text is ${n} characters long: keep it under ${max} characters.",
                mapping={"n": f"{len(body):,}", "max": f"{markup.MAX_CHARS:,}"},
            ),
        )
    if "\x00" in body:
        raise ContentError("body", _("Remove the control characters from the text."))
    return body


def _page_slug(session, tenant_id: int, form: dict, locale: str, item: ContentItem | None) -> str:
    slug = str(form.get("slug") or "").strip().lower()
    if not PAGE_SLUG.match(slug):
        raise ContentError("slug", _("Give the page an address of lowercase letters, digits and hyphens (about-us)."))
    query = sa.select(ContentItem.id).where(
        ContentItem.tenant_id == tenant_id, ContentItem.slug == slug, ContentItem.locale == locale
    )
    if item is not None:
        query = query.where(ContentItem.id != item.id)
    if session.scalars(query).first() is not None:
        raise ContentError("slug", _("Another page in this language has this address."))
    return slug


def save(
    session,
    tenant,
    settings,
    form: dict,
    *,
    editor: Editor,
    section: Section | None = None,
    banner: bool = False,
    cover=None,
    item: ContentItem | None = None,
    now: dt.datetime | None = None,
) -> ContentItem:
    """Create or change an article, page (``section``) or banner (``banner``) from the editor's form.

    Refuses bad input by field, changing nothing. A change to a submitted, returned or approved item sends
    it back to draft (it is reviewed again); a published or scheduled item is unpublished first.
    """
    if item is not None:
        _check_editable(item)
        section, banner = item.section, item.kind == "banner"
    kind = "banner" if banner else ITEM_KIND[section.kind]
    title = _bounded(form, "title", 120)
    if len(title) < 2:
        raise ContentError("title", _("Give a title of 2 to 120 characters."))
    summary = _bounded(form, "summary", 300)
    body = _check_body(str(form.get("body") or "").strip())
    locale = str(form.get("locale") or "")
    if locale and locale not in tenant.locales:
        raise ContentError("locale", _("Choose one of the site's languages."))
    if kind in ("news", "industry", "page") and not body:
        raise ContentError("body", _("Write the text."))
    link = _link(form.get("link_url", ""), "link_url")
    if kind == "media" and not link and not body:
        raise ContentError("link_url", _("Give the link to the article, or write its text."))
    slug = _page_slug(session, tenant.id, form, locale, item) if kind == "page" else None
    try:
        position = int(str(form.get("position") or 0))
    except ValueError:
        raise ContentError("position", _("Give the position as a whole number.")) from None
    if not -10_000 <= position <= 10_000:
        raise ContentError("position", _("Give the position as a whole number."))
    published_at = publish_time(str(form.get("publish_at") or ""), tenant, now)
    checked = check_cover(cover) if cover is not None else None
    if banner and checked is None and (item is None or not item.has_image):
        raise ContentError("cover", _("A banner needs an image."))
    if item is None:
        item = ContentItem(tenant_id=tenant.id, section=section, kind=kind, author=editor.actor, version=0)
        item.author_id, item.status = editor.staff_id, ITEMS.initial.value
        session.add(item)
    words_changed = (item.title, item.summary, item.body) != (title, summary, body)
    item.title, item.summary, item.body, item.locale, item.slug = title, summary, body, locale, slug
    item.link_url, item.source, item.position = link, _bounded(form, "source", 120), position
    item.published_at, item.editor_id = published_at, editor.staff_id
    if item.status != ItemStatus.DRAFT:
        ITEMS.move(item, ItemStatus.DRAFT)
    session.flush()
    if checked is not None:
        _store_cover(session, settings, item, checked, editor.actor)
    if words_changed:
        keep_version(session, item, editor.actor)
    return item


def change_cover(session, settings, item: ContentItem, upload, *, editor: Editor) -> ContentItem:
    """A designer's new cover image for ``item`` (an edit like any other: the item is reviewed again)."""
    _check_editable(item)
    checked = check_cover(upload)
    if checked is None:
        raise ContentError("cover", _("Choose an image to upload."))
    _store_cover(session, settings, item, checked, editor.actor)
    item.editor_id = editor.staff_id
    if item.status != ItemStatus.DRAFT:
        ITEMS.move(item, ItemStatus.DRAFT)
    session.flush()
    return item


def _check_editable(item: ContentItem) -> None:
    if ItemStatus(item.status) not in EDITABLE:
        raise ContentError("status", _("Unpublish it before changing it."))


def delete(session, item: ContentItem) -> None:
    """Delete an item that was never published (drafts, returned ones); a published one is unpublished."""
    if item.template:
        raise ContentError("delete", _("A built-in page cannot be deleted: unpublish it instead."))
    if ItemStatus(item.status) in (ItemStatus.PUBLISHED, ItemStatus.SCHEDULED):
        raise ContentError("delete", _("Unpublish it before deleting it."))
    session.execute(sa.delete(ContentVersion).where(ContentVersion.item_id == item.id))
    session.delete(item)
    session.flush()


# -- what visitors see -------------------------------------------------------------------------------------


def visible(locale: str | None):
    """Published items (scheduled ones whose time has come) in ``locale`` or every language (``None``: any)."""
    shown = ContentItem.published
    return shown if locale is None else sa.and_(shown, ContentItem.locale.in_(["", locale]))


def newest_first(query):
    return query.order_by(ContentItem.published_at.desc(), ContentItem.id.desc())


def banners(session, locale: str, limit: int = 3) -> list[ContentItem]:
    return session.scalars(
        sa.select(ContentItem)
        .where(ContentItem.kind == "banner", visible(locale))
        .order_by(ContentItem.position, ContentItem.id.desc())
        .limit(limit)
    ).all()


def latest(session, locale: str, limit: int = 6) -> list[ContentItem]:
    """The newest published articles (news, media, industry) in ``locale`` (or in every language)."""
    return session.scalars(
        newest_first(
            sa.select(ContentItem).where(ContentItem.kind.in_(["news", "media", "industry"]), visible(locale))
        ).limit(limit)
    ).all()


@dataclass(frozen=True)
class Page:
    items: list
    number: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def more(self) -> bool:
        return self.number < self.pages


def published_in(session, section: Section, locale: str | None, number: int = 1, per_page: int = 10) -> Page:
    """One page of a section's published items, newest first (pages: in their order)."""
    where = sa.and_(ContentItem.section_id == section.id, visible(locale))
    total = session.scalar(sa.select(sa.func.count()).select_from(ContentItem).where(where))
    query = sa.select(ContentItem).where(where)
    if section.is_pages:
        query = query.order_by(ContentItem.position, ContentItem.id)
    else:
        query = newest_first(query)
    items = session.scalars(query.limit(per_page).offset((number - 1) * per_page)).all()
    return Page(items, number, per_page, int(total))


def public_item(session, item_id: int) -> ContentItem | None:
    """A published article of this tenant (the session's tenant filter applies), else ``None``."""
    return session.scalars(
        sa.select(ContentItem).where(ContentItem.id == item_id, ContentItem.kind != "banner", visible(None))
    ).first()


def public_page(session, slug: str, locale: str, default_locale: str = "") -> ContentItem | None:
    """The published page at ``/pages/<slug>``: in ``locale``, else for every language, else in the site's
    default language, else in any (an agreement is better read in another language than not at all)."""
    found = session.scalars(
        sa.select(ContentItem).where(ContentItem.kind == "page", ContentItem.slug == slug, visible(None))
    ).all()
    for wanted in (locale, "", default_locale):
        for page in found:
            if page.locale == wanted:
                return page
    return found[0] if found else None
