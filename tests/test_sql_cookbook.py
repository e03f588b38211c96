"""Every query of docs/sql-cookbook.md, run on PostgreSQL and SQLite against a warehouse the real
pipeline filled from the fixture outlets; each answer is checked against what the fixture sites
define (and what the test did to them: one edit, one failed page)."""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text

from kernel.registry import get_outlet
from models.syndication import THRESHOLD
from models.warehouse import connect
from tests.support import article_words
from transforms.clean import split_title_flags

COOKBOOK = Path(__file__).parents[1] / "docs" / "sql-cookbook.md"
DIALECTS = ("postgresql", "sqlite")


@dataclass(frozen=True)
class Recipe:
    number: int
    question: str
    sql: dict[str, str]  # dialect → query


def recipes() -> list[Recipe]:
    """The cookbook's questions (`## N. …`) with their queries: a ```sql block serves both databases,
    ```sql postgresql and ```sql sqlite one each."""
    found = []
    for section in re.split(r"^## ", COOKBOOK.read_text(encoding="utf-8"), flags=re.M)[1:]:
        heading, _, body = section.partition("\n")
        number, _, question = heading.partition(". ")
        sql: dict[str, str] = {}
        for dialect, query in re.findall(r"^```sql ?(\w*)\n(.*?)^```", body, flags=re.M | re.S):
            for name in ([dialect] if dialect else DIALECTS):
                assert name in DIALECTS and name not in sql, f"recipe {number}: a second or unknown {name!r} query"
                sql[name] = query.strip().rstrip(";")
        found.append(Recipe(int(number), question.strip(), sql))
    return found


RECIPES = recipes()



def title(article) -> str:
    return split_title_flags(article.title)[0]



def name(outlet_id: str) -> str:
    return get_outlet(outlet_id).name


def day(value) -> str:
    return str(value)[:10]


def as_list(value) -> list:
    return json.loads(value) if isinstance(value, str) else list(value)


def utc(value) -> datetime:
    if isinstance(value, str):  # SQLite text
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


WEEK = (datetime(2026, 11, 23, tzinfo=UTC), datetime(2026, 11, 30, tzinfo=UTC))


def check_topic_this_week(rows, loaded):
    expected = {(name(a.outlet), title(a)) for a in loaded.articles.values()
                if WEEK[0] <= a.published < WEEK[1] and any(w.startswith("буџет") for w in article_words(a))}
    assert len({outlet for outlet, _ in expected}) > 1  # a question worth asking: several outlets
    assert {(row.outlet, row.title) for row in rows} == expected


def wire_groups(loaded) -> list[list]:
    groups: dict[str, list] = {}
    for article in loaded.articles.values():
        if article.wire:
            groups.setdefault(article.wire, []).append(article)
    return [sorted(group, key=lambda a: a.published) for group in groups.values()]


def check_syndicated(rows, loaded):
    expected = {(title(group[0]), name(a.outlet), title(a), a is group[0]) for group in wire_groups(loaded) for a in group}
    assert {(row.story, row.outlet, row.title, row.similarity == 1.0) for row in rows} == expected
    assert all(THRESHOLD <= row.similarity <= 1.0 and row.outlets > 1 for row in rows)


def check_copy_delay(rows, loaded):
    expected = {(name(a.outlet), round((a.published - group[0].published).total_seconds() / 60))
                for group in wire_groups(loaded) for a in group[1:]}
    assert {(row.outlet, int(row.minutes_later)) for row in rows} == expected


def check_edits(rows, loaded):
    edited = loaded.articles[loaded.edited_url]
    (row,) = rows
    assert (row.outlet, row.title, row.version) == (name(edited.outlet), title(edited), 2)
    assert set(as_list(row.changed_fields)) == {"body", "modified_at"}
    assert utc(row.modified_before) == loaded.original.modified and utc(row.modified_after) == edited.modified
    assert row.text_before == "\n\n".join(loaded.original.body_paragraphs)[:120]
    assert row.text_after == "\n\n".join(edited.body_paragraphs)[:120]
    assert row.text_after.startswith(loaded.edited_paragraph[:60]) and row.text_before != row.text_after
    assert row.run_id == loaded.runs["slobodenpecat"][-1].run_id


def check_languages_by_day(rows, loaded):
    expected = Counter((name(a.outlet), a.published.astimezone(UTC).date().isoformat(), a.edition)
                       for a in loaded.articles.values())
    assert {(row.outlet, day(row.day), row.language): row.articles for row in rows} == dict(expected)


def check_dropping_runs(rows, loaded):
    first = loaded.runs["novamakedonija"][0]
    assert first.dropped == {"http-error": 1}
    share = round(100 * 1 / (first.article_pages_fetched + 1), 1)
    assert share > 5
    assert [(row.run_id, row.outlet_id, row.reason, int(row.pages), float(row.dropped_percent)) for row in rows] == [
        (first.run_id, "novamakedonija", "http-error", 1, share)]


def check_failed_requests(rows, loaded):
    first = loaded.runs["novamakedonija"][0]
    assert {(row.outlet_id, row.run_id, row.kind, row.url, row.status, row.reason) for row in rows} == {
        ("novamakedonija", first.run_id, "article", loaded.failed_url, 500, "http-error")}


SEED = "https://slobodenpecat.mk/en/andonovikj-severna-koreja-izleguva-od-czelosna-izolaczija/"


def check_editions_of_a_story(rows, loaded):
    seed = loaded.articles[SEED]
    others = [a for a in loaded.articles.values() if a.outlet == seed.outlet and a.story == seed.story and a.url != SEED]
    assert len(others) == 2
    assert {(row.language, row.title) for row in rows} == {("en", title(seed))}
    assert {(row.translation_language, row.translation_url, row.translation_title) for row in rows} == {
        (a.edition, a.url, title(a)) for a in others}


def check_single_edition_stories(rows, loaded):
    by_outlet: dict[str, list] = {}
    for article in loaded.articles.values():
        by_outlet.setdefault(article.outlet, []).append(article)
    expected = set()
    for articles in by_outlet.values():
        if len({a.edition for a in articles}) > 1:
            stories = Counter(a.story for a in articles)
            expected |= {(name(a.outlet), a.edition, title(a)) for a in articles if stories[a.story] == 1}
    assert expected
    assert {(row.outlet, row.edition, row.title) for row in rows} == expected


def check_ranked_search(rows, loaded):
    expected = {(name(a.outlet), a.edition, title(a)) for a in loaded.articles.values()
                if {"индустриското", "производство"} <= article_words(a)}
    assert len(expected) >= 3
    assert {(row.outlet, row.language, row.title) for row in rows} == expected


def check_authors(rows, loaded):
    expected = Counter((name(a.outlet), a.author) for a in loaded.articles.values())
    assert {(row.outlet, row.author): row.articles for row in rows} == dict(expected)


EDITED = "https://slobodenpecat.mk/vonredniot-samit-na-eu-bez-dogovor-za-dolgorochniot-budzhet/"


def check_lineage(rows, loaded):
    assert loaded.edited_url == EDITED
    runs = [loaded.runs["slobodenpecat"][0].run_id, loaded.runs["slobodenpecat"][-1].run_id]
    assert [(row.version, row.run_id, row.outlet_id) for row in rows] == [(1, runs[0], "slobodenpecat"),
                                                                          (2, runs[1], "slobodenpecat")]
    for row in rows:
        assert row.warc_file.startswith(f"runs/slobodenpecat/{row.run_id}/") and row.warc_offset >= 0
        assert row.extractor_version and row.cleaning_hash


def check_newest(rows, loaded):
    newest = sorted(loaded.articles.values(), key=lambda a: (-a.published.timestamp(), a.url))[:10]
    assert [row.canonical_url for row in rows] == [a.url for a in newest]
    assert [(row.outlet, row.title) for row in rows] == [(name(a.outlet), title(a)) for a in newest]


def check_latest_runs(rows, loaded):
    expected = {outlet_id: runs[-1] for outlet_id, runs in loaded.runs.items()}
    assert {row.outlet_id: (row.run_id, row.status, row.articles_new, row.articles_updated, row.articles_unchanged, row.errors)
            for row in rows} == {
        outlet_id: (run.run_id, "success", run.articles_new, run.articles_updated, run.articles_unchanged, run.errors)
        for outlet_id, run in expected.items()}


def declared_sources(outlet_id: str) -> set[tuple[str, str, str]]:
    """(outlet, kind, URL) of each source a run of the outlet reads while every source answers."""
    outlet = get_outlet(outlet_id)
    discovery = outlet.discovery
    if discovery.wp_api:  # the API answers: the other sources are not needed
        return {(outlet_id, "api", outlet.edition_url(e, "wp-json/wp/v2/posts")) for e in outlet.editions}
    found = {(outlet_id, kind, outlet.edition_url(e, path)) for e in outlet.editions
             for kind, paths in (("feed", discovery.feeds), ("listing", discovery.listings)) for path in paths}
    found |= {(outlet_id, "sitemap", outlet.home + path) for path in discovery.sitemaps}
    return found | ({(outlet_id, "robots", outlet.home + "robots.txt")} if discovery.sitemaps_from_robots else set())


def check_sources(rows, loaded):
    assert {(row.outlet_id, row.kind, row.source_url) for row in rows} == set().union(*map(declared_sources, loaded.runs))
    assert {row.health for row in rows} == {"ok"} and all(row.items_last > 0 and row.last_new_article_at for row in rows)


CHECKS = {
    1: check_topic_this_week, 2: check_syndicated, 3: check_copy_delay, 4: check_edits, 5: check_languages_by_day,
    6: check_dropping_runs, 7: check_failed_requests, 8: check_editions_of_a_story, 9: check_single_edition_stories,
    10: check_ranked_search, 11: check_authors, 12: check_lineage, 13: check_newest, 14: check_latest_runs,
    15: check_sources,
}


def test_the_cookbook_answers_at_least_twelve_questions_on_both_databases():
    assert len(RECIPES) >= 12
    assert [recipe.number for recipe in RECIPES] == list(range(1, len(RECIPES) + 1))
    for recipe in RECIPES:
        assert set(recipe.sql) == set(DIALECTS), f"recipe {recipe.number} lacks a query for a database"
    assert set(CHECKS) == {recipe.number for recipe in RECIPES}  # every query has its expected answer


def test_the_readme_links_the_cookbook():
    readme = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")
    assert "(docs/sql-cookbook.md)" in readme


@pytest.mark.parametrize("recipe", RECIPES, ids=[f"{r.number}" for r in RECIPES])
def test_cookbook_query(loaded_warehouse, recipe):
    engine = connect(loaded_warehouse.url)
    with engine.connect() as connection:
        rows = connection.execute(text(recipe.sql[engine.dialect.name])).all()
    engine.dispose()
    assert rows, f"recipe {recipe.number} ({recipe.question}) found nothing"
    CHECKS[recipe.number](rows, loaded_warehouse)
