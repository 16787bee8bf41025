"""credit system II: the five-level classification (where each loan stands, its changes, staff proposals, month-end
snapshots) and the permissions to classify and to read the loan ledger books

Revision ID: 0044
Revises: 0043
"""

import sqlalchemy as sa
from alembic import op

import core.db  # noqa: F401

revision = '0044'
down_revision = '0043'
branch_labels = None
depends_on = None

GRANTS = {
    "administrator": ["credit.classify", "credit.books"],
    "risk_officer": ["credit.classify", "credit.books"],
    "auditor": ["credit.books"],
}
"""What each built-in role gains (as migration 0037 did for the first credit permissions)."""


def _roles():
    return sa.table(
        "roles", sa.column("id"), sa.column("code"), sa.column("builtin"), sa.column("permissions", sa.JSON)
    )


def upgrade():
    op.create_table(
        'credit_class_proposals',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('loan_id', sa.Integer(), nullable=False),
        sa.Column('proposed_class', sa.String(length=16), nullable=False),
        sa.Column('class_then', sa.String(length=16), nullable=False),
        sa.Column('reason', sa.String(length=1000), nullable=False),
        sa.Column('evidence_key', sa.String(length=60), nullable=True),
        sa.Column('evidence_name', sa.String(length=200), nullable=False),
        sa.Column('evidence_type', sa.String(length=40), nullable=False),
        sa.Column('status', sa.String(length=12), nullable=False),
        sa.Column('proposed_by_id', sa.Integer(), nullable=False),
        sa.Column('proposed_by', sa.String(length=120), nullable=False),
        sa.Column('decided_by_id', sa.Integer(), nullable=True),
        sa.Column('decided_by', sa.String(length=120), nullable=False),
        sa.Column('decision_note', sa.String(length=300), nullable=False),
        sa.Column('created_at', core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('decided_at', core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column('tenant_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ['decided_by_id'], ['staff_users.id'], name=op.f('fk_credit_class_proposals_decided_by_id_staff_users')
        ),
        sa.ForeignKeyConstraint(
            ['loan_id'], ['loans.id'], name=op.f('fk_credit_class_proposals_loan_id_loans'), ondelete='CASCADE'
        ),
        sa.ForeignKeyConstraint(
            ['proposed_by_id'], ['staff_users.id'], name=op.f('fk_credit_class_proposals_proposed_by_id_staff_users')
        ),
        sa.ForeignKeyConstraint(
            ['tenant_id'], ['tenants.id'], name=op.f('fk_credit_class_proposals_tenant_id_tenants'), ondelete='CASCADE'
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_credit_class_proposals')),
    )
    with op.batch_alter_table('credit_class_proposals', schema=None) as batch_op:
        batch_op.create_index('ix_credit_class_proposals_loan', ['loan_id'], unique=False)
        batch_op.create_index('ix_credit_class_proposals_tenant_status', ['tenant_id', 'status'], unique=False)

    op.create_table(
        'credit_class_snapshots',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('loan_id', sa.Integer(), nullable=False),
        sa.Column('month_end', sa.Date(), nullable=False),
        sa.Column('risk_class', sa.String(length=16), nullable=False),
        sa.Column('days_past_due', sa.Integer(), nullable=False),
        sa.Column('outstanding_principal', sa.BigInteger(), nullable=False),
        sa.Column('provision', sa.BigInteger(), nullable=False),
        sa.Column('tenant_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ['loan_id'], ['loans.id'], name=op.f('fk_credit_class_snapshots_loan_id_loans'), ondelete='CASCADE'
        ),
        sa.ForeignKeyConstraint(
            ['tenant_id'], ['tenants.id'], name=op.f('fk_credit_class_snapshots_tenant_id_tenants'), ondelete='CASCADE'
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_credit_class_snapshots')),
        sa.UniqueConstraint('loan_id', 'month_end', name=op.f('uq_credit_class_snapshots_loan_id_month_end')),
    )
    with op.batch_alter_table('credit_class_snapshots', schema=None) as batch_op:
        batch_op.create_index('ix_credit_class_snapshots_tenant_month', ['tenant_id', 'month_end'], unique=False)

    op.create_table(
        'credit_loan_risk',
        sa.Column('loan_id', sa.Integer(), nullable=False),
        sa.Column('risk_class', sa.String(length=16), nullable=False),
        sa.Column('rule_class', sa.String(length=16), nullable=False),
        sa.Column('manual_class', sa.String(length=16), nullable=True),
        sa.Column('days_past_due', sa.Integer(), nullable=False),
        sa.Column('outstanding_principal', sa.BigInteger(), nullable=False),
        sa.Column('provision_rate', sa.String(length=12), nullable=False),
        sa.Column('provision', sa.BigInteger(), nullable=False),
        sa.Column('classified_on', sa.Date(), nullable=False),
        sa.Column('watch_until', sa.Date(), nullable=True),
        sa.Column('restructured', sa.Boolean(), nullable=False),
        sa.Column('tenant_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ['loan_id'], ['loans.id'], name=op.f('fk_credit_loan_risk_loan_id_loans'), ondelete='CASCADE'
        ),
        sa.ForeignKeyConstraint(
            ['tenant_id'], ['tenants.id'], name=op.f('fk_credit_loan_risk_tenant_id_tenants'), ondelete='CASCADE'
        ),
        sa.PrimaryKeyConstraint('loan_id', name=op.f('pk_credit_loan_risk')),
    )
    with op.batch_alter_table('credit_loan_risk', schema=None) as batch_op:
        batch_op.create_index('ix_credit_loan_risk_tenant_class', ['tenant_id', 'risk_class'], unique=False)

    op.create_table(
        'credit_class_changes',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('loan_id', sa.Integer(), nullable=False),
        sa.Column('business_date', sa.Date(), nullable=False),
        sa.Column('from_class', sa.String(length=16), nullable=True),
        sa.Column('to_class', sa.String(length=16), nullable=False),
        sa.Column('source', sa.String(length=8), nullable=False),
        sa.Column('days_past_due', sa.Integer(), nullable=False),
        sa.Column('proposal_id', sa.Integer(), nullable=True),
        sa.Column('decided_by', sa.String(length=120), nullable=False),
        sa.Column('created_at', core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('tenant_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ['loan_id'], ['loans.id'], name=op.f('fk_credit_class_changes_loan_id_loans'), ondelete='CASCADE'
        ),
        sa.ForeignKeyConstraint(
            ['proposal_id'],
            ['credit_class_proposals.id'],
            name=op.f('fk_credit_class_changes_proposal_id_credit_class_proposals'),
        ),
        sa.ForeignKeyConstraint(
            ['tenant_id'], ['tenants.id'], name=op.f('fk_credit_class_changes_tenant_id_tenants'), ondelete='CASCADE'
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_credit_class_changes')),
    )
    with op.batch_alter_table('credit_class_changes', schema=None) as batch_op:
        batch_op.create_index('ix_credit_class_changes_loan', ['loan_id', 'id'], unique=False)
        batch_op.create_index('ix_credit_class_changes_tenant_day', ['tenant_id', 'business_date'], unique=False)
        batch_op.create_index(
            'uq_credit_class_changes_rule_day',
            ['loan_id', 'business_date'],
            unique=True,
            sqlite_where=sa.text("source = 'rule'"),
            postgresql_where=sa.text("source = 'rule'"),
        )

    roles, connection = _roles(), op.get_bind()
    for code, added in GRANTS.items():
        for role_id, permissions in connection.execute(
            sa.select(roles.c.id, roles.c.permissions).where(roles.c.builtin.is_(True), roles.c.code == code)
        ).all():
            granted = sorted(set(permissions or []) | set(added))
            if granted != sorted(permissions or []):
                connection.execute(roles.update().where(roles.c.id == role_id).values(permissions=granted))


def downgrade():
    roles, connection = _roles(), op.get_bind()
    every = {p for added in GRANTS.values() for p in added}
    for role_id, permissions in connection.execute(sa.select(roles.c.id, roles.c.permissions)).all():
        kept = sorted(p for p in (permissions or []) if p not in every)
        if kept != sorted(permissions or []):
            connection.execute(roles.update().where(roles.c.id == role_id).values(permissions=kept))
    op.drop_table('credit_class_changes')
    op.drop_table('credit_loan_risk')
    op.drop_table('credit_class_snapshots')
    op.drop_table('credit_class_proposals')
