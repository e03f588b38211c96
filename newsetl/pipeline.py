"""The pipeline, stage by stage: crawl → extract/transform → load.

``run_outlet`` chains the stages in one call (the CLI); the Airflow DAG calls the same stage
functions as separate tasks, passing a ``RunPlan`` (paths and ids, never article data).
Each stage leaves a small JSON summary in the run directory; the load stage sums them into the
run's row in the warehouse. This module is the only place where the stages meet.
"""

from __future__ import annotations

import json
import logging
import shutil
from collections import Counter
from collections.abc import Callable
from functools import partial

from sqlalchemy import Engine

from kernel.records import Article, CrawlSummary, Drop, Lineage, RunPlan, RunSummary, TransformSummary
from kernel.registry import get_outlet
from kernel.rules import utc_now
from kernel.rundir import new_run_id, safe_run_id
from kernel.settings import Settings, load_settings
from kernel.storage import is_local, location_path, storage_errors, upload_files
from kernel.window import Window
from models.crawl_state import crawl_state
from models.warehouse import (
    archived_articles,
    connect,
    finish_run,
    learn_segments,
    load_articles,
    resume_run,
    run_row,
    start_run,
    upgrade,
)
from scrapers.archive import read_warc_response
from scrapers.crawl import CrawlFailed, crawl
from transforms.boilerplate import hash_paragraphs, without_segments
from transforms.stage import PageRef, transform_pages

log = logging.getLogger(__name__)
Progress = Callable[[str, int, int | None], None]  # (stage, done, total or None)


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
    plan = RunPlan(outlet_id, run_id, str(settings.runs_dir / outlet_id / run_id),
                   window.since.isoformat() if window.since else None,
                   window.until.isoformat() if window.until else None,
                   settings.warehouse_url, settings.run_store)
    plan.files.create()
    return plan


def crawl_stage(plan: RunPlan, settings: Settings, progress: Progress | None = None) -> dict:
    engine = connect(plan.warehouse_url)
    try:
        state = crawl_state(engine, plan.outlet)  # crawl state lives in the warehouse
    finally:
        engine.dispose()
    # Scrapy writes to local files: with remote run storage the crawl runs in the work directory
    # and its files are uploaded when it ends (also when it fails: the log says why).
    local_dir = plan.path if is_local(plan.path) else settings.data_dir / "crawls" / plan.outlet / plan.run_id
    with storage_errors(plan.data_dir):
        try:
            summary = crawl(plan.outlet, plan.window, plan.run_id, local_dir, settings,
                            on_progress=(lambda n: progress("crawl", n, None)) if progress else None, state=state)
        finally:
            if local_dir != plan.path and local_dir.is_dir():
                sent = upload_files(local_dir, plan.path)
                log.info("uploaded the crawl of %s to %s (%d bytes)", plan.run_id, plan.run_dir, sent)
                shutil.rmtree(local_dir)
        return plan.files.write_summary(plan.files.crawl_summary, summary.to_dict())  # last: the crawl is complete


def check_crawl(crawled: dict, max_error_rate: float) -> dict:
    """Fail a crawl whose share of failed requests passes ``max_error_rate`` (a crawl with no
    successful response at all has failed already); return the summary with its error rate."""
    requests = crawled["pages_fetched"] + crawled["errors"]
    rate = crawled["errors"] / requests if requests else 1.0
    if rate > max_error_rate:
        reasons = Counter(crawled.get("dropped", {}))
        blocked = reasons["blocked"] > crawled["errors"] / 2
        top = ", ".join(f"{reason} {count}" for reason, count in reasons.most_common(3))
        raise CrawlFailed(f"{crawled['errors']} of {requests} requests failed: error rate {rate:.0%} passes the "
                          f"threshold {max_error_rate:.0%} (NEWSETL_MAX_ERROR_RATE)" + (f"; pages dropped: {top}" if top else "")
                          + ("; most were blocked (401, 403 or a bot challenge): the site is blocking the crawler"
                             if blocked else ""))
    return {**crawled, "error_rate": round(rate, 4)}


def read_archived_page(data_dir: str, page: PageRef) -> tuple[bytes, dict[str, str]]:
    """A page's bytes and headers from the raw archive its lineage points at (under the run storage
    ``data_dir``, a path or a URL: one record is read, not the archive)."""
    with storage_errors(data_dir):
        body, content_type = read_warc_response(location_path(data_dir) / page.lineage.warc_file,
                                                page.lineage.warc_offset)
    return body, ({"Content-Type": content_type} if content_type else {})


def without_learned_boilerplate(engine: Engine, articles: list[Article]) -> list[Article]:
    """The transform's last step: learn the articles' recurring paragraphs in the warehouse, then
    remove every segment active for the outlet (learned in enough articles, or confirmed) from them."""
    if not articles:
        return articles
    taken = {article.canonical_url: hash_paragraphs(article) for article in articles}  # the last one per URL
    active = learn_segments(engine, list({a.canonical_url: a for a in articles}.values()),
                            {url: candidates for url, (_, _, candidates, _) in taken.items()})
    return [without_segments(article, active[article.outlet], taken[article.canonical_url]) for article in articles]


def _transform(plan: RunPlan, pages: list[PageRef], window: Window | None, progress: Progress | None,
               label: str, workers: int | None = None) -> tuple[list[Article], list[dict]]:
    """The pages through the one path to an article: the articles, and each drop with its URL."""
    articles, drops = [], []
    outcomes = transform_pages(pages, plan.outlet, partial(read_archived_page, plan.data_dir), window, workers)
    for done, (page, outcome) in enumerate(outcomes, start=1):
        if isinstance(outcome, Drop):
            article = getattr(outcome, "article", None)
            published = article.published_at.isoformat() if article and article.published_at else None
            drops.append({"url": page.url, "reason": outcome.reason, "detail": outcome.detail, "published": published})
        else:
            articles.append(outcome)
        if progress:
            progress(label, done, len(pages))
    return articles, drops


def with_drop_reasons(fetches: list[dict], drops: list[dict]) -> list[dict]:
    """The fetch log with each transform drop's reason on its page's row: every URL that gave no
    article says why in ``fetch_log`` (a page whose row is not found gets a row of its own)."""
    fetches = [dict(fetch) for fetch in fetches]
    rows = {fetch["url"]: fetch for fetch in fetches if fetch["kind"] == "article" and not fetch.get("reason")}
    for drop in drops:
        # A redirected page has a row for the URL it was listed under and one for where it ended.
        found = [row for url in dict.fromkeys([drop["url"], drop.get("final_url") or drop["url"]])
                 if (row := rows.pop(url, None))]
        if not found:
            found = [{"url": drop["url"], "kind": "article", "status": None, "bytes": None, "elapsed_ms": None,
                      "fetched_at": utc_now().isoformat()}]
            fetches.extend(found)
        for row in found:
            row.update(reason=drop["reason"], detail=drop["detail"])
    return fetches


def transform_stage(plan: RunPlan, progress: Progress | None = None, workers: int | None = None) -> dict:
    """Extract and transform the run's staged pages into ``articles.jsonl``: what the load loads."""
    with storage_errors(plan.data_dir):
        staged = plan.files.read_pages()
        pages = [PageRef(page.url, Lineage(page.run_id, page.fetched_at, page.edition,
                                           f"{plan.archive_prefix}{page.warc_file}", page.warc_offset), page.known)
                 for page in staged]
        articles, drops = _transform(plan, pages, plan.window, progress, "extract", workers)
        final_urls = {page.url: page.final_url for page in staged if page.final_url != page.url}
        drops = [{**drop, "final_url": final_urls[drop["url"]]} if drop["url"] in final_urls else drop for drop in drops]
        engine = connect(plan.warehouse_url)
        try:
            articles = without_learned_boilerplate(engine, articles)
        finally:
            engine.dispose()
        with plan.files.articles.open("w", encoding="utf-8") as out:
            for article in articles:
                out.write(article.to_json_line() + "\n")
        with plan.files.drops.open("w", encoding="utf-8") as out:
            for drop in drops:
                out.write(json.dumps(drop, ensure_ascii=False) + "\n")
        summary = TransformSummary(articles=len(articles), dropped=dict(Counter(drop["reason"] for drop in drops)))
        log.info("transformed %s: %s", plan.path, summary)
        return plan.files.write_summary(plan.files.transform_summary, summary.to_dict())


def load_stage(plan: RunPlan) -> RunSummary:
    files = plan.files
    with storage_errors(plan.data_dir):
        crawled = CrawlSummary(**files.read_summary(files.crawl_summary))
        transformed = TransformSummary(**files.read_summary(files.transform_summary))
        drops = files.read_drops()
        articles, fetches = files.read_articles(), with_drop_reasons(files.read_fetch_log(), drops)
        sources = json.loads(files.sources.read_text()) if files.sources.exists() else {}
    engine = connect(plan.warehouse_url)
    try:
        loaded = load_articles(engine, articles, plan.run_id, fetches, drops=drops, sources=sources)
        dropped = Counter(crawled.dropped) + Counter(transformed.dropped)
        summary = RunSummary(
            outlet=plan.outlet, run_id=plan.run_id, since=plan.since, until=plan.until,
            pages_fetched=crawled.pages_fetched, article_pages_fetched=crawled.article_pages_fetched,
            articles_new=loaded.new, articles_updated=loaded.updated,
            articles_unchanged=loaded.unchanged + crawled.unchanged_not_fetched,
            dropped=dict(sorted(dropped.items())), errors=crawled.errors,
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


class CannotResume(ValueError):
    """The run cannot be resumed; the message says why."""


def resume(run_id: str, settings: Settings | None = None, progress: Progress | None = None) -> RunSummary:
    """Finish a failed or interrupted run under its own id: the stages it has no summary of run
    again (a crawl from the start, in its own directory), then the load, which skips what the
    earlier attempt committed. The warehouse ends as if the run had not been interrupted."""
    settings = settings or load_settings()
    engine = connect(settings.warehouse_url)
    try:
        row = run_row(engine, run_id)
        if row is None:
            raise CannotResume(f"no run {run_id!r} in the warehouse (crawl_runs)")
        if row.status == "success":
            raise CannotResume(f"run {run_id} finished already: nothing to resume")
        if run_id.startswith("reextract-"):
            raise CannotResume(f"run {run_id} is a re-extraction: run `newsetl reextract` again instead")
        resume_run(engine, run_id)
    finally:
        engine.dispose()
    plan = RunPlan(row.outlet_id, run_id, str(settings.runs_dir / row.outlet_id / run_id),
                   row.since.isoformat() if row.since else None, row.until.isoformat() if row.until else None,
                   settings.warehouse_url, settings.run_store)
    try:
        with storage_errors(plan.data_dir):
            crawled, transformed = plan.files.crawl_summary.exists(), plan.files.transform_summary.exists()
        if not crawled:
            if transformed:
                with storage_errors(plan.data_dir):
                    plan.files.transform_summary.unlink()  # a new crawl needs a new transform
            crawl_stage(plan, settings, progress)
        if not crawled or not transformed:
            transform_stage(plan, progress)
        return load_stage(plan)
    except BaseException as exc:
        fail_run(plan, exc)
        raise


def reextract_outlet(outlet_id: str, window: Window, settings: Settings | None = None,
                     progress: Progress | None = None, urls: list[str] | None = None) -> RunSummary:
    """Extract the stored articles of ``window`` (only those with one of the canonical ``urls`` when
    given) again from the raw archive, without network, on the run's own path to an article.

    A version changes only where the current extractor's output differs; the re-extraction is
    recorded as a run of its own, so changed rows point at it.
    """
    settings = settings or load_settings()
    plan = plan_run(outlet_id, window, settings, f"reextract-{new_run_id(outlet_id)}")
    try:
        engine = connect(plan.warehouse_url)
        try:
            stored = archived_articles(engine, outlet_id, window, urls)
            pages = [PageRef(row.url, Lineage(plan.run_id, row.fetched_at, row.edition, row.warc_file,
                                              row.warc_offset), known=True) for row in stored]
            articles, drops = _transform(plan, pages, None, progress, "re-extract")
            dropped = Counter(drop["reason"] for drop in drops)
            loaded = load_articles(engine, without_learned_boilerplate(engine, articles), plan.run_id)
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
