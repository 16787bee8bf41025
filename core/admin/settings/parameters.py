"""Lending and funds parameters (/admin/settings/parameters): the ``[lending]``, ``[funds]``, ``[members]`` and
``[vip]`` settings, each with the value that applies while it is not set."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from pyramid.view import view_config

from ... import audit
from ...forms import on_refusal
from ...i18n import _
from ...money import Money
from ...payments import gateways
from .common import PERMISSION, change_settings, posted, put_section, saved, set_value, typed


@dataclass(frozen=True)
class Parameter:
    """One ``[lending]``/``[funds]``/``[members]``/``[vip]`` setting: how the page asks for it (docs/operators.md)."""

    section: str
    key: str
    label: object
    kind: str  # number (with a unit), amount (in the tenant's currency), whole, flag, choice, gateway
    default: object  # what applies while it is not set (the value the code falls back to)
    unit: object = None
    bounds: object = None
    choices: tuple = ()  # (value, label)

    @property
    def name(self) -> str:
        return f"{self.section}.{self.key}"

    @property
    def help(self):
        return HELP.get(self.name)


FEE_MODES = tuple(audit.FEE_MODES.items())
PENALTY_BASES = (
    ("principal", _("The unpaid principal")),
    ("principal_and_interest", _("Unpaid principal and interest")),
)
ID_TYPES = (("cn_resident", _("Resident ID card (mainland China)")), ("passport", _("Passport")))
A_YEAR, A_DAY, DAYS, DAYS_OVERDUE = _("% a year"), _("% a day"), _("days"), _("days overdue")
ABOVE_0, AT_LEAST_0 = _("above 0"), _("0 or more")


def _up_to(n) -> object:
    return _("from 0 to ${n}", mapping={"n": n})


def _table(section: str):
    return lambda *args, **kwargs: Parameter(section, *args, **kwargs)


lending, funds = _table("lending"), _table("funds")
LENDING = (
    lending("max_annual_rate_percent", _("Rate cap"), "number", "36", A_YEAR, _("above 0, at most 100")),
    lending("bid_unit", _("Bid unit"), "amount", "50", bounds=ABOVE_0),
    lending("borrower_fee_percent", _("Borrower fee"), "number", "0", _("percent of the loan"), _up_to(20)),
    lending("borrower_fee_mode", _("How the borrower fee is charged"), "choice", "installments", choices=FEE_MODES),
    lending("lender_fee_percent", _("Lender management fee"), "number", "0", _("percent of the interest"), _up_to(50)),
    lending(
        "prepayment_fee_percent",
        _("Prepayment fee"),
        "number",
        "0",
        _("percent of the principal repaid early"),
        _up_to(10),
    ),
    lending("reminder_days", _("Reminder before a due date"), "number", "3", DAYS, _up_to(30)),
    lending("penalty_rate_percent_per_day", _("Penalty interest"), "number", "0.05", A_DAY, _up_to(1)),
    lending("penalty_base", _("Penalty interest accrues on"), "choice", "principal", choices=PENALTY_BASES),
    lending("late_fee", _("Late fee"), "amount", "0", bounds=AT_LEAST_0),
    lending("overdue_charges_cap_percent", _("Cap on late fee and penalty"), "number", "24", A_YEAR, _up_to(100)),
    lending("collect_partial", _("Collect part of a due installment"), "flag", True),
    lending("advance_after_days", _("Advance to lenders after"), "number", "0", DAYS_OVERDUE, _up_to(365)),
    lending("reserve_advances", _("The risk reserve advances"), "flag", False),
    lending("accelerate_after_days", _("Accelerate the loan after"), "number", "90", DAYS_OVERDUE, _up_to(3650)),
    lending(
        "auto_invest_max_percent", _("Automatic bids at most"), "number", "70", _("percent of a loan"), _up_to(100)
    ),
    lending("allow_partial_funding", _("Borrowers may accept a loan not fully funded"), "flag", False),
    lending(
        "partial_funding_min_percent", _("… once at least"), "number", "50", _("percent of it is raised"), _up_to(100)
    ),
)
OF_PRINCIPAL = _("percent of the principal outstanding")
WRITE_OFF_CLASSES = (
    ("loss", _("Loss only")),
    ("doubtful", _("Doubtful or loss")),
    ("substandard", _("Substandard, doubtful or loss")),
)
CLASSIFICATION = (
    lending("special_mention_after_days", _("Special mention after"), "whole", "0", DAYS_OVERDUE, _up_to(3650)),
    lending("substandard_after_days", _("Substandard after"), "whole", "90", DAYS_OVERDUE, _up_to(3650)),
    lending("doubtful_after_days", _("Doubtful after"), "whole", "270", DAYS_OVERDUE, _up_to(3650)),
    lending("loss_after_days", _("Loss after"), "whole", "360", DAYS_OVERDUE, _up_to(3650)),
    lending(
        "watch_months", _("Observation after an extension or restructuring"), "whole", "6", _("months"), _up_to(60)
    ),
    lending("provision_normal_percent", _("Provision for normal loans"), "number", "0", OF_PRINCIPAL, _up_to(100)),
    lending(
        "provision_special_mention_percent",
        _("Provision for special mention"),
        "number",
        "2",
        OF_PRINCIPAL,
        _up_to(100),
    ),
    lending("provision_substandard_percent", _("Provision for substandard"), "number", "25", OF_PRINCIPAL, _up_to(100)),
    lending("provision_doubtful_percent", _("Provision for doubtful"), "number", "50", OF_PRINCIPAL, _up_to(100)),
    lending("provision_loss_percent", _("Provision for loss"), "number", "100", OF_PRINCIPAL, _up_to(100)),
    lending("write_off_min_class", _("Loans written off from the class"), "choice", "loss", choices=WRITE_OFF_CLASSES),
)
FUNDS = (
    funds("withdrawal_min", _("Smallest withdrawal"), "amount", "10", bounds=AT_LEAST_0),
    funds("withdrawal_daily_limit", _("Daily withdrawal limit"), "amount", "50000", bounds=AT_LEAST_0),
    funds("withdrawal_fee_fixed", _("Withdrawal fee, fixed"), "amount", "0", bounds=AT_LEAST_0),
    funds(
        "withdrawal_fee_percent",
        _("Withdrawal fee, percent"),
        "number",
        "0",
        _("percent of the withdrawal"),
        _up_to(10),
    ),
    funds("two_person_threshold", _("Second approval from"), "amount", "10000", bounds=AT_LEAST_0),
    funds("payout_gateway", _("Payout gateway"), "gateway", ""),
)
MEMBERS = (Parameter("members", "email_sign_up", _("Members may register with an email address"), "flag", False),)
VIP = (Parameter("vip", "points_per_100", _("VIP points per 100 invested"), "whole", "1", bounds=_up_to(10000)),)
HELP = {
    "lending.max_annual_rate_percent": _(
        "The highest annual rate a loan may take: its APR with the site's fees included, and its nominal rate."
    ),
    "lending.bid_unit": _("Bids are multiples of it."),
    "lending.borrower_fee_percent": _("The platform's fee on a loan."),
    "lending.borrower_fee_mode": _("Deducting it from the amount disbursed is not allowed in China."),
    "lending.reminder_days": _("An SMS this many days before each due date."),
    "lending.penalty_rate_percent_per_day": _("Accrues on an overdue installment every day."),
    "lending.late_fee": _("A fixed fee when an installment falls overdue."),
    "lending.collect_partial": _("Close of day takes what the borrower holds when it does not cover the installment."),
    "lending.advance_after_days": _("0: never."),
    "lending.reserve_advances": _("A guarantor always advances; the platform's own reserve only when this is on."),
    "lending.accelerate_after_days": _("Everything falls due at once. 0: never."),
    "lending.special_mention_after_days": _(
        "A loan more than this many days past due is at least special mention. 0: any overdue installment."
    ),
    "lending.substandard_after_days": _("Each class needs more days past due than the one before it."),
    "lending.write_off_min_class": _("A defaulted loan is written off only once it is in one of these classes."),
    "lending.watch_months": _("An extended or restructured loan stays at least special mention this long."),
    "lending.provision_normal_percent": _("The provision each class needs, shown on loans and in the reports."),
    "funds.two_person_threshold": _("Withdrawals from this amount need a second staff member's approval."),
    "funds.payout_gateway": _("The payment gateway that pays withdrawals out; none: staff pay them by hand."),
}
PARAMETERS = LENDING + CLASSIFICATION + FUNDS + MEMBERS + VIP
DEFAULT_VIP_LEVELS = (("V0", 0), ("V1", 1000), ("V2", 5000), ("V3", 20000), ("V4", 100000))
"""The levels that apply while the tenant sets none (``core.members.conduct``)."""
EXTRA_LEVEL_ROWS = 2
LEVEL_FIELD = re.compile(r"^vip\.levels\[(\d+)\](.*)$")


def _whole(text: str):
    """A whole number as typed; anything else as it is, for the manifest to refuse by its field."""
    try:
        return int(text)
    except ValueError:
        return text


def _level_count(form: dict) -> int:
    """How many VIP level rows the form has (its highest ``vip.levels[i]`` plus one)."""
    return 1 + max([int(m.group(1)) for m in map(LEVEL_FIELD.match, form) if m] or [-1])


def _parameters_form(tenant) -> dict:
    form = {}
    for p in PARAMETERS:
        value = (getattr(tenant, p.section) or {}).get(p.key)
        if p.kind == "flag":
            form[p.name] = "" if value is None else ("true" if value else "false")
        else:
            form[p.name] = "" if value is None else str(value)
    id_types = (tenant.members or {}).get("id_types") or []
    form["members.id_types"] = list(id_types)
    form["members.id_types.default"] = id_types[0] if id_types else ""
    for i, (name, points) in enumerate((tenant.vip or {}).get("levels") or []):
        form[f"vip.levels[{i}].name"], form[f"vip.levels[{i}].points"] = name, str(points)
    return form


def _parameter_rows(request, params) -> list[dict]:
    tenant = request.tenant
    rows = []
    for p in params:
        choices = p.choices
        if p.kind == "gateway":  # codes: the page names each gateway (h.gateway), enabled or not
            stored = (tenant.funds or {}).get(p.key)
            choices = tuple(dict.fromkeys([*gateways(request.hooks), *([stored] if stored else [])]))
        row = {"p": p, "choices": choices, "default_minor": None, "default_label": None, "default_number": None}
        if p.kind == "amount":
            row["default_minor"] = Money.parse(p.default, tenant.currency).minor
        elif p.kind == "flag":
            row["default_label"] = _("Yes") if p.default else _("No")
        elif p.kind == "choice":
            row["default_label"] = dict(p.choices)[p.default]
        elif p.kind == "gateway":
            row["default_label"] = _("No gateway")
        else:
            row["default_number"] = Decimal(p.default)
        rows.append(row)
    return rows


def _parameters_page(request, form: dict | None = None, errors: dict | None = None) -> dict:
    tenant = request.tenant
    form = _parameters_form(tenant) if form is None else form
    level_rows = _level_count(form)
    return {
        "form": form,
        "errors": errors or {},
        "sections": (
            (_("Lending"), _parameter_rows(request, LENDING)),
            (_("Loan classification"), _parameter_rows(request, CLASSIFICATION)),
            (_("Withdrawal rules"), _parameter_rows(request, FUNDS)),
            (_("Members"), _parameter_rows(request, MEMBERS)),
            (_("VIP"), _parameter_rows(request, VIP)),
        ),
        "id_types": ID_TYPES,
        "level_rows": range(level_rows + EXTRA_LEVEL_ROWS),
        "default_levels": DEFAULT_VIP_LEVELS,
        "currency": tenant.currency,
        "saved": request.GET.get("saved"),
    }


def _parameter_value(p: Parameter, text: str):
    if p.kind == "flag":
        return {"true": True, "false": False}.get(text)
    if p.kind == "whole":
        return _whole(text) if text else None
    return text or None


@view_config(route_name="admin.settings_parameters", renderer="admin/settings/parameters.pt", permission=PERMISSION)
def parameters(request):
    if request.method != "POST":
        return _parameters_page(request)
    form = posted(request)
    form["members.id_types"] = request.POST.getall("members.id_types")
    rows: list[int] = []  # the form's row of each level sent, so a refusal of level i shows by its row
    on_refusal(request, lambda error: _parameters_page(request, form, {_level_field(error.field, rows): error.message}))

    def edit(data: dict) -> None:
        for section in ("lending", "funds", "members", "vip"):
            table = dict(data.get(section) or {})
            for p in PARAMETERS:
                if p.section == section:
                    set_value(table, p.key, _parameter_value(p, typed(form, p.name)))
            if section == "members":
                set_value(table, "id_types", _id_types(form))
            if section == "vip":
                set_value(table, "levels", _levels(form, rows))
            put_section(data, section, table)

    changes = change_settings(request, edit, "settings.parameters")
    return saved(request, "admin.settings_parameters", changes)


def _id_types(form: dict) -> list[str]:
    """The ID types ticked, the default one first (none ticked: not set, every type accepted)."""
    ticked = [code for code, _label in ID_TYPES if code in form.get("members.id_types", [])]
    first = form.get("members.id_types.default")
    if first in ticked:
        ticked.remove(first)
        ticked.insert(0, first)
    return ticked


def _levels(form: dict, rows: list[int]) -> list[dict]:
    """The VIP levels typed, blank rows left out (none: the default levels apply)."""
    levels, rows[:] = [], []
    for i in range(_level_count(form)):
        name = typed(form, f"vip.levels[{i}].name")
        points = typed(form, f"vip.levels[{i}].points")
        if name or points:
            levels.append({"name": name, "points": _whole(points)})
            rows.append(i)
    return levels


def _level_field(field: str, rows: list[int]) -> str:
    """``vip.levels[j]`` as the manifest counts the levels sent, named by the form's row."""
    found = LEVEL_FIELD.match(field)
    if found is None or int(found.group(1)) >= len(rows):
        return field
    return f"vip.levels[{rows[int(found.group(1))]}]{found.group(2)}"
