"""credit system: customers, products and applications (the tables the credit packages share)

Revision ID: 0038
Revises: 0037
"""

import sqlalchemy as sa
from alembic import op

import core.db

revision = '0038'
down_revision = '0037'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'credit_products',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('code', sa.String(length=40), nullable=False),
        sa.Column('names', sa.JSON(), nullable=False),
        sa.Column('customer_kind', sa.String(length=12), nullable=False),
        sa.Column('funding_source', sa.String(length=12), nullable=False),
        sa.Column('loan_type', sa.String(length=40), nullable=False),
        sa.Column('min_amount', sa.BigInteger(), nullable=False),
        sa.Column('max_amount', sa.BigInteger(), nullable=False),
        sa.Column('min_term_months', sa.Integer(), nullable=False),
        sa.Column('max_term_months', sa.Integer(), nullable=False),
        sa.Column('min_rate_percent', core.db.ExactDecimal(length=40), nullable=False),
        sa.Column('max_rate_percent', core.db.ExactDecimal(length=40), nullable=False),
        sa.Column('repayment_methods', sa.JSON(), nullable=False),
        sa.Column('active', sa.Boolean(), nullable=False),
        sa.Column('created_at', core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('tenant_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ['tenant_id'], ['tenants.id'], name=op.f('fk_credit_products_tenant_id_tenants'), ondelete='CASCADE'
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_credit_products')),
        sa.UniqueConstraint('tenant_id', 'code', name=op.f('uq_credit_products_tenant_id_code')),
        sa.UniqueConstraint('tenant_id', 'id', name=op.f('uq_credit_products_tenant_id_id')),
    )
    op.create_table(
        'credit_customers',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('number', sa.String(length=20), nullable=False),
        sa.Column('kind', sa.String(length=12), nullable=False),
        sa.Column('name', sa.String(length=120), nullable=False),
        sa.Column('identifier', sa.String(length=40), nullable=False),
        sa.Column('member_id', sa.Integer(), nullable=True),
        sa.Column('relationship_manager_id', sa.Integer(), nullable=True),
        sa.Column('grade', sa.String(length=4), nullable=True),
        sa.Column('rated_at', core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column('merged_into_id', sa.Integer(), nullable=True),
        sa.Column('created_at', core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('tenant_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_credit_customers_member_id_members')),
        sa.ForeignKeyConstraint(
            ['merged_into_id'],
            ['credit_customers.id'],
            name=op.f('fk_credit_customers_merged_into_id_credit_customers'),
        ),
        sa.ForeignKeyConstraint(
            ['relationship_manager_id'],
            ['staff_users.id'],
            name=op.f('fk_credit_customers_relationship_manager_id_staff_users'),
        ),
        sa.ForeignKeyConstraint(
            ['tenant_id'], ['tenants.id'], name=op.f('fk_credit_customers_tenant_id_tenants'), ondelete='CASCADE'
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_credit_customers')),
        sa.UniqueConstraint('tenant_id', 'id', name=op.f('uq_credit_customers_tenant_id_id')),
        sa.UniqueConstraint('tenant_id', 'number', name=op.f('uq_credit_customers_tenant_id_number')),
    )
    with op.batch_alter_table('credit_customers', schema=None) as batch_op:
        batch_op.create_index('ix_credit_customers_identifier', ['tenant_id', 'kind', 'identifier'], unique=False)
        batch_op.create_index('ix_credit_customers_member', ['tenant_id', 'member_id'], unique=False)

    op.create_table(
        'credit_applications',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('number', sa.String(length=20), nullable=False),
        sa.Column('customer_id', sa.Integer(), nullable=False),
        sa.Column('product_id', sa.Integer(), nullable=False),
        sa.Column('amount', sa.BigInteger(), nullable=False),
        sa.Column('currency', sa.String(length=3), nullable=False),
        sa.Column('annual_rate_percent', core.db.ExactDecimal(length=40), nullable=False),
        sa.Column('term_months', sa.Integer(), nullable=False),
        sa.Column('repayment_method', sa.String(length=40), nullable=False),
        sa.Column('purpose', sa.String(length=500), nullable=False),
        sa.Column('status', sa.String(length=12), nullable=False),
        sa.Column('loan_id', sa.Integer(), nullable=True),
        sa.Column('created_by', sa.Integer(), nullable=True),
        sa.Column('created_at', core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('tenant_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ['created_by'], ['staff_users.id'], name=op.f('fk_credit_applications_created_by_staff_users')
        ),
        sa.ForeignKeyConstraint(
            ['customer_id'], ['credit_customers.id'], name=op.f('fk_credit_applications_customer_id_credit_customers')
        ),
        sa.ForeignKeyConstraint(['loan_id'], ['loans.id'], name=op.f('fk_credit_applications_loan_id_loans')),
        sa.ForeignKeyConstraint(
            ['product_id'], ['credit_products.id'], name=op.f('fk_credit_applications_product_id_credit_products')
        ),
        sa.ForeignKeyConstraint(
            ['tenant_id'], ['tenants.id'], name=op.f('fk_credit_applications_tenant_id_tenants'), ondelete='CASCADE'
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_credit_applications')),
        sa.UniqueConstraint('tenant_id', 'id', name=op.f('uq_credit_applications_tenant_id_id')),
        sa.UniqueConstraint('tenant_id', 'number', name=op.f('uq_credit_applications_tenant_id_number')),
    )
    with op.batch_alter_table('credit_applications', schema=None) as batch_op:
        batch_op.create_index('ix_credit_applications_customer', ['tenant_id', 'customer_id'], unique=False)
        batch_op.create_index('ix_credit_applications_status', ['tenant_id', 'status', 'id'], unique=False)


def downgrade():
    with op.batch_alter_table('credit_applications', schema=None) as batch_op:
        batch_op.drop_index('ix_credit_applications_status')
        batch_op.drop_index('ix_credit_applications_customer')

    op.drop_table('credit_applications')
    with op.batch_alter_table('credit_customers', schema=None) as batch_op:
        batch_op.drop_index('ix_credit_customers_member')
        batch_op.drop_index('ix_credit_customers_identifier')

    op.drop_table('credit_customers')
    op.drop_table('credit_products')
