"""The sandbox's ``newsetl`` commands (``demo``, ``serve-fixtures``, ``airflow``), registered through
the ``newsetl.commands`` entry points: the product's command line never imports the sandbox."""

from __future__ import annotations

import signal
import time
from typing import Annotated

import typer

from kernel.settings import masked_url
from newsetl.console import WarehouseOpt, err, expected_errors, out, print_error, settings_or_exit


def serve_fixtures(
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1 (0: any free port)")] = 8765,
) -> None:
    """Serve the bundled fixture outlets on loopback until interrupted."""
    from sandbox.fixture_sites.server import serve

    with expected_errors(settings_or_exit()):
        server = serve(port=port)
        err.print(f"fixture outlets on {server.url} — use them with:\n  export NEWSETL_REPLAY_URL={server.url}")
        try:
            server.wait()
        except KeyboardInterrupt:
            pass
        finally:
            server.stop()


def airflow_local(
    port: Annotated[int, typer.Option(help="Port of the Airflow UI and API on 127.0.0.1")] = 8080,
    pool_slots: Annotated[int, typer.Option(help="Slots of the news_crawl pool (concurrent crawls)")] = 2,
    warehouse: WarehouseOpt = None,
    executor: Annotated[str, typer.Option(help="local (LocalExecutor, SQLite metadata) or celery (workers, "
                                                "PostgreSQL metadata, Redis broker)")] = "local",
    workers: Annotated[int, typer.Option(help="celery: Celery workers to start, each serving every queue")] = 2,
    metadata_db: Annotated[str, typer.Option(help="celery: Airflow's metadata database (created if missing)")]
        = "postgresql://postgres@127.0.0.1:5432/newsetl_airflow",
    broker: Annotated[str, typer.Option(help="celery: the Celery broker")] = "redis://127.0.0.1:6379/0",
    object_store: Annotated[bool, typer.Option(help="Keep runs in an S3-compatible store started on loopback "
                                                    "(default: the data directory, shared by the workers)")] = False,
) -> None:
    """Run Airflow locally with the project's DAGs against the fixture outlets, until interrupted."""
    from contextlib import ExitStack

    from sandbox import airflow_local as local
    from sandbox.fixture_sites.server import serve

    settings = settings_or_exit(warehouse)
    if executor not in ("local", "celery"):
        print_error(f"--executor {executor!r}: use local or celery")
        raise typer.Exit(1)
    signal.signal(signal.SIGTERM, _interrupt)  # a supervisor's stop ends it as cleanly as Ctrl-C
    with expected_errors(settings), ExitStack() as stack:
        fixtures = stack.enter_context(serve())
        home = settings.data_dir / "airflow"
        cluster = local.Cluster(metadata_db, broker) if executor == "celery" else None
        env = local.airflow_environment(home, api_port=port, replay_url=fixtures.url, data_dir=settings.run_store,
                                        cluster=cluster)
        if object_store:
            from sandbox.object_store import serve_object_store

            store = stack.enter_context(serve_object_store(log=home / "logs" / "object-store.log"))
            env.update(store.env(store.new_bucket("newsetl-runs")), NEWSETL_WORK_DIR=str(settings.data_dir))
        components: list[local.Component] = []
        try:
            if cluster:
                local.create_database(cluster.metadata_db)
            err.print(f"fixture outlets on {fixtures.url}; preparing {home} …", highlight=False)
            password = local.prepare(env, settings.warehouse_url, pool_slots)
            queues = local.worker_queues()
            started = tuple(local.Worker(f"worker-{n}", queues) for n in range(1, workers + 1)) if cluster else ()
            components = local.start(env, workers=started)
            local.wait_until_healthy(env["AIRFLOW__API__BASE_URL"], components)
            lines = [f"Airflow UI: {env['AIRFLOW__API__BASE_URL']}  login: {local.ADMIN_USER} / {password}",
                     f"warehouse: {masked_url(settings.warehouse_url)}", f"runs: {env['NEWSETL_DATA_DIR']}"]
            if cluster:
                lines.append(f"executor: CeleryExecutor, {len(started)} workers serving {', '.join(queues)}; "
                             f"metadata: {masked_url(cluster.metadata_db)}, broker: {masked_url(cluster.broker)}")
            lines += [f"logs: {home / 'logs'}", "Ctrl-C stops everything."]
            err.print("\n".join(lines), highlight=False, soft_wrap=True)
            while True:
                local.check_running(components)
                time.sleep(1)
        except KeyboardInterrupt:
            err.print("stopping Airflow …")
        finally:
            for stop_signal in (signal.SIGINT, signal.SIGTERM):  # a second Ctrl-C must not orphan a component
                signal.signal(stop_signal, signal.SIG_IGN)
            local.stop(components)


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def demo() -> None:
    """Serve the fixture outlets on loopback, run the whole pipeline into the default warehouse, summarise."""
    from sandbox.demo import run_demo

    settings = settings_or_exit()
    with expected_errors(settings):
        run_demo(settings, out, err)


