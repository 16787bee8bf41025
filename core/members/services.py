"""Member accounts: sign-up by SMS code, sign-in, passwords, real-name verification, bank cards.

Every function takes the session and the tenant and raises
:class:`MemberError` (``field`` and a translation-string ``message``) on bad
input, having changed nothing.
"""

from __future__ import annotations

import datetime as dt
import hmac
import re
import secrets

import sqlalchemy as sa
from sqlalchemy.orm import object_session

from .. import sms_templates
from ..accounts.passwords import MIN_LENGTH, WeakPassword, hash_password, verify_password
from ..db import keyed_hash, utcnow
from ..domain import DomainError
from ..i18n import _
from ..mail import queue_mail
from ..notifications import notify
from ..sms import SmsError, normalize_phone
from ..tenancy.models import Tenant
from .identity import luhn_ok, resident_id_problem
from .models import BankCard, Member, Verification, VerificationCode

CODE_LIFETIME = dt.timedelta(minutes=10)
CODE_ATTEMPTS = 5
PURPOSES = ("register", "reset")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
ID_TYPES = ("cn_resident", "passport")
_REGIONS = {"CNY": "CN", "USD": "US", "TWD": "TW", "HKD": "HK", "MOP": "MO", "SGD": "SG"}


class MemberError(DomainError):
    """Input a member's account refuses; ``field`` names it and ``message`` is a translation string."""


def phone_region(tenant) -> str:
    return _REGIONS.get(tenant.currency, "CN")


def clean_phone(tenant, phone: str) -> str:
    try:
        return normalize_phone((phone or "").strip(), phone_region(tenant))
    except SmsError:
        raise MemberError("phone", _("Enter a valid mobile number.")) from None


def _code_hash(tenant_id: int, address: str, purpose: str, code: str) -> str:
    return keyed_hash("one-time code", f"{tenant_id}:{address}:{purpose}:{code}")


def _display_name(text) -> str:
    """The name a member chose: trimmed, refused (never cut) past 80 characters."""
    name = str(text or "").strip()
    if len(name) > 80:
        raise MemberError("display_name", _("Use at most ${n} characters.", mapping={"n": 80}))
    return name


def clean_email(email: str) -> str:
    email = (email or "").strip().lower()
    if not EMAIL.match(email) or len(email) > 254:
        raise MemberError("email", _("Enter a valid email address."))
    return email


def find_by_address(session, tenant, address: str) -> Member | None:
    column = Member.email if "@" in address else Member.phone
    return session.scalars(sa.select(Member).where(Member.tenant_id == tenant.id, column == address)).first()


def code_recipient(session, tenant, address: str, purpose: str, channel: str = "sms") -> tuple[str, bool]:
    """The normalized address to send a ``purpose`` code to, and whether to send one at all.

    ``channel`` is ``sms`` (a phone number) or ``email`` (where the tenant
    allows email sign-up). Signing up refuses a registered address; a reset
    for an unknown one sends nothing but says nothing either (no account
    enumeration).
    """
    if purpose not in PURPOSES:
        raise MemberError("purpose", _("Unknown purpose."))
    if channel == "email":
        if not tenant.email_sign_up:
            raise MemberError("email", _("This site does not take email sign-ups."))
        address, field = clean_email(address), "email"
    else:
        address, field = clean_phone(tenant, address), "phone"
    exists = find_by_address(session, tenant, address) is not None
    if purpose == "register" and exists:
        raise MemberError(
            field,
            _("This number is already registered. Sign in or reset your password.")
            if field == "phone"
            else _("This email address is already registered."),
        )
    return address, purpose == "register" or exists


def send_code(session, tenant, address: str, purpose: str, localizer, channel: str = "sms"):
    """Send a 6-digit code by SMS or email; earlier unused codes for the same purpose stop working."""
    address, send = code_recipient(session, tenant, address, purpose, channel)
    if not send:
        return None
    now = utcnow()
    session.execute(
        sa.update(VerificationCode)
        .where(
            VerificationCode.tenant_id == tenant.id,
            VerificationCode.address == address,
            VerificationCode.purpose == purpose,
            VerificationCode.used_at.is_(None),
        )
        .values(used_at=now)
    )
    code = f"{secrets.randbelow(10**6):06d}"
    record = VerificationCode(
        tenant_id=tenant.id,
        address=address,
        purpose=purpose,
        code_hash=_code_hash(tenant.id, address, purpose, code),
        created_at=now,
        expires_at=now + CODE_LIFETIME,
    )
    session.add(record)

    # The code goes to the member alone: the message log keeps it masked (see core.sms_templates).
    if channel == "email":
        site = tenant.brand("site_title", tenant.name)
        subject = localizer.translate(_("${site} verification code", mapping={"site": site}))
        body, sealed = sms_templates.render_masked(session, tenant, "verification_code", localizer, {"code": code})
        queue_mail(session, tenant, address, subject, body, f"code.{purpose}", sealed_body=sealed)
    else:
        sms_templates.queue(session, tenant, address, "verification_code", localizer, {"code": code}, f"code.{purpose}")
    return record


def check_code(session, tenant, address: str, purpose: str, code: str) -> None:
    """Consume a valid code or raise (wrong, expired, used, too many attempts)."""
    record = session.scalars(
        sa.select(VerificationCode)
        .where(
            VerificationCode.tenant_id == tenant.id,
            VerificationCode.address == address,
            VerificationCode.purpose == purpose,
            VerificationCode.used_at.is_(None),
        )
        .order_by(VerificationCode.id.desc())
    ).first()
    now = utcnow()
    if record is None or record.expires_at <= now:
        raise MemberError("code", _("The code has expired. Ask for a new one."))
    if record.attempts >= CODE_ATTEMPTS:
        raise MemberError("code", _("Too many wrong codes. Ask for a new one."))
    if not hmac.compare_digest(record.code_hash, _code_hash(tenant.id, address, purpose, (code or "").strip())):
        # A refused request rolls this back; the throttle (code.check) is what limits guessing.
        record.attempts += 1
        raise MemberError("code", _("The code is not correct."))
    record.used_at = now


def _password(password: str, confirm: str | None = None) -> str:
    try:
        hashed = hash_password(password)
    except WeakPassword:
        raise MemberError("password", _("Use at least ${n} characters.", mapping={"n": MIN_LENGTH})) from None
    if confirm is not None and confirm != password:
        raise MemberError("confirm", _("The passwords do not match."))
    return hashed


def find_member(session, tenant, phone: str) -> Member | None:
    """The member with this E.164 phone number."""
    return find_by_address(session, tenant, phone)


def register(
    session,
    tenant,
    *,
    code: str,
    password: str,
    phone: str = "",
    email: str = "",
    confirm: str | None = None,
    display_name: str = "",
    locale: str = "",
    channel: str = "sms",
) -> Member:
    """A new member signing up with a code sent to their phone (or, ``channel="email"``, their email)."""
    if channel == "email":
        if not tenant.email_sign_up:
            raise MemberError("email", _("This site does not take email sign-ups."))
        address = email = clean_email(email)
        phone = None
    else:
        address = phone = clean_phone(tenant, phone)
        email = (email or "").strip().lower() or None
        if email is not None:
            email = clean_email(email)
    if find_by_address(session, tenant, phone or email) is not None:
        raise MemberError(
            "phone" if phone else "email",
            _("This number is already registered. Sign in or reset your password.")
            if phone
            else _("This email address is already registered."),
        )
    if email and phone and find_by_address(session, tenant, email) is not None:
        raise MemberError("email", _("This email address is already registered."))
    hashed = _password(password, confirm)
    check_code(session, tenant, address, "register", code)
    member = Member(
        tenant_id=tenant.id,
        phone=phone,
        email=email,
        password_hash=hashed,
        display_name=_display_name(display_name) or masked_address(phone, email),
        locale=locale,
    )
    session.add(member)
    session.flush()
    return member


def masked_address(phone: str | None, email: str | None) -> str:
    """How a member is named until they choose a name: 138****8000, or a***@example.com."""
    if phone:
        national = phone[3:] if phone.startswith("+86") else phone.lstrip("+")
        return national[:3] + "****" + national[-4:] if len(national) > 7 else national
    local, _at, domain = (email or "").partition("@")
    return f"{local[:1]}***@{domain}" if domain else (email or "")


def create_member(
    session, tenant, *, phone: str, password: str, legal_name: str = "", id_number: str = "", verified: bool = False
) -> Member:
    """A member made by an operator (CLI): no code; optionally already verified."""
    phone = clean_phone(tenant, phone)
    if find_member(session, tenant, phone) is not None:
        raise MemberError("phone", _("This number is already registered. Sign in or reset your password."))
    member = Member(
        tenant_id=tenant.id, phone=phone, password_hash=_password(password), display_name=masked_address(phone, None)
    )
    session.add(member)
    session.flush()
    if legal_name or id_number:
        submit_verification(
            session, tenant, member, legal_name=legal_name, id_type=tenant.id_types[0], id_number=id_number
        )
        if verified:
            review_verification(member, approve=True, tell=False)
    elif verified:
        raise MemberError("verified", _("A verified member needs a legal name and an ID number."))
    return member


_DUMMY = None


def authenticate(session, tenant, phone: str, password: str) -> Member | None:
    """The active member with this phone (or email) and password, else ``None`` (constant work)."""
    global _DUMMY
    member = None
    login = (phone or "").strip()
    if "@" in login:
        member = session.scalars(
            sa.select(Member).where(Member.tenant_id == tenant.id, Member.email == login.lower())
        ).first()
    else:
        try:
            member = find_member(session, tenant, clean_phone(tenant, login))
        except MemberError:
            member = None
    if member is None or not member.active:
        if _DUMMY is None:
            _DUMMY = hash_password("not-a-real-password-0")
        verify_password(_DUMMY, password or "")
        return None
    return member if verify_password(member.password_hash, password or "") else None


def reset_password(session, tenant, *, phone: str, code: str, password: str, confirm: str | None = None) -> Member:
    """A new password with a code sent to the member's phone (or email: ``phone`` may be an address)."""
    address = clean_email(phone) if "@" in (phone or "") else clean_phone(tenant, phone)
    hashed = _password(password, confirm)
    member = find_by_address(session, tenant, address)
    check_code(session, tenant, address, "reset", code)
    if member is None:
        raise MemberError("code", _("The code is not correct."))
    member.password_hash = hashed
    return member


def change_password(member: Member, current: str, password: str, confirm: str | None = None) -> None:
    if not verify_password(member.password_hash, current or ""):
        raise MemberError("current", _("The current password is not correct."))
    member.password_hash = _password(password, confirm)


def tell_password_changed(session, tenant, member: Member, localizer) -> None:
    """Tell the member, by SMS and by email where they have them, that their password was changed.

    Whoever changed it, the member hears of it on their own phone and mailbox:
    a taken-over account is noticed. A number past its hourly SMS limit still
    gets the email (the limit is there against floods; it refuses, not fails).
    """

    if member.phone:
        try:
            sms_templates.queue(session, tenant, member.phone, "password_changed", localizer, {}, "notice.password")
        except SmsError:
            pass
    if member.email:
        site = tenant.brand("site_title", tenant.name)
        subject = localizer.translate(_("${site}: your password was changed", mapping={"site": site}))
        body = sms_templates.render(session, tenant, "password_changed", localizer, {})
        queue_mail(session, tenant, member.email, subject, body, "notice.password")


def update_profile(session, tenant, member: Member, *, display_name: str, email: str) -> None:
    display_name = (display_name or "").strip()
    if not display_name or len(display_name) > 80:
        raise MemberError("display_name", _("Enter a name of up to 80 characters."))
    email = (email or "").strip().lower() or None
    if email is not None:
        if not EMAIL.match(email):
            raise MemberError("email", _("Enter a valid email address."))
        taken = session.scalars(
            sa.select(Member).where(Member.tenant_id == tenant.id, Member.email == email, Member.id != member.id)
        ).first()
        if taken:
            raise MemberError("email", _("This email address is already registered."))
    member.display_name, member.email = display_name, email


# -- real-name verification (實名認證) ----------------------------------------


def submit_verification(session, tenant, member: Member, *, legal_name: str, id_type: str, id_number: str) -> None:
    """Record the member's legal name and ID for staff review (pending)."""
    if member.verification in (Verification.pending.value, Verification.verified.value):
        raise MemberError("legal_name", _("Your verification is already submitted."))
    legal_name = " ".join((legal_name or "").split())
    if not 2 <= len(legal_name) <= 80:
        raise MemberError("legal_name", _("Enter your full legal name."))
    if id_type not in ID_TYPES or id_type not in tenant.id_types:
        raise MemberError("id_type", _("Choose an ID type."))
    id_number = (id_number or "").strip().upper()
    if id_type == "cn_resident":
        problem = resident_id_problem(id_number, tenant.business_date)
        if problem == "birth_date":
            raise MemberError("id_number", _("The birth date in this ID number is not valid."))
        if problem:
            raise MemberError("id_number", _("This is not a valid resident ID number."))
    elif not re.fullmatch(r"[A-Z0-9]{5,20}", id_number):
        raise MemberError("id_number", _("Enter the passport number as printed."))
    taken = session.scalars(
        sa.select(Member).where(
            Member.tenant_id == tenant.id,
            Member.id_number == id_number,
            Member.id != member.id,
            Member.verification.in_([Verification.pending.value, Verification.verified.value]),
        )
    ).first()
    if taken:
        raise MemberError("id_number", _("This ID number is already used by another account."))
    member.legal_name, member.id_type, member.id_number = legal_name, id_type, id_number
    member.verification, member.verification_note = Verification.pending.value, ""


def review_verification(member: Member, *, approve: bool, reason: str = "", tell: bool = True) -> None:
    """Staff decision on a pending verification; a rejection needs a reason the member sees.

    The member is told (site message, and SMS or email as they chose) unless ``tell`` is false (an
    operator creating an already verified member).
    """
    if member.verification != Verification.pending.value:
        raise MemberError("decision", _("There is no pending verification to review."))
    if approve:
        member.verification, member.verification_note, member.verified_at = (Verification.verified.value, "", utcnow())
    else:
        reason = (reason or "").strip()
        if not reason:
            raise MemberError("reason", _("Give the member a reason."))
        if len(reason) > 300:
            raise MemberError("reason", _("Use at most ${n} characters.", mapping={"n": 300}))
        member.verification, member.verification_note = Verification.rejected.value, reason
    if tell:
        _tell_verification(member, approve, reason)


def _tell_verification(member: Member, approved: bool, reason: str) -> None:

    session = object_session(member)
    tenant = session.get(Tenant, member.tenant_id) if session is not None else None
    if tenant is not None:
        notify(
            session,
            tenant,
            member.id,
            "verification_approved" if approved else "verification_refused",
            {} if approved else {"reason": reason},
            key=str(member.id),
        )


def add_card(session, tenant, member: Member, *, bank_name: str, holder_name: str, number: str) -> BankCard:
    """Bind a bank card: the member must be verified and the holder must be them."""
    if not member.is_verified:
        raise MemberError("number", _("Complete real-name verification before adding a card."))
    number = (number or "").replace(" ", "").replace("-", "")
    if not luhn_ok(number):
        raise MemberError("number", _("This card number is not valid."))
    bank_name = (bank_name or "").strip()
    if not bank_name or len(bank_name) > 80:
        raise MemberError("bank_name", _("Enter the bank's name."))
    if " ".join((holder_name or "").split()) != member.legal_name:
        raise MemberError(
            "holder_name", _("The card holder must be you, as verified: ${name}.", mapping={"name": member.legal_name})
        )
    if any(card.number == number for card in member.cards):
        raise MemberError("number", _("This card is already bound."))
    card = BankCard(
        tenant_id=tenant.id, member_id=member.id, bank_name=bank_name, holder_name=member.legal_name, number=number
    )
    session.add(card)
    session.flush()
    return card
