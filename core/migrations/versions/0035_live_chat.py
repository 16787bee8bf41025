"""live customer service: chats and their messages

Chats (a visitor's or a member's, answered by one staff member), their
messages numbered within each chat, staff on duty, canned replies per language
and office hours per weekday.

Revision ID: 0035
Revises: 0034
"""

import sqlalchemy as sa
from alembic import op

import core.db

revision = '0035'
down_revision = '0034'
branch_labels = None
depends_on = None


def _tenant_fk(table):
    return sa.ForeignKeyConstraint(
        ['tenant_id'], ['tenants.id'], name=op.f(f'fk_{table}_tenant_id_tenants'), ondelete='CASCADE'
    )


def upgrade():
    op.create_table(
        'chat_canned_replies',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('locale', sa.String(length=16), nullable=False),
        sa.Column('title', sa.String(length=80), nullable=False),
        sa.Column('body', sa.String(length=1000), nullable=False),
        sa.Column('created_at', core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('tenant_id', sa.Integer(), nullable=False),
        _tenant_fk('chat_canned_replies'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_chat_canned_replies')),
    )
    op.create_index(
        'ix_chat_canned_replies_locale', 'chat_canned_replies', ['tenant_id', 'locale', 'title'], unique=False
    )
    op.create_table(
        'chat_office_hours',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('weekday', sa.Integer(), nullable=False),
        sa.Column('opens', sa.String(length=5), nullable=False),
        sa.Column('closes', sa.String(length=5), nullable=False),
        sa.Column('tenant_id', sa.Integer(), nullable=False),
        _tenant_fk('chat_office_hours'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_chat_office_hours')),
        sa.UniqueConstraint('tenant_id', 'weekday', name=op.f('uq_chat_office_hours_tenant_id_weekday')),
    )
    op.create_table(
        'chat_agents',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('staff_id', sa.Integer(), nullable=False),
        sa.Column('on_duty', sa.Boolean(), nullable=False),
        sa.Column('seen_at', core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('tenant_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ['staff_id'], ['staff_users.id'], name=op.f('fk_chat_agents_staff_id_staff_users'), ondelete='CASCADE'
        ),
        _tenant_fk('chat_agents'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_chat_agents')),
        sa.UniqueConstraint('tenant_id', 'staff_id', name=op.f('uq_chat_agents_tenant_id_staff_id')),
    )
    op.create_table(
        'chats',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('status', sa.String(length=12), nullable=False),
        sa.Column('name', sa.String(length=60), nullable=False),
        sa.Column('member_id', sa.Integer(), nullable=True),
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('locale', sa.String(length=16), nullable=False),
        sa.Column('staff_id', sa.Integer(), nullable=True),
        sa.Column('staff_name', sa.String(length=200), nullable=False),
        sa.Column('last_seq', sa.Integer(), nullable=False),
        sa.Column('created_at', core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('accepted_at', core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column('closed_at', core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column('last_message_at', core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('tenant_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ['member_id'], ['members.id'], name=op.f('fk_chats_member_id_members'), ondelete='SET NULL'
        ),
        sa.ForeignKeyConstraint(
            ['staff_id'], ['staff_users.id'], name=op.f('fk_chats_staff_id_staff_users'), ondelete='SET NULL'
        ),
        _tenant_fk('chats'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_chats')),
        sa.UniqueConstraint('tenant_id', 'id', name=op.f('uq_chats_tenant_id_id')),
    )
    op.create_index('ix_chats_member', 'chats', ['tenant_id', 'member_id', 'id'], unique=False)
    op.create_index('ix_chats_queue', 'chats', ['tenant_id', 'status', 'created_at'], unique=False)
    op.create_index('ix_chats_token', 'chats', ['tenant_id', 'token_hash'], unique=False)
    op.create_table(
        'chat_messages',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('chat_id', sa.Integer(), nullable=False),
        sa.Column('seq', sa.Integer(), nullable=False),
        sa.Column('author', sa.String(length=8), nullable=False),
        sa.Column('author_name', sa.String(length=200), nullable=False),
        sa.Column('staff_id', sa.Integer(), nullable=True),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('created_at', core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('tenant_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ['chat_id'], ['chats.id'], name=op.f('fk_chat_messages_chat_id_chats'), ondelete='CASCADE'
        ),
        sa.ForeignKeyConstraint(
            ['staff_id'], ['staff_users.id'], name=op.f('fk_chat_messages_staff_id_staff_users'), ondelete='SET NULL'
        ),
        _tenant_fk('chat_messages'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_chat_messages')),
        sa.UniqueConstraint('tenant_id', 'chat_id', 'seq', name=op.f('uq_chat_messages_tenant_id_chat_id_seq')),
    )


def downgrade():
    op.drop_table('chat_messages')
    op.drop_index('ix_chats_token', table_name='chats')
    op.drop_index('ix_chats_queue', table_name='chats')
    op.drop_index('ix_chats_member', table_name='chats')
    op.drop_table('chats')
    op.drop_table('chat_agents')
    op.drop_table('chat_office_hours')
    op.drop_index('ix_chat_canned_replies_locale', table_name='chat_canned_replies')
    op.drop_table('chat_canned_replies')
