"""Named staff permissions and the roles every tenant starts with.

Views declare a permission by name (``permission="member.verify"``); the
security policy grants it when one of the staff user's roles holds it. Deny by
default: a permission no role holds is granted to nobody, and the
pseudo-permissions ``staff``, ``member`` and ``operator`` only say who is
signed in.
"""

from __future__ import annotations

import re

import sqlalchemy as sa

from ..i18n import _
from .models import Role

PERMISSIONS = {
    "member.view": _("See members and their details"),
    "member.verify": _("Approve or reject real-name verification and bank cards"),
    "member.documents": _("Open members' identity documents"),
    "member.violations": _("Record violations and freeze members"),
    "member.message": _("Message members"),
    "member.points": _("Grant or take away VIP points"),
    "loan.review": _("First review of loan applications"),
    "loan.final_review": _("Final review and disbursement"),
    "loan.credit_line": _("Set members' credit lines"),
    "loan.guarantee": _("Record a guarantor's acceptance of a guaranteed loan"),
    "loan.write_off": _("Write off defaulted loans"),
    "loan.close_of_day": _("Run close of day (collect due installments, mark the overdue)"),
    "funds.view": _("See recharges, withdrawals and the ledger"),
    "funds.recharge.confirm": _("Confirm offline recharges"),
    "funds.withdraw.approve": _("Approve withdrawals"),
    "funds.adjust": _("Adjust member balances"),
    "reserve.manage": _("Fund and withdraw from the risk reserve"),
    "content.publish": _("Publish news, banners and help pages"),
    "content.write": _("Write news, pages and help articles and submit them for review"),
    "content.design": _("Manage images, cover pictures and banners"),
    "content.review": _("Review content: approve, return, publish and unpublish"),
    "community.moderate": _("Moderate the member community: pin, lock, move, hide and ban"),
    "support.reply": _("Answer members' and visitors' messages and live chats"),
    "credit.customer": _("Keep credit customers: individuals, companies, their financial statements"),
    "credit.model": _("Maintain credit rating models"),
    "credit.rate": _("Rate customers and approve grade overrides"),
    "credit.apply": _("Create credit applications and their supporting documents"),
    "credit.approve": _("Act on credit application steps: approve, return, reject"),
    "credit.workflow": _("Maintain credit products and approval workflows"),
    "credit.contract": _("Draw up and record the signing of loan contracts"),
    "credit.disburse": _("Disburse signed credit contracts (maker or checker)"),
    "credit.classify": _("Propose and approve loans' five-level classification; see provisions"),
    "credit.books": _("See the loan ledger books and the comprehensive loan query, and export them"),
    "credit.alert": _("See, acknowledge and close loan alerts; maintain the alert rules"),
    "system.staff": _("Manage staff users"),
    "system.roles": _("Manage roles and permissions"),
    "settings.manage": _("Change the site's settings"),
    "audit.view": _("Read the audit log"),
    "sms.view": _("See the SMS log"),
}

# Permissions that move money: a role holding any of them requires two-factor sign-in.
MONEY_PERMISSIONS = frozenset(
    {
        "loan.final_review",
        "funds.recharge.confirm",
        "funds.withdraw.approve",
        "funds.adjust",
        "loan.write_off",
        "reserve.manage",
        "loan.close_of_day",
        "credit.disburse",
    }
)

DEFAULT_ROLES = {
    "administrator": (_("Administrator"), sorted(PERMISSIONS)),
    "risk_officer": (
        _("Risk officer"),
        [
            "member.view",
            "member.verify",
            "member.documents",
            "member.violations",
            "loan.review",
            "loan.final_review",
            "loan.credit_line",
            "loan.guarantee",
            "funds.view",
            "credit.model",
            "credit.rate",
            "credit.approve",
            "credit.workflow",
            "credit.classify",
            "credit.books",
            "credit.alert",
        ],
    ),
    "cashier": (
        _("Cashier"),
        ["member.view", "funds.view", "funds.recharge.confirm", "funds.withdraw.approve", "credit.disburse"],
    ),
    "customer_service": (
        _("Customer service"),
        ["member.view", "member.message", "member.points", "sms.view", "support.reply"],
    ),
    "content_editor": (_("Content editor"), ["content.publish", "content.write"]),
    "designer": (_("Designer"), ["content.design"]),
    "content_reviewer": (_("Content reviewer"), ["content.review"]),
    "moderator": (_("Community moderator"), ["member.view", "community.moderate"]),
    "relationship_manager": (
        _("Relationship manager"),
        ["member.view", "credit.customer", "credit.rate", "credit.apply", "credit.contract", "credit.alert"],
    ),
    "credit_approver": (_("Credit approver"), ["member.view", "credit.approve", "credit.rate"]),
    "auditor": (_("Auditor (read-only)"), ["member.view", "funds.view", "audit.view", "sms.view", "credit.books"]),
}


ROLE_NAMES = {code: name for code, (name, _permissions) in DEFAULT_ROLES.items()}
"""The built-in roles by code: how a role recorded by its code (in the audit log) is named."""

AREAS = {
    "member": _("Members"),
    "loan": _("Loans"),
    "funds": _("Funds"),
    "credit": _("Credit"),
    "content": _("Content"),
    "community": _("Community and customer service"),
    "system": _("System"),
}
"""The areas the permission matrix groups permissions by, in the order it shows them."""

_AREA_OF = {"reserve": "funds", "settings": "system", "audit": "system", "sms": "system", "support": "community"}

ROLE_CODE = re.compile(r"^[a-z][a-z0-9_]{1,39}$")
"""A custom role's code (its key in the manifest's ``[roles]``): 2–40 lowercase letters, digits, underscores."""


def permission_area(code: str) -> str:
    """The area of the matrix a permission is shown in (``funds`` for ``reserve.manage``)."""
    head = code.split(".", 1)[0]
    return _AREA_OF.get(head, head)


def permissions_by_area() -> list[tuple[str, object, list[str]]]:
    """``(area, its label, its permissions)`` in the matrix's order; every permission in exactly one area."""
    return [(area, label, [p for p in PERMISSIONS if permission_area(p) == area]) for area, label in AREAS.items()]


def role_names(session, tenant_id: int) -> dict[str, object]:
    """Every role of the tenant by code: a built-in one by its translatable name, a custom one by its own."""
    names = {r.code: r.name for r in session.scalars(sa.select(Role).where(Role.tenant_id == tenant_id))}
    return names | {code: name for code, name in ROLE_NAMES.items()}


def ensure_default_roles(session, tenant_id: int) -> dict[str, Role]:
    """Create the built-in roles a tenant lacks; return the tenant's roles by code."""
    roles = {r.code: r for r in session.scalars(sa.select(Role).where(Role.tenant_id == tenant_id))}
    for code, (name, permissions) in DEFAULT_ROLES.items():
        if code not in roles:
            roles[code] = Role(
                tenant_id=tenant_id,
                code=code,
                name=name,
                permissions=list(permissions),
                requires_2fa=bool(MONEY_PERMISSIONS & set(permissions)),
                builtin=True,
            )
            session.add(roles[code])
    session.flush()
    return roles


def set_role_permissions(role: Role, permissions) -> None:
    """Grant exactly ``permissions`` (unknown names refused); money permissions force 2FA."""
    permissions = sorted(set(permissions))
    unknown = [p for p in permissions if p not in PERMISSIONS]
    if unknown:
        raise ValueError(f"unknown permission {unknown[0]!r}")
    role.permissions = permissions
    role.requires_2fa = bool(MONEY_PERMISSIONS & set(permissions))
