"""A customer's documents (ID cards, licences, statements…): checked by their bytes, kept outside the web
root, opened only by staff with ``credit.customer`` (every opening audited).

Files go to ``<lendstack.var_dir>/credit_documents/<tenant id>/<random key>``; the name given is kept only
as metadata. What a file is comes from its bytes, never its name or the browser's type: an image must be a
JPEG or PNG that Pillow opens and verifies, a PDF must start with ``%PDF-``. At most :data:`MAX_BYTES`.
"""

from __future__ import annotations

import secrets
from pathlib import Path

import sqlalchemy as sa

from ...i18n import _
from ...uploads import document_type
from .inputs import CustomerError
from .models import CustomerDocument

MAX_BYTES = 10 * 1024 * 1024
KINDS = {
    "id_document": _("Identity document"),
    "business_licence": _("Business licence"),
    "income_proof": _("Proof of income"),
    "property_certificate": _("Property certificate"),
    "bank_statement": _("Bank statement"),
    "financial_report": _("Financial report"),
    "articles": _("Articles of association"),
    "other": _("Other"),
}


def documents_dir(settings) -> Path:
    """Where customers' documents are kept (``settings``: the install's ``AppSettings``)."""
    return settings.var_dir / "credit_documents"


def content_type_of(data: bytes) -> str:
    """The type the bytes are (``image/jpeg``, ``image/png``, ``application/pdf``), or refused (``file``)."""
    found = document_type(data)
    if found is None:
        raise CustomerError("file", _("Upload a JPEG or PNG image or a PDF document."))
    return found


def store(session, settings, customer, *, kind: str, filename: str, data: bytes | None, by: str) -> CustomerDocument:
    """Check and keep one document of the customer."""
    if kind not in KINDS:
        raise CustomerError("kind", _("Choose what the document is."))
    if not data:
        raise CustomerError("file", _("Choose a file to upload."))
    if len(data) > MAX_BYTES:
        raise CustomerError("file", _("The file is larger than 10 MB."))
    content_type = content_type_of(data)
    key = secrets.token_hex(20)
    document = CustomerDocument(
        tenant_id=customer.tenant_id,
        customer_id=customer.id,
        kind=kind,
        filename=Path(str(filename or "upload").replace("\\", "/")).name[:200] or "upload",
        content_type=content_type,
        size=len(data),
        storage_key=key,
        uploaded_by=by[:120],
    )
    session.add(document)
    session.flush()
    path = path_of(settings, document)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return document


def path_of(settings, document: CustomerDocument) -> Path:
    return documents_dir(settings) / str(document.tenant_id) / document.storage_key


def documents_of(session, customer) -> list[CustomerDocument]:
    """The customer's documents, oldest first."""
    return session.scalars(
        sa.select(CustomerDocument)
        .where(CustomerDocument.tenant_id == customer.tenant_id, CustomerDocument.customer_id == customer.id)
        .order_by(CustomerDocument.id)
    ).all()


def document_of(session, customer, document_id) -> CustomerDocument | None:
    """One of the customer's documents by id, or ``None``."""
    return next((d for d in documents_of(session, customer) if str(d.id) == str(document_id)), None)


def read_upload(upload) -> bytes | None:
    """The bytes of a form's file field (at most one byte past the limit); ``None`` when none was sent."""
    if upload is None or not getattr(upload, "file", None):
        return None
    return upload.file.read(MAX_BYTES + 1) or None
