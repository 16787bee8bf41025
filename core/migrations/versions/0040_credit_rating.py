"""rating models, their versions, and ratings

Revision ID: 0040
Revises: 0039
"""

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

import core.db  # noqa: F401

revision = '0040'
down_revision = '0039'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
