"""risk reserve requests; the reserve.manage permission for administrators

Revision ID: 0024
Revises: 0023
"""

import sqlalchemy as sa
from alembic import op

import core.db

revision = '0024'
down_revision = '0023'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'reserve_requests',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('direction', sa.String(length=12), nullable=False),
        sa.Column('account', sa.String(length=20), nullable=False),
        sa.Column('amount', sa.BigInteger(), nullable=False),
        sa.Column('currency', sa.String(length=3), nullable=False),
        sa.Column('reason', sa.String(length=300), nullable=False),
        sa.Column('status', sa.String(length=12), nullable=False),
        sa.Column('requested_by', sa.String(length=120), nullable=False),
        sa.Column('decided_by', sa.String(length=120), nullable=False),
        sa.Column('created_at', core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('decided_at', core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column('tenant_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ['tenant_id'], ['tenants.id'], name=op.f('fk_reserve_requests_tenant_id_tenants'), ondelete='CASCADE'
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_reserve_requests')),
    )
    with op.batch_alter_table('reserve_requests', schema=None) as batch_op:
        batch_op.create_index('ix_reserve_requests_tenant', ['tenant_id', 'id'], unique=False)
    # the new permission to fund and withdraw from the risk reserve, for the built-in administrator roles;
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
        if "reserve.manage" not in (permissions or []):
            connection.execute(
                roles.update()
                .where(roles.c.id == role_id)
                .values(permissions=sorted([*(permissions or []), "reserve.manage"]), requires_2fa=True)
            )


def downgrade():
    with op.batch_alter_table('reserve_requests', schema=None) as batch_op:
        batch_op.drop_index('ix_reserve_requests_tenant')
    op.drop_table('reserve_requests')
