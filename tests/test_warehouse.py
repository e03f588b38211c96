from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import func, inspect, select

from kernel.records import Article
from kernel.registry import get_outlet
from kernel.window import Window
from models.tables import ArticleRow, ArticleVersionRow, Base, CrawlRunRow, FetchLogRow, is_modelled
from models.warehouse import WarehouseError, connect, downgrade, load_articles, start_run, upgrade

NOW = datetime(2026, 11, 21, 9, 30, tzinfo=UTC)


def make_article(n: int, body: str = "Body text.") -> Article:
    return Article(
        outlet="slobodenpecat", url=f"https://slobodenpecat.mk/story-{n}/",
        canonical_url=f"https://slobodenpecat.mk/story-{n}/", edition="mk", title=f"Story {n}",
        title_flags=[], body=body, authors=["Ана Петрова"],
        published_at=datetime(2026, 11, 21, 10, 42, tzinfo=timezone(timedelta(hours=1))),
        modified_at=None, section="Македонија", tags=["Скопје"], image_url=None, description=None,
        language="mk", language_confidence=0.99, word_count=2, content_hash=f"hash-{n}-{body}",
        run_id="run-1", fetched_at=NOW, extractor_version="test",
    )


@pytest.fixture
def engine(warehouse_url):
    engine = connect(warehouse_url)
    upgrade(engine)
    start_run(engine, "run-1", get_outlet("slobodenpecat"), Window())
    start_run(engine, "run-2", get_outlet("slobodenpecat"), Window())
    yield engine
    engine.dispose()


def test_migrations_match_the_models_and_downgrade_to_empty(warehouse_url):
    engine = connect(warehouse_url)
    upgrade(engine)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"include_object": is_modelled})
        assert compare_metadata(context, Base.metadata) == []
        assert {"outlets", "articles", "crawl_runs"} <= set(inspect(connection).get_table_names())
    downgrade(engine)
    with engine.connect() as connection:
        assert set(inspect(connection).get_table_names()) <= {"alembic_version"}
    engine.dispose()


def test_load_is_idempotent_and_detects_changed_content(engine):
    first = load_articles(engine, [make_article(1), make_article(2)], "run-1")
    assert (first.new, first.updated, first.unchanged) == (2, 0, 0)
    with engine.connect() as connection:
        before = connection.execute(select(ArticleRow.__table__).order_by(ArticleRow.id)).all()

    again = load_articles(engine, [make_article(1), make_article(2)], "run-2")
    assert (again.new, again.updated, again.unchanged) == (0, 0, 2)
    with engine.connect() as connection:
        assert connection.execute(select(ArticleRow.__table__).order_by(ArticleRow.id)).all() == before

    edited = load_articles(engine, [make_article(1, body="Corrected body text."), make_article(2)], "run-2")
    assert (edited.new, edited.updated, edited.unchanged) == (0, 1, 1)
    with engine.connect() as connection:
        row = connection.execute(select(ArticleRow).where(ArticleRow.canonical_url.like("%story-1/"))).one()
        assert (row.body, row.first_run_id, row.last_run_id, row.version) == ("Corrected body text.", "run-1", "run-2", 2)
        history = connection.execute(select(ArticleVersionRow).where(ArticleVersionRow.article_id == row.id)
                                     .order_by(ArticleVersionRow.version)).all()
        untouched = connection.execute(select(func.count()).select_from(ArticleVersionRow)
                                       .where(ArticleVersionRow.article_id != row.id)).scalar_one()
    assert [(v.version, v.body, v.run_id, v.changed_fields) for v in history] == [
        (1, "Body text.", "run-1", []), (2, "Corrected body text.", "run-2", ["body"])]
    assert untouched == 1  # story 2 never changed: one version


def test_times_are_stored_utc_and_read_back_aware(engine):
    load_articles(engine, [make_article(1)], "run-1")
    with engine.connect() as connection:
        published = connection.execute(select(ArticleRow.published_at)).scalar_one()
    assert published == datetime(2026, 11, 21, 9, 42, tzinfo=UTC)
    assert published.utcoffset() == timedelta(0)


def test_a_failing_load_writes_nothing(engine):
    naive = replace(make_article(3), published_at=datetime(2026, 11, 21, 10, 0))  # zone unknown → refused
    with pytest.raises(WarehouseError, match="rolled back, nothing written"):
        load_articles(engine, [make_article(1), make_article(2), naive], "run-1")
    with engine.connect() as connection:
        assert connection.execute(select(ArticleRow.id)).all() == []


def test_a_failing_batch_leaves_nothing_of_itself_and_loading_again_completes_the_run(engine):
    articles = [make_article(n) for n in range(1, 6)]  # batches of two, in URL order: 1-2, 3-4, 5
    naive = replace(articles[2], published_at=datetime(2026, 11, 21, 10, 0))
    with pytest.raises(WarehouseError, match="stopped at batch 2 of 3: its 2 articles rolled back, the 2 of earlier"):
        load_articles(engine, [*articles[:2], naive, *articles[3:]], "run-1", batch_size=2)
    with engine.connect() as connection:
        assert set(connection.execute(select(ArticleRow.title)).scalars()) == {"Story 1", "Story 2"}
        assert connection.execute(select(func.count()).select_from(ArticleVersionRow)).scalar_one() == 2

    with engine.connect() as connection:  # the run's row counts what its committed batch inserted
        assert connection.execute(select(CrawlRunRow.articles_new).where(CrawlRunRow.run_id == "run-1")).scalar() == 2

    rerun = load_articles(engine, articles, "run-1", batch_size=2)
    assert (rerun.new, rerun.updated, rerun.unchanged) == (5, 0, 0)  # the whole run's, the first attempt included
    again = load_articles(engine, list(reversed(articles)), "run-2", batch_size=3)
    assert (again.new, again.updated, again.unchanged) == (0, 0, 5)
    with engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(ArticleVersionRow)).scalar_one() == 5
        assert set(connection.execute(select(ArticleRow.last_run_id)).scalars()) == {"run-1"}


def test_the_fetch_log_of_a_run_is_written_once(engine):
    fetches = [{"url": f"https://slobodenpecat.mk/story-{n}/", "kind": "article", "status": 200, "bytes": 1000,
                "elapsed_ms": 12, "reason": None, "detail": "", "fetched_at": NOW.isoformat()} for n in (1, 2)]
    load_articles(engine, [make_article(1), make_article(2)], "run-1", fetches)
    load_articles(engine, [make_article(1), make_article(2)], "run-1", fetches)  # the same run, loaded again
    with engine.connect() as connection:
        logged = connection.execute(select(FetchLogRow.url, FetchLogRow.detail).order_by(FetchLogRow.url)).all()
    assert logged == [(fetch["url"], None) for fetch in fetches]


def test_run_rows_record_the_window(engine):
    since = datetime(2026, 11, 21, tzinfo=timezone(timedelta(hours=1)))
    start_run(engine, "run-3", get_outlet("slobodenpecat"), Window(since, since + timedelta(days=1)))
    with engine.connect() as connection:
        run = connection.execute(select(CrawlRunRow).where(CrawlRunRow.run_id == "run-3")).one()
    assert run.status == "running" and run.since == since and run.until == since + timedelta(days=1)


@pytest.mark.parametrize("url, message", [
    ("postgresql://nobody@127.0.0.1:1/none", "cannot reach warehouse postgresql+psycopg://nobody@127.0.0.1:1/none"),
    ("mysql://x@localhost/db", "unsupported warehouse 'mysql'"),
    ("not a url", "not a database URL"),
])
def test_bad_warehouse_urls_fail_with_a_clear_reason(url, message):
    with pytest.raises(WarehouseError) as error:
        connect(url)
    assert message in str(error.value)
