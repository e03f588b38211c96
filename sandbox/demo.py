"""``newsetl demo``: the whole pipeline, offline, on the bundled fixture outlets."""

from __future__ import annotations

import os
from pathlib import Path

from rich.console import Console
from rich.table import Table
from sqlalchemy import text

from kernel.registry import load_registry
from kernel.settings import Settings, load_settings, masked_url
from kernel.window import Window
from models.syndication import refresh_clusters
from models.warehouse import connect
from newsetl.display import stage_progress, summary_table

EXAMPLE_QUERY = """\
SELECT o.name AS outlet, a.language, COUNT(*) AS articles,
       MIN(a.published_at) AS first_published, MAX(a.published_at) AS last_published
FROM articles a JOIN outlets o ON o.id = a.outlet_id
GROUP BY o.name, a.language
ORDER BY o.name, a.language"""

LATEST_QUERY = """\
SELECT a.language, a.published_at, a.title, a.word_count AS words
FROM articles a ORDER BY a.published_at DESC LIMIT 6"""


def fixture_outlets() -> list[str]:
    fixtures = Path(__file__).with_name("fixture_sites")
    return [outlet_id for outlet_id in load_registry() if (fixtures / outlet_id / "site.json").exists()]


def _query_table(settings: Settings, sql: str) -> Table:
    engine = connect(settings.warehouse_url)
    try:
        with engine.connect() as connection:
            result = connection.execute(text(sql))
            table = Table(*result.keys())
            for row in result:
                table.add_row(*(str(value) for value in row))
    finally:
        engine.dispose()
    return table


def run_demo(settings: Settings, out: Console, err: Console) -> None:
    from newsetl.pipeline import run_outlet
    from sandbox.fixture_sites.server import serve

    with serve() as server:
        os.environ["NEWSETL_REPLAY_URL"] = server.url  # also seen by the crawl subprocess
        settings = load_settings(settings.warehouse_url)
        err.print(f"fixture outlets served on {server.url}", highlight=False)
        err.print(f"warehouse: {masked_url(settings.warehouse_url)}", highlight=False, soft_wrap=True)
        summaries = []
        for outlet_id in fixture_outlets():
            with stage_progress(err) as progress:
                summaries.append(run_outlet(outlet_id, Window(), settings, progress).to_dict())
    engine = connect(settings.warehouse_url)
    try:  # what the downstream DAG does after the loads
        clusters = refresh_clusters(engine)
    finally:
        engine.dispose()
    out.print(summary_table(summaries))
    out.print(f"syndication clusters: {clusters['clusters']} (of {clusters['articles']} articles compared)")
    out.print(_query_table(settings, LATEST_QUERY))
    out.print(f"\nQuery the warehouse yourself ({masked_url(settings.warehouse_url)}), for example:\n", soft_wrap=True)
    out.print(EXAMPLE_QUERY + ";\n", highlight=False, soft_wrap=True)
    out.print(_query_table(settings, EXAMPLE_QUERY))
