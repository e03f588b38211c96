"""One path from a page to an Article or a named Drop, with the same rules for every caller: the
run, re-extraction from the archive, ``newsetl extract`` and the benchmarks.

The rules, in order: the page's size cap (bytes), decoding by evidence, extraction, cleaning and normalisation
(``to_article``), the run's window (for a page not already in the warehouse) and the word floor.
A drop keeps the article it rejected, when there was one, so a caller can still show it.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass

from kernel.records import Article, Drop, Lineage
from kernel.registry import Outlet
from kernel.rules import MAX_HTML_BYTES, MIN_WORDS
from kernel.window import Window
from transforms.encoding import UndecodablePage, decode_html
from transforms.extract import ExtractionError, extract
from transforms.normalize import to_article

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Rejected(Drop):
    """A drop of a page that did become an article first (too short, out of the window)."""

    article: Article | None = None


def decode_page(body: bytes, headers: Mapping[str, str] | None) -> str | bytes:
    """The page as the extractor reads it. A page fetched over HTTP (``headers`` given) is decoded
    by evidence (``transforms.encoding``); a saved file without headers is left to trafilatura's own
    decoding."""
    if headers is None:
        return body
    content_type = next((value for name, value in headers.items() if name.lower() == "content-type"), None)
    return decode_html(body, content_type)


def page_to_article(body: bytes, url: str, outlet: Outlet, lineage: Lineage, *,
                    headers: Mapping[str, str] | None = None, window: Window | None = None,
                    known: bool = False) -> Article | Drop:
    """The article ``body`` (the page's bytes) holds, or the reason it holds none.

    ``window``: the run's; an article published outside it is dropped unless it is ``known`` (already
    stored, fetched again because it changed)."""
    if len(body) > MAX_HTML_BYTES:
        return Drop("too-large", f"{len(body)} bytes is over the {MAX_HTML_BYTES}-byte limit")
    try:
        extracted = extract(decode_page(body, headers), url, outlet)
        article = to_article(extracted, outlet, edition=lineage.edition, run_id=lineage.run_id,
                             fetched_at=lineage.fetched_at, warc_file=lineage.warc_file,
                             warc_offset=lineage.warc_offset)
    except UndecodablePage as exc:
        log.warning("dropped encoding: %s (%s)", url, exc)
        return Drop("encoding", str(exc))
    except ExtractionError as exc:
        log.warning("dropped %s: %s (%s)", exc.reason, url, exc)
        return Drop(exc.reason, str(exc))
    except Exception as exc:  # one bad page must not lose the rest of the run
        log.exception("dropped extract-failed: %s", url)
        return Drop("extract-failed", f"{type(exc).__name__}: {exc}")
    if window and article.published_at and not window.contains(article.published_at) and not known:
        return Rejected("out-of-window", f"published {article.published_at.isoformat()}", article)
    if article.word_count < MIN_WORDS:
        log.warning("dropped too-short: %s (%d words)", url, article.word_count)
        return Rejected("too-short", f"{article.word_count} words, fewer than {MIN_WORDS}", article)
    return article
