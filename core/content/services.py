"""Publishing content: checked input, images stored outside the web root, what the home page shows.

Images (a banner's picture) go to ``<lendstack.var_dir>/content/<tenant id>/<random key>`` after their
first bytes agree with their type (JPEG, PNG or WebP, at most ``MAX_IMAGE_BYTES``); they are served
by the site itself, so pages make no external requests.
"""

from __future__ import annotations

import secrets
from pathlib import Path
from urllib.parse import urlsplit

import sqlalchemy as sa

from ..db import utcnow
from ..domain import DomainError
from ..i18n import _
from .models import KINDS, ContentItem

MAX_IMAGE_BYTES = 2 * 1024 * 1024
IMAGE_SIGNATURES = {
    "image/jpeg": b"\xff\xd8\xff",
    "image/png": b"\x89PNG\r\n\x1a\n",
    "image/webp": b"RIFF",
}


class ContentError(DomainError):
    """Content staff cannot save as typed; ``field`` names it and ``message`` is a translation string."""


def _bounded(form: dict, field: str, limit: int) -> str:
    """A text field as typed (trimmed), refused (never cut) past ``limit`` characters."""
    text = str(form.get(field) or "").strip()
    if len(text) > limit:
        raise ContentError(field, _("Use at most ${n} characters.", mapping={"n": limit}))
    return text


def images_dir(settings) -> Path:
    """Where content images are kept, outside the web root (``settings``: the install's ``AppSettings``)."""
    return settings.var_dir / "content"


def image_path(settings, item: ContentItem) -> Path:
    return images_dir(settings) / str(item.tenant_id) / item.image_key


def _link(value: str, field: str) -> str:
    value = (value or "").strip()
    if not value:
        return ""
    parts = urlsplit(value)
    if value.startswith("/") and not value.startswith("//"):
        return value[:500]  # a page of this site
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ContentError(field, _("Give a link starting with https:// or with / for a page of this site."))
    return value[:500]


def _image(settings, tenant_id: int, upload) -> tuple[str, str] | None:
    if upload is None or not getattr(upload, "file", None):
        return None
    data = upload.file.read(MAX_IMAGE_BYTES + 1)
    if not data:
        return None
    if len(data) > MAX_IMAGE_BYTES:
        raise ContentError("image", _("The image is larger than 2 MB."))
    content_type = (getattr(upload, "type", "") or "").split(";")[0].strip().lower()
    signature = IMAGE_SIGNATURES.get(content_type)
    if signature is None or not data.startswith(signature) or (content_type == "image/webp" and data[8:12] != b"WEBP"):
        raise ContentError("image", _("Upload a JPEG, PNG or WebP image."))
    key = secrets.token_hex(20)
    folder = images_dir(settings) / str(tenant_id)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / key).write_bytes(data)
    return key, content_type


def save(session, tenant, settings, form: dict, *, image=None, item: ContentItem | None = None, by: str) -> ContentItem:
    """Create or change an item from the editor's form; refuses bad input by field, changing nothing."""
    kind = form.get("kind", item.kind if item else "")
    if kind not in KINDS:
        raise ContentError("kind", _("Choose a banner, a news item or a media item."))
    title = (form.get("title") or "").strip()
    if not 2 <= len(title) <= 120:
        raise ContentError("title", _("Give a title of 2 to 120 characters."))
    locale = form.get("locale") or ""
    if locale and locale not in tenant.locales:
        raise ContentError("locale", _("Choose one of the site's languages."))
    body = (form.get("body") or "").strip()
    if kind == "news" and not body:
        raise ContentError("body", _("Write the news item."))
    if len(body) > 20000:
        raise ContentError("body", _("Keep it under 20,000 characters."))
    link = _link(form.get("link_url", ""), "link_url")
    if kind == "media" and not link:
        raise ContentError("link_url", _("Give the link to the article."))
    try:
        position = int(form.get("position") or 0)
    except ValueError:
        raise ContentError("position", _("Give the position as a whole number.")) from None
    stored = _image(settings, tenant.id, image)
    if kind == "banner" and stored is None and (item is None or not item.image_key):
        raise ContentError("image", _("A banner needs an image."))
    if item is None:
        item = ContentItem(tenant_id=tenant.id, kind=kind)
        session.add(item)
    item.kind, item.title, item.locale, item.body, item.link_url = kind, title, locale, body, link
    item.summary, item.source = _bounded(form, "summary", 300), _bounded(form, "source", 120)
    item.position, item.author = position, by
    if stored is not None:
        item.image_key, item.image_type = stored
    publish = str(form.get("published", "")).lower() in ("on", "1", "true", "yes")
    if publish and not item.published:
        item.published_at = utcnow()
    item.published = publish
    session.flush()
    return item


def _visible(locale: str):
    return sa.and_(ContentItem.published.is_(True), ContentItem.locale.in_(["", locale]))


def banners(session, locale: str, limit: int = 3) -> list[ContentItem]:
    return session.scalars(
        sa.select(ContentItem)
        .where(ContentItem.kind == "banner", _visible(locale))
        .order_by(ContentItem.position, ContentItem.id.desc())
        .limit(limit)
    ).all()


def latest(session, locale: str, limit: int = 6) -> list[ContentItem]:
    """The newest published news and media items in ``locale`` (or in every language)."""
    return session.scalars(
        sa.select(ContentItem)
        .where(ContentItem.kind.in_(["news", "media"]), _visible(locale))
        .order_by(ContentItem.published_at.desc(), ContentItem.id.desc())
        .limit(limit)
    ).all()
