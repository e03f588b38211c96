"""Extract: a raw HTML page → Extracted, with trafilatura for the body and the metadata.

The outlet's ``drop_selectors`` are pruned from the page first, so widgets that sit inside the
article container (share bars, related posts, embeds) never reach trafilatura.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from functools import lru_cache
from urllib.parse import urljoin, urlsplit
from zoneinfo import ZoneInfo

import trafilatura
from cssselect import GenericTranslator
from htmldate import find_date
from lxml import etree
from trafilatura.utils import load_html
from w3lib.url import canonicalize_url

from newsetl.registry import Outlet
from transforms.records import Extracted

MAX_HTML_BYTES = 5 * 1024 * 1024  # larger pages are not articles worth parsing
_ISO_WITH_OFFSET = "%Y-%m-%dT%H:%M:%S%z"


class ExtractionError(ValueError):
    """The page could not be turned into an article; ``reason`` names the drop counter."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason


@lru_cache(maxsize=256)
def _css_to_xpath(selector: str) -> etree.XPath:
    return etree.XPath(GenericTranslator().css_to_xpath(selector))


def prune(tree, selectors: list[str]) -> int:
    removed = 0
    for selector in selectors:
        for element in _css_to_xpath(selector)(tree):
            parent = element.getparent()
            if parent is not None:
                # keep the text that follows the element (its tail) in the document
                if element.tail and element.tail.strip():
                    previous = element.getprevious()
                    if previous is not None:
                        previous.tail = (previous.tail or "") + element.tail
                    else:
                        parent.text = (parent.text or "") + element.tail
                parent.remove(element)
                removed += 1
    return removed


# Asked of trafilatura's own date search, so the publication time costs no second pass.
_PUBLISHED_DATE_PARAMS = {"original_date": True, "extensive_search": False, "outputformat": _ISO_WITH_OFFSET}


def _page_time(tree, outlet: Outlet, original: bool) -> datetime | None:
    return _aware(find_date(tree, outputformat=_ISO_WITH_OFFSET, original_date=original, extensive_search=False),
                  outlet)


_PUBLISHED_XPATH = ('//meta[@property="article:published_time" or @name="article:published_time"'
                    ' or @itemprop="datePublished" or @name="pubdate" or @property="og:published_time"]/@content'
                    ' | //*[@itemprop="datePublished"]/@datetime')


def _declared_published(tree) -> datetime | None:
    """The publication time a page declares with its offset (meta tags, JSON-LD), if any.

    Date guessers lose the time of day or the offset; a declared full timestamp is exact.
    """
    candidates = [str(value) for value in tree.xpath(_PUBLISHED_XPATH)]
    for script in tree.xpath('//script[@type="application/ld+json"]/text()'):
        try:
            candidates += list(_json_values(json.loads(script), "datePublished"))
        except ValueError:
            continue
    for text in candidates:
        try:
            moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
        except ValueError:
            continue
        if moment.tzinfo is not None:
            return moment
    return None


def _json_values(node, key: str):
    if isinstance(node, dict):
        for name, value in node.items():
            if name == key and isinstance(value, str):
                yield value
            else:
                yield from _json_values(value, key)
    elif isinstance(node, list):
        for item in node:
            yield from _json_values(item, key)


def _aware(found: str | None, outlet: Outlet) -> datetime | None:
    if not found:
        return None
    moment = datetime.strptime(found, _ISO_WITH_OFFSET) if found[-5] in "+-" else datetime.fromisoformat(found)
    # A page without an offset speaks in the outlet's local time.
    return moment if moment.tzinfo else moment.replace(tzinfo=ZoneInfo(outlet.timezone))


def _canonical(url: str, declared: str | None, outlet: Outlet) -> str:
    candidate = urljoin(url, declared) if declared else url
    if not outlet.owns(candidate) or urlsplit(candidate).scheme not in ("http", "https"):
        candidate = url
    return canonicalize_url(candidate, keep_fragments=False)


def _alternates(tree, url: str, outlet: Outlet) -> dict[str, str]:
    """The page's declared translations (hreflang links) on the outlet's own domains."""
    found = {}
    for link in tree.xpath('//head/link[@rel="alternate"][@hreflang]'):
        language = link.get("hreflang", "").split("-")[0].lower()
        href = urljoin(url, link.get("href", ""))
        if language and language != "x" and outlet.owns(href):
            found[language] = canonicalize_url(href, keep_fragments=False)
    return dict(sorted(found.items()))


# Byline words that are not part of a name, in the languages of the outlets.
_BYLINE_PREFIX = re.compile(r"^(by|from|од|пишува|автор|autor|author|nga|shkruan|piše|pise|napisao|написао)\b[:\s]*",
                            re.IGNORECASE)


def _split_authors(raw: str | None) -> list[str]:
    if not raw:
        return []
    names = (_BYLINE_PREFIX.sub("", name.strip()).strip(" ,:") for name in re.split(r";|\s+&\s+|\s+и\s+|\s+and\s+", raw))
    return [name for name in names if name]


_BACKGROUND_IMAGE = re.compile(r"background-image\s*:\s*url\(\s*['\"]?([^'\")]+)", re.IGNORECASE)


def _lead_image(tree, url: str) -> str | None:
    """A featured picture given only as a CSS background (PenNews and similar themes)."""
    for element in tree.xpath('//*[contains(@style, "background-image")]'):
        if match := _BACKGROUND_IMAGE.search(element.get("style", "")):
            return urljoin(url, match.group(1).strip())
    return None


def extract(html: bytes | str, url: str, outlet: Outlet) -> Extracted:
    if len(html) > MAX_HTML_BYTES:
        raise ExtractionError("too-large", f"{len(html)} bytes is over the {MAX_HTML_BYTES}-byte limit")
    tree = load_html(html)
    if tree is None:
        raise ExtractionError("extract-failed", "not parseable as HTML")
    modified = _page_time(tree, outlet, original=False)
    declared_published = _declared_published(tree)
    declared_language = (tree.get("lang") or "").split("-")[0].lower() or None
    alternates = _alternates(tree, url, outlet)
    css_image = _lead_image(tree, url)
    prune(tree, outlet.cleaning.drop_selectors)
    document = trafilatura.bare_extraction(
        tree, url=url, with_metadata=True, include_comments=False, include_tables=True,
        include_images=False, include_links=False, deduplicate=False, date_extraction_params=_PUBLISHED_DATE_PARAMS,
    )
    if document is None or not (document.text or "").strip():
        raise ExtractionError("extract-failed", "no article text found")
    paragraphs = [line.strip() for line in document.text.splitlines() if line.strip()]
    published = declared_published or _aware(document.date, outlet)
    return Extracted(
        url=url,
        canonical_url=_canonical(url, document.url, outlet),
        title=(document.title or "").strip(),
        site_name=(document.sitename or "").strip() or None,
        paragraphs=paragraphs,
        authors=_split_authors(document.author),
        published_at=published,
        modified_at=modified if modified and (published is None or modified >= published) else published,
        section=(document.categories or [None])[0],
        tags=list(document.tags or []),
        image_url=document.image or css_image,
        description=document.description or None,
        declared_language=declared_language,
        alternates=alternates,
    )
