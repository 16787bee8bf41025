"""Back office: members — list, detail, verification review, violations, points, messages, documents."""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from pyramid.httpexceptions import HTTPNotFound, HTTPSeeOther
from pyramid.response import FileResponse
from pyramid.view import view_config

from .. import audit
from ..credit.contracts.fund import house_lender_ids
from ..forms import on_refusal
from ..help import inbox
from ..i18n import _
from ..ledger import Wallet
from ..loans import GRADES, set_credit_line
from ..members import conduct, documents
from ..members.models import Member, MemberDocument, Verification
from ..members.services import MemberError, review_verification
from ..money import whole_number
from .views import newest_first


@view_config(route_name="admin.members", renderer="admin/members.pt", permission="member.view")
def members(request):
    query = sa.select(Member).where(Member.id.not_in(house_lender_ids()))  # the lending fund is not a person
    text = request.params.get("q", "").strip()
    status = request.params.get("verification", "")
    if text:
        like = f"%{text}%"
        query = query.where(
            sa.or_(
                Member.phone.like(like),
                Member.display_name.ilike(like),
                Member.legal_name.ilike(like),
                Member.email.ilike(like),
            )
        )
    if status in {v.value for v in Verification}:
        query = query.where(Member.verification == status)
    listing = newest_first(request, query, Member.id)
    return {
        **listing,
        "members": listing["rows"],
        "q": text,
        "status": status,
        "statuses": [v.value for v in Verification],
    }


def member_or_404(request) -> Member:
    """The tenant's member from the URL; another tenant's id is simply not found."""
    member = request.dbsession.scalars(sa.select(Member).where(Member.id == int(request.matchdict["id"]))).first()
    if member is None:
        raise HTTPNotFound()
    return member


def detail(request, member: Member, error=None, errors=None) -> dict:
    session = request.dbsession
    may = lambda permission: bool(request.has_permission(permission))  # noqa: E731
    return {
        "member": member,
        "error": error,
        "errors": errors or {},
        "funds": Wallet(request.ledger, member.id, request.tenant.currency).funds(),
        "violations": conduct.violations(session, member),
        "vip": conduct.vip_level(request.tenant, member.vip_points),
        "points": conduct.points_history(session, member, limit=20),
        "threads": inbox.member_threads(session, member, limit=20),
        "documents": documents.documents(session, member) if may("member.documents") else [],
        "can_verify": may("member.verify"),
        "can_violate": may("member.violations"),
        "can_message": may("member.message"),
        "can_reply": may("support.reply"),
        "can_documents": may("member.documents"),
        "can_points": may("member.points"),
        "can_credit": may("loan.credit_line"),
        "grades": GRADES,
    }


def _refusal_shown(request, member, fields: dict[str, str] | None = None) -> None:
    """A refusal shows the member's page with the message on top and by its field (``fields`` renames the
    service's field to the form's)."""

    def page(error):
        field = (fields or {}).get(error.field, error.field)
        return detail(request, member, error=error.message, errors={field: error.message})

    on_refusal(request, page)


@view_config(route_name="admin.member", renderer="admin/member.pt", permission="member.view")
def member_detail(request):
    return detail(request, member_or_404(request))


@view_config(
    route_name="admin.member_review", request_method="POST", renderer="admin/member.pt", permission="member.verify"
)
def member_review(request):
    member = member_or_404(request)
    decision = request.POST.get("decision")
    before = {"verification": member.verification}
    _refusal_shown(request, member)
    if decision not in ("approve", "reject"):
        raise MemberError("decision", _("Choose approve or reject."))
    review_verification(member, approve=decision == "approve", reason=request.POST.get("reason", ""))
    audit.record(
        request,
        f"member.verification.{decision}",
        "member",
        member.id,
        before,
        {"verification": member.verification, "note": member.verification_note},
    )
    return HTTPSeeOther(request.route_path("admin.member", id=member.id))


@view_config(
    route_name="admin.member_violations",
    request_method="POST",
    renderer="admin/member.pt",
    permission="member.violations",
)
def member_violation(request):
    member = member_or_404(request)
    before = {"login": member.login_frozen, "bidding": member.bidding_frozen, "withdrawal": member.withdrawal_frozen}
    _refusal_shown(request, member)
    if request.POST.get("lift"):
        violation = conduct.lift_violation(
            request.dbsession, member, _violation_id(request.POST["lift"]), by=audit.actor_of(request)
        )
        action = "member.violation.lift"
    else:
        violation = conduct.record_violation(
            request.dbsession,
            member,
            reason=request.POST.get("reason", ""),
            freeze_login=request.POST.get("freeze_login") == "on",
            freeze_bidding=request.POST.get("freeze_bidding") == "on",
            freeze_withdrawal=request.POST.get("freeze_withdrawal") == "on",
            by=audit.actor_of(request),
        )
        action = "member.violation.record"
    audit.record(
        request,
        action,
        "member",
        member.id,
        before,
        {
            "violation": violation.id,
            "reason": violation.reason,
            "login": member.login_frozen,
            "bidding": member.bidding_frozen,
            "withdrawal": member.withdrawal_frozen,
        },
    )
    return HTTPSeeOther(request.route_path("admin.member", id=member.id))


def _violation_id(text: str) -> int:
    """The violation id a lift form sends, or a refusal on ``lift``."""
    try:
        return int(text)
    except ValueError:
        raise MemberError("lift", _("There is no such active violation.")) from None


@view_config(
    route_name="admin.member_points", request_method="POST", renderer="admin/member.pt", permission="member.points"
)
def member_points(request):
    """A manual points adjustment (a promotion, a correction), with its reason."""
    member = member_or_404(request)
    _refusal_shown(request, member)
    typed = str(request.POST.get("points", "")).strip()
    points = whole_number(typed.removeprefix("-"))
    if points is None or points > 10**9:
        raise MemberError("points", _("Enter a whole number of points (negative to take away)."))
    points = -points if typed.startswith("-") else points
    reason = request.POST.get("reason", "").strip()
    if not reason:
        raise MemberError("reason", _("Give the member a reason."))
    before = member.vip_points
    conduct.award_points(request.dbsession, member, points, reason=reason, ref=f"manual:{uuid.uuid4().hex}")
    audit.record(
        request,
        "member.points",
        "member",
        member.id,
        {"points": before},
        {"points": member.vip_points, "reason": reason},
    )
    return HTTPSeeOther(request.route_path("admin.member", id=member.id))


@view_config(
    route_name="admin.member_credit_line",
    request_method="POST",
    renderer="admin/member.pt",
    permission="loan.credit_line",
)
def member_credit_line(request):
    member = member_or_404(request)
    before = {"credit_line": member.credit_line, "credit_grade": member.credit_grade}
    _refusal_shown(request, member, fields={"amount": "credit_line", "grade": "credit_grade"})
    set_credit_line(
        member, request.POST.get("credit_line", ""), request.tenant.currency, request.POST.get("credit_grade") or None
    )
    audit.record(
        request,
        "member.credit_line",
        "member",
        member.id,
        before,
        {"credit_line": member.credit_line, "credit_grade": member.credit_grade},
    )
    return HTTPSeeOther(request.route_path("admin.member", id=member.id))


@view_config(
    route_name="admin.member_messages", request_method="POST", renderer="admin/member.pt", permission="member.message"
)
def member_message(request):
    """A message staff start from the member's page: a thread in the messages inbox, in the member's 站內信."""
    member = member_or_404(request)
    _refusal_shown(request, member)
    thread = inbox.start(
        request.dbsession,
        request.tenant,
        member,
        subject=request.POST.get("subject", ""),
        body=request.POST.get("body", ""),
        sender=audit.actor_of(request),
    )
    audit.record(request, "member.message", "member", member.id, None, {"thread": thread.id, "subject": thread.subject})
    return HTTPSeeOther(request.route_path("admin.member", id=member.id))


@view_config(route_name="admin.member_document", permission="member.documents")
def member_document(request):
    """An identity document, only to staff allowed to see them; every opening is audited."""
    member = member_or_404(request)
    document = request.dbsession.scalars(
        sa.select(MemberDocument).where(
            MemberDocument.id == int(request.matchdict["doc"]), MemberDocument.member_id == member.id
        )
    ).first()
    if document is None:
        raise HTTPNotFound()
    path = documents.path_of(request.registry.settings_obj, document)
    if not path.is_file():
        raise HTTPNotFound()
    audit.record(request, "member.document.open", "member_document", document.id)
    response = FileResponse(str(path), request=request, content_type=document.content_type)
    response.content_disposition = f'inline; filename="document-{document.id}"'
    response.headers["Cache-Control"] = "no-store"
    return response
