"""Files a tenant uploads for its site (logo, favicon): checked by their bytes, served from /media.

A file is kept under ``<lendstack.var_dir>/uploads/<tenant id>/<key>``, outside the web root, with a
:class:`TenantFile` row saying what it is. The site serves it at ``/media/<key>.<ext>`` to its own hosts
only, with its stored type, ``nosniff`` and a year's cache: a key is random and never reused, so a new
upload is a new address. A file is kept when a newer one replaces it, because an earlier settings version
(which can be restored) may point to it.

What is accepted is decided by the bytes, never the name or the browser's type: Pillow must recognise a
format on the purpose's list and ``verify()`` the file; the size is limited per purpose. SVG is refused:
it is a document that can carry scripts, and no sanitiser here makes it safe to serve from the site's
own origin.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import secrets
import warnings
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from pyramid.httpexceptions import HTTPNotFound
from pyramid.response import FileResponse
from pyramid.view import view_config
from sqlalchemy.orm import Mapped, mapped_column

from .db import Base, TenantOwned, utcnow
from .domain import DomainError
from .i18n import _

FORMATS = {  # Pillow's format name: (extension, content type)
    "PNG": ("png", "image/png"),
    "JPEG": ("jpg", "image/jpeg"),
    "GIF": ("gif", "image/gif"),
    "WEBP": ("webp", "image/webp"),
    "ICO": ("ico", "image/x-icon"),
}
MAX_SIDE = 4096  # pixels: a logo or an icon never needs more, and a small file cannot hide a huge image


@dataclass(frozen=True)
class Purpose:
    max_bytes: int
    formats: tuple[str, ...]
    too_large: object  # the refusals' messages
    wrong_type: object
    svg: object


PURPOSES = {
    "logo": Purpose(
        512 * 1024,
        ("PNG", "JPEG", "GIF", "WEBP"),
        _("The logo is larger than 512 KB."),
        _("Upload a PNG, JPEG, GIF or WebP image."),
        _("SVG images are not accepted: upload a PNG, JPEG, GIF or WebP image."),
    ),
    "favicon": Purpose(
        100 * 1024,
        ("PNG", "JPEG", "GIF", "WEBP", "ICO"),
        _("The icon is larger than 100 KB."),
        _("Upload a PNG, JPEG, GIF, WebP or ICO image."),
        _("SVG images are not accepted: upload a PNG, JPEG, GIF, WebP or ICO image."),
    ),
}
KEY = re.compile(r"^[0-9a-f]{32}$")


class UploadError(DomainError):
    """An upload refused: too large, not an image of an accepted type, or SVG."""


class TenantFile(TenantOwned, Base):
    """One file a tenant uploaded: its random key, type and size; the bytes are on disk."""

    __tablename__ = "tenant_files"
    __table_args__ = (sa.UniqueConstraint("tenant_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(sa.String(40))
    ext: Mapped[str] = mapped_column(sa.String(8))
    content_type: Mapped[str] = mapped_column(sa.String(40))
    size: Mapped[int]
    purpose: Mapped[str] = mapped_column(sa.String(20))
    uploaded_by: Mapped[str] = mapped_column(sa.String(120), default="")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    @property
    def url(self) -> str:
        return media_url(self.key, self.ext)


@dataclass(frozen=True)
class CheckedImage:
    """An upload that passed :func:`check_image`, not stored yet: its key and address are already chosen."""

    purpose: str
    data: bytes
    ext: str
    content_type: str
    key: str

    @property
    def url(self) -> str:
        return media_url(self.key, self.ext)


def media_url(key: str, ext: str) -> str:
    return f"/media/{key}.{ext}"


def uploads_dir(settings) -> Path:
    """Where uploads are kept (``settings``: the install's ``AppSettings``)."""
    return settings.var_dir / "uploads"


def file_path(settings, tenant_id: int, key: str) -> Path:
    return uploads_dir(settings) / str(tenant_id) / key


def _looks_like_svg(data: bytes) -> bool:
    head = data[:2048].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    return head.startswith((b"<?xml", b"<svg", b"<!doctype svg")) or b"<svg" in head


def read_upload(upload, purpose: str) -> bytes | None:
    """The bytes of a form's file field (at most one byte past the purpose's limit); ``None`` when none was sent."""
    if upload is None or not getattr(upload, "file", None):
        return None
    data = upload.file.read(PURPOSES[purpose].max_bytes + 1)
    return data or None


def check_image(data: bytes, purpose: str, field: str) -> CheckedImage:
    """Accept ``data`` as an image for ``purpose`` (``logo`` or ``favicon``) or refuse it, naming ``field``."""
    from PIL import Image, UnidentifiedImageError

    rules = PURPOSES[purpose]
    if len(data) > rules.max_bytes:
        raise UploadError(field, rules.too_large)
    if _looks_like_svg(data):
        raise UploadError(field, rules.svg)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=rules.formats) as image:
                found, (width, height) = image.format, image.size
                image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombWarning):
        raise UploadError(field, rules.wrong_type) from None
    except Image.DecompressionBombError:
        raise UploadError(field, _("The image is larger than 4096 × 4096 pixels.")) from None
    if found not in rules.formats:
        raise UploadError(field, rules.wrong_type)
    if width > MAX_SIDE or height > MAX_SIDE:
        raise UploadError(field, _("The image is larger than 4096 × 4096 pixels."))
    ext, content_type = FORMATS[found]
    return CheckedImage(purpose, data, ext, content_type, secrets.token_hex(16))


DOCUMENT_IMAGES = {"JPEG": "image/jpeg", "PNG": "image/png"}


def document_type(data: bytes) -> str | None:
    """What a document's bytes really are — ``application/pdf`` (its ``%PDF-`` header), ``image/jpeg`` or
    ``image/png`` (an image Pillow opens and verifies, within its decompression-bomb limit) — or ``None``: the
    one check of the files staff and members attach (supporting documents, signed scans), whatever their name
    or declared type says."""
    if data.startswith(b"%PDF-"):
        return "application/pdf"
    from PIL import Image, UnidentifiedImageError

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=tuple(DOCUMENT_IMAGES)) as image:
                found = image.format
                image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombWarning):
        return None
    except Image.DecompressionBombError:
        return None
    return DOCUMENT_IMAGES.get(found)


def store(session, settings, tenant_id: int, checked: CheckedImage, *, by: str) -> TenantFile:
    """Keep a checked image: its row in the request's transaction, its bytes on disk under its key."""
    row = TenantFile(
        tenant_id=tenant_id,
        key=checked.key,
        ext=checked.ext,
        content_type=checked.content_type,
        size=len(checked.data),
        purpose=checked.purpose,
        uploaded_by=by[:120],
    )
    session.add(row)
    path = file_path(settings, tenant_id, checked.key)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(checked.data)
    session.flush()
    return row


def bytes_used(session, tenant_id: int) -> int:
    """How much the tenant's uploads take, in bytes."""
    return int(
        session.scalar(
            sa.select(sa.func.coalesce(sa.func.sum(TenantFile.size), 0)).where(TenantFile.tenant_id == tenant_id)
        )
    )


ONE_YEAR = 365 * 24 * 3600


@view_config(route_name="media", request_method=("GET", "HEAD"))
def media(request):
    """``/media/<key>.<ext>``: one of this tenant's files, never another tenant's."""
    key, _dot, ext = request.matchdict["key"].partition(".")
    if not KEY.match(key):
        raise HTTPNotFound()
    row = request.dbsession.scalars(
        sa.select(TenantFile).where(TenantFile.tenant_id == request.tenant.id, TenantFile.key == key)
    ).first()
    if row is None or row.ext != ext:
        raise HTTPNotFound()
    path = file_path(request.registry.settings_obj, row.tenant_id, row.key)
    if not path.is_file():
        raise HTTPNotFound()
    response = FileResponse(str(path), request=request, content_type=row.content_type)
    response.headers["Cache-Control"] = f"public, max-age={ONE_YEAR}, immutable"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


def includeme(config):
    """The ``/media/{key}`` route on tenant hosts."""
    config.add_route("media", "/media/{key}", host_kind="tenant")
    config.scan(__name__)
