"""Customer input as typed values: what a page's form or an API body gave, parsed and checked at the edge.

Each parser takes the form (or JSON body) as a mapping of strings and returns a frozen dataclass the
services take; a value that cannot be used raises :class:`CustomerError` naming the field. Amounts are in
the tenant's currency (major units typed, minor units kept); blank amounts and counts are 0.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from ...domain import DomainError
from ...i18n import _
from ...members.identity import resident_id_problem
from ...members.services import MemberError, clean_email, clean_phone
from ...money import InvalidAmount, InvalidRate, parse_amount, parse_rate, whole_number
from .identifiers import CREDIT_CODE_MESSAGES, INDUSTRIES, RESIDENT_ID_MESSAGES, credit_code_problem, normalized
from .models import MaritalStatus

ID_TYPES = ("cn_resident", "passport")
ID_TYPE_LABELS = {"cn_resident": _("Resident ID card (mainland China)"), "passport": _("Passport")}


class CustomerError(DomainError):
    """Customer input or an action on customers refused; nothing changed."""


def text(form: Mapping, field: str, limit: int, *, required: bool = False) -> str:
    """A text field trimmed; refused (never cut short) past ``limit`` characters, or when required and empty."""
    value = str(form.get(field) or "").strip()
    if "\x00" in value:
        raise CustomerError(field, _("Remove the control characters."))
    if len(value) > limit:
        raise CustomerError(field, _("Use at most ${n} characters.", mapping={"n": limit}))
    if required and not value:
        raise CustomerError(field, _("Fill this in."))
    return value


def amount(form: Mapping, field: str, currency: str, *, signed: bool = False) -> int:
    """An amount in minor units; blank is 0; a leading minus only when ``signed`` (a loss, an outflow)."""
    typed = str(form.get(field) if form.get(field) is not None else "").strip()
    if not typed:
        return 0
    negative = signed and typed.startswith("-")
    try:
        minor = parse_amount(typed[1:] if negative else typed, currency, form=True).minor
    except InvalidAmount as error:
        raise CustomerError(field, error.message) from None
    return -minor if negative else minor


def count(form: Mapping, field: str, maximum: int) -> int:
    """A whole number from 0 to ``maximum``; blank is 0."""
    typed = form.get(field)
    if typed is None or str(typed).strip() == "":
        return 0
    value = whole_number(typed)
    if value is None or not 0 <= value <= maximum:
        raise CustomerError(field, _("Enter a whole number from 0 to ${n}.", mapping={"n": maximum}))
    return value


def date(form: Mapping, field: str, *, latest: dt.date | None = None, required: bool = False) -> dt.date | None:
    """An ISO date (2024-12-31); blank is ``None`` unless required; not after ``latest``."""
    typed = str(form.get(field) or "").strip()
    if not typed:
        if required:
            raise CustomerError(field, _("Enter a date such as 2024-12-31."))
        return None
    try:
        value = dt.date.fromisoformat(typed) if len(typed) == 10 and typed.isascii() else None
    except ValueError:
        value = None
    if value is None or value.year < 1800:
        raise CustomerError(field, _("Enter a date such as 2024-12-31."))
    if latest is not None and value > latest:
        raise CustomerError(field, _("Enter a date no later than ${date}.", mapping={"date": latest.isoformat()}))
    return value


def percent(form: Mapping, field: str) -> Decimal:
    """A share in percent, above 0 and at most 100, with up to 4 decimals."""
    try:
        value = parse_rate(form.get(field), maximum=Decimal(100))
    except InvalidRate:
        value = None
    if value is None or value <= 0:
        raise CustomerError(field, _("Enter a percentage above 0 and at most 100, such as 25.5."))
    return value


def contact(tenant, form: Mapping) -> dict:
    """``phone``, ``email`` and ``address``: each optional, checked when given."""
    phone, email = text(form, "phone", 40), text(form, "email", 254)
    try:
        phone = clean_phone(tenant, phone) if phone else ""
        email = clean_email(email) if email else ""
    except MemberError as error:
        raise CustomerError(error.field, error.message) from None
    return {"phone": phone, "email": email, "address": text(form, "address", 300)}


def resident_id(number: str, field: str, today: dt.date) -> str:
    """A mainland resident ID number, normalized, or refused with the reason."""
    number = normalized(number)
    problem = resident_id_problem(number, today)
    if problem:
        raise CustomerError(field, RESIDENT_ID_MESSAGES[problem])
    return number


def credit_code(code, field: str = "credit_code") -> str:
    """A unified social credit code, normalized, or refused with the reason."""
    code = normalized(code)
    if not code:
        raise CustomerError(field, _("Enter the unified social credit code."))
    problem = credit_code_problem(code)
    if problem:
        raise CustomerError(field, CREDIT_CODE_MESSAGES[problem])
    return code


@dataclass(frozen=True)
class Identity:
    """Who an individual is: legal name, ID type and number (and the birth date a resident ID holds)."""

    name: str
    id_type: str
    identifier: str
    birth_date: dt.date | None


def identity(tenant, form: Mapping) -> Identity:
    """A walk-in individual's identity as staff typed it."""
    name = text(form, "name", 120, required=True)
    id_type = str(form.get("id_type") or "cn_resident")
    if id_type not in ID_TYPES:
        raise CustomerError("id_type", _("Choose an ID type."))
    if id_type == "cn_resident":
        number = resident_id(str(form.get("id_number") or ""), "id_number", tenant.business_date)
        born = dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    else:
        number = normalized(text(form, "id_number", 40, required=True))
        if not number.isascii() or not number.isalnum():
            raise CustomerError("id_number", _("Use only letters and digits."))
        born = date(form, "birth_date", latest=tenant.business_date)
    return Identity(name, id_type, number, born)


INDIVIDUAL_AMOUNTS = (
    "monthly_income",
    "property_value",
    "vehicle_value",
    "deposits",
    "other_assets",
    "total_liabilities",
    "monthly_debt_payments",
)


def individual_details(tenant, form: Mapping) -> dict:
    """An individual's work, family, assets and liabilities, as :class:`IndividualProfile` columns."""
    marital = str(form.get("marital_status") or "")
    if marital and marital not in {m.value for m in MaritalStatus}:
        raise CustomerError("marital_status", _("Choose a marital status."))
    details = {
        "employer": text(form, "employer", 120),
        "position": text(form, "position", 80),
        "employment_years": count(form, "employment_years", 70),
        "marital_status": marital,
        "dependants": count(form, "dependants", 30),
        "property_count": count(form, "property_count", 100),
    }
    for field in INDIVIDUAL_AMOUNTS:
        details[field] = amount(form, field, tenant.currency)
    return details


def corporate(tenant, form: Mapping) -> dict:
    """A company's name, code and registration, as column values (``name``, ``identifier`` and the profile's)."""
    industry = str(form.get("industry") or "")
    if industry not in INDUSTRIES:
        raise CustomerError("industry", _("Choose the industry section."))
    return {
        "name": text(form, "name", 120, required=True),
        "identifier": credit_code(form.get("credit_code")),
        "legal_representative": text(form, "legal_representative", 80, required=True),
        "registered_capital": amount(form, "registered_capital", tenant.currency),
        "industry": industry,
        "established_on": date(form, "established_on", latest=tenant.business_date),
    }
