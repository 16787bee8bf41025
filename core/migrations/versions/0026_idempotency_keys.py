"""idempotency keys per member (or staff) and operation across the tenant; the loan.close_of_day permission

Revision ID: 0026
Revises: 0025
"""

import sqlalchemy as sa
from alembic import op

import core.db

revision = '0026'
down_revision = '0025'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'idempotency_keys',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('principal', sa.String(length=40), nullable=False),
        sa.Column('operation', sa.String(length=40), nullable=False),
        sa.Column('key', sa.String(length=80), nullable=False),
        sa.Column('fingerprint', sa.String(length=64), nullable=False),
        sa.Column('status', sa.Integer(), nullable=True),
        sa.Column('answer', sa.JSON(), nullable=True),
        sa.Column('resource', sa.String(length=80), nullable=False),
        sa.Column('created_at', core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('tenant_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ['tenant_id'], ['tenants.id'], name=op.f('fk_idempotency_keys_tenant_id_tenants'), ondelete='CASCADE'
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_idempotency_keys')),
        sa.UniqueConstraint(
            'tenant_id',
            'principal',
            'operation',
            'key',
            name=op.f('uq_idempotency_keys_tenant_id_principal_operation_key'),
        ),
    )
    # close of day through the API needs a permission of its own, for the built-in administrator roles;
    # it moves money, so a role holding it requires two-factor sign-in
    roles = sa.table(
        "roles",
        sa.column("id"),
        sa.column("code"),
        sa.column("builtin"),
        sa.column("permissions", sa.JSON),
        sa.column("requires_2fa", sa.Boolean),
    )
    connection = op.get_bind()
    for role_id, permissions in connection.execute(
        sa.select(roles.c.id, roles.c.permissions).where(roles.c.builtin.is_(True), roles.c.code == "administrator")
    ).all():
        if "loan.close_of_day" not in (permissions or []):
            connection.execute(
                roles.update()
                .where(roles.c.id == role_id)
                .values(permissions=sorted([*(permissions or []), "loan.close_of_day"]), requires_2fa=True)
            )


def downgrade():
    op.drop_table('idempotency_keys')
