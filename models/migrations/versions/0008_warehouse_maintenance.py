"""warehouse maintenance: maintenance runs, and when a learned segment was cleaned from older bodies

Revision ID: 0008
Revises: 0007
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


# A new table and a nullable column: `articles` is not rebuilt, so its views and triggers stay intact.
def upgrade() -> None:
    op.create_table('maintenance_runs',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False, comment='Surrogate key'),
    sa.Column('task', sa.String(length=40), nullable=False, comment='What was maintained: boilerplate or syndication'),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False, comment='When the run started (UTC)'),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True, comment='When the run ended (UTC)'),
    sa.Column('status', sa.String(length=20), nullable=False, comment='running, success or failed'),
    sa.Column('counts', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False, comment='What the run did, as counts (JSON object)'),
    sa.Column('error_message', sa.Text(), nullable=True, comment='Why the run failed, if it did'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_maintenance_runs')),
    comment='Warehouse maintenance runs (boilerplate re-cleaning, syndication refresh) with their counts.'
    )
    op.create_index(op.f('ix_maintenance_runs_task'), 'maintenance_runs', ['task'], unique=False)
    op.add_column('boilerplate_segments', sa.Column('recleaned_at', sa.DateTime(timezone=True), nullable=True, comment='When the bodies loaded before it was removed were cleaned of it (UTC); null: not yet'))


def downgrade() -> None:
    op.drop_column('boilerplate_segments', 'recleaned_at')
    op.drop_index(op.f('ix_maintenance_runs_task'), table_name='maintenance_runs')
    op.drop_table('maintenance_runs')
