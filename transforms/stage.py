"""The extract + transform stage over one staged crawl run: pages.jsonl → articles.jsonl."""

from __future__ import annotations

import contextlib
import json
import logging
import multiprocessing
import os
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from newsetl.registry import get_outlet
from newsetl.window import Window
from scrapers.raw_page import read_pages
from transforms.extract import ExtractionError, extract
from transforms.normalize import to_article
from transforms.records import Article

ARTICLES_FILE = "articles.jsonl"
MIN_WORDS = 30  # shorter bodies are teasers, galleries or error pages, not articles
PARALLEL_FROM = 64  # pages; below this, starting worker processes costs more than it saves
log = logging.getLogger(__name__)


@dataclass
class TransformResult:
    articles: int = 0
    dropped: Counter = field(default_factory=Counter)

    def summary(self) -> dict:
        return {"articles": self.articles, "dropped": dict(self.dropped)}


def transform_run(
    run_dir: Path, outlet_id: str, window: Window, on_progress: Callable[[int, int], None] | None = None,
    archive_prefix: str = "", workers: int | None = None,
) -> TransformResult:
    """Extract and transform every staged page; ``archive_prefix`` locates the run's WARC for lineage.

    Large runs are spread over ``workers`` processes (default: every core); the output is the same
    and in the same order either way.
    """
    pages = read_pages(run_dir)
    workers = workers or os.cpu_count() or 1
    jobs = [(page, run_dir, outlet_id, archive_prefix) for page in pages]
    result = TransformResult()
    seen: set[str] = set()
    with contextlib.ExitStack() as stack:
        if workers > 1 and len(pages) >= PARALLEL_FROM:
            # forkserver: workers start from a clean process, not a fork of one with threads running
            pool = stack.enter_context(ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("forkserver")))
            outcomes = pool.map(_transform_page, jobs, chunksize=8)
        else:
            outcomes = map(_transform_page, jobs)
        out = stack.enter_context((run_dir / ARTICLES_FILE).open("w", encoding="utf-8"))
        for done, (page, (article, reason)) in enumerate(zip(pages, outcomes, strict=True), start=1):
            reason = reason or _judge(article, page, window, seen)
            if reason:
                result.dropped[reason] += 1
            else:
                result.articles += 1
                out.write(json.dumps(article.to_json_dict(), ensure_ascii=False) + "\n")
            if on_progress:
                on_progress(done, len(pages))
    log.info("transformed %s: %s", run_dir, result.summary())
    return result


def _transform_page(job) -> tuple[Article | None, str | None]:
    """(article, None), or (None, drop reason) when the page cannot be made into an article."""
    page, run_dir, outlet_id, archive_prefix = job
    outlet = get_outlet(outlet_id)
    try:
        extracted = extract(page.html(run_dir), page.url, outlet)
        return to_article(extracted, outlet, edition=page.edition, run_id=page.run_id, fetched_at=page.fetched_at,
                          warc_file=f"{archive_prefix}{page.warc_file}", warc_offset=page.warc_offset), None
    except ExtractionError as exc:
        log.warning("dropped %s: %s (%s)", exc.reason, page.url, exc)
        return None, exc.reason
    except Exception:  # one bad page must not lose the rest of the run
        log.exception("dropped extract-failed: %s", page.url)
        return None, "extract-failed"


def _judge(article: Article, page, window: Window, seen: set[str]) -> str | None:
    """The drop reason for an extracted article, or None to keep it."""
    if article.published_at and not window.contains(article.published_at) and not page.known:
        return "out-of-window"
    if article.word_count < MIN_WORDS:
        log.warning("dropped too-short: %s (%d words)", page.url, article.word_count)
        return "too-short"
    if article.canonical_url in seen:
        return "duplicate"
    seen.add(article.canonical_url)
    return None


def read_articles(run_dir: Path) -> list[Article]:
    with (run_dir / ARTICLES_FILE).open(encoding="utf-8") as lines:
        return [Article.from_json_dict(json.loads(line)) for line in lines if line.strip()]
