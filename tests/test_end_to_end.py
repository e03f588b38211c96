"""The whole pipeline over real HTTP on loopback into SQLite and PostgreSQL."""

from __future__ import annotations

import json
import re
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from kernel.records import RunPlan
from kernel.settings import load_settings
from kernel.window import Window
from models.tables import ArticleRow, CrawlRunRow
from models.warehouse import connect
from newsetl.pipeline import run_outlet
from sandbox.demo import fixture_outlets
from sandbox.fixture_sites import load_site
from scrapers.crawl import CrawlFailed
from tests.support import appeal_sentences, newsetl, path_of

SITE = load_site("slobodenpecat")


def all_rows(engine):
    with engine.connect() as connection:
        return connection.execute(select(ArticleRow.__table__).order_by(ArticleRow.canonical_url)).all()


def readme_queries() -> list[str]:
    readme = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")
    return re.findall(r"```sql\n(.*?)```", readme, flags=re.S)


def test_full_run_loads_every_fixture_article_once(data_dir, replay, warehouse_url):
    settings = load_settings(warehouse_url)
    first = run_outlet("slobodenpecat", Window(), settings)

    assert first.articles_new == len(SITE.articles)
    assert first.article_pages_fetched == len(SITE.articles)
    assert first.errors == 0 and first.dropped == {}
    engine = connect(warehouse_url)
    with engine.connect() as connection:
        by_edition = dict(connection.execute(select(ArticleRow.edition, func.count()).group_by(ArticleRow.edition)).all())
        by_language = dict(connection.execute(select(ArticleRow.language, func.count()).group_by(ArticleRow.language)).all())
        stored = {row.canonical_url: row for row in connection.execute(select(ArticleRow)).all()}
        run = connection.execute(select(CrawlRunRow).where(CrawlRunRow.run_id == first.run_id)).one()
    expected = Counter(article.edition for article in SITE.articles)
    assert by_edition == dict(expected) and by_language == dict(expected)
    assert set(stored) == {article.url for article in SITE.articles}  # the real URLs, not the replay server's
    for row in stored.values():
        for sentence in appeal_sentences(SITE):
            assert sentence not in row.body, f"{row.canonical_url} keeps {sentence!r}"
    assert (run.status, run.articles_new, run.pages_fetched) == ("success", len(SITE.articles), first.pages_fetched)

    stories = Counter(article.story for article in SITE.articles)
    translated = sum(count for count in stories.values() if count > 1)
    queries = [query for query in readme_queries()  # the ops queries: see test_quality.py
               if "quality_checks" not in query and "source_health" not in query]
    assert len(queries) >= 3
    for query in queries:  # the README's SQL works on this warehouse and answers right
        with engine.connect() as connection:
            rows = connection.execute(text(query)).all()
        if "article_versions" in query:
            expected_total = 0  # nothing has been edited yet
        elif "translation_key" in query:
            expected_total = translated
        else:
            expected_total = len(SITE.articles)
        assert sum(row.articles for row in rows) == expected_total

    with engine.connect() as connection:  # the analyst views
        assert connection.execute(text("SELECT COUNT(*) FROM latest_articles")).scalar_one() == len(SITE.articles)
        assert connection.execute(text("SELECT SUM(articles) FROM daily_article_counts")).scalar_one() == len(SITE.articles)
        health = connection.execute(text("SELECT status, articles_new FROM run_health WHERE run_id = :r"),
                                    {"r": first.run_id}).one()
        assert tuple(health) == ("success", len(SITE.articles))

    before = all_rows(engine)
    second = run_outlet("slobodenpecat", Window(), settings)
    assert (second.articles_new, second.articles_updated, second.articles_unchanged) == (0, 0, len(SITE.articles))
    assert all_rows(engine) == before
    engine.dispose()


def test_a_window_loads_only_that_days_articles(data_dir, replay):
    day = SITE.articles[len(SITE.articles) // 2].published.date()
    tz = SITE.articles[0].published.tzinfo
    since = datetime(day.year, day.month, day.day, tzinfo=tz)
    window = Window(since, since + timedelta(days=1))
    expected = {a.url for a in SITE.articles if window.contains(a.published)}
    assert 0 < len(expected) < len(SITE.articles)

    summary = run_outlet("slobodenpecat", window, load_settings())

    engine = connect(load_settings().warehouse_url)
    with engine.connect() as connection:
        loaded = set(connection.execute(select(ArticleRow.canonical_url)).scalars())
    engine.dispose()
    assert loaded == expected
    assert summary.article_pages_fetched == len(expected)  # out-of-window pages were not fetched


def test_a_crawl_where_every_request_fails_is_a_failed_run(data_dir, monkeypatch):
    monkeypatch.setenv("NEWSETL_REPLAY_URL", "http://127.0.0.1:9")  # discard port: nothing listens
    with pytest.raises(CrawlFailed, match="no successful response"):
        run_outlet("slobodenpecat", Window(), load_settings())
    engine = connect(load_settings().warehouse_url)
    with engine.connect() as connection:
        run = connection.execute(select(CrawlRunRow)).one()
        assert connection.execute(select(func.count()).select_from(ArticleRow)).scalar_one() == 0
    engine.dispose()
    assert run.status == "failed" and "no successful response" in run.error_message


def test_run_command_json_summary(data_dir, replay):
    day = SITE.articles[0].published.date().isoformat()
    result = newsetl("run", "slobodenpecat", "--since", day, "--json")
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    expected_keys = {"outlet", "run_id", "since", "until", "pages_fetched", "articles_new", "articles_updated",
                     "articles_unchanged", "dropped", "errors"}
    assert expected_keys <= set(summary)
    newest_day = [a for a in SITE.articles if a.published.date().isoformat() >= day]
    assert summary["articles_new"] == len(newest_day)
    assert summary["since"].startswith(f"{day}T00:00:00+01:00")


@pytest.fixture
def faults(replay):
    yield replay.faults
    replay.faults.clear()


def test_bad_pages_are_dropped_with_reasons_and_the_rest_loads(data_dir, faults):
    mk = [a for a in SITE.articles if a.edition == "mk"]
    failing, garbage, huge, cyrillic_1251 = mk[:4]

    html = "text/html; charset=UTF-8"
    faults[path_of(failing.url)] = (500, html, b"<h1>Internal Server Error</h1>", {})
    faults[path_of(garbage.url)] = (200, html, bytes(range(256)) * 40, {})
    faults[path_of(huge.url)] = (200, html, b"<html><body>" + b"<p>word </p>" * 600_000 + b"</body></html>", {})
    page = SITE.render(path_of(cyrillic_1251.url))[2].decode("utf-8")
    page = re.sub(r'charset="?utf-8"?', "charset=windows-1251", page, flags=re.IGNORECASE)
    faults[path_of(cyrillic_1251.url)] = (200, "text/html; charset=windows-1251",
                                   page.encode("cp1251", errors="xmlcharrefreplace"), {})

    summary = run_outlet("slobodenpecat", Window(), load_settings())

    assert summary.articles_new == len(SITE.articles) - 3
    assert summary.dropped["http-error"] == 1
    assert summary.dropped["too-large"] == 1
    assert summary.dropped["encoding"] == 1  # bytes no charset decodes: not stored as mojibake
    assert summary.errors == 1
    engine = connect(load_settings().warehouse_url)
    with engine.connect() as connection:
        row = connection.execute(select(ArticleRow).where(ArticleRow.canonical_url == cyrillic_1251.url)).one()
    engine.dispose()
    assert row.body.split("\n\n") == cyrillic_1251.body_paragraphs
    log = (data_dir / "runs" / "slobodenpecat" / summary.run_id / "crawl.log").read_text()
    assert f"article {failing.url} failed: HTTP 500" in log


@pytest.mark.parametrize("outlet_id", fixture_outlets())
def test_every_fixture_outlet_end_to_end_into_postgresql(data_dir, replay, pg_url, outlet_id):
    site = load_site(outlet_id)
    settings = load_settings(pg_url)

    first = run_outlet(outlet_id, Window(), settings)

    assert (first.articles_new, first.errors, first.dropped) == (len(site.articles), 0, {})
    engine = connect(pg_url)
    with engine.connect() as connection:
        rows = {row.canonical_url: row for row in connection.execute(select(ArticleRow)).all()}
    engine.dispose()
    assert set(rows) == {article.url for article in site.articles}
    for article in site.articles:
        row = rows[article.url]
        assert row.body == "\n\n".join(article.body_paragraphs), article.url
        assert (row.language, row.edition, row.authors) == (article.edition, article.edition, [article.author])
        assert row.published_at == article.published
        assert row.script == "Cyrl" if article.edition == "mk" else row.script == "Latn"
        if article.edition == "mk":  # a Latin copy for analysts who search in Latin
            assert row.body_latin and not re.search("[\u0400-\u04ff]", row.body_latin + row.title_latin)
        else:
            assert row.body_latin is None

    again = run_outlet(outlet_id, Window(), settings)
    assert (again.article_pages_fetched, again.articles_new, again.articles_updated) == (0, 0, 0)
    assert again.articles_unchanged == len(site.articles)


def test_parallel_extraction_gives_the_same_articles(data_dir, replay, monkeypatch):
    import transforms.stage as stage
    from newsetl.pipeline import transform_stage

    summary = run_outlet("slobodenpecat", Window(), load_settings())
    plan = RunPlan("slobodenpecat", summary.run_id, str(data_dir / "runs" / "slobodenpecat" / summary.run_id),
                   None, None, load_settings().warehouse_url, str(data_dir))
    sequential = plan.files.articles.read_text(encoding="utf-8")
    monkeypatch.setattr(stage, "PARALLEL_FROM", 1)
    result = transform_stage(plan, workers=2)
    assert result["articles"] == len(SITE.articles)
    assert plan.files.articles.read_text(encoding="utf-8") == sequential


def _transform_as_a_daemon(plan: RunPlan) -> None:
    from newsetl.pipeline import transform_stage

    transform_stage(plan, workers=2)


def test_extraction_in_a_daemonic_process_runs_in_it(data_dir, replay, monkeypatch):
    # A Celery prefork worker runs each task in a daemonic process, which may not start processes.
    import multiprocessing

    import transforms.stage as stage

    summary = run_outlet("slobodenpecat", Window(), load_settings())
    plan = RunPlan("slobodenpecat", summary.run_id, str(data_dir / "runs" / "slobodenpecat" / summary.run_id),
                   None, None, load_settings().warehouse_url, str(data_dir))
    sequential = plan.files.articles.read_text(encoding="utf-8")
    plan.files.articles.unlink()
    monkeypatch.setattr(stage, "PARALLEL_FROM", 1)  # the forked daemon inherits it
    daemon = multiprocessing.get_context("fork").Process(target=_transform_as_a_daemon, args=(plan,), daemon=True)
    daemon.start()
    daemon.join(120)
    assert daemon.exitcode == 0
    assert plan.files.articles.read_text(encoding="utf-8") == sequential


def test_a_redirected_page_that_gave_no_article_says_why_on_both_its_rows():
    from newsetl.pipeline import with_drop_reasons

    def row(url: str, status: int, detail: str | None = None) -> dict:
        return {"url": url, "kind": "article", "status": status, "bytes": 10, "elapsed_ms": 3, "reason": None,
                "detail": detail, "fetched_at": "2026-11-20T10:00:00+00:00"}

    fetches = [row("https://a.example/old", 301, "redirect to https://a.example/new"), row("https://a.example/new", 200),
               row("https://a.example/kept", 200)]
    drops = [{"url": "https://a.example/old", "final_url": "https://a.example/new", "reason": "too-short",
              "detail": "12 words"}, {"url": "https://a.example/gone", "reason": "archive-missing", "detail": "x"}]
    logged = with_drop_reasons(fetches, drops)
    assert [(r["url"], r["status"], r["reason"]) for r in logged] == [
        ("https://a.example/old", 301, "too-short"), ("https://a.example/new", 200, "too-short"),
        ("https://a.example/kept", 200, None), ("https://a.example/gone", None, "archive-missing")]
