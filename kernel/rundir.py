"""The run directory: everything one run stages, under ``<data dir>/runs/<outlet>/<run id>/`` in run
storage (``kernel.storage``: a local directory or an object store).

| file | written by | read by |
|---|---|---|
| ``known.json`` | orchestration (the warehouse's crawl state) | spider |
| ``crawl_config.json`` | crawl (parent) | crawl (child process) |
| ``crawl.log``, ``crawl_stats.json`` | crawl (child process) | crawl (parent) |
| ``archive.warc.gz`` | crawl: every response, gzipped WARC records | extract (lineage points at it) |
| ``fetch_log.jsonl`` | crawl: every request's outcome | load (``fetch_log`` table) |
| ``sources.json`` | crawl: per declared source, documents read, failures, URLs listed, new articles | load (``source_health``) |
| ``pages.jsonl`` | crawl: one ``RawPage`` per article response | extract/transform |
| ``articles.jsonl`` | transform: one ``Article`` per kept page, as it lands in the warehouse | load |
| ``drops.jsonl`` | transform: URL, reason and detail of each page that became no article | load (``fetch_log``) |
| ``crawl_summary.json``, ``transform_summary.json`` | each stage's counts | load (the run's row) |
"""

from __future__ import annotations

import json
import re
import secrets
from dataclasses import dataclass
from pathlib import Path

from kernel.records import Article, RawPage
from kernel.rules import utc_now


def new_run_id(outlet_id: str) -> str:
    stamp = utc_now().strftime("%Y%m%dT%H%M%SZ")
    return f"{outlet_id}-{stamp}-{secrets.token_hex(2)}"


def safe_run_id(text: str) -> str:
    """Airflow run ids contain ':' and '+'; keep run ids usable as directory names."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text)


@dataclass(frozen=True)
class RunDir:
    path: Path  # or a remote UPath: every file is read and written through the path's own methods

    known = property(lambda self: self.path / "known.json")
    crawl_config = property(lambda self: self.path / "crawl_config.json")
    crawl_log = property(lambda self: self.path / "crawl.log")
    crawl_stats = property(lambda self: self.path / "crawl_stats.json")
    warc = property(lambda self: self.path / self.WARC_NAME)
    fetch_log = property(lambda self: self.path / "fetch_log.jsonl")
    pages = property(lambda self: self.path / "pages.jsonl")
    articles = property(lambda self: self.path / "articles.jsonl")
    drops = property(lambda self: self.path / "drops.jsonl")
    sources = property(lambda self: self.path / "sources.json")
    crawl_summary = property(lambda self: self.path / "crawl_summary.json")
    transform_summary = property(lambda self: self.path / "transform_summary.json")

    WARC_NAME = "archive.warc.gz"  # RawPage.warc_file names it relative to the run directory

    def create(self) -> RunDir:
        from kernel.storage import is_local

        if is_local(self.path):  # an object store has no directories
            self.path.mkdir(parents=True, exist_ok=True)
        return self

    def read_pages(self) -> list[RawPage]:
        return [RawPage.from_json(line) for line in _lines(self.pages)]

    def read_articles(self) -> list[Article]:
        return [Article.from_json_dict(json.loads(line)) for line in _lines(self.articles, required=True)]

    def read_fetch_log(self) -> list[dict]:
        return [json.loads(line) for line in _lines(self.fetch_log)]

    def read_drops(self) -> list[dict]:
        return [json.loads(line) for line in _lines(self.drops)]

    def write_summary(self, path: Path, summary: dict) -> dict:
        path.write_text(json.dumps(summary, indent=1, sort_keys=True))
        return summary

    def read_summary(self, path: Path) -> dict:
        return json.loads(path.read_text())


def _lines(path: Path, required: bool = False) -> list[str]:
    """The non-blank lines of a JSON-lines file; a missing one has none unless it is ``required``
    (a load without its transform's output is an error, not an empty success)."""
    if not required and not path.exists():
        return []
    with path.open(encoding="utf-8") as lines:
        return [line for line in lines if line.strip()]
