"""workflow definitions, application steps, decisions and documents

Revision ID: 0041
Revises: 0040
"""

import sqlalchemy as sa
from alembic import op

import core.db

revision = '0041'
down_revision = '0040'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'credit_workflows',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('code', sa.String(length=40), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=120), nullable=False),
        sa.Column('steps', sa.JSON(), nullable=False),
        sa.Column('created_by', sa.String(length=120), nullable=False),
        sa.Column('created_at', core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('tenant_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ['tenant_id'], ['tenants.id'], name=op.f('fk_credit_workflows_tenant_id_tenants'), ondelete='CASCADE'
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_credit_workflows')),
        sa.UniqueConstraint('tenant_id', 'code', 'version', name=op.f('uq_credit_workflows_tenant_id_code_version')),
        sa.UniqueConstraint('tenant_id', 'id', name=op.f('uq_credit_workflows_tenant_id_id')),
    )
    op.create_table(
        'credit_application_documents',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('application_id', sa.Integer(), nullable=False),
        sa.Column('doc_type', sa.String(length=40), nullable=False),
        sa.Column('filename', sa.String(length=200), nullable=False),
        sa.Column('content_type', sa.String(length=80), nullable=False),
        sa.Column('size', sa.Integer(), nullable=False),
        sa.Column('storage_key', sa.String(length=64), nullable=False),
        sa.Column('uploaded_by', sa.String(length=120), nullable=False),
        sa.Column('uploaded_at', core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('tenant_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ['application_id'],
            ['credit_applications.id'],
            name=op.f('fk_credit_application_documents_application_id_credit_applications'),
            ondelete='CASCADE',
        ),
        sa.ForeignKeyConstraint(
            ['tenant_id'],
            ['tenants.id'],
            name=op.f('fk_credit_application_documents_tenant_id_tenants'),
            ondelete='CASCADE',
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_credit_application_documents')),
    )
    with op.batch_alter_table('credit_application_documents', schema=None) as batch_op:
        batch_op.create_index(
            'ix_credit_application_documents_application', ['tenant_id', 'application_id'], unique=False
        )
    op.create_table(
        'credit_application_progress',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('application_id', sa.Integer(), nullable=False),
        sa.Column('workflow_id', sa.Integer(), nullable=True),
        sa.Column('step', sa.String(length=40), nullable=False),
        sa.Column('step_started_at', core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column('step_due_at', core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column('documents_requested', sa.Boolean(), nullable=False),
        sa.Column('submitted_at', core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column('decided_at', core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column('tenant_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ['application_id'],
            ['credit_applications.id'],
            name=op.f('fk_credit_application_progress_application_id_credit_applications'),
            ondelete='CASCADE',
        ),
        sa.ForeignKeyConstraint(
            ['tenant_id'],
            ['tenants.id'],
            name=op.f('fk_credit_application_progress_tenant_id_tenants'),
            ondelete='CASCADE',
        ),
        sa.ForeignKeyConstraint(
            ['workflow_id'],
            ['credit_workflows.id'],
            name=op.f('fk_credit_application_progress_workflow_id_credit_workflows'),
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_credit_application_progress')),
        sa.UniqueConstraint(
            'tenant_id', 'application_id', name=op.f('uq_credit_application_progress_tenant_id_application_id')
        ),
    )
    with op.batch_alter_table('credit_application_progress', schema=None) as batch_op:
        batch_op.create_index('ix_credit_application_progress_due', ['tenant_id', 'step_due_at'], unique=False)
    op.create_table(
        'credit_collateral',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('application_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=40), nullable=False),
        sa.Column('description', sa.String(length=500), nullable=False),
        sa.Column('appraised_value', sa.BigInteger(), nullable=False),
        sa.Column('tenant_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ['application_id'],
            ['credit_applications.id'],
            name=op.f('fk_credit_collateral_application_id_credit_applications'),
            ondelete='CASCADE',
        ),
        sa.ForeignKeyConstraint(
            ['tenant_id'], ['tenants.id'], name=op.f('fk_credit_collateral_tenant_id_tenants'), ondelete='CASCADE'
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_credit_collateral')),
    )
    with op.batch_alter_table('credit_collateral', schema=None) as batch_op:
        batch_op.create_index('ix_credit_collateral_application', ['tenant_id', 'application_id'], unique=False)
    op.create_table(
        'credit_decisions',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('application_id', sa.Integer(), nullable=False),
        sa.Column('step', sa.String(length=40), nullable=False),
        sa.Column('action', sa.String(length=20), nullable=False),
        sa.Column('to_step', sa.String(length=40), nullable=False),
        sa.Column('comment', sa.String(length=1000), nullable=False),
        sa.Column('staff_id', sa.Integer(), nullable=True),
        sa.Column('actor', sa.String(length=120), nullable=False),
        sa.Column('at', core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('tenant_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ['application_id'],
            ['credit_applications.id'],
            name=op.f('fk_credit_decisions_application_id_credit_applications'),
            ondelete='CASCADE',
        ),
        sa.ForeignKeyConstraint(
            ['staff_id'], ['staff_users.id'], name=op.f('fk_credit_decisions_staff_id_staff_users')
        ),
        sa.ForeignKeyConstraint(
            ['tenant_id'], ['tenants.id'], name=op.f('fk_credit_decisions_tenant_id_tenants'), ondelete='CASCADE'
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_credit_decisions')),
    )
    with op.batch_alter_table('credit_decisions', schema=None) as batch_op:
        batch_op.create_index('ix_credit_decisions_application', ['tenant_id', 'application_id', 'id'], unique=False)
    op.create_table(
        'credit_guarantees',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('application_id', sa.Integer(), nullable=False),
        sa.Column('guarantor_id', sa.Integer(), nullable=False),
        sa.Column('amount', sa.BigInteger(), nullable=False),
        sa.Column('tenant_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ['application_id'],
            ['credit_applications.id'],
            name=op.f('fk_credit_guarantees_application_id_credit_applications'),
            ondelete='CASCADE',
        ),
        sa.ForeignKeyConstraint(
            ['guarantor_id'], ['credit_customers.id'], name=op.f('fk_credit_guarantees_guarantor_id_credit_customers')
        ),
        sa.ForeignKeyConstraint(
            ['tenant_id'], ['tenants.id'], name=op.f('fk_credit_guarantees_tenant_id_tenants'), ondelete='CASCADE'
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_credit_guarantees')),
    )
    with op.batch_alter_table('credit_guarantees', schema=None) as batch_op:
        batch_op.create_index('ix_credit_guarantees_application', ['tenant_id', 'application_id'], unique=False)
    with op.batch_alter_table('credit_products', schema=None) as batch_op:
        batch_op.add_column(sa.Column('required_documents', sa.JSON(), server_default=sa.text("'[]'"), nullable=False))
        batch_op.add_column(sa.Column('workflow_code', sa.String(length=40), server_default='', nullable=False))
        batch_op.add_column(sa.Column('offered_to_members', sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade():
    with op.batch_alter_table('credit_products', schema=None) as batch_op:
        batch_op.drop_column('offered_to_members')
        batch_op.drop_column('workflow_code')
        batch_op.drop_column('required_documents')

    with op.batch_alter_table('credit_guarantees', schema=None) as batch_op:
        batch_op.drop_index('ix_credit_guarantees_application')

    op.drop_table('credit_guarantees')
    with op.batch_alter_table('credit_decisions', schema=None) as batch_op:
        batch_op.drop_index('ix_credit_decisions_application')

    op.drop_table('credit_decisions')
    with op.batch_alter_table('credit_collateral', schema=None) as batch_op:
        batch_op.drop_index('ix_credit_collateral_application')

    op.drop_table('credit_collateral')
    with op.batch_alter_table('credit_application_progress', schema=None) as batch_op:
        batch_op.drop_index('ix_credit_application_progress_due')

    op.drop_table('credit_application_progress')
    with op.batch_alter_table('credit_application_documents', schema=None) as batch_op:
        batch_op.drop_index('ix_credit_application_documents_application')

    op.drop_table('credit_application_documents')
    op.drop_table('credit_workflows')
