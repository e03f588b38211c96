"""Whole runs when the machine, the processes or the warehouse fail: the crawl and the load killed
with SIGKILL, the warehouse connection terminated mid-load, the warehouse unreachable, two first
runs at once on an empty warehouse, a load task retried after part of its work. Survival: one
readable reason, ``crawl_runs`` agreeing with the rows that point at each run at every moment, and
a resumed run leaving the warehouse exactly as a run that never failed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import psutil
import pytest
from sqlalchemy import Engine, event, func, select, text

import models.warehouse as warehouse
from kernel.settings import load_settings
from kernel.window import Window
from models.tables import ArticleRow, ArticleVersionRow, CrawlRunRow, FetchLogRow
from models.warehouse import WarehouseError, connect
from newsetl.pipeline import crawl_stage, load_stage, plan_run, resume, run_outlet, transform_stage
from sandbox.fixture_sites import load_site
from tests.conftest import PG_ADMIN_URL
from tests.faults.conftest import report
from tests.support import newsetl

SITE = load_site("slobodenpecat")
OUTLET = "slobodenpecat"


def snapshot(url: str) -> dict:
    """What an analyst would compare: every article's content and version, and the runs' counts."""
    engine = connect(url)
    with engine.connect() as connection:
        articles = sorted(connection.execute(select(ArticleRow.canonical_url, ArticleRow.content_hash,
                                                    ArticleRow.version)).all())
        versions = connection.execute(select(func.count()).select_from(ArticleVersionRow)).scalar_one()
        runs = connection.execute(select(CrawlRunRow.status, CrawlRunRow.articles_new, CrawlRunRow.articles_updated,
                                         CrawlRunRow.articles_unchanged, CrawlRunRow.dropped)).all()
        fetches = connection.execute(select(func.count()).select_from(FetchLogRow)).scalar_one()
    engine.dispose()
    return {"articles": articles, "versions": versions, "runs": sorted(map(tuple, runs), key=str), "fetches": fetches}


def run_counts_agree(url: str) -> bool:
    """Each run's new and updated counts are the rows that say that run inserted or changed them."""
    engine = connect(url)
    with engine.connect() as connection:
        for run in connection.execute(select(CrawlRunRow)).all():
            new = connection.execute(select(func.count()).where(ArticleRow.first_run_id == run.run_id)).scalar_one()
            updated = connection.execute(select(func.count(ArticleVersionRow.article_id.distinct())).where(
                ArticleVersionRow.run_id == run.run_id, ArticleVersionRow.version > 1)).scalar_one()
            if (new, updated) != (run.articles_new, run.articles_updated):
                engine.dispose()
                return False
    engine.dispose()
    return True


def control(tmp_path) -> dict:
    """The warehouse of the same run, with nothing failing."""
    url = f"sqlite:///{tmp_path / 'control.db'}"
    run_outlet(OUTLET, Window(), load_settings(url))
    return snapshot(url)


@pytest.fixture
def small_batches(monkeypatch):
    monkeypatch.setattr(warehouse, "BATCH_SIZE", 10)  # 34 articles: four batches


def terminate_at_insert(number: int):
    """Terminate this session's PostgreSQL backend (from another session, as an admin or a failover
    would) just before the ``number``-th article insert."""
    import psycopg

    seen = [0]

    def before(connection, cursor, statement, *_):
        if statement.lstrip().startswith("INSERT INTO articles ("):
            seen[0] += 1
            if seen[0] == number:
                pid = connection.exec_driver_sql("SELECT pg_backend_pid()").scalar()
                with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
                    admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
    return before


def test_connection_terminated_mid_load_then_resumed(hostile, pg_url, small_batches, tmp_path):
    expected = control(tmp_path)
    hook = terminate_at_insert(2)
    event.listen(Engine, "before_cursor_execute", hook)
    try:
        with pytest.raises(WarehouseError, match=r"stopped at batch 2 of 4: .* `newsetl resume "):
            run_outlet(OUTLET, Window(), load_settings(pg_url))
    finally:
        event.remove(Engine, "before_cursor_execute", hook)
    engine = connect(pg_url)
    with engine.connect() as connection:
        run = connection.execute(select(CrawlRunRow)).one()
    engine.dispose()
    assert (run.status, run.articles_new) == ("failed", 10)  # the first batch, committed and counted
    assert run_counts_agree(pg_url)

    summary = resume(run.run_id, load_settings(pg_url))

    assert summary.articles_new == len(SITE.articles)
    assert snapshot(pg_url) == expected
    assert run_counts_agree(pg_url)
    report("infrastructure", [{"scenario": "warehouse connection terminated in the load's second batch, resumed",
                               "expected": "as if nothing failed", "survived": True,
                               "detail": "10 articles committed and counted, then 34 after resume"}])


def test_a_retried_load_task_finishes_the_run(hostile, pg_url, small_batches, tmp_path):
    """What the Airflow load task's retry does: call the load stage again with the same plan."""
    expected = control(tmp_path)
    settings = load_settings(pg_url)
    plan = plan_run(OUTLET, Window(), settings)
    crawl_stage(plan, settings)
    transform_stage(plan)
    hook = terminate_at_insert(3)
    event.listen(Engine, "before_cursor_execute", hook)
    try:
        with pytest.raises(WarehouseError, match="stopped at batch 3"):
            load_stage(plan)
    finally:
        event.remove(Engine, "before_cursor_execute", hook)
    assert run_counts_agree(pg_url)

    retried = load_stage(plan)

    assert (retried.articles_new, retried.articles_unchanged) == (len(SITE.articles), 0)
    assert snapshot(pg_url) == expected
    report("infrastructure", [{"scenario": "Airflow load task retried after two of four batches",
                               "expected": "as if nothing failed", "survived": True, "detail": "34 new, 0 unchanged"}])


KILL_AT_SECOND_BATCH = textwrap.dedent("""
    import os, signal, sys
    from sqlalchemy import Engine, event
    import models.warehouse as warehouse
    from kernel.settings import load_settings
    from kernel.window import Window
    from newsetl.pipeline import run_outlet
    warehouse.BATCH_SIZE = 10
    inserts = [0]
    @event.listens_for(Engine, "before_cursor_execute")
    def kill(connection, cursor, statement, *args):
        if statement.lstrip().startswith("INSERT INTO articles ("):
            inserts[0] += 1
            if inserts[0] == 2:
                os.kill(os.getpid(), signal.SIGKILL)
    run_outlet("slobodenpecat", Window(), load_settings())
""")


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_load_killed_with_sigkill_then_resumed(hostile, backend, request, tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'warehouse.db'}" if backend == "sqlite" else request.getfixturevalue("pg_url")
    monkeypatch.setenv("NEWSETL_WAREHOUSE_URL", url)
    expected = control(tmp_path)

    killed = subprocess.run([sys.executable, "-c", KILL_AT_SECOND_BATCH], capture_output=True, text=True, timeout=120)

    assert killed.returncode == -signal.SIGKILL
    engine = connect(url)
    with engine.connect() as connection:
        run = connection.execute(select(CrawlRunRow)).one()
    engine.dispose()
    assert run.status == "running" and run.articles_new == 10  # interrupted, and true to its rows
    assert run_counts_agree(url)

    resumed = newsetl("resume", run.run_id, "--json")

    assert resumed.returncode == 0, resumed.stderr
    assert snapshot(url) == expected
    report("infrastructure", [{"scenario": f"load killed with SIGKILL in its second batch ({backend}), resumed",
                               "expected": "as if nothing failed", "survived": True, "detail": "newsetl resume"}])


def test_crawl_killed_with_sigkill_then_resumed(hostile, tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'warehouse.db'}"
    monkeypatch.setenv("NEWSETL_WAREHOUSE_URL", url)
    expected = control(tmp_path)
    hostile.latency = 0.2  # a crawl slow enough to be caught in the middle
    try:
        run = subprocess.Popen([sys.executable, "-m", "newsetl.cli", "run", OUTLET], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, env=os.environ.copy())
        crawler = None
        deadline = time.monotonic() + 60
        while crawler is None and time.monotonic() < deadline:
            children = psutil.Process(run.pid).children(recursive=True)
            crawler = next((c for c in children if "scrapers.crawl" in " ".join(c.cmdline())), None)
            time.sleep(0.1)
        assert crawler is not None
        time.sleep(2)  # some pages in
        crawler.send_signal(signal.SIGKILL)
        _, stderr = run.communicate(timeout=60)
    finally:
        hostile.latency = 0.0

    assert run.returncode == 1
    assert "crawl process exited with -9" in stderr and "Traceback" not in stderr
    engine = connect(url)
    with engine.connect() as connection:
        row = connection.execute(select(CrawlRunRow)).one()
    engine.dispose()
    assert row.status == "failed"

    resumed = newsetl("resume", row.run_id)

    assert resumed.returncode == 0, resumed.stderr
    assert snapshot(url) == expected
    report("infrastructure", [{"scenario": "crawl process killed with SIGKILL, resumed", "expected": "as if nothing failed",
                               "survived": True, "detail": "the crawl starts over in the run's directory"}])


def test_resume_refuses_what_it_cannot_do(hostile, tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'warehouse.db'}"
    monkeypatch.setenv("NEWSETL_WAREHOUSE_URL", url)
    done = run_outlet(OUTLET, Window(), load_settings())

    unknown = newsetl("resume", "no-such-run")
    finished = newsetl("resume", done.run_id)

    assert unknown.returncode == finished.returncode == 1
    assert "no run 'no-such-run'" in unknown.stderr and "finished already" in finished.stderr
    assert "Traceback" not in unknown.stderr + finished.stderr


def test_an_unreachable_warehouse_fails_with_one_line(hostile):
    result = newsetl("run", OUTLET, "--warehouse", "postgresql://postgres:s3cret@127.0.0.1:9/newsetl")

    assert result.returncode == 1
    assert "cannot reach warehouse" in result.stderr and "Traceback" not in result.stderr
    assert "s3cret" not in result.stderr
    report("infrastructure", [{"scenario": "warehouse unreachable", "expected": "one readable line",
                               "survived": True, "detail": "exit 1, password masked"}])


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_first_runs_at_once_on_an_empty_warehouse(hostile, backend, request, tmp_path):
    url = f"sqlite:///{tmp_path / 'warehouse.db'}" if backend == "sqlite" else request.getfixturevalue("pg_url")
    runs = [subprocess.Popen([sys.executable, "-m", "newsetl.cli", "run", OUTLET, "--warehouse", url, "--json"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(3)]
    results = [(run.wait(timeout=240), run.stderr.read()) for run in runs]

    assert [code for code, _ in results] == [0, 0, 0], [stderr[-500:] for _, stderr in results]
    engine = connect(url)
    with engine.connect() as connection:
        urls = connection.execute(select(ArticleRow.canonical_url)).scalars().all()
        revisions = connection.execute(text("SELECT count(*) FROM alembic_version")).scalar_one()
    engine.dispose()
    assert sorted(urls) == sorted(a.url for a in SITE.articles) and revisions == 1
    assert run_counts_agree(url)
    report("infrastructure", [{"scenario": f"three first runs at once on an empty warehouse ({backend})",
                               "expected": "one upgrade, each article once", "survived": True, "detail": "all exit 0"}])
