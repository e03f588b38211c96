"""Load stage: the SQL warehouse — SQLAlchemy tables, alembic migrations, idempotent loads."""
