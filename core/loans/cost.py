"""What a loan costs its borrower: the platform's fee, how it is charged, and the APR (綜合年化成本).

The borrower always receives the whole principal: a fee is never taken from
it by default. The 2017 notice on cash loans (整治辦函〔2017〕141號) bans
deducting interest or fees from the principal in advance (砍頭息), and the
Civil Code (art. 670) counts only the amount actually received as the loan.
A tenant chooses how its ``borrower_fee_percent`` is charged
(``[lending] borrower_fee_mode``):

- ``installments`` (default): spread over the installments as a service-fee
  column — equal parts, the rounding residue in the last one;
- ``upfront``: once, as its own payment from the borrower's balance at
  disbursement (refused when the balance, before the loan arrives, is short);
- ``deducted``: taken off the principal at disbursement — an explicit opt-in
  for tenants outside China only.

Every mode shows in the APR: the IRR of the borrower's real cash flows
(:mod:`core.apr`), which the tenant's rate cap bounds as well as the nominal
rate.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from ..apr import annual_percentage_rate

FEE_MODES = ("installments", "upfront", "deducted")
DEFAULT_FEE_MODE = "installments"


def fee_mode(tenant) -> str:
    """How the tenant charges the borrower fee (the manifest validates the setting)."""
    mode = str((tenant.lending or {}).get("borrower_fee_mode", DEFAULT_FEE_MODE))
    return mode if mode in FEE_MODES else DEFAULT_FEE_MODE


def borrower_fee(tenant, amount: int) -> int:
    """The platform's fee on a loan of ``amount`` minor units: ``borrower_fee_percent``, rounded half-up."""
    percent = Decimal(str((tenant.lending or {}).get("borrower_fee_percent", "0")))
    return int((Decimal(amount) * percent / 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def service_fees(fee: int, periods: int) -> list[int]:
    """``fee`` spread over ``periods`` installments: equal parts in minor units, the residue in the last."""
    if periods <= 0:
        return []
    part = fee // periods
    return [part] * (periods - 1) + [fee - part * (periods - 1)]


@dataclass(frozen=True)
class Charges:
    """How a loan's fee is charged: ``at_start`` at disbursement (upfront or deducted), ``per_period`` with
    the installments; ``received`` is what reaches the borrower's balance from the loan itself."""

    mode: str
    fee: int
    at_start: int
    per_period: tuple[int, ...]
    received: int


def charges(tenant, amount: int, periods: int, *, mode: str | None = None, fee: int | None = None) -> Charges:
    """The fee of a loan of ``amount`` over ``periods`` under the tenant's mode (or the ``mode`` and ``fee``
    a loan was disbursed with)."""
    mode = mode or fee_mode(tenant)
    fee = borrower_fee(tenant, amount) if fee is None else fee
    if mode == "installments":
        return Charges(mode, fee, 0, tuple(service_fees(fee, periods)), amount)
    return Charges(mode, fee, fee, (0,) * periods, amount - fee if mode == "deducted" else amount)


def apr_percent(start: dt.date, rows, charged: Charges) -> Decimal | None:
    """The APR of a schedule's ``rows`` (principal, interest, due date) with the fee as ``charged``: the
    borrower gets the principal at ``start`` and pays any fee due at the start (however it is paid,
    it is money the loan costs them at that date), then each installment with its service fee."""
    flows = [(start, charged.received - (charged.at_start if charged.mode == "upfront" else 0))]
    flows += [(row.due_date, -(row.principal + row.interest + fee)) for row, fee in zip(rows, charged.per_period)]
    return annual_percentage_rate(start, flows)
