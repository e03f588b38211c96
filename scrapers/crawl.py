"""Run one outlet's crawl in its own process and judge the result.

Twisted's reactor cannot be restarted, so each crawl gets a fresh interpreter
(``python -m scrapers.crawl``); the parent waits, shows progress and reads the crawl's stats.
A crawl with no successful response at all is a failed crawl, not an empty success.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from kernel.records import CrawlState, CrawlSummary
from kernel.rules import MAX_RESPONSE_BYTES
from kernel.rundir import RunDir
from kernel.settings import Settings
from kernel.window import Window


class CrawlFailed(RuntimeError):
    """The crawl fetched nothing usable; the message says why and where the log is."""


def scrapy_settings(settings: Settings, run_dir: Path | None = None) -> dict:
    """The crawl's Scrapy settings from the pipeline's; ``run_dir``: where the crawl process logs
    (``scrapy crawl`` without one logs to the console)."""
    values = {
        "BOT_NAME": "news-etl",
        "USER_AGENT": settings.user_agent,
        "TWISTED_REACTOR": "twisted.internet.asyncioreactor.AsyncioSelectorReactor",
        # Politeness towards the outlets: robots.txt, at most 2 requests at a time per site,
        # AutoThrottle adapting the delay to how fast the site answers.
        "ROBOTSTXT_OBEY": True,
        "CONCURRENT_REQUESTS_PER_DOMAIN": 2,
        "AUTOTHROTTLE_ENABLED": True,
        "AUTOTHROTTLE_START_DELAY": 1.0,
        "AUTOTHROTTLE_MAX_DELAY": 30.0,
        "AUTOTHROTTLE_TARGET_CONCURRENCY": 1.0,
        "DOWNLOAD_DELAY": 0.5,
        "DOWNLOAD_TIMEOUT": settings.download_timeout,
        "DOWNLOAD_MAXSIZE": MAX_RESPONSE_BYTES,
        "DOWNLOAD_WARNSIZE": 0,
        # Connection errors: Scrapy's own retry; 429/5xx: ours, with backoff and Retry-After.
        "RETRY_TIMES": 2,
        "REDIRECT_MAX_TIMES": 10,
        "RETRY_HTTP_CODES": [],
        "DOWNLOADER_MIDDLEWARES": {
            "scrapers.safety.SafetyMiddleware": 40,
            # Ours refuses off-domain requests with a reason; Scrapy's drops them silently.
            "scrapy.downloadermiddlewares.offsite.OffsiteMiddleware": None,
            "scrapers.safety.BackoffRetryMiddleware": 560,
            "scrapers.safety.RedirectGuardMiddleware": 605,  # sees each 3xx before the redirect middleware
            "scrapers.archive.WarcArchiveMiddleware": 610,
        },
        "DOWNLOADER": "scrapers.compat.PoliteDownloader",
        "TELNETCONSOLE_ENABLED": False,
        # One item per article response: Scrapy's default of 100 parallel item slots per response
        # cost much of the crawl's CPU, and re-parsing callbacks for this check more (docs/benchmarks.md).
        "CONCURRENT_ITEMS": 1,
        "WARN_ON_GENERATOR_RETURN_VALUE": False,
        "LOG_LEVEL": "INFO",
        **({"LOG_FILE": str(RunDir(run_dir).crawl_log)} if run_dir else {}),
        "ITEM_PIPELINES": {"scrapers.staging.StageRawPages": 100},
    }
    if settings.replay_url:
        # The replay server is ours: no need to pace requests to it (robots.txt still applies).
        values.update(AUTOTHROTTLE_ENABLED=False, DOWNLOAD_DELAY=0, NEWSETL_RETRY_BASE_DELAY=0.1,
                      NEWSETL_REPLAY_URL=settings.replay_url)
        handler = "scrapers.replay.ReplayDownloadHandler"
        values["DOWNLOAD_HANDLERS"] = {"http": handler, "https": handler}
    if not settings.polite:  # only for sites we run ourselves
        values.update(CONCURRENT_REQUESTS=32, CONCURRENT_REQUESTS_PER_DOMAIN=32, ROBOTSTXT_OBEY=False,
                      AUTOTHROTTLE_ENABLED=False, DOWNLOAD_DELAY=0)
    return values


def _count_lines(path: Path) -> int:
    try:
        with path.open("rb") as file:
            return sum(1 for _ in file)
    except FileNotFoundError:
        return 0


def crawl(
    outlet_id: str,
    window: Window,
    run_id: str,
    run_dir: Path,
    settings: Settings,
    on_progress: Callable[[int], None] | None = None,
    state: CrawlState | None = None,
) -> CrawlSummary:
    """Crawl one outlet over ``window``; ``state``: what the warehouse holds (stored articles, verdicts)."""
    files = RunDir(run_dir).create()
    for partial in (files.pages, files.warc, files.fetch_log, files.crawl_stats, files.crawl_summary):
        partial.unlink(missing_ok=True)  # an interrupted attempt's output: this crawl starts over
    files.known.write_text((state or CrawlState()).to_json())
    config = {"outlet": outlet_id, "run_id": run_id, "run_dir": str(run_dir),
              "since": window.since.isoformat() if window.since else "",
              "until": window.until.isoformat() if window.until else "",
              "scrapy_settings": scrapy_settings(settings, run_dir)}
    files.crawl_config.write_text(json.dumps(config, indent=1))
    process = subprocess.Popen(
        [sys.executable, "-m", "scrapers.crawl", str(files.crawl_config)],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    while process.poll() is None:
        if on_progress:
            on_progress(_count_lines(files.pages))
        time.sleep(0.2)
    stderr = process.stderr.read() if process.stderr else ""
    log = files.crawl_log
    if process.returncode != 0:
        tail = stderr.strip().splitlines()[-1:] or ["no output"]
        raise CrawlFailed(f"crawl process exited with {process.returncode}: {tail[0]} (log: {log})")
    stats = json.loads(files.crawl_stats.read_text())
    result = CrawlSummary(
        pages_fetched=sum(value for key, value in stats.items()
                          if key.startswith("downloader/response_status_count/2")),
        article_pages_fetched=stats.get("newsetl/article_pages_fetched", 0),
        dropped={key.split("/", 2)[2]: value for key, value in stats.items() if key.startswith("newsetl/dropped/")},
        errors=sum(value for key, value in stats.items() if key.startswith("newsetl/failed/")),
        unchanged_not_fetched=stats.get("newsetl/unchanged_not_fetched", 0),
    )
    if on_progress:
        on_progress(_count_lines(files.pages))
    if result.pages_fetched == 0:
        raise CrawlFailed(
            f"crawl of {outlet_id} got no successful response "
            f"({result.errors} requests failed; log: {log})"
        )
    return result


def _main(config_path: str) -> None:
    from scrapy.crawler import CrawlerProcess

    from scrapers.spider import OutletSpider

    config = json.loads(Path(config_path).read_text())
    process = CrawlerProcess(settings=config["scrapy_settings"])
    crawler = process.create_crawler(OutletSpider)
    process.crawl(crawler, outlet=config["outlet"], run_id=config["run_id"], run_dir=config["run_dir"],
                  since=config["since"], until=config["until"])
    process.start()
    stats = {key: value for key, value in crawler.stats.get_stats().items() if isinstance(value, int | float)}
    RunDir(Path(config["run_dir"])).crawl_stats.write_text(json.dumps(stats, indent=1, sort_keys=True))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="Run one outlet crawl (used by scrapers.crawl.crawl).")
    parser.add_argument("config", help="crawl_config.json written by the parent process")
    _main(parser.parse_args().config)
