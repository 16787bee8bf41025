"""agreements: the versions of the terms, privacy policy and risk notice members accepted, and each loan's
agreement as filled in at disbursement

Revision ID: 0036
Revises: 0035
"""

import sqlalchemy as sa
from alembic import op

import core.db

revision = '0036'
down_revision = '0035'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'member_agreements',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('member_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('item_id', sa.Integer(), nullable=True),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('locale', sa.String(length=16), nullable=False),
        sa.Column('digest', sa.String(length=64), nullable=False),
        sa.Column('accepted_at', core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('address', sa.String(length=64), nullable=False),
        sa.Column('tenant_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ['item_id'],
            ['content_items.id'],
            name=op.f('fk_member_agreements_item_id_content_items'),
            ondelete='SET NULL',
        ),
        sa.ForeignKeyConstraint(
            ['member_id'], ['members.id'], name=op.f('fk_member_agreements_member_id_members'), ondelete='CASCADE'
        ),
        sa.ForeignKeyConstraint(
            ['tenant_id'], ['tenants.id'], name=op.f('fk_member_agreements_tenant_id_tenants'), ondelete='CASCADE'
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_member_agreements')),
    )
    op.create_index('ix_member_agreements_member', 'member_agreements', ['tenant_id', 'member_id', 'kind'])
    op.create_table(
        'loan_agreements',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('loan_id', sa.Integer(), nullable=False),
        sa.Column('item_id', sa.Integer(), nullable=True),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('locale', sa.String(length=16), nullable=False),
        sa.Column('title', sa.String(length=120), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('created_at', core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('tenant_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ['item_id'],
            ['content_items.id'],
            name=op.f('fk_loan_agreements_item_id_content_items'),
            ondelete='SET NULL',
        ),
        sa.ForeignKeyConstraint(
            ['loan_id'], ['loans.id'], name=op.f('fk_loan_agreements_loan_id_loans'), ondelete='CASCADE'
        ),
        sa.ForeignKeyConstraint(
            ['tenant_id'], ['tenants.id'], name=op.f('fk_loan_agreements_tenant_id_tenants'), ondelete='CASCADE'
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_loan_agreements')),
        sa.UniqueConstraint('tenant_id', 'loan_id', name=op.f('uq_loan_agreements_tenant_id_loan_id')),
    )


def downgrade():
    op.drop_table('loan_agreements')
    op.drop_index('ix_member_agreements_member', table_name='member_agreements')
    op.drop_table('member_agreements')
