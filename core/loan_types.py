"""The loan-type provider type (信用標, 擔保標, 淨值標, 秒標, 抵押標).

A loan type is a plugin's provider (hook ``lendstack_loan_types``). Core owns
the lifecycle; a loan type only answers questions about its own rules.
"""

from __future__ import annotations

from dataclasses import dataclass

import colander

from .i18n import _
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

    #: The refusal of a term longer than the type's ``max_term_months`` setting (``${months}``: that limit).
    term_message = _("This loan type runs at most ${months} months.")

    def __init__(self, settings: dict):
        self.settings = settings

    def term_violations(self, application: LoanApplication) -> list[RuleViolation]:
        """The refusal of a term longer than the ``max_term_months`` setting (none when the type has no such
        setting)."""
        longest = self.settings.get("max_term_months")
        if longest is None or application.term_months <= longest:
            return []
        return [RuleViolation("term_months", _(self.term_message, mapping={"months": longest}))]

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


def longest_term_setting(default: int, *, most: int = 360) -> colander.SchemaNode:
    """A loan type's ``max_term_months`` setting (1 to ``most`` months), read by :meth:`LoanType.term_violations`."""
    return colander.SchemaNode(
        colander.Int(),
        missing=default,
        validator=colander.Range(1, most),
        title=_("Longest term (months)"),
        description=_("An application for a longer term is refused."),
    )


def repayment_methods_setting(default: tuple[str, ...] = ()) -> colander.SchemaNode:
    """A loan type's ``repayment_methods`` setting, read by :meth:`LoanType.allowed_methods`: the site's
    enabled methods to tick (``default`` until the tenant chooses); none ticked allows every one."""
    return colander.SchemaNode(
        colander.List(),
        missing=list(default),
        choices_from="lendstack_repayment_methods",
        title=_("Repayment methods"),
        description=_("The repayment methods this type allows; none ticked: every one the site offers."),
    )
