"""Airflow for real: the DAG folder imports cleanly and `airflow dags test` loads a day of articles."""

from __future__ import annotations

import ast
import json
import os
import re
import sqlite3
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from kernel.registry import load_registry
from kernel.settings import load_settings
from kernel.window import Window
from models.syndication import MIN_WORDS
from models.tables import ArticleRow, CrawlRunRow, MaintenanceRunRow, QualityCheckRow
from models.warehouse import connect
from newsetl.dag_factory import CRAWL_POOL, WAREHOUSE_ARTICLES
from newsetl.pipeline import run_outlet
from sandbox.airflow_local import free_port
from sandbox.demo import fixture_outlets
from sandbox.fixture_sites import load_site
from tests.support import Webhook, declare_outlet_without_appeal_rules

ROOT = Path(__file__).parents[1]
AIRFLOW = str(Path(sys.executable).with_name("airflow"))
MAINTENANCE_DAGS = {"news_warehouse_refresh": ["reclean_boilerplate", "refresh_syndication"],
                    "news_reprocess": ["reprocess"]}


@pytest.fixture(scope="module")
def airflow_env(tmp_path_factory):
    home = tmp_path_factory.mktemp("airflow")
    env = {
        **os.environ,
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
        "NEWSETL_TASK_RETRIES": "0",
    }
    subprocess.run([AIRFLOW, "db", "migrate"], env=env, check=True, capture_output=True, timeout=300)
    return env


def _python(code: str, env: dict) -> dict:
    """Run ``code`` in a fresh interpreter; it prints one JSON line last."""
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_dag_folder_imports_one_dag_per_outlet(airflow_env):
    found = _python(
        "import json\n"
        "from airflow.dag_processing.dagbag import DagBag\n"
        f"bag = DagBag(dag_folder={str(ROOT / 'dags')!r})\n"
        "dag = bag.dags['news_slobodenpecat']\n"
        "deadline = dag.deadline[0]\n"
        "print(json.dumps({'errors': {k: str(v) for k, v in bag.import_errors.items()},"
        " 'dags': {d: [t.task_id for t in bag.dags[d].topological_sort()] for d in bag.dags},"
        " 'tags': sorted(dag.tags), 'pool': dag.task_dict['crawl'].pool,"
        " 'outlets': [a.name for a in dag.task_dict['load'].outlets],"
        " 'refresh_on': [a.name for a in bag.dags['news_warehouse_refresh'].timetable.asset_condition.objects],"
        " 'callbacks': sorted({type(c).__name__ for t in dag.tasks for c in t.on_failure_callback}),"
        " 'deadline': [type(deadline.reference).__name__, deadline.interval.total_seconds(), deadline.callback.path,"
        "              deadline.callback.kwargs]}))", airflow_env)
    assert found["errors"] == {}
    assert set(found["dags"]) == {f"news_{outlet_id}" for outlet_id in load_registry()} | set(MAINTENANCE_DAGS)
    assert found["dags"]["news_slobodenpecat"] == ["plan", "crawl", "extract", "load", "quality"]
    assert {dag_id: found["dags"][dag_id] for dag_id in MAINTENANCE_DAGS} == MAINTENANCE_DAGS
    assert {"slobodenpecat", "mk", "en", "sq"} <= set(found["tags"])
    # A crawl takes a slot of the shared pool; a load updates the Asset the refresh DAG is scheduled on.
    assert found["pool"] == CRAWL_POOL
    assert found["outlets"] == found["refresh_on"] == [WAREHOUSE_ARTICLES.name]
    assert found["callbacks"] == ["RunAlertNotifier"]
    # Due at the end of the day's interval (a day after the logical date) plus the default 6 hours.
    assert found["deadline"] == ["ScheduledRunLogicalDate", 30 * 3600, "newsetl.alerts.RunAlertNotifier",
                                 {"event": "deadline_missed"}]


def test_only_a_scheduled_run_gets_the_daily_deadline(airflow_env, tmp_path):
    # Runs created the way the scheduler, the trigger dialog and a backfill create them: a manual or
    # backfill run of a past day is past the daily deadline from the start, so it must get none
    # (the UI would show it as missed).
    env = {**airflow_env, "AIRFLOW_HOME": str(tmp_path)}
    for command in (["db", "migrate"], ["dags", "reserialize"]):
        subprocess.run([AIRFLOW, *command], env=env, check=True, capture_output=True, timeout=300)
    found = _python(
        "import json\n"
        "from datetime import datetime, timedelta, timezone\n"
        "from sqlalchemy import select\n"
        "from airflow.models import DagRun\n"
        "from airflow.models.dagbag import DBDagBag\n"
        "from airflow.models.deadline import Deadline\n"
        "from airflow.utils.session import create_session\n"
        "from airflow.utils.state import DagRunState\n"
        "from airflow.utils.types import DagRunTriggeredByType, DagRunType\n"
        "with create_session() as session:\n"
        "    dag = DBDagBag().get_latest_version_of_dag('news_slobodenpecat', session=session)\n"
        "    for days, run_type in enumerate((DagRunType.SCHEDULED, DagRunType.MANUAL, DagRunType.BACKFILL_JOB)):\n"
        "        start = datetime(2026, 11, 20, 23, tzinfo=timezone.utc) + timedelta(days=days)\n"
        "        dag.create_dagrun(run_id=f'{run_type.value}-{days}', logical_date=start,\n"
        "                          data_interval=(start, start + timedelta(days=1)), run_after=start + timedelta(days=1),\n"
        "                          run_type=run_type, triggered_by=DagRunTriggeredByType.TEST,\n"
        "                          state=DagRunState.QUEUED, session=session)\n"
        "    session.flush()\n"
        "    runs = session.execute(select(DagRun.run_id, Deadline.deadline_time)\n"
        "                           .outerjoin(Deadline, Deadline.dagrun_id == DagRun.id)).all()\n"
        "print(json.dumps({run_id: due and due.isoformat() for run_id, due in runs}))", env)
    assert found == {"scheduled-0": "2026-11-22T05:00:00+00:00", "manual-1": None, "backfill-2": None}


HEAVY_MODULES = ("scrapy", "twisted", "trafilatura", "langdetect", "pandas", "alembic", "models", "transforms",
                 "scrapers", "newsetl.pipeline", "newsetl.quality", "sqlalchemy.orm")


@pytest.mark.parametrize("dag_file", sorted((ROOT / "dags").glob("*.py")), ids=lambda path: path.name)
def test_each_dag_file_parses_in_under_a_second_and_imports_nothing_heavy(airflow_env, dag_file):
    # What the dag-processor does for a file, in a fresh interpreter: Airflow itself is loaded
    # already (its cost is the processor's), the file is imported and its DAGs collected.
    found = _python(
        "import json, sys, time\n"
        "import airflow.sdk, airflow.timetables.interval, airflow.dag_processing.dagbag as dagbag\n"
        "before = set(sys.modules)\n"
        "start = time.perf_counter()\n"
        f"bag = dagbag.DagBag(dag_folder={str(dag_file)!r})\n"
        "seconds = time.perf_counter() - start\n"
        "print(json.dumps({'seconds': seconds, 'dags': len(bag.dags), 'errors': list(bag.import_errors),"
        " 'modules': sorted(set(sys.modules) - before)}))", airflow_env)
    assert found["errors"] == [] and found["dags"] >= 1
    assert found["seconds"] < 1.0, f"{dag_file.name} took {found['seconds']:.2f} s to parse"
    heavy = [name for name in found["modules"] if name.startswith(HEAVY_MODULES)]
    assert heavy == [], f"{dag_file.name} imports {heavy[:10]}"


# `airflow dags test` of a DAG with a deadline fails in Airflow 3.3.2 (the serialized deadline's id
# reaches a query as a dict); the scheduler is not affected. The DAGs carry the deadline (see above).
DAGS_TEST_WITHOUT_DEADLINE = {"NEWSETL_RUN_DEADLINE_HOURS": "off"}


def _metadata(env: dict, query: str) -> list[tuple]:
    with sqlite3.connect(Path(env["AIRFLOW_HOME"]) / "airflow.db") as db:
        return db.execute(query).fetchall()


@pytest.mark.parametrize("outlet_id", fixture_outlets())
def test_airflow_dags_test_loads_one_day(outlet_id, airflow_env, fixture_server, pg_url, tmp_path):
    dag_id = f"news_{outlet_id}"
    env = {**airflow_env, "NEWSETL_REPLAY_URL": fixture_server.url, "NEWSETL_DATA_DIR": str(tmp_path / "data"),
           "AIRFLOW_CONN_NEWS_WAREHOUSE": pg_url.replace("postgresql+psycopg://", "postgresql://"),
           **DAGS_TEST_WITHOUT_DEADLINE}
    site = load_site(outlet_id)
    # The daily timetable's run for logical date D covers the outlet's previous calendar day.
    day = site.articles[-1].published.astimezone(site.tz).date()
    since = datetime(day.year, day.month, day.day, tzinfo=site.tz)
    loaded_articles = [a for a in site.articles if Window(since, since + timedelta(days=1)).contains(a.published)]
    expected = {a.url for a in loaded_articles}

    result = subprocess.run([AIRFLOW, "dags", "test", dag_id, (day + timedelta(days=1)).isoformat()],
                            env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]

    engine = connect(pg_url)
    with engine.connect() as connection:
        loaded = set(connection.execute(select(ArticleRow.canonical_url)).scalars())
        run = connection.execute(select(CrawlRunRow)).one()
        checks = dict(connection.execute(select(QualityCheckRow.check_name, QualityCheckRow.status)
                                         .where(QualityCheckRow.run_id == run.run_id)).all())
    engine.dispose()
    assert expected and loaded == expected
    assert run.status == "success" and run.since == since and run.articles_new == len(expected)
    # A first day has no baseline: every gate passes and says why.
    assert set(checks) == {"volume", "completeness_title", "completeness_published", "completeness_author",
                           "body_length", "boilerplate", "language_mix", "sources", "blocked"} and set(checks.values()) == {"pass"}

    # XCom holds summaries, paths and ids — small, and no article text.
    xcoms = {task: json.loads(value) if isinstance(value, str) else value
             for task, value in _metadata(env, "SELECT task_id, value FROM xcom WHERE key = 'return_value' "
                                               f"AND dag_id = '{dag_id}'")}
    assert set(xcoms) == {"plan", "crawl", "extract", "load", "quality"}
    assert xcoms["load"]["articles_new"] == len(expected) and xcoms["crawl"]["error_rate"] == 0
    assert xcoms["quality"]["checks"] == checks
    stored = json.dumps(xcoms, ensure_ascii=False)
    assert len(stored) < 4000
    for article in loaded_articles:
        assert article.title not in stored
        assert not any(len(paragraph) > 40 and paragraph[:40] in stored for paragraph in article.body_paragraphs)
    # The load updated the warehouse Asset (what the maintenance DAG is scheduled on).
    assert _metadata(env, "SELECT a.name, e.source_task_id FROM asset_event e JOIN asset a ON a.id = e.asset_id "
                          f"WHERE e.source_dag_id = '{dag_id}'") == [(WAREHOUSE_ARTICLES.name, "load")]


def test_a_crawl_that_reaches_nothing_fails_and_alerts_the_webhook(airflow_env, pg_url, tmp_path):
    webhook = Webhook()
    env = {**airflow_env, "NEWSETL_REPLAY_URL": f"http://127.0.0.1:{free_port()}",  # nothing listens there
           "NEWSETL_DATA_DIR": str(tmp_path / "data"),
           "AIRFLOW_CONN_NEWS_WAREHOUSE": pg_url.replace("postgresql+psycopg://", "postgresql://"),
           "AIRFLOW_VAR_NEWS_ALERT_TARGET": webhook.url, **DAGS_TEST_WITHOUT_DEADLINE}
    try:
        result = subprocess.run([AIRFLOW, "dags", "test", "news_metamk", "2026-11-21"],
                                env=env, capture_output=True, text=True, timeout=600)
    finally:
        webhook.stop()
    output = result.stdout + result.stderr
    assert "CrawlFailed" in output and "got no successful response" in output, output[-3000:]
    assert len(webhook.received) == 1, output[-3000:]
    alert = webhook.received[0]
    assert alert["event"] == "task_failed" and alert["dag_id"] == "news_metamk" and alert["task_id"] == "crawl"
    assert "CrawlFailed" in alert["error"] and "no successful response" in alert["error"]
    assert alert["data_interval_end"].startswith("2026-11-2")

    engine = connect(pg_url)
    with engine.connect() as connection:
        run = connection.execute(select(CrawlRunRow)).one()
    engine.dispose()
    assert run.status == "failed" and "no successful response" in run.error_message


def test_a_backfill_of_past_days_plans_one_run_per_outlet_day(airflow_env):
    # Backfills work although the DAGs do not catch up by themselves; dates are the outlet's days.
    subprocess.run([AIRFLOW, "dags", "reserialize"], env=airflow_env, check=True, capture_output=True, timeout=300)
    result = subprocess.run([AIRFLOW, "backfill", "create", "--dag-id", "news_slobodenpecat", "--dry-run",
                             "--from-date", "2026-11-10T00:00:00+01:00", "--to-date", "2026-11-12T00:00:00+01:00"],
                            env=airflow_env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    planned = [datetime.fromisoformat(found) for found in
               re.findall(r"^\| (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d[+-]\d\d:\d\d) ", result.stdout, re.MULTILINE)]
    # Both ends count: the runs of 10, 11 and 12 November, each starting at midnight in Skopje (its
    # logical date) and covering that day.
    skopje = load_registry()["slobodenpecat"].tz
    assert planned == [datetime(2026, 11, day, tzinfo=skopje) for day in (10, 11, 12)]


def returned(output: str, task_id: str) -> dict:
    """What a task returned: the `Done. Returned value was:` line Airflow logs, then its XCom push names the task."""
    pattern = r"Done\. Returned value was: (\{.*?\}) \[.*?Pushing xcom .*?task_id='(\w+)'"
    for value, task in re.findall(pattern, output, flags=re.S):
        if task == task_id:
            return ast.literal_eval(value)
    raise AssertionError(f"no value returned by {task_id} in:\n{output[-3000:]}")


def test_maintenance_dags_refresh_and_reprocess(airflow_env, fixture_server, pg_url, tmp_path, monkeypatch):
    """Learned boilerplate cleaned from a day loaded before it was learned, by news_warehouse_refresh;
    a new cleaning rule applied to a date range by news_reprocess with params; a wrong param refused."""
    outlets, data = tmp_path / "outlets", tmp_path / "data"
    outlet = declare_outlet_without_appeal_rules(outlets)
    pipeline_env = {"NEWSETL_REPLAY_URL": fixture_server.url, "NEWSETL_DATA_DIR": str(data),
                    "NEWSETL_OUTLETS_DIR": str(outlets), "NEWSETL_POLITENESS": "off"}
    for name, value in pipeline_env.items():
        monkeypatch.setenv(name, value)
    env = {**airflow_env, **pipeline_env,
           "AIRFLOW_CONN_NEWS_WAREHOUSE": pg_url.replace("postgresql+psycopg://", "postgresql://")}
    site, settings = load_site("slobodenpecat"), load_settings(pg_url)
    first_day = datetime(2026, 11, 20, tzinfo=site.tz)
    run_outlet(outlet, Window(first_day, first_day + timedelta(days=1)), settings)  # appeal not learned yet
    run_outlet(outlet, Window(first_day + timedelta(days=1), None), settings)  # now it is
    carrying = {a.url for a in site.articles if a.published < first_day + timedelta(days=1)}

    def airflow(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([AIRFLOW, "dags", "test", *args], env=env, capture_output=True, text=True, timeout=600)

    refresh = airflow("news_warehouse_refresh")
    assert refresh.returncode == 0, refresh.stdout[-3000:] + refresh.stderr[-3000:]
    recleaned = returned(refresh.stdout + refresh.stderr, "reclean_boilerplate")
    clusters = returned(refresh.stdout + refresh.stderr, "refresh_syndication")
    engine = connect(pg_url)
    with engine.connect() as connection:
        rows = {row.canonical_url: row for row in connection.execute(select(ArticleRow))}
        maintained = connection.execute(select(MaintenanceRunRow.task, MaintenanceRunRow.status)
                                        .order_by(MaintenanceRunRow.id)).all()
    assert (recleaned["articles_carrying"], recleaned["recleaned"], recleaned["not_recleaned"]) == (len(carrying), len(carrying), 0)
    assert {url for url, row in rows.items() if row.version == 2} == carrying
    assert {url: row.body for url, row in rows.items()} == {a.url: "\n\n".join(a.body_paragraphs) for a in site.articles}
    assert clusters["since"] is None and clusters["articles"] == sum(row.word_count >= MIN_WORDS for row in rows.values())
    assert maintained == [("boilerplate", "success"), ("syndication", "success")]

    # A new rule drops one paragraph: reprocessing two days changes that article only.
    target = next(a for a in site.articles if first_day + timedelta(days=1) <= a.published < first_day + timedelta(days=2))
    declare_outlet_without_appeal_rules(outlets, ("^" + re.escape(target.body_paragraphs[1][:40]),))
    conf = {"outlet": outlet, "since": "2026-11-20", "until": "2026-11-22"}
    reprocess = airflow("news_reprocess", "-c", json.dumps(conf))
    assert reprocess.returncode == 0, reprocess.stdout[-3000:] + reprocess.stderr[-3000:]
    summary = returned(reprocess.stdout + reprocess.stderr, "reprocess")
    in_range = [a for a in site.articles if first_day <= a.published < first_day + timedelta(days=2)]
    assert (summary["articles_updated"], summary["articles_unchanged"]) == (1, len(in_range) - 1)
    with engine.connect() as connection:
        versions = dict(connection.execute(select(ArticleRow.canonical_url, ArticleRow.version)).all())
    engine.dispose()
    assert versions == {url: row.version + (url == target.url) for url, row in rows.items()}

    refused = airflow("news_reprocess", "-c", json.dumps({**conf, "outlet": "nowhere"}))
    assert refused.returncode != 0
    assert "Invalid input for param outlet: 'nowhere' is not one of" in refused.stdout + refused.stderr
