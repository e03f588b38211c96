"""quality checks of each run

Revision ID: 0010
Revises: 0009
"""
from alembic import op
import sqlalchemy as sa

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('quality_checks',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False, comment='Surrogate key'),
    sa.Column('run_id', sa.String(length=100), nullable=False, comment='Run checked'),
    sa.Column('outlet_id', sa.String(length=64), nullable=False, comment='Outlet of the run'),
    sa.Column('check_name', sa.String(length=40), nullable=False, comment='Which gate: volume, completeness_title, completeness_published, completeness_author, body_length, boilerplate, language_mix'),
    sa.Column('status', sa.String(length=10), nullable=False, comment='pass, warn or fail (a fail fails the Airflow task)'),
    sa.Column('measured', sa.Float(), nullable=True, comment="The run's value (a count, share or median); null when there was nothing to measure"),
    sa.Column('baseline', sa.Float(), nullable=True, comment="The outlet's recent value it was compared with; null without enough history"),
    sa.Column('message', sa.Text(), nullable=False, comment='What was found, in words and numbers'),
    sa.Column('checked_at', sa.DateTime(timezone=True), nullable=False, comment='When the check ran (UTC)'),
    sa.ForeignKeyConstraint(['outlet_id'], ['outlets.id'], name=op.f('fk_quality_checks_outlet_id_outlets')),
    sa.ForeignKeyConstraint(['run_id'], ['crawl_runs.run_id'], name=op.f('fk_quality_checks_run_id_crawl_runs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_quality_checks')),
    sa.UniqueConstraint('run_id', 'check_name', name=op.f('uq_quality_checks_run_id')),
    comment="Quality gates of each run against the outlet's recent baseline: pass, warn or fail, with the numbers."
    )
    op.create_index(op.f('ix_quality_checks_run_id'), 'quality_checks', ['run_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_quality_checks_run_id'), table_name='quality_checks')
    op.drop_table('quality_checks')
