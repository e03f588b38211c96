"""What every ``newsetl`` command shares: the consoles, the log file, one way to end on an expected
error, and the common options. Commands other distributions add (the sandbox's) use it too."""

from __future__ import annotations

import logging
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.markup import escape

from kernel.registry import RegistryError
from kernel.settings import Settings, load_settings
from models.warehouse import WarehouseError
from scrapers.crawl import CrawlFailed

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


def print_error(error: object) -> None:
    """One red ``error:`` line; the message is printed as it is (a pattern's ``[a-z]`` is not markup)."""
    err.print(f"[bold red]error:[/] {escape(str(error))}", highlight=False)


@contextmanager
def expected_errors(settings: Settings):
    """Expected failures end as one readable line (and the full story in the log), exit code 1."""
    log_path = _setup_logging(settings)
    try:
        yield
    except EXPECTED_FAILURES as exc:
        log.exception("command failed")
        print_error(exc)
        err.print(f"[dim]details: {log_path}[/]", highlight=False)
        raise typer.Exit(1) from None


def settings_or_exit(warehouse_url: str | None = None) -> Settings:
    """The settings; a malformed ``NEWSETL_*`` value ends the command as one readable line, exit code 1."""
    try:
        return load_settings(warehouse_url)
    except ValueError as exc:
        print_error(exc)
        raise typer.Exit(1) from None


OutletArg = Annotated[str, typer.Argument(help="Outlet id from `newsetl outlets`")]
SinceOpt = Annotated[Optional[str], typer.Option(help="Window start: YYYY-MM-DD (outlet's midnight) or ISO time")]
UntilOpt = Annotated[Optional[str], typer.Option(help="Window end (exclusive), same forms as --since")]
WarehouseOpt = Annotated[Optional[str], typer.Option(help="SQLAlchemy URL (default: NEWSETL_WAREHOUSE_URL)")]
JsonOpt = Annotated[bool, typer.Option("--json", help="End with one JSON summary line on stdout")]
