"""Item pipeline that appends each RawPage to the run's pages.jsonl (bodies are already on disk)."""

from __future__ import annotations

from kernel.records import RawPage
from kernel.rundir import RunDir


class StageRawPages:
    def __init__(self, crawler):
        self.crawler = crawler
        self.file = None

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def open_spider(self) -> None:
        self.path = RunDir(self.crawler.spider.run_dir).pages  # the spider made the directory
        # Line-buffered so the parent process can show progress while the crawl runs.
        self.file = self.path.open("a", encoding="utf-8", buffering=1)

    def close_spider(self) -> None:
        if self.file:
            self.file.close()

    def process_item(self, item: RawPage) -> RawPage:
        self.file.write(item.to_json() + "\n")
        return item
