"""boilerplate_segments.text: kept once the paragraph recurs, null while it is in one article only

Revision ID: 0011
Revises: 0010
"""
from alembic import op
import sqlalchemy as sa

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

# Nearly every candidate paragraph at the edges of a body occurs in that one article only; storing
# its text copied about half of every body into this table. Texts already stored stay.
OLD = 'The paragraph as first seen'
NEW = 'The paragraph (the least of its spellings in the load that found it recurring); null while it occurs in one article only'


def upgrade() -> None:
    with op.batch_alter_table('boilerplate_segments', schema=None) as batch_op:
        batch_op.alter_column('text', existing_type=sa.Text(), nullable=True, comment=NEW, existing_comment=OLD)


def downgrade() -> None:
    op.execute("UPDATE boilerplate_segments SET text = '' WHERE text IS NULL")  # the column requires a text again
    with op.batch_alter_table('boilerplate_segments', schema=None) as batch_op:
        batch_op.alter_column('text', existing_type=sa.Text(), nullable=False, comment=OLD, existing_comment=NEW)
