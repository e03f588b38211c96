"""The pipeline, stage by stage: crawl → extract/transform → load.

``run_outlet`` chains the stages in one call (the CLI); the Airflow DAG calls the same stage
functions as separate tasks, passing a ``RunPlan`` (paths and ids, never article data).
Each stage leaves a small JSON summary in the run directory; the load stage sums them into the
run's row in the warehouse.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from models.warehouse import (
    archived_articles,
    connect,
    finish_run,
    known_articles,
    load_articles,
    start_run,
    upgrade,
)
from newsetl.registry import get_outlet
from newsetl.settings import Settings, load_settings
from newsetl.window import Window
from scrapers.archive import read_fetch_log, read_warc_html
from scrapers.crawl import CrawlFailed, crawl
from transforms.extract import extract
from transforms.normalize import to_article
from transforms.stage import read_articles, transform_run

CRAWL_SUMMARY = "crawl_summary.json"
TRANSFORM_SUMMARY = "transform_summary.json"
log = logging.getLogger(__name__)
Progress = Callable[[str, int, int | None], None]  # (stage, done, total or None)


@dataclass(frozen=True)
class RunPlan:
    outlet: str
    run_id: str
    run_dir: str
    since: str | None
    until: str | None
    warehouse_url: str
    data_dir: str

    @property
    def archive_prefix(self) -> str:
        """The run directory relative to the data directory: where lineage points."""
        return f"{Path(self.run_dir).relative_to(self.data_dir).as_posix()}/"

    @property
    def window(self) -> Window:
        return Window(*(datetime.fromisoformat(v) if v else None for v in (self.since, self.until)))

    @property
    def path(self) -> Path:
        return Path(self.run_dir)

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class RunSummary:
    outlet: str
    run_id: str
    since: str | None
    until: str | None
    pages_fetched: int
    article_pages_fetched: int
    articles_new: int
    articles_updated: int
    articles_unchanged: int
    dropped: dict[str, int]
    errors: int

    def to_dict(self) -> dict:
        return asdict(self)


def new_run_id(outlet_id: str) -> str:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    return f"{outlet_id}-{stamp}-{secrets.token_hex(2)}"


def safe_run_id(text: str) -> str:
    """Airflow run ids contain ':' and '+'; keep run ids usable as directory names."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text)


def plan_run(outlet_id: str, window: Window, settings: Settings, run_id: str | None = None) -> RunPlan:
    """Check the outlet and the warehouse, bring the schema to head, and record the run's start."""
    outlet = get_outlet(outlet_id)
    engine = connect(settings.warehouse_url)
    try:
        upgrade(engine)
        run_id = safe_run_id(run_id or new_run_id(outlet_id))
        start_run(engine, run_id, outlet, window)
    finally:
        engine.dispose()
    run_dir = settings.runs_dir / outlet_id / run_id
    run_dir.mkdir(parents=True, exist_ok=True)
    return RunPlan(outlet_id, run_id, str(run_dir),
                   window.since.isoformat() if window.since else None,
                   window.until.isoformat() if window.until else None,
                   settings.warehouse_url, str(settings.data_dir))


def _write_summary(plan: RunPlan, name: str, summary: dict) -> dict:
    (plan.path / name).write_text(json.dumps(summary, indent=1, sort_keys=True))
    return summary


def crawl_stage(plan: RunPlan, settings: Settings, progress: Progress | None = None) -> dict:
    engine = connect(plan.warehouse_url)
    try:
        known = known_articles(engine, plan.outlet)  # crawl state lives in the warehouse
    finally:
        engine.dispose()
    result = crawl(plan.outlet, plan.window, plan.run_id, plan.path, settings,
                   on_progress=(lambda n: progress("crawl", n, None)) if progress else None, known=known)
    return _write_summary(plan, CRAWL_SUMMARY, {
        "pages_fetched": result.pages_fetched,
        "article_pages_fetched": result.article_pages_fetched,
        "dropped": result.dropped,
        "errors": result.failed_requests,
        "unchanged_not_fetched": result.unchanged_not_fetched,
    })


def check_crawl(crawled: dict, max_error_rate: float) -> dict:
    """Fail a crawl whose share of failed requests passes ``max_error_rate`` (a crawl with no
    successful response at all has failed already); return the summary with its error rate."""
    requests = crawled["pages_fetched"] + crawled["errors"]
    rate = crawled["errors"] / requests if requests else 1.0
    if rate > max_error_rate:
        raise CrawlFailed(f"{crawled['errors']} of {requests} requests failed: error rate {rate:.0%} passes the "
                          f"threshold {max_error_rate:.0%} (NEWSETL_MAX_ERROR_RATE)")
    return {**crawled, "error_rate": round(rate, 4)}


def transform_stage(plan: RunPlan, progress: Progress | None = None) -> dict:
    result = transform_run(plan.path, plan.outlet, plan.window,
                           on_progress=(lambda done, total: progress("extract", done, total)) if progress else None,
                           archive_prefix=plan.archive_prefix)
    return _write_summary(plan, TRANSFORM_SUMMARY, result.summary())


def load_stage(plan: RunPlan) -> RunSummary:
    crawled = json.loads((plan.path / CRAWL_SUMMARY).read_text())
    transformed = json.loads((plan.path / TRANSFORM_SUMMARY).read_text())
    engine = connect(plan.warehouse_url)
    try:
        loaded = load_articles(engine, read_articles(plan.path), plan.run_id, read_fetch_log(plan.path))
        dropped = Counter(crawled["dropped"]) + Counter(transformed["dropped"])
        summary = RunSummary(
            outlet=plan.outlet, run_id=plan.run_id, since=plan.since, until=plan.until,
            pages_fetched=crawled["pages_fetched"], article_pages_fetched=crawled["article_pages_fetched"],
            articles_new=loaded.new, articles_updated=loaded.updated,
            articles_unchanged=loaded.unchanged + crawled["unchanged_not_fetched"],
            dropped=dict(sorted(dropped.items())), errors=crawled["errors"],
        )
        counts = {key: value for key, value in summary.to_dict().items()
                  if key not in ("outlet", "run_id", "since", "until")}
        finish_run(engine, plan.run_id, "success", **counts)
    finally:
        engine.dispose()
    return summary


def fail_run(plan: RunPlan, error: BaseException) -> None:
    """Mark the run failed in the warehouse; never raises (it runs while handling another error)."""
    try:
        engine = connect(plan.warehouse_url)
        try:
            finish_run(engine, plan.run_id, "failed", error_message=f"{type(error).__name__}: {error}")
        finally:
            engine.dispose()
    except Exception:  # noqa: BLE001 — the original error is the one to report
        pass


def run_outlet(outlet_id: str, window: Window, settings: Settings | None = None,
               progress: Progress | None = None, run_id: str | None = None) -> RunSummary:
    settings = settings or load_settings()
    plan = plan_run(outlet_id, window, settings, run_id)
    try:
        crawl_stage(plan, settings, progress)
        transform_stage(plan, progress)
        return load_stage(plan)
    except BaseException as exc:
        fail_run(plan, exc)
        raise


def reextract_outlet(outlet_id: str, window: Window, settings: Settings | None = None,
                     progress: Progress | None = None, urls: list[str] | None = None) -> RunSummary:
    """Extract the stored articles of ``window`` (only those with one of the canonical ``urls`` when
    given) again from the raw archive, without network.

    A version changes only where the current extractor's output differs; the re-extraction is
    recorded as a run of its own, so changed rows point at it.
    """
    settings = settings or load_settings()
    outlet = get_outlet(outlet_id)
    plan = plan_run(outlet_id, window, settings, f"reextract-{new_run_id(outlet_id)}")
    try:
        engine = connect(plan.warehouse_url)
        try:
            stored = archived_articles(engine, outlet_id, window, urls)
            articles, dropped = [], Counter()
            for done, row in enumerate(stored, start=1):
                try:
                    html = read_warc_html(settings.data_dir / row.warc_file, row.warc_offset)
                    extracted = extract(html, row.url, outlet)
                except (OSError, ValueError) as exc:  # a missing archive or a page that no longer extracts
                    log.warning("re-extract of %s failed: %s", row.url, exc)
                    dropped[getattr(exc, "reason", "archive-missing")] += 1
                    continue
                articles.append(to_article(extracted, outlet, edition=row.edition, run_id=plan.run_id,
                                           fetched_at=row.fetched_at, warc_file=row.warc_file,
                                           warc_offset=row.warc_offset))
                if progress:
                    progress("re-extract", done, len(stored))
            loaded = load_articles(engine, articles, plan.run_id)
            summary = RunSummary(outlet=outlet_id, run_id=plan.run_id, since=plan.since, until=plan.until,
                                 pages_fetched=0, article_pages_fetched=0, articles_new=loaded.new,
                                 articles_updated=loaded.updated, articles_unchanged=loaded.unchanged,
                                 dropped=dict(dropped), errors=sum(dropped.values()))
            finish_run(engine, plan.run_id, "success", articles_new=loaded.new, articles_updated=loaded.updated,
                       articles_unchanged=loaded.unchanged, dropped=dict(dropped), errors=summary.errors)
        finally:
            engine.dispose()
        return summary
    except BaseException as exc:
        fail_run(plan, exc)
        raise
