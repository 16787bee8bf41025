"""customers' details, relationships, documents and financial statements

Revision ID: 0039
Revises: 0038
"""

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

import core.db  # noqa: F401

revision = '0039'
down_revision = '0038'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
