"""tenant settings from the browser: menus, settings versions, archived tenants, custom roles that can be
deactivated, operators' second factor; the permission system.settings is renamed settings.manage

Revision ID: 0028
Revises: 0027
"""

import sqlalchemy as sa
from alembic import op

import core.db

revision = '0028'
down_revision = '0027'
branch_labels = None
depends_on = None


def _rename_permission(old, new):
    roles = sa.table("roles", sa.column("id"), sa.column("permissions", sa.JSON))
    connection = op.get_bind()
    for role_id, permissions in connection.execute(sa.select(roles.c.id, roles.c.permissions)).all():
        if old in (permissions or []):
            renamed = sorted({new if p == old else p for p in permissions})
            connection.execute(roles.update().where(roles.c.id == role_id).values(permissions=renamed))


def upgrade():
    with op.batch_alter_table('tenants', schema=None) as batch_op:
        batch_op.add_column(sa.Column('menus', sa.JSON(), nullable=True))
    with op.batch_alter_table('roles', schema=None) as batch_op:
        batch_op.add_column(sa.Column('active', sa.Boolean(), nullable=False, server_default=sa.true()))
    with op.batch_alter_table('operators', schema=None) as batch_op:
        batch_op.add_column(sa.Column('totp_secret', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('totp_last_step', sa.BigInteger(), nullable=False, server_default='0'))
    op.create_table(
        'tenant_versions',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('number', sa.Integer(), nullable=False),
        sa.Column('actor', sa.String(length=120), nullable=False),
        sa.Column('action', sa.String(length=80), nullable=False),
        sa.Column('changes', sa.JSON(), nullable=False),
        sa.Column('manifest', core.db.SealedJSON(), nullable=False),
        sa.Column('created_at', core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('tenant_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ['tenant_id'], ['tenants.id'], name=op.f('fk_tenant_versions_tenant_id_tenants'), ondelete='CASCADE'
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_tenant_versions')),
        sa.UniqueConstraint('tenant_id', 'number', name=op.f('uq_tenant_versions_tenant_id_number')),
    )
    _rename_permission("system.settings", "settings.manage")


def downgrade():
    _rename_permission("settings.manage", "system.settings")
    op.drop_table('tenant_versions')
    with op.batch_alter_table('operators', schema=None) as batch_op:
        batch_op.drop_column('totp_last_step')
        batch_op.drop_column('totp_secret')
    with op.batch_alter_table('roles', schema=None) as batch_op:
        batch_op.drop_column('active')
    with op.batch_alter_table('tenants', schema=None) as batch_op:
        batch_op.drop_column('menus')
