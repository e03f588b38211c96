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
    # Most paragraphs are already normalised: printable text has no whitespace but the plain space,
    # so without a double, leading or trailing space split-and-join would give it back unchanged.
    if not (text.isprintable() and "  " not in text and text[:1] != " " and text[-1:] != " "):
        text = " ".join(text.split())  # split() and re's \s agree on whitespace; split is twice as fast
    return text.casefold()


def segment_hash(text: str) -> str:
    return hashlib.sha1(normalize_segment(text).encode("utf-8")).hexdigest()


def paragraphs_of(article: Article | str) -> list[str]:
    """The paragraphs of an article's body (or of a body given as text)."""
    body = article if isinstance(article, str) else article.body
    return [p for p in body.split("\n\n") if p and not p.isspace()]  # as p.strip(), without a copy


def paragraph_hashes(article: Article) -> list[str]:
    """The hash of each paragraph, in order: computed once per load, for learning and for removing."""
    return [segment_hash(p) for p in paragraphs_of(article)]


def candidate_segments(article: Article, hashes: list[str] | None = None) -> dict[str, str]:
    """hash → text of the paragraphs at the edges of the body, where boilerplate lives."""
    paragraphs = paragraphs_of(article)
    hashed = list(zip(paragraph_hashes(article) if hashes is None else hashes, paragraphs, strict=True))
    return dict(hashed[:EDGE_PARAGRAPHS] + hashed[-EDGE_PARAGRAPHS:])


def without_segments(article: Article, boilerplate: set[str], hashes: list[str] | None = None) -> Article:
    """The article with every paragraph whose hash is in ``boilerplate`` removed."""
    paragraphs = paragraphs_of(article)
    hashes = paragraph_hashes(article) if hashes is None else hashes
    if boilerplate.isdisjoint(hashes):
        return article
    kept = [p for digest, p in zip(hashes, paragraphs, strict=True) if digest not in boilerplate]
    dropped = [p for digest, p in zip(hashes, paragraphs, strict=True) if digest in boilerplate]
    body = "\n\n".join(kept)
    removed = dict(article.removed)
    removed["learned"] = removed.get("learned", 0) + len(dropped)
    # Words never span paragraphs, so the body's count drops by exactly the dropped paragraphs' words.
    word_count = article.word_count - sum(count_words(p) for p in dropped)
    return replace(article, body=body, word_count=word_count,
                   content_hash=content_hash(article.title, body), removed=removed)
