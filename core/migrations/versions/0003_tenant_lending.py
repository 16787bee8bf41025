"""tenant lending policy

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('tenants') as batch:
        batch.add_column(sa.Column('lending', sa.JSON(), nullable=False, server_default='{}'))


def downgrade():
    with op.batch_alter_table('tenants') as batch:
        batch.drop_column('lending')
