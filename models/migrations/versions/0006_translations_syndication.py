"""translations and syndication clusters

Revision ID: 0006
Revises: 0005
"""
from alembic import op
import sqlalchemy as sa

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


# New tables only: `articles` is not rebuilt, so the views that read it stay intact on SQLite.
def upgrade() -> None:
    op.create_table('article_translations',
    sa.Column('article_id', sa.Integer(), nullable=False, comment='Article'),
    sa.Column('translation_url', sa.String(length=2000), nullable=False, comment='URL of the translation, as the page declares it (hreflang)'),
    sa.Column('language', sa.String(length=8), nullable=False, comment='Language of the translation, ISO 639-1'),
    sa.Column('translation_id', sa.Integer(), nullable=True, comment="The translation's article; null until it is loaded"),
    sa.Column('declared', sa.Boolean(), nullable=False, comment="True: this article's page names the translation; false: only the translation's page names this one"),
    sa.Column('run_id', sa.String(length=100), nullable=False, comment='Run that recorded the link'),
    sa.ForeignKeyConstraint(['article_id'], ['articles.id'], name=op.f('fk_article_translations_article_id_articles'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['run_id'], ['crawl_runs.run_id'], name=op.f('fk_article_translations_run_id_crawl_runs')),
    sa.ForeignKeyConstraint(['translation_id'], ['articles.id'], name=op.f('fk_article_translations_translation_id_articles'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('article_id', 'translation_url', name=op.f('pk_article_translations')),
    comment="The same story in an outlet's other editions: one row per article and translation, both ways."
    )
    op.create_index(op.f('ix_article_translations_translation_url'), 'article_translations', ['translation_url'], unique=False)
    op.create_index(op.f('ix_article_translations_translation_id'), 'article_translations', ['translation_id'], unique=False)

    op.create_table('syndication_clusters',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False, comment='Surrogate key'),
    sa.Column('representative_id', sa.Integer(), nullable=False, comment='Earliest published member: the likely original'),
    sa.Column('articles', sa.Integer(), nullable=False, comment='Number of member articles'),
    sa.Column('outlets', sa.Integer(), nullable=False, comment='Number of distinct outlets among the members (>1: syndicated)'),
    sa.Column('first_published_at', sa.DateTime(timezone=True), nullable=True, comment='Earliest member publication (UTC)'),
    sa.Column('last_published_at', sa.DateTime(timezone=True), nullable=True, comment='Latest member publication (UTC)'),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False, comment='When the membership last changed (UTC)'),
    sa.ForeignKeyConstraint(['representative_id'], ['articles.id'], name=op.f('fk_syndication_clusters_representative_id_articles'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_syndication_clusters')),
    sa.UniqueConstraint('representative_id', name=op.f('uq_syndication_clusters_representative_id')),
    comment='Near-duplicate texts (wire copies, reposts) found by MinHash/LSH over body shingles.'
    )
    op.create_table('syndication_members',
    sa.Column('article_id', sa.Integer(), nullable=False, comment='Article'),
    sa.Column('cluster_id', sa.Integer(), nullable=False, comment='Cluster'),
    sa.Column('similarity', sa.Float(), nullable=False, comment="Jaccard similarity of the body's word 4-gram shingles to the representative's, 0..1 (1 for the representative)"),
    sa.ForeignKeyConstraint(['article_id'], ['articles.id'], name=op.f('fk_syndication_members_article_id_articles'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['cluster_id'], ['syndication_clusters.id'], name=op.f('fk_syndication_members_cluster_id_syndication_clusters'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('article_id', name=op.f('pk_syndication_members')),
    comment='Articles of each near-duplicate cluster (an article is in at most one), with similarity.'
    )
    op.create_index(op.f('ix_syndication_members_cluster_id'), 'syndication_members', ['cluster_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_syndication_members_cluster_id'), table_name='syndication_members')
    op.drop_table('syndication_members')
    op.drop_table('syndication_clusters')
    op.drop_index(op.f('ix_article_translations_translation_id'), table_name='article_translations')
    op.drop_index(op.f('ix_article_translations_translation_url'), table_name='article_translations')
    op.drop_table('article_translations')
