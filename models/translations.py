"""Translations: the same story in an outlet's other editions, linked both ways.

A page names its translations with hreflang alternates (``Article.alternates``, language → URL).
Each named translation is a row of ``article_translations`` (``declared`` true) whose
``translation_id`` is filled as soon as the translation is loaded, in the same load or a later one;
the translation then gets a row pointing back (``declared`` false) unless its own page names the
article too. So ``WHERE article_id = :id`` lists every known translation of an article.
"""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import Connection, and_, select

from kernel.records import Article
from models.chunks import chunks
from models.tables import ArticleRow, ArticleTranslationRow

_COMPARED = ("language", "translation_id", "declared")


def _links_where(connection: Connection, column, values) -> dict[tuple[int, str], dict]:
    links = ArticleTranslationRow.__table__
    found = {}
    for chunk in chunks(sorted(values)):
        for row in connection.execute(select(links).where(column.in_(chunk))):
            found[(row.article_id, row.translation_url)] = dict(row._mapping)
    return found


def _articles_where(connection: Connection, column, values) -> list:
    table = ArticleRow.__table__
    found = []
    for chunk in chunks(sorted(values)):
        found += connection.execute(select(table.c.id, table.c.canonical_url, table.c.edition).where(column.in_(chunk))).all()
    return found


def link_translations(connection: Connection, articles: list[Article], run_id: str) -> int:
    """Bring the translation links of ``articles`` (already written in this transaction) up to date;
    returns the number of rows inserted, changed or deleted (0 when nothing changed)."""
    links = ArticleTranslationRow.__table__
    table = ArticleRow.__table__
    loaded = {article.canonical_url for article in articles}
    named = {url for article in articles for url in article.alternates.values()}
    naming_loaded = _links_where(connection, links.c.translation_url, loaded)  # rows of pages that name them
    stored = {row.canonical_url: row for row in _articles_where(connection, table.c.canonical_url, loaded | named)}
    declarers = {article_id for (article_id, _), row in naming_loaded.items() if row["declared"]}
    stored.update({row.canonical_url: row for row in _articles_where(connection, table.c.id, declarers)})
    by_id = {row.id: row for row in stored.values()}
    before = {**_links_where(connection, links.c.article_id, set(by_id)), **naming_loaded}

    rows: dict[int, dict[str, dict]] = defaultdict(dict)  # article id → translation URL → row, as it should be
    for (article_id, url), row in before.items():
        rows[article_id][url] = dict(row)
    must_link: set[tuple[int, int]] = set()  # (article id, translation id) pairs that need a row
    for article in articles:
        me = stored[article.canonical_url]
        declared = {url: language for language, url in article.alternates.items()
                    if url not in (article.canonical_url, article.url)}
        mine = rows[me.id]
        for url in [url for url, row in mine.items() if row["declared"] and url not in declared]:
            del mine[url]  # the page no longer names it
        for url, language in sorted(declared.items()):
            target = stored.get(url)
            mine[url] = dict(article_id=me.id, translation_url=url, language=language,
                             translation_id=target.id if target else None, declared=True)
            if target:
                must_link.add((target.id, me.id))
        for (article_id, url), row in naming_loaded.items():
            if url == article.canonical_url and row["declared"] and article_id != me.id:
                rows[article_id][url]["translation_id"] = me.id
                must_link.add((me.id, article_id))
    for article_id, translation_id in sorted(must_link):
        mine = rows[article_id]
        if any(row["translation_id"] == translation_id for row in mine.values()):
            continue
        target = by_id[translation_id]
        mine[target.canonical_url] = dict(article_id=article_id, translation_url=target.canonical_url,
                                          language=target.edition, translation_id=translation_id, declared=False)

    after = {(article_id, url): row for article_id, mine in rows.items() for url, row in mine.items()}
    gone = sorted(before.keys() - after.keys())
    new = sorted(after.keys() - before.keys())
    changed = sorted(key for key in after.keys() & before.keys()
                     if any(after[key][name] != before[key][name] for name in _COMPARED))
    for article_id, url in gone:
        connection.execute(links.delete().where(and_(links.c.article_id == article_id, links.c.translation_url == url)))
    if new:
        connection.execute(links.insert(), [{**after[key], "run_id": run_id} for key in new])
    for article_id, url in changed:
        connection.execute(links.update().where(and_(links.c.article_id == article_id, links.c.translation_url == url))
                           .values(**{name: after[(article_id, url)][name] for name in _COMPARED}, run_id=run_id))
    return len(gone) + len(new) + len(changed)
