"""member community: boards, topics, posts, reports, community settings; posting bans on member violations

Revision ID: 0033
Revises: 0032
"""

import sqlalchemy as sa
from alembic import op

import core.db

revision = '0033'
down_revision = '0032'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'community_boards',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('slug', sa.String(length=40), nullable=False),
        sa.Column('names', sa.JSON(), nullable=False),
        sa.Column('descriptions', sa.JSON(), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('staff_only', sa.Boolean(), nullable=False),
        sa.Column('created_at', core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('tenant_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ['tenant_id'], ['tenants.id'], name=op.f('fk_community_boards_tenant_id_tenants'), ondelete='CASCADE'
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_community_boards')),
        sa.UniqueConstraint('tenant_id', 'id', name=op.f('uq_community_boards_tenant_id_id')),
        sa.UniqueConstraint('tenant_id', 'slug', name=op.f('uq_community_boards_tenant_id_slug')),
    )
    op.create_table(
        'community_settings',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('verified_only', sa.Boolean(), nullable=False),
        sa.Column('points_per_topic', sa.Integer(), nullable=False),
        sa.Column('points_per_reply', sa.Integer(), nullable=False),
        sa.Column('sensitive_words', sa.Text(), nullable=False),
        sa.Column('sensitive_action', sa.String(length=10), nullable=False),
        sa.Column('updated_at', core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('tenant_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ['tenant_id'], ['tenants.id'], name=op.f('fk_community_settings_tenant_id_tenants'), ondelete='CASCADE'
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_community_settings')),
        sa.UniqueConstraint('tenant_id', name=op.f('uq_community_settings_tenant_id')),
    )
    op.create_table(
        'community_topics',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('board_id', sa.Integer(), nullable=False),
        sa.Column('member_id', sa.Integer(), nullable=True),
        sa.Column('author', sa.String(length=120), nullable=False),
        sa.Column('title', sa.String(length=120), nullable=False),
        sa.Column('status', sa.String(length=12), nullable=False),
        sa.Column('hidden_reason', sa.String(length=300), nullable=False),
        sa.Column('pinned', sa.Boolean(), nullable=False),
        sa.Column('locked', sa.Boolean(), nullable=False),
        sa.Column('replies', sa.Integer(), nullable=False),
        sa.Column('created_at', core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('last_posted_at', core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('tenant_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ['board_id'],
            ['community_boards.id'],
            name=op.f('fk_community_topics_board_id_community_boards'),
            ondelete='CASCADE',
        ),
        sa.ForeignKeyConstraint(
            ['member_id'], ['members.id'], name=op.f('fk_community_topics_member_id_members'), ondelete='SET NULL'
        ),
        sa.ForeignKeyConstraint(
            ['tenant_id'], ['tenants.id'], name=op.f('fk_community_topics_tenant_id_tenants'), ondelete='CASCADE'
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_community_topics')),
        sa.UniqueConstraint('tenant_id', 'id', name=op.f('uq_community_topics_tenant_id_id')),
    )
    with op.batch_alter_table('community_topics', schema=None) as batch_op:
        batch_op.create_index(
            'ix_community_topics_board', ['tenant_id', 'board_id', 'pinned', 'last_posted_at'], unique=False
        )
        batch_op.create_index('ix_community_topics_member', ['tenant_id', 'member_id'], unique=False)

    op.create_table(
        'community_posts',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('topic_id', sa.Integer(), nullable=False),
        sa.Column('member_id', sa.Integer(), nullable=True),
        sa.Column('author', sa.String(length=120), nullable=False),
        sa.Column('opening', sa.Boolean(), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('quote_id', sa.Integer(), nullable=True),
        sa.Column('status', sa.String(length=12), nullable=False),
        sa.Column('hidden_reason', sa.String(length=300), nullable=False),
        sa.Column('points', sa.Integer(), nullable=False),
        sa.Column('moderations', sa.Integer(), nullable=False),
        sa.Column('created_at', core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('tenant_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ['member_id'], ['members.id'], name=op.f('fk_community_posts_member_id_members'), ondelete='SET NULL'
        ),
        sa.ForeignKeyConstraint(
            ['quote_id'],
            ['community_posts.id'],
            name=op.f('fk_community_posts_quote_id_community_posts'),
            ondelete='SET NULL',
        ),
        sa.ForeignKeyConstraint(
            ['tenant_id'], ['tenants.id'], name=op.f('fk_community_posts_tenant_id_tenants'), ondelete='CASCADE'
        ),
        sa.ForeignKeyConstraint(
            ['topic_id'],
            ['community_topics.id'],
            name=op.f('fk_community_posts_topic_id_community_topics'),
            ondelete='CASCADE',
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_community_posts')),
        sa.UniqueConstraint('tenant_id', 'id', name=op.f('uq_community_posts_tenant_id_id')),
    )
    with op.batch_alter_table('community_posts', schema=None) as batch_op:
        batch_op.create_index('ix_community_posts_member', ['tenant_id', 'member_id', 'id'], unique=False)
        batch_op.create_index('ix_community_posts_topic', ['tenant_id', 'topic_id', 'id'], unique=False)

    op.create_table(
        'community_reports',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('post_id', sa.Integer(), nullable=False),
        sa.Column('member_id', sa.Integer(), nullable=False),
        sa.Column('reason', sa.String(length=300), nullable=False),
        sa.Column('created_at', core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('resolved_at', core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column('resolved_by', sa.String(length=120), nullable=False),
        sa.Column('tenant_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ['member_id'], ['members.id'], name=op.f('fk_community_reports_member_id_members'), ondelete='CASCADE'
        ),
        sa.ForeignKeyConstraint(
            ['post_id'],
            ['community_posts.id'],
            name=op.f('fk_community_reports_post_id_community_posts'),
            ondelete='CASCADE',
        ),
        sa.ForeignKeyConstraint(
            ['tenant_id'], ['tenants.id'], name=op.f('fk_community_reports_tenant_id_tenants'), ondelete='CASCADE'
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_community_reports')),
        sa.UniqueConstraint(
            'tenant_id', 'post_id', 'member_id', name=op.f('uq_community_reports_tenant_id_post_id_member_id')
        ),
    )
    with op.batch_alter_table('community_reports', schema=None) as batch_op:
        batch_op.create_index('ix_community_reports_open', ['tenant_id', 'resolved_at'], unique=False)

    with op.batch_alter_table('member_violations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('freeze_posting', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('ends_at', core.db.UTCDateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table('member_violations', schema=None) as batch_op:
        batch_op.drop_column('ends_at')
        batch_op.drop_column('freeze_posting')

    with op.batch_alter_table('community_reports', schema=None) as batch_op:
        batch_op.drop_index('ix_community_reports_open')

    op.drop_table('community_reports')
    with op.batch_alter_table('community_posts', schema=None) as batch_op:
        batch_op.drop_index('ix_community_posts_topic')
        batch_op.drop_index('ix_community_posts_member')

    op.drop_table('community_posts')
    with op.batch_alter_table('community_topics', schema=None) as batch_op:
        batch_op.drop_index('ix_community_topics_member')
        batch_op.drop_index('ix_community_topics_board')

    op.drop_table('community_topics')
    op.drop_table('community_settings')
    op.drop_table('community_boards')
