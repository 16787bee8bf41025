"""per-tenant counters for loan numbers (taken under a lock, never counted)

Revision ID: 0022
Revises: 0021
"""

import sqlalchemy as sa
from alembic import op

import core.db

revision = '0022'
down_revision = '0021'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'tenant_counters',
        sa.Column('tenant_id', sa.Integer(), nullable=False),
        sa.Column('series', sa.String(length=20), nullable=False),
        sa.Column('value', sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ['tenant_id'], ['tenants.id'], name=op.f('fk_tenant_counters_tenant_id_tenants'), ondelete='CASCADE'
        ),
        sa.PrimaryKeyConstraint('tenant_id', 'series', name=op.f('pk_tenant_counters')),
    )
    # Loan numbers went on from the count of a tenant's loans: the counter starts there.
    op.execute(
        "INSERT INTO tenant_counters (tenant_id, series, value) "
        "SELECT tenant_id, 'loan', COUNT(*) FROM loans GROUP BY tenant_id"
    )


def downgrade():
    op.drop_table('tenant_counters')
