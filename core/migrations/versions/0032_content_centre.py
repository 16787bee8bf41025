"""content centre: sections, items with a review workflow and versions, agreements

Revision ID: 0032
Revises: 0031

Existing items join the tenant's built-in news or media section (made here for tenants that have items; the
other built-in sections and the page templates are made the first time the tenant's content is read); a
published item stays published, an unpublished one becomes a draft; each item's words become its version 1.

Revision ID: 0032
Revises: 0031
"""

import sqlalchemy as sa
from alembic import op

import core.db

revision = '0032'
down_revision = '0031'
branch_labels = None
depends_on = None

SECTIONS = {  # the built-in sections existing items belong to (as core.content.defaults makes them)
    "news": (0, {"zh_Hant": "新聞中心", "zh_Hans": "新闻中心", "en": "News"}),
    "media": (1, {"zh_Hant": "媒體報道", "zh_Hans": "媒体报道", "en": "In the media"}),
}


def _tables():
    sections = sa.table(
        "content_sections",
        sa.column("id", sa.Integer),
        sa.column("tenant_id", sa.Integer),
        sa.column("code", sa.String),
        sa.column("kind", sa.String),
        sa.column("slug", sa.String),
        sa.column("names", sa.JSON),
        sa.column("position", sa.Integer),
        sa.column("in_menu", sa.Boolean),
        sa.column("in_footer", sa.Boolean),
        sa.column("created_at", core.db.UTCDateTime(timezone=True)),
    )
    items = sa.table(
        "content_items",
        sa.column("id", sa.Integer),
        sa.column("tenant_id", sa.Integer),
        sa.column("kind", sa.String),
        sa.column("section_id", sa.Integer),
        sa.column("published", sa.Boolean),
        sa.column("status", sa.String),
        sa.column("version", sa.Integer),
        sa.column("review_note", sa.String),
        sa.column("title", sa.String),
        sa.column("summary", sa.String),
        sa.column("body", sa.Text),
        sa.column("author", sa.String),
        sa.column("updated_at", core.db.UTCDateTime(timezone=True)),
    )
    versions = sa.table(
        "content_versions",
        sa.column("tenant_id", sa.Integer),
        sa.column("item_id", sa.Integer),
        sa.column("number", sa.Integer),
        sa.column("title", sa.String),
        sa.column("summary", sa.String),
        sa.column("body", sa.Text),
        sa.column("saved_by", sa.String),
        sa.column("saved_at", core.db.UTCDateTime(timezone=True)),
    )
    return sections, items, versions


def upgrade():
    op.create_table(
        'content_sections',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('code', sa.String(length=20), nullable=True),
        sa.Column('kind', sa.String(length=10), nullable=False),
        sa.Column('slug', sa.String(length=40), nullable=False),
        sa.Column('names', sa.JSON(), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('in_menu', sa.Boolean(), nullable=False),
        sa.Column('in_footer', sa.Boolean(), nullable=False),
        sa.Column('created_at', core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('tenant_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ['tenant_id'], ['tenants.id'], name=op.f('fk_content_sections_tenant_id_tenants'), ondelete='CASCADE'
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_content_sections')),
        sa.UniqueConstraint('tenant_id', 'code', name=op.f('uq_content_sections_tenant_id_code')),
        sa.UniqueConstraint('tenant_id', 'id', name=op.f('uq_content_sections_tenant_id_id')),
        sa.UniqueConstraint('tenant_id', 'slug', name=op.f('uq_content_sections_tenant_id_slug')),
    )
    with op.batch_alter_table('content_items', schema=None) as batch_op:
        batch_op.add_column(sa.Column('section_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('slug', sa.String(length=60), nullable=True))
        batch_op.add_column(sa.Column('template', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('cover_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('status', sa.String(length=12), nullable=True))
        batch_op.add_column(sa.Column('author_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('editor_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('review_note', sa.String(length=500), nullable=True))
        batch_op.add_column(sa.Column('version', sa.Integer(), nullable=True))
    _move_items()
    with op.batch_alter_table('content_items', schema=None) as batch_op:
        batch_op.drop_index('ix_content_items_kind')
        batch_op.drop_column('published')
        batch_op.alter_column('status', existing_type=sa.String(length=12), nullable=False)
        batch_op.alter_column('review_note', existing_type=sa.String(length=500), nullable=False)
        batch_op.alter_column('version', existing_type=sa.Integer(), nullable=False)
        batch_op.create_index('ix_content_items_kind', ['tenant_id', 'kind', 'status', 'published_at'], unique=False)
        batch_op.create_index(
            'ix_content_items_section', ['tenant_id', 'section_id', 'status', 'published_at'], unique=False
        )
        batch_op.create_unique_constraint(batch_op.f('uq_content_items_tenant_id_id'), ['tenant_id', 'id'])
        batch_op.create_unique_constraint(
            batch_op.f('uq_content_items_tenant_id_locale_slug'), ['tenant_id', 'locale', 'slug']
        )
        batch_op.create_foreign_key(
            batch_op.f('fk_content_items_section_id_content_sections'),
            'content_sections',
            ['section_id'],
            ['id'],
            ondelete='RESTRICT',
        )
        batch_op.create_foreign_key(
            batch_op.f('fk_content_items_cover_id_tenant_files'),
            'tenant_files',
            ['cover_id'],
            ['id'],
            ondelete='SET NULL',
        )
        batch_op.create_foreign_key(
            batch_op.f('fk_content_items_author_id_staff_users'),
            'staff_users',
            ['author_id'],
            ['id'],
            ondelete='SET NULL',
        )
        batch_op.create_foreign_key(
            batch_op.f('fk_content_items_editor_id_staff_users'),
            'staff_users',
            ['editor_id'],
            ['id'],
            ondelete='SET NULL',
        )

    op.create_table(
        'content_versions',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('item_id', sa.Integer(), nullable=False),
        sa.Column('number', sa.Integer(), nullable=False),
        sa.Column('title', sa.String(length=120), nullable=False),
        sa.Column('summary', sa.String(length=300), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('saved_by', sa.String(length=120), nullable=False),
        sa.Column('saved_at', core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('tenant_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ['item_id'],
            ['content_items.id'],
            name=op.f('fk_content_versions_item_id_content_items'),
            ondelete='CASCADE',
        ),
        sa.ForeignKeyConstraint(
            ['tenant_id'], ['tenants.id'], name=op.f('fk_content_versions_tenant_id_tenants'), ondelete='CASCADE'
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_content_versions')),
        sa.UniqueConstraint(
            'tenant_id', 'item_id', 'number', name=op.f('uq_content_versions_tenant_id_item_id_number')
        ),
    )
    _first_versions()  # only now: SQLite's batch mode re-creates content_items, which would cascade to versions


def _move_items():
    """Each existing item into its tenant's news or media section, with its status."""
    sections, items, _versions = _tables()
    connection = op.get_bind()
    rows = connection.execute(sa.select(items.c.id, items.c.tenant_id, items.c.kind, items.c.published)).all()
    made: dict[tuple[int, str], int] = {}
    for row in rows:
        section_id = None
        if row.kind in SECTIONS:
            key = (row.tenant_id, row.kind)
            if key not in made:
                position, names = SECTIONS[row.kind]
                made[key] = connection.execute(
                    sections.insert()
                    .values(
                        tenant_id=row.tenant_id,
                        code=row.kind,
                        kind=row.kind,
                        slug=row.kind,
                        names=names,
                        position=position,
                        in_menu=True,
                        in_footer=False,
                        created_at=core.db.utcnow(),
                    )
                    .returning(sections.c.id)
                ).scalar_one()
            section_id = made[key]
        connection.execute(
            items.update()
            .where(items.c.id == row.id)
            .values(section_id=section_id, status="published" if row.published else "draft", version=1, review_note="")
        )


def _first_versions():
    """Each existing item's words as its version 1."""
    _sections, items, versions = _tables()
    connection = op.get_bind()
    rows = connection.execute(
        sa.select(
            items.c.id,
            items.c.tenant_id,
            items.c.title,
            items.c.summary,
            items.c.body,
            items.c.author,
            items.c.updated_at,
        )
    ).all()
    for row in rows:
        connection.execute(
            versions.insert().values(
                tenant_id=row.tenant_id,
                item_id=row.id,
                number=1,
                title=row.title,
                summary=row.summary,
                body=row.body,
                saved_by=row.author,
                saved_at=row.updated_at or core.db.utcnow(),
            )
        )


def downgrade():
    sections, items, versions = _tables()
    with op.batch_alter_table('content_items', schema=None) as batch_op:
        batch_op.add_column(sa.Column('published', sa.Boolean(), nullable=True))
    connection = op.get_bind()
    connection.execute(items.update().values(published=items.c.status.in_(["published", "scheduled"])))
    connection.execute(items.delete().where(items.c.kind.not_in(["banner", "news", "media"])))
    op.drop_table('content_versions')
    with op.batch_alter_table('content_items', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_content_items_editor_id_staff_users'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_content_items_author_id_staff_users'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_content_items_cover_id_tenant_files'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_content_items_section_id_content_sections'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('uq_content_items_tenant_id_locale_slug'), type_='unique')
        batch_op.drop_constraint(batch_op.f('uq_content_items_tenant_id_id'), type_='unique')
        batch_op.drop_index('ix_content_items_section')
        batch_op.drop_index('ix_content_items_kind')
        batch_op.alter_column('published', existing_type=sa.Boolean(), nullable=False)
        batch_op.create_index('ix_content_items_kind', ['tenant_id', 'kind', 'published', 'published_at'], unique=False)
        for column in (
            'version',
            'review_note',
            'editor_id',
            'author_id',
            'status',
            'cover_id',
            'template',
            'slug',
            'section_id',
        ):
            batch_op.drop_column(column)
    op.drop_table('content_sections')
