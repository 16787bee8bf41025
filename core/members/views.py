"""Portal views for members: sign-up, sign-in, passwords, account pages.

Every form keeps what the member typed and shows each error next to its
field; a refused POST answers 400 (or 429 when throttled) and changes nothing.
"""

from __future__ import annotations

from pyramid.httpexceptions import HTTPNotFound, HTTPSeeOther
from pyramid.view import view_config

from .. import audit
from ..accounts import sessions
from ..backoffice import SignInRefused, login_view, logout_view, signed_in, throttle_message
from ..forms import by_field, form_page, on_refusal, refuse
from ..help import inbox
from ..help.models import THREAD_STATUS_LABELS
from ..i18n import _
from ..ledger import REASONS, Wallet
from ..throttle import Throttled
from . import agreements, conduct, documents, services
from .models import VERIFICATION_LABELS
from .services import MemberError

PER_PAGE = 20


def _channel(request) -> str:
    """``email`` when the visitor chose it and the tenant takes email sign-ups, else ``sms``."""
    return "email" if request.params.get("with") == "email" and request.tenant.email_sign_up else "sms"


def _send_code(request, data, purpose: str, channel: str = "sms", field: str | None = None):
    field = field or ("email" if channel == "email" else "phone")
    try:
        request.throttle.hit("code.address", request.client_addr or "-")
        address, _send = services.code_recipient(
            request.dbsession, request.tenant, request.POST.get(field, ""), purpose, channel
        )
        request.throttle.hit("code.phone.burst", request.tenant.slug, purpose, address)
        request.throttle.hit("code.phone", request.tenant.slug, address)
        services.send_code(request.dbsession, request.tenant, address, purpose, request.localizer, channel)
    except Throttled as throttled:  # a throttle is not a service's refusal: it answers 429 here
        return refuse(request, data, MemberError(field, throttle_message(throttled)), 429)
    data["notice"] = (
        _("We sent a code by email. It expires in 10 minutes.")
        if channel == "email"
        else _("We sent a code by SMS. It expires in 10 minutes.")
    )
    data["code_sent"] = True
    return data


def _check_code_throttle(request, data):
    try:
        address = request.POST.get("email") or request.POST.get("phone", "")
        request.throttle.hit("code.check", request.tenant.slug, address.strip().lower()[-40:])
    except Throttled as throttled:
        return refuse(request, data, MemberError("code", throttle_message(throttled)), 429)
    return None


@view_config(route_name="member.register", renderer="portal/register.pt")
def register(request):
    channel = _channel(request)
    # the current terms and privacy policy to tick (none when the tenant published none)
    to_accept = agreements.pending(request.dbsession, request.tenant, None, agreements.ACCOUNT, request.locale_name)
    data = form_page(
        request,
        code_sent=False,
        channel=channel,
        email_sign_up=request.tenant.email_sign_up,
        agreements=to_accept,
        page_url=lambda item: request.route_path("content.page", slug=item.slug),
    )
    if request.method != "POST":
        return data
    if request.POST.get("action") == "send_code":
        return _send_code(request, data, "register", channel)
    refused = _check_code_throttle(request, data)
    if refused:
        return refused
    # a refused registration shows the code field again (the code was sent)
    on_refusal(request, lambda error: by_field({**data, "code_sent": True}, error))
    try:
        request.throttle.hit("register.address", request.client_addr or "-")
    except Throttled as throttled:  # counted before the service runs; answers 429
        return refuse(request, data, MemberError("phone", throttle_message(throttled)), 429)
    agreements.required(to_accept, lambda field: agreements.ticked(request.POST.get(field)))
    member = services.register(
        request.dbsession,
        request.tenant,
        phone=request.POST.get("phone", ""),
        code=request.POST.get("code", ""),
        password=request.POST.get("password", ""),
        confirm=request.POST.get("confirm", ""),
        display_name=request.POST.get("display_name", ""),
        email=request.POST.get("email", ""),
        locale=request.locale_name,
        channel=channel,
    )
    agreements.record(request.dbsession, member, to_accept, request.client_addr or "")
    return signed_in(request, member, request.route_path("account.home"))


@view_config(route_name="member.login", renderer="portal/signin.pt", require_csrf=True)
def login(request):
    def authenticate(login, password):
        member = services.authenticate(request.dbsession, request.tenant, login, password)
        if member is not None and member.login_frozen:
            reasons = "; ".join(
                v.reason for v in conduct.violations(request.dbsession, member, active_only=True) if v.freeze_login
            )
            raise SignInRefused(_("Your account is frozen: ${reason}", mapping={"reason": reasons}))
        return member

    return login_view(request, "member", authenticate, "account.home", "layout.pt")


@view_config(route_name="member.logout", request_method="POST")
def logout(request):
    return logout_view(request, "portal.home")


@view_config(route_name="member.forgot", renderer="portal/forgot.pt")
def forgot(request):
    """Reset a forgotten password with an SMS code (the page never says whether a number is registered)."""
    data = form_page(request, code_sent=False, email_sign_up=request.tenant.email_sign_up)
    if request.method != "POST":
        return data
    if request.POST.get("action") == "send_code":
        by_email = "@" in request.POST.get("phone", "") and request.tenant.email_sign_up
        data = _send_code(request, data, "reset", "email" if by_email else "sms", field="phone")
        if not data["errors"]:
            data["notice"] = _("If this number is registered, we sent it a code. It expires in 10 minutes.")
        return data
    refused = _check_code_throttle(request, data)
    if refused:
        return refused
    # a refused reset shows the code field again (the code was sent)
    on_refusal(request, lambda error: by_field({**data, "code_sent": True}, error))
    member = services.reset_password(
        request.dbsession,
        request.tenant,
        phone=request.POST.get("phone", ""),
        code=request.POST.get("code", ""),
        password=request.POST.get("password", ""),
        confirm=request.POST.get("confirm", ""),
    )
    sessions.revoke_all(request.dbsession, "member", member.id, member.tenant_id)
    via = "email" if "@" in request.POST.get("phone", "") else "sms"
    audit.record(
        request, "member.password_reset", "member", member.id, None, {"via": via}, actor=audit.member_actor(member)
    )
    services.tell_password_changed(request.dbsession, request.tenant, member, request.localizer)
    return signed_in(request, member, request.route_path("account.home"))  # after a reset


# -- my account ---------------------------------------------------------------


def _member(request):
    return request.identity.user


@view_config(route_name="account.home", renderer="account/home.pt", permission="member")
def account_home(request):
    """The account overview: the member's position, each figure with what it counts (total assets and net
    assets add up on the page), and their latest fund movements."""
    member = _member(request)
    wallet = Wallet(request.ledger, member.id, request.tenant.currency)
    movements, _total = wallet.movements(page=1, per_page=5)
    from ..loans import position

    return {
        "member": member,
        "standing": position(request.dbsession, request.tenant, member.id),
        "movements": movements,
        "reasons": REASONS,
        "verification_label": VERIFICATION_LABELS[member.verification],
        "vip": conduct.vip_level(request.tenant, member.vip_points),
        "violations": conduct.violations(request.dbsession, member, active_only=True),
        "unread": conduct.unread(request.dbsession, member),
    }


@view_config(route_name="account.funds", renderer="account/funds.pt", permission="member")
def account_funds(request):
    """The fund-movement record (資金變動記錄), newest first."""
    try:
        page = max(1, int(request.params.get("page", 1)))
    except ValueError:
        page = 1
    wallet = Wallet(request.ledger, _member(request).id, request.tenant.currency)
    movements, total = wallet.movements(page=page, per_page=PER_PAGE)
    return {
        "funds": wallet.funds(),
        "movements": movements,
        "page": page,
        "pages": max(1, -(-total // PER_PAGE)),
        "total": total,
    }


@view_config(route_name="account.profile", renderer="account/profile.pt", permission="member")
def account_profile(request):
    member = _member(request)
    data = form_page(request, member=member)
    if request.method != "POST":
        data["form"] = {"display_name": member.display_name, "email": member.email or ""}
        return data
    services.update_profile(
        request.dbsession,
        request.tenant,
        member,
        display_name=request.POST.get("display_name", ""),
        email=request.POST.get("email", ""),
    )
    return HTTPSeeOther(request.route_path("account.profile", _query={"saved": 1}))


@view_config(route_name="account.password", renderer="account/password.pt", permission="member")
def account_password(request):
    member = _member(request)
    data = form_page(request)
    if request.method != "POST":
        return data
    services.change_password(
        member, request.POST.get("current", ""), request.POST.get("password", ""), request.POST.get("confirm", "")
    )
    # A new password ends every other session.
    sessions.revoke_all(request.dbsession, "member", member.id, member.tenant_id, keep=request.identity.auth_session.id)
    audit.record(request, "member.password_change", "member", member.id)
    services.tell_password_changed(request.dbsession, request.tenant, member, request.localizer)
    return HTTPSeeOther(request.route_path("account.security", _query={"changed": 1}))


@view_config(route_name="account.verification", renderer="account/verification.pt", permission="member")
def account_verification(request):
    member = _member(request)
    data = form_page(
        request,
        member=member,
        label=VERIFICATION_LABELS[member.verification],
        documents=documents.documents(request.dbsession, member),
        kinds=documents.KINDS,
        id_types=request.tenant.id_types,
    )
    if request.method != "POST":
        return data
    if "file" in request.POST:
        upload = request.POST["file"]
        if not hasattr(upload, "file"):
            raise MemberError("file", _("Choose a file to upload."))
        documents.store(
            request.dbsession,
            request.registry.settings_obj,
            member,
            kind=request.POST.get("kind", ""),
            filename=upload.filename,
            content_type=upload.type or "",
            stream=upload.file,
        )
        return HTTPSeeOther(request.route_path("account.verification", _query={"uploaded": 1}))
    services.submit_verification(
        request.dbsession,
        request.tenant,
        member,
        legal_name=request.POST.get("legal_name", ""),
        id_type=request.POST.get("id_type", request.tenant.id_types[0]),
        id_number=request.POST.get("id_number", ""),
    )
    return HTTPSeeOther(request.route_path("account.verification"))


@view_config(route_name="account.cards", renderer="account/cards.pt", permission="member")
def account_cards(request):
    member = _member(request)
    data = form_page(request, member=member)
    if request.method != "POST":
        return data
    services.add_card(
        request.dbsession,
        request.tenant,
        member,
        bank_name=request.POST.get("bank_name", ""),
        holder_name=request.POST.get("holder_name", ""),
        number=request.POST.get("number", ""),
    )
    return HTTPSeeOther(request.route_path("account.cards"))


@view_config(route_name="account.messages", renderer="account/messages.pt", permission="member")
def account_messages(request):
    """The member's conversations with staff (the help centre's threads) and system notices.

    A POST with ``thread`` answers that conversation (it goes back to the staff's inbox); without it,
    it starts a new one.
    """
    member = _member(request)
    data = form_page(request, member=member)
    if request.method != "POST":
        return _conversation(request, member, data)
    try:
        request.throttle.hit("help.message.member", request.tenant.slug, str(member.id))
    except Throttled as throttled:
        return refuse(
            request, _conversation(request, member, data), MemberError("body", throttle_message(throttled)), 429
        )
    on_refusal(request, lambda error: _conversation(request, member, by_field(data, error)))
    typed = str(request.POST.get("thread", ""))
    if typed:
        thread = (
            inbox.thread_of(request.dbsession, typed)
            if typed.isascii() and typed.isdigit() and len(typed) < 10
            else None
        )
        if thread is None or thread.member_id != member.id:
            raise HTTPNotFound()
        inbox.member_reply(request.dbsession, member, thread, body=request.POST.get("body", ""))
    else:
        thread = inbox.ask(
            request.dbsession,
            request.tenant,
            inbox.Asker(member=member),
            subject=request.POST.get("subject", ""),
            body=request.POST.get("body", ""),
            origin="account",
            locale=request.locale_name,
        )
    return HTTPSeeOther(request.route_path("account.messages", _query={"sent": 1}, _anchor=f"thread-{thread.id}"))


def _conversation(request, member, data: dict) -> dict:
    """The messages page's data: the member's threads and notices, marked read as the member sees them."""
    data["threads"] = inbox.member_threads(request.dbsession, member)
    data["notices"] = inbox.notices_of(request.dbsession, member)
    data["status_labels"] = THREAD_STATUS_LABELS
    conduct.mark_read(request.dbsession, member, "to_member")
    return data


@view_config(route_name="account.points", renderer="account/points.pt", permission="member")
def account_points(request):
    member = _member(request)
    levels = conduct.vip_levels(request.tenant)
    current = conduct.vip_level(request.tenant, member.vip_points)
    higher = [level for level in levels if level.points > member.vip_points]
    return {
        "member": member,
        "vip": current,
        "levels": levels,
        "next_level": higher[0] if higher else None,
        "history": conduct.points_history(request.dbsession, member),
    }


@view_config(route_name="account.security", renderer="account/security.pt", permission="member")
def account_security(request):
    """Live sessions, and signing out everywhere else."""
    member = _member(request)
    if request.method == "POST" and request.POST.get("action") == "sign_out_others":
        sessions.revoke_all(
            request.dbsession, "member", member.id, member.tenant_id, keep=request.identity.auth_session.id
        )
        return HTTPSeeOther(request.route_path("account.security", _query={"signed_out": 1}))
    return {
        "sessions": sessions.live_sessions(request.dbsession, "member", member.id, member.tenant_id),
        "current": request.identity.auth_session.id,
        "changed": request.params.get("changed"),
        "signed_out": request.params.get("signed_out"),
    }
