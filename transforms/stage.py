"""The extract + transform stage over many pages: each page through ``page_to_article``, in order,
spread over worker processes for large batches, and a second page of one canonical URL dropped as
a duplicate. Where a page's bytes come from (a run's WARC archive) is the caller's ``read``."""

from __future__ import annotations

import contextlib
import multiprocessing
import os
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

from kernel.records import Article, Drop, Lineage
from kernel.registry import get_outlet
from kernel.storage import StorageError
from kernel.window import Window
from transforms.article import page_to_article

PARALLEL_FROM = 64  # pages; below this, starting worker processes costs more than it saves


@dataclass(frozen=True)
class PageRef:
    """A page to transform: its URL, its lineage (where its bytes are archived) and whether the
    warehouse holds it already."""

    url: str
    lineage: Lineage
    known: bool = False


# (body, HTTP headers) of a page; a picklable callable when pages are spread over processes
PageReader = Callable[[PageRef], tuple[bytes, Mapping[str, str]]]


def transform_pages(pages: list[PageRef], outlet_id: str, read: PageReader, window: Window | None = None,
                    workers: int | None = None) -> Iterator[tuple[PageRef, Article | Drop]]:
    """Each page with its article or drop, in the order given; the output is the same whether or
    not the batch is spread over ``workers`` processes (default: every core)."""
    workers = workers or os.cpu_count() or 1
    if multiprocessing.current_process().daemon:  # a Celery prefork worker's task: it may not start processes
        workers = 1
    jobs = [(page, outlet_id, read, window) for page in pages]
    seen: set[str] = set()
    with contextlib.ExitStack() as stack:
        if workers > 1 and len(pages) >= PARALLEL_FROM:
            # forkserver: workers start from a clean process, not a fork of one with threads running
            pool = stack.enter_context(ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("forkserver")))
            outcomes = pool.map(_transform_page, jobs, chunksize=8)
        else:
            outcomes = map(_transform_page, jobs)
        for page, outcome in zip(pages, outcomes, strict=True):
            if isinstance(outcome, Article):
                if outcome.canonical_url in seen:
                    outcome = Drop("duplicate", f"a page of this run already gave {outcome.canonical_url}")
                else:
                    seen.add(outcome.canonical_url)
            yield page, outcome


def _transform_page(job) -> Article | Drop:
    page, outlet_id, read, window = job
    try:
        body, headers = read(page)
    except StorageError:  # the store is down: no page's fault, the stage fails
        raise
    except (OSError, ValueError) as exc:  # the raw page is gone or unreadable
        return Drop("archive-missing", f"{type(exc).__name__}: {exc}")
    return page_to_article(body, page.url, get_outlet(outlet_id), page.lineage, headers=headers, window=window,
                           known=page.known)
