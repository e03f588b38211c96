"""full-text search over title and body

Revision ID: 0007
Revises: 0006
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

# PostgreSQL has no Macedonian (nor Albanian) snowball stemmer, so the configuration is `simple`:
# lower-cased words, no stemming and no stop words — the same for every edition; analysts use
# prefix queries (`влад:*`) for inflected forms. unaccent is deliberately left out: its rules leave
# Macedonian Cyrillic as it is (ѓ, ќ, ѐ, ѝ are untouched; only Russian ё is folded), so it gains
# nothing for mk, would fold the distinct Albanian letters ë and ç into e and c, and being neither
# IMMUTABLE nor always installed it cannot feed a generated column without a wrapper and an
# extension the warehouse role may not be allowed to create. The Latin transliteration of
# Macedonian (title_latin, body_latin) is indexed too, so a search typed in Latin letters finds
# Cyrillic articles. Lower-casing follows the database's LC_CTYPE: use a UTF-8 one (C.UTF-8 or
# xx_XX.UTF-8), not plain C.
SEARCH_VECTOR = ("setweight(to_tsvector('simple', coalesce(title, '') || ' ' || coalesce(title_latin, '')), 'A') || "
                 "setweight(to_tsvector('simple', coalesce(body, '') || ' ' || coalesce(body_latin, '')), 'B')")

# SQLite: an FTS5 index whose content is the articles table itself (external content, nothing
# stored twice), kept in step by triggers. The tokenizer keeps diacritics (remove_diacritics 0), as
# PostgreSQL's `simple` does: stripping them would merge ќ with к and ѓ with г. A later migration
# that rebuilds `articles` in batch mode drops these triggers and must create them again.
FTS_COLUMNS = "title, body, title_latin, body_latin"
SQLITE_UP = [
    f"CREATE VIRTUAL TABLE articles_fts USING fts5({FTS_COLUMNS}, content='articles', content_rowid='id', "
    "tokenize='unicode61 remove_diacritics 0')",
    f"""CREATE TRIGGER articles_fts_insert AFTER INSERT ON articles BEGIN
        INSERT INTO articles_fts(rowid, {FTS_COLUMNS}) VALUES (new.id, new.title, new.body, new.title_latin, new.body_latin);
    END""",
    f"""CREATE TRIGGER articles_fts_delete AFTER DELETE ON articles BEGIN
        INSERT INTO articles_fts(articles_fts, rowid, {FTS_COLUMNS})
        VALUES ('delete', old.id, old.title, old.body, old.title_latin, old.body_latin);
    END""",
    f"""CREATE TRIGGER articles_fts_update AFTER UPDATE OF {FTS_COLUMNS} ON articles BEGIN
        INSERT INTO articles_fts(articles_fts, rowid, {FTS_COLUMNS})
        VALUES ('delete', old.id, old.title, old.body, old.title_latin, old.body_latin);
        INSERT INTO articles_fts(rowid, {FTS_COLUMNS}) VALUES (new.id, new.title, new.body, new.title_latin, new.body_latin);
    END""",
    "INSERT INTO articles_fts(articles_fts) VALUES ('rebuild')",  # index the articles already loaded
]
SQLITE_DOWN = ["DROP TRIGGER IF EXISTS articles_fts_update", "DROP TRIGGER IF EXISTS articles_fts_delete",
               "DROP TRIGGER IF EXISTS articles_fts_insert", "DROP TABLE IF EXISTS articles_fts"]


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for statement in SQLITE_UP:
            op.execute(statement)
        return
    op.add_column('articles', sa.Column(
        'search_vector', postgresql.TSVECTOR(), sa.Computed(SEARCH_VECTOR, persisted=True),
        comment="Full-text index of title (weight A) and body (B), Latin transliteration included; "
                "configuration 'simple': match with websearch_to_tsquery('simple', …) or to_tsquery('simple', 'word:*')"))
    op.create_index('ix_articles_search_vector', 'articles', ['search_vector'], postgresql_using='gin')


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for statement in SQLITE_DOWN:
            op.execute(statement)
        return
    op.drop_index('ix_articles_search_vector', table_name='articles')
    op.drop_column('articles', 'search_vector')
