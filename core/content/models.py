"""Content items: a banner, a news item (平台公告) or a media item (媒體報導), per tenant and language."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Base, TenantOwned, utcnow

KINDS = ("banner", "news", "media")


class ContentItem(TenantOwned, Base):
    __tablename__ = "content_items"
    __table_args__ = (sa.Index("ix_content_items_kind", "tenant_id", "kind", "published", "published_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(10))
    locale: Mapped[str] = mapped_column(sa.String(16), default="")  # "": every language
    title: Mapped[str] = mapped_column(sa.String(120))
    summary: Mapped[str] = mapped_column(sa.String(300), default="")
    body: Mapped[str] = mapped_column(sa.Text, default="")  # plain text; blank lines separate paragraphs
    link_url: Mapped[str] = mapped_column(sa.String(500), default="")  # a banner's target, a media item's source
    source: Mapped[str] = mapped_column(sa.String(120), default="")  # the outlet of a media item
    image_key: Mapped[str | None] = mapped_column(sa.String(60))
    image_type: Mapped[str] = mapped_column(sa.String(40), default="")
    position: Mapped[int] = mapped_column(default=0)  # banners: lower first
    published: Mapped[bool] = mapped_column(default=False)
    published_at: Mapped[dt.datetime | None]
    author: Mapped[str] = mapped_column(sa.String(120), default="")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    @property
    def paragraphs(self) -> list[str]:
        return [p.strip() for p in self.body.replace("\r\n", "\n").split("\n\n") if p.strip()]


def _labels():
    from ..i18n import _

    return {"banner": _("Banner"), "news": _("News"), "media": _("In the media")}


KIND_LABELS = _labels()
