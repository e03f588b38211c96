"""Full-text search over title and body: a generated tsvector with a GIN index on PostgreSQL, an FTS5
table kept by triggers on SQLite; both answer the same searches the same way."""

from __future__ import annotations

from sqlalchemy import inspect, text

from models.warehouse import connect
from tests.support import article_words, words

SEARCH = {
    "postgresql": "SELECT canonical_url FROM articles WHERE search_vector @@ to_tsquery('simple', :query)",
    "sqlite": "SELECT a.canonical_url FROM articles_fts JOIN articles a ON a.id = articles_fts.rowid WHERE articles_fts MATCH :query",
}
WORD = {"postgresql": "{}", "sqlite": '"{}"'}
PREFIX = {"postgresql": "{}:*", "sqlite": '"{}"*'}




def search(url: str, form: dict[str, str], term: str) -> set[str]:
    engine = connect(url)
    with engine.connect() as connection:
        found = set(connection.execute(text(SEARCH[engine.dialect.name]),
                                       {"query": form[engine.dialect.name].format(term)}).scalars())
    engine.dispose()
    return found


def test_words_and_prefixes_find_what_the_fixtures_say(loaded_warehouse):
    texts = {url: article_words(article) for url, article in loaded_warehouse.articles.items()}
    for word in ("индустриското", "сообраќајот", "government", "qeveria"):
        expected = {url for url, found in texts.items() if word in found}
        assert expected, word
        assert search(loaded_warehouse.url, WORD, word) == expected, word
    for prefix in ("буџет", "влад"):  # no Macedonian stemmer: inflected forms by prefix
        expected = {url for url, found in texts.items() if any(w.startswith(prefix) for w in found)}
        assert len(expected) > 3
        assert search(loaded_warehouse.url, PREFIX, prefix) == expected, prefix


def test_a_search_typed_in_latin_finds_macedonian_articles(loaded_warehouse):
    cyrillic = search(loaded_warehouse.url, WORD, "индустриското")
    assert len(cyrillic) >= 3 and search(loaded_warehouse.url, WORD, "industriskoto") == cyrillic


def test_an_edit_reaches_the_index_and_the_old_words_leave_it(loaded_warehouse):
    original, url = loaded_warehouse.original, loaded_warehouse.url
    edited = loaded_warehouse.articles[loaded_warehouse.edited_url]
    elsewhere = set().union(*(article_words(a) for u, a in loaded_warehouse.articles.items() if u != edited.url))
    gone = words(original.body_paragraphs[0]) - article_words(edited) - elsewhere
    new = words(loaded_warehouse.edited_paragraph) - words(original.body_paragraphs[0]) - elsewhere
    assert gone and new  # the replaced paragraph had words of its own, and so has its replacement
    for word in sorted(gone):
        assert search(url, WORD, word) == set(), word
    for word in sorted(new):
        assert search(url, WORD, word) == {edited.url}, word


def test_the_search_index_is_where_analysts_look_for_it(loaded_warehouse):
    engine = connect(loaded_warehouse.url)
    with engine.connect() as connection:
        if engine.dialect.name == "postgresql":
            column = connection.execute(text(
                "SELECT format_type(atttypid, atttypmod), attgenerated, col_description(attrelid, attnum) "
                "FROM pg_attribute WHERE attrelid = 'articles'::regclass AND attname = 'search_vector'")).one()
            assert column[0] == "tsvector" and column[1] == "s" and "'simple'" in column[2]
            index = connection.execute(text(
                "SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_articles_search_vector'")).scalar_one()
            assert "USING gin (search_vector)" in index
        else:
            assert "articles_fts" in inspect(connection).get_table_names()
            triggers = set(connection.execute(text("SELECT name FROM sqlite_master WHERE type = 'trigger'")).scalars())
            assert triggers == {"articles_fts_insert", "articles_fts_delete", "articles_fts_update"}
            # FTS5 checks its index against the articles table; a mismatch raises
            connection.execute(text("INSERT INTO articles_fts(articles_fts, rank) VALUES ('integrity-check', 1)"))
    engine.dispose()
