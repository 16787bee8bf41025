"""content review, community moderation and customer service: the new permissions for existing roles

Revision ID: 0031
Revises: 0030
"""

import sqlalchemy as sa
from alembic import op

revision = '0031'
down_revision = '0030'
branch_labels = None
depends_on = None

GRANTS = {
    "administrator": ["content.write", "content.design", "content.review", "community.moderate", "support.reply"],
    "content_editor": ["content.write"],
    "customer_service": ["support.reply"],
}
"""What each built-in role gains (new built-in roles — designer, content reviewer, moderator — are created when a
tenant's roles are next read, as for any tenant)."""


def _roles():
    return sa.table(
        "roles",
        sa.column("id"),
        sa.column("code"),
        sa.column("builtin"),
        sa.column("permissions", sa.JSON),
    )


def upgrade():
    roles, connection = _roles(), op.get_bind()
    for code, added in GRANTS.items():
        for role_id, permissions in connection.execute(
            sa.select(roles.c.id, roles.c.permissions).where(roles.c.builtin.is_(True), roles.c.code == code)
        ).all():
            granted = sorted(set(permissions or []) | set(added))
            if granted != sorted(permissions or []):
                connection.execute(roles.update().where(roles.c.id == role_id).values(permissions=granted))


def downgrade():
    roles, connection = _roles(), op.get_bind()
    every = {p for added in GRANTS.values() for p in added}
    for role_id, permissions in connection.execute(sa.select(roles.c.id, roles.c.permissions)).all():
        kept = sorted(p for p in (permissions or []) if p not in every)
        if kept != sorted(permissions or []):
            connection.execute(roles.update().where(roles.c.id == role_id).values(permissions=kept))
