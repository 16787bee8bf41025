"""contracts, their signing, disbursements and the lending fund

Revision ID: 0042
Revises: 0041
"""

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

import core.db  # noqa: F401

revision = '0042'
down_revision = '0041'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
