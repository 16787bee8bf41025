"""help centre: FAQ, messages inbox

Revision ID: 0034
Revises: 0033
"""

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = '0034'
down_revision = '0033'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
