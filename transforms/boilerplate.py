"""Learned boilerplate: paragraphs that recur across many articles of one outlet are not article text.

Rules name the boilerplate we know (the donation appeal, "Read also"); this catches what no rule
names — a new appeal, a promo, a widget heading — by counting in how many distinct articles of an
outlet a paragraph occurs. Counting distinct articles makes learning order-independent and
idempotent: loading the same articles again, or in another order, learns the same thing.
"""

from __future__ import annotations

import hashlib
from dataclasses import replace

from transforms.language import transliterate_mk
from transforms.normalize import content_hash, count_words, plain_content_hash, squeeze_whitespace
from transforms.records import Article

MIN_ARTICLES = 3  # a paragraph in this many articles of one outlet is boilerplate; two may be a quote
EDGE_PARAGRAPHS = 4  # boilerplate sits at the start or the end of a body: only those are counted


def normalize_segment(text: str) -> str:
    return squeeze_whitespace(text).casefold()


def segment_hash(text: str) -> str:
    return hashlib.sha1(normalize_segment(text).encode("utf-8")).hexdigest()


def paragraphs_of(article: Article | str) -> list[str]:
    """The paragraphs of an article's body (or of a body given as text)."""
    body = article if isinstance(article, str) else article.body
    return [p for p in body.split("\n\n") if p and not p.isspace()]  # as p.strip(), without a copy


def _plain_paragraph_hashes(body: str) -> tuple[list[str], list[str] | None]:
    """``segment_hash`` of each paragraph of the usual body, whose paragraphs are separated by exactly
    one blank line and whose only other whitespace is single spaces between words: checked on the
    whole body at once, and case-folded at once (case folding never makes or moves a line break),
    instead of paragraph by paragraph. ([], None) for any other body."""
    flat = body.replace("\n\n", " ")
    # Printable: no line break left, no whitespace but the plain space; no double space: no empty
    # paragraph and none starting or ending with a space. Each paragraph is then its own normal form
    # (an empty body has no paragraphs: the general way).
    if not (flat and flat.isprintable() and "  " not in flat and flat[:1] != " " and flat[-1:] != " "):
        return [], None
    paragraphs, folded = body.split("\n\n"), body.casefold().split("\n\n")
    if len(folded) != len(paragraphs):  # cannot happen (see above); the general way if it does
        return [], None
    sha1 = hashlib.sha1
    return paragraphs, [sha1(p.encode("utf-8")).hexdigest() for p in folded]


def hash_paragraphs(article: Article) -> tuple[list[str], dict[str, str], bool]:
    """The hash of each paragraph in order, hash → text of the candidates (the paragraphs at the
    edges of the body, where boilerplate lives), and whether the body is the usual plain one (see
    ``_plain_paragraph_hashes``). Computed once per load, for learning and removing."""
    paragraphs, hashes = _plain_paragraph_hashes(article.body)
    plain = hashes is not None
    if not plain:
        paragraphs = paragraphs_of(article)
        hashes = [segment_hash(p) for p in paragraphs]
    edges = list(zip(hashes, paragraphs, strict=True))
    return hashes, dict(edges[:EDGE_PARAGRAPHS] + edges[-EDGE_PARAGRAPHS:]), plain


def candidate_segments(article: Article) -> dict[str, str]:
    """hash → text of the paragraphs at the edges of the body."""
    return hash_paragraphs(article)[1]


def without_segments(article: Article, boilerplate: set[str], hashes: list[str] | None = None,
                     plain: bool = False) -> Article:
    """The article with every paragraph whose hash is in ``boilerplate`` removed (``hashes`` and
    ``plain`` as ``hash_paragraphs`` gives them)."""
    if hashes is None:
        hashes, _, plain = hash_paragraphs(article)
    if boilerplate.isdisjoint(hashes):
        return article
    paragraphs = paragraphs_of(article)
    kept = [p for digest, p in zip(hashes, paragraphs, strict=True) if digest not in boilerplate]
    dropped = [p for digest, p in zip(hashes, paragraphs, strict=True) if digest in boilerplate]
    body = "\n\n".join(kept)
    removed = dict(article.removed)
    removed["learned"] = removed.get("learned", 0) + len(dropped)
    # Words never span paragraphs, so the body's count drops by exactly the dropped paragraphs' words.
    word_count = article.word_count - sum(count_words(p) for p in dropped)
    return replace(article, body=body, body_latin=_latin_without(article, hashes, boilerplate, body),
                   word_count=word_count, removed=removed,
                   content_hash=plain_content_hash(article.title, kept) if plain else content_hash(article.title, body))


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
