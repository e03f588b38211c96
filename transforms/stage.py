"""The extract + transform stage over one staged crawl run: pages.jsonl → articles.jsonl."""

from __future__ import annotations

import json
import logging
from collections import Counter
from collections.abc import Callable
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
log = logging.getLogger(__name__)


@dataclass
class TransformResult:
    articles: int = 0
    dropped: Counter = field(default_factory=Counter)

    def summary(self) -> dict:
        return {"articles": self.articles, "dropped": dict(self.dropped)}


def transform_run(
    run_dir: Path, outlet_id: str, window: Window, on_progress: Callable[[int, int], None] | None = None,
    archive_prefix: str = "",
) -> TransformResult:
    """Extract and transform every staged page; ``archive_prefix`` locates the run's WARC for lineage."""
    outlet = get_outlet(outlet_id)
    pages = read_pages(run_dir)
    result = TransformResult()
    seen: set[str] = set()
    with (run_dir / ARTICLES_FILE).open("w", encoding="utf-8") as out:
        for done, page in enumerate(pages, start=1):
            reason = _transform_one(page, run_dir, outlet, window, seen, out, archive_prefix)
            if reason:
                result.dropped[reason] += 1
            else:
                result.articles += 1
            if on_progress:
                on_progress(done, len(pages))
    log.info("transformed %s: %s", run_dir, result.summary())
    return result


def _transform_one(page, run_dir: Path, outlet, window: Window, seen: set[str], out, archive_prefix: str) -> str | None:
    """Write one article line; return the drop reason instead when the page is not kept."""
    try:
        extracted = extract(page.html(run_dir), page.url, outlet)
        article = to_article(extracted, outlet, edition=page.edition, run_id=page.run_id, fetched_at=page.fetched_at,
                             warc_file=f"{archive_prefix}{page.warc_file}", warc_offset=page.warc_offset)
    except ExtractionError as exc:
        log.warning("dropped %s: %s (%s)", exc.reason, page.url, exc)
        return exc.reason
    except Exception:  # one bad page must not lose the rest of the run
        log.exception("dropped extract-failed: %s", page.url)
        return "extract-failed"
    if article.published_at and not window.contains(article.published_at) and not page.known:
        return "out-of-window"
    if article.word_count < MIN_WORDS:
        log.warning("dropped too-short: %s (%d words)", page.url, article.word_count)
        return "too-short"
    if article.canonical_url in seen:
        return "duplicate"
    seen.add(article.canonical_url)
    out.write(json.dumps(article.to_json_dict(), ensure_ascii=False) + "\n")
    return None


def read_articles(run_dir: Path) -> list[Article]:
    with (run_dir / ARTICLES_FILE).open(encoding="utf-8") as lines:
        return [Article.from_json_dict(json.loads(line)) for line in lines if line.strip()]
