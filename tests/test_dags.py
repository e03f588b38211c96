"""Airflow for real: the DAG folder imports cleanly and `airflow dags test` loads a day of articles."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from models.tables import ArticleRow, CrawlRunRow
from models.warehouse import connect
from newsetl.fixture_sites import load_site
from newsetl.registry import load_registry
from newsetl.window import Window

ROOT = Path(__file__).parents[1]
AIRFLOW = str(Path(sys.executable).with_name("airflow"))


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
        " 'tags': {d: sorted(bag.dags[d].tags) for d in bag.dags}}))"
    )
    result = subprocess.run([sys.executable, "-c", code], env=airflow_env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    import json

    found = json.loads(result.stdout.strip().splitlines()[-1])
    assert found["errors"] == {}
    assert set(found["dags"]) == {f"news_{outlet_id}" for outlet_id in load_registry()}
    assert found["dags"]["news_slobodenpecat"] == ["plan", "crawl", "extract", "load"]
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
