"""The records between extract → transform → load."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class Extracted:
    """What a page says, as the extractor read it (body already cut to article paragraphs)."""

    url: str
    canonical_url: str
    title: str
    site_name: str | None  # og:site_name or the like: the suffix a page title may carry
    paragraphs: list[str]
    authors: list[str]
    published_at: datetime | None
    modified_at: datetime | None
    section: str | None
    tags: list[str]
    image_url: str | None
    description: str | None
    declared_language: str | None  # <html lang>, if any
    alternates: dict[str, str] = field(default_factory=dict)  # hreflang → URL of the page's translations


@dataclass(frozen=True)
class Article:
    """One article ready for the warehouse."""

    outlet: str
    url: str
    canonical_url: str
    edition: str
    title: str
    title_flags: list[str]  # format markers lifted from the title: video, photo, audio, live
    body: str
    authors: list[str]
    published_at: datetime | None
    modified_at: datetime | None
    section: str | None
    tags: list[str]
    image_url: str | None
    description: str | None
    language: str
    language_confidence: float
    word_count: int
    content_hash: str
    run_id: str
    fetched_at: datetime
    extractor_version: str
    removed: dict[str, int] = field(default_factory=dict)  # cleaning rule → paragraphs removed
    alternates: dict[str, str] = field(default_factory=dict)  # language → URL of the same story
    translation_key: str | None = None  # shared by the editions of one story
    warc_file: str | None = None  # raw archive, relative to the data directory
    warc_offset: int | None = None
    cleaning_hash: str | None = None  # of the outlet's cleaning rules that produced the body
    script: str | None = None  # ISO 15924 code of the text's main script: Cyrl, Latn, …
    title_latin: str | None = None  # Macedonian title and body in Latin letters, for Latin searches
    body_latin: str | None = None
    # The segment hash of each paragraph of a plain body (paragraphs one blank line apart, words one
    # space apart), for learned boilerplate; set by the transform. Not an argument: ``dataclasses.replace``
    # leaves it out, so a changed body never keeps the hashes of another (None: the load hashes it).
    paragraph_hashes: list[str] | None = field(default=None, init=False, repr=False, compare=False)

    def with_paragraph_hashes(self, hashes: list[str] | None) -> Article:
        """This article carrying ``hashes``, which must be those of its plain body (set once, as it is made)."""
        object.__setattr__(self, "paragraph_hashes", hashes)
        return self

    def to_json_dict(self) -> dict:
        data = asdict(self)
        for key in ("published_at", "modified_at", "fetched_at"):
            data[key] = data[key].isoformat() if data[key] else None
        return data

    @classmethod
    def from_json_dict(cls, data: dict) -> Article:
        data = dict(data)
        for key in ("published_at", "modified_at", "fetched_at"):
            data[key] = datetime.fromisoformat(data[key]) if data[key] else None
        hashes = data.pop("paragraph_hashes", None)  # written with this very body by to_json_dict
        return cls(**data).with_paragraph_hashes(hashes)
