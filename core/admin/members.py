"""Back office: members — list, detail, verification review, violations, points, messages, documents."""
from __future__ import annotations

import uuid

import sqlalchemy as sa
from pyramid.httpexceptions import HTTPNotFound, HTTPSeeOther
from pyramid.response import FileResponse
from pyramid.view import view_config

from .. import audit
from ..i18n import _
from ..ledger import Wallet
from ..loans import GRADES, LoanError, set_credit_line
from ..members import conduct, documents
from ..members.models import Member, MemberDocument, Verification
from ..money import whole_number
from ..members.services import MemberError, review_verification
from .views import newest_first


@view_config(route_name="admin.members", renderer="admin/members.pt", permission="member.view")
def members(request):
    query = sa.select(Member)
    text = request.params.get("q", "").strip()
    status = request.params.get("verification", "")
    if text:
        like = f"%{text}%"
        query = query.where(sa.or_(Member.phone.like(like), Member.display_name.ilike(like),
                                   Member.legal_name.ilike(like), Member.email.ilike(like)))
    if status in {v.value for v in Verification}:
        query = query.where(Member.verification == status)
    listing = newest_first(request, query, Member.id)
    return {**listing, "members": listing["rows"], "q": text, "status": status,
            "statuses": [v.value for v in Verification]}


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
        "member": member, "error": error, "errors": errors or {},
        "funds": Wallet(request.ledger, member.id, request.tenant.currency).funds(),
        "violations": conduct.violations(session, member),
        "vip": conduct.vip_level(request.tenant, member.vip_points),
        "points": conduct.points_history(session, member, limit=20),
        "messages": conduct.conversation(session, member, limit=20),
        "documents": documents.documents(session, member) if may("member.documents") else [],
        "can_verify": may("member.verify"), "can_violate": may("member.violations"),
        "can_message": may("member.message"), "can_documents": may("member.documents"),
        "can_points": may("member.points"), "can_credit": may("loan.credit_line"), "grades": GRADES,
    }


def _refused(request, member, error: MemberError):
    request.response.status = 400
    return detail(request, member, error=error.message, errors={error.field: error.message})


@view_config(route_name="admin.member", renderer="admin/member.pt", permission="member.view")
def member_detail(request):
    return detail(request, member_or_404(request))


@view_config(route_name="admin.member_review", request_method="POST", renderer="admin/member.pt",
             permission="member.verify")
def member_review(request):
    member = member_or_404(request)
    decision = request.POST.get("decision")
    before = {"verification": member.verification}
    try:
        if decision not in ("approve", "reject"):
            raise MemberError("decision", _("Choose approve or reject."))
        review_verification(member, approve=decision == "approve", reason=request.POST.get("reason", ""))
    except MemberError as error:
        return _refused(request, member, error)
    audit.record(request, f"member.verification.{decision}", "member", member.id, before,
                 {"verification": member.verification, "note": member.verification_note})
    if decision == "approve":
        conduct.notify(request.dbsession, member, request.localizer.translate(_("Verification approved")),
                       request.localizer.translate(_("Your real-name verification was approved.")))
    return HTTPSeeOther(request.route_path("admin.member", id=member.id))


@view_config(route_name="admin.member_violations", request_method="POST", renderer="admin/member.pt",
             permission="member.violations")
def member_violation(request):
    member = member_or_404(request)
    before = {"login": member.login_frozen, "bidding": member.bidding_frozen, "withdrawal": member.withdrawal_frozen}
    try:
        if request.POST.get("lift"):
            violation = conduct.lift_violation(request.dbsession, member, int(request.POST["lift"]),
                                               by=audit.actor_of(request))
            action = "member.violation.lift"
        else:
            violation = conduct.record_violation(
                request.dbsession, member, reason=request.POST.get("reason", ""),
                freeze_login=request.POST.get("freeze_login") == "on",
                freeze_bidding=request.POST.get("freeze_bidding") == "on",
                freeze_withdrawal=request.POST.get("freeze_withdrawal") == "on", by=audit.actor_of(request))
            action = "member.violation.record"
    except (MemberError, ValueError) as error:
        if not isinstance(error, MemberError):
            error = MemberError("lift", _("There is no such active violation."))
        return _refused(request, member, error)
    audit.record(request, action, "member", member.id, before,
                 {"violation": violation.id, "reason": violation.reason, "login": member.login_frozen,
                  "bidding": member.bidding_frozen, "withdrawal": member.withdrawal_frozen})
    return HTTPSeeOther(request.route_path("admin.member", id=member.id))


@view_config(route_name="admin.member_points", request_method="POST", renderer="admin/member.pt",
             permission="member.points")
def member_points(request):
    """A manual points adjustment (a promotion, a correction), with its reason."""
    member = member_or_404(request)
    try:
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
    except MemberError as error:
        return _refused(request, member, error)
    audit.record(request, "member.points", "member", member.id, {"points": before},
                 {"points": member.vip_points, "reason": reason})
    return HTTPSeeOther(request.route_path("admin.member", id=member.id))


@view_config(route_name="admin.member_credit_line", request_method="POST", renderer="admin/member.pt",
             permission="loan.credit_line")
def member_credit_line(request):
    member = member_or_404(request)
    before = {"credit_line": member.credit_line, "credit_grade": member.credit_grade}
    try:
        set_credit_line(member, request.POST.get("credit_line", ""), request.tenant.currency,
                        request.POST.get("credit_grade") or None)
    except (LoanError, ValueError) as error:
        message = error.message if isinstance(error, LoanError) else _("Enter an amount such as 100.00.")
        field = "credit_grade" if isinstance(error, LoanError) and error.field == "grade" else "credit_line"
        return _refused(request, member, MemberError(field, message))
    audit.record(request, "member.credit_line", "member", member.id, before,
                 {"credit_line": member.credit_line, "credit_grade": member.credit_grade})
    return HTTPSeeOther(request.route_path("admin.member", id=member.id))


@view_config(route_name="admin.member_messages", request_method="POST", renderer="admin/member.pt",
             permission="member.message")
def member_message(request):
    member = member_or_404(request)
    try:
        message = conduct.send_message(request.dbsession, member, subject=request.POST.get("subject", ""),
                                       body=request.POST.get("body", ""), sender=audit.actor_of(request))
    except MemberError as error:
        return _refused(request, member, error)
    conduct.mark_read(request.dbsession, member, "to_staff")
    audit.record(request, "member.message", "member", member.id, None, {"message": message.id,
                                                                       "subject": message.subject})
    return HTTPSeeOther(request.route_path("admin.member", id=member.id))


@view_config(route_name="admin.member_document", permission="member.documents")
def member_document(request):
    """An identity document, only to staff allowed to see them; every opening is audited."""
    member = member_or_404(request)
    document = request.dbsession.scalars(sa.select(MemberDocument).where(
        MemberDocument.id == int(request.matchdict["doc"]), MemberDocument.member_id == member.id)).first()
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
