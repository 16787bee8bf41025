"""customers' details, relationships, documents and financial statements

Revision ID: 0039
Revises: 0038
"""

import sqlalchemy as sa
from alembic import op

import core.db

revision = '0039'
down_revision = '0038'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'credit_bank_accounts',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('customer_id', sa.Integer(), nullable=False),
        sa.Column('bank_name', sa.String(length=120), nullable=False),
        sa.Column('account_name', sa.String(length=120), nullable=False),
        sa.Column('account_number', sa.String(length=40), nullable=False),
        sa.Column('tenant_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ['customer_id'], ['credit_customers.id'], name=op.f('fk_credit_bank_accounts_customer_id_credit_customers')
        ),
        sa.ForeignKeyConstraint(
            ['tenant_id'], ['tenants.id'], name=op.f('fk_credit_bank_accounts_tenant_id_tenants'), ondelete='CASCADE'
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_credit_bank_accounts')),
    )
    with op.batch_alter_table('credit_bank_accounts', schema=None) as batch_op:
        batch_op.create_index('ix_credit_bank_accounts_customer', ['tenant_id', 'customer_id'], unique=False)

    op.create_table(
        'credit_corporate_profiles',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('customer_id', sa.Integer(), nullable=False),
        sa.Column('legal_representative', sa.String(length=80), nullable=False),
        sa.Column('registered_capital', sa.BigInteger(), nullable=False),
        sa.Column('industry', sa.String(length=1), nullable=False),
        sa.Column('established_on', sa.Date(), nullable=True),
        sa.Column('tenant_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ['customer_id'],
            ['credit_customers.id'],
            name=op.f('fk_credit_corporate_profiles_customer_id_credit_customers'),
        ),
        sa.ForeignKeyConstraint(
            ['tenant_id'],
            ['tenants.id'],
            name=op.f('fk_credit_corporate_profiles_tenant_id_tenants'),
            ondelete='CASCADE',
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_credit_corporate_profiles')),
        sa.UniqueConstraint(
            'tenant_id', 'customer_id', name=op.f('uq_credit_corporate_profiles_tenant_id_customer_id')
        ),
    )
    op.create_table(
        'credit_customer_documents',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('customer_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=30), nullable=False),
        sa.Column('filename', sa.String(length=200), nullable=False),
        sa.Column('content_type', sa.String(length=40), nullable=False),
        sa.Column('size', sa.Integer(), nullable=False),
        sa.Column('storage_key', sa.String(length=40), nullable=False),
        sa.Column('uploaded_by', sa.String(length=120), nullable=False),
        sa.Column('created_at', core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('tenant_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ['customer_id'],
            ['credit_customers.id'],
            name=op.f('fk_credit_customer_documents_customer_id_credit_customers'),
        ),
        sa.ForeignKeyConstraint(
            ['tenant_id'],
            ['tenants.id'],
            name=op.f('fk_credit_customer_documents_tenant_id_tenants'),
            ondelete='CASCADE',
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_credit_customer_documents')),
    )
    with op.batch_alter_table('credit_customer_documents', schema=None) as batch_op:
        batch_op.create_index('ix_credit_customer_documents_customer', ['tenant_id', 'customer_id'], unique=False)

    op.create_table(
        'credit_customer_relations',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('customer_id', sa.Integer(), nullable=False),
        sa.Column('related_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('note', sa.String(length=200), nullable=False),
        sa.Column('created_at', core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('tenant_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ['customer_id'],
            ['credit_customers.id'],
            name=op.f('fk_credit_customer_relations_customer_id_credit_customers'),
        ),
        sa.ForeignKeyConstraint(
            ['related_id'],
            ['credit_customers.id'],
            name=op.f('fk_credit_customer_relations_related_id_credit_customers'),
        ),
        sa.ForeignKeyConstraint(
            ['tenant_id'],
            ['tenants.id'],
            name=op.f('fk_credit_customer_relations_tenant_id_tenants'),
            ondelete='CASCADE',
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_credit_customer_relations')),
        sa.UniqueConstraint(
            'tenant_id',
            'customer_id',
            'related_id',
            'kind',
            name=op.f('uq_credit_customer_relations_tenant_id_customer_id_related_id_kind'),
        ),
    )
    with op.batch_alter_table('credit_customer_relations', schema=None) as batch_op:
        batch_op.create_index('ix_credit_customer_relations_related', ['tenant_id', 'related_id'], unique=False)

    op.create_table(
        'credit_individual_profiles',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('customer_id', sa.Integer(), nullable=False),
        sa.Column('id_type', sa.String(length=20), nullable=False),
        sa.Column('birth_date', sa.Date(), nullable=True),
        sa.Column('employer', sa.String(length=120), nullable=False),
        sa.Column('position', sa.String(length=80), nullable=False),
        sa.Column('employment_years', sa.Integer(), nullable=False),
        sa.Column('monthly_income', sa.BigInteger(), nullable=False),
        sa.Column('marital_status', sa.String(length=12), nullable=False),
        sa.Column('dependants', sa.Integer(), nullable=False),
        sa.Column('property_count', sa.Integer(), nullable=False),
        sa.Column('property_value', sa.BigInteger(), nullable=False),
        sa.Column('vehicle_value', sa.BigInteger(), nullable=False),
        sa.Column('deposits', sa.BigInteger(), nullable=False),
        sa.Column('other_assets', sa.BigInteger(), nullable=False),
        sa.Column('total_liabilities', sa.BigInteger(), nullable=False),
        sa.Column('monthly_debt_payments', sa.BigInteger(), nullable=False),
        sa.Column('tenant_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ['customer_id'],
            ['credit_customers.id'],
            name=op.f('fk_credit_individual_profiles_customer_id_credit_customers'),
        ),
        sa.ForeignKeyConstraint(
            ['tenant_id'],
            ['tenants.id'],
            name=op.f('fk_credit_individual_profiles_tenant_id_tenants'),
            ondelete='CASCADE',
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_credit_individual_profiles')),
        sa.UniqueConstraint(
            'tenant_id', 'customer_id', name=op.f('uq_credit_individual_profiles_tenant_id_customer_id')
        ),
    )
    op.create_table(
        'credit_shareholders',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('customer_id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=120), nullable=False),
        sa.Column('share_percent', core.db.ExactDecimal(length=40), nullable=False),
        sa.Column('holder_id', sa.Integer(), nullable=True),
        sa.Column('tenant_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ['customer_id'], ['credit_customers.id'], name=op.f('fk_credit_shareholders_customer_id_credit_customers')
        ),
        sa.ForeignKeyConstraint(
            ['holder_id'], ['credit_customers.id'], name=op.f('fk_credit_shareholders_holder_id_credit_customers')
        ),
        sa.ForeignKeyConstraint(
            ['tenant_id'], ['tenants.id'], name=op.f('fk_credit_shareholders_tenant_id_tenants'), ondelete='CASCADE'
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_credit_shareholders')),
    )
    with op.batch_alter_table('credit_shareholders', schema=None) as batch_op:
        batch_op.create_index('ix_credit_shareholders_customer', ['tenant_id', 'customer_id'], unique=False)

    op.create_table(
        'credit_statements',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('customer_id', sa.Integer(), nullable=False),
        sa.Column('period_kind', sa.String(length=12), nullable=False),
        sa.Column('period_end', sa.Date(), nullable=False),
        sa.Column('currency', sa.String(length=3), nullable=False),
        sa.Column('current_assets', sa.BigInteger(), nullable=False),
        sa.Column('inventory', sa.BigInteger(), nullable=False),
        sa.Column('total_assets', sa.BigInteger(), nullable=False),
        sa.Column('current_liabilities', sa.BigInteger(), nullable=False),
        sa.Column('total_liabilities', sa.BigInteger(), nullable=False),
        sa.Column('equity', sa.BigInteger(), nullable=False),
        sa.Column('revenue', sa.BigInteger(), nullable=False),
        sa.Column('operating_profit', sa.BigInteger(), nullable=False),
        sa.Column('interest_expense', sa.BigInteger(), nullable=False),
        sa.Column('net_profit', sa.BigInteger(), nullable=False),
        sa.Column('operating_cash_flow', sa.BigInteger(), nullable=False),
        sa.Column('investing_cash_flow', sa.BigInteger(), nullable=False),
        sa.Column('financing_cash_flow', sa.BigInteger(), nullable=False),
        sa.Column('entered_by', sa.String(length=120), nullable=False),
        sa.Column('created_at', core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('tenant_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ['customer_id'], ['credit_customers.id'], name=op.f('fk_credit_statements_customer_id_credit_customers')
        ),
        sa.ForeignKeyConstraint(
            ['tenant_id'], ['tenants.id'], name=op.f('fk_credit_statements_tenant_id_tenants'), ondelete='CASCADE'
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_credit_statements')),
        sa.UniqueConstraint(
            'tenant_id',
            'customer_id',
            'period_kind',
            'period_end',
            name=op.f('uq_credit_statements_tenant_id_customer_id_period_kind_period_end'),
        ),
    )
    with op.batch_alter_table('credit_customers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('phone', sa.String(length=20), server_default='', nullable=False))
        batch_op.add_column(sa.Column('email', sa.String(length=254), server_default='', nullable=False))
        batch_op.add_column(sa.Column('address', sa.String(length=300), server_default='', nullable=False))


def downgrade():
    with op.batch_alter_table('credit_customers', schema=None) as batch_op:
        batch_op.drop_column('address')
        batch_op.drop_column('email')
        batch_op.drop_column('phone')

    op.drop_table('credit_statements')
    with op.batch_alter_table('credit_shareholders', schema=None) as batch_op:
        batch_op.drop_index('ix_credit_shareholders_customer')

    op.drop_table('credit_shareholders')
    op.drop_table('credit_individual_profiles')
    with op.batch_alter_table('credit_customer_relations', schema=None) as batch_op:
        batch_op.drop_index('ix_credit_customer_relations_related')

    op.drop_table('credit_customer_relations')
    with op.batch_alter_table('credit_customer_documents', schema=None) as batch_op:
        batch_op.drop_index('ix_credit_customer_documents_customer')

    op.drop_table('credit_customer_documents')
    op.drop_table('credit_corporate_profiles')
    with op.batch_alter_table('credit_bank_accounts', schema=None) as batch_op:
        batch_op.drop_index('ix_credit_bank_accounts_customer')

    op.drop_table('credit_bank_accounts')
