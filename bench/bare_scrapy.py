"""A bare Scrapy spider: the bound the crawl benchmark holds the project's crawl to.

    .venv/bin/python bench/bare_scrapy.py http://127.0.0.1:PORT [--concurrency 32]

It walks the synthetic outlet's paged listing and fetches every article card it names, as the
project's crawl does, with the same concurrency and reactor, and nothing else: no archive, no fetch
log, no staging, no middleware of ours. Scrapy's two settings that the project's crawl also sets
for speed (``CONCURRENT_ITEMS``, ``WARN_ON_GENERATOR_RETURN_VALUE``) are set here too, so the bound
is the fastest plain spider, not Scrapy's defaults. Prints one JSON line: article pages and bytes.
"""

from __future__ import annotations

import argparse
import json
from urllib.parse import urlsplit

import scrapy
import synthetic_site as site  # bench/ is on sys.path when this file runs as a script
from scrapy.crawler import CrawlerProcess


class BareSpider(scrapy.Spider):
    name = "bare"

    def __init__(self, server: str, **kwargs):
        super().__init__(**kwargs)
        self.server = server.rstrip("/")
        self.articles = 0
        self.bytes = 0

    def _request(self, url: str, callback) -> scrapy.Request:
        # The server answers by Host, as the outlet's own would; the socket goes to loopback.
        return scrapy.Request(self.server + urlsplit(url).path, callback=callback, headers={"Host": site.DOMAIN})

    async def start(self):
        yield self._request(site.Site.listing_path(1), self.parse_listing)

    def parse_listing(self, response):
        for url in response.css("article.card h2 a::attr(href)").getall():
            yield self._request(url, self.parse_article)
        following = response.css("a.next::attr(href)").get()
        if following:
            yield self._request(following, self.parse_listing)

    def parse_article(self, response):
        self.articles += 1
        self.bytes += len(response.body)
        return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("server", help="the synthetic site's URL")
    parser.add_argument("--concurrency", type=int, default=32)
    args = parser.parse_args()
    process = CrawlerProcess(settings={
        "TWISTED_REACTOR": "twisted.internet.asyncioreactor.AsyncioSelectorReactor",
        "CONCURRENT_REQUESTS": args.concurrency, "CONCURRENT_REQUESTS_PER_DOMAIN": args.concurrency,
        "ROBOTSTXT_OBEY": False, "DOWNLOAD_DELAY": 0, "AUTOTHROTTLE_ENABLED": False,
        "CONCURRENT_ITEMS": 1, "WARN_ON_GENERATOR_RETURN_VALUE": False,
        "TELNETCONSOLE_ENABLED": False, "LOG_LEVEL": "WARNING",
    })
    crawler = process.create_crawler(BareSpider)
    process.crawl(crawler, server=args.server)
    process.start()
    print(json.dumps({"articles": crawler.spider.articles, "bytes": crawler.spider.bytes}))


if __name__ == "__main__":
    main()
