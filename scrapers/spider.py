"""One generic spider for every outlet: discovery documents in, raw article pages out."""

from __future__ import annotations

import email.utils
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import scrapy
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.internet.error import DNSLookupError, TCPTimedOutError, TimeoutError
from twisted.python.failure import Failure

from newsetl.registry import Edition, get_outlet
from newsetl.window import Window
from scrapers.raw_page import RawPage, write_body

DROP_STAT = "newsetl/dropped/{}"


def parse_feed_date(text: str | None) -> datetime | None:
    """RSS pubDate (RFC 822) or Atom/ISO 8601 timestamp → aware datetime, None when unreadable."""
    if not text:
        return None
    text = text.strip()
    try:
        moment = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError):
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class OutletSpider(scrapy.Spider):
    name = "outlet"

    def __init__(self, outlet: str, run_id: str, run_dir: str, since: str = "", until: str = "", **kwargs: Any):
        super().__init__(**kwargs)
        self.outlet = get_outlet(outlet)
        self.run_id = run_id
        self.run_dir = Path(run_dir)
        self.window = Window(
            datetime.fromisoformat(since) if since else None,
            datetime.fromisoformat(until) if until else None,
        )
        self.allowed_domains = list(self.outlet.domains)
        self._judged: set[str] = set()  # article URLs already scheduled or dropped

    def _drop(self, reason: str, url: str) -> None:
        self.crawler.stats.inc_value(DROP_STAT.format(reason))
        self.logger.info("dropped %s: %s", reason, url)

    async def start(self):
        for edition in self.outlet.editions:
            for path in self.outlet.discovery.feeds:
                yield scrapy.Request(
                    self.outlet.edition_url(edition, path), callback=self.parse_feed,
                    errback=self.on_error, cb_kwargs={"edition": edition}, meta={"kind": "feed"},
                )
            for path in self.outlet.discovery.listings:
                yield scrapy.Request(
                    self.outlet.edition_url(edition, path), callback=self.parse_listing,
                    errback=self.on_error, cb_kwargs={"edition": edition}, meta={"kind": "listing"},
                )

    def _article_request(self, url: str, listed: datetime | None, edition: Edition):
        if url in self._judged:
            return None
        self._judged.add(url)
        if not self.outlet.owns(url):
            self._drop("off-domain", url)
            return None
        if not self.outlet.is_article_url(url):
            self._drop("not-article", url)
            return None
        if listed is not None and not self.window.contains(listed):
            self._drop("out-of-window", url)
            return None
        return scrapy.Request(
            url, callback=self.parse_article, errback=self.on_error,
            cb_kwargs={"listed": listed, "edition": self.outlet.edition_of(url)},
            meta={"kind": "article"},
        )

    def parse_feed(self, response, edition: Edition):
        response.selector.remove_namespaces()
        items = response.xpath("//item | //entry")
        self.crawler.stats.inc_value("newsetl/discovery/feed_entries", len(items))
        for item in items:
            link = item.xpath("link/text()").get() or item.xpath("link/@href").get()
            if not link:
                continue
            listed = parse_feed_date(item.xpath("pubDate/text() | published/text() | updated/text()").get())
            request = self._article_request(response.urljoin(link.strip()), listed, edition)
            if request:
                yield request

    def parse_listing(self, response, edition: Edition):
        # Cards are <article> elements with a link and a date; links elsewhere (menus, sidebars)
        # are not followed, since they carry no date to judge the window by.
        cards = response.css("article")
        dates: list[datetime] = []
        for card in cards:
            links = [response.urljoin(h) for h in card.css("a::attr(href)").getall()]
            url = next((link for link in links if self.outlet.is_article_url(link)), None)
            if url is None:
                continue
            listed = parse_feed_date(card.css("time::attr(datetime)").get())
            if listed:
                dates.append(listed)
            request = self._article_request(url, listed, edition)
            if request:
                yield request
        self.crawler.stats.inc_value("newsetl/discovery/listing_cards", len(cards))
        # Listings run newest first: once a whole page is older than the window, stop paging.
        if dates and all(self.window.is_before(moment) for moment in dates):
            return
        next_page = response.css("a.next::attr(href), a[rel=next]::attr(href), link[rel=next]::attr(href)").get()
        if next_page:
            yield response.follow(next_page, callback=self.parse_listing, errback=self.on_error,
                                  cb_kwargs={"edition": edition}, meta={"kind": "listing"})

    def parse_article(self, response, listed: datetime | None, edition: Edition):
        self.crawler.stats.inc_value("newsetl/article_pages_fetched")
        original = response.meta.get("redirect_urls", [response.url])[0]
        headers = {k.decode("latin-1"): b", ".join(v).decode("latin-1") for k, v in response.headers.items()}
        yield RawPage(
            url=original,
            final_url=response.url,
            status=response.status,
            headers=headers,
            body_path=write_body(self.run_dir, response.url, response.body),
            fetched_at=datetime.now(UTC),
            outlet=self.outlet.id,
            run_id=self.run_id,
            edition=edition.language,
            listed_published=listed,
            encoding=getattr(response, "encoding", None),
        )

    def on_error(self, failure: Failure):
        request = failure.request
        kind = request.meta.get("kind", "page")
        if failure.check(HttpError):
            status = failure.value.response.status
            reason = "http-error"
            detail = f"HTTP {status}"
        elif failure.check(DNSLookupError, TimeoutError, TCPTimedOutError):
            reason, detail = "fetch-error", repr(failure.value)
        else:
            reason, detail = "fetch-error", f"{type(failure.value).__name__}: {failure.value}"
        self.crawler.stats.inc_value(f"newsetl/failed/{kind}")
        if kind == "article":
            self._drop(reason, request.url)
        self.logger.warning("%s %s failed: %s", kind, request.url, detail)
