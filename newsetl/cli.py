"""The ``newsetl`` command: the human and script interface to the pipeline."""

from __future__ import annotations

import gzip
import json
import logging
import os
import signal
import sys
import time
from contextlib import contextmanager
from datetime import UTC
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.table import Table

from models.warehouse import WarehouseError
from newsetl.display import stage_progress, summary_table
from newsetl.registry import RegistryError, get_outlet, load_registry, outlet_for_url
from newsetl.settings import Settings, load_settings
from newsetl.window import Window, parse_bound
from scrapers.crawl import CrawlFailed

app = typer.Typer(help="news-etl: crawl news outlets into a SQL warehouse.", no_args_is_help=True,
                  pretty_exceptions_enable=False, add_completion=False)
db_app = typer.Typer(help="Warehouse schema commands.", no_args_is_help=True)
app.add_typer(db_app, name="db")
clusters_app = typer.Typer(help="Near-duplicate / syndication clusters.", no_args_is_help=True)
app.add_typer(clusters_app, name="clusters")
err = Console(stderr=True)
out = Console()
log = logging.getLogger("newsetl")
EXPECTED_FAILURES = (RegistryError, WarehouseError, CrawlFailed, ValueError, FileNotFoundError, OSError)


def _setup_logging(settings: Settings) -> Path:
    log_dir = settings.data_dir / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    path = log_dir / "newsetl.log"
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.setLevel(logging.INFO)
    root.addHandler(handler)
    return path


@contextmanager
def _expected_errors(settings: Settings):
    """Expected failures end as one readable line (and the full story in the log), exit code 1."""
    log_path = _setup_logging(settings)
    try:
        yield
    except EXPECTED_FAILURES as exc:
        log.exception("command failed")
        err.print(f"[bold red]error:[/] {exc}", highlight=False)
        err.print(f"[dim]details: {log_path}[/]", highlight=False)
        raise typer.Exit(1) from None


def _window(outlet_id: str, since: str | None, until: str | None) -> Window:
    tz = get_outlet(outlet_id).tz  # bare dates mean midnight at the outlet
    return Window(parse_bound(since, tz), parse_bound(until, tz))


OutletArg = Annotated[str, typer.Argument(help="Outlet id from `newsetl outlets`")]
SinceOpt = Annotated[Optional[str], typer.Option(help="Window start: YYYY-MM-DD (outlet's midnight) or ISO time")]
UntilOpt = Annotated[Optional[str], typer.Option(help="Window end (exclusive), same forms as --since")]
WarehouseOpt = Annotated[Optional[str], typer.Option(help="SQLAlchemy URL (default: NEWSETL_WAREHOUSE_URL)")]
JsonOpt = Annotated[bool, typer.Option("--json", help="End with one JSON summary line on stdout")]


def _run_and_report(job, outlet: str, since: str | None, until: str | None, warehouse: str | None,
                    as_json: bool) -> None:
    """Run ``job(outlet, window, settings, progress)`` with progress shown; print its summary."""
    settings = load_settings(warehouse)
    with _expected_errors(settings):
        window = _window(outlet, since, until)
        with stage_progress(err) as progress:
            summary = job(outlet, window, settings, progress).to_dict()
        if as_json:
            print(json.dumps(summary, ensure_ascii=False))
        else:
            out.print(summary_table([summary]))


@app.command()
def run(outlet: OutletArg, since: SinceOpt = None, until: UntilOpt = None, warehouse: WarehouseOpt = None,
        as_json: JsonOpt = False) -> None:
    """Crawl, extract, transform and load one outlet (the same code path as the Airflow DAG)."""
    from newsetl.pipeline import run_outlet

    _run_and_report(run_outlet, outlet, since, until, warehouse, as_json)


@app.command()
def reextract(outlet: OutletArg, since: SinceOpt = None, until: UntilOpt = None, warehouse: WarehouseOpt = None,
              as_json: JsonOpt = False) -> None:
    """Re-run extraction from the raw archive (no network) for articles published in the window;
    only articles whose output changed are rewritten."""
    from newsetl.pipeline import reextract_outlet

    _run_and_report(reextract_outlet, outlet, since, until, warehouse, as_json)


@app.command()
def outlets(as_json: Annotated[bool, typer.Option("--json", help="Print a JSON list")] = False) -> None:
    """List the outlet registry."""
    with _expected_errors(load_settings()):
        registry = load_registry()
        if as_json:
            print(json.dumps([o.model_dump() for o in registry.values()], ensure_ascii=False))
            return
        table = Table(title="Outlets")
        for column in ("id", "name", "home", "languages", "cms"):
            table.add_column(column)
        for o in registry.values():
            table.add_row(o.id, o.name, o.home, ", ".join(o.languages), o.cms)
        out.print(table)


def _read_manifest(path: Path) -> list[dict]:
    entries = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            entry = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ValueError(f"{path}:{number}: not JSON: {exc.msg}") from None
        missing = {"id", "path", "url"} - set(entry) if isinstance(entry, dict) else {"id", "path", "url"}
        if missing:
            raise ValueError(f"{path}:{number}: missing field(s) {', '.join(sorted(missing))}")
        entries.append(entry)
    return entries


@app.command()
def extract(
    manifest: Annotated[Path, typer.Option(help="JSON lines {id, path, url}; path to .html or .html.gz")],
    outlet: Annotated[Optional[str], typer.Option(help="Apply this outlet's rules (default: by URL)")] = None,
) -> None:
    """Extract articles from saved pages; one JSON line per input on stdout."""
    from datetime import datetime

    from transforms.extract import ExtractionError
    from transforms.extract import extract as extract_page
    from transforms.normalize import to_article

    with _expected_errors(load_settings()):
        if not manifest.is_file():
            raise FileNotFoundError(f"manifest not found: {manifest}")
        entries = _read_manifest(manifest)
        fixed = get_outlet(outlet) if outlet else None
        for entry in entries:
            result = {"id": entry["id"], "url": entry["url"], "title": None, "body": None, "authors": [],
                      "published_at": None, "language": None, "language_confidence": None}
            try:
                path = Path(entry["path"])
                path = path if path.is_absolute() else manifest.parent / path
                html = path.read_bytes()
                html = gzip.decompress(html) if path.suffix == ".gz" else html
                source = fixed or outlet_for_url(entry["url"])
                article = to_article(extract_page(html, entry["url"], source), source,
                                     edition=source.edition_of(entry["url"]).language, run_id="extract",
                                     fetched_at=datetime.now(UTC))
                result.update(title=article.title, body=article.body, authors=article.authors,
                              published_at=article.published_at.isoformat() if article.published_at else None,
                              language=article.language, language_confidence=article.language_confidence)
            except (ExtractionError, OSError, gzip.BadGzipFile) as exc:
                log.warning("extract %s failed: %s", entry["id"], exc)
                result["error"] = str(exc)
            print(json.dumps(result, ensure_ascii=False), flush=True)


@app.command()
def langid() -> None:
    """Read text lines on stdin; print LANG<TAB>CONFIDENCE for each."""
    from transforms.language import detect_language

    for line in sys.stdin:
        guess = detect_language(line)
        print(f"{guess.language}\t{guess.confidence:.4f}", flush=True)


@app.command("serve-fixtures")
def serve_fixtures(
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1 (0: any free port)")] = 8765,
) -> None:
    """Serve the bundled fixture outlets on loopback until interrupted."""
    from newsetl.fixture_sites.server import serve

    with _expected_errors(load_settings()):
        server = serve(port=port)
        err.print(f"fixture outlets on {server.url} — use them with:\n  export NEWSETL_REPLAY_URL={server.url}")
        try:
            server.wait()
        except KeyboardInterrupt:
            pass
        finally:
            server.stop()


@app.command("airflow")
def airflow_local(
    port: Annotated[int, typer.Option(help="Port of the Airflow UI and API on 127.0.0.1")] = 8080,
    pool_slots: Annotated[int, typer.Option(help="Slots of the news_crawl pool (concurrent crawls)")] = 2,
    warehouse: WarehouseOpt = None,
) -> None:
    """Run Airflow locally with the project's DAGs against the fixture outlets, until interrupted."""
    from newsetl import airflow_local as local
    from newsetl.fixture_sites.server import serve

    settings = load_settings(warehouse)
    signal.signal(signal.SIGTERM, _interrupt)  # a supervisor's stop ends it as cleanly as Ctrl-C
    with _expected_errors(settings), serve() as fixtures:
        home = settings.data_dir / "airflow"
        env = local.airflow_environment(home, api_port=port, replay_url=fixtures.url, data_dir=settings.data_dir)
        components: list[local.Component] = []
        try:
            err.print(f"fixture outlets on {fixtures.url}; preparing {home} …", highlight=False)
            password = local.prepare(env, settings.warehouse_url, pool_slots)
            components = local.start(env)
            local.wait_until_healthy(env["AIRFLOW__API__BASE_URL"], components)
            err.print(f"Airflow UI: {env['AIRFLOW__API__BASE_URL']}  login: {local.ADMIN_USER} / {password}\n"
                      f"warehouse: {settings.warehouse_url}\nlogs: {home / 'logs'}\nCtrl-C stops everything.",
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


@db_app.command("upgrade")
def db_upgrade(warehouse: Annotated[Optional[str], typer.Option(help="SQLAlchemy URL")] = None) -> None:
    """Apply the alembic migrations (upgrade to head) on the configured warehouse."""
    from models.warehouse import connect, upgrade

    settings = load_settings(warehouse)
    with _expected_errors(settings):
        engine = connect(settings.warehouse_url)
        upgrade(engine)
        err.print(f"warehouse at head: {engine.url.render_as_string(hide_password=True)}")


@clusters_app.command("refresh")
def clusters_refresh(
    since: Annotated[Optional[str], typer.Option(help="Articles published from: YYYY-MM-DD (UTC midnight) or ISO time")] = None,
    until: UntilOpt = None, warehouse: WarehouseOpt = None, as_json: JsonOpt = False,
) -> None:
    """Recompute near-duplicate clusters (wire copies, reposts) of the articles published in the window
    (all articles without one); unchanged clusters are left as they are."""
    from models.syndication import refresh_clusters
    from models.warehouse import connect

    settings = load_settings(warehouse)
    with _expected_errors(settings):
        window = Window(parse_bound(since), parse_bound(until))
        engine = connect(settings.warehouse_url)
        counts = refresh_clusters(engine, window.since, window.until)
        engine.dispose()
        if as_json:
            print(json.dumps(counts))
        else:
            table = Table(title="Syndication clusters")
            for key in counts:
                table.add_column(key, justify="right")
            table.add_row(*(str(value) for value in counts.values()))
            out.print(table)


@app.command()
def demo() -> None:
    """Serve the fixture outlets on loopback, run the whole pipeline into the default warehouse, summarise."""
    from newsetl.demo import run_demo

    settings = load_settings()
    with _expected_errors(settings):
        run_demo(settings, out, err)


def main() -> None:  # pragma: no cover - console entry point
    app()


if __name__ == "__main__":  # pragma: no cover
    os.environ.setdefault("PYTHONUTF8", "1")
    app()
