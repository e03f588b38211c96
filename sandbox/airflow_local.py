"""Airflow on this machine with the project's DAGs, offline against the fixture outlets.

What ``newsetl airflow`` (``make airflow``) does: an AIRFLOW_HOME of its own, the metadata DB
migrated, a known admin password, the ``news_warehouse`` connection and the crawl pool, then the
Airflow components as child processes with their logs under the home.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from newsetl.dag_factory import CRAWL_POOL, WAREHOUSE_CONN_ID

ROOT = Path(__file__).resolve().parents[1]  # the source checkout: the sandbox is not installed without one
DAGS_FOLDER = ROOT / "dags"
AIRFLOW = str(Path(sys.executable).with_name("airflow"))
ADMIN_USER = "admin"
PASSWORDS_FILE = "simple_auth_manager_passwords.json.generated"
ALL_COMPONENTS = ("scheduler", "dag-processor", "triggerer", "api-server")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass(frozen=True)
class Cluster:
    """What the Celery executor needs: a metadata database a scheduler and workers share (PostgreSQL)
    and a broker (Redis)."""

    metadata_db: str  # postgresql://…
    broker: str  # redis://…


@dataclass(frozen=True)
class Worker:
    name: str
    queues: tuple[str, ...]
    concurrency: int = 2


def worker_queues() -> tuple[str, ...]:
    """Every queue a registry outlet's crawl goes to, and Airflow's default one."""
    from kernel.registry import load_registry

    return tuple(sorted({"default", *(outlet.queue for outlet in load_registry().values())}))


def airflow_environment(home: Path, *, api_port: int, replay_url: str | None, data_dir: Path | str,
                        cluster: Cluster | None = None) -> dict[str, str]:
    """The environment every Airflow component (and so every task) of a local instance runs with:
    LocalExecutor on SQLite, or with a ``cluster`` the CeleryExecutor on its database and broker."""
    base_url = f"http://127.0.0.1:{api_port}"
    env = {
        **os.environ,
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS_FOLDER),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{ADMIN_USER}:admin",
        "AIRFLOW__API__HOST": "127.0.0.1",
        "AIRFLOW__API__PORT": str(api_port),
        "AIRFLOW__API__BASE_URL": base_url,  # tasks reach the execution API under it
        "AIRFLOW__API__WORKERS": "1",
        # Log servers on free ports, so a second local instance (or a test) does not clash.
        "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port()),
        "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(free_port()),
        "NEWSETL_DATA_DIR": str(data_dir),
    }
    env.pop("AIRFLOW_CONN_NEWS_WAREHOUSE", None)  # the connection lives in the metadata DB
    if cluster:
        env.update(celery_environment(cluster, base_url, jwt_secret(home)))
    if replay_url:
        env["NEWSETL_REPLAY_URL"] = replay_url
    return env


def celery_environment(cluster: Cluster, base_url: str, secret: str) -> dict[str, str]:
    """The CeleryExecutor's settings; docker-compose.yml sets the same variables."""
    sync = cluster.metadata_db.replace("postgresql://", "postgresql+psycopg://", 1)
    return {
        "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": sync,
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_ASYNC": sync.replace("+psycopg://", "+psycopg_async://", 1),
        "AIRFLOW__CELERY__BROKER_URL": cluster.broker,
        "AIRFLOW__CELERY__RESULT_BACKEND": f"db+{sync}",
        # Workers run tasks through the api-server's execution API, with tokens every component signs alike.
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{base_url}/execution/",
        "AIRFLOW__API_AUTH__JWT_SECRET": secret,
    }


def worker_environment(env: dict[str, str], worker: Worker) -> dict[str, str]:
    """One worker's own settings: its log server port (several on one machine) and its name."""
    return {**env, "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port()), "NEWSETL_WORKER_NAME": worker.name}


def worker_command(worker: Worker) -> list[str]:
    return [AIRFLOW, "celery", "worker", "-q", ",".join(worker.queues), "-H", worker.name, "-c", str(worker.concurrency)]


def create_database(url: str) -> None:
    """Create the PostgreSQL database of ``url`` unless it exists."""
    import psycopg
    from psycopg import sql
    from sqlalchemy.engine import make_url

    target = make_url(url)
    admin = target.set(drivername="postgresql", database="postgres").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as connection:
        if not connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", (target.database,)).fetchone():
            connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(target.database)))


def jwt_secret(home: Path) -> str:
    """The instance's token secret, kept under its home so a restart keeps sessions valid."""
    path = home / "jwt_secret"
    if not path.exists():
        home.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(32))
        path.chmod(0o600)
    return path.read_text().strip()


def admin_password(home: Path) -> str:
    """The admin's password: generated the first time, then kept in the simple auth manager's file."""
    path = home / PASSWORDS_FILE
    passwords = json.loads(path.read_text() or "{}") if path.exists() else {}
    if not passwords.get(ADMIN_USER):
        passwords[ADMIN_USER] = secrets.token_urlsafe(12)
        home.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(passwords) + "\n")
        path.chmod(0o600)
    return passwords[ADMIN_USER]


def prepare(env: dict[str, str], warehouse_url: str, pool_slots: int = 2) -> str:
    """Migrate the metadata DB, set the warehouse connection and the crawl pool; return the admin password."""
    home = Path(env["AIRFLOW_HOME"])
    password = admin_password(home)
    _run([AIRFLOW, "db", "migrate"], env)
    # One interpreter for both writes: each Airflow CLI call costs seconds of start-up.
    _run([sys.executable, "-m", "sandbox.airflow_local", json.dumps({"warehouse_url": warehouse_url,
                                                                      "pool_slots": pool_slots})], env)
    return password


def _run(command: list[str], env: dict[str, str]) -> None:
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
    if result.returncode != 0:
        raise ChildProcessError(f"{' '.join(command[:3])} failed ({result.returncode}):\n{result.stderr[-3000:]}")


def _write_metadata(warehouse_url: str, pool_slots: int) -> None:
    """Runs inside the instance's environment (AIRFLOW_HOME set before Airflow is imported)."""
    from airflow.models.connection import Connection
    from airflow.models.pool import Pool
    from airflow.utils.session import create_session
    from sqlalchemy import delete

    with create_session() as session:
        Pool.create_or_update_pool(CRAWL_POOL, pool_slots, "Concurrent outlet crawls", include_deferred=False,
                                   session=session)
        # Rewritten on every start, so the connection follows NEWSETL_WAREHOUSE_URL / --warehouse.
        session.execute(delete(Connection).where(Connection.conn_id == WAREHOUSE_CONN_ID))
        session.add(Connection(conn_id=WAREHOUSE_CONN_ID, conn_type="generic", description="The news warehouse",
                               extra=json.dumps({"sqlalchemy_url": warehouse_url})))


@dataclass
class Component:
    name: str
    process: subprocess.Popen
    log: Path


def start(env: dict[str, str], components: tuple[str, ...] = ALL_COMPONENTS,
          workers: tuple[Worker, ...] = ()) -> list[Component]:
    """Start the components and Celery workers, each in a session of its own so stopping one stops
    its task processes too."""
    started = [_start(name, [AIRFLOW, name], env) for name in components]
    return started + [start_worker(env, worker) for worker in workers]


def start_worker(env: dict[str, str], worker: Worker) -> Component:
    return _start(worker.name, worker_command(worker), worker_environment(env, worker))


def _start(name: str, command: list[str], env: dict[str, str]) -> Component:
    log_dir = Path(env["AIRFLOW_HOME"]) / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    log = log_dir / f"{name}.log"
    with log.open("ab") as out:
        process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL, start_new_session=True)
    return Component(name, process, log)


def stop(components: list[Component], grace: float = 20) -> None:
    """SIGTERM every component's process group, then SIGKILL what is still there after ``grace`` seconds."""
    for component in components:
        _signal_group(component.process, signal.SIGTERM)
    deadline = time.monotonic() + grace
    for component in components:
        try:
            component.process.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            pass
        _signal_group(component.process, signal.SIGKILL)  # also reaps task processes left behind
        component.process.wait()


def _signal_group(process: subprocess.Popen, sig: signal.Signals) -> None:
    try:
        os.killpg(process.pid, sig)
    except ProcessLookupError:
        pass


def check_running(components: list[Component]) -> None:
    """Raise when a component has exited: the instance is broken without it."""
    for component in components:
        if component.process.poll() is not None:
            raise ChildProcessError(f"airflow {component.name} exited ({component.process.returncode}); "
                                    f"see {component.log}")


def wait_until_healthy(base_url: str, components: list[Component], timeout: float = 120) -> None:
    """Wait until the API server answers its health check; fail early when a component exits."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        check_running(components)
        try:
            with urllib.request.urlopen(f"{base_url}/api/v2/monitor/health", timeout=5) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(1)
    raise TimeoutError(f"no answer from {base_url} within {timeout:.0f} s")


class RestApi:
    """Airflow's public REST API with a token from the simple auth manager's /auth/token."""

    def __init__(self, base_url: str, username: str, password: str):
        self.base_url = base_url
        self.token = self._send("POST", "/auth/token", {"username": username, "password": password})[1]["access_token"]

    def __call__(self, method: str, path: str, body: dict | None = None) -> tuple[int, dict]:
        return self._send(method, "/api/v2" + path, body, {"Authorization": f"Bearer {self.token}"})

    def _send(self, method: str, path: str, body: dict | None, headers: dict | None = None) -> tuple[int, dict]:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.base_url + path, data=data, method=method,
                                         headers={"Content-Type": "application/json", **(headers or {})})
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read() or b"{}")


if __name__ == "__main__":
    _write_metadata(**json.loads(sys.argv[1]))
