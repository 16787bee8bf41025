"""The loan-type provider type (信用標, 擔保標, 淨值標, 秒標, 抵押標).

A loan type is a plugin's provider (hook ``lendstack_loan_types``). Core owns
the lifecycle; a loan type only answers questions about its own rules.
"""

from __future__ import annotations

from dataclasses import dataclass

from .money import Money
from .plugin_registry import collect_by_code


@dataclass(frozen=True)
class BorrowerProfile:
    """What a loan type may know of the borrower: credit line left and net assets, in the loan's currency.

    ``net_assets`` is available + frozen + principal still owed to them −
    principal they still owe (the 淨值 of a net-worth loan).
    """

    credit_line: Money
    credit_available: Money
    net_assets: Money


@dataclass(frozen=True)
class LoanApplication:
    """What a borrower filled in, before any type-specific data is checked."""

    amount: Money
    term_months: int
    repayment_method: str
    data: dict
    borrower: BorrowerProfile | None = None


@dataclass(frozen=True)
class RuleViolation:
    """One rule an application breaks: the field at fault and a message a borrower can act on."""

    field: str
    message: str


class LoanType:
    """Base of loan-type providers; subclasses set ``code``, ``name`` and override the rules."""

    code: str = ""
    name: str = ""
    description: str = ""
    badge: str = ""
    #: Disbursed and repaid in one step as soon as the loan is full (秒標).
    settles_when_full: bool = False
    #: Only staff may submit this type (on behalf of the tenant's own account), not members.
    staff_only: bool = False
    #: The loan holds collateral described in its application data, released on settlement.
    holds_collateral: bool = False
    #: The application names a guarantor (``guarantor_id``) who advances on overdue installments.
    needs_guarantor: bool = False

    def __init__(self, settings: dict):
        self.settings = settings

    def allowed_methods(self, enabled: list[str]) -> list[str]:
        """The repayment methods this type allows among the tenant's enabled ones."""
        allowed = self.settings.get("repayment_methods") or enabled
        return [code for code in enabled if code in allowed]

    def check_application(self, application: LoanApplication) -> list[RuleViolation]:
        """Every rule of this type the application breaks (empty when it may be submitted).

        Core has already checked the repayment method against :meth:`allowed_methods`.
        """
        return []


def loan_types(hooks) -> dict[str, LoanType]:
    """The tenant's enabled loan types by code, in a stable order."""
    return collect_by_code(hooks, "lendstack_loan_types")
