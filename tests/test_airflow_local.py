"""Local Airflow (`make airflow`): its setup, and the whole of it driven through the REST API and the UI.

The integration test runs `newsetl airflow` (what `make airflow` runs: the real scheduler,
dag-processor, triggerer and api-server; here with the warehouse in PostgreSQL), logs in with the
admin password it prints, triggers a day of the fixture outlet through the REST API, checks the run
and the tasks' summaries there, keeps a screenshot of the DAG's grid view, then stops it as Ctrl-C does.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import quote

import psutil
import pytest
from sqlalchemy import select

from kernel.window import Window
from models.tables import ArticleRow
from models.warehouse import connect
from sandbox.airflow_local import ADMIN_USER, PASSWORDS_FILE, RestApi, admin_password, free_port
from sandbox.fixture_sites import load_site
from tests import browser

ROOT = Path(__file__).parents[1]
ARTIFACTS = ROOT / "build" / "test-artifacts"
DAG_ID = "news_slobodenpecat"
READY = re.compile(r"Airflow UI: (?P<url>http://\S+)\s+login: (?P<user>\S+) / (?P<password>\S+)")


def test_admin_password_is_generated_once_and_kept(tmp_path):
    first = admin_password(tmp_path / "home")
    again = admin_password(tmp_path / "home")
    stored = json.loads((tmp_path / "home" / PASSWORDS_FILE).read_text())
    assert len(first) >= 16 and again == first and stored == {ADMIN_USER: first}
    assert admin_password(tmp_path / "other") != first  # random, not a fixed default


def _poll(what: str, probe, timeout: float, explain) -> dict:
    """``probe()`` until it returns a value; on timeout fail with ``explain()`` (logs, states)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if (found := probe()) is not None:
            return found
        time.sleep(1)
    pytest.fail(f"{what}: nothing after {timeout:.0f} s\n{explain()}")


def _tail(path: Path, lines: int = 40) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else f"({path} missing)"


@pytest.fixture
def chromium():
    if browser.CHROMIUM is None:
        message = "no chromium on PATH (apt-get install chromium)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true and {message}")
        pytest.skip(message)


def _ctrl_c_reaches_python() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)  # a background parent may have it ignored


@contextmanager
def newsetl_airflow(data_dir: Path, warehouse_url: str, env: dict[str, str], *options: str):
    """`newsetl airflow` in the background until its login line; yields (process, match, output file).
    Whatever the test does, it is interrupted and every process it started is gone afterwards."""
    output = data_dir.parent / "newsetl-airflow.out"
    command = [sys.executable, "-m", "newsetl.cli", "airflow", "--port", str(free_port()), "--warehouse", warehouse_url,
               *options]
    with output.open("wb") as out:
        process = subprocess.Popen(command, env={**os.environ, "NEWSETL_DATA_DIR": str(data_dir), **env}, stdout=out,
                                   stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, preexec_fn=_ctrl_c_reaches_python)
    started: list[psutil.Process] = []
    try:
        def ready():
            if process.poll() is not None:
                pytest.fail(f"newsetl airflow exited ({process.returncode}):\n{output.read_text()}")
            return READY.search(output.read_text())

        found = _poll("newsetl airflow ready", ready, 180, output.read_text)
        started = psutil.Process(process.pid).children(recursive=True)
        yield process, found, output
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(60)
            except subprocess.TimeoutExpired:
                process.kill()
        for survivor in psutil.wait_procs(started, timeout=5)[1]:
            survivor.kill()


@pytest.mark.airflow
@pytest.mark.postgres
def test_make_airflow_runs_a_day_triggered_through_the_api_and_shows_it_in_the_grid(tmp_path, pg_url, chromium):
    site = load_site("slobodenpecat")
    day = site.articles[-1].published.astimezone(site.tz).date()
    since = datetime(day.year, day.month, day.day, tzinfo=site.tz)
    expected = {a.url for a in site.articles if Window(since, since + timedelta(days=1)).contains(a.published)}

    data_dir = tmp_path / "data"
    home = data_dir / "airflow"
    logs = home / "logs"
    # No retries, and only the run triggered here: unpausing must not add a scheduled one.
    settings = {"NEWSETL_TASK_RETRIES": "0", "AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE": "False"}
    with newsetl_airflow(data_dir, pg_url, settings) as (process, login, output):
        base_url = login["url"]
        api = RestApi(base_url, login["user"], login["password"])  # the printed login works
        _poll(f"{DAG_ID} parsed", lambda: (api("GET", f"/dags/{DAG_ID}")[0] == 200) or None, 90,
              lambda: _tail(logs / "dag-processor.log"))
        status, pool = api("GET", "/pools/news_crawl")
        assert status == 200 and pool["slots"] == 2
        status, connection = api("GET", "/connections/news_warehouse")
        assert status == 200 and json.loads(connection["extra"]) == {"sqlalchemy_url": pg_url}
        assert api("PATCH", f"/dags/{DAG_ID}", {"is_paused": False})[0] == 200

        # The daily timetable's run for logical date D covers the outlet's previous calendar day.
        run_id = f"fixture_day_{day.isoformat()}"
        status, created = api("POST", f"/dags/{DAG_ID}/dagRuns",
                              {"dag_run_id": run_id, "logical_date": (since + timedelta(days=1)).isoformat()})
        assert status == 200, created
        run_path = f"/dags/{DAG_ID}/dagRuns/{quote(run_id)}"

        def explain() -> str:
            instances = api("GET", f"{run_path}/taskInstances")[1].get("task_instances", [])
            failed = [ti["task_id"] for ti in instances if ti["state"] == "failed"]
            task_logs = [f"{path.relative_to(home)}:\n{_tail(path)}" for task_id in failed
                         for path in logs.glob(f"dag_id={DAG_ID}/run_id={run_id}/task_id={task_id}/*.log")]
            return "\n\n".join([", ".join(f"{ti['task_id']}={ti['state']}" for ti in instances),
                                 f"scheduler log:\n{_tail(logs / 'scheduler.log')}", *task_logs])

        def finished():
            run = api("GET", run_path)[1]
            return run if run.get("state") in ("success", "failed") else None

        run = _poll(f"run {run_id}", finished, 150, explain)
        assert run["state"] == "success", explain()
        assert datetime.fromisoformat(run["data_interval_start"]) == since
        assert run["run_type"] == "manual" and run["triggered_by"] == "rest_api"

        instances = api("GET", f"{run_path}/taskInstances")[1]["task_instances"]
        assert {"plan", "crawl", "extract", "load"} <= {ti["task_id"] for ti in instances}
        assert all(ti["state"] == "success" for ti in instances), explain()

        def summary(task_id: str) -> dict:
            status, entry = api("GET", f"{run_path}/taskInstances/{task_id}/xcomEntries/return_value")
            assert status == 200, entry
            return entry["value"]

        crawled, loaded = summary("crawl"), summary("load")
        assert crawled["article_pages_fetched"] == len(expected) and crawled["errors"] == 0
        assert loaded["articles_new"] == len(expected) and loaded["errors"] == 0 and loaded["dropped"] == {}
        assert datetime.fromisoformat(loaded["since"]) == since

        # The grid view, logged in with the API's token: the DAG named, the run's badge "success".
        screenshot = ARTIFACTS / f"airflow-grid-{DAG_ID}.png"
        badge = f'document.querySelector(\'a[href="/dags/{DAG_ID}/runs/{run_id}"] [data-testid="state-badge"]\')'
        cells = f'document.querySelectorAll(\'a[id^="grid-{run_id}-"]\').length'
        ready = f"({badge} && {badge}.getAttribute('aria-label') === 'success' && {cells} >= {len(instances)})"
        text = browser.capture(f"{base_url}/dags/{DAG_ID}", cookies={"_token": api.token}, ready=ready,
                               screenshot=screenshot)
        assert DAG_ID in text and all(ti["task_id"] in text for ti in instances)
        assert screenshot.stat().st_size > 10_000

        # Ctrl-C: the command ends normally and takes every Airflow process with it.
        components = psutil.Process(process.pid).children(recursive=True)
        assert {"scheduler", "dag-processor", "triggerer", "api"} <= {
            word for child in components for word in re.split(r"[\s_]", " ".join(child.cmdline()))}
        process.send_signal(signal.SIGINT)
        assert process.wait(60) == 0, output.read_text()
        assert psutil.wait_procs(components, timeout=10)[1] == []

    engine = connect(pg_url)
    with engine.connect() as connection:
        assert set(connection.execute(select(ArticleRow.canonical_url)).scalars()) == expected
    engine.dispose()


@pytest.mark.airflow
@pytest.mark.postgres
def test_local_distributed_mode_runs_celery_workers_and_stops_on_ctrl_c(tmp_path, pg_url, airflow_metadata_url):
    import redis

    redis.Redis(db=12).flushdb()
    options = ("--executor", "celery", "--workers", "2", "--metadata-db", airflow_metadata_url,
               "--broker", "redis://127.0.0.1:6379/12", "--object-store")
    with newsetl_airflow(tmp_path / "data", pg_url, {}, *options) as (process, login, output):
        api = RestApi(login["url"], login["user"], login["password"])
        assert api("GET", "/monitor/health")[1]["scheduler"]["status"] == "healthy"
        printed = output.read_text()
        assert "executor: CeleryExecutor, 2 workers serving default" in printed and "runs: s3://newsetl-runs/" in printed
        workers_log = [tmp_path / "data" / "airflow" / "logs" / f"worker-{n}.log" for n in (1, 2)]
        _poll("both workers ready", lambda: all("ready." in log.read_text() for log in workers_log if log.exists())
              and all(log.exists() for log in workers_log) or None, 90, lambda: "\n".join(map(_tail, workers_log)))

        components = psutil.Process(process.pid).children(recursive=True)
        commands = [" ".join(child.cmdline()) for child in psutil.Process(process.pid).children()]  # the components
        assert sum("celery worker" in command for command in commands) == 2
        assert any("moto_server" in command for command in commands)
        process.send_signal(signal.SIGINT)
        assert process.wait(60) == 0, output.read_text()
        assert psutil.wait_procs(components, timeout=10)[1] == []
