"""Learned boilerplate: paragraphs that recur across many articles of one outlet are not article text.

Rules name the boilerplate we know (the donation appeal, "Read also"); this catches what no rule
names — a new appeal, a promo, a widget heading — by counting in how many distinct articles of an
outlet a paragraph occurs. Counting distinct articles makes learning order-independent and
idempotent: loading the same articles again, or in another order, learns the same thing.
"""

from __future__ import annotations

from dataclasses import replace

from kernel.records import Article
from kernel.rules import count_words
from transforms.language import transliterate_mk
from transforms.normalize import (
    content_hash,
    paragraph_hashes,
    plain_content_hash,
    split_paragraphs,
)

EDGE_PARAGRAPHS = 4  # boilerplate sits at the start or the end of a body: only those are counted


def paragraphs_of(article: Article | str) -> list[str]:
    """The paragraphs of an article's body (or of a body given as text)."""
    return split_paragraphs(article if isinstance(article, str) else article.body)


def hash_paragraphs(article: Article) -> tuple[list[str], list[str], dict[str, str], bool]:
    """The paragraphs of the body, the hash of each in order, hash → text of the candidates (the
    paragraphs at the edges of the body, where boilerplate lives), and whether the body is the usual
    plain one (see ``paragraph_hashes``). Taken once per load, for learning and removing; the hashes
    the transform took of a plain body are used when the article carries them."""
    hashes = article.paragraph_hashes
    paragraphs = paragraphs_of(article) if hashes is not None else None
    plain = True
    if paragraphs is None or len(hashes) != len(paragraphs):
        paragraphs, hashes, plain = paragraph_hashes(article.body)
    edges = list(zip(hashes, paragraphs, strict=True))
    return paragraphs, hashes, dict(edges[:EDGE_PARAGRAPHS] + edges[-EDGE_PARAGRAPHS:]), plain


def candidate_segments(article: Article) -> dict[str, str]:
    """hash → text of the paragraphs at the edges of the body."""
    return hash_paragraphs(article)[2]


def without_segments(article: Article, boilerplate: set[str], taken: tuple | None = None) -> Article:
    """The article with every paragraph whose hash is in ``boilerplate`` removed (``taken``: what
    ``hash_paragraphs`` gave for it, if at hand)."""
    paragraphs, hashes, _, plain = taken or hash_paragraphs(article)
    if boilerplate.isdisjoint(hashes):
        return article
    kept = [p for digest, p in zip(hashes, paragraphs, strict=True) if digest not in boilerplate]
    dropped = [p for digest, p in zip(hashes, paragraphs, strict=True) if digest in boilerplate]
    body = "\n\n".join(kept)
    removed = dict(article.removed)
    removed["learned"] = removed.get("learned", 0) + len(dropped)
    # Words never span paragraphs, so the body's count drops by exactly the dropped paragraphs' words.
    word_count = article.word_count - sum(count_words(p) for p in dropped)
    cleaned = replace(article, body=body, body_latin=_latin_without(article, hashes, boilerplate, body),
                      word_count=word_count, removed=removed,
                      content_hash=plain_content_hash(article.title, kept) if plain else content_hash(article.title, body))
    # What is kept of a plain body is plain, unless nothing is.
    return cleaned.with_paragraph_hashes([digest for digest in hashes if digest not in boilerplate] if plain and kept else None)


def _latin_without(article: Article, hashes: list[str], boilerplate: set[str], body: str) -> str | None:
    """The Latin copy of a Macedonian body (searched too) without the same paragraphs.

    Transliteration maps letters only, so its paragraphs line up with the body's; cutting them is
    far cheaper than transliterating the body again, which stays the fallback."""
    if article.body_latin is None:
        return None
    latin = paragraphs_of(article.body_latin)
    if len(latin) != len(hashes):
        return transliterate_mk(body)
    return "\n\n".join(text for digest, text in zip(hashes, latin, strict=True) if digest not in boilerplate)
