"""Crawl benchmark: the project's crawl against a bare Scrapy spider and a plain aiohttp loop.

    .venv/bin/python bench/crawl.py                  # 10,000 articles
    .venv/bin/python bench/crawl.py --articles 500   # quick check

All sides fetch the same site from the same loopback server (bench/synthetic_site.py, its own
process) with 32 requests in flight, and all discover the articles the same way: by walking the
paged listing, whose fetches count in the wall time but not in the pages/s numerator (article pages
only). The crawl side is ``scrapers.crawl.crawl`` as the pipeline calls it, so its time includes
starting the crawl process; the bare spider (bench/bare_scrapy.py) runs in its own process too. The
target is the crawl against the bare spider; the aiohttp loop is printed for scale. Ends with one
JSON line of all figures.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import re
import resource
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from importlib.metadata import version
from pathlib import Path
from urllib.parse import urlsplit

import aiohttp
import psutil
import synthetic_site as site  # bench/ is on sys.path when this file runs as a script

CONCURRENCY = 32  # what NEWSETL_POLITENESS=off gives the crawl
RATIO_TARGET = 0.8  # of the bare Scrapy spider's pages/s
MEMORY_TARGET_MIB = 1024
MIB = 1024 * 1024
BASELINE_RUNS = 3

_CARD_LINK = re.compile(r"<article class='card'><h2><a href='([^']+)'")
_NEXT_LINK = re.compile(r"<a class='next' rel='next' href='([^']+)'")


class PeakRss:
    """The largest summed RSS of some processes, sampled every 0.1 s from a thread."""

    def __init__(self, processes: Callable[[], list[psutil.Process]]):
        self.processes = processes
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def sample(self) -> None:
        total = 0
        for process in self.processes():
            try:
                total += process.memory_info().rss
            except psutil.Error:  # exited between listing and reading
                pass
        self.peak = max(self.peak, total)

    def _run(self) -> None:
        while not self._stop.wait(0.1):
            self.sample()

    def __enter__(self) -> PeakRss:
        self.sample()
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


@contextlib.contextmanager
def synthetic_site_served(articles: int, lifetime: float) -> Iterator[tuple[subprocess.Popen, str]]:
    """The synthetic outlet served by its own process: (the process, its base URL); stopped after."""
    server = subprocess.Popen(
        [sys.executable, str(Path(__file__).with_name("synthetic_site.py")),
         "--articles", str(articles), "--lifetime", str(lifetime)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )
    try:
        url = server.stdout.readline().strip()
        if not url.startswith("http://127.0.0.1:"):
            raise SystemExit(f"synthetic site did not start (said {url!r})")
        yield server, url
    finally:
        server.stdin.close()  # the server's cue to stop
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()


# -- baseline --------------------------------------------------------------------------------

async def _baseline(base_url: str, timeout: float) -> tuple[int, int]:
    """Walk the listing and fetch every article it names with 32 workers; (articles, bytes)."""
    queue: asyncio.Queue[str | None] = asyncio.Queue()
    fetched = [0, 0]
    headers = {"Host": site.DOMAIN, "User-Agent": "bench-baseline"}  # the server, like a real one, answers by Host
    connector = aiohttp.TCPConnector(limit=CONCURRENCY)
    async with aiohttp.ClientSession(base_url, connector=connector, headers=headers,
                                     timeout=aiohttp.ClientTimeout(total=30)) as session:
        async def get(path: str) -> bytes:
            async with session.get(path) as response:
                response.raise_for_status()
                return await response.read()

        async def discover() -> None:
            path = site.Site.listing_path(1)
            while path:
                html = (await get(path)).decode()
                for url in _CARD_LINK.findall(html):
                    queue.put_nowait(urlsplit(url).path)
                following = _NEXT_LINK.search(html)
                path = following.group(1) if following else None
            for _ in range(CONCURRENCY):
                queue.put_nowait(None)

        async def worker() -> None:
            while (path := await queue.get()) is not None:
                body = await get(path)  # awaited first: `+=` would read the total before the await
                fetched[0] += 1
                fetched[1] += len(body)

        await asyncio.wait_for(asyncio.gather(discover(), *(worker() for _ in range(CONCURRENCY))), timeout)
    return fetched[0], fetched[1]


def run_baseline(base_url: str, timeout: float) -> dict:
    """The median of BASELINE_RUNS runs by wall time (one run is short, so noisy); peak RSS over all."""
    runs = []
    with PeakRss(lambda: [psutil.Process()]) as rss:
        for _ in range(BASELINE_RUNS):
            start, cpu = time.perf_counter(), time.process_time()
            articles, size = asyncio.run(_baseline(base_url, timeout))
            runs.append((time.perf_counter() - start, time.process_time() - cpu, articles, size))
    seconds, cpu, articles, size = sorted(runs)[len(runs) // 2]
    return {"articles": articles, "seconds": seconds, "pages_per_s": articles / seconds, "cpu_seconds": cpu,
            "peak_rss_mib": rss.peak / MIB, "mean_article_kib": size / max(articles, 1) / 1024}


def run_bare_scrapy(base_url: str, timeout: float) -> dict:
    """The bare Scrapy spider in its own process, median of BASELINE_RUNS runs by wall time."""
    runs, peak = [], 0
    for _ in range(BASELINE_RUNS):
        start, cpu = time.perf_counter(), children_cpu()
        process = subprocess.Popen([sys.executable, str(Path(__file__).with_name("bare_scrapy.py")), base_url,
                                    "--concurrency", str(CONCURRENCY)], stdout=subprocess.PIPE, text=True)
        with PeakRss(lambda process=process: [psutil.Process(process.pid)] if process.poll() is None else []) as rss:
            try:
                output, _ = process.communicate(timeout=timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                raise TimeoutError(f"the bare Scrapy spider did not finish within {timeout:.0f} s") from None
        if process.returncode != 0:
            raise SystemExit(f"the bare Scrapy spider failed (exit {process.returncode})")
        seconds, cpu = time.perf_counter() - start, children_cpu() - cpu
        fetched = json.loads(output.strip().splitlines()[-1])
        runs.append((seconds, cpu, fetched["articles"]))
        peak = max(peak, rss.peak)
    seconds, cpu, articles = sorted(runs)[len(runs) // 2]
    return {"articles": articles, "seconds": seconds, "pages_per_s": articles / seconds, "cpu_seconds": cpu,
            "peak_rss_mib": peak / MIB}


def children_cpu() -> float:
    """CPU seconds of the child processes that have exited and been waited for."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


# -- the project's crawl ---------------------------------------------------------------------

def run_crawl(server_pid: int, timeout: float) -> dict:
    from kernel.settings import load_settings
    from kernel.window import Window
    from scrapers.crawl import CrawlFailed, crawl

    settings = load_settings()  # reads the NEWSETL_* variables set by main()
    run_id = "bench"
    progress: list[tuple[float, int]] = []  # (seconds since start, article pages staged)

    def crawl_processes() -> list[psutil.Process]:
        return [p for p in psutil.Process().children(recursive=True) if p.pid != server_pid]

    def kill_overdue() -> None:  # crawl() has no timeout of its own; it fails once its process dies
        for process in crawl_processes():
            try:
                process.kill()
            except psutil.Error:
                pass

    watchdog = threading.Timer(timeout, kill_overdue)
    watchdog.start()
    start, cpu = time.perf_counter(), children_cpu()
    try:
        with PeakRss(crawl_processes) as rss:
            result = crawl(site.OUTLET_ID, Window(), run_id, settings.runs_dir / run_id, settings,
                           on_progress=lambda n: progress.append((time.perf_counter() - start, n)))
            seconds, cpu = time.perf_counter() - start, children_cpu() - cpu  # crawl() waits for its process
    except CrawlFailed:
        if time.perf_counter() - start >= timeout:
            raise TimeoutError(f"the crawl did not finish within {timeout:.0f} s") from None
        raise
    finally:
        watchdog.cancel()
    articles = result.article_pages_fetched
    # From the first staged article to the last: the rate once the crawl process is up.
    first = next(((t, n) for t, n in progress if n > 0), (0.0, 0))
    last = next(((t, n) for t, n in progress if n == progress[-1][1]), (seconds, articles))
    steady = (last[1] - first[1]) / (last[0] - first[0]) if last[0] > first[0] else float("nan")
    run_dir = settings.runs_dir / run_id
    return {"articles": articles, "seconds": seconds, "pages_per_s": articles / seconds, "cpu_seconds": cpu,
            "peak_rss_mib": rss.peak / MIB, "pages_fetched": result.pages_fetched,
            "failed_requests": result.errors, "dropped": result.dropped,
            "first_article_s": first[0], "steady_pages_per_s": steady,
            "run_dir_mib": sum(f.stat().st_size for f in run_dir.rglob("*") if f.is_file()) / MIB}


# -- report ----------------------------------------------------------------------------------

def versions() -> dict:
    return {"python": platform.python_version(), "news-etl": version("news-etl"), "scrapy": version("scrapy"),
            "twisted": version("twisted"), "aiohttp": version("aiohttp"), "psutil": version("psutil"),
            "platform": platform.platform(), "cpus": os.cpu_count()}


def print_table(rows: list[tuple], first: int, cell: int) -> None:
    """Rows of a name and cells, after a blank line: names left-aligned, cells right-aligned."""
    print()
    for name, *cells in rows:
        print(f"{name:<{first}}" + "".join(f"{value!s:>{cell}}" for value in cells))


def report(articles: int, baseline: dict, bare: dict, crawled: dict) -> dict:
    ratio = crawled["pages_per_s"] / bare["pages_per_s"]
    aiohttp_ratio = crawled["pages_per_s"] / baseline["pages_per_s"]

    def cpu_ms(side: dict) -> float:
        return round(1000 * side["cpu_seconds"] / max(side["articles"], 1), 3)

    figures = {
        "articles": articles,
        "crawl_seconds": round(crawled["seconds"], 2),
        "crawl_pages_per_s": round(crawled["pages_per_s"], 1),
        "crawl_steady_pages_per_s": round(crawled["steady_pages_per_s"], 1),
        "crawl_first_article_s": round(crawled["first_article_s"], 2),
        "crawl_cpu_ms_per_page": cpu_ms(crawled),
        "crawl_peak_rss_mib": round(crawled["peak_rss_mib"], 1),
        "crawl_pages_fetched": crawled["pages_fetched"],
        "crawl_failed_requests": crawled["failed_requests"],
        "crawl_dropped": crawled["dropped"],
        "crawl_run_dir_mib": round(crawled["run_dir_mib"], 1),
        "bare_scrapy_seconds": round(bare["seconds"], 2),
        "bare_scrapy_pages_per_s": round(bare["pages_per_s"], 1),
        "bare_scrapy_cpu_ms_per_page": cpu_ms(bare),
        "bare_scrapy_peak_rss_mib": round(bare["peak_rss_mib"], 1),
        "baseline_seconds": round(baseline["seconds"], 2),
        "baseline_pages_per_s": round(baseline["pages_per_s"], 1),
        "baseline_cpu_ms_per_page": cpu_ms(baseline),
        "baseline_peak_rss_mib": round(baseline["peak_rss_mib"], 1),
        "mean_article_kib": round(baseline["mean_article_kib"], 1),
        "crawl_vs_bare_scrapy_ratio": round(ratio, 3),
        "crawl_vs_aiohttp_ratio": round(aiohttp_ratio, 3),
        "ratio_target": RATIO_TARGET,
        "ratio_target_met": ratio >= RATIO_TARGET,
        "memory_target_mib": MEMORY_TARGET_MIB,
        "memory_target_met": crawled["peak_rss_mib"] < MEMORY_TARGET_MIB,
        "all_articles_fetched": crawled["articles"] == articles == baseline["articles"] == bare["articles"],
        "versions": versions(),
    }
    rows = [("", "crawl()", "bare Scrapy", "aiohttp loop"),
            ("article pages", crawled["articles"], bare["articles"], baseline["articles"]),
            ("wall time (s)", *(f"{side['seconds']:.1f}" for side in (crawled, bare, baseline))),
            ("pages/s", *(f"{side['pages_per_s']:.0f}" for side in (crawled, bare, baseline))),
            ("CPU ms/page", *(f"{cpu_ms(side):.2f}" for side in (crawled, bare, baseline))),
            ("peak RSS (MiB)", *(f"{side['peak_rss_mib']:.0f}" for side in (crawled, bare, baseline)))]
    print_table(rows, 16, 14)
    print(f"\ncrawl: first article after {crawled['first_article_s']:.1f} s, then {crawled['steady_pages_per_s']:.0f} pages/s; "
          f"{crawled['pages_fetched']} responses, {crawled['failed_requests']} failed, run dir {crawled['run_dir_mib']:.0f} MiB")
    print(f"ratio crawl/bare Scrapy pages/s: {ratio:.2f} (target >= {RATIO_TARGET}: "
          f"{'met' if figures['ratio_target_met'] else 'MISSED'}); crawl/aiohttp: {aiohttp_ratio:.3f}")
    print(f"crawl peak memory: {crawled['peak_rss_mib']:.0f} MiB "
          f"(target < {MEMORY_TARGET_MIB} MiB: {'met' if figures['memory_target_met'] else 'MISSED'})")
    if not figures["all_articles_fetched"]:
        print(f"WARNING: not every article was fetched (crawl {crawled['articles']}, bare Scrapy {bare['articles']}, "
              f"aiohttp {baseline['articles']})")
    print(json.dumps(figures))
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=10_000, help="size of the synthetic outlet (default 10000)")
    parser.add_argument("--timeout", type=float, default=900, help="give up on either side after this many seconds")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="newsetl-bench-") as tmp:
        outlets = Path(tmp, "outlets")
        outlets.mkdir()
        (outlets / f"{site.OUTLET_ID}.toml").write_text(site.OUTLET_TOML)
        with synthetic_site_served(args.articles, lifetime=2 * args.timeout + 60) as (server, url):
            os.environ.update(NEWSETL_OUTLETS_DIR=str(outlets), NEWSETL_REPLAY_URL=url, NEWSETL_POLITENESS="off",
                              NEWSETL_DATA_DIR=str(Path(tmp, "data")))
            print(f"synthetic outlet of {args.articles} articles at {url}; baseline …", file=sys.stderr, flush=True)
            try:
                baseline = run_baseline(url, args.timeout)
                print("bare Scrapy spider …", file=sys.stderr, flush=True)
                bare = run_bare_scrapy(url, args.timeout)
                print("crawl …", file=sys.stderr, flush=True)
                crawled = run_crawl(server.pid, args.timeout)
            except TimeoutError as exc:
                raise SystemExit(f"gave up: {exc or 'the baseline did not finish in time'}") from None
    report(args.articles, baseline, bare, crawled)


if __name__ == "__main__":
    main()
