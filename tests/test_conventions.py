"""The ecosystem's own tools work from the project root: Scrapy (scrapy.cfg → scrapers.settings)
and alembic (alembic.ini), beside the ``newsetl db`` commands."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from kernel.registry import get_outlet
from sandbox.fixture_sites import load_site
from tests.support import newsetl

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
SITE = load_site("slobodenpecat")


def _tool(name: str, *args: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN / name), *args], cwd=ROOT, capture_output=True, text=True, timeout=300,
                          env={**os.environ, **env})


def test_scrapy_lists_the_spider_from_the_project_root(data_dir):
    result = _tool("scrapy", "list", env={})
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split() == ["outlet"]


def test_scrapy_crawl_stages_the_window_with_the_pipelines_settings(data_dir, replay):
    """``scrapy crawl`` in replay mode: the articles of one day, and only those, staged under the data directory."""
    tz = get_outlet("slobodenpecat").tz
    day = max(article.published for article in SITE.articles).astimezone(tz).date()
    expected = {a.url for a in SITE.articles if a.published.astimezone(tz).date() == day}
    result = _tool("scrapy", "crawl", "outlet", "-a", "outlet=slobodenpecat", "-a", f"since={day.isoformat()}",
                   "-a", f"until={(day + timedelta(days=1)).isoformat()}", env={})
    assert result.returncode == 0, result.stderr[-3000:]
    (run_dir,) = (data_dir / "runs" / "slobodenpecat").iterdir()
    pages = [json.loads(line) for line in (run_dir / "pages.jsonl").read_text(encoding="utf-8").splitlines()]
    assert expected and {page["url"] for page in pages} == expected
    assert (run_dir / "archive.warc.gz").stat().st_size > 0 and (run_dir / "fetch_log.jsonl").exists()


def test_alembic_and_newsetl_db_move_the_schema_both_ways(warehouse_url, data_dir):
    env = {"NEWSETL_WAREHOUSE_URL": warehouse_url}
    assert _tool("alembic", "upgrade", "head", env=env).returncode == 0
    current = _tool("alembic", "current", env=env)
    assert current.returncode == 0 and "0012 (head)" in current.stdout
    down = _tool("alembic", "downgrade", "-1", env=env)
    assert down.returncode == 0, down.stderr[-2000:]
    assert newsetl("db", "current", env=env).stdout.strip() == "0011 (head is 0012)"
    assert newsetl("db", "downgrade", "0008", env=env).returncode == 0
    assert _tool("alembic", "current", env=env).stdout.split()[:1] == ["0008"]
    refused = newsetl("db", "downgrade", "nosuch", env=env)
    assert refused.returncode == 1 and "cannot downgrade to 'nosuch'" in refused.stderr
    assert newsetl("db", "upgrade", env=env).returncode == 0
    assert newsetl("db", "current", env=env).stdout.strip() == "0012 (head)"


@pytest.mark.parametrize("command", [["db", "current"], ["db", "downgrade", "0010"]])
def test_newsetl_db_says_when_the_warehouse_cannot_be_reached(command, data_dir):
    result = newsetl(*command, "--warehouse", "postgresql://nobody@127.0.0.1:1/x")
    assert result.returncode == 1 and "error: cannot reach warehouse" in result.stderr
