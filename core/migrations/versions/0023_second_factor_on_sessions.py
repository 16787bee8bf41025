"""whether a session or token passed a second factor

Sessions and tokens opened before this revision did not record it, so they
count as opened without one: money-moving permissions wait for a new sign-in
with the authenticator code.

Revision ID: 0023
Revises: 0022
"""

import sqlalchemy as sa
from alembic import op

import core.db

revision = '0023'
down_revision = '0022'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('auth_sessions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('second_factor_at', core.db.UTCDateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table('auth_sessions', schema=None) as batch_op:
        batch_op.drop_column('second_factor_at')
