"""Portal pages for money in and out, and the gateways' callback URLs."""

from __future__ import annotations

import sqlalchemy as sa
from pyramid.httpexceptions import HTTPNotFound, HTTPSeeOther
from pyramid.response import Response
from pyramid.view import view_config

from ..forms import by_field, form_page, on_refusal
from ..i18n import _
from ..ledger import Wallet
from ..members.models import BankCard
from ..money import Money
from . import PaymentRequest, gateways, services
from .models import Payment, Withdrawal


def recharge_return_path(request) -> str:
    """Where a gateway sends the member back after paying: the recharge's status page, which only shows
    the status (``REFERENCE`` stands for the recharge's reference)."""
    return request.route_path("account.recharge_status", reference="REFERENCE")


def _recharge_page(request, **extra):
    member = request.identity.user
    available = gateways(request.hooks)
    recent = request.dbsession.scalars(
        sa.select(Payment).where(Payment.member_id == member.id).order_by(Payment.id.desc()).limit(20)
    ).all()
    currency = request.tenant.currency
    return form_page(
        request,
        gateways=list(available.values()),
        payments=recent,
        limits={code: g.limits(currency) for code, g in available.items()},
        fees={code: g.settings for code, g in available.items()},
        fixed_fees={
            code: Money.parse(str(g.settings.get("fee_fixed", "0")), currency) for code, g in available.items()
        },
        **extra,
    )


@view_config(route_name="account.recharge", renderer="account/recharge.pt", permission="member")
def recharge(request):
    data = _recharge_page(request)
    if request.method != "POST":
        return data
    payment, instruction = services.start_recharge(
        request.dbsession,
        request.tenant,
        request.hooks,
        request.identity.user,
        request.POST.get("gateway", ""),
        request.POST.get("amount", ""),
        recharge_return_path(request),
    )
    if instruction.kind == "redirect":
        return HTTPSeeOther(instruction.url)
    return HTTPSeeOther(request.route_path("account.recharge_status", reference=payment.reference))


def _my_payment(request) -> Payment:
    payment = request.dbsession.scalars(
        sa.select(Payment).where(
            Payment.reference == request.matchdict["reference"], Payment.member_id == request.identity.user.id
        )
    ).first()
    if payment is None:
        raise HTTPNotFound()
    return payment


@view_config(route_name="account.recharge_status", renderer="account/recharge_status.pt", permission="member")
def recharge_status(request):
    """Where the member lands after paying: it shows the status and never credits anything."""
    payment = _my_payment(request)
    gateway = gateways(request.hooks).get(payment.gateway)
    instruction = None
    if gateway is not None and not gateway.online and payment.status == "pending":
        instruction = gateway.create_payment(PaymentRequest(payment.reference, Money(payment.amount, payment.currency)))
    data = form_page(request, payment=payment, instruction=instruction)
    if request.method == "POST":
        services.declare_offline(payment, request.POST.get("bank_reference", ""))
        return HTTPSeeOther(request.path)
    return data


@view_config(route_name="account.withdraw", renderer="account/withdraw.pt", permission="member")
def withdraw(request):
    member = request.identity.user
    session = request.dbsession
    data = form_page(
        request,
        member=member,
        rules=services.withdrawal_rules(request.tenant),
        funds=Wallet(request.ledger, member.id, request.tenant.currency).funds(),
        cards=session.scalars(sa.select(BankCard).where(BankCard.member_id == member.id)).all(),
    )
    if request.method == "POST":
        on_refusal(request, lambda error: by_field({**data, "withdrawals": _my_withdrawals(request)}, error))
        if request.POST.get("cancel"):
            withdrawal = session.scalars(
                sa.select(Withdrawal).where(
                    Withdrawal.reference == request.POST["cancel"], Withdrawal.member_id == member.id
                )
            ).first()
            if withdrawal is None:
                raise HTTPNotFound()
            services.cancel_withdrawal(session, request.tenant.id, member, withdrawal)
        else:
            amount = services.positive_money(request.POST.get("amount", ""), request.tenant.currency)
            services.request_withdrawal(
                session, request.tenant, request.hooks, member, request.POST.get("card"), amount
            )
        return HTTPSeeOther(request.path)
    data["withdrawals"] = _my_withdrawals(request)
    return data


def _my_withdrawals(request):
    return request.dbsession.scalars(
        sa.select(Withdrawal)
        .where(Withdrawal.member_id == request.identity.user.id)
        .order_by(Withdrawal.id.desc())
        .limit(20)
    ).all()


def _callback(request, kind: str):
    code = request.matchdict["gateway"]
    status, verdict, reason = services.receive_callback(request, code, request.body, dict(request.headers), kind=kind)
    gateway = gateways(request.hooks).get(code)
    answer = gateway.acknowledge(verdict) if gateway is not None else None
    if answer is not None:
        content_type, body = answer
        return Response(body, content_type=content_type, charset="utf-8", status=status)
    return Response(json_body={"result": verdict, "reason": reason}, status=status)


@view_config(route_name="payments.callback", request_method="POST", require_csrf=False)
def payment_callback(request):
    """A gateway's server-to-server notice about a recharge (signature checked by the gateway)."""
    return _callback(request, "payment")


@view_config(route_name="payments.payout_callback", request_method="POST", require_csrf=False)
def payout_callback(request):
    return _callback(request, "payout")


def includeme(config):
    config.add_labels(funds_status=".models:STATUS_LABELS")
    route = lambda name, pattern: config.add_route(name, pattern, host_kind="tenant")  # noqa: E731
    route("account.recharge", "/account/recharge")
    route("account.recharge_status", "/account/recharge/{reference}")
    route("account.withdraw", "/account/withdraw")
    route("payments.callback", "/callbacks/payments/{gateway}")
    route("payments.payout_callback", "/callbacks/payouts/{gateway}")
    config.add_nav("account.recharge", _("Recharge"), "account.recharge", order=5, area="account")
    config.add_nav("account.withdraw", _("Withdraw"), "account.withdraw", order=6, area="account")
    config.scan(".views")
