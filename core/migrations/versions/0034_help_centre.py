"""help centre: FAQ, messages inbox

The FAQ's categories, questions and votes; the inbox's threads. Site messages
(``member_messages``) get a ``thread_id`` and may belong to a visitor
(``member_id`` empty). The staff↔member messages kept so far (every message not
from ``system``) become one thread per member, in the order they were written:
waiting for staff when the member wrote last, answered otherwise.

Revision ID: 0034
Revises: 0033
"""

import sqlalchemy as sa
from alembic import op

import core.db

revision = '0034'
down_revision = '0033'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'faq_categories',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('locale', sa.String(length=16), nullable=False),
        sa.Column('name', sa.String(length=120), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('published', sa.Boolean(), nullable=False),
        sa.Column('created_at', core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('tenant_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ['tenant_id'], ['tenants.id'], name=op.f('fk_faq_categories_tenant_id_tenants'), ondelete='CASCADE'
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_faq_categories')),
        sa.UniqueConstraint('tenant_id', 'id', name=op.f('uq_faq_categories_tenant_id_id')),
    )
    with op.batch_alter_table('faq_categories', schema=None) as batch_op:
        batch_op.create_index('ix_faq_categories_order', ['tenant_id', 'locale', 'position'], unique=False)

    op.create_table(
        'faq_questions',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('category_id', sa.Integer(), nullable=False),
        sa.Column('question', sa.String(length=300), nullable=False),
        sa.Column('answer', sa.Text(), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('published', sa.Boolean(), nullable=False),
        sa.Column('helpful_yes', sa.Integer(), nullable=False),
        sa.Column('helpful_no', sa.Integer(), nullable=False),
        sa.Column('created_at', core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('updated_at', core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('tenant_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ['category_id'],
            ['faq_categories.id'],
            name=op.f('fk_faq_questions_category_id_faq_categories'),
            ondelete='CASCADE',
        ),
        sa.ForeignKeyConstraint(
            ['tenant_id'], ['tenants.id'], name=op.f('fk_faq_questions_tenant_id_tenants'), ondelete='CASCADE'
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_faq_questions')),
        sa.UniqueConstraint('tenant_id', 'id', name=op.f('uq_faq_questions_tenant_id_id')),
    )
    with op.batch_alter_table('faq_questions', schema=None) as batch_op:
        batch_op.create_index('ix_faq_questions_order', ['tenant_id', 'category_id', 'position'], unique=False)

    op.create_table(
        'faq_votes',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('question_id', sa.Integer(), nullable=False),
        sa.Column('voter', sa.String(length=64), nullable=False),
        sa.Column('helpful', sa.Boolean(), nullable=False),
        sa.Column('created_at', core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('tenant_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ['question_id'],
            ['faq_questions.id'],
            name=op.f('fk_faq_votes_question_id_faq_questions'),
            ondelete='CASCADE',
        ),
        sa.ForeignKeyConstraint(
            ['tenant_id'], ['tenants.id'], name=op.f('fk_faq_votes_tenant_id_tenants'), ondelete='CASCADE'
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_faq_votes')),
        sa.UniqueConstraint('tenant_id', 'question_id', 'voter', name=op.f('uq_faq_votes_tenant_id_question_id_voter')),
    )
    op.create_table(
        'help_threads',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('member_id', sa.Integer(), nullable=True),
        sa.Column('name', sa.String(length=80), nullable=False),
        sa.Column('email', sa.String(length=254), nullable=False),
        sa.Column('phone', sa.String(length=20), nullable=False),
        sa.Column('locale', sa.String(length=16), nullable=False),
        sa.Column('subject', sa.String(length=200), nullable=False),
        sa.Column('origin', sa.String(length=12), nullable=False),
        sa.Column('status', sa.String(length=12), nullable=False),
        sa.Column('assigned_to', sa.Integer(), nullable=True),
        sa.Column('created_at', core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('last_message_at', core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('closed_at', core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column('tenant_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ['assigned_to'],
            ['staff_users.id'],
            name=op.f('fk_help_threads_assigned_to_staff_users'),
            ondelete='SET NULL',
        ),
        sa.ForeignKeyConstraint(
            ['member_id'], ['members.id'], name=op.f('fk_help_threads_member_id_members'), ondelete='CASCADE'
        ),
        sa.ForeignKeyConstraint(
            ['tenant_id'], ['tenants.id'], name=op.f('fk_help_threads_tenant_id_tenants'), ondelete='CASCADE'
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_help_threads')),
        sa.UniqueConstraint('tenant_id', 'id', name=op.f('uq_help_threads_tenant_id_id')),
    )
    with op.batch_alter_table('help_threads', schema=None) as batch_op:
        batch_op.create_index('ix_help_threads_inbox', ['tenant_id', 'status', 'last_message_at'], unique=False)
        batch_op.create_index('ix_help_threads_member', ['tenant_id', 'member_id'], unique=False)

    with op.batch_alter_table('member_messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('thread_id', sa.Integer(), nullable=True))
        batch_op.alter_column('member_id', existing_type=sa.INTEGER(), nullable=True)
        batch_op.create_index('ix_member_messages_thread', ['tenant_id', 'thread_id', 'id'], unique=False)
        batch_op.create_foreign_key(
            batch_op.f('fk_member_messages_thread_id_help_threads'),
            'help_threads',
            ['thread_id'],
            ['id'],
            ondelete='CASCADE',
        )

    _threads_from_earlier_messages()


MESSAGES = sa.table(
    'member_messages',
    sa.column('id', sa.Integer),
    sa.column('tenant_id', sa.Integer),
    sa.column('member_id', sa.Integer),
    sa.column('thread_id', sa.Integer),
    sa.column('direction', sa.String),
    sa.column('sender', sa.String),
    sa.column('subject', sa.String),
    sa.column('created_at', core.db.UTCDateTime(timezone=True)),
)
MEMBERS = sa.table(
    'members',
    sa.column('id', sa.Integer),
    sa.column('phone', sa.String),
    sa.column('email', sa.String),
    sa.column('display_name', sa.String),
    sa.column('locale', sa.String),
)
THREADS = sa.table(
    'help_threads',
    sa.column('id', sa.Integer),
    sa.column('tenant_id', sa.Integer),
    sa.column('member_id', sa.Integer),
    sa.column('name', sa.String),
    sa.column('email', sa.String),
    sa.column('phone', sa.String),
    sa.column('locale', sa.String),
    sa.column('subject', sa.String),
    sa.column('origin', sa.String),
    sa.column('status', sa.String),
    sa.column('created_at', core.db.UTCDateTime(timezone=True)),
    sa.column('last_message_at', core.db.UTCDateTime(timezone=True)),
)


def _threads_from_earlier_messages():
    """One thread per member of the staff↔member messages so far (system notices stay outside threads)."""
    connection = op.get_bind()
    rows = connection.execute(
        sa.select(
            MESSAGES.c.id,
            MESSAGES.c.tenant_id,
            MESSAGES.c.member_id,
            MESSAGES.c.direction,
            MESSAGES.c.subject,
            MESSAGES.c.created_at,
        )
        .where(MESSAGES.c.sender != 'system')
        .order_by(MESSAGES.c.tenant_id, MESSAGES.c.member_id, MESSAGES.c.id)
    ).all()
    conversations = {}
    for row in rows:
        conversations.setdefault((row.tenant_id, row.member_id), []).append(row)
    for (tenant_id, member_id), messages in conversations.items():
        member = connection.execute(sa.select(MEMBERS).where(MEMBERS.c.id == member_id)).first()
        first, last = messages[0], messages[-1]
        thread_id = connection.execute(
            THREADS.insert()
            .values(
                tenant_id=tenant_id,
                member_id=member_id,
                name=((member.display_name or member.phone or member.email or '') if member else '')[:80],
                email=(member.email or '') if member else '',
                phone=(member.phone or '') if member else '',
                locale=(member.locale or '') if member else '',
                subject=first.subject,
                origin='earlier',
                status='open' if last.direction == 'to_staff' else 'answered',
                created_at=first.created_at,
                last_message_at=last.created_at,
            )
            .returning(THREADS.c.id)
        ).scalar_one()
        connection.execute(
            MESSAGES.update().where(MESSAGES.c.id.in_([message.id for message in messages])).values(thread_id=thread_id)
        )


def downgrade():
    # Visitors' messages have no member: they go with their threads.
    op.execute(MESSAGES.delete().where(MESSAGES.c.member_id.is_(None)))
    with op.batch_alter_table('member_messages', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_member_messages_thread_id_help_threads'), type_='foreignkey')
        batch_op.drop_index('ix_member_messages_thread')
        batch_op.alter_column('member_id', existing_type=sa.INTEGER(), nullable=False)
        batch_op.drop_column('thread_id')

    with op.batch_alter_table('help_threads', schema=None) as batch_op:
        batch_op.drop_index('ix_help_threads_member')
        batch_op.drop_index('ix_help_threads_inbox')
    op.drop_table('help_threads')
    op.drop_table('faq_votes')
    with op.batch_alter_table('faq_questions', schema=None) as batch_op:
        batch_op.drop_index('ix_faq_questions_order')
    op.drop_table('faq_questions')
    with op.batch_alter_table('faq_categories', schema=None) as batch_op:
        batch_op.drop_index('ix_faq_categories_order')
    op.drop_table('faq_categories')
