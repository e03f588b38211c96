"""Each discovery source on its own, over HTTP on loopback, against the Sloboden Pechat fixture
(WordPress REST API, feeds, sitemaps via robots.txt, paginated listings), plus date windows."""

from __future__ import annotations

import re
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from kernel.settings import load_settings
from kernel.window import Window
from models.tables import ArticleRow, ArticleVersionRow, FetchLogRow
from models.warehouse import connect
from newsetl.pipeline import run_outlet
from sandbox.fixture_sites import load_site

SITE = load_site("slobodenpecat")
TOML = (Path(__file__).parents[1] / "kernel" / "outlets" / "slobodenpecat.toml").read_text(encoding="utf-8")
SOURCES = {
    "api": "wp_api = true",
    "feeds": 'feeds = ["feed/"]',
    "sitemaps": "sitemaps_from_robots = true",
    "listings": 'listings = ["category/vesti/makedonija/", "category/vesti/planeta/", "category/vesti/ekonomija/",'
                ' "category/vesti/kultura/", "category/vesti/hronika/"]',
}


@pytest.fixture
def outlet_variant(tmp_path, monkeypatch):
    """Declare a copy of the outlet that discovers through one source only."""
    def declare(source: str, sources: str | None = None) -> str:
        """``source``: a key of SOURCES, or a name for the declaration ``sources``."""
        outlet_id = f"sp_{source}"
        discovery = re.search(r"\[discovery\]\n(.*?)\n(?=article_url)", TOML, flags=re.S).group(1)
        text = TOML.replace(discovery, sources or SOURCES[source]).replace('id = "slobodenpecat"', f'id = "{outlet_id}"')
        (tmp_path / "outlets").mkdir(exist_ok=True)
        (tmp_path / "outlets" / f"{outlet_id}.toml").write_text(text, encoding="utf-8")
        monkeypatch.setenv("NEWSETL_OUTLETS_DIR", str(tmp_path / "outlets"))
        return outlet_id
    return declare


def stored_urls() -> set[str]:
    engine = connect(load_settings().warehouse_url)
    with engine.connect() as connection:
        urls = set(connection.execute(select(ArticleRow.canonical_url)).scalars())
    engine.dispose()
    return urls


def fetched_kinds(run_id: str) -> Counter:
    engine = connect(load_settings().warehouse_url)
    with engine.connect() as connection:
        kinds = Counter(connection.execute(select(FetchLogRow.kind).where(FetchLogRow.run_id == run_id)).scalars())
    engine.dispose()
    return kinds


def newest_per_edition(count: int) -> set[str]:
    urls: set[str] = set()
    for edition in {a.edition for a in SITE.articles}:
        newest = sorted((a for a in SITE.articles if a.edition == edition), key=lambda a: a.published, reverse=True)
        urls |= {a.url for a in newest[:count]}
    return urls


@pytest.mark.parametrize("source", sorted(SOURCES))
def test_each_source_alone_finds_the_articles(data_dir, replay, outlet_variant, source):
    outlet_id = outlet_variant(source)
    summary = run_outlet(outlet_id, Window(), load_settings())

    expected = newest_per_edition(10) if source == "feeds" else {a.url for a in SITE.articles}  # a feed holds 10
    assert stored_urls() == expected
    assert summary.articles_new == len(expected) and summary.errors == 0
    kinds = fetched_kinds(summary.run_id)
    assert kinds["article"] == len(expected)
    other_sources = {"api", "feed", "sitemap", "listing"} - {source.rstrip("s")}
    assert not (set(kinds) & other_sources), kinds


def test_api_answers_only_the_window_and_a_backfill_fetches_only_that_day(data_dir, replay):
    """The declared outlet prefers its WordPress API: a past day costs that day's pages and no more."""
    day = sorted({a.published.date() for a in SITE.articles})[1]
    since = datetime(day.year, day.month, day.day, tzinfo=SITE.tz)
    window = Window(since, since + timedelta(days=1))
    expected = {a.url for a in SITE.articles if window.contains(a.published)}

    summary = run_outlet("slobodenpecat", window, load_settings())

    assert stored_urls() == expected
    assert summary.article_pages_fetched == len(expected)
    kinds = fetched_kinds(summary.run_id)
    assert set(kinds) == {"robots", "api", "article"}, kinds
    # per edition one page of posts published in the window and one of posts modified in it
    assert kinds["api"] == 2 * len({a.edition for a in SITE.articles})


def test_api_failure_falls_back_to_the_other_sources(data_dir, replay):
    replay.faults["/sq/wp-json/wp/v2/posts"] = (404, "application/json", b'{"code":"rest_no_route"}', {})
    try:
        summary = run_outlet("slobodenpecat", Window(), load_settings())
    finally:
        replay.faults.clear()
    assert stored_urls() == {a.url for a in SITE.articles}
    assert summary.errors == 1  # the failed API request, reported
    assert {"feed", "listing"} <= set(fetched_kinds(summary.run_id))


def test_an_edited_article_is_fetched_again_and_updated(data_dir, replay):
    first = run_outlet("slobodenpecat", Window(), load_settings())
    assert first.articles_new == len(SITE.articles)
    edited = SITE.articles[4]
    replay.edit(edited.url, paragraph="A corrected first paragraph, as the newsroom rewrote it after publication.",
                modified=edited.modified + timedelta(hours=3))
    try:
        again = run_outlet("slobodenpecat", Window(), load_settings())
    finally:
        replay.reset()
    assert again.article_pages_fetched == 1
    assert (again.articles_new, again.articles_updated, again.articles_unchanged) == (0, 1, len(SITE.articles) - 1)
    engine = connect(load_settings().warehouse_url)
    with engine.connect() as connection:
        body = connection.execute(select(ArticleRow.body).where(ArticleRow.canonical_url == edited.url)).scalar_one()
        history = connection.execute(select(ArticleVersionRow.version, ArticleVersionRow.changed_fields,
                                            ArticleVersionRow.run_id).join(ArticleRow)
                                     .where(ArticleRow.canonical_url == edited.url)
                                     .order_by(ArticleVersionRow.version)).all()
    engine.dispose()
    assert body.startswith("A corrected first paragraph")
    assert [tuple(v) for v in history] == [(1, [], first.run_id), (2, ["body", "modified_at"], again.run_id)]


def test_a_daily_run_picks_up_edits_to_older_articles(data_dir, replay):
    days = sorted({a.published.astimezone(SITE.tz).date() for a in SITE.articles})
    windows = [Window(start, start + timedelta(days=1))
               for start in (datetime(d.year, d.month, d.day, tzinfo=SITE.tz) for d in days[:2])]
    run_outlet("slobodenpecat", windows[0], load_settings())
    older = next(a for a in SITE.articles if windows[0].contains(a.published))
    replay.edit(older.url, paragraph="An update added the next day, with new figures from the ministry.",
                modified=windows[1].since + timedelta(hours=2))
    try:
        summary = run_outlet("slobodenpecat", windows[1], load_settings())
    finally:
        replay.reset()
    second_day = [a for a in SITE.articles if windows[1].contains(a.published)]
    assert summary.article_pages_fetched == len(second_day) + 1
    assert (summary.articles_new, summary.articles_updated) == (len(second_day), 1)
    engine = connect(load_settings().warehouse_url)
    with engine.connect() as connection:
        body = connection.execute(select(ArticleRow.body).where(ArticleRow.canonical_url == older.url)).scalar_one()
    engine.dispose()
    assert body.startswith("An update added the next day")


def test_undated_entries_are_judged_once_and_remembered(data_dir, replay, outlet_variant):
    """An outlet declared with a feed that gives no dates: the first run of a day fetches every page
    the feed lists and keeps that day's; a rerun fetches none; a backfill of another day fetches
    again only the pages remembered as published on it."""
    editions = {"mk": "/", "en": "/en/", "sq": "/sq/"}
    for language, prefix in editions.items():
        items = "".join(f"<item><title>{a.title}</title><link>{a.url}</link></item>"
                        for a in SITE.articles if a.edition == language)
        feed = f'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>{items}</channel></rss>'
        replay.faults[f"{prefix}undated/"] = (200, "application/rss+xml; charset=UTF-8", feed.encode(), {})
    outlet_id = outlet_variant("undated", 'feeds = ["undated/"]')
    days = sorted({a.published.astimezone(SITE.tz).date() for a in SITE.articles})
    first_day, other_day = (Window(start, start + timedelta(days=1)) for start in
                            (datetime(d.year, d.month, d.day, tzinfo=SITE.tz) for d in (days[-1], days[0])))
    try:
        first = run_outlet(outlet_id, first_day, load_settings())
        rerun = run_outlet(outlet_id, first_day, load_settings())
        backfill = run_outlet(outlet_id, other_day, load_settings())
    finally:
        replay.faults.clear()

    in_first = {a.url for a in SITE.articles if first_day.contains(a.published)}
    in_other = {a.url for a in SITE.articles if other_day.contains(a.published)}
    assert in_first and in_other
    assert first.article_pages_fetched == len(SITE.articles) and first.articles_new == len(in_first)
    assert first.dropped["out-of-window"] == len(SITE.articles) - len(in_first)
    assert rerun.article_pages_fetched == 0 and rerun.articles_new == 0
    assert rerun.dropped["out-of-window"] == len(SITE.articles) - len(in_first)  # judged before, not fetched
    assert backfill.article_pages_fetched == len(in_other) and backfill.articles_new == len(in_other)
    assert stored_urls() == in_first | in_other
    engine = connect(load_settings().warehouse_url)
    with engine.connect() as connection:
        unkept = connection.execute(select(FetchLogRow.url, FetchLogRow.reason).where(
            FetchLogRow.run_id == first.run_id, FetchLogRow.kind == "article",
            FetchLogRow.url.not_in(in_first))).all()
    engine.dispose()
    assert len(unkept) == len(SITE.articles) - len(in_first)
    assert {reason for _, reason in unkept} == {"out-of-window"}  # every page not kept says why
