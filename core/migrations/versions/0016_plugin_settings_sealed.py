"""plugin settings sealed

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-29 04:26:51.281854
"""

import sqlalchemy as sa
from alembic import op

import core.db

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade():
    # Plugin settings hold credentials: stored as Fernet-encrypted text from now on
    # (core.db.SealedJSON). Existing rows stay readable as plain JSON text until the
    # tenant's settings next change.
    with op.batch_alter_table('tenant_plugins', schema=None) as batch_op:
        batch_op.alter_column(
            'settings',
            existing_type=sa.JSON(),
            type_=sa.Text(),
            existing_nullable=False,
            postgresql_using='settings::text',
        )


def downgrade():
    with op.batch_alter_table('tenant_plugins', schema=None) as batch_op:
        batch_op.alter_column(
            'settings',
            existing_type=sa.Text(),
            type_=sa.JSON(),
            existing_nullable=False,
            postgresql_using='settings::json',
        )
