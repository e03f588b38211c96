"""The ``newsetl`` command: the human and script interface to the pipeline."""

from __future__ import annotations

import gzip
import json
import os
import sys
from contextlib import contextmanager
from importlib.metadata import entry_points
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.table import Table

from kernel.registry import get_outlet, load_registry, outlet_for_url
from kernel.rules import utc_now
from kernel.window import Window, parse_bound
from newsetl.console import (
    JsonOpt,
    OutletArg,
    SinceOpt,
    UntilOpt,
    WarehouseOpt,
    err,
    expected_errors,
    log,
    out,
    settings_or_exit,
)
from newsetl.display import stage_progress, summary_table

app = typer.Typer(help="news-etl: crawl news outlets into a SQL warehouse.", no_args_is_help=True,
                  pretty_exceptions_enable=False, add_completion=False)
db_app = typer.Typer(help="Warehouse schema commands.", no_args_is_help=True)
app.add_typer(db_app, name="db")
clusters_app = typer.Typer(help="Near-duplicate / syndication clusters.", no_args_is_help=True)
app.add_typer(clusters_app, name="clusters")
def _window(outlet_id: str, since: str | None, until: str | None) -> Window:
    tz = get_outlet(outlet_id).tz  # bare dates mean midnight at the outlet
    return Window(parse_bound(since, tz), parse_bound(until, tz))


def _run_and_report(job, outlet: str, since: str | None, until: str | None, warehouse: str | None,
                    as_json: bool) -> None:
    """Run ``job(outlet, window, settings, progress)`` with progress shown; print its summary."""
    settings = settings_or_exit(warehouse)
    with expected_errors(settings):
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
def resume(run_id: Annotated[str, typer.Argument(help="Run id of a failed or interrupted run (crawl_runs.run_id)")],
           warehouse: WarehouseOpt = None, as_json: JsonOpt = False) -> None:
    """Finish a failed or interrupted run under its own id: the stages it did not finish, then the load."""
    from newsetl.pipeline import resume as resume_run

    settings = settings_or_exit(warehouse)
    with expected_errors(settings):
        with stage_progress(err) as progress:
            summary = resume_run(run_id, settings, progress).to_dict()
        if as_json:
            print(json.dumps(summary, ensure_ascii=False))
        else:
            out.print(summary_table([summary]))


@app.command()
def outlets(as_json: Annotated[bool, typer.Option("--json", help="Print a JSON list")] = False) -> None:
    """List the outlet registry."""
    with expected_errors(settings_or_exit()):
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
    """Extract articles from saved pages; one JSON line per input on stdout.

    Each page takes the pipeline's own path to an article; one the pipeline would drop still shows
    what was extracted, with the reason under ``dropped``."""
    from kernel.records import Article, Drop, Lineage
    from transforms.article import page_to_article

    with expected_errors(settings_or_exit()):
        if not manifest.is_file():
            raise FileNotFoundError(f"manifest not found: {manifest}")
        entries = _read_manifest(manifest)
        fixed = get_outlet(outlet) if outlet else None
        for entry in entries:
            result = {"id": entry["id"], "url": entry["url"], "title": None, "body": None, "authors": [],
                      "published_at": None, "language": None, "language_confidence": None}
            source = fixed or outlet_for_url(entry["url"])
            lineage = Lineage(run_id="extract", fetched_at=utc_now(), edition=source.edition_of(entry["url"]).language)
            try:
                path = Path(entry["path"])
                path = path if path.is_absolute() else manifest.parent / path
                html = path.read_bytes()
                outcome = page_to_article(gzip.decompress(html) if path.suffix == ".gz" else html, entry["url"],
                                          source, lineage)
            except (OSError, gzip.BadGzipFile) as exc:
                outcome = Drop("unreadable", str(exc))
            article = outcome if isinstance(outcome, Article) else getattr(outcome, "article", None)
            if article is not None:
                result.update(title=article.title, body=article.body, authors=article.authors,
                              published_at=article.published_at.isoformat() if article.published_at else None,
                              language=article.language, language_confidence=article.language_confidence)
            if isinstance(outcome, Drop):
                log.warning("extract %s: dropped %s: %s", entry["id"], outcome.reason, outcome.detail)
                result["dropped"] = outcome.reason
                if article is None:
                    result["error"] = outcome.detail
            print(json.dumps(result, ensure_ascii=False), flush=True)


def _language_prior(prior: str | None, outlet_id: str | None, edition: str | None) -> str | None:
    """The language the texts are expected in: ``prior``, or the edition of ``outlet_id`` (its only one,
    or the one ``edition`` names), as the pipeline takes it from the edition a page came from."""
    if prior is not None:
        if outlet_id or edition:
            raise ValueError("give --prior or --outlet (with --edition), not both")
        if not (len(prior) == 2 and prior.isascii() and prior.isalpha() and prior.islower()):
            raise ValueError(f"--prior {prior!r}: an ISO 639-1 code, two lower-case letters (e.g. sr)")
        return prior
    if outlet_id is None:
        if edition:
            raise ValueError("--edition needs --outlet")
        return None
    languages = get_outlet(outlet_id).languages
    if edition is None and len(languages) == 1:
        return languages[0]
    if edition not in languages:
        raise ValueError(f"outlet {outlet_id!r} has the editions {', '.join(languages)}: choose one with --edition")
    return edition


@app.command()
def langid(
    prior: Annotated[Optional[str], typer.Option(help="Language the texts are expected in (ISO 639-1, e.g. sr)")] = None,
    outlet: Annotated[Optional[str], typer.Option(help="Take the expected language from this outlet's edition")] = None,
    edition: Annotated[Optional[str], typer.Option(help="Which edition of --outlet (needed when it has several)")] = None,
) -> None:
    """Read text lines on stdin; print LANG<TAB>CONFIDENCE for each.

    With an expected language (``--prior``, or ``--outlet``'s edition) it is favoured where a line's own
    evidence is weak, and names the standard of a Serbo-Croatian text (sr, hr, bs), as in the pipeline."""
    from transforms.language import detect_language

    with expected_errors(settings_or_exit()):
        expected = _language_prior(prior, outlet, edition)
    for line in sys.stdin:
        guess = detect_language(line, fallback=expected, prior=expected)
        print(f"{guess.language}\t{guess.confidence:.4f}", flush=True)


@contextmanager
def _warehouse(warehouse: str | None):
    """The configured warehouse's engine, for one command: its errors end as one line, it is disposed after."""
    from models.warehouse import connect

    settings = settings_or_exit(warehouse)
    with expected_errors(settings):
        engine = connect(settings.warehouse_url)
        try:
            yield engine
        finally:
            engine.dispose()


@db_app.command("upgrade")
def db_upgrade(warehouse: WarehouseOpt = None) -> None:
    """Apply the alembic migrations (upgrade to head) on the configured warehouse."""
    from models.warehouse import upgrade

    with _warehouse(warehouse) as engine:
        upgrade(engine)
        err.print(f"warehouse at head: {engine.url.render_as_string(hide_password=True)}")


@db_app.command("downgrade")
def db_downgrade(
    revision: Annotated[str, typer.Argument(
        help="Target revision: an id such as 0010, base, or -1 for one step (after --: `newsetl db downgrade -- -1`)")],
    warehouse: WarehouseOpt = None,
) -> None:
    """Undo migrations down to REVISION on the configured warehouse."""
    from alembic.script.revision import RevisionError
    from alembic.util import CommandError

    from models.warehouse import current_revision, downgrade

    with _warehouse(warehouse) as engine:
        try:
            downgrade(engine, revision)
        except (CommandError, RevisionError) as exc:  # an unknown revision, or one that is not below the current
            raise ValueError(f"cannot downgrade to {revision!r}: {exc}") from exc
        err.print(f"warehouse at {current_revision(engine) or 'base'}: "
                  f"{engine.url.render_as_string(hide_password=True)}")


@db_app.command("current")
def db_current(warehouse: WarehouseOpt = None) -> None:
    """Print the warehouse's schema revision (and whether it is the newest)."""
    from models.warehouse import current_revision, head_revision

    with _warehouse(warehouse) as engine:
        revision, head = current_revision(engine), head_revision()
        print(f"{revision or 'base'}{' (head)' if revision == head else f' (head is {head})'}")


@clusters_app.command("refresh")
def clusters_refresh(
    since: Annotated[Optional[str], typer.Option(help="Articles published from: YYYY-MM-DD (UTC midnight) or ISO time")] = None,
    until: UntilOpt = None, warehouse: WarehouseOpt = None, as_json: JsonOpt = False,
) -> None:
    """Recompute near-duplicate clusters (wire copies, reposts) of the articles published in the window
    (all articles without one); unchanged clusters are left as they are."""
    from models.syndication import refresh_clusters

    with _warehouse(warehouse) as engine:
        window = Window(parse_bound(since), parse_bound(until))
        counts = refresh_clusters(engine, window.since, window.until)
        if as_json:
            print(json.dumps(counts))
        else:
            table = Table(title="Syndication clusters")
            for key in counts:
                table.add_column(key, justify="right")
            table.add_row(*(str(value) for value in counts.values()))
            out.print(table)


def _add_plugin_commands() -> None:
    """Commands other installed distributions add (the sandbox's demo, serve-fixtures, airflow)."""
    for entry in entry_points(group="newsetl.commands"):
        app.command(entry.name)(entry.load())


_add_plugin_commands()


def main() -> None:  # pragma: no cover - console entry point
    app()


if __name__ == "__main__":  # pragma: no cover
    os.environ.setdefault("PYTHONUTF8", "1")
    app()
