"""Terminal output shared by the commands: stage progress bars and the run summary table."""

from __future__ import annotations

from contextlib import contextmanager

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table


@contextmanager
def stage_progress(console: Console):
    """A rich progress display fed by the pipeline's (stage, done, total) callbacks."""
    if not console.is_terminal:
        yield None
        return
    columns = [SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn()]
    with Progress(*columns, console=console, transient=True) as bar:
        tasks: dict[str, int] = {}

        def update(stage: str, done: int, total: int | None) -> None:
            if stage not in tasks:
                label = {"crawl": "crawling (pages staged)", "extract": "extracting"}.get(stage, stage)
                tasks[stage] = bar.add_task(label, total=total)
            bar.update(tasks[stage], completed=done, total=total)

        yield update


def summary_table(summaries: list[dict]) -> Table:
    table = Table(title="Run summary")
    for column in ("outlet", "pages", "article pages", "new", "updated", "unchanged", "dropped", "errors"):
        table.add_column(column, justify="left" if column == "outlet" else "right")
    for s in summaries:
        dropped = ", ".join(f"{k} {v}" for k, v in s["dropped"].items()) or "-"
        table.add_row(s["outlet"], str(s["pages_fetched"]), str(s["article_pages_fetched"]), str(s["articles_new"]),
                      str(s["articles_updated"]), str(s["articles_unchanged"]), dropped, str(s["errors"]))
    return table
