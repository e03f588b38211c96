"""boilerplate_segments.last_seen_at: the last load that counted a new article for the segment

Revision ID: 0009
Revises: 0008
"""
from alembic import op
import sqlalchemy as sa

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

# A load that only sees a segment in articles already counted writes nothing (a re-run changes
# nothing), so the column now says when the count last grew. Only the comment changes; SQLite keeps none.
OLD = 'Last load that saw it (UTC)'
NEW = 'Last load that found it in an article it had not been counted in (UTC)'


def _comment(comment: str, existing: str) -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.alter_column('boilerplate_segments', 'last_seen_at', existing_type=sa.DateTime(timezone=True),
                        existing_nullable=False, comment=comment, existing_comment=existing)


def upgrade() -> None:
    _comment(NEW, OLD)


def downgrade() -> None:
    _comment(OLD, NEW)
