"""Airflow for real: the DAG folder imports cleanly and `airflow dags test` loads a day of articles."""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from models.syndication import MIN_WORDS
from models.tables import ArticleRow, CrawlRunRow, MaintenanceRunRow
from models.warehouse import connect
from newsetl.dag_factory import WAREHOUSE_ARTICLES
from newsetl.fixture_sites import load_site
from newsetl.pipeline import run_outlet
from newsetl.registry import load_registry
from newsetl.settings import load_settings
from newsetl.window import Window
from tests.support import declare_outlet_without_appeal_rules

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


def test_dag_folder_imports_one_dag_per_outlet(airflow_env):
    code = (
        "from airflow.dag_processing.dagbag import DagBag\n"
        f"bag = DagBag(dag_folder={str(ROOT / 'dags')!r})\n"
        "import json; print(json.dumps({'errors': {k: str(v) for k, v in bag.import_errors.items()},"
        " 'dags': {d: [t.task_id for t in bag.dags[d].topological_sort()] for d in bag.dags},"
        " 'tags': {d: sorted(bag.dags[d].tags) for d in bag.dags},"
        " 'refresh_on': [a.name for a in bag.dags['news_warehouse_refresh'].timetable.asset_condition.objects]}))"
    )
    result = subprocess.run([sys.executable, "-c", code], env=airflow_env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr

    found = json.loads(result.stdout.strip().splitlines()[-1])
    assert found["errors"] == {}
    assert set(found["dags"]) == {f"news_{outlet_id}" for outlet_id in load_registry()} | set(MAINTENANCE_DAGS)
    assert found["dags"]["news_slobodenpecat"] == ["plan", "crawl", "extract", "load"]
    assert {dag_id: found["dags"][dag_id] for dag_id in MAINTENANCE_DAGS} == MAINTENANCE_DAGS
    assert found["refresh_on"] == [WAREHOUSE_ARTICLES.name]
    assert {"slobodenpecat", "mk", "en", "sq"} <= set(found["tags"]["news_slobodenpecat"])


def test_airflow_dags_test_loads_one_day(airflow_env, fixture_server, pg_url, tmp_path):
    env = {**airflow_env, "NEWSETL_REPLAY_URL": fixture_server.url, "NEWSETL_DATA_DIR": str(tmp_path / "data"),
           "AIRFLOW_CONN_NEWS_WAREHOUSE": pg_url.replace("postgresql+psycopg://", "postgresql://")}
    site = load_site("slobodenpecat")
    # The daily timetable's run for logical date D covers the outlet's previous calendar day.
    day = site.articles[-1].published.astimezone(site.tz).date()
    since = datetime(day.year, day.month, day.day, tzinfo=site.tz)
    expected = {a.url for a in site.articles if Window(since, since + timedelta(days=1)).contains(a.published)}

    result = subprocess.run([AIRFLOW, "dags", "test", "news_slobodenpecat", (day + timedelta(days=1)).isoformat()],
                            env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]

    engine = connect(pg_url)
    with engine.connect() as connection:
        loaded = set(connection.execute(select(ArticleRow.canonical_url)).scalars())
        run = connection.execute(select(CrawlRunRow)).one()
    engine.dispose()
    assert expected and loaded == expected
    assert run.status == "success" and run.since == since and run.articles_new == len(expected)


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
