"""End to end: ``newsetl run`` on a synthetic outlet, against the physical bound and a peer.

    .venv/bin/python bench/end_to_end.py                    # 10,000 articles, into PostgreSQL and SQLite
    .venv/bin/python bench/end_to_end.py --articles 500     # quick check
    .venv/bin/python bench/end_to_end.py --news-please /tmp/np/bin/python   # also news-please, from its virtualenv

Everyone reads the same article pages of bench/synthetic_site.py's outlet, served on loopback by its
own process:

- **newsetl**: the stages ``newsetl run`` chains (``newsetl.pipeline``: plan, crawl, transform,
  load), called one by one in this process so that each is timed, into a scratch PostgreSQL database
  (NEWSETL_BENCH_PG_URL's server) and into a SQLite file. The crawl walks the outlet's listing with
  politeness off (32 requests in flight), as bench/crawl.py's does. CPU seconds are those of this
  process and of every process under it (the crawl process, the transform's workers), sampled
  every 0.1 s, so the last 0.1 s of a process that exits can go uncounted; peak memory is the
  largest summed RSS of those processes.
- **the bound**: bare ``trafilatura.extract()`` on the outlet's article pages in this process,
  pages per CPU second × cores: what this machine could do if extracting were all there is to it.
- **the peer**: trafilatura's own command line (bench/peer.py) finding the articles in the
  outlet's sitemap (``--sitemap URL --list``), then downloading and extracting them with their
  metadata (``-i FILE -o DIR --json --with-metadata``), as newsetl keeps title, date and authors;
  and once more with its default text output, for scale. Its pause between requests is set to 0.
  In one call (``--sitemap URL -o DIR``) trafilatura 2.3 fetches the sitemap itself again and again
  when the site's URLs carry a port, so the two steps are two calls, both timed.
- **news-please** (with ``--news-please PYTHON``, a virtualenv's interpreter): ``NewsPlease.from_urls``
  on the peer's URL list, 500 URLs a call.

Ends with one JSON line of every figure; ``end_to_end_vs_bound_ratio``, ``end_to_end_vs_peer_ratio``
(the peer with metadata) and ``end_to_end_vs_text_peer_ratio`` are the slower warehouse's.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from importlib.metadata import version
from pathlib import Path

import psutil
import synthetic_site as site  # bench/ is on sys.path when this file runs as a script
import trafilatura
from crawl import MIB, PeakRss, children_cpu, print_table, synthetic_site_served
from load import scratch_postgres

BOUND_TARGET = 0.7  # of bare trafilatura.extract() pages/s × cores
PEER_TARGET = 1.0  # ahead of the peer
BOUND_SAMPLE = 1000  # article pages the bound is measured on, spread over the outlet
PEER_CONFIG = """\
[DEFAULT]
DOWNLOAD_TIMEOUT = 30
MAX_FILE_SIZE = 20000000
MIN_FILE_SIZE = 10
SLEEP_TIME = 0
USER_AGENTS =
COOKIE =
MAX_REDIRECTS = 2
SSRF_PROTECTION = off
INSECURE_SSL_FALLBACK = on
MIN_EXTRACTED_SIZE = 250
MIN_OUTPUT_SIZE = 1
MIN_OUTPUT_COMM_SIZE = 1
MAX_TREE_SIZE =
EXTRACTION_TIMEOUT = 30
MIN_DUPLCHECK_SIZE = 100
MAX_REPETITIONS = 2
EXTENSIVE_DATE_SEARCH = on
EXTERNAL_URLS = off
"""
PEER = Path(__file__).with_name("peer.py")


class TreeMeter(PeakRss):
    """The peak summed RSS of some processes and the CPU seconds they spend while the meter runs."""

    def __init__(self, processes: Callable[[], list[psutil.Process]]):
        super().__init__(processes)
        self.cpu: dict[tuple[int, float], float] = {}  # (pid, start time) → its CPU seconds when last seen
        self.at_start: dict[tuple[int, float], float] = {}

    def sample(self) -> None:
        total = 0
        for process in self.processes():
            try:
                total += process.memory_info().rss
                times = process.cpu_times()
                self.cpu[(process.pid, process.create_time())] = times.user + times.system
            except psutil.Error:  # exited between listing and reading
                pass
        self.peak = max(self.peak, total)

    def __enter__(self) -> TreeMeter:
        super().__enter__()
        self.at_start = dict(self.cpu)
        return self

    def __exit__(self, *exc) -> None:
        self.sample()
        super().__exit__(*exc)

    @property
    def cpu_seconds(self) -> float:
        return sum(seconds - self.at_start.get(key, 0.0) for key, seconds in self.cpu.items())


def _tree(exclude: set[int]) -> Callable[[], list[psutil.Process]]:
    me = psutil.Process()
    return lambda: [me, *(child for child in me.children(recursive=True) if child.pid not in exclude)]


def measure(work: Callable[[], object], processes: Callable[[], list[psutil.Process]]) -> tuple[dict, object]:
    """Wall seconds, CPU seconds and peak RSS (MiB) of ``work`` and the processes it runs; and its result."""
    with TreeMeter(processes) as meter:
        start = time.perf_counter()
        result = work()
        seconds = time.perf_counter() - start
    return {"seconds": seconds, "cpu_seconds": meter.cpu_seconds, "peak_rss_mib": meter.peak / MIB}, result


# -- newsetl -----------------------------------------------------------------------------------

STAGES = ("plan", "crawl", "transform", "load")


def run_newsetl(warehouse_url: str, data_dir: Path, server_pid: int, articles: int) -> dict:
    from sqlalchemy import func, select

    from kernel.settings import load_settings
    from kernel.window import Window
    from models.tables import ArticleRow
    from models.warehouse import connect
    from newsetl.pipeline import crawl_stage, load_stage, plan_run, transform_stage

    os.environ["NEWSETL_DATA_DIR"] = str(data_dir)
    settings = load_settings(warehouse_url)
    processes = _tree({server_pid})
    stages: dict[str, dict] = {}

    def stage(name: str, work: Callable[[], object]) -> object:
        figures, result = measure(work, processes)
        stages[name] = figures
        print(f"  {name}: {figures['seconds']:.1f} s, {figures['cpu_seconds']:.1f} CPU s", file=sys.stderr, flush=True)
        return result

    plan = stage("plan", lambda: plan_run(site.OUTLET_ID, Window(), settings))
    stage("crawl", lambda: crawl_stage(plan, settings))
    stage("transform", lambda: transform_stage(plan))
    summary = stage("load", lambda: load_stage(plan))
    engine = connect(warehouse_url)
    with engine.connect() as connection:
        stored = connection.execute(select(func.count()).select_from(ArticleRow)
                                    .where(ArticleRow.outlet_id == site.OUTLET_ID)).scalar_one()
    engine.dispose()
    seconds = sum(s["seconds"] for s in stages.values())
    return {"seconds": seconds, "cpu_seconds": sum(s["cpu_seconds"] for s in stages.values()),
            "peak_rss_mib": max(s["peak_rss_mib"] for s in stages.values()), "articles": stored,
            "articles_per_s": stored / seconds, "stages": stages, "pages_fetched": summary.article_pages_fetched,
            "dropped": summary.dropped, "complete": stored == articles}


# -- the bound ---------------------------------------------------------------------------------

def measure_bound(articles: int) -> dict:
    """Bare ``trafilatura.extract()`` pages per CPU second on a spread of the outlet's article pages, × cores."""
    outlet = site.Site(articles)
    picks = sorted({k * articles // min(BOUND_SAMPLE, articles) for k in range(min(BOUND_SAMPLE, articles))})
    pages = [(outlet.article(k), site.HOME + outlet.path(k)[1:]) for k in picks]
    trafilatura.extract(pages[0][0], url=pages[0][1])  # warm-up: lazy imports and caches
    start = time.process_time()
    for html, url in pages:
        trafilatura.extract(html, url=url)
    cpu = time.process_time() - start
    cores = os.cpu_count() or 1
    return {"pages": len(pages), "cpu_seconds": cpu, "pages_per_cpu_s": len(pages) / cpu, "cores": cores,
            "pages_per_s": cores * len(pages) / cpu}


# -- the peers ---------------------------------------------------------------------------------

def _run(command: list[str], timeout: float) -> tuple[dict, subprocess.CompletedProcess]:
    """Wall, CPU (exact: the waited-for child's rusage) and peak RSS of one command that must succeed."""
    process: list[psutil.Process] = []

    def tree() -> list[psutil.Process]:
        if not process:
            return []
        try:
            return [process[0], *process[0].children(recursive=True)]
        except psutil.Error:
            return []

    cpu = children_cpu()
    with TreeMeter(tree) as meter:
        start = time.perf_counter()
        with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as child:
            process.append(psutil.Process(child.pid))
            try:
                out, err = child.communicate(timeout=timeout)
            except subprocess.TimeoutExpired:
                child.kill()
                raise SystemExit(f"gave up: {command[2:4]} did not finish within {timeout:.0f} s") from None
        seconds = time.perf_counter() - start
    if child.returncode != 0:
        raise SystemExit(f"{' '.join(command[:4])} … failed (exit {child.returncode}):\n{err[-2000:]}")
    figures = {"seconds": seconds, "cpu_seconds": children_cpu() - cpu, "peak_rss_mib": meter.peak / MIB}
    return figures, subprocess.CompletedProcess(command, child.returncode, out, err)


def list_sitemap(base_url: str, work: Path, timeout: float) -> tuple[dict, Path]:
    """trafilatura's command line reading the outlet's sitemap: the article URLs, in a file."""
    sitemap = f"http://{site.DOMAIN}:{base_url.rsplit(':', 1)[1]}/{site.SITEMAP}"
    listed, result = _run([*_peer_command(work), "--sitemap", sitemap, "--list"], timeout)
    urls = work / "urls.txt"
    urls.write_text(result.stdout)
    listed["urls"] = len([line for line in result.stdout.splitlines() if line.strip()])
    return listed, urls


def _peer_command(work: Path) -> list[str]:
    config = work / "trafilatura.cfg"
    config.write_text(PEER_CONFIG)
    return [sys.executable, str(PEER), site.DOMAIN, "trafilatura", "--config-file", str(config)]


def run_trafilatura_cli(listed: dict, urls: Path, work: Path, timeout: float, metadata: bool) -> dict:
    """trafilatura's command line downloading and extracting every listed page, a file each: text
    (its default), or JSON with the metadata, as newsetl keeps title, date and authors. The time
    of the listing is added."""
    output = work / f"trafilatura-{'json' if metadata else 'txt'}"
    options = ["--json", "--with-metadata"] if metadata else []
    extracted, _ = _run([*_peer_command(work), "-i", str(urls), "-o", str(output), *options], timeout)
    written = sum(1 for path in output.rglob("*") if path.is_file())  # it files a thousand to a folder
    seconds = listed["seconds"] + extracted["seconds"]
    return {"seconds": seconds, "cpu_seconds": listed["cpu_seconds"] + extracted["cpu_seconds"],
            "peak_rss_mib": max(listed["peak_rss_mib"], extracted["peak_rss_mib"]), "urls": listed["urls"],
            "files": written, "articles": listed["urls"], "articles_per_s": listed["urls"] / seconds,
            "list_seconds": listed["seconds"]}


def run_news_please(python: str, urls: Path, timeout: float) -> dict:
    figures, result = _run([python, str(PEER), site.DOMAIN, "news-please", str(urls)], timeout)
    counts = json.loads(result.stdout.strip().splitlines()[-1])
    return {**figures, **counts, "articles_per_s": counts["urls"] / figures["seconds"],
            "version": subprocess.run([python, "-c", "from importlib.metadata import version; print(version('news-please'))"],
                                      capture_output=True, text=True).stdout.strip()}


# -- report ------------------------------------------------------------------------------------

def report(articles: int, bound: dict, ours: dict[str, dict], peer: dict, text_peer: dict,
           news_please: dict | None) -> dict:
    slower = min(ours, key=lambda name: ours[name]["articles_per_s"])
    rate = ours[slower]["articles_per_s"]
    bound_ratio, peer_ratio = rate / bound["pages_per_s"], rate / peer["articles_per_s"]
    text_peer_ratio = rate / text_peer["articles_per_s"]

    def per_article(figures: dict) -> float:
        pages = figures.get("urls", figures["articles"])  # news-please: every page it read, body or not
        return round(figures["cpu_seconds"] / max(pages, 1) * 1000, 2)

    rows = [("", *ours, "trafilatura+meta", "trafilatura text", *(["news-please"] if news_please else []))]
    sides = [*ours.values(), peer, text_peer, *([news_please] if news_please else [])]
    rows += [("articles", *(side["articles"] for side in sides)),
             ("wall time (s)", *(f"{side['seconds']:.1f}" for side in sides)),
             ("articles/s", *(f"{side['articles_per_s']:.1f}" for side in sides)),
             ("CPU ms/article", *(f"{per_article(side):.1f}" for side in sides)),
             ("peak RSS (MiB)", *(f"{side['peak_rss_mib']:.0f}" for side in sides))]
    for stage in STAGES:
        rows.append((f"  {stage} CPU ms/art.", *(f"{1000 * o['stages'][stage]['cpu_seconds'] / articles:.2f}" for o in ours.values())))
    print_table(rows, 22, 17)
    print(f"\nbound: bare trafilatura.extract() {bound['pages_per_cpu_s']:.0f} pages per CPU s × {bound['cores']} cores "
          f"= {bound['pages_per_s']:.0f} pages/s")
    print(f"end to end ({slower}) / bound: {bound_ratio:.2f} (target >= {BOUND_TARGET}: "
          f"{'met' if bound_ratio >= BOUND_TARGET else 'MISSED'}); / trafilatura CLI with metadata: {peer_ratio:.2f} "
          f"(target > {PEER_TARGET}: {'met' if peer_ratio > PEER_TARGET else 'MISSED'}); / its text only: {text_peer_ratio:.2f}")
    for name, side in (("with metadata", peer), ("text only", text_peer)):
        if side["files"] < side["urls"]:
            print(f"trafilatura's command line ({name}) wrote {side['files']} files for {side['urls']} pages")
    for name, figures in ours.items():
        if not figures["complete"]:
            print(f"WARNING: {name} holds {figures['articles']} of {articles} articles (dropped: {figures['dropped']})")
    if news_please and news_please["articles"] < news_please["urls"]:
        print(f"news-please gave a body for {news_please['articles']} of {news_please['urls']} pages")

    def rounded(value):
        if isinstance(value, float):
            return round(value, 3)
        return {k: rounded(v) for k, v in value.items()} if isinstance(value, dict) else value

    figures = {
        "articles": articles, "bound": rounded(bound), "newsetl": rounded(ours), "trafilatura_cli": rounded(peer),
        "trafilatura_cli_text": rounded(text_peer),
        "news_please": rounded(news_please) if news_please else "not run (no --news-please)",
        "slower_warehouse": slower,
        "end_to_end_vs_bound_ratio": round(bound_ratio, 3), "end_to_end_vs_peer_ratio": round(peer_ratio, 3),
        "end_to_end_vs_text_peer_ratio": round(text_peer_ratio, 3),
        "bound_target": BOUND_TARGET, "bound_target_met": bound_ratio >= BOUND_TARGET,
        "peer_target_met": peer_ratio > PEER_TARGET,
        "all_articles_stored": all(o["complete"] for o in ours.values()),
        "versions": {"python": platform.python_version(), "news-etl": version("news-etl"),
                     "trafilatura": version("trafilatura"), "scrapy": version("scrapy"),
                     "platform": platform.platform(), "cpus": os.cpu_count()},
    }
    print(json.dumps(figures))
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=10_000, help="size of the synthetic outlet (default 10000)")
    parser.add_argument("--warehouses", nargs="+", default=["postgresql", "sqlite"], choices=["postgresql", "sqlite"])
    parser.add_argument("--news-please", metavar="PYTHON", help="a virtualenv's python with news-please installed")
    parser.add_argument("--timeout", type=float, default=1800, help="give up on any side after this many seconds")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="newsetl-bench-") as tmp:
        work = Path(tmp)
        outlets = work / "outlets"
        outlets.mkdir()
        (outlets / f"{site.OUTLET_ID}.toml").write_text(site.OUTLET_TOML)
        with synthetic_site_served(args.articles, lifetime=4 * args.timeout) as (server, url):
            os.environ.update(NEWSETL_OUTLETS_DIR=str(outlets), NEWSETL_REPLAY_URL=url, NEWSETL_POLITENESS="off")
            print(f"synthetic outlet of {args.articles} articles at {url}; the bound …", file=sys.stderr, flush=True)
            bound = measure_bound(args.articles)
            ours = {}
            for warehouse in args.warehouses:
                print(f"newsetl into {warehouse} …", file=sys.stderr, flush=True)
                if warehouse == "postgresql":
                    with scratch_postgres() as (warehouse_url, _):
                        ours[warehouse] = run_newsetl(warehouse_url, work / "pg-data", server.pid, args.articles)
                else:
                    ours[warehouse] = run_newsetl(f"sqlite:///{work / 'warehouse.db'}", work / "sqlite-data",
                                                  server.pid, args.articles)
            print("trafilatura's command line …", file=sys.stderr, flush=True)
            listed, urls = list_sitemap(url, work, args.timeout)
            peer = run_trafilatura_cli(listed, urls, work, args.timeout, metadata=True)
            text_peer = run_trafilatura_cli(listed, urls, work, args.timeout, metadata=False)
            news_please = None
            if args.news_please:
                print("news-please …", file=sys.stderr, flush=True)
                news_please = run_news_please(args.news_please, urls, args.timeout)
    report(args.articles, bound, ours, peer, text_peer, news_please)


if __name__ == "__main__":
    main()
