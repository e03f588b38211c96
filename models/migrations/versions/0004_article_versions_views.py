"""article versions and analyst views

Revision ID: 0004
Revises: 0003
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")

VIEWS = {
    "latest_articles": """
        SELECT a.id, o.name AS outlet, a.outlet_id, a.language, a.edition, a.section, a.title, a.authors,
               a.published_at, a.modified_at, a.version, a.word_count, a.canonical_url, a.translation_key
        FROM articles a JOIN outlets o ON o.id = a.outlet_id""",
    "daily_article_counts": """
        SELECT a.outlet_id, {day} AS day, a.language, a.section, COUNT(*) AS articles
        FROM articles a WHERE a.published_at IS NOT NULL
        GROUP BY a.outlet_id, {day}, a.language, a.section""",
    "run_health": """
        SELECT r.run_id, r.outlet_id, r.since, r.until, r.status, r.started_at, r.finished_at,
               r.pages_fetched, r.article_pages_fetched, r.articles_new, r.articles_updated,
               r.articles_unchanged, r.errors, r.dropped, r.error_message
        FROM crawl_runs r""",
}


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    op.create_table('article_versions',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False, comment='Surrogate key'),
    sa.Column('article_id', sa.Integer(), nullable=False, comment='Article'),
    sa.Column('version', sa.Integer(), nullable=False, comment='1 for the first content seen, then 2, 3 …'),
    sa.Column('changed_fields', JSON, nullable=False, comment='What differs from the previous version (JSON list)'),
    sa.Column('title', sa.Text(), nullable=False, comment='Headline of this version'),
    sa.Column('body', sa.Text(), nullable=False, comment='Clean text of this version'),
    sa.Column('authors', JSON, nullable=False, comment='Bylines of this version'),
    sa.Column('published_at', sa.DateTime(timezone=True), nullable=True, comment='Publication time this version declares (UTC)'),
    sa.Column('modified_at', sa.DateTime(timezone=True), nullable=True, comment='Modification time this version declares (UTC)'),
    sa.Column('content_hash', sa.String(length=64), nullable=False, comment='SHA-256 of title and body'),
    sa.Column('run_id', sa.String(length=100), nullable=False, comment='Run that produced this version'),
    sa.Column('warc_file', sa.String(length=500), nullable=True, comment='WARC file holding the page of this version'),
    sa.Column('warc_offset', sa.BigInteger(), nullable=True, comment='Offset of its response record'),
    sa.Column('extractor_version', sa.String(length=200), nullable=False, comment='Extractor that produced this version'),
    sa.Column('cleaning_hash', sa.String(length=64), nullable=True, comment='Hash of the cleaning rules that produced it'),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False, comment='When this version was loaded (UTC)'),
    sa.ForeignKeyConstraint(['article_id'], ['articles.id'], name=op.f('fk_article_versions_article_id_articles'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['run_id'], ['crawl_runs.run_id'], name=op.f('fk_article_versions_run_id_crawl_runs')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_article_versions')),
    sa.UniqueConstraint('article_id', 'version', name=op.f('uq_article_versions_article_id')),
    comment='Every distinct content of an article, oldest first: the edit history, with lineage.'
    )
    with op.batch_alter_table('article_versions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_article_versions_article_id'), ['article_id'], unique=False)

    with op.batch_alter_table('articles', schema=None) as batch_op:
        batch_op.add_column(sa.Column('cleaning_hash', sa.String(length=64), nullable=True, comment="Hash of the outlet's cleaning rules in force"))
        batch_op.add_column(sa.Column('version', sa.Integer(), nullable=False, server_default='1',
                                      comment='Number of the current version (see article_versions)'))


    # Articles loaded before versions existed get their current content as version 1.
    empty_list = "CAST('[]' AS jsonb)" if dialect == "postgresql" else "'[]'"
    op.execute(f"""
        INSERT INTO article_versions (article_id, version, changed_fields, title, body, authors, published_at,
            modified_at, content_hash, run_id, warc_file, warc_offset, extractor_version, cleaning_hash, created_at)
        SELECT id, 1, {empty_list}, title, body, authors, published_at, modified_at, content_hash, last_run_id,
            warc_file, warc_offset, extractor_version, cleaning_hash, updated_at FROM articles""")
    # Days in UTC on both databases (SQLite stores UTC text; PostgreSQL converts in the session zone).
    day = "date(a.published_at)" if dialect == "sqlite" else "CAST(a.published_at AT TIME ZONE 'UTC' AS DATE)"
    for name, query in VIEWS.items():
        op.execute(f"CREATE VIEW {name} AS {query.format(day=day)}")


def downgrade() -> None:
    for name in VIEWS:
        op.execute(f"DROP VIEW IF EXISTS {name}")
    with op.batch_alter_table('articles', schema=None) as batch_op:
        batch_op.drop_column('version')
        batch_op.drop_column('cleaning_hash')

    with op.batch_alter_table('article_versions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_article_versions_article_id'))

    op.drop_table('article_versions')
