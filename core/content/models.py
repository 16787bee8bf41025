"""The content centre (網站內容): sections (欄目), their items with a review workflow, and each item's versions.

A **section** is a list of articles (news 新聞中心, media coverage 媒體報道, industry news 行業新聞 — public at
``/<slug>``) or the site's **pages** (關於我們, 安全保障, the agreements … — each page public at
``/pages/<slug>``). An **item** is one article, page or home-page banner in one language (``""``: every
language); it is written, submitted, approved by another person and published (now, or at its
``published_at``: a *scheduled* item is public once that time has passed — read as published, no job
needed). Every save keeps a :class:`ContentVersion` of its words.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db import Base, TenantOwned, utcnow
from ..i18n import _
from ..states import StateMachine
from ..uploads import TenantFile, media_url


class SectionKind(StrEnum):
    NEWS = "news"
    MEDIA = "media"
    INDUSTRY = "industry"
    PAGES = "pages"


ITEM_KIND = {"news": "news", "media": "media", "industry": "industry", "pages": "page"}
"""The kind of the items a section of each kind holds."""
KINDS = ("news", "media", "industry", "page", "banner")
"""What an item is: an article of a section's kind, a page, or a home-page banner (no section)."""


class ItemStatus(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    RETURNED = "returned"
    APPROVED = "approved"
    SCHEDULED = "scheduled"
    PUBLISHED = "published"


ITEMS = StateMachine(
    "content_item",
    ItemStatus,
    {
        ItemStatus.DRAFT: {ItemStatus.SUBMITTED},
        ItemStatus.SUBMITTED: {ItemStatus.APPROVED, ItemStatus.RETURNED, ItemStatus.DRAFT},
        ItemStatus.RETURNED: {ItemStatus.DRAFT},
        ItemStatus.APPROVED: {ItemStatus.PUBLISHED, ItemStatus.SCHEDULED, ItemStatus.DRAFT},
        ItemStatus.SCHEDULED: {ItemStatus.PUBLISHED, ItemStatus.APPROVED},
        ItemStatus.PUBLISHED: {ItemStatus.APPROVED, ItemStatus.DRAFT},
    },
    initial=ItemStatus.DRAFT,
)
"""An edit sends a submitted, returned or approved item back to draft; published and scheduled items are
unpublished (back to approved) before they change."""


class Section(TenantOwned, Base):
    """A 欄目: ``names`` per language, its ``slug`` in the address; ``code``: a built-in section's own name."""

    __tablename__ = "content_sections"
    __table_args__ = (
        sa.UniqueConstraint("tenant_id", "slug"),
        sa.UniqueConstraint("tenant_id", "code"),
        sa.UniqueConstraint("tenant_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str | None] = mapped_column(sa.String(20))  # news, media, industry, pages; None: staff-made
    kind: Mapped[str] = mapped_column(sa.String(10))  # SectionKind
    slug: Mapped[str] = mapped_column(sa.String(40))
    names: Mapped[dict] = mapped_column(sa.JSON, default=dict)  # {locale: name}
    position: Mapped[int] = mapped_column(default=0)
    in_menu: Mapped[bool] = mapped_column(default=False)
    in_footer: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    def name_in(self, locale: str, default_locale: str = "") -> str:
        names = self.names or {}
        return names.get(locale) or names.get(default_locale) or next((n for n in names.values() if n), self.slug)

    @property
    def is_pages(self) -> bool:
        return self.kind == SectionKind.PAGES


class ContentItem(TenantOwned, Base):
    """One article, page or banner in one language, with where it stands in the review workflow."""

    __tablename__ = "content_items"
    __table_args__ = (
        sa.Index("ix_content_items_kind", "tenant_id", "kind", "status", "published_at"),
        sa.Index("ix_content_items_section", "tenant_id", "section_id", "status", "published_at"),
        sa.UniqueConstraint("tenant_id", "locale", "slug"),
        sa.UniqueConstraint("tenant_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    section_id: Mapped[int | None] = mapped_column(sa.ForeignKey("content_sections.id", ondelete="RESTRICT"))
    kind: Mapped[str] = mapped_column(sa.String(10))  # KINDS
    slug: Mapped[str | None] = mapped_column(sa.String(60))  # a page's address (/pages/<slug>); None otherwise
    template: Mapped[str | None] = mapped_column(sa.String(20))  # the built-in page it began as (about, terms …)
    locale: Mapped[str] = mapped_column(sa.String(16), default="")  # "": every language
    title: Mapped[str] = mapped_column(sa.String(120))
    summary: Mapped[str] = mapped_column(sa.String(300), default="")
    body: Mapped[str] = mapped_column(sa.Text, default="")  # Markdown, rendered by core.markup
    link_url: Mapped[str] = mapped_column(sa.String(500), default="")  # a banner's target, a media item's source
    source: Mapped[str] = mapped_column(sa.String(120), default="")  # the outlet of a media item
    cover_id: Mapped[int | None] = mapped_column(sa.ForeignKey("tenant_files.id", ondelete="SET NULL"))
    image_key: Mapped[str | None] = mapped_column(sa.String(60))  # an image kept before covers were uploads
    image_type: Mapped[str] = mapped_column(sa.String(40), default="")
    position: Mapped[int] = mapped_column(default=0)  # banners and pages: lower first
    status: Mapped[str] = mapped_column(sa.String(12), default=ITEMS.initial.value)  # ItemStatus
    published_at: Mapped[dt.datetime | None]  # when it was published, or is to be (scheduled)
    author: Mapped[str] = mapped_column(sa.String(120), default="")  # an actor: staff:<id>:<name>
    author_id: Mapped[int | None] = mapped_column(sa.ForeignKey("staff_users.id", ondelete="SET NULL"))
    editor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("staff_users.id", ondelete="SET NULL"))
    review_note: Mapped[str] = mapped_column(sa.String(500), default="")  # why it was returned
    version: Mapped[int] = mapped_column(default=0)  # the number of its latest ContentVersion
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    section: Mapped[Section | None] = relationship()
    cover: Mapped[TenantFile | None] = relationship()

    def shown_status(self, now: dt.datetime | None = None) -> ItemStatus:
        """Its status as people see it: a scheduled item whose time has come is published."""
        status = ItemStatus(self.status)
        if status is ItemStatus.SCHEDULED and self.published_at is not None:
            if self.published_at <= (now or utcnow()):
                return ItemStatus.PUBLISHED
        return status

    @hybrid_property
    def published(self) -> bool:
        """Whether visitors see it now (published, or scheduled and its time has come); in queries too."""
        return self.shown_status() is ItemStatus.PUBLISHED

    @published.inplace.expression
    @classmethod
    def _published_expression(cls):
        return sa.or_(
            cls.status == ItemStatus.PUBLISHED.value,
            sa.and_(cls.status == ItemStatus.SCHEDULED.value, cls.published_at <= utcnow()),
        )

    @property
    def is_public(self) -> bool:
        return self.published

    @property
    def cover_url(self) -> str | None:
        """Its cover image's address on this site (an upload), or ``None``."""
        return media_url(self.cover.key, self.cover.ext) if self.cover is not None else None

    @property
    def has_image(self) -> bool:
        return self.cover_id is not None or bool(self.image_key)


class ContentVersion(TenantOwned, Base):
    """An item's words as one save left them (``number`` counts from 1 per item)."""

    __tablename__ = "content_versions"
    __table_args__ = (sa.UniqueConstraint("tenant_id", "item_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(sa.ForeignKey("content_items.id", ondelete="CASCADE"))
    number: Mapped[int]
    title: Mapped[str] = mapped_column(sa.String(120))
    summary: Mapped[str] = mapped_column(sa.String(300), default="")
    body: Mapped[str] = mapped_column(sa.Text, default="")
    saved_by: Mapped[str] = mapped_column(sa.String(120), default="")
    saved_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


def _labels():
    return {
        "banner": _("Banner"),
        "news": _("News"),
        "media": _("In the media"),
        "industry": _("Industry news"),
        "page": _("Page"),
    }


KIND_LABELS = _labels()
SECTION_KIND_LABELS = {
    "news": _("News centre"),
    "media": _("Media coverage"),
    "industry": _("Industry news"),
    "pages": _("Pages"),
}
STATUS_LABELS = {
    "draft": _("Draft"),
    "submitted": _("Awaiting review"),
    "returned": _("Returned"),
    "approved": _("Approved"),
    "scheduled": _("Scheduled"),
    "published": _("Published"),
}
