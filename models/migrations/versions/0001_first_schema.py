"""first warehouse schema: outlets, crawl_runs, articles

Revision ID: 0001
Revises: 
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None

# JSONB on PostgreSQL (indexable, compact), JSON text elsewhere.
JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table('outlets',
    sa.Column('id', sa.String(length=64), nullable=False, comment='Outlet id used everywhere, e.g. slobodenpecat'),
    sa.Column('name', sa.String(length=200), nullable=False, comment='Outlet name as it presents itself'),
    sa.Column('home_url', sa.String(length=500), nullable=False, comment='Home page URL'),
    sa.Column('domains', JSON, nullable=False, comment='Domains the outlet publishes on (JSON list)'),
    sa.Column('languages', JSON, nullable=False, comment='Languages of its editions, ISO 639-1 (JSON list)'),
    sa.Column('timezone', sa.String(length=64), nullable=False, comment='IANA time zone the outlet dates its articles in'),
    sa.Column('cms', sa.String(length=64), nullable=False, comment='Publishing system behind the site, e.g. wordpress'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outlets')),
    comment='News outlets crawled, as declared in the outlet registry.'
    )
    op.create_table('crawl_runs',
    sa.Column('run_id', sa.String(length=100), nullable=False, comment='Run id; articles point here'),
    sa.Column('outlet_id', sa.String(length=64), nullable=False, comment='Outlet crawled'),
    sa.Column('since', sa.DateTime(timezone=True), nullable=True, comment='Window start (inclusive, UTC); null = open'),
    sa.Column('until', sa.DateTime(timezone=True), nullable=True, comment='Window end (exclusive, UTC); null = open'),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False, comment='When the run started (UTC)'),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True, comment='When the run ended (UTC)'),
    sa.Column('status', sa.String(length=20), nullable=False, comment='running, success or failed'),
    sa.Column('pages_fetched', sa.Integer(), nullable=False, comment='Successful HTTP responses, all kinds'),
    sa.Column('article_pages_fetched', sa.Integer(), nullable=False, comment='Article pages downloaded'),
    sa.Column('articles_new', sa.Integer(), nullable=False, comment='Articles inserted'),
    sa.Column('articles_updated', sa.Integer(), nullable=False, comment='Articles whose content changed'),
    sa.Column('articles_unchanged', sa.Integer(), nullable=False, comment='Articles seen again, unchanged'),
    sa.Column('dropped', JSON, nullable=False, comment='Pages dropped, by reason (JSON object)'),
    sa.Column('errors', sa.Integer(), nullable=False, comment='Failed requests and stage errors'),
    sa.Column('error_message', sa.Text(), nullable=True, comment='Why the run failed, if it did'),
    sa.ForeignKeyConstraint(['outlet_id'], ['outlets.id'], name=op.f('fk_crawl_runs_outlet_id_outlets')),
    sa.PrimaryKeyConstraint('run_id', name=op.f('pk_crawl_runs')),
    comment='One row per pipeline run of one outlet over one date window, with its counts.'
    )
    with op.batch_alter_table('crawl_runs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_crawl_runs_outlet_id'), ['outlet_id'], unique=False)

    op.create_table('articles',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False, comment='Surrogate key'),
    sa.Column('outlet_id', sa.String(length=64), nullable=False, comment='Publishing outlet'),
    sa.Column('canonical_url', sa.String(length=2000), nullable=False, comment="Canonical URL: the article's identity"),
    sa.Column('url', sa.String(length=2000), nullable=False, comment='URL the article was fetched from'),
    sa.Column('edition', sa.String(length=8), nullable=False, comment='Outlet edition the URL belongs to (language code)'),
    sa.Column('language', sa.String(length=8), nullable=False, comment='Detected language, ISO 639-1'),
    sa.Column('language_confidence', sa.Float(), nullable=False, comment='Detector probability, 0..1 (0 = fallback)'),
    sa.Column('title', sa.Text(), nullable=False, comment='Headline without site name or format markers'),
    sa.Column('title_flags', JSON, nullable=False, comment='Format markers lifted from the headline: video, photo, audio, live'),
    sa.Column('body', sa.Text(), nullable=False, comment='Clean article text; paragraphs separated by blank lines'),
    sa.Column('authors', JSON, nullable=False, comment='Bylines (JSON list)'),
    sa.Column('published_at', sa.DateTime(timezone=True), nullable=True, comment='Publication time (UTC)'),
    sa.Column('modified_at', sa.DateTime(timezone=True), nullable=True, comment='Last modification the page declares (UTC)'),
    sa.Column('section', sa.String(length=200), nullable=True, comment='Section/category'),
    sa.Column('tags', JSON, nullable=False, comment='Tags (JSON list)'),
    sa.Column('image_url', sa.String(length=2000), nullable=True, comment='Lead image URL'),
    sa.Column('description', sa.Text(), nullable=True, comment='Summary the page declares'),
    sa.Column('word_count', sa.Integer(), nullable=False, comment='Words in body'),
    sa.Column('content_hash', sa.String(length=64), nullable=False, comment='SHA-256 of title and body; changes when the text changes'),
    sa.Column('first_run_id', sa.String(length=100), nullable=False, comment='Run that first loaded the article'),
    sa.Column('last_run_id', sa.String(length=100), nullable=False, comment='Run that loaded the current content'),
    sa.Column('fetched_at', sa.DateTime(timezone=True), nullable=False, comment='When the current content was fetched (UTC)'),
    sa.Column('extractor_version', sa.String(length=200), nullable=False, comment='Extractor that produced the current content'),
    sa.Column('first_seen_at', sa.DateTime(timezone=True), nullable=False, comment='When the article was first loaded (UTC)'),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False, comment='When the stored content last changed (UTC)'),
    sa.ForeignKeyConstraint(['first_run_id'], ['crawl_runs.run_id'], name=op.f('fk_articles_first_run_id_crawl_runs')),
    sa.ForeignKeyConstraint(['last_run_id'], ['crawl_runs.run_id'], name=op.f('fk_articles_last_run_id_crawl_runs')),
    sa.ForeignKeyConstraint(['outlet_id'], ['outlets.id'], name=op.f('fk_articles_outlet_id_outlets')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_articles')),
    sa.UniqueConstraint('canonical_url', name=op.f('uq_articles_canonical_url')),
    comment='One row per article (per edition/language), latest content.'
    )
    with op.batch_alter_table('articles', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_articles_language'), ['language'], unique=False)
        batch_op.create_index(batch_op.f('ix_articles_last_run_id'), ['last_run_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_articles_outlet_id'), ['outlet_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_articles_published_at'), ['published_at'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('articles', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_articles_published_at'))
        batch_op.drop_index(batch_op.f('ix_articles_outlet_id'))
        batch_op.drop_index(batch_op.f('ix_articles_last_run_id'))
        batch_op.drop_index(batch_op.f('ix_articles_language'))

    op.drop_table('articles')
    with op.batch_alter_table('crawl_runs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_crawl_runs_outlet_id'))

    op.drop_table('crawl_runs')
    op.drop_table('outlets')
