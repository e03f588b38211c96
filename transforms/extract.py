"""Extract: a raw HTML page → Extracted, with trafilatura for the body and the metadata.

The outlet's ``drop_selectors`` are pruned from the page first, and then, on every outlet, small
widgets that name themselves in their class or id (author boxes, share bars, newsletter boxes,
related posts, tables of contents), so widgets that sit inside the article container never reach
trafilatura.
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
from w3lib.url import canonicalize_url

from kernel.records import Extracted
from kernel.registry import Outlet
from kernel.rules import MIN_WORDS, count_words, in_zone
from transforms.clean import ends_in_teasers
from transforms.compat import page_metadata, parse_html
from transforms.normalize import squeeze_whitespace

_TRAFILATURA_OPTIONS = {"include_comments": False, "include_tables": True, "include_images": False,
                        "include_links": False, "deduplicate": False}
_PRECISE_FAST = {"favor_precision": True, "fast": True}
_PRECISE = {"favor_precision": True}
# A precise body this long is the article; a shorter one may have lost part of it and is checked.
# Characters, not words: Chinese and Japanese count a word per character, which would make a short
# East-Asian body look long.
ARTICLE_CHARS = 1400
MIN_PRECISE_SHARE = 0.5  # of the balanced body's paragraphs: less means precision cut the article, not boilerplate
PARAGRAPH_WORDS = 12  # a shorter line is not article text: it weighs nothing against a precise body, identifies no container
_ISO_WITH_OFFSET = "%Y-%m-%dT%H:%M:%S%z"


class ExtractionError(ValueError):
    """The page could not be turned into an article; ``reason`` names the drop counter."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason


@lru_cache(maxsize=256)
def _css_to_xpath(selector: str) -> etree.XPath:
    return etree.XPath(GenericTranslator().css_to_xpath(selector))


def _remove(element) -> bool:
    parent = element.getparent()
    if parent is None:
        return False
    # keep the text that follows the element (its tail) in the document
    if element.tail and element.tail.strip():
        previous = element.getprevious()
        if previous is not None:
            previous.tail = (previous.tail or "") + element.tail
        else:
            parent.text = (parent.text or "") + element.tail
    parent.remove(element)
    return True


def prune(tree, selectors: list[str]) -> int:
    return sum(_remove(element) for selector in selectors for element in _css_to_xpath(selector)(tree))


# Widgets that sites put inside the article container, named by their class or id on any site:
# author boxes, share and like bars, newsletter boxes, related-story lists, tables of contents,
# affiliate disclosures. A name counts as a whole word of the class or id ("share", "post-share",
# "related-items"; not "shared" or "toc_1"). An element holding more words than a widget does is
# kept whatever its name: a wrapper named so must not take the article with it.
_WIDGET_NAME = re.compile(
    r"(?:^|[\s-])(?:saboxplugin-wrap|author-?bio|author-?box|about-?author|entry-author|author-?info"
    r"|sharedaddy|sd-sharing|sd-block|sharing|share|social|likes-widget|jp-post-flair|sharebar"
    r"|newsletter|subscribe|subscription"
    r"|related|relacionad\w*|verwandt\w*|more-?stories|next-?post|nextstory"
    r"|toc|ez-toc-container|table-of-contents"
    r"|disclosure|affiliate\w*)(?:$|[\s-])", re.IGNORECASE)
# The names themselves rather than the named elements: a string is cheaper to hand over than an element.
_NAMES = etree.XPath("//body//*/@class | //body//*/@id")
WIDGET_MAX_WORDS = 80


def prune_widgets(tree) -> int:
    """Remove the named widgets of ``_WIDGET_NAME`` that hold at most ``WIDGET_MAX_WORDS`` words."""
    widgets: list = []
    for name in _NAMES(tree):  # in document order, an element's class and id one after the other
        if _WIDGET_NAME.search(name):
            element = name.getparent()
            if not widgets or widgets[-1] is not element:
                widgets.append(element)
    return sum(_remove(element) for element in widgets
               if count_words(element.text_content()) <= WIDGET_MAX_WORDS)


def _page_time(tree, url: str, outlet: Outlet, original: bool, extensive: bool = False) -> datetime | None:
    """htmldate's reading of the page (and of a date in its URL), for pages that declare no time.

    ``extensive``: htmldate also reads dates out of the page's text and links, which is slower and
    errs more, so it is for a page where the quick search found nothing."""
    return _declared_time(find_date(tree, url=url, outputformat=_ISO_WITH_OFFSET, original_date=original,
                            extensive_search=extensive), outlet)


# The meta tags that declare each time (attribute, value), and one XPath for both times' candidates:
# a walk over every element is the dear part, so it is made once, not once per time.
_DECLARING_META = {
    "datePublished": {("property", "article:published_time"), ("name", "article:published_time"),
                      ("itemprop", "datePublished"), ("name", "pubdate"), ("property", "og:published_time")},
    "dateModified": {("property", "article:modified_time"), ("name", "article:modified_time"),
                     ("itemprop", "dateModified"), ("property", "og:updated_time")},
}
_DECLARED = etree.XPath(
    "//meta[" + " or ".join(sorted({f'@{name}="{value}"' for pairs in _DECLARING_META.values() for name, value in pairs}))
    + ']/@content | //*[@itemprop="datePublished" or @itemprop="dateModified"]/@datetime')


def _json_ld(tree) -> list:
    """The page's JSON-LD blocks, parsed; malformed ones are skipped."""
    blocks = []
    for script in tree.xpath('//script[@type="application/ld+json"]/text()'):
        try:
            blocks.append(json.loads(script))
        except ValueError:
            continue
    return blocks


def _declared_times(tree, json_ld: list) -> dict[str, datetime]:
    """The times (``datePublished``, ``dateModified``) a page declares with their offset (meta tags, JSON-LD).

    Date guessers lose the time of day or the offset; a declared full timestamp is exact.
    """
    candidates: dict[str, list[str]] = {key: [] for key in _DECLARING_META}
    for value in _DECLARED(tree):  # in document order, as each time's own search would give them
        element = value.getparent()
        if value.attrname == "datetime":  # an element's datetime, for the time its itemprop names
            keys = [element.get("itemprop")]
        else:  # a meta tag's content, for each time the tag declares
            keys = [key for key, pairs in _DECLARING_META.items()
                    if any(element.get(name) == wanted for name, wanted in pairs)]
        for key in keys:
            candidates[key].append(str(value))
    for data in json_ld:
        for key, found in candidates.items():
            found += _json_values(data, key)
    return {key: moment for key, texts in candidates.items() if (moment := _first_declared_time(texts)) is not None}


def _first_declared_time(texts: list[str]) -> datetime | None:
    for text in texts:
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
            elif name == key and isinstance(value, list) and all(isinstance(item, str) for item in value):
                yield from value  # "@type": ["NewsArticle", "Article"]
            else:
                yield from _json_values(value, key)
    elif isinstance(node, list):
        for item in node:
            yield from _json_values(item, key)


def _declared_time(found: str | None, outlet: Outlet) -> datetime | None:
    """A time the page declares; without an offset it speaks in the outlet's local time."""
    if not found:
        return None
    moment = datetime.strptime(found, _ISO_WITH_OFFSET) if found[-5] in "+-" else datetime.fromisoformat(found)
    return in_zone(moment, ZoneInfo(outlet.timezone))


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


def _declares_article(document, json_ld: list) -> bool:
    """The page says it is an article: ``og:type`` article, or a JSON-LD Article, *NewsArticle or Report."""
    if (document.pagetype or "").lower() == "article":
        return True
    types = (kind for data in json_ld for kind in _json_values(data, "@type"))
    return any(kind in ("Article", "Report") or kind.endswith("NewsArticle") for kind in types)


def _trafilatura_text(tree, url: str, **options) -> str:
    body = trafilatura.bare_extraction(tree, url=url, **_TRAFILATURA_OPTIONS, **options)  # reads a copy of tree
    return (body.text or "").strip() if body is not None else ""


def precise_is_enough(precise: str, balanced: str) -> bool:
    """Whether a short precise body is the article rather than a cut of it: it has ``MIN_WORDS`` and
    at least ``MIN_PRECISE_SHARE`` of the balanced body's paragraph-sized lines. What the balanced
    reading adds in short lines (menus, labels, footer links) is not article, however much of it."""
    paragraphs = sum(len(line) for line in balanced.splitlines() if count_words(line) >= PARAGRAPH_WORDS)
    return count_words(precise) >= MIN_WORDS and len(precise) >= MIN_PRECISE_SHARE * paragraphs


def _body_text(tree, url: str, declared_article: bool) -> str:
    """The article text, read with trafilatura's precision focus when the page declares an article.

    Precision leaves out more of what surrounds an article (related links, newsletter boxes,
    standfirsts) but can lose part of the article itself, so a short precise body is checked: first
    against precision without fast mode (which skips the comparison with readability and jusText,
    and can miss a whole article), then against the balanced reading (``precise_is_enough``).
    Only the pages whose precise body is short pay a second run.
    Other pages (home pages, listings, shops, forums) keep the balanced reading, which precision
    cuts too much on.
    """
    if not declared_article:
        return _trafilatura_text(tree, url)
    for options in (_PRECISE_FAST, _PRECISE):
        precise = _trafilatura_text(tree, url, **options)
        # a reading that runs on into teasers of other stories took too wide a container: read again
        if len(precise) >= ARTICLE_CHARS and not ends_in_teasers([line for line in precise.splitlines()
                                                                  if line.strip()]):
            return precise
    balanced = _trafilatura_text(tree, url)
    return precise if precise_is_enough(precise, balanced) else balanced


# An article cut into several containers of one class by ads or widgets between them (each container
# a sibling, or the child of siblings alike) is read by trafilatura from one container only.
_SPLIT_CHUNK_PARAGRAPHS = 3  # a container adds its paragraphs only when it holds this many new ones
_SPLIT_MAX_CHUNKS = 30
_P_CONTAINING = etree.XPath("//p[contains(., $start)]")
_P_STARTING = etree.XPath("//p[starts-with(normalize-space(.), $start)]")  # slower: spacing differs


def _chunk_of(tree, paragraph: str):
    """The nearest ancestor with a class of the ``<p>`` that ``paragraph`` was read from."""
    start = squeeze_whitespace(paragraph)[:60]
    for found in _P_CONTAINING(tree, start=start) or _P_STARTING(tree, start=start):
        return next((parent for parent in found.iterancestors() if parent.get("class")), None)
    return None


def _mostly_links(element, text: str) -> bool:
    """Whether link text is over half of ``text``, the element's squeezed text."""
    return sum(len(squeeze_whitespace(link.text_content())) for link in element.iter("a")) > len(text) / 2


def _chunk_paragraphs(chunk) -> list[str]:
    """The chunk's ``<p>`` texts long enough to be article text and not mostly link text."""
    texts = []
    for element in chunk.iter("p"):
        text = squeeze_whitespace(element.text_content())
        if count_words(text) < PARAGRAPH_WORDS or _mostly_links(element, text):
            continue
        texts.append(text)
    return texts


def _complete_split_article(tree, paragraphs: list[str]) -> list[str]:
    """``paragraphs`` with those of the article's other containers, in document order."""
    long = [paragraph for paragraph in paragraphs if count_words(paragraph) >= PARAGRAPH_WORDS]
    if len(long) < 2:
        return paragraphs
    last = _chunk_of(tree, long[-1])
    if last is None or last.tag == "blockquote":
        return paragraphs
    parent = last.getparent()
    if parent is None or parent.tag == "article":  # an article element per chunk: other articles
        return paragraphs
    alike = [element for element in tree.iter(last.tag) if element.get("class") == last.get("class")]
    if not 2 <= len(alike) <= _SPLIT_MAX_CHUNKS:
        return paragraphs
    chunks = [element for element in alike if not any(a in alike for a in element.iterancestors())]
    for chunk in chunks:
        other = chunk.getparent()
        if other is not parent and ((other.tag, other.get("class")) != (parent.tag, parent.get("class"))
                                    or other.getparent() is not parent.getparent()):
            return paragraphs  # a chunk elsewhere on the page: a teaser or another post, not this article
    body = squeeze_whitespace(" ".join(paragraphs))
    if sum(text[:60] in body for text in _chunk_paragraphs(last)) < 2:
        return paragraphs
    first = _chunk_of(tree, long[0])
    start = chunks.index(first) if first in chunks else chunks.index(last)
    end = chunks.index(last)
    before, after = [], []
    for index, chunk in enumerate(chunks):
        if start <= index <= end:
            continue
        new = [text for text in _chunk_paragraphs(chunk) if text[:60] not in body]
        if len(new) >= _SPLIT_CHUNK_PARAGRAPHS:
            (before if index < start else after).extend(new)
    return before + paragraphs + after if before or after else paragraphs


# The standfirst (lead, intro, teaser…) of an article often sits in its header, apart from the body
# container, and trafilatura leaves it out. It is looked for just before the body's first paragraph:
# an element named so in its class or id, inside the same <article> element as the body. A one-line
# dek under the headline is a subtitle rather than text, so only a paragraph-sized lead is taken.
_LEAD_NAME = re.compile(r"(?:^|[\s_-])(?:(?:lead|intro)(?:text)?|(?:article)?teaser|summary|abstract|excerpt|chapo"
                        r"|standfirst|preface)(?:$|[\s_-])", re.IGNORECASE)
LEAD_MIN_WORDS = 20
LEAD_MAX_WORDS = 120  # more is a block of text or teasers, not a standfirst
# a picture, video, caption, link or list is not a standfirst, whatever its container is called
_NOT_LEAD_TAGS = frozenset({"a", "li", "ul", "nav", "aside", "footer", "figure", "figcaption", "img", "picture"})
_NOT_IN_LEAD = ("figure", "img", "picture", "video", "iframe", "h1")
_UNREAD_TAGS = frozenset({"script", "style", "noscript", "template", "button"})
_ANY_CONTAINING = etree.XPath("//body//*[text()[contains(., $start)]]")


def _first_body_element(tree, paragraphs: list[str]):
    for paragraph in paragraphs[:3]:
        start = squeeze_whitespace(paragraph)[:40]
        found = _P_CONTAINING(tree, start=start) or _ANY_CONTAINING(tree, start=start)
        if found:
            return found[0]
    return None


def _lead_text(element):
    """The element's text without scripts, styles and buttons."""
    if element.text and element.tag not in _UNREAD_TAGS:
        yield element.text
    for child in element:
        if isinstance(child.tag, str) and child.tag not in _UNREAD_TAGS:
            yield from _lead_text(child)
        if child.tail:
            yield child.tail


def _with_lead(tree, paragraphs: list[str]) -> list[str]:
    """``paragraphs`` with the article's standfirst in front when trafilatura left it out."""
    if next(tree.iter("article"), None) is None:  # the common page: no <article>, nothing to look up
        return paragraphs
    anchor = _first_body_element(tree, paragraphs)
    if anchor is None:
        return paragraphs
    # Outside the body's <article> a lead may belong to another story or to the page's header; what
    # precedes the body inside its outermost <article> is all that can hold the body's own.
    story = next(reversed(list(anchor.iterancestors("article"))), None)
    if story is None:
        return paragraphs
    holders = set(anchor.iterancestors())
    lead = None
    for element in story.iter("*"):
        if element is anchor:
            break
        if element in holders or not isinstance(element.tag, str):
            continue
        if _LEAD_NAME.search(f"{element.get('class') or ''} {element.get('id') or ''}"):
            if lead is None or lead not in set(element.iterancestors()):  # the outermost of nested names
                lead = element
    if lead is None or lead.tag in _NOT_LEAD_TAGS or next(lead.iter(*_NOT_IN_LEAD), None) is not None:
        return paragraphs
    if any(a.tag in ("nav", "aside", "footer") for a in lead.iterancestors()):
        return paragraphs
    text = squeeze_whitespace(" ".join(_lead_text(lead)))
    if not LEAD_MIN_WORDS <= count_words(text) <= LEAD_MAX_WORDS:
        return paragraphs
    if _mostly_links(lead, text):
        return paragraphs
    if text[:60] in squeeze_whitespace(" ".join(paragraphs)):
        return paragraphs
    return [text, *paragraphs]


def _lead_image(tree, url: str) -> str | None:
    """A featured picture given only as a CSS background (PenNews and similar themes)."""
    for element in tree.xpath('//*[contains(@style, "background-image")]'):
        if match := _BACKGROUND_IMAGE.search(element.get("style", "")):
            return urljoin(url, match.group(1).strip())
    return None


def extract(html: bytes | str, url: str, outlet: Outlet) -> Extracted:
    tree = parse_html(html)
    if tree is None:
        raise ExtractionError("not-html", "not parseable as HTML")
    json_ld = _json_ld(tree)
    declared = _declared_times(tree, json_ld)
    published = (declared.get("datePublished") or _page_time(tree, url, outlet, original=True)
                 or _page_time(tree, url, outlet, original=True, extensive=True))
    modified = declared.get("dateModified") or _page_time(tree, url, outlet, original=False)
    declared_language = (tree.get("lang") or "").split("-")[0].lower() or None
    alternates = _alternates(tree, url, outlet)
    document = page_metadata(tree, url)
    image = document.image or _lead_image(tree, url)
    prune(tree, outlet.cleaning.drop_selectors)
    prune_widgets(tree)
    declares_article = _declares_article(document, json_ld)
    text = _body_text(tree, url, declares_article)
    if not text:
        raise ExtractionError("no-text", "no article text found")
    paragraphs = [line.strip() for line in text.splitlines() if line.strip()]
    if declares_article:
        paragraphs = _complete_split_article(tree, paragraphs)
    paragraphs = _with_lead(tree, paragraphs)
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
        image_url=image,
        description=document.description or None,
        declared_language=declared_language,
        alternates=alternates,
    )
