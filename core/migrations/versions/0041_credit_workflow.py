"""workflow definitions, application steps, decisions and documents

Revision ID: 0041
Revises: 0040
"""

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

import core.db  # noqa: F401

revision = '0041'
down_revision = '0040'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
