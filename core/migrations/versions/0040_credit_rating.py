"""rating models, their versions, and ratings

Revision ID: 0040
Revises: 0039
"""

import sqlalchemy as sa
from alembic import op

import core.db

revision = '0040'
down_revision = '0039'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'credit_rating_models',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('code', sa.String(length=40), nullable=False),
        sa.Column('name', sa.String(length=120), nullable=False),
        sa.Column('customer_kind', sa.String(length=12), nullable=False),
        sa.Column('created_at', core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('tenant_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ['tenant_id'], ['tenants.id'], name=op.f('fk_credit_rating_models_tenant_id_tenants'), ondelete='CASCADE'
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_credit_rating_models')),
        sa.UniqueConstraint('tenant_id', 'code', name=op.f('uq_credit_rating_models_tenant_id_code')),
        sa.UniqueConstraint('tenant_id', 'id', name=op.f('uq_credit_rating_models_tenant_id_id')),
    )
    op.create_table(
        'credit_rating_model_versions',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('model_id', sa.Integer(), nullable=False),
        sa.Column('number', sa.Integer(), nullable=False),
        sa.Column('status', sa.String(length=12), nullable=False),
        sa.Column('factors', sa.JSON(), nullable=False),
        sa.Column('scale', sa.JSON(), nullable=False),
        sa.Column('grades', sa.JSON(), nullable=False),
        sa.Column('edited_by', sa.String(length=160), nullable=False),
        sa.Column('edited_at', core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('activated_by', sa.String(length=160), nullable=True),
        sa.Column('activated_at', core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column('tenant_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ['model_id'],
            ['credit_rating_models.id'],
            name=op.f('fk_credit_rating_model_versions_model_id_credit_rating_models'),
        ),
        sa.ForeignKeyConstraint(
            ['tenant_id'],
            ['tenants.id'],
            name=op.f('fk_credit_rating_model_versions_tenant_id_tenants'),
            ondelete='CASCADE',
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_credit_rating_model_versions')),
        sa.UniqueConstraint('tenant_id', 'id', name=op.f('uq_credit_rating_model_versions_tenant_id_id')),
        sa.UniqueConstraint(
            'tenant_id', 'model_id', 'number', name=op.f('uq_credit_rating_model_versions_tenant_id_model_id_number')
        ),
    )
    op.create_table(
        'credit_ratings',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('customer_id', sa.Integer(), nullable=False),
        sa.Column('model_version_id', sa.Integer(), nullable=False),
        sa.Column('lines', sa.JSON(), nullable=False),
        sa.Column('grade_row', sa.JSON(), nullable=False),
        sa.Column('score', core.db.ExactDecimal(length=40), nullable=False),
        sa.Column('max_score', core.db.ExactDecimal(length=40), nullable=False),
        sa.Column('proposed_grade', sa.String(length=4), nullable=False),
        sa.Column('override_grade', sa.String(length=4), nullable=True),
        sa.Column('reason', sa.String(length=500), nullable=False),
        sa.Column('grade', sa.String(length=4), nullable=True),
        sa.Column('status', sa.String(length=12), nullable=False),
        sa.Column('rated_by', sa.String(length=160), nullable=False),
        sa.Column('decided_by', sa.String(length=160), nullable=True),
        sa.Column('decision_note', sa.String(length=500), nullable=False),
        sa.Column('created_at', core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('decided_at', core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column('tenant_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ['customer_id'], ['credit_customers.id'], name=op.f('fk_credit_ratings_customer_id_credit_customers')
        ),
        sa.ForeignKeyConstraint(
            ['model_version_id'],
            ['credit_rating_model_versions.id'],
            name=op.f('fk_credit_ratings_model_version_id_credit_rating_model_versions'),
        ),
        sa.ForeignKeyConstraint(
            ['tenant_id'], ['tenants.id'], name=op.f('fk_credit_ratings_tenant_id_tenants'), ondelete='CASCADE'
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_credit_ratings')),
        sa.UniqueConstraint('tenant_id', 'id', name=op.f('uq_credit_ratings_tenant_id_id')),
    )
    with op.batch_alter_table('credit_ratings', schema=None) as batch_op:
        batch_op.create_index('ix_credit_ratings_customer', ['tenant_id', 'customer_id', 'id'], unique=False)
        batch_op.create_index('ix_credit_ratings_status', ['tenant_id', 'status', 'id'], unique=False)


def downgrade():
    with op.batch_alter_table('credit_ratings', schema=None) as batch_op:
        batch_op.drop_index('ix_credit_ratings_status')
        batch_op.drop_index('ix_credit_ratings_customer')

    op.drop_table('credit_ratings')
    op.drop_table('credit_rating_model_versions')
    op.drop_table('credit_rating_models')
