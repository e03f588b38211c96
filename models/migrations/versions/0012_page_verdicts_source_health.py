"""page_verdicts and source_health: crawl memory of pages judged, and the health of each discovery source

Revision ID: 0012
Revises: 0011
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
GATES = 'Which gate: volume, completeness_title, completeness_published, completeness_author, body_length, boilerplate, language_mix'


def upgrade() -> None:
    op.create_table('page_verdicts',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False, comment='Surrogate key'),
    sa.Column('outlet_id', sa.String(length=64), nullable=False, comment='Outlet the page belongs to'),
    sa.Column('url', sa.String(length=2000), nullable=False, comment='Page URL as discovered'),
    sa.Column('reason', sa.String(length=40), nullable=False, comment='Drop reason, as in fetch_log.reason'),
    sa.Column('published_at', sa.DateTime(timezone=True), nullable=True, comment='Publication time the page gave (out-of-window pages): a crawl of a window holding it fetches it again'),
    sa.Column('run_id', sa.String(length=100), nullable=False, comment='Run that judged it'),
    sa.Column('judged_at', sa.DateTime(timezone=True), nullable=False, comment='When it was judged (UTC)'),
    sa.ForeignKeyConstraint(['outlet_id'], ['outlets.id'], name=op.f('fk_page_verdicts_outlet_id_outlets')),
    sa.ForeignKeyConstraint(['run_id'], ['crawl_runs.run_id'], name=op.f('fk_page_verdicts_run_id_crawl_runs')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_page_verdicts')),
    sa.UniqueConstraint('outlet_id', 'url', name=op.f('uq_page_verdicts_outlet_id')),
    comment="Article pages fetched once that gave no article because their own date put them outside the run's window: later crawls skip them unless a source shows them modified or a window holds the date."
    )
    op.create_table('source_health',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False, comment='Surrogate key'),
    sa.Column('outlet_id', sa.String(length=64), nullable=False, comment='Outlet'),
    sa.Column('source_url', sa.String(length=2000), nullable=False, comment="The source's first document (API: the posts endpoint)"),
    sa.Column('kind', sa.String(length=20), nullable=False, comment='feed, sitemap, robots, api or listing'),
    sa.Column('edition', sa.String(length=8), nullable=True, comment='Edition language; null for site-wide sources'),
    sa.Column('last_run_id', sa.String(length=100), nullable=False, comment='Last run that read it'),
    sa.Column('last_success_at', sa.DateTime(timezone=True), nullable=True, comment='Last run in which a document of it was read'),
    sa.Column('last_failure_at', sa.DateTime(timezone=True), nullable=True, comment='Last run in which a document of it failed'),
    sa.Column('last_failure_reason', sa.String(length=40), nullable=True, comment='Why, as in fetch_log.reason (or unreadable)'),
    sa.Column('last_failure_detail', sa.Text(), nullable=True, comment='The failing document and what happened'),
    sa.Column('consecutive_failures', sa.Integer(), nullable=False, comment='Runs in a row in which no document of it was read'),
    sa.Column('runs_without_items', sa.Integer(), nullable=False, comment='Runs in a row in which it listed no URL'),
    sa.Column('items_last', sa.Integer(), nullable=True, comment='URLs it listed in the last run that read it'),
    sa.Column('items_recent', JSON, nullable=False, comment='URLs listed in each of its last 14 runs, oldest first'),
    sa.Column('items_median', sa.Float(), nullable=True, comment='Median of items_recent'),
    sa.Column('last_new_article_at', sa.DateTime(timezone=True), nullable=True, comment='Last run in which it listed an article the warehouse did not hold'),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False, comment='When this row last changed (UTC)'),
    sa.ForeignKeyConstraint(['last_run_id'], ['crawl_runs.run_id'], name=op.f('fk_source_health_last_run_id_crawl_runs')),
    sa.ForeignKeyConstraint(['outlet_id'], ['outlets.id'], name=op.f('fk_source_health_outlet_id_outlets')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_source_health')),
    sa.UniqueConstraint('outlet_id', 'source_url', name=op.f('uq_source_health_outlet_id')),
    comment="One row per declared discovery source of an outlet (feed, sitemap, robots.txt's sitemaps, an edition's WordPress API, listing): when it last worked, when and why it last failed, what it yields."
    )


    with op.batch_alter_table('quality_checks', schema=None) as batch_op:
        batch_op.alter_column('check_name', existing_type=sa.String(length=40), comment=GATES + ', sources, blocked',
                              existing_comment=GATES, existing_nullable=False)


def downgrade() -> None:
    with op.batch_alter_table('quality_checks', schema=None) as batch_op:
        batch_op.alter_column('check_name', existing_type=sa.String(length=40), comment=GATES,
                              existing_comment=GATES + ', sources, blocked', existing_nullable=False)
    op.drop_table('source_health')
    op.drop_table('page_verdicts')
