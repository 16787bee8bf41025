"""credit system III: loan alerts (the tenant's alert rules and the alerts close of day raises), staff users' email
address (for the daily alert digest) and the permission to work with alerts

Revision ID: 0045
Revises: 0044
"""

import sqlalchemy as sa
from alembic import op

import core.db  # noqa: F401

revision = '0045'
down_revision = '0044'
branch_labels = None
depends_on = None

GRANTS = {
    "administrator": ["credit.alert"],
    "risk_officer": ["credit.alert"],
    "relationship_manager": ["credit.alert"],
}
"""What each built-in role gains (as migration 0044 did for classification)."""


def _roles():
    return sa.table(
        "roles", sa.column("id"), sa.column("code"), sa.column("builtin"), sa.column("permissions", sa.JSON)
    )


def upgrade():
    op.create_table(
        'credit_alert_rules',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=24), nullable=False),
        sa.Column('active', sa.Boolean(), nullable=False),
        sa.Column('severity', sa.String(length=12), nullable=False),
        sa.Column('threshold', sa.String(length=12), nullable=True),
        sa.Column('recipients', sa.JSON(), nullable=False),
        sa.Column('updated_by', sa.String(length=120), nullable=False),
        sa.Column('updated_at', core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('tenant_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ['tenant_id'], ['tenants.id'], name=op.f('fk_credit_alert_rules_tenant_id_tenants'), ondelete='CASCADE'
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_credit_alert_rules')),
        sa.UniqueConstraint('tenant_id', 'kind', name=op.f('uq_credit_alert_rules_tenant_id_kind')),
    )
    op.create_table(
        'credit_alerts',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=24), nullable=False),
        sa.Column('severity', sa.String(length=12), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('business_date', sa.Date(), nullable=False),
        sa.Column('subject', sa.String(length=40), nullable=False),
        sa.Column('loan_id', sa.Integer(), nullable=True),
        sa.Column('facts', sa.JSON(), nullable=False),
        sa.Column('digested', sa.Boolean(), nullable=False),
        sa.Column('raised_at', core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('acknowledged_by', sa.String(length=120), nullable=False),
        sa.Column('acknowledged_at', core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column('acknowledge_note', sa.String(length=500), nullable=False),
        sa.Column('closed_by', sa.String(length=120), nullable=False),
        sa.Column('closed_at', core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column('close_note', sa.String(length=500), nullable=False),
        sa.Column('tenant_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ['loan_id'], ['loans.id'], name=op.f('fk_credit_alerts_loan_id_loans'), ondelete='CASCADE'
        ),
        sa.ForeignKeyConstraint(
            ['tenant_id'], ['tenants.id'], name=op.f('fk_credit_alerts_tenant_id_tenants'), ondelete='CASCADE'
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_credit_alerts')),
        sa.UniqueConstraint(
            'tenant_id',
            'kind',
            'subject',
            'business_date',
            name=op.f('uq_credit_alerts_tenant_id_kind_subject_business_date'),
        ),
    )
    with op.batch_alter_table('credit_alerts', schema=None) as batch_op:
        batch_op.create_index('ix_credit_alerts_tenant_status', ['tenant_id', 'status', 'business_date'], unique=False)
        batch_op.create_index(
            'uq_credit_alerts_live',
            ['tenant_id', 'kind', 'subject'],
            unique=True,
            sqlite_where=sa.text("status != 'closed'"),
            postgresql_where=sa.text("status != 'closed'"),
        )

    with op.batch_alter_table('staff_users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('email', sa.String(length=254), nullable=True))

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
    with op.batch_alter_table('staff_users', schema=None) as batch_op:
        batch_op.drop_column('email')
    op.drop_table('credit_alerts')
    op.drop_table('credit_alert_rules')
