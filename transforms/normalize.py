"""Normalize: Extracted + its RawPage → Article (clean title/body, language, hash, counts)."""

from __future__ import annotations

import hashlib
import unicodedata
from datetime import datetime

import trafilatura

from kernel import __version__
from kernel.records import Article, Extracted
from kernel.registry import Outlet
from kernel.rules import count_words
from transforms.clean import clean_paragraphs, clean_title, site_names_of
from transforms.language import detect_language, transliterate_mk

EXTRACTOR_VERSION = f"news-etl {__version__} / trafilatura {trafilatura.__version__}"
LANGUAGE_SAMPLE_CHARS = 600


def squeeze_whitespace(text: str) -> str:
    """``" ".join(text.split())`` (as re's \\s+ → " " and strip, faster), and faster still
    on the usual text, whose only whitespace is single spaces and single or double line breaks."""
    flat = text.replace("\n\n", " ").replace("\n", " ")
    return flat if _single_spaced(flat) else " ".join(text.split())


def _single_spaced(flat: str) -> bool:
    """Printable (no whitespace but the plain space), one space per run of it, none at the ends: the
    text is its own split-and-join."""
    return flat.isprintable() and "  " not in flat and flat[:1] != " " and flat[-1:] != " "


def split_paragraphs(body: str) -> list[str]:
    """The paragraphs of a body: the blocks between blank lines, empty ones left out."""
    return [p for p in body.split("\n\n") if p and not p.isspace()]  # as p.strip(), without a copy


def normalize_segment(text: str) -> str:
    return squeeze_whitespace(text).casefold()


def segment_hash(text: str) -> str:
    """What learned boilerplate knows a paragraph by: case and whitespace differences are the same paragraph."""
    return hashlib.sha1(normalize_segment(text).encode("utf-8")).hexdigest()


def is_plain_body(body: str) -> bool:
    """Whether the body is the usual one: paragraphs exactly one blank line apart, no other whitespace
    than single spaces between words. Each of its paragraphs is then its own squeezed form."""
    # No line break left but those two, and no double space: no empty paragraph and none starting or
    # ending with a space (an empty body has no paragraphs: not plain).
    flat = body.replace("\n\n", " ")
    return bool(flat) and _single_spaced(flat)


def paragraph_hashes(body: str) -> tuple[list[str], list[str], bool]:
    """(paragraphs, ``segment_hash`` of each, whether the body is plain). A plain body is case-folded
    at once instead of paragraph by paragraph (case folding never makes or moves a line break)."""
    if is_plain_body(body):
        paragraphs, folded = body.split("\n\n"), body.casefold().split("\n\n")
        if len(folded) == len(paragraphs):  # always (see above); the general way if not
            sha1 = hashlib.sha1
            return paragraphs, [sha1(p.encode("utf-8")).hexdigest() for p in folded], True
    paragraphs = split_paragraphs(body)
    return paragraphs, [segment_hash(p) for p in paragraphs], False


def content_hash(title: str, body: str) -> str:
    """Hash of what an analyst reads; whitespace differences are not an edit."""
    return hashlib.sha256(squeeze_whitespace(f"{title}\n{body}").encode("utf-8")).hexdigest()


def plain_content_hash(title: str, paragraphs: list[str]) -> str:
    """``content_hash(title, "\n\n".join(paragraphs))`` for paragraphs that are each their own
    squeezed form (words one space apart, no line break, not empty): the squeezed text is then the
    title's words followed by the paragraphs, and the body need not be scanned again."""
    head = squeeze_whitespace(title)
    text = " ".join([head, *paragraphs] if head else paragraphs)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def to_article(extracted: Extracted, outlet: Outlet, *, edition: str, run_id: str, fetched_at: datetime,
               warc_file: str | None = None, warc_offset: int | None = None) -> Article:
    site_names = [outlet.name, *outlet.cleaning.title_suffixes, *([extracted.site_name] if extracted.site_name else []),
                  *site_names_of(extracted.url)]
    # NFC: "geprüft" is one code point whether the page composed it or not (search, hashes).
    title, flags = clean_title(unicodedata.normalize("NFC", extracted.title), site_names)
    cleaned = clean_paragraphs(extracted.paragraphs, outlet.cleaning, titles=(extracted.title, title))
    body = unicodedata.normalize("NFC", "\n\n".join(cleaned.paragraphs))
    # The opening of an article decides its language as well as the whole does, at a fraction of the cost.
    guess = detect_language(f"{title}\n{body}"[:LANGUAGE_SAMPLE_CHARS], fallback=extracted.declared_language or edition)
    article = Article(
        outlet=outlet.id,
        url=extracted.url,
        canonical_url=extracted.canonical_url,
        edition=edition,
        title=title,
        title_flags=flags,
        body=body,
        authors=extracted.authors,
        published_at=extracted.published_at,
        modified_at=extracted.modified_at,
        section=extracted.section,
        tags=extracted.tags,
        image_url=extracted.image_url,
        description=extracted.description,
        language=guess.language,
        language_confidence=guess.confidence,
        word_count=count_words(body),
        content_hash=content_hash(title, body),
        run_id=run_id,
        fetched_at=fetched_at,
        extractor_version=EXTRACTOR_VERSION,
        removed=cleaned.removed,
        alternates=extracted.alternates,
        # The same for every edition of a story, whichever edition it is computed from.
        translation_key=min([extracted.canonical_url, *extracted.alternates.values()]),
        warc_file=warc_file,
        warc_offset=warc_offset,
        cleaning_hash=hashlib.sha256(outlet.cleaning.model_dump_json().encode()).hexdigest(),
        script=guess.script,
        title_latin=transliterate_mk(title) if guess.language == "mk" else None,
        body_latin=transliterate_mk(body) if guess.language == "mk" else None,
    )
    # Hashed here, on every core the transform has, rather than in the load, which writes alone.
    _, hashes, plain = paragraph_hashes(body)
    return article.with_paragraph_hashes(hashes if plain else None)
