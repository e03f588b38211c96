"""Scale benchmark: N synthetic outlets (default 50), one day each, through Airflow's CeleryExecutor
with 1 and with 2 workers, runs kept in an S3-compatible store, the warehouse in PostgreSQL.

    .venv/bin/python bench/scale.py                  # 50 outlets
    .venv/bin/python bench/scale.py --outlets 6      # quick check

Each outlet is a copy of the synthetic site (bench/synthetic_site.py, one loopback server answering
every outlet's host name) with 72 articles a day. Each worker runs one task at a time
(``--concurrency``), so two workers are what a second machine adds. The baseline, measured in the
same run, is the pipeline in one process without Airflow (``run_outlet``) on a few of the outlets:
the per-task overhead is what a task of the Celery stack costs beyond that. Needs PostgreSQL on
127.0.0.1:5432 and Redis on 127.0.0.1:6379 (DB 13). Ends with one JSON line of all figures.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import quote

import psutil
import synthetic_site as site  # bench/ is on sys.path when this file runs as a script

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sandbox import airflow_local as local  # noqa: E402
from sandbox.object_store import serve_object_store  # noqa: E402

PG = "postgresql://postgres@127.0.0.1:5432"
REDIS = "redis://127.0.0.1:6379/13"
NEWEST = datetime(2026, 11, 20, 23, 50, tzinfo=timezone.utc)
SITE_ARTICLES = 300  # four days at one article every 20 minutes
STAGES = ("plan", "crawl", "extract", "load", "quality")
MIB = 1024 * 1024


def outlet_ids(count: int) -> list[str]:
    return [f"bench_{n:03d}" for n in range(count)]


def write_outlets(folder: Path, count: int) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for outlet_id in outlet_ids(count):
        (folder / f"{outlet_id}.toml").write_text(site.outlet_toml(outlet_id, outlet_id.replace("_", "-") + ".example"))


def the_day() -> tuple[datetime, datetime]:
    """A whole day of the synthetic outlets (Europe/Skopje), before their newest article."""
    from zoneinfo import ZoneInfo

    local_day = (NEWEST.astimezone(ZoneInfo("Europe/Skopje")) - timedelta(days=1)).date()
    since = datetime(local_day.year, local_day.month, local_day.day, tzinfo=ZoneInfo("Europe/Skopje"))
    return since, since + timedelta(days=1)


def new_database(prefix: str) -> str:
    url = f"{PG}/{prefix}_{secrets.token_hex(3)}"
    local.create_database(url)
    return url


def drop_database(url: str) -> None:
    import psycopg

    with psycopg.connect(f"{PG}/postgres", autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')


def database_bytes(url: str) -> int:
    import psycopg

    with psycopg.connect(url) as connection:
        return connection.execute("SELECT pg_database_size(current_database())").fetchone()[0]


def warehouse_articles(url: str) -> int:
    import psycopg

    with psycopg.connect(url) as connection:
        return connection.execute("SELECT COUNT(*) FROM articles").fetchone()[0]


class PeakTreeRss:
    """The largest RSS of each worker's process tree (the worker, its pool, tasks and crawls)."""

    def __init__(self, roots: dict[str, int]):
        self.roots, self.peak = roots, dict.fromkeys(roots, 0)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(0.2):
            for name, pid in self.roots.items():
                try:
                    root = psutil.Process(pid)
                    tree = [root, *root.children(recursive=True)]
                except psutil.Error:
                    continue
                total = 0
                for process in tree:
                    try:
                        total += process.memory_info().rss
                    except psutil.Error:
                        pass
                self.peak[name] = max(self.peak[name], total)

    def __enter__(self) -> PeakTreeRss:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


def baseline(outlets: int, replay_url: str, outlets_dir: Path, work: Path) -> dict:
    """The pipeline in one process (``run_outlet``), no Airflow, local run storage: seconds per outlet."""
    code = (
        "import json, time\n"
        "from kernel.settings import load_settings\nfrom kernel.window import Window\n"
        "from newsetl.pipeline import run_outlet\nfrom datetime import datetime\n"
        f"window = Window(datetime.fromisoformat({the_day()[0].isoformat()!r}), "
        f"datetime.fromisoformat({the_day()[1].isoformat()!r}))\n"
        "seconds, articles = [], 0\n"
        f"for outlet_id in {outlet_ids(outlets)!r}:\n"
        "    start = time.perf_counter()\n"
        "    articles += run_outlet(outlet_id, window, load_settings()).articles_new\n"
        "    seconds.append(time.perf_counter() - start)\n"
        "print(json.dumps({'seconds_per_outlet': sum(seconds) / len(seconds), 'articles': articles}))\n")
    env = {**os.environ, "NEWSETL_REPLAY_URL": replay_url, "NEWSETL_OUTLETS_DIR": str(outlets_dir),
           "NEWSETL_DATA_DIR": str(work), "NEWSETL_POLITENESS": "off"}
    env.pop("NEWSETL_WAREHOUSE_URL", None)
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True, cwd=ROOT)
    return json.loads(out.stdout.strip().splitlines()[-1])


def run_stack(workers: int, concurrency: int, outlets: int, replay_url: str, outlets_dir: Path, work: Path,
              store, timeout: float) -> dict:
    """Every outlet's day through the Celery stack with ``workers`` workers; the figures of that."""
    import redis

    redis.Redis.from_url(REDIS).flushdb()
    metadata, warehouse = new_database("newsetl_bench_meta"), new_database("newsetl_bench_wh")
    bucket = store.new_bucket()
    home = work / f"airflow-{workers}"
    env = local.airflow_environment(home, api_port=local.free_port(), replay_url=replay_url, data_dir=str(work),
                                    cluster=local.Cluster(metadata, REDIS))
    env.update(store.env(bucket), NEWSETL_WORK_DIR=str(work / f"work-{workers}"), NEWSETL_OUTLETS_DIR=str(outlets_dir),
               NEWSETL_POLITENESS="off", NEWSETL_TASK_RETRIES="0", AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE="False",
               AIRFLOW__CORE__PARALLELISM="64", AIRFLOW__CORE__MAX_ACTIVE_RUNS_PER_DAG="1")
    components = []
    try:
        subprocess.run([sys.executable, "-m", "newsetl.cli", "db", "upgrade", "--warehouse", warehouse], env=env,
                       check=True, capture_output=True, cwd=ROOT)
        empty_bytes = database_bytes(warehouse)
        password = local.prepare(env, warehouse, pool_slots=workers * concurrency)
        queues = local.worker_queues()
        started = tuple(local.Worker(f"worker-{n}", queues, concurrency) for n in range(1, workers + 1))
        components = local.start(env, workers=started)
        local.wait_until_healthy(env["AIRFLOW__API__BASE_URL"], components)
        api = local.RestApi(env["AIRFLOW__API__BASE_URL"], local.ADMIN_USER, password)
        dag_ids = [f"news_{outlet_id}" for outlet_id in outlet_ids(outlets)]
        _wait(lambda: all(api("GET", f"/dags/{dag_id}")[0] == 200 for dag_id in dag_ids[-1:]), 180, "DAGs parsed")
        since, until = the_day()
        roots = {c.name: c.process.pid for c in components if c.name.startswith("worker-")}
        with PeakTreeRss(roots) as rss:
            start = time.time()
            for dag_id in dag_ids:
                assert api("PATCH", f"/dags/{dag_id}", {"is_paused": False})[0] == 200
                status, body = api("POST", f"/dags/{dag_id}/dagRuns", {"dag_run_id": "bench", "logical_date": until.isoformat()})
                assert status == 200, body

            def states() -> list[str]:
                return [api("GET", f"/dags/{dag_id}/dagRuns/bench")[1].get("state") for dag_id in dag_ids]

            _wait(lambda: all(state in ("success", "failed") for state in states()), timeout, "every run finished")
            wall = time.time() - start
        failed = [dag_id for dag_id, state in zip(dag_ids, states(), strict=True) if state != "success"]
        tasks = [ti for dag_id in dag_ids
                 for ti in api("GET", f"/dags/{dag_id}/dagRuns/{quote('bench')}/taskInstances")[1]["task_instances"]]
    finally:
        local.stop(components)
    articles = warehouse_articles(warehouse)
    if failed or not articles:
        states = sorted({(ti["dag_id"], ti["task_id"], ti["state"]) for ti in tasks if ti["state"] != "success"})
        raise RuntimeError(f"{len(failed)} runs failed, {articles} articles loaded; tasks not successful: {states[:10]}; "
                           f"logs under {home / 'logs'}")
    keys = store.keys(bucket)
    figures = {
        "workers": workers, "concurrency": concurrency, "outlets": outlets, "failed_runs": failed,
        "wall_s": round(wall, 1), "articles": articles, "articles_per_s": round(articles / wall, 2),
        "task_seconds": {stage: round(statistics.median(ti["duration"] for ti in tasks if ti["task_id"] == stage), 2)
                         for stage in STAGES},
        "task_seconds_total": round(sum(ti["duration"] or 0 for ti in tasks), 1),
        "queue_gap_s": round(statistics.median(_gaps(tasks)), 2),
        "peak_rss_mib_per_worker": {name: round(peak / MIB) for name, peak in rss.peak.items()},
        "warc_bytes_per_article": round(sum(size for key, size in keys.items() if key.endswith(".warc.gz")) / articles),
        "run_files_bytes_per_article": round(sum(keys.values()) / articles),
        "warehouse_bytes_per_article": round((database_bytes(warehouse) - empty_bytes) / articles),
    }
    for url in (metadata, warehouse):
        drop_database(url)
    return figures


def _gaps(tasks: list[dict]) -> list[float]:
    """Seconds from one task's end to the start of the next task of its run: scheduling and queueing."""
    by_run: dict[str, dict[str, dict]] = {}
    for ti in tasks:
        by_run.setdefault(ti["dag_id"], {})[ti["task_id"]] = ti
    gaps = []
    for run in by_run.values():
        for before, after in zip(STAGES, STAGES[1:], strict=False):
            if run.get(before, {}).get("end_date") and run.get(after, {}).get("start_date"):
                gaps.append((datetime.fromisoformat(run[after]["start_date"])
                             - datetime.fromisoformat(run[before]["end_date"])).total_seconds())
    return gaps or [float("nan")]


def _wait(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(2)
    raise TimeoutError(f"{what}: not within {timeout:.0f} s")


@contextmanager
def work_dir(keep: bool):
    temp = tempfile.mkdtemp(prefix="newsetl-scale-")
    try:
        yield temp
    finally:
        if keep:
            print(f"kept {temp}", file=sys.stderr)
        else:
            shutil.rmtree(temp, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--outlets", type=int, default=50)
    parser.add_argument("--concurrency", type=int, default=1, help="tasks at once per worker")
    parser.add_argument("--baseline-outlets", type=int, default=3)
    parser.add_argument("--timeout", type=float, default=3600, help="seconds each configuration may take")
    parser.add_argument("--keep", action="store_true", help="keep the work directory (logs) afterwards")
    args = parser.parse_args()

    with work_dir(args.keep) as temp:
        work = Path(temp)
        outlets_dir = work / "outlets"
        write_outlets(outlets_dir, args.outlets)
        server = subprocess.Popen([sys.executable, str(Path(__file__).with_name("synthetic_site.py")),
                                   "--articles", str(SITE_ARTICLES), "--newest", NEWEST.isoformat(), "--lifetime", "7200"],
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        replay_url = server.stdout.readline().strip()
        try:
            with serve_object_store(log=work / "object-store.log") as store:
                base = baseline(args.baseline_outlets, replay_url, outlets_dir, work / "baseline")
                print(f"baseline (one process, no Airflow): {base['seconds_per_outlet']:.1f} s per outlet, "
                      f"{base['articles']} articles", file=sys.stderr)
                configs = []
                for workers in (1, 2):
                    figures = run_stack(workers, args.concurrency, args.outlets, replay_url, outlets_dir, work, store,
                                        args.timeout)
                    print(f"{workers} worker(s): {figures['articles']} articles in {figures['wall_s']} s "
                          f"({figures['articles_per_s']}/s); median task s {figures['task_seconds']}; "
                          f"peak MiB {figures['peak_rss_mib_per_worker']}", file=sys.stderr)
                    configs.append(figures)
        finally:
            server.stdin.close()
            server.wait(30)
    one, two = configs
    per_outlet_airflow = one["task_seconds_total"] / args.outlets
    result = {
        "outlets": args.outlets, "articles_per_outlet_day": one["articles"] / args.outlets,
        "baseline_seconds_per_outlet": round(base["seconds_per_outlet"], 2),
        "per_task_overhead_s": round((per_outlet_airflow - base["seconds_per_outlet"]) / len(STAGES), 2),
        "speedup_2_workers_vs_1": round(two["articles_per_s"] / one["articles_per_s"], 2),
        "airflow_1_worker_vs_baseline": round(base["seconds_per_outlet"] / (one["wall_s"] / args.outlets), 2),
        "configs": configs, "cpus": os.cpu_count(),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
