"""raw archive pointers, translations, fetch log

Revision ID: 0002
Revises: 0001
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table('fetch_log',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False, comment='Surrogate key'),
    sa.Column('run_id', sa.String(length=100), nullable=False, comment='Run that made the request'),
    sa.Column('url', sa.String(length=2000), nullable=False, comment="Requested URL (the outlet's real URL)"),
    sa.Column('kind', sa.String(length=20), nullable=False, comment='robots, sitemap, api, feed, listing or article'),
    sa.Column('status', sa.Integer(), nullable=True, comment='HTTP status; null when no response came back'),
    sa.Column('bytes', sa.Integer(), nullable=True, comment='Response body size in bytes'),
    sa.Column('elapsed_ms', sa.Integer(), nullable=True, comment='Time to the response, milliseconds'),
    sa.Column('reason', sa.String(length=40), nullable=True, comment='Why the request failed or was refused (drop reason); null if fine'),
    sa.Column('detail', sa.Text(), nullable=True, comment='Error detail, e.g. the exception or the refused redirect target'),
    sa.Column('fetched_at', sa.DateTime(timezone=True), nullable=False, comment='When it happened (UTC)'),
    sa.ForeignKeyConstraint(['run_id'], ['crawl_runs.run_id'], name=op.f('fk_fetch_log_run_id_crawl_runs')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_fetch_log')),
    comment='Every request a crawl made or refused: what came back, how big, how long, and why it was dropped.'
    )
    with op.batch_alter_table('fetch_log', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_fetch_log_run_id'), ['run_id'], unique=False)

    with op.batch_alter_table('articles', schema=None) as batch_op:
        batch_op.add_column(sa.Column('warc_file', sa.String(length=500), nullable=True, comment='WARC file holding the fetched page (relative to the data dir)'))
        batch_op.add_column(sa.Column('warc_offset', sa.BigInteger(), nullable=True, comment="Byte offset of the page's response record in warc_file"))
        batch_op.add_column(sa.Column('translation_key', sa.String(length=2000), nullable=True, comment='Same for all editions of one story'))
        batch_op.add_column(sa.Column('alternates', JSON, nullable=False, server_default=sa.text("'{}'"),  # existing rows: no alternates known
                                       comment='Declared translations: language → URL'))
        batch_op.create_index(batch_op.f('ix_articles_translation_key'), ['translation_key'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('articles', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_articles_translation_key'))
        batch_op.drop_column('alternates')
        batch_op.drop_column('translation_key')
        batch_op.drop_column('warc_offset')
        batch_op.drop_column('warc_file')

    with op.batch_alter_table('fetch_log', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_fetch_log_run_id'))

    op.drop_table('fetch_log')
