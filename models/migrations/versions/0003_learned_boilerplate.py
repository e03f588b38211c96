"""learned boilerplate

Revision ID: 0003
Revises: 0002
"""
from alembic import op
import sqlalchemy as sa

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('boilerplate_segments',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False, comment='Surrogate key'),
    sa.Column('outlet_id', sa.String(length=64), nullable=False, comment='Outlet it recurs in'),
    sa.Column('segment_hash', sa.String(length=40), nullable=False, comment='SHA-1 of the whitespace-normalised, case-folded text'),
    sa.Column('text', sa.Text(), nullable=False, comment='The paragraph as first seen'),
    sa.Column('article_count', sa.Integer(), nullable=False, comment='Distinct articles it occurs in'),
    sa.Column('first_seen_at', sa.DateTime(timezone=True), nullable=False, comment='First load that saw it (UTC)'),
    sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=False, comment='Last load that saw it (UTC)'),
    sa.Column('status', sa.String(length=20), nullable=False, comment='auto: removed once in enough articles; confirmed: always removed; ignored: never'),
    sa.ForeignKeyConstraint(['outlet_id'], ['outlets.id'], name=op.f('fk_boilerplate_segments_outlet_id_outlets')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_boilerplate_segments')),
    sa.UniqueConstraint('outlet_id', 'segment_hash', name=op.f('uq_boilerplate_segments_outlet_id')),
    comment="Paragraphs learned as an outlet's boilerplate (recurring across its articles); review and override via status."
    )
    op.create_table('boilerplate_occurrences',
    sa.Column('segment_id', sa.Integer(), nullable=False, comment='Segment'),
    sa.Column('canonical_url', sa.String(length=2000), nullable=False, comment='Article it occurred in'),
    sa.ForeignKeyConstraint(['segment_id'], ['boilerplate_segments.id'], name=op.f('fk_boilerplate_occurrences_segment_id_boilerplate_segments'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('segment_id', 'canonical_url', name=op.f('pk_boilerplate_occurrences')),
    comment='Which articles a candidate boilerplate paragraph occurred in (the basis of article_count).'
    )


def downgrade() -> None:
    op.drop_table('boilerplate_occurrences')
    op.drop_table('boilerplate_segments')
