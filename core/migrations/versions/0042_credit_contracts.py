"""contracts, their signing, disbursements and the lending fund

Revision ID: 0042
Revises: 0041
"""

import sqlalchemy as sa
from alembic import op

import core.db  # noqa: F401

revision = '0042'
down_revision = '0041'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'credit_fund_injections',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('amount', sa.BigInteger(), nullable=False),
        sa.Column('currency', sa.String(length=3), nullable=False),
        sa.Column('reason', sa.String(length=300), nullable=False),
        sa.Column('status', sa.String(length=12), nullable=False),
        sa.Column('requested_by', sa.String(length=120), nullable=False),
        sa.Column('decided_by', sa.String(length=120), nullable=False),
        sa.Column('created_at', core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('decided_at', core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column('tenant_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ['tenant_id'], ['tenants.id'], name=op.f('fk_credit_fund_injections_tenant_id_tenants'), ondelete='CASCADE'
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_credit_fund_injections')),
    )
    with op.batch_alter_table('credit_fund_injections', schema=None) as batch_op:
        batch_op.create_index('ix_credit_fund_injections_tenant', ['tenant_id', 'id'], unique=False)

    op.create_table(
        'credit_lending_funds',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('member_id', sa.Integer(), nullable=False),
        sa.Column('created_at', core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('tenant_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_credit_lending_funds_member_id_members')),
        sa.ForeignKeyConstraint(
            ['tenant_id'], ['tenants.id'], name=op.f('fk_credit_lending_funds_tenant_id_tenants'), ondelete='CASCADE'
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_credit_lending_funds')),
        sa.UniqueConstraint('tenant_id', 'member_id', name=op.f('uq_credit_lending_funds_tenant_id_member_id')),
        sa.UniqueConstraint('tenant_id', name=op.f('uq_credit_lending_funds_tenant_id')),
    )

    op.create_table(
        'credit_contracts',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('application_id', sa.Integer(), nullable=False),
        sa.Column('number', sa.String(length=20), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('status', sa.String(length=12), nullable=False),
        sa.Column('locale', sa.String(length=16), nullable=False),
        sa.Column('template_version', sa.Integer(), nullable=True),
        sa.Column('title', sa.String(length=120), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('pdf_key', sa.String(length=60), nullable=False),
        sa.Column('pdf_sha256', sa.String(length=64), nullable=False),
        sa.Column('pdf_size', sa.Integer(), nullable=False),
        sa.Column('drawn_by', sa.String(length=120), nullable=False),
        sa.Column('drawn_at', core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('signed_on', sa.Date(), nullable=True),
        sa.Column('signed_by', sa.String(length=120), nullable=False),
        sa.Column('signed_at', core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column('scan_key', sa.String(length=60), nullable=True),
        sa.Column('scan_type', sa.String(length=40), nullable=False),
        sa.Column('scan_name', sa.String(length=200), nullable=False),
        sa.Column('scan_size', sa.Integer(), nullable=False),
        sa.Column('scan_sha256', sa.String(length=64), nullable=False),
        sa.Column('tenant_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ['application_id'],
            ['credit_applications.id'],
            name=op.f('fk_credit_contracts_application_id_credit_applications'),
        ),
        sa.ForeignKeyConstraint(
            ['tenant_id'], ['tenants.id'], name=op.f('fk_credit_contracts_tenant_id_tenants'), ondelete='CASCADE'
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_credit_contracts')),
        sa.UniqueConstraint(
            'tenant_id', 'application_id', 'version', name=op.f('uq_credit_contracts_tenant_id_application_id_version')
        ),
        sa.UniqueConstraint(
            'tenant_id', 'number', 'version', name=op.f('uq_credit_contracts_tenant_id_number_version')
        ),
    )
    with op.batch_alter_table('credit_contracts', schema=None) as batch_op:
        batch_op.create_index('ix_credit_contracts_status', ['tenant_id', 'status', 'id'], unique=False)

    op.create_table(
        'credit_disbursements',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('application_id', sa.Integer(), nullable=False),
        sa.Column('contract_id', sa.Integer(), nullable=False),
        sa.Column('value_date', sa.Date(), nullable=False),
        sa.Column('status', sa.String(length=12), nullable=False),
        sa.Column('prepared_by', sa.String(length=120), nullable=False),
        sa.Column('prepared_at', core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('approved_by', sa.String(length=120), nullable=False),
        sa.Column('approved_at', core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column('loan_id', sa.Integer(), nullable=True),
        sa.Column('tenant_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ['application_id'],
            ['credit_applications.id'],
            name=op.f('fk_credit_disbursements_application_id_credit_applications'),
        ),
        sa.ForeignKeyConstraint(
            ['contract_id'], ['credit_contracts.id'], name=op.f('fk_credit_disbursements_contract_id_credit_contracts')
        ),
        sa.ForeignKeyConstraint(['loan_id'], ['loans.id'], name=op.f('fk_credit_disbursements_loan_id_loans')),
        sa.ForeignKeyConstraint(
            ['tenant_id'], ['tenants.id'], name=op.f('fk_credit_disbursements_tenant_id_tenants'), ondelete='CASCADE'
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_credit_disbursements')),
        sa.UniqueConstraint(
            'tenant_id', 'application_id', name=op.f('uq_credit_disbursements_tenant_id_application_id')
        ),
    )
    with op.batch_alter_table('credit_disbursements', schema=None) as batch_op:
        batch_op.create_index('ix_credit_disbursements_status', ['tenant_id', 'status', 'id'], unique=False)

    with op.batch_alter_table('loans', schema=None) as batch_op:
        batch_op.add_column(sa.Column('origin', sa.String(length=60), nullable=True))


def downgrade():
    with op.batch_alter_table('loans', schema=None) as batch_op:
        batch_op.drop_column('origin')

    with op.batch_alter_table('credit_disbursements', schema=None) as batch_op:
        batch_op.drop_index('ix_credit_disbursements_status')

    op.drop_table('credit_disbursements')
    with op.batch_alter_table('credit_contracts', schema=None) as batch_op:
        batch_op.drop_index('ix_credit_contracts_status')

    op.drop_table('credit_contracts')

    op.drop_table('credit_lending_funds')
    with op.batch_alter_table('credit_fund_injections', schema=None) as batch_op:
        batch_op.drop_index('ix_credit_fund_injections_tenant')

    op.drop_table('credit_fund_injections')
