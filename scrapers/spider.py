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
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import scrapy
from scrapy.exceptions import DownloadCancelledError, DownloadTimeoutError, IgnoreRequest
from scrapy.spidermiddlewares.httperror import HttpError
from scrapy.utils.gz import gunzip
from twisted.python.failure import Failure

from kernel.records import CrawlState, RawPage
from kernel.registry import Edition, get_outlet
from kernel.rules import MAX_RESPONSE_BYTES, in_zone, utc_now
from kernel.rundir import RunDir, new_run_id
from kernel.settings import load_settings
from kernel.window import Window, parse_bound
from scrapers.archive import FetchLog, request_kind
from scrapers.discovery import Document, Entry, read_document, robots_sitemaps, web_url
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


@dataclass
class SourceTally:
    """What one declared source (a feed, a sitemap, robots.txt's sitemaps, an edition's API, a listing)
    gave this run, over all its documents (an index's children, further pages)."""

    kind: str
    edition: str | None
    documents: int = 0  # fetched and read
    failures: list[list[str]] = field(default_factory=list)  # [reason, detail] of each document that failed
    entries: int = 0  # URLs listed
    new: int = 0  # of them, articles the warehouse does not hold, fetched (by whichever source listed them first)


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
        state = CrawlState.from_json(known_path.read_text()) if known_path.exists() else CrawlState()
        self.known, self.verdicts = state.articles, state.verdicts
        self.fetch_log = FetchLog(self.run_dir)
        self._scheduled: set[str] = set()
        self._unchanged: set[str] = set()  # known and not changed: not fetched (unless a later source says changed)
        self._judged: set[str] = set()
        self._fallback_done: set[str] = set()
        self.sources: dict[str, SourceTally] = {}

    # -- bookkeeping ---------------------------------------------------------------------------

    def _drop(self, reason: str, url: str) -> None:
        self.crawler.stats.inc_value(DROP_STAT.format(reason))
        self.logger.info("dropped %s: %s", reason, url)

    def _unreadable(self, response, what: str) -> None:
        """A discovery document that cannot be read: counted and logged; the other sources go on."""
        self.crawler.stats.inc_value("newsetl/discovery/unreadable")
        self.logger.warning("unreadable %s at %s", what, response.url)

    def _unreadable_source(self, response, document: Document) -> None:
        self._unreadable(response, document.problem or "document")
        self._tally(response).failures.append(["unreadable", f"{response.url}: {document.problem}"[:500]])

    def _tally(self, response_or_request) -> SourceTally:
        return self.sources[response_or_request.meta["source"]]

    def closed(self, reason: str) -> None:
        self.crawler.stats.set_value("newsetl/unchanged_not_fetched", len(self._unchanged - self._scheduled))
        self.fetch_log.close()
        RunDir(self.run_dir).sources.write_text(
            json.dumps({url: asdict(tally) for url, tally in self.sources.items()}, indent=1))

    def _request(self, url: str, callback, kind: str, edition: Edition | None = None, source: str | None = None,
                 **meta) -> scrapy.Request:
        """A discovery request; ``source``: the declared source it belongs to (itself when None)."""
        if source is None:
            source = url.split("?", 1)[0]
            self.sources.setdefault(source, SourceTally(kind, edition.language if edition else None))
        return scrapy.Request(url, callback=callback, errback=self.on_error, meta={"kind": kind, "source": source, **meta},
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
            yield self._request(self.outlet.edition_url(edition, path), self.parse_document, "feed", edition)
        for path in self.outlet.discovery.listings:
            yield self._request(self.outlet.edition_url(edition, path), self.parse_listing, "listing", edition)

    def _sitemap_sources(self):
        if "sitemaps" in self._fallback_done:
            return
        self._fallback_done.add("sitemaps")
        if self.outlet.discovery.sitemaps_from_robots:
            yield self._request(self.outlet.home + "robots.txt", self.parse_robots, "robots")
        for path in self.outlet.discovery.sitemaps:
            yield self._request(self.outlet.home + path, self.parse_document, "sitemap")

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
        endpoint = self.outlet.edition_url(edition, "wp-json/wp/v2/posts")
        self.sources.setdefault(endpoint, SourceTally("api", edition.language))
        # 400 is how WordPress says "past the last page"; the callback decides what it means.
        return self._request(endpoint + "?" + urlencode(query), self.parse_api, "api", edition, source=endpoint,
                             page=page, field=field, handle_httpstatus_list=[400])

    # -- judging a discovered URL --------------------------------------------------------------

    def _consider(self, url: str, published: datetime | None, modified: datetime | None, tally: SourceTally):
        """Schedule the article at ``url`` unless it is not ours, out of the window, or known and unchanged.

        A known article whose sources show a newer modification is fetched again wherever its
        publication date lies: that is an edit to record, not a new article.
        """
        tally.entries += 1
        try:
            request = scrapy.Request(url, callback=self.parse_article, errback=self.on_error, meta={"kind": "article"})
        except ValueError:  # a string Scrapy cannot request goes no further
            if url not in self._judged:
                self._judged.add(url)
                self._drop("not-article", url[:200])
            return None
        if url in self._scheduled:  # by another source, or earlier by this one
            tally.new += url not in self.known
            return None
        first_time = url not in self._judged
        self._judged.add(url)
        if not self.outlet.owns(url) or not self.outlet.is_article_url(url):
            if first_time:
                self._drop("off-domain" if not self.outlet.owns(url) else "not-article", url)
            return None
        stored = self.known.get(url)
        verdict = self.verdicts.get(url) if stored is None else None
        if verdict and (modified is None or modified <= verdict.judged_at):
            published = published or verdict.published
            # An out-of-window page is fetched again for a window that holds its date.
            if verdict.reason != "out-of-window" or not (published and self.window.contains(published)):
                if first_time:
                    self.crawler.stats.inc_value("newsetl/judged_before")
                    self._drop(verdict.reason, url)
                return None
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
        tally.new += stored is None
        request.cb_kwargs.update(listed=published, edition=self.outlet.edition_of(url), known=stored is not None)
        return request

    def _consider_all(self, entries: list[Entry], response):
        tally = self._tally(response)
        tally.documents += 1
        for entry in entries:
            if request := self._consider(entry.url, entry.published, entry.modified, tally):
                yield request

    # -- parsers -------------------------------------------------------------------------------

    def parse_api(self, response, edition: Edition):
        page = response.meta["page"]
        if response.status == 400:
            if page == 1:
                self._tally(response).failures.append(["http-error", f"{response.url}: HTTP 400 on the first page"])
                yield from self._fallback(edition)
            return  # past the last page
        try:
            posts = json.loads(response.text)
            links = [web_url(p["link"], response.url) if isinstance(p["link"], str) else None for p in posts]
            if None in links:
                raise TypeError("a post's link is not a web URL")
            entries = [Entry(link, parse_date(p.get("date_gmt")), parse_date(p.get("modified_gmt")))
                       for link, p in zip(links, posts, strict=True)]
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            self._unreadable_source(response, Document("unreadable", problem=f"WordPress API answer: {exc}"))
            yield from self._fallback(edition)
            return
        self.crawler.stats.inc_value("newsetl/discovery/api_posts", len(entries))
        yield from self._consider_all(entries, response)
        pages = response.headers.get("X-WP-TotalPages", b"0") or b"0"
        total_pages = int(pages) if pages.isdigit() else 0
        if entries and (page < total_pages or (not total_pages and len(entries) == API_PAGE_SIZE)):
            yield self._api_request(edition, page + 1, response.meta["field"])

    def parse_robots(self, response):
        self._tally(response).documents += 1
        for location in robots_sitemaps(response.body, response.url):
            yield from self._sitemap_request(response, location)

    def _sitemap_request(self, response, url: str):
        """A request for a sitemap that ``response`` (robots.txt, a sitemap index) names."""
        if url == response.url:  # an index naming itself would be fetched once anyway: say so
            self._unreadable(response, "sitemap index that lists itself")
            return
        yield self._request(url, self.parse_document, "sitemap", source=response.meta["source"])

    def parse_document(self, response, edition: Edition | None = None):
        """A feed or a sitemap (of any form), whichever it was declared as: its entries are judged,
        an index's children fetched."""
        body = response.body
        if body[:2] == b"\x1f\x8b":
            try:
                body = gunzip(body, max_size=self.crawler.settings.getint("DOWNLOAD_MAXSIZE"))
            except (OSError, ValueError, EOFError) as exc:  # a broken archive, or one inflating past the cap
                self._unreadable_source(response, Document("unreadable", problem=f"gzip: {type(exc).__name__}: {exc}"))
                return
        content_type = response.headers.get("Content-Type", b"").decode("latin-1") or None
        document = read_document(body, response.url, content_type)
        if document.problem and not (document.entries or document.sitemaps):
            self._unreadable_source(response, document)
            return
        for child in document.sitemaps:
            if child.modified and self.window.is_before(child.modified):
                continue  # nothing in that sitemap changed since the window began
            yield from self._sitemap_request(response, child.url)
        stat = "feed_entries" if document.kind == "feed" else "sitemap_urls"
        self.crawler.stats.inc_value(f"newsetl/discovery/{stat}", len(document.entries))
        yield from self._consider_all(document.entries, response)

    def parse_listing(self, response, edition: Edition):
        # Entries are cards with a link and a date; links elsewhere (menus, sidebars) carry no date
        # to judge the window by, so they are not followed.
        cards = response.css(self.outlet.discovery.listing_card)
        entries = []
        for card in cards:
            links = [link for h in card.css("a::attr(href)").getall() if (link := web_url(h, response.url))]
            url = next((link for link in links if self.outlet.is_article_url(link)), None)
            if url:
                entries.append(Entry(url, parse_date(card.css("time::attr(datetime)").get())))
        self.crawler.stats.inc_value("newsetl/discovery/listing_cards", len(cards))
        yield from self._consider_all(entries, response)
        dates = [entry.published for entry in entries if entry.published]
        # Listings run newest first: once a whole page is older than the window, stop paging.
        if dates and all(self.window.is_before(moment) for moment in dates):
            return
        next_page = response.css("a.next::attr(href), a[rel=next]::attr(href), link[rel=next]::attr(href)").get()
        if next_page:
            if not (next_url := web_url(next_page, response.url)):
                self._unreadable(response, f"listing's next page {next_page[:100]!r}")
                return
            yield self._request(next_url, self.parse_listing, "listing", edition, source=response.meta["source"])

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
        if kind != "article" and "source" in request.meta:
            self._tally(request).failures.append([reason, f"{original}: {detail}"[:500]])
        if not refused:
            self.crawler.stats.inc_value(f"newsetl/failed/{kind}")
        if kind == "article" or refused:
            self._drop(reason, original)
        self.logger.warning("%s %s failed: %s", kind, original, detail)
        if kind == "api" and "edition" in failure.request.cb_kwargs:
            yield from self._fallback(failure.request.cb_kwargs["edition"])
