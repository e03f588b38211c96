"""Translations: the same story in an outlet's editions, linked both ways as the pages declare them."""

from __future__ import annotations

from dataclasses import replace

import pytest
from sqlalchemy import select, text

from kernel.registry import get_outlet
from kernel.window import Window
from models.tables import ArticleTranslationRow
from models.translations import link_translations
from models.warehouse import connect, load_articles, start_run, upgrade
from sandbox.demo import fixture_outlets
from sandbox.fixture_sites import load_site
from tests.test_warehouse import make_article

LINKS = """
    SELECT a.canonical_url AS article, t.translation_url, t.language, b.canonical_url AS translation, t.declared
    FROM article_translations t JOIN articles a ON a.id = t.article_id
    LEFT JOIN articles b ON b.id = t.translation_id"""


def links(engine) -> set[tuple]:
    with engine.connect() as connection:
        return {(row.article, row.translation_url, row.language, row.translation, bool(row.declared))
                for row in connection.execute(text(LINKS))}


def test_every_fixture_story_links_its_editions_both_ways(loaded_warehouse):
    expected = set()
    for outlet_id in fixture_outlets():
        site = load_site(outlet_id)
        for article in site.articles:
            for other in site.translations(article):
                if other.url != article.url:
                    expected.add((article.url, other.url, other.edition, other.url, True))
    assert expected  # the fixtures do have translated stories
    engine = connect(loaded_warehouse.url)
    assert links(engine) == expected
    engine.dispose()


def edition(n: int, language: str, alternates: dict[str, str]):
    url = f"https://slobodenpecat.mk/{'' if language == 'mk' else language + '/'}story-{n}/"
    return replace(make_article(n), url=url, canonical_url=url, edition=language, language=language,
                   alternates=alternates)


MK, EN, SQ = ("https://slobodenpecat.mk/story-1/", "https://slobodenpecat.mk/en/story-1/",
              "https://slobodenpecat.mk/sq/story-1/")


@pytest.fixture
def engine(warehouse_url):
    engine = connect(warehouse_url)
    upgrade(engine)
    for run in ("run-1", "run-2", "run-3"):
        start_run(engine, run, get_outlet("slobodenpecat"), Window())
    yield engine
    engine.dispose()


def test_links_resolve_as_translations_arrive_and_a_rerun_changes_nothing(engine):
    mk = edition(1, "mk", {"mk": MK, "en": EN, "sq": SQ})
    load_articles(engine, [mk], "run-1")
    assert links(engine) == {(MK, EN, "en", None, True), (MK, SQ, "sq", None, True)}  # named, not loaded yet

    en = edition(1, "en", {"mk": MK})  # names only the Macedonian page
    load_articles(engine, [en], "run-2")
    assert links(engine) == {(MK, EN, "en", EN, True), (MK, SQ, "sq", None, True), (EN, MK, "mk", MK, True)}

    sq = edition(1, "sq", {})  # names nothing: gets the link back from the page that names it
    load_articles(engine, [sq], "run-3")
    after = links(engine)
    assert after == {(MK, EN, "en", EN, True), (MK, SQ, "sq", SQ, True), (EN, MK, "mk", MK, True),
                     (SQ, MK, "mk", MK, False)}

    with engine.begin() as connection:  # a rerun of the same articles writes nothing
        before = connection.execute(select(ArticleTranslationRow.__table__)).all()
        assert link_translations(connection, [mk, en, sq], "run-3") == 0
        assert sorted(connection.execute(select(ArticleTranslationRow.__table__)).all()) == sorted(before)


def test_a_page_that_stops_naming_a_translation_loses_that_link(engine):
    load_articles(engine, [edition(1, "mk", {"en": EN, "sq": SQ}), edition(1, "en", {"mk": MK})], "run-1")
    changed = replace(edition(1, "mk", {"en": EN}), content_hash="edited")
    load_articles(engine, [changed], "run-2")
    assert links(engine) == {(MK, EN, "en", EN, True), (EN, MK, "mk", MK, True)}
