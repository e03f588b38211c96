"""Airflow's CeleryExecutor for real on loopback: api-server, scheduler, dag-processor, triggerer and
two Celery workers (separate processes, each with its own log server and name) on the Redis broker,
the metadata in PostgreSQL, runs kept in an S3-compatible store and the warehouse in PostgreSQL.

Two outlets: Sloboden Pechat on the default queue, and a declaration of Meta.mk whose crawl goes to
the queue ``west``. worker-1 serves ``default``; worker-2 serves ``west`` and, from the second phase,
``default`` too. Which worker ran a task is read from the task's own record (XCom ``worker``).
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import quote

import pytest
import redis
from sqlalchemy import func, select

from kernel.window import Window
from models.tables import ArticleRow, CrawlRunRow
from models.warehouse import connect
from sandbox import airflow_local as local
from sandbox.airflow_local import RestApi
from sandbox.fixture_sites import load_site
from tests.test_airflow_local import _poll, _tail

ROOT = Path(__file__).parents[1]
WEST = "metamk_west"
REDIS_DB = 11  # this test's own; emptied before it starts


def _declare_west_outlet(folder: Path) -> None:
    toml = (ROOT / "kernel" / "outlets" / "metamk.toml").read_text(encoding="utf-8")
    toml = toml.replace('id = "metamk"', f'id = "{WEST}"').replace('cms = "wordpress"', 'cms = "wordpress"\nqueue = "west"')
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{WEST}.toml").write_text(toml, encoding="utf-8")


def _day(outlet_id: str, back: int = 0) -> tuple[datetime, set[str]]:
    """The start of a day of the fixture outlet that has articles (``back`` such days before its last
    one), and those articles' URLs."""
    site = load_site(outlet_id)
    days = sorted({a.published.astimezone(site.tz).date() for a in site.articles})
    day = days[-1 - back]
    since = datetime(day.year, day.month, day.day, tzinfo=site.tz)
    return since, {a.url for a in site.articles if Window(since, since + timedelta(days=1)).contains(a.published)}


class Runs:
    """Trigger DAG runs and read their tasks through the REST API."""

    def __init__(self, api: RestApi, logs: Path):
        self.api, self.logs = api, logs

    def trigger(self, dag_id: str, since: datetime) -> str:
        run_id = f"celery_{since.date().isoformat()}_{secrets.token_hex(2)}"
        assert self.api("PATCH", f"/dags/{dag_id}", {"is_paused": False})[0] == 200
        status, created = self.api("POST", f"/dags/{dag_id}/dagRuns",
                                   {"dag_run_id": run_id, "logical_date": (since + timedelta(days=1)).isoformat()})
        assert status == 200, created
        return run_id

    def path(self, dag_id: str, run_id: str) -> str:
        return f"/dags/{dag_id}/dagRuns/{quote(run_id)}"

    def tasks(self, dag_id: str, run_id: str) -> dict[str, dict]:
        return {ti["task_id"]: ti for ti in self.api("GET", f"{self.path(dag_id, run_id)}/taskInstances")[1]
                .get("task_instances", [])}

    def worker(self, dag_id: str, run_id: str, task_id: str) -> str | None:
        status, entry = self.api("GET", f"{self.path(dag_id, run_id)}/taskInstances/{task_id}/xcomEntries/worker")
        return entry["value"] if status == 200 else None

    def explain(self, dag_id: str, run_id: str) -> str:
        tasks = self.tasks(dag_id, run_id)
        return "\n".join([", ".join(f"{t}={ti['state']}/{ti['try_number']}" for t, ti in tasks.items()),
                          *(f"{name}:\n{_tail(self.logs / f'{name}.log', 15)}"
                            for name in ("scheduler", "worker-1", "worker-2"))])

    def wait(self, dag_id: str, run_id: str, timeout: float = 240) -> dict:
        def finished():
            run = self.api("GET", self.path(dag_id, run_id))[1]
            return run if run.get("state") in ("success", "failed") else None

        run = _poll(f"{dag_id} {run_id}", finished, timeout, lambda: self.explain(dag_id, run_id))
        assert run["state"] == "success", self.explain(dag_id, run_id)
        return run


def _celery_control(env: dict[str, str], code: str) -> None:
    subprocess.run([sys.executable, "-c", "from airflow.providers.celery.executors.celery_executor_utils import app\n"
                    + code], env=env, check=True, capture_output=True, timeout=60)


@pytest.mark.airflow
@pytest.mark.postgres
def test_two_celery_workers_share_runs_through_the_object_store_and_survive_a_killed_worker(
        tmp_path, pg_url, airflow_metadata_url, object_store, fixture_server):
    redis.Redis(db=REDIS_DB).flushdb()
    outlets = tmp_path / "outlets"
    _declare_west_outlet(outlets)
    bucket = object_store.new_bucket()
    home = tmp_path / "airflow"
    port = local.free_port()
    cluster = local.Cluster(airflow_metadata_url, f"redis://127.0.0.1:6379/{REDIS_DB}")
    env = local.airflow_environment(home, api_port=port, replay_url=fixture_server.url,
                                    data_dir=str(tmp_path / "unused"), cluster=cluster)
    env.update(object_store.env(bucket), NEWSETL_WORK_DIR=str(tmp_path / "work"), NEWSETL_OUTLETS_DIR=str(outlets),
               NEWSETL_TASK_RETRIES="1", NEWSETL_TASK_RETRY_DELAY="1", AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE="False",
               # A killed worker's task is found without a heartbeat within seconds, not minutes.
               AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_SEC="2",
               AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT="12",
               AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT_DETECTION_INTERVAL="3")
    password = local.prepare(env, pg_url)
    workers = {"worker-1": local.Worker("worker-1", ("default",), 2), "worker-2": local.Worker("worker-2", ("west",), 2)}
    components = local.start(env, workers=tuple(workers.values()))
    try:
        local.wait_until_healthy(env["AIRFLOW__API__BASE_URL"], components)
        runs = Runs(RestApi(env["AIRFLOW__API__BASE_URL"], local.ADMIN_USER, password), home / "logs")
        for dag_id in ("news_slobodenpecat", f"news_{WEST}"):
            _poll(f"{dag_id} parsed", lambda d=dag_id: (runs.api("GET", f"/dags/{d}")[0] == 200) or None, 120,
                  lambda: _tail(home / "logs" / "dag-processor.log"))

        # Phase 1: each crawl on the worker of its queue; the west run's stages on both workers.
        pechat_day, pechat_urls = _day("slobodenpecat")
        west_day, west_urls = _day("metamk")
        pechat_run = runs.trigger("news_slobodenpecat", pechat_day)
        west_run = runs.trigger(f"news_{WEST}", west_day)
        runs.wait("news_slobodenpecat", pechat_run)
        runs.wait(f"news_{WEST}", west_run)
        stages = ("plan", "crawl", "extract", "load", "quality")
        ran_on = {task: runs.worker(f"news_{WEST}", west_run, task) for task in stages}
        assert ran_on == {"plan": "worker-1", "crawl": "worker-2", "extract": "worker-1", "load": "worker-1",
                          "quality": "worker-1"}
        assert {runs.worker("news_slobodenpecat", pechat_run, task) for task in stages} == {"worker-1"}
        assert runs.tasks(f"news_{WEST}", west_run)["crawl"]["queue"] == "west"
        held = object_store.keys(bucket)
        assert f"news/runs/{WEST}/{WEST}__{west_run}/archive.warc.gz" in held

        # Phase 2: worker-2 serves the default queue too; the worker running a crawl is killed.
        _celery_control(env, "print(app.control.add_consumer('default', destination=['celery@worker-2'], reply=True))")
        since, killed_day_urls = _day("slobodenpecat", back=1)
        run_id = runs.trigger("news_slobodenpecat", since)

        def crawl_running():
            crawl = runs.tasks("news_slobodenpecat", run_id).get("crawl", {})
            return runs.worker("news_slobodenpecat", run_id, "crawl") if crawl.get("state") == "running" else None

        victim = _poll("the crawl running", crawl_running, 120, lambda: runs.explain("news_slobodenpecat", run_id))
        process = next(c.process for c in components if c.name == victim)
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        runs.wait("news_slobodenpecat", run_id, timeout=300)
        crawl = runs.tasks("news_slobodenpecat", run_id)["crawl"]
        survivor = ({"worker-1", "worker-2"} - {victim}).pop()
        assert crawl["try_number"] == 2 and runs.worker("news_slobodenpecat", run_id, "crawl") == survivor
    finally:
        local.stop(components)

    engine = connect(pg_url)
    with engine.connect() as connection:
        by_outlet = dict(connection.execute(select(ArticleRow.outlet_id, func.count()).group_by(ArticleRow.outlet_id)).all())
        distinct = connection.execute(select(func.count(func.distinct(ArticleRow.canonical_url)))).scalar_one()
        urls = set(connection.execute(select(ArticleRow.canonical_url).where(ArticleRow.outlet_id == "slobodenpecat"))
                   .scalars())
        statuses = dict(connection.execute(select(CrawlRunRow.run_id, CrawlRunRow.status)).all())
    engine.dispose()
    # Exactly the fixture's articles of those days: none lost to the kill, none loaded twice.
    assert by_outlet == {"slobodenpecat": len(pechat_urls | killed_day_urls), WEST: len(west_urls)}
    assert urls == pechat_urls | killed_day_urls and distinct == sum(by_outlet.values())
    assert set(statuses.values()) == {"success"} and len(statuses) == 3, json.dumps(statuses)
