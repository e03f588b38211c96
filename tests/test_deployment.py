"""The production docker-compose.yml: valid, in the shape of Airflow's official one, and running what
the local distributed mode (`newsetl airflow --executor celery`, tested for real in test_celery.py) runs."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from kernel.settings import load_settings
from newsetl.dag_factory import CRAWL_POOL, WAREHOUSE_CONN_ID
from sandbox import airflow_local as local

ROOT = Path(__file__).parents[1]
AIRFLOW_SERVICES = {"airflow-init", "airflow-apiserver", "airflow-scheduler", "airflow-dag-processor",
                    "airflow-triggerer", "airflow-worker", "flower"}


@pytest.fixture(scope="module")
def compose() -> dict:
    """The compose file as docker-compose resolves it (anchors merged, .env.example's values)."""
    tool = shutil.which("docker-compose")
    if tool is None:
        message = "no docker-compose on PATH (apt-get install docker-compose)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true and {message}")
        pytest.skip(message)
    for extra in ([], ["--env-file", ".env.example"]):  # without a .env, and with the example one
        result = subprocess.run([tool, *extra, "config", "-q"], cwd=ROOT, capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, result.stderr
    resolved = subprocess.run([tool, "--env-file", ".env.example", "config"], cwd=ROOT, capture_output=True, text=True,
                              timeout=60, check=True).stdout
    return yaml.safe_load(resolved)


def test_the_services_of_a_celery_deployment_with_health_checks(compose):
    services = compose["services"]
    assert set(services) == AIRFLOW_SERVICES | {"postgres", "redis", "minio"}
    for name, service in services.items():
        if name != "airflow-init":
            assert "healthcheck" in service, f"{name} has no health check"
    for name in AIRFLOW_SERVICES:
        assert services[name]["build"]["context"] == str(ROOT) and services[name]["image"] == "news-etl:latest"
    assert services["flower"]["profiles"] == ["flower"]
    worker = services["airflow-worker"]
    assert "container_name" not in worker and "ports" not in worker, "a worker must scale with --scale"
    assert worker["depends_on"]["airflow-init"]["condition"] == "service_completed_successfully"
    init = " ".join(services["airflow-init"]["command"])
    assert "airflow db migrate" in init and "newsetl db upgrade" in init and f"pools set {CRAWL_POOL}" in init
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert dockerfile.splitlines()[3].startswith("FROM apache/airflow:") and "/opt/newsetl" in dockerfile


def test_it_runs_what_the_local_distributed_mode_runs(compose, tmp_path, monkeypatch):
    services = compose["services"]
    cluster = local.Cluster("postgresql://airflow:pw@postgres/airflow", "redis://redis:6379/0")
    local_env = local.celery_environment(cluster, "http://airflow-apiserver:8080", "secret")
    for name in AIRFLOW_SERVICES:
        env = services[name]["environment"]
        # The same executor and the same settings named, whatever their values in each place.
        assert set(local_env) <= set(env), f"{name} lacks {set(local_env) - set(env)}"
        assert env["AIRFLOW__CORE__EXECUTOR"] == local_env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
        assert env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] == "http://airflow-apiserver:8080/execution/"
        assert env["AIRFLOW__CORE__DAGS_FOLDER"] == "/opt/newsetl/dags"
        # The warehouse connection the DAGs read, and run storage in the bucket.
        assert f"AIRFLOW_CONN_{WAREHOUSE_CONN_ID.upper()}" in env
        assert env["NEWSETL_DATA_DIR"].startswith("s3://") and env["AWS_ENDPOINT_URL"] == "http://minio:9000"
        assert {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION"} <= set(env)
    # The settings of a worker's environment are valid ones.
    worker_env = services["airflow-worker"]["environment"]
    for key, value in worker_env.items():
        if key.startswith("NEWSETL_") and key != "NEWSETL_OUTLETS_DIR":
            monkeypatch.setenv(key, value)
    # Own outlets: the folder the variable names is mounted into every component.
    for name in AIRFLOW_SERVICES:
        targets = [volume["target"] if isinstance(volume, dict) else volume.split(":")[1]
                   for volume in services[name].get("volumes", [])]
        assert services[name]["environment"]["NEWSETL_OUTLETS_DIR"] in targets, name
    monkeypatch.setenv("NEWSETL_WORK_DIR", str(tmp_path))
    assert load_settings().run_store == worker_env["NEWSETL_DATA_DIR"]
    # A worker serves every queue the registry's outlets declare, as the local workers do.
    command = services["airflow-worker"]["command"]
    command = command.split() if isinstance(command, str) else command
    assert command[:3] == ["airflow", "celery", "worker"]
    assert tuple(command[command.index("-q") + 1].split(",")) == local.worker_queues()
    assert local.worker_command(local.Worker("w", local.worker_queues()))[1:4] == ["celery", "worker", "-q"]
