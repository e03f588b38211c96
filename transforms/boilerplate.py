"""Learned boilerplate: paragraphs that recur across many articles of one outlet are not article text.

Rules name the boilerplate we know (the donation appeal, "Read also"); this catches what no rule
names — a new appeal, a promo, a widget heading — by counting in how many distinct articles of an
outlet a paragraph occurs. Counting distinct articles makes learning order-independent and
idempotent: loading the same articles again, or in another order, learns the same thing.
"""

from __future__ import annotations

import hashlib
from dataclasses import replace

from transforms.normalize import content_hash, count_words
from transforms.records import Article

MIN_ARTICLES = 3  # a paragraph in this many articles of one outlet is boilerplate; two may be a quote
EDGE_PARAGRAPHS = 4  # boilerplate sits at the start or the end of a body: only those are counted


def normalize_segment(text: str) -> str:
    return " ".join(text.split()).casefold()  # split() and re's \s agree on whitespace; split is twice as fast


def segment_hash(text: str) -> str:
    return hashlib.sha1(normalize_segment(text).encode("utf-8")).hexdigest()


def paragraphs_of(article: Article | str) -> list[str]:
    """The paragraphs of an article's body (or of a body given as text)."""
    body = article if isinstance(article, str) else article.body
    return [p for p in body.split("\n\n") if p.strip()]


def candidate_segments(article: Article) -> dict[str, str]:
    """hash → text of the paragraphs at the edges of the body, where boilerplate lives."""
    paragraphs = paragraphs_of(article)
    edges = paragraphs[:EDGE_PARAGRAPHS] + paragraphs[-EDGE_PARAGRAPHS:]
    return {segment_hash(p): p for p in edges}


def without_segments(article: Article, boilerplate: set[str]) -> Article:
    """The article with every paragraph whose hash is in ``boilerplate`` removed."""
    paragraphs = paragraphs_of(article)
    kept = [p for p in paragraphs if segment_hash(p) not in boilerplate]
    if len(kept) == len(paragraphs):
        return article
    body = "\n\n".join(kept)
    removed = dict(article.removed)
    removed["learned"] = removed.get("learned", 0) + len(paragraphs) - len(kept)
    return replace(article, body=body, word_count=count_words(body),
                   content_hash=content_hash(article.title, body), removed=removed)
