"""Members: the borrowers and lenders of one tenant, their real-name data and bank cards."""

from __future__ import annotations

import datetime as dt
import enum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db import Base, TenantOwned, utcnow
from ..i18n import _


class Verification(str, enum.Enum):
    unverified = "unverified"
    pending = "pending"
    verified = "verified"
    rejected = "rejected"


class Member(TenantOwned, Base):
    """One person at one tenant; the same phone at another tenant is another member."""

    __tablename__ = "members"
    __table_args__ = (
        sa.UniqueConstraint("tenant_id", "phone"),
        sa.UniqueConstraint("tenant_id", "email"),
        sa.UniqueConstraint("tenant_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    phone: Mapped[str | None] = mapped_column(sa.String(20))
    email: Mapped[str | None] = mapped_column(sa.String(254))
    password_hash: Mapped[str] = mapped_column(sa.String(200))
    display_name: Mapped[str] = mapped_column(sa.String(80), default="")
    locale: Mapped[str] = mapped_column(sa.String(16), default="")
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    # Real-name verification (實名認證)
    legal_name: Mapped[str] = mapped_column(sa.String(80), default="")
    id_type: Mapped[str] = mapped_column(sa.String(20), default="")
    id_number: Mapped[str] = mapped_column(sa.String(40), default="")
    verification: Mapped[str] = mapped_column(sa.String(12), default=Verification.unverified.value)
    verification_note: Mapped[str] = mapped_column(sa.String(300), default="")
    verified_at: Mapped[dt.datetime | None]
    vip_points: Mapped[int] = mapped_column(default=0)
    credit_line: Mapped[int] = mapped_column(sa.BigInteger, default=0)  # minor units, set by staff
    credit_grade: Mapped[str | None] = mapped_column(sa.String(2))  # AA … HR, set by staff with the line
    # Freezes set by violations (違規)
    login_frozen: Mapped[bool] = mapped_column(default=False)
    bidding_frozen: Mapped[bool] = mapped_column(default=False)
    withdrawal_frozen: Mapped[bool] = mapped_column(default=False)
    # Which notification groups reach the member by SMS and by email ({"sms": {"money": true, …}, "email": …});
    # ``None`` or a missing group means the default (core.notifications.preferences).
    notification_preferences: Mapped[dict | None] = mapped_column(sa.JSON)

    cards: Mapped[list["BankCard"]] = relationship(back_populates="member", order_by="BankCard.id")

    @property
    def is_verified(self) -> bool:
        return self.verification == Verification.verified.value

    @property
    def masked_phone(self) -> str:
        phone = self.phone or ""
        return phone[:-8] + "****" + phone[-4:] if len(phone) > 8 else phone

    @property
    def contact(self) -> str:
        """How the member signs in: the phone number, else the email address."""
        return self.phone or self.email or ""

    @property
    def masked_name(self) -> str:
        """王小明 → 王**; Alice Smith → A**** S****: enough to recognise, not to identify."""
        name = (self.legal_name or "").strip()
        if not name:
            return ""
        if " " in name:
            return " ".join(part[0] + "*" * (len(part) - 1) for part in name.split())
        return name[0] + "*" * max(len(name) - 1, 1)

    @property
    def masked_id_number(self) -> str:
        n = self.id_number
        return n[:3] + "*" * (len(n) - 7) + n[-4:] if len(n) > 7 else n


class BankCard(TenantOwned, Base):
    """A bank card bound for withdrawals; the holder must be the verified member."""

    __tablename__ = "bank_cards"
    __table_args__ = (sa.UniqueConstraint("tenant_id", "member_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(sa.ForeignKey("members.id", ondelete="CASCADE"))
    bank_name: Mapped[str] = mapped_column(sa.String(80))
    holder_name: Mapped[str] = mapped_column(sa.String(80))
    number: Mapped[str] = mapped_column(sa.String(19))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    member: Mapped[Member] = relationship(back_populates="cards")

    @property
    def masked_number(self) -> str:
        return "**** " + self.number[-4:]


class VerificationCode(TenantOwned, Base):
    """A one-time code sent by SMS or email (sign-up, password reset): only its hash is kept.

    ``address`` is the E.164 phone number or the email address it was sent to.
    """

    __tablename__ = "verification_codes"
    __table_args__ = (sa.Index("ix_verification_codes_address", "tenant_id", "address", "purpose"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    address: Mapped[str] = mapped_column(sa.String(254))
    purpose: Mapped[str] = mapped_column(sa.String(20))
    code_hash: Mapped[str] = mapped_column(sa.String(64))
    attempts: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[dt.datetime]
    used_at: Mapped[dt.datetime | None]


VERIFICATION_LABELS = {
    Verification.unverified.value: _("Not verified"),
    Verification.pending.value: _("Waiting for review"),
    Verification.verified.value: _("Verified"),
    Verification.rejected.value: _("Rejected"),
}


class Violation(TenantOwned, Base):
    """A violation (違規) staff recorded; while not lifted it freezes what it names."""

    __tablename__ = "member_violations"

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(sa.ForeignKey("members.id", ondelete="CASCADE"), index=True)
    reason: Mapped[str] = mapped_column(sa.String(300))
    freeze_login: Mapped[bool] = mapped_column(default=False)
    freeze_bidding: Mapped[bool] = mapped_column(default=False)
    freeze_withdrawal: Mapped[bool] = mapped_column(default=False)
    freeze_posting: Mapped[bool] = mapped_column(default=False)  # a posting ban (community)
    ends_at: Mapped[dt.datetime | None]  # when a posting ban ends; None: until lifted
    recorded_by: Mapped[str] = mapped_column(sa.String(120))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    lifted_at: Mapped[dt.datetime | None]
    lifted_by: Mapped[str] = mapped_column(sa.String(120), default="")


class PointsEntry(TenantOwned, Base):
    """One change of a member's VIP points (VIP積分); ``ref`` makes an award happen once."""

    __tablename__ = "member_points"
    __table_args__ = (sa.UniqueConstraint("tenant_id", "member_id", "ref"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(sa.ForeignKey("members.id", ondelete="CASCADE"), index=True)
    points: Mapped[int]
    reason: Mapped[str] = mapped_column(sa.String(120))
    ref: Mapped[str] = mapped_column(sa.String(80))
    balance_after: Mapped[int]
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Message(TenantOwned, Base):
    """A message (站內信): a system notice to a member, or one message of a help-centre thread.

    A thread (``core.help.models.Thread``, ``thread_id``) is a conversation
    between staff and whoever asked — a member, or a visitor (then
    ``member_id`` is empty). ``direction`` is seen from staff: ``to_staff``
    was written by the asker, ``to_member`` by staff or the system.
    """

    __tablename__ = "member_messages"
    __table_args__ = (
        sa.Index("ix_member_messages_member", "tenant_id", "member_id", "id"),
        sa.Index("ix_member_messages_thread", "tenant_id", "thread_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int | None] = mapped_column(sa.ForeignKey("members.id", ondelete="CASCADE"))
    thread_id: Mapped[int | None] = mapped_column(sa.ForeignKey("help_threads.id", ondelete="CASCADE"))
    direction: Mapped[str] = mapped_column(sa.String(12))  # to_member | to_staff
    sender: Mapped[str] = mapped_column(sa.String(120))  # "system", "staff:<id>:<login>", "member", "visitor"
    subject: Mapped[str] = mapped_column(sa.String(200))
    body: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    read_at: Mapped[dt.datetime | None]


class MemberDocument(TenantOwned, Base):
    """An identity document a member uploaded; the file lives outside the web root."""

    __tablename__ = "member_documents"

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(sa.ForeignKey("members.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(sa.String(20))  # id_front | id_back | other
    filename: Mapped[str] = mapped_column(sa.String(200))
    content_type: Mapped[str] = mapped_column(sa.String(40))
    size: Mapped[int]
    storage_key: Mapped[str] = mapped_column(sa.String(80), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
