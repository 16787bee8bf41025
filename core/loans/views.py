"""Portal pages of the lifecycle: invest (我要投資), borrow (我要借款), my loans and my bids."""

from __future__ import annotations

import calendar
import datetime as dt
import re
import uuid
import zoneinfo

import sqlalchemy as sa
from pyramid.httpexceptions import HTTPNotFound, HTTPSeeOther
from pyramid.view import view_config
from sqlalchemy.orm import selectinload

from ..forms import by_field, on_refusal
from ..loan_types import loan_types
from ..members import agreements
from ..members.models import Member
from ..money import InvalidAmount, InvalidRate, Money, parse_amount, parse_rate, whole_number
from ..schedules import FIRST_START_DATE, LAST_START_DATE, MAX_TERM_MONTHS, repayment_methods
from . import (
    agreement,  # noqa: F401 - the loan agreement kept at disbursement (its model and listener)
    cost,
)
from .application import apply, parse_application, preview_schedule, require_verified
from .autoinvest import PRESETS, AutoInvestRule, save_rule
from .bidding import accept_partial, parse_bid, place_bid
from .errors import positive_amount
from .guarantors import Guarantor
from .models import Bid, Loan, Payback, PaybackStatus
from .projection import expected_payback, loan_apr, schedule_for
from .records import locked_loan
from .repayment import pay_off, repay, repay_installments
from .rules import GRADES, bid_unit, partial_funding, public_loans
from .standing import (
    InsufficientBalance,
    bid_room,
    borrower_history,
    borrower_profile,
    check_bid_fits,
    check_bidder,
    payback_fees,
)

TABS = {"bidding": ("bidding",), "review": ("full",), "repaying": ("repaying",), "settled": ("settled",)}
PER_PAGE = 20


# Rates are stored as exact decimal strings: compare and sort them as numbers.
RATE = sa.cast(Loan.annual_rate_percent, sa.Numeric(12, 6))
SORTS = {"newest": Loan.id.desc(), "rate": RATE.desc(), "term": Loan.term_months.asc(), "amount": Loan.amount.desc()}


@view_config(route_name="invest.index", renderer="portal/invest.pt")
def invest(request):
    """The four tabs of 我要投資 with filters (type, rate, term, amount), sorting and pages."""
    params = request.params
    tab = params.get("tab", "bidding") if params.get("tab") in TABS else "bidding"
    query = public_loans(Loan.status.in_(TABS[tab]))
    types = loan_types(request.hooks)
    if params.get("type") in types:
        query = query.where(Loan.loan_type == params["type"])
    query = query.where(*_filters(params, request.tenant.currency))
    page = page_number(params)
    total = request.dbsession.scalar(sa.select(sa.func.count()).select_from(query.subquery()))
    rows = request.dbsession.scalars(
        query.order_by(SORTS.get(params.get("sort"), SORTS["newest"]), Loan.id.desc())
        .limit(PER_PAGE)
        .offset((page - 1) * PER_PAGE)
    ).all()
    filters = {k: params[k] for k in ("tab", "type", "min_rate", "max_term", "max_amount", "sort") if params.get(k)}
    ends = {loan.id: seconds_left(request.tenant, loan) for loan in rows if loan.status == "bidding"}
    return {
        "loans": rows,
        "tab": tab,
        "types": types,
        "filters": filters,
        "page": page,
        "ends": ends,
        "pages": max(1, -(-total // PER_PAGE)),
    }


MAX_PAGE = 10_000


def page_number(params) -> int:
    """The list page asked for: 1 unless ``page`` is a whole number from 1 to :data:`MAX_PAGE`."""
    page = whole_number(params.get("page"))
    return page if page is not None and 1 <= page <= MAX_PAGE else 1


def _filters(params, currency: str) -> list:
    """The invest list's filters that parse under the input contract; an unusable one is ignored
    (the list stays whole rather than answering with an error page for a hand-edited address)."""
    conditions = []
    if params.get("min_rate"):
        try:
            conditions.append(RATE >= parse_rate(params["min_rate"]))
        except InvalidRate:
            pass
    max_term = whole_number(params.get("max_term"))
    if max_term is not None and max_term <= MAX_TERM_MONTHS:
        conditions.append(Loan.term_months <= max_term)
    if params.get("max_amount"):
        try:
            conditions.append(Loan.amount <= parse_amount(params["max_amount"], currency, form=True).minor)
        except InvalidAmount:
            pass
    return conditions


def _loan_by_number(request) -> Loan:
    loan = request.dbsession.scalars(public_loans(Loan.number == request.matchdict["number"])).first()
    if loan is None:
        raise HTTPNotFound()
    return loan


def fundraising_ends(tenant, loan: Loan) -> dt.datetime | None:
    """When bidding closes: the close of day after the deadline, at the tenant's local midnight (UTC)."""
    if loan.deadline is None:
        return None
    local = dt.datetime.combine(loan.deadline + dt.timedelta(days=1), dt.time(0), zoneinfo.ZoneInfo(tenant.timezone))
    return local.astimezone(dt.timezone.utc)


def seconds_left(tenant, loan: Loan, now: dt.datetime | None = None) -> int | None:
    """Seconds until bidding closes, on the tenant's business calendar (its business date, the local time
    of day): what the page's countdown counts down from."""
    ends = fundraising_ends(tenant, loan)
    if ends is None:
        return None
    zone = zoneinfo.ZoneInfo(tenant.timezone)
    local = (now or dt.datetime.now(dt.timezone.utc)).astimezone(zone)
    business_now = dt.datetime.combine(tenant.business_date, local.time(), zone)
    return max(int((ends - business_now).total_seconds()), 0)


def _bidders(session, loan: Loan) -> dict[int, str]:
    """Masked names of the loan's lenders by member id (王**, or 138****8000)."""
    ids = {b.member_id for b in loan.bids}
    members = session.scalars(sa.select(Member).where(Member.id.in_(ids))).all() if ids else []
    return {m.id: m.masked_name or m.masked_phone for m in members}


def _service_fees(tenant, loan, projected) -> tuple[int, ...]:
    """The service fee of each period shown (empty when the loan charges none per installment)."""
    if loan.installments:
        fees = tuple(i.service_fee for i in sorted(loan.installments, key=lambda i: i.period))
    elif projected is not None:
        fees = cost.charges(tenant, loan.amount, len(projected.installments)).per_period
    else:
        fees = ()
    return fees if any(fees) else ()


def _platform_fee(tenant, loan, projected) -> tuple[int, str]:
    """The borrower's fee on the loan and how it is charged: as disbursed, or as the tenant would charge it."""
    if loan.fee_mode:
        return loan.borrower_fee, loan.fee_mode
    charged = cost.charges(tenant, loan.amount, len(projected.installments) if projected is not None else 0)
    return charged.fee, charged.mode


def _signed_in_member(request) -> Member | None:
    identity = request.identity
    return identity.user if identity is not None and identity.kind == "member" else None


@view_config(route_name="invest.loan", renderer="portal/loan.pt")
def loan_page(request):
    """A loan's page: terms, borrower summary (masked), progress and countdown, schedule, bids, and the bid
    form — whose first step shows the expected payback, the second places the bid."""
    loan = _loan_by_number(request)
    session, tenant = request.dbsession, request.tenant
    borrower = session.get(Member, loan.borrower_id)
    loan_type = loan_types(request.hooks).get(loan.loan_type)
    method = repayment_methods(request.hooks).get(loan.repayment_method)
    # before disbursement, the schedule the method projects (shown, and shared out for a bid's payback)
    projected = schedule_for(tenant, method, loan) if method is not None and not loan.installments else None
    data = {
        "loan": loan,
        "errors": {},
        "form": dict(request.POST),
        "key": request.POST.get("key") or uuid.uuid4().hex,
        "unit": bid_unit(tenant),
        "percent": loan.funded * 100 // loan.amount,
        "loan_type": loan_type,
        "method": method,
        "borrower": {
            "name": borrower.masked_name or borrower.masked_phone,
            "grade": borrower.credit_grade,
            "verified": borrower.is_verified,
            "since": borrower.created_at,
            **borrower_history(session, borrower.id),
        },
        "ends": fundraising_ends(tenant, loan),
        "seconds_left": seconds_left(tenant, loan),
        "days_left": (loan.deadline - tenant.business_date).days if loan.deadline else None,
        "schedule": loan.installments or (projected.installments if projected is not None else ()),
        "bidders": _bidders(session, loan),
        "expected": None,
        "apr": loan_apr(tenant, loan, projected),
        "fees": _service_fees(tenant, loan, projected),
        "platform_fee": _platform_fee(tenant, loan, projected),
        "room": None,
        "recharge": False,
        "risk": {},
    }
    member = _signed_in_member(request)
    if member is not None and loan.status == "bidding":
        data["room"] = bid_room(session, tenant, loan, member.id)
    if request.method == "POST":
        if member is None:
            return HTTPSeeOther(request.route_path("member.login", _query={"next": request.path}))
        on_refusal(request, lambda error: by_field({**data, "recharge": isinstance(error, InsufficientBalance)}, error))
        # the first bid (and the first after a new version) confirms the risk notice for lenders
        data["risk"] = agreements.pending(session, tenant, member.id, agreements.RISK, request.locale_name)
        if not request.POST.get("confirm"):  # first step: show what the bid would bring
            amount = _first_step_amount(request, loan, member, data["room"])
            data["expected"] = expected_payback(tenant, projected, loan, amount)
            data["amount"] = amount
            return data
        if data["risk"]:  # refused: the confirmation again, with the box to tick
            amount = positive_amount(request.POST.get("amount", ""), tenant.currency, "amount").minor
            data["expected"] = expected_payback(tenant, projected, loan, amount)
            data["amount"] = amount
            agreements.required(data["risk"], lambda field: agreements.ticked(request.POST.get(field)))
            agreements.record(session, member, data["risk"], request.client_addr or "")
        place_bid(
            request.dbsession,
            request.tenant,
            request.hooks,
            loan.id,
            member,
            positive_amount(request.POST.get("amount", ""), tenant.currency, "amount"),
            key=request.POST.get("key") or uuid.uuid4().hex,
        )
        return HTTPSeeOther(request.route_path("account.bids", _query={"placed": loan.number}))
    return data


def _first_step_amount(request, loan: Loan, member: Member, room) -> int:
    """The bid's first step: the amount typed — or, for "bid all I can" (``all``), the largest that fits —
    refused here as placing it would refuse it, so no refusal waits for the confirm step."""
    check_bidder(loan, member)
    if room is None:  # the loan is no longer open for bids
        return parse_bid(request.tenant, loan, request.POST.get("amount", ""))
    text = request.POST.get("amount", "")
    if request.POST.get("all"):
        # none fits: try the smallest bid, refused by the limit it breaks (the balance: with a way to recharge)
        text = str(Money(room.largest or min(loan.min_bid, loan.remaining), loan.currency))
    amount = parse_bid(request.tenant, loan, text)
    check_bid_fits(room, loan, amount)
    return amount


@view_config(route_name="borrow.index", renderer="portal/borrow.pt")
def borrow(request):
    """我要借款: the tenant's loan types, each explaining itself; then the chosen type's form, whose
    "preview" button (and, with the page's script, every change) shows the schedule before applying."""
    offered = {code: t for code, t in loan_types(request.hooks).items() if not t.staff_only}
    guarantors = _guarantors(request) if any(t.needs_guarantor for t in offered.values()) else []
    types = {code: t for code, t in offered.items() if guarantors or not t.needs_guarantor}  # none yet: not offered
    form = dict(request.POST) if request.method == "POST" else {}
    chosen = types.get(form.get("loan_type") or request.params.get("type", ""))
    if chosen is None and len(types) == 1:
        chosen = next(iter(types.values()))
    member = request.identity.user if request.identity is not None and request.identity.kind == "member" else None
    data = {
        "types": list(types.values()),
        "chosen": chosen,
        "methods": _methods_for(request, chosen),
        "errors": {},
        "guarantors": guarantors if chosen and chosen.needs_guarantor else [],
        "form": form or {"fundraising_days": "7", "min_bid": "50"},
        "preview": None,
        "profile": borrower_profile(request.dbsession, request.tenant, member)
        if member is not None and member.is_verified
        else None,
    }
    if request.method != "POST" or chosen is None:
        return data
    if request.identity is None or request.identity.kind != "member":
        return HTTPSeeOther(request.route_path("member.login", _query={"next": request.path}))
    on_refusal(request, lambda error: by_field(data, error))
    if request.POST.get("preview"):
        data["preview"] = preview_schedule(request.tenant, request.hooks, form)
        return data
    require_verified(member)
    application = parse_application(request.tenant, form)
    loan = apply(request.dbsession, request.tenant, request.hooks, member, application)
    return HTTPSeeOther(request.route_path("account.loans", _query={"applied": loan.number}))


def _methods_for(request, loan_type) -> dict:
    enabled = repayment_methods(request.hooks)
    if loan_type is None:
        return enabled
    allowed = loan_type.allowed_methods(list(enabled))
    return {code: method for code, method in enabled.items() if code in allowed}


def _guarantors(request):
    return request.dbsession.scalars(
        sa.select(Guarantor).where(Guarantor.active.is_(True)).order_by(Guarantor.name)
    ).all()


@view_config(route_name="account.loans", renderer="account/loans.pt", permission="member")
def my_loans(request):
    member = request.identity.user
    if request.method == "POST":
        loan = locked_loan(request.dbsession, number=request.POST.get("loan", ""), borrower_id=member.id)
        if loan is None:
            raise HTTPNotFound()
        on_refusal(request, lambda error: _my_loans_page(request, member, error.message))
        if request.POST.get("accept_partial"):
            accept_partial(request.dbsession, request.tenant, loan, by=f"member:{member.id}")
        elif request.POST.get("payoff"):
            pay_off(request.dbsession, request.tenant, loan, by=f"member:{member.id}")
        elif request.POST.get("amount"):
            amount = positive_amount(request.POST["amount"], request.tenant.currency, "amount")
            repay(request.dbsession, request.tenant, loan, amount, by=f"member:{member.id}")
        else:
            try:
                count = int(request.POST.get("installments") or 1)
            except ValueError:
                count = 0  # refused by the service, by field
            repay_installments(request.dbsession, request.tenant, loan, count, by=f"member:{member.id}")
        return HTTPSeeOther(request.path)
    return _my_loans_page(request, member)


def _my_loans_page(request, member, error=None) -> dict:
    rows = request.dbsession.scalars(
        sa.select(Loan).where(Loan.borrower_id == member.id).order_by(Loan.id.desc())
    ).all()
    return {
        "loans": rows,
        "error": error,
        "applied": request.params.get("applied"),
        "partial_minimum": partial_funding(request.tenant),
    }


@view_config(route_name="account.bids", renderer="account/bids.pt", permission="member")
def my_bids(request):
    """我的投資: the member's bids as a table (received, receivable, next payback date), the paybacks still to
    come grouped by loan with subtotals (待收回款), and the latest received."""
    member = request.identity.user
    session = request.dbsession
    bids = session.scalars(
        sa.select(Bid)
        .options(selectinload(Bid.loan))
        .where(Bid.member_id == member.id)
        .order_by(Bid.id.desc())
        .limit(100)
    ).all()
    upcoming = session.scalars(
        sa.select(Payback)
        .where(Payback.member_id == member.id, Payback.status == PaybackStatus.DUE)
        .order_by(Payback.due_date, Payback.period, Payback.id)
    ).all()
    received = session.scalars(
        sa.select(Payback)
        .where(Payback.member_id == member.id, Payback.status == PaybackStatus.PAID)
        .order_by(Payback.paid_on.desc())
        .limit(50)
    ).all()
    return {
        "bids": bids,
        "figures": _bid_figures(session, bids),
        "upcoming": _by_loan(session, upcoming),
        "received": received,
        "placed": request.params.get("placed"),
    }


def _bid_figures(session, bids) -> dict[int, dict]:
    """Bid id → what it received (principal and interest, less the management fee charged), what it is still
    owed (principal and interest) and its next payback date."""
    owed = Payback.principal - Payback.paid_principal + Payback.interest - Payback.paid_interest
    is_due = Payback.status == PaybackStatus.DUE
    rows = session.execute(
        sa.select(
            Payback.bid_id,
            sa.func.sum(Payback.paid_principal + Payback.paid_interest),
            sa.func.sum(sa.case((is_due, owed), else_=0)),
            sa.func.min(sa.case((is_due, Payback.due_date))),
        )
        .where(Payback.bid_id.in_([b.id for b in bids]))
        .group_by(Payback.bid_id)
    ).all()
    paid = {bid_id: (int(got), int(left), next_on) for bid_id, got, left, next_on in rows}
    return {
        b.id: {
            "received": paid.get(b.id, (0,))[0] - b.lender_fees,
            "receivable": paid.get(b.id, (0, 0))[1],
            "next": paid.get(b.id, (0, 0, None))[2],
        }
        for b in bids
    }


def _by_loan(session, paybacks) -> list[dict]:
    """Paybacks to come grouped by loan (the loan due first, first), each with its principal and interest
    still owed and their subtotals."""
    groups: dict[int, dict] = {}
    for p in paybacks:
        group = groups.setdefault(p.loan_id, {"rows": [], "principal": 0, "interest": 0})
        row = {"payback": p, "principal": p.principal - p.paid_principal, "interest": p.interest - p.paid_interest}
        group["rows"].append(row)
        group["principal"] += row["principal"]
        group["interest"] += row["interest"]
    loans = {loan.id: loan for loan in session.scalars(sa.select(Loan).where(Loan.id.in_(list(groups)))).all()}
    return [{"loan": loans[loan_id], **group} for loan_id, group in groups.items()]


@view_config(route_name="account.bid", renderer="account/bid.pt", permission="member")
def my_bid(request):
    """One investment: its loan, the bid, and the bid's payback schedule with the management fee on each."""
    member, session = request.identity.user, request.dbsession
    bid = session.scalars(
        sa.select(Bid).where(Bid.id == int(request.matchdict["bid"]), Bid.member_id == member.id)
    ).first()
    if bid is None:
        raise HTTPNotFound()
    paybacks = session.scalars(sa.select(Payback).where(Payback.bid_id == bid.id).order_by(Payback.period)).all()
    fees = payback_fees(request.tenant, paybacks)
    method = repayment_methods(request.hooks).get(bid.loan.repayment_method)
    return {
        "bid": bid,
        "loan": bid.loan,
        "method": method,
        "figures": _bid_figures(session, [bid])[bid.id],
        "schedule": list(zip(paybacks, fees)),
        "totals": {
            "principal": sum(p.principal for p in paybacks),
            "interest": sum(p.interest for p in paybacks),
            "fee": sum(fees),
        },
    }


@view_config(route_name="account.calendar", renderer="account/calendar.pt", permission="member")
def payback_calendar(request):
    """回款日曆: a month of expected and received paybacks, day by day, and the months ahead."""
    member, session, today = request.identity.user, request.dbsession, request.tenant.business_date
    first = _calendar_month(request.params.get("month", "")) or today.replace(day=1)
    last = first.replace(day=calendar.monthrange(first.year, first.month)[1])
    expected = dict(
        session.execute(
            sa.select(
                Payback.due_date,
                sa.func.sum(Payback.principal - Payback.paid_principal + Payback.interest - Payback.paid_interest),
            )
            .where(Payback.member_id == member.id, Payback.status == "due", Payback.due_date.between(first, last))
            .group_by(Payback.due_date)
        ).all()
    )
    received = dict(
        session.execute(
            sa.select(Payback.paid_on, sa.func.sum(Payback.principal + Payback.interest))
            .where(Payback.member_id == member.id, Payback.status == "paid", Payback.paid_on.between(first, last))
            .group_by(Payback.paid_on)
        ).all()
    )
    weeks = [
        [
            {
                "date": d,
                "in_month": d.month == first.month,
                "today": d == today,
                "expected": int(expected.get(d, 0)),
                "received": int(received.get(d, 0)),
            }
            for d in week
        ]
        for week in calendar.Calendar(firstweekday=0).monthdatescalendar(first.year, first.month)
    ]
    month_key = sa.func.substr(sa.cast(Payback.due_date, sa.String), 1, 7)
    ahead = session.execute(
        sa.select(
            month_key,
            sa.func.sum(Payback.principal - Payback.paid_principal),
            sa.func.sum(Payback.interest - Payback.paid_interest),
            sa.func.count(),
        )
        .where(Payback.member_id == member.id, Payback.status == "due", Payback.due_date >= today)
        .group_by(month_key)
        .order_by(month_key)
        .limit(12)
    ).all()
    previous = (first - dt.timedelta(days=1)).replace(day=1)
    following = last + dt.timedelta(days=1)
    return {
        "first": first,
        "weeks": weeks,
        "month_expected": sum(int(v) for v in expected.values()),
        "month_received": sum(int(v) for v in received.values()),
        "ahead": [{"month": m, "principal": int(p), "interest": int(i), "count": c} for m, p, i, c in ahead],
        "previous": f"{previous:%Y-%m}",
        "following": f"{following:%Y-%m}",
    }


def _calendar_month(text: str) -> dt.date | None:
    """The first day of a month written ``YYYY-MM`` within the schedules' dates, else ``None``
    (the months before and after must be dates too: the page links to them)."""
    written = re.fullmatch(r"([0-9]{4})-(0[1-9]|1[0-2])", text)
    if written is None:
        return None
    first = dt.date(int(written.group(1)), int(written.group(2)), 1)
    return first if FIRST_START_DATE <= first <= LAST_START_DATE else None


@view_config(route_name="account.autoinvest", renderer="account/autoinvest.pt", permission="member")
def autoinvest(request):
    member = request.identity.user
    rule = request.dbsession.scalars(sa.select(AutoInvestRule).where(AutoInvestRule.member_id == member.id)).first()
    data = {
        "rule": rule,
        "errors": {},
        "presets": PRESETS,
        "types": loan_types(request.hooks),
        "grades": GRADES,
        "saved": request.params.get("saved"),
        "form": dict(request.POST),
    }
    if request.method == "POST":
        form = dict(request.POST)
        form["loan_types"] = request.POST.getall("loan_types")
        form["enabled"] = request.POST.get("enabled", "off")
        on_refusal(request, lambda error: by_field(data, error))
        save_rule(request.dbsession, request.tenant, member, form, offered_types=data["types"])
        return HTTPSeeOther(request.route_path("account.autoinvest", _query={"saved": 1}))
    return data
