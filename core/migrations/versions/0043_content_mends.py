"""content mends: the starter FAQ questions' keys (the pages that raise a question link to it by its key)

Revision ID: 0043
Revises: 0042
"""

import sqlalchemy as sa
from alembic import op

revision = '0043'
down_revision = '0042'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('faq_questions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('key', sa.String(length=40), nullable=True))
        batch_op.create_index('ix_faq_questions_key', ['tenant_id', 'key'], unique=False)


def downgrade():
    with op.batch_alter_table('faq_questions', schema=None) as batch_op:
        batch_op.drop_index('ix_faq_questions_key')
        batch_op.drop_column('key')
