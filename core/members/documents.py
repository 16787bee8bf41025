"""Identity documents members upload: checked, stored outside the web root, shown to permitted staff only.

Files go to ``<lendstack.var_dir>/documents/<tenant id>/<random key>``; the
name the member gave is kept only as metadata. A file is accepted when its
declared type and its first bytes agree (JPEG, PNG or PDF) and it is at most
``MAX_BYTES``.
"""

from __future__ import annotations

import secrets
from pathlib import Path

import sqlalchemy as sa

from ..i18n import _
from .models import Member, MemberDocument
from .services import MemberError

MAX_BYTES = 5 * 1024 * 1024
KINDS = ("id_front", "id_back", "other")
SIGNATURES = {
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "application/pdf": (b"%PDF-",),
}


def documents_dir(settings) -> Path:
    """Where identity documents are kept, outside the web root (``settings``: the install's ``AppSettings``)."""
    return settings.var_dir / "documents"


def store(session, settings, member: Member, *, kind: str, filename: str, content_type: str, stream) -> MemberDocument:
    if kind not in KINDS:
        raise MemberError("kind", _("Choose what the document is."))
    data = stream.read(MAX_BYTES + 1)
    if not data:
        raise MemberError("file", _("Choose a file to upload."))
    if len(data) > MAX_BYTES:
        raise MemberError("file", _("The file is larger than 5 MB."))
    signatures = SIGNATURES.get((content_type or "").split(";")[0].strip().lower())
    if signatures is None or not data.startswith(signatures):
        raise MemberError("file", _("Upload a JPEG, PNG or PDF file."))
    key = secrets.token_hex(20)
    folder = documents_dir(settings) / str(member.tenant_id)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / key).write_bytes(data)
    document = MemberDocument(
        tenant_id=member.tenant_id,
        member_id=member.id,
        kind=kind,
        filename=Path(filename or "upload").name[:200],
        content_type=content_type.split(";")[0].strip().lower(),
        size=len(data),
        storage_key=key,
    )
    session.add(document)
    session.flush()
    return document


def path_of(settings, document: MemberDocument) -> Path:
    return documents_dir(settings) / str(document.tenant_id) / document.storage_key


def documents(session, member: Member) -> list[MemberDocument]:
    return session.scalars(
        sa.select(MemberDocument).where(MemberDocument.member_id == member.id).order_by(MemberDocument.id)
    ).all()
