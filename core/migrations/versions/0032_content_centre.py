"""content centre: sections, items with a review workflow and versions, agreements

Revision ID: 0032
Revises: 0031
"""

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = '0032'
down_revision = '0031'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
