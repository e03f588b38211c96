"""The records that cross a stage boundary: crawl → RawPage → extract → Extracted → transform →
Article → load, a Drop for each page that is not kept, each stage's summary, the RunPlan the
orchestration hands every stage and the RunSummary of a whole run."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime

from kernel.window import Window


class _Plain:
    """A record that travels as a plain dict (JSON summaries, Airflow's XCom)."""

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class RawPage:
    """One fetched article page, staged per run as a JSON line; its body lives in the run's WARC archive."""

    url: str  # the outlet's real URL (never the replay server's)
    final_url: str  # after redirects
    status: int
    headers: dict[str, str]
    warc_file: str  # relative to the run directory
    warc_offset: int  # of the response record
    fetched_at: datetime
    outlet: str
    run_id: str
    edition: str  # language of the edition the URL belongs to
    listed_published: datetime | None = None  # date the discovery source gave, if any
    known: bool = False  # already in the warehouse: fetched again because it changed

    def to_json(self) -> str:
        data = {f.name: getattr(self, f.name) for f in fields(self)}  # asdict would deep-copy the headers
        data["fetched_at"] = self.fetched_at.isoformat()
        data["listed_published"] = self.listed_published.isoformat() if self.listed_published else None
        return json.dumps(data, ensure_ascii=False)

    @classmethod
    def from_json(cls, line: str) -> RawPage:
        data = json.loads(line)
        data["fetched_at"] = datetime.fromisoformat(data["fetched_at"])
        if data.get("listed_published"):
            data["listed_published"] = datetime.fromisoformat(data["listed_published"])
        return cls(**data)


@dataclass(frozen=True)
class Lineage:
    """Where an article comes from: its run, when it was fetched, its edition and its raw archive record."""

    run_id: str
    fetched_at: datetime
    edition: str
    warc_file: str | None = None  # relative to the data directory
    warc_offset: int | None = None


@dataclass(frozen=True)
class Drop:
    """A page that did not become an article: ``reason`` names its counter (too-short, duplicate …)."""

    reason: str
    detail: str = ""


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

    def to_json_line(self) -> str:
        return json.dumps(self.to_json_dict(), ensure_ascii=False)

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


@dataclass(frozen=True)
class Verdict:
    """Why a page fetched once gave no article (a reason in ``kernel.rules.SETTLED_DROPS``), and the
    publication time it gave, if any."""

    reason: str
    published: datetime | None
    judged_at: datetime


@dataclass
class CrawlState:
    """What the warehouse tells a crawl: each stored article's last modification (by URL as fetched
    and canonical), and the verdicts on pages that gave none."""

    articles: dict[str, datetime] = field(default_factory=dict)
    verdicts: dict[str, Verdict] = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps({
            "articles": {url: moment.isoformat() for url, moment in self.articles.items()},
            "verdicts": {url: [v.reason, v.published.isoformat() if v.published else None, v.judged_at.isoformat()]
                         for url, v in self.verdicts.items()},
        })

    @classmethod
    def from_json(cls, text: str) -> CrawlState:
        data = json.loads(text)
        moment = datetime.fromisoformat
        return cls({url: moment(value) for url, value in data.get("articles", {}).items()},
                   {url: Verdict(reason, moment(published) if published else None, moment(judged))
                    for url, (reason, published, judged) in data.get("verdicts", {}).items()})


@dataclass(frozen=True)
class CrawlSummary:
    pages_fetched: int  # all successful responses (discovery documents and articles)
    article_pages_fetched: int
    dropped: dict[str, int]
    errors: int  # failed requests
    unchanged_not_fetched: int  # known articles whose sources showed no change
    error_rate: float | None = None  # set once the orchestration has judged the crawl

    def to_dict(self) -> dict:
        data = asdict(self)
        if self.error_rate is None:
            del data["error_rate"]
        return data


@dataclass(frozen=True)
class TransformSummary(_Plain):
    articles: int
    dropped: dict[str, int]


@dataclass(frozen=True)
class RunPlan(_Plain):
    """What every stage of one run is handed (through XCom in Airflow): paths and ids, never article data."""

    outlet: str
    run_id: str
    run_dir: str
    since: str | None
    until: str | None
    warehouse_url: str
    data_dir: str  # the run storage (NEWSETL_DATA_DIR): a local path or a URL

    @property
    def archive_prefix(self) -> str:
        """The run directory relative to the data directory: where lineage points."""
        from kernel.storage import relative_to

        return f"{relative_to(self.run_dir, self.data_dir)}/"

    @property
    def window(self) -> Window:
        return Window(*(datetime.fromisoformat(v) if v else None for v in (self.since, self.until)))

    @property
    def path(self):
        """The run directory (a ``UPath``; a ``pathlib.Path`` when local)."""
        from kernel.storage import location_path

        return location_path(self.run_dir)

    @property
    def files(self):
        """The run directory's files (``kernel.rundir.RunDir``)."""
        from kernel.rundir import RunDir  # it reads these records

        return RunDir(self.path)


@dataclass(frozen=True)
class RunSummary(_Plain):
    outlet: str
    run_id: str
    since: str | None
    until: str | None
    pages_fetched: int
    article_pages_fetched: int
    articles_new: int
    articles_updated: int
    articles_unchanged: int
    dropped: dict[str, int]
    errors: int
