"""Reading discovery documents by the libraries made for them: feeds (RSS 0.9x/1.0/2.0, Atom
0.3/1.0) through feedparser, JSON Feed (which feedparser does not read) through the standard
library, XML sitemaps and sitemap indexes through Scrapy's sitemap reader, plain-text sitemaps
line by line, robots.txt's ``Sitemap:`` lines through Scrapy's helper.

A document is read by what it is, not by what it was declared as: a feed named as a sitemap (in
robots.txt or in the declaration) yields its entries, and so does a sitemap declared as a feed.
Pure functions of the document's bytes: fetching stays in the spider.
"""

from __future__ import annotations

import calendar
import json
import re
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from io import BytesIO
from urllib.parse import urldefrag, urljoin, urlsplit

import feedparser
from lxml import etree
from scrapy.utils.sitemap import Sitemap, sitemap_urls_from_robots
from w3lib.url import safe_url_string

from kernel.rules import in_zone

FEED_ROOTS = {"rss", "feed", "RDF", "channel"}
_BOMS = (b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")


@dataclass(frozen=True)
class Entry:
    """One URL a document lists, with the times it gives for it (None when it gives none)."""

    url: str
    published: datetime | None = None
    modified: datetime | None = None


@dataclass
class Document:
    """What a discovery document holds: ``entries`` (pages) and ``sitemaps`` (an index's children);
    ``problem`` says why nothing could be read from it."""

    kind: str  # feed, urlset, sitemapindex, text, or unreadable
    entries: list[Entry] = field(default_factory=list)
    sitemaps: list[Entry] = field(default_factory=list)
    problem: str | None = None


def web_url(location: str | None, base: str) -> str | None:
    """``location`` made absolute against ``base`` without its fragment, if it is an http(s) URL."""
    if not location or not location.strip():
        return None
    try:
        url = urldefrag(urljoin(base, location.strip()))[0]
        parts = urlsplit(url)
        safe_url_string(url)  # what Scrapy's requests are made of: it refuses bad ports, hosts …
    except ValueError:  # not a URL at all (an invalid IPv6 host, a port that is no number …)
        return None
    return url if parts.scheme in ("http", "https") and parts.hostname else None


def _moment(text: str | None) -> datetime | None:
    """A W3C/RFC 3339 datetime (``2024-05-01``, ``2024-05-01T10:00:00+02:00``) as an aware time."""
    if not text:
        return None
    try:
        return in_zone(datetime.fromisoformat(text.strip().replace("Z", "+00:00")))
    except ValueError:
        return None


def _struct_time(value: time.struct_time | None) -> datetime | None:
    """feedparser's parsed dates are UTC ``struct_time``s."""
    return datetime.fromtimestamp(calendar.timegm(value), tz=UTC) if value else None


class _NewsSitemap(Sitemap):
    """Scrapy's reader, also keeping a Google News entry's ``publication_date`` (nested one level down,
    where Scrapy's reader does not look)."""

    def _process_sitemap_element(self, elem):
        published = elem.xpath("./*[local-name()='news']/*[local-name()='publication_date']/text()")
        entry = super()._process_sitemap_element(elem)
        if entry is not None and published:
            entry["publication_date"] = published[0].strip()
        return entry


# The first element's name after the prolog, comments and doctype, for documents lxml refuses
# outright (a prolog that names the wrong encoding).
_FIRST_ELEMENT = re.compile(rb"<([A-Za-z_][\w.-]*:)?([A-Za-z_][\w.-]*)")


def _root_name(body: bytes) -> str | None:
    """The local name of the document's root element, or None when it has none."""
    try:
        for _, element in etree.iterparse(BytesIO(body), events=("start",), recover=True, resolve_entities=False):
            return etree.QName(element).localname
    except etree.XMLSyntaxError:
        pass
    head = re.sub(rb"<[?!][^>]*>", b"", body[:4096].replace(b"\x00", b""))
    found = _FIRST_ELEMENT.search(head)
    return found.group(2).decode("ascii") if found else None


def read_document(body: bytes, url: str, content_type: str | None = None) -> Document:
    """The entries (or child sitemaps) of the discovery document ``body`` fetched from ``url``."""
    start = body.lstrip()
    for bom in _BOMS:
        start = start.removeprefix(bom).lstrip()
    if not start:
        return Document("unreadable", problem="empty document")
    if start.startswith(b"{"):
        return _json_feed(body, url)
    if not start.startswith(b"<"):
        return _text_sitemap(body, url)
    root = _root_name(body)
    if root in ("urlset", "sitemapindex"):
        return _xml_sitemap(body, url, root)
    if root in FEED_ROOTS:
        return _feed(body, url, content_type)
    return Document("unreadable", problem=f"neither a feed nor a sitemap (root element {root or 'none'!r})")


def _feed(body: bytes, url: str, content_type: str | None) -> Document:
    headers = {"content-location": url}
    if content_type and "charset=" in content_type.lower():  # else the XML prolog (or a BOM) decides
        headers["content-type"] = content_type
    parsed = feedparser.parse(body, response_headers=headers, sanitize_html=False, resolve_relative_uris=False)
    entries = []
    for item in parsed.entries:
        # An aggregator's tracking link points at itself; feedburner keeps the article's own URL.
        link = web_url(item.get("feedburner_origlink") or item.get("link"), url)
        if link:
            # dict.get: feedparser's own get answers the publication time for a missing update time
            entries.append(Entry(link, _struct_time(item.get("published_parsed")),
                                 _struct_time(dict.get(item, "updated_parsed"))))
    problem = None
    if not parsed.entries and parsed.get("bozo"):
        problem = f"feed: {type(parsed.bozo_exception).__name__}: {parsed.bozo_exception}"
    return Document("feed", entries=entries, problem=problem)


def _json_feed(body: bytes, url: str) -> Document:
    """JSON Feed 1.x (jsonfeed.org): ``items`` with ``url`` and RFC 3339 ``date_published``/``date_modified``."""
    try:
        items = json.loads(body.decode("utf-8-sig")).get("items")
        if not isinstance(items, list):
            raise ValueError("no list of items")
    except (ValueError, AttributeError, UnicodeDecodeError) as exc:
        return Document("unreadable", problem=f"JSON feed: {exc}")
    entries = []
    for item in items:
        if isinstance(item, dict) and (link := web_url(str(item.get("url") or item.get("external_url") or ""), url)):
            entries.append(Entry(link, _moment(str(item.get("date_published") or "")),
                                 _moment(str(item.get("date_modified") or ""))))
    return Document("feed", entries=entries)


def _xml_sitemap(body: bytes, url: str, root: str) -> Document:
    document = Document(root)
    try:
        for item in _NewsSitemap(body):
            location = web_url(item.get("loc"), url)
            if not location:
                continue
            entry = Entry(location, _moment(item.get("publication_date")), _moment(item.get("lastmod")))
            (document.sitemaps if root == "sitemapindex" else document.entries).append(entry)
    except etree.XMLSyntaxError as exc:  # what recovery could not mend; what was read before it stays
        document.problem = f"sitemap: {exc}"
    return document


def _text_sitemap(body: bytes, url: str) -> Document:
    """The sitemap protocol's text form: one URL per line, UTF-8."""
    text = body.decode("utf-8", errors="replace").lstrip("\ufeff")
    entries = [Entry(location) for line in text.splitlines() if (location := web_url(line, url))
               and line.strip().lower().startswith(("http://", "https://"))]
    if not entries:
        return Document("unreadable", problem="not XML, and no line of it is a URL")
    return Document("text", entries=entries)


def robots_sitemaps(body: bytes, url: str) -> list[str]:
    """The sitemaps robots.txt at ``url`` names (absolute http(s) URLs), in its order, once each."""
    found = (web_url(location, url) for location in sitemap_urls_from_robots(body, base_url=url))
    return list(dict.fromkeys(location for location in found if location))
