"""The sandbox's ``newsetl`` commands (``demo``, ``serve-fixtures``, ``airflow``), registered through
the ``newsetl.commands`` entry points: the product's command line never imports the sandbox."""

from __future__ import annotations

import signal
import time
from typing import Annotated

import typer

from kernel.settings import masked_url
from newsetl.console import WarehouseOpt, err, expected_errors, out, settings_or_exit


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
) -> None:
    """Run Airflow locally with the project's DAGs against the fixture outlets, until interrupted."""
    from sandbox import airflow_local as local
    from sandbox.fixture_sites.server import serve

    settings = settings_or_exit(warehouse)
    signal.signal(signal.SIGTERM, _interrupt)  # a supervisor's stop ends it as cleanly as Ctrl-C
    with expected_errors(settings), serve() as fixtures:
        home = settings.data_dir / "airflow"
        env = local.airflow_environment(home, api_port=port, replay_url=fixtures.url, data_dir=settings.data_dir)
        components: list[local.Component] = []
        try:
            err.print(f"fixture outlets on {fixtures.url}; preparing {home} …", highlight=False)
            password = local.prepare(env, settings.warehouse_url, pool_slots)
            components = local.start(env)
            local.wait_until_healthy(env["AIRFLOW__API__BASE_URL"], components)
            err.print(f"Airflow UI: {env['AIRFLOW__API__BASE_URL']}  login: {local.ADMIN_USER} / {password}\n"
                      f"warehouse: {masked_url(settings.warehouse_url)}\nlogs: {home / 'logs'}\nCtrl-C stops everything.",
                      highlight=False, soft_wrap=True)
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


