"""Supporting documents of an application (申請輔助資料): typed, checked by their bytes, kept outside the web root.

Files go to ``<var_dir>/credit_documents/<tenant id>/<random key>``; the name given is kept only as metadata.
A file is accepted when its bytes are a JPEG or PNG image Pillow can read, or a PDF (its ``%PDF-`` header),
whatever type the browser declared, and it is at most ``MAX_BYTES``. Only staff with ``credit.apply`` or
``credit.approve`` open them, and every opening is recorded in the audit log (by the view).
"""

from __future__ import annotations

import secrets
from pathlib import Path

import sqlalchemy as sa

from ...i18n import _
from ...uploads import document_type
from .models import ApplicationDocument, ApplicationStatus
from .products import DOCUMENT_TYPES
from .services import ApplicationError

MAX_BYTES = 10 * 1024 * 1024
OPEN_STATUSES = (ApplicationStatus.DRAFT, ApplicationStatus.IN_REVIEW)


def documents_dir(settings) -> Path:
    """Where application documents are kept (``settings``: the install's ``AppSettings``)."""
    return settings.var_dir / "credit_documents"


def sniff(data: bytes) -> str | None:
    """The content type the bytes really are (``image/jpeg``, ``image/png``, ``application/pdf``), or ``None``."""
    return document_type(data)


def store(
    session, settings, application, *, doc_type: str, filename: str, stream, uploaded_by: str
) -> ApplicationDocument:
    """Attach a document of ``doc_type`` to a draft or an application in review."""
    if application.status not in OPEN_STATUSES:
        raise ApplicationError("file", _("Documents are attached only to a draft or an application in review."))
    if doc_type not in DOCUMENT_TYPES:
        raise ApplicationError("doc_type", _("Choose what the document is."))
    data = stream.read(MAX_BYTES + 1) if stream is not None else b""
    if not data:
        raise ApplicationError("file", _("Choose a file to upload."))
    if len(data) > MAX_BYTES:
        raise ApplicationError("file", _("The file is larger than 10 MB."))
    content_type = sniff(data)
    if content_type is None:
        raise ApplicationError("file", _("Upload a JPEG, PNG or PDF file."))
    key = secrets.token_hex(20)
    folder = documents_dir(settings) / str(application.tenant_id)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / key).write_bytes(data)
    document = ApplicationDocument(
        tenant_id=application.tenant_id,
        application_id=application.id,
        doc_type=doc_type,
        filename=Path((filename or "upload").replace("\x00", "")).name[:200] or "upload",
        content_type=content_type,
        size=len(data),
        storage_key=key,
        uploaded_by=uploaded_by[:120],
    )
    session.add(document)
    session.flush()
    return document


def path_of(settings, document: ApplicationDocument) -> Path:
    return documents_dir(settings) / str(document.tenant_id) / document.storage_key


def documents(session, application) -> list[ApplicationDocument]:
    return list(
        session.scalars(
            sa.select(ApplicationDocument)
            .where(ApplicationDocument.application_id == application.id)
            .order_by(ApplicationDocument.id)
        )
    )


def document_of(session, application, document_id) -> ApplicationDocument | None:
    text = str(document_id or "")
    if not (text.isascii() and text.isdigit() and len(text) < 10):
        return None
    return session.scalars(
        sa.select(ApplicationDocument).where(
            ApplicationDocument.application_id == application.id, ApplicationDocument.id == int(text)
        )
    ).first()
