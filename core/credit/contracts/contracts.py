"""Drawing up and signing master contracts (貸款主合同).

An approved application's contract is drawn up from the tenant's template
(:mod:`.document`), numbered per tenant (``HT`` + year and month + six digits,
one number for all of an application's versions), printed to PDF and kept
outside the web root under the install's var directory with its SHA-256.
Drawing it up again before it is signed makes a new version (the old one is
superseded); once signed it is immutable. Signing records who marked it
signed and keeps the signed scan (a PDF or image, checked by its bytes);
the application becomes contracted. Every change takes the application's row
lock first, so two staff cannot sign or redraw one application at once.
"""

from __future__ import annotations

import hashlib
import secrets
from pathlib import Path

import sqlalchemy as sa

from ...content.services import public_page
from ...db import utcnow
from ...i18n import _
from ...loans import LoanError, preview_schedule
from ...money import Money, whole_number
from ...numbering import next_number
from ...uploads import document_type
from ..applications.models import APPLICATIONS, ApplicationStatus, CreditApplication, CreditProduct
from ..customers.models import Customer
from . import document
from .errors import ContractError
from .models import CONTRACTS, Contract, ContractStatus

MAX_SCAN_BYTES = 10 * 1024 * 1024
MAX_ID = 2**31 - 1


def storage_dir(settings, tenant_id: int) -> Path:
    """Where a tenant's contract PDFs and signed scans are kept, outside the web root."""
    return settings.var_dir / "credit_contracts" / str(tenant_id)


def _keep(settings, tenant_id: int, data: bytes) -> str:
    key = secrets.token_hex(20)
    folder = storage_dir(settings, tenant_id)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / key).write_bytes(data)
    return key


def read(settings, tenant_id: int, key: str) -> bytes | None:
    """The bytes kept under ``key`` (``None`` if the file is gone from the var directory)."""
    path = storage_dir(settings, tenant_id) / key
    return path.read_bytes() if path.is_file() else None


def locked_application(session, application_id) -> CreditApplication | None:
    """The application with this id (the session's tenant's only), its row locked; ``None`` for anything else."""
    number = whole_number(application_id)
    if number is None or not 1 <= number <= MAX_ID:
        return None
    return session.scalars(sa.select(CreditApplication).where(CreditApplication.id == number).with_for_update()).first()


def find_application(session, application_id) -> CreditApplication | None:
    """The application with this id (the session's tenant's only), or ``None``."""
    number = whole_number(application_id)
    if number is None or not 1 <= number <= MAX_ID:
        return None
    return session.scalars(sa.select(CreditApplication).where(CreditApplication.id == number)).first()


def versions(session, application_id: int) -> list[Contract]:
    """Every version of an application's contract, newest first."""
    return session.scalars(
        sa.select(Contract).where(Contract.application_id == application_id).order_by(Contract.version.desc())
    ).all()


def current(session, application_id: int) -> Contract | None:
    """The application's contract in force: its newest version (signed, or drawn up and waiting)."""
    found = versions(session, application_id)
    return found[0] if found else None


def _preview(tenant, hooks, application: CreditApplication):
    try:
        return preview_schedule(
            tenant,
            hooks,
            {
                "amount": str(Money(application.amount, application.currency)),
                "annual_rate_percent": str(application.annual_rate_percent),
                "term_months": str(application.term_months),
                "repayment_method": application.repayment_method,
            },
        )
    except LoanError as error:
        raise ContractError(error.field, error.message) from None


def draw_up(session, settings, tenant, hooks, application: CreditApplication, *, locale: str, by: str, translate):
    """Draw up (or, before signing, draw up again) ``application``'s contract in ``locale``; the new version.

    ``application`` must be locked (:func:`locked_application`). ``translate`` turns a translation string into
    text of ``locale``.
    """
    latest = current(session, application.id)
    if latest is not None and latest.status == ContractStatus.SIGNED:
        raise ContractError("contract", _("The contract is signed: it cannot be changed."))
    if application.status != ApplicationStatus.APPROVED:
        raise ContractError("application", _("A contract is drawn up for an approved application only."))
    if locale not in tenant.locales:
        raise ContractError("locale", _("Choose one of the site's languages."))
    if latest is not None:
        CONTRACTS.move(latest, ContractStatus.SUPERSEDED)
        number, version = latest.number, latest.version + 1
    else:
        number, version = f"HT{tenant.business_date:%y%m}{next_number(session, tenant.id, 'contract'):06d}", 1
    customer = session.get(Customer, application.customer_id)
    product = session.get(CreditProduct, application.product_id)
    page = public_page(session, document.SLUG, locale, tenant.default_locale)
    title, template = (page.title, page.body) if page is not None else document.built_in(locale, tenant.default_locale)
    preview = _preview(tenant, hooks, application)
    body = document.filled(
        template,
        document.values(
            session,
            tenant,
            hooks,
            application,
            customer,
            product,
            preview,
            number=number,
            locale=locale,
            translate=translate,
        ),
    )
    pdf = document.pdf_of(document.html_page(title, body, number=number, version=version, locale=locale))
    contract = Contract(
        tenant_id=tenant.id,
        application_id=application.id,
        number=number,
        version=version,
        locale=locale,
        template_version=page.version if page is not None else None,
        title=title[:120],
        body=body,
        pdf_key=_keep(settings, tenant.id, pdf),
        pdf_sha256=hashlib.sha256(pdf).hexdigest(),
        pdf_size=len(pdf),
        drawn_by=by,
    )
    session.add(contract)
    session.flush()
    return contract


def sign(session, settings, tenant, application: CreditApplication, *, filename: str, content_type: str, stream, by):
    """Record the signing of ``application``'s contract with its signed scan; the application is contracted.

    ``application`` must be locked (:func:`locked_application`).
    """
    contract = current(session, application.id)
    if contract is None:
        raise ContractError("contract", _("Draw up the contract first."))
    if contract.status == ContractStatus.SIGNED:
        raise ContractError("contract", _("The contract is signed: it cannot be changed."))
    if application.status != ApplicationStatus.APPROVED:
        raise ContractError("application", _("A contract is drawn up for an approved application only."))
    data = stream.read(MAX_SCAN_BYTES + 1) if stream is not None else b""
    if not data:
        raise ContractError("scan", _("Upload the signed contract."))
    if len(data) > MAX_SCAN_BYTES:
        raise ContractError("scan", _("The file is larger than 10 MB."))
    kind = document_type(data)  # what the bytes are, not what the browser said
    if kind is None:
        raise ContractError("scan", _("Upload a JPEG, PNG or PDF file."))
    contract.scan_key = _keep(settings, tenant.id, data)
    contract.scan_type, contract.scan_name = kind, Path(filename or "scan").name[:200]
    contract.scan_size, contract.scan_sha256 = len(data), hashlib.sha256(data).hexdigest()
    contract.signed_by, contract.signed_at, contract.signed_on = by, utcnow(), tenant.business_date
    CONTRACTS.move(contract, ContractStatus.SIGNED)
    APPLICATIONS.move(application, ApplicationStatus.CONTRACTED)
    return contract


def listing(session, *, status: str = "", limit: int = 100) -> list[tuple[Contract, CreditApplication, Customer]]:
    """The newest contracts in force (superseded versions left out), optionally of one status."""
    query = (
        sa.select(Contract, CreditApplication, Customer)
        .join(CreditApplication, CreditApplication.id == Contract.application_id)
        .join(Customer, Customer.id == CreditApplication.customer_id)
        .where(Contract.status != ContractStatus.SUPERSEDED)
        .order_by(Contract.id.desc())
        .limit(limit)
    )
    if status in (ContractStatus.DRAFT, ContractStatus.SIGNED):
        query = query.where(Contract.status == status)
    return session.execute(query).all()
