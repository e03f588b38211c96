"""script and Latin transliteration

Revision ID: 0005
Revises: 0004
"""
from alembic import op
import sqlalchemy as sa

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


# Plain ADD/DROP COLUMN (SQLite ≥ 3.35 has both): a batch rebuild of `articles` would break the
# views that read it.
def upgrade() -> None:
    op.add_column('articles', sa.Column('script', sa.String(length=4), nullable=True, comment='Main script of the text, ISO 15924 (Cyrl, Latn, …)'))
    op.add_column('articles', sa.Column('title_latin', sa.Text(), nullable=True, comment='Macedonian title in Latin letters (official romanisation)'))
    op.add_column('articles', sa.Column('body_latin', sa.Text(), nullable=True, comment='Macedonian body in Latin letters, for searches typed in Latin'))



def downgrade() -> None:
    for column in ('body_latin', 'title_latin', 'script'):
        op.drop_column('articles', column)

