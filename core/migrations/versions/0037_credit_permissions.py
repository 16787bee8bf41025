"""credit system: the new permissions for existing built-in roles

Revision ID: 0037
Revises: 0036
"""

import sqlalchemy as sa
from alembic import op

revision = '0037'
down_revision = '0036'
branch_labels = None
depends_on = None

GRANTS = {
    "administrator": [
        "credit.customer",
        "credit.model",
        "credit.rate",
        "credit.apply",
        "credit.approve",
        "credit.workflow",
        "credit.contract",
        "credit.disburse",
    ],
    "risk_officer": ["credit.model", "credit.rate", "credit.approve", "credit.workflow"],
    "cashier": ["credit.disburse"],
}
"""What each built-in role gains (the new built-in roles — relationship manager, credit approver — are created when
a tenant's roles are next read, as for any tenant). ``credit.disburse`` moves money: a role holding it asks for a
second factor, as the administrator and cashier roles already do."""


def _roles():
    return sa.table(
        "roles",
        sa.column("id"),
        sa.column("code"),
        sa.column("builtin"),
        sa.column("permissions", sa.JSON),
        sa.column("requires_2fa"),
    )


def upgrade():
    roles, connection = _roles(), op.get_bind()
    for code, added in GRANTS.items():
        for role_id, permissions in connection.execute(
            sa.select(roles.c.id, roles.c.permissions).where(roles.c.builtin.is_(True), roles.c.code == code)
        ).all():
            granted = sorted(set(permissions or []) | set(added))
            if granted != sorted(permissions or []):
                values = {"permissions": granted}
                if "credit.disburse" in added:
                    values["requires_2fa"] = True
                connection.execute(roles.update().where(roles.c.id == role_id).values(**values))


def downgrade():
    roles, connection = _roles(), op.get_bind()
    every = {p for added in GRANTS.values() for p in added}
    for role_id, permissions in connection.execute(sa.select(roles.c.id, roles.c.permissions)).all():
        kept = sorted(p for p in (permissions or []) if p not in every)
        if kept != sorted(permissions or []):
            connection.execute(roles.update().where(roles.c.id == role_id).values(permissions=kept))
