"""repayment management: offline repayments, recorded by a maker and applied to the loan by a checker

Revision ID: 0046
Revises: 0045
"""

import sqlalchemy as sa
from alembic import op

import core.db  # noqa: F401

revision = '0046'
down_revision = '0045'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'credit_offline_repayments',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('loan_id', sa.Integer(), nullable=False),
        sa.Column('amount', sa.BigInteger(), nullable=False),
        sa.Column('currency', sa.String(length=3), nullable=False),
        sa.Column('bank_reference', sa.String(length=120), nullable=False),
        sa.Column('received_on', sa.Date(), nullable=False),
        sa.Column('status', sa.String(length=12), nullable=False),
        sa.Column('requested_by', sa.String(length=120), nullable=False),
        sa.Column('decided_by', sa.String(length=120), nullable=False),
        sa.Column('note', sa.String(length=300), nullable=False),
        sa.Column('created_at', core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('decided_at', core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column('tenant_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ['loan_id'], ['loans.id'], name=op.f('fk_credit_offline_repayments_loan_id_loans'), ondelete='CASCADE'
        ),
        sa.ForeignKeyConstraint(
            ['tenant_id'],
            ['tenants.id'],
            name=op.f('fk_credit_offline_repayments_tenant_id_tenants'),
            ondelete='CASCADE',
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_credit_offline_repayments')),
        sa.UniqueConstraint(
            'tenant_id', 'bank_reference', name=op.f('uq_credit_offline_repayments_tenant_id_bank_reference')
        ),
    )
    with op.batch_alter_table('credit_offline_repayments', schema=None) as batch_op:
        batch_op.create_index('ix_credit_offline_repayments_loan', ['loan_id', 'id'], unique=False)


def downgrade():
    op.drop_table('credit_offline_repayments')
