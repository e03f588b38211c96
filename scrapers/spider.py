"""One generic spider for every outlet: discovery documents in, raw article pages out.

Sources, as the outlet declares them: the WordPress REST API (exact dates, preferred: when it
answers for an edition, that edition's other sources are not needed), RSS/Atom feeds, XML
sitemaps (from robots.txt or declared), and paginated listings. Every discovered URL is judged
once against the date window and against what the warehouse already holds, so an unchanged
article is not fetched again. The spider never reads article text.
"""

from __future__ import annotations

import email.utils
import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import scrapy
from parsel import Selector
from scrapy.exceptions import DownloadCancelledError, DownloadTimeoutError, IgnoreRequest
from scrapy.spidermiddlewares.httperror import HttpError
from scrapy.utils.gz import gunzip
from twisted.python.failure import Failure

from kernel.records import RawPage
from kernel.registry import Edition, get_outlet
from kernel.rules import MAX_RESPONSE_BYTES, in_zone, utc_now
from kernel.rundir import RunDir, new_run_id
from kernel.settings import load_settings
from kernel.window import Window, parse_bound
from scrapers.archive import FetchLog, request_kind
from scrapers.safety import REFUSAL_REASONS, FailedResponse, RefusedRequest

DROP_STAT = "newsetl/dropped/{}"
API_PAGE_SIZE = 100  # WordPress's maximum per_page


def parse_date(text: str | None, assume_utc: bool = True) -> datetime | None:
    """RFC 822 (RSS) or ISO 8601 (Atom, sitemaps, WordPress *_gmt) → aware datetime, None if unreadable."""
    if not text or not isinstance(text, str):
        return None
    text = text.strip()
    try:
        moment = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError):
        try:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            return None
    return in_zone(moment) if assume_utc else moment


def _joined(response, href: str) -> str | None:
    """``href`` made absolute against the response, or None when it is no URL (an invalid IPv6 host …)."""
    try:
        return response.urljoin(href.strip())
    except ValueError:
        return None


def failure_reason(failure: Failure) -> tuple[str, str]:
    """(reason, detail) of a failed request: the name of its counter, and what happened."""
    error, text = failure.value, str(failure.value)
    if failure.check(RefusedRequest, FailedResponse):
        return error.reason, error.detail
    if failure.check(HttpError):
        status = error.response.status
        return ("blocked" if status in (401, 403) else "http-error"), f"HTTP {status}"
    if failure.check(IgnoreRequest) and "robots.txt" in text:
        return "robots", "disallowed by robots.txt"
    if failure.check(IgnoreRequest) and "max redirections" in text:
        return "too-many-redirects", text
    # Scrapy says it three ways: a declared size past the cap (cancelled, with a message), a stream
    # that grows past it (cancelled, without one), a body that inflates past it (ignored).
    if failure.check(DownloadCancelledError) and (not text or "max size" in text):
        return "too-large", text or f"the body grew past the {MAX_RESPONSE_BYTES}-byte download cap"
    if failure.check(IgnoreRequest) and "DOWNLOAD_MAXSIZE" in text:
        return "too-large", text
    if failure.check(DownloadTimeoutError, TimeoutError):
        return "timeout", text or "no answer in time"
    return "fetch-error", f"{type(error).__name__}: {text}" if text else type(error).__name__


class OutletSpider(scrapy.Spider):
    name = "outlet"

    def __init__(self, outlet: str, run_id: str = "", run_dir: str = "", since: str = "", until: str = "",
                 **kwargs: Any):
        """``since``/``until``: a date (the outlet's midnight) or an ISO 8601 time. Without ``run_id``
        and ``run_dir`` (``scrapy crawl outlet -a outlet=…``) the run gets a new id and its directory
        under the data directory."""
        super().__init__(**kwargs)
        self.outlet = get_outlet(outlet)
        self.run_id = run_id or new_run_id(self.outlet.id)
        self.run_dir = Path(run_dir) if run_dir else load_settings().runs_dir / self.outlet.id / self.run_id
        known_path = RunDir(self.run_dir).create().known
        self.window = Window(parse_bound(since, self.outlet.tz), parse_bound(until, self.outlet.tz))
        self.allowed_domains = list(self.outlet.domains)
        known = json.loads(known_path.read_text()) if known_path.exists() else {}
        self.known = {url: datetime.fromisoformat(moment) for url, moment in known.items()}
        self.fetch_log = FetchLog(self.run_dir)
        self._scheduled: set[str] = set()
        self._unchanged: set[str] = set()  # known and not changed: not fetched (unless a later source says changed)
        self._judged: set[str] = set()
        self._fallback_done: set[str] = set()

    # -- bookkeeping ---------------------------------------------------------------------------

    def _drop(self, reason: str, url: str) -> None:
        self.crawler.stats.inc_value(DROP_STAT.format(reason))
        self.logger.info("dropped %s: %s", reason, url)

    def _unreadable(self, response, what: str) -> None:
        """A discovery document that cannot be read: counted and logged; the other sources go on."""
        self.crawler.stats.inc_value("newsetl/discovery/unreadable")
        self.logger.warning("unreadable %s at %s", what, response.url)

    def closed(self, reason: str) -> None:
        self.crawler.stats.set_value("newsetl/unchanged_not_fetched", len(self._unchanged - self._scheduled))
        self.fetch_log.close()

    def _request(self, url: str, callback, kind: str, edition: Edition | None = None, **meta) -> scrapy.Request:
        return scrapy.Request(url, callback=callback, errback=self.on_error, meta={"kind": kind, **meta},
                              cb_kwargs={"edition": edition} if edition else {})

    # -- sources -------------------------------------------------------------------------------

    async def start(self):
        discovery = self.outlet.discovery
        for edition in self.outlet.editions:
            if discovery.wp_api:
                yield self._api_request(edition, page=1)
                if self.window.since or self.window.until:  # edits in the window to older posts
                    yield self._api_request(edition, page=1, field="modified")
            else:
                for request in self._edition_sources(edition):
                    yield request
        if not discovery.wp_api:
            for request in self._sitemap_sources():
                yield request

    def _edition_sources(self, edition: Edition):
        for path in self.outlet.discovery.feeds:
            yield self._request(self.outlet.edition_url(edition, path), self.parse_feed, "feed", edition)
        for path in self.outlet.discovery.listings:
            yield self._request(self.outlet.edition_url(edition, path), self.parse_listing, "listing", edition)

    def _sitemap_sources(self):
        if "sitemaps" in self._fallback_done:
            return
        self._fallback_done.add("sitemaps")
        if self.outlet.discovery.sitemaps_from_robots:
            yield scrapy.Request(self.outlet.home + "robots.txt", callback=self.parse_robots, errback=self.on_error,
                                 meta={"kind": "robots"})
        for path in self.outlet.discovery.sitemaps:
            yield self._request(self.outlet.home + path, self.parse_sitemap, "sitemap")

    def _fallback(self, edition: Edition):
        """The API did not answer for this edition: use its other declared sources instead."""
        if edition.language in self._fallback_done:
            return
        self._fallback_done.add(edition.language)
        self.logger.warning("WordPress API unusable for edition %s; falling back to feeds, listings, sitemaps",
                            edition.language)
        yield from self._edition_sources(edition)
        yield from self._sitemap_sources()

    def _api_request(self, edition: Edition, page: int, field: str = "date") -> scrapy.Request:
        """One page of posts published (``field="date"``) or modified (``"modified"``) in the window."""
        query = {"per_page": API_PAGE_SIZE, "page": page, "orderby": field, "order": "desc",
                 "_fields": "link,date_gmt,modified_gmt"}
        prefix = "" if field == "date" else "modified_"
        if self.window.since:
            # WordPress's bounds are exclusive; a second earlier keeps a post published at `since` itself.
            since = self.window.since - timedelta(seconds=1)
            query[f"{prefix}after"] = since.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        if self.window.until:
            query[f"{prefix}before"] = self.window.until.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        url = self.outlet.edition_url(edition, "wp-json/wp/v2/posts") + "?" + urlencode(query)
        # 400 is how WordPress says "past the last page"; the callback decides what it means.
        return self._request(url, self.parse_api, "api", edition, page=page, field=field,
                             handle_httpstatus_list=[400])

    # -- judging a discovered URL --------------------------------------------------------------

    def _consider(self, url: str, published: datetime | None, modified: datetime | None, edition: Edition | None):
        """Schedule the article at ``url`` unless it is not ours, out of the window, or known and unchanged.

        A known article whose sources show a newer modification is fetched again wherever its
        publication date lies: that is an edit to record, not a new article.
        """
        url = url.strip()
        try:
            scrapy.Request(url)  # a string Scrapy cannot request goes no further
        except ValueError:
            if url not in self._judged:
                self._judged.add(url)
                self._drop("not-article", url[:200])
            return None
        if url in self._scheduled:
            return None
        first_time = url not in self._judged
        self._judged.add(url)
        if not self.outlet.owns(url) or not self.outlet.is_article_url(url):
            if first_time:
                self._drop("off-domain" if not self.outlet.owns(url) else "not-article", url)
            return None
        stored = self.known.get(url)
        if stored is not None:
            if modified is None or modified <= stored:
                self._unchanged.add(url)
                return None
        elif (published and not self.window.contains(published)) or (
                published is None and modified and self.window.is_before(modified)):
            if first_time:
                self._drop("out-of-window", url)
            return None
        self._scheduled.add(url)
        return scrapy.Request(url, callback=self.parse_article, errback=self.on_error, meta={"kind": "article"},
                              cb_kwargs={"listed": published, "edition": self.outlet.edition_of(url),
                                         "known": stored is not None})

    def _consider_all(self, entries, edition):
        for url, published, modified in entries:
            if url and (request := self._consider(url, published, modified, edition)):
                yield request

    # -- parsers -------------------------------------------------------------------------------

    def parse_api(self, response, edition: Edition):
        page = response.meta["page"]
        if response.status == 400:
            if page == 1:
                yield from self._fallback(edition)
            return  # past the last page
        try:
            posts = json.loads(response.text)
            entries = [(p["link"], parse_date(p.get("date_gmt")), parse_date(p.get("modified_gmt"))) for p in posts]
            if not all(isinstance(link, str) for link, _, _ in entries):
                raise TypeError("a post's link is not a string")
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            self._unreadable(response, f"WordPress API answer: {exc}")
            yield from self._fallback(edition)
            return
        self.crawler.stats.inc_value("newsetl/discovery/api_posts", len(entries))
        yield from self._consider_all(entries, edition)
        pages = response.headers.get("X-WP-TotalPages", b"0") or b"0"
        total_pages = int(pages) if pages.isdigit() else 0
        if entries and (page < total_pages or (not total_pages and len(entries) == API_PAGE_SIZE)):
            yield self._api_request(edition, page + 1, response.meta["field"])

    def parse_feed(self, response, edition: Edition):
        response.selector.remove_namespaces()
        items = response.xpath("//item | //entry")
        self.crawler.stats.inc_value("newsetl/discovery/feed_entries", len(items))
        entries = []
        for item in items:
            link = item.xpath("link/text()").get() or item.xpath("link/@href").get()
            published = parse_date(item.xpath("pubDate/text() | published/text()").get())
            modified = parse_date(item.xpath("updated/text()").get())
            entries.append((_joined(response, link) if link else None, published, modified))
        yield from self._consider_all(entries, edition)

    def parse_robots(self, response):
        for line in response.text.splitlines():
            key, _, value = line.partition(":")
            if key.strip().lower() == "sitemap" and value.strip():
                yield from self._sitemap_request(response, value)

    def _sitemap_request(self, response, location: str):
        """A request for a sitemap named in ``response`` (robots.txt, a sitemap index), if it is a web URL."""
        try:
            url = response.urljoin(location.strip())
            if url == response.url:  # an index naming itself would be fetched once anyway: say so
                self._unreadable(response, "sitemap index that lists itself")
                return
            if urlsplit(url).scheme in ("http", "https") and urlsplit(url).hostname:
                yield self._request(url, self.parse_sitemap, "sitemap")
                return
        except ValueError:  # not a URL at all (Scrapy and urllib refuse it)
            pass
        self._unreadable(response, f"sitemap location {location.strip()[:100]!r}")

    def parse_sitemap(self, response, edition: Edition | None = None):
        body = response.body
        if body[:2] == b"\x1f\x8b":
            try:
                body = gunzip(body, max_size=self.crawler.settings.getint("DOWNLOAD_MAXSIZE"))
            except (OSError, ValueError, EOFError) as exc:  # a broken archive, or one inflating past the cap
                self._unreadable(response, f"gzipped sitemap: {type(exc).__name__}: {exc}")
                return
        if not body.strip():
            self._unreadable(response, "empty sitemap")
            return
        selector = Selector(body=body, type="xml")
        selector.remove_namespaces()
        for child in selector.xpath("/sitemapindex/sitemap"):
            modified = parse_date(child.xpath("lastmod/text()").get())
            if modified and self.window.is_before(modified):
                continue  # nothing in that sitemap changed since the window began
            location = child.xpath("loc/text()").get()
            if location:
                yield from self._sitemap_request(response, location)
        entries = [(url.xpath("loc/text()").get(),
                    parse_date(url.xpath("news/publication_date/text()").get()),
                    parse_date(url.xpath("lastmod/text()").get()))
                   for url in selector.xpath("/urlset/url")]
        self.crawler.stats.inc_value("newsetl/discovery/sitemap_urls", len(entries))
        yield from self._consider_all(entries, edition)

    def parse_listing(self, response, edition: Edition):
        # Entries are cards with a link and a date; links elsewhere (menus, sidebars) carry no date
        # to judge the window by, so they are not followed.
        cards = response.css(self.outlet.discovery.listing_card)
        entries = []
        for card in cards:
            links = [link for h in card.css("a::attr(href)").getall() if (link := _joined(response, h))]
            url = next((link for link in links if self.outlet.is_article_url(link)), None)
            if url:
                entries.append((url, parse_date(card.css("time::attr(datetime)").get()), None))
        self.crawler.stats.inc_value("newsetl/discovery/listing_cards", len(cards))
        yield from self._consider_all(entries, edition)
        dates = [published for _, published, _ in entries if published]
        # Listings run newest first: once a whole page is older than the window, stop paging.
        if dates and all(self.window.is_before(moment) for moment in dates):
            return
        next_page = response.css("a.next::attr(href), a[rel=next]::attr(href), link[rel=next]::attr(href)").get()
        if next_page:
            try:
                next_request = self._request(response.urljoin(next_page), self.parse_listing, "listing", edition)
            except ValueError:
                self._unreadable(response, f"listing's next page {next_page[:100]!r}")
                return
            yield next_request

    def parse_article(self, response, listed: datetime | None, edition: Edition, known: bool = False):
        self.crawler.stats.inc_value("newsetl/article_pages_fetched")
        yield RawPage(
            url=response.meta.get("redirect_urls", [response.url])[0],
            final_url=response.url,
            status=response.status,
            headers={k.decode("latin-1"): b", ".join(v).decode("latin-1") for k, v in response.headers.items()},
            warc_file=RunDir.WARC_NAME,
            warc_offset=response.meta["warc_offset"],
            fetched_at=utc_now(),
            outlet=self.outlet.id,
            run_id=self.run_id,
            edition=edition.language,
            listed_published=listed,
            known=known,
        )

    # -- failures ------------------------------------------------------------------------------

    def on_error(self, failure: Failure):
        request = failure.request
        kind = request_kind(request)
        original = request.meta.get("redirect_urls", [request.url])[0]
        reason, detail = failure_reason(failure)
        # Responses were logged when they arrived, a wall with its reason; a redirect chain's
        # failure is logged again under the URL the chain began with.
        logged = failure.check(HttpError) or (failure.check(FailedResponse) and failure.value.logged)
        if not logged or original != request.url:
            self.fetch_log.write(original, kind, reason=reason, detail=detail)
        refused = reason == "robots" or reason in REFUSAL_REASONS  # our choice, not a failure of the site
        if not refused:
            self.crawler.stats.inc_value(f"newsetl/failed/{kind}")
        if kind == "article" or refused:
            self._drop(reason, original)
        self.logger.warning("%s %s failed: %s", kind, original, detail)
        if kind == "api" and "edition" in failure.request.cb_kwargs:
            yield from self._fallback(failure.request.cb_kwargs["edition"])
