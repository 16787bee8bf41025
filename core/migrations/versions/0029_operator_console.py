"""operator console: the first administrator's welcome links

Revision ID: 0029
Revises: 0028
"""

import sqlalchemy as sa
from alembic import op

import core.db

revision = '0029'
down_revision = '0028'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'welcome_tokens',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('staff_id', sa.Integer(), nullable=False),
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('email', sa.String(length=254), nullable=False),
        sa.Column('created_by', sa.String(length=120), nullable=False),
        sa.Column('created_at', core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('expires_at', core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('used_at', core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column('tenant_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ['staff_id'], ['staff_users.id'], name=op.f('fk_welcome_tokens_staff_id_staff_users'), ondelete='CASCADE'
        ),
        sa.ForeignKeyConstraint(
            ['tenant_id'], ['tenants.id'], name=op.f('fk_welcome_tokens_tenant_id_tenants'), ondelete='CASCADE'
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_welcome_tokens')),
        sa.UniqueConstraint('token_hash', name=op.f('uq_welcome_tokens_token_hash')),
    )
    with op.batch_alter_table('welcome_tokens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_welcome_tokens_staff_id'), ['staff_id'], unique=False)


def downgrade():
    with op.batch_alter_table('welcome_tokens', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_welcome_tokens_staff_id'))
    op.drop_table('welcome_tokens')
