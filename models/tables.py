"""Warehouse tables, named and commented for analysts (comments become COMMENT ON in PostgreSQL).

Write behaviour lives next to the model: an article is keyed on ``canonical_url``; a load inserts
new articles, rewrites one whose ``content_hash`` changed and leaves an unchanged one untouched.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from kernel.rules import in_zone

JSONType = JSON().with_variant(JSONB(), "postgresql")

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_name)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator):
    """Stored as UTC on every database (SQLite has no time zones); read back time-zone aware."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"refusing a naive datetime {value.isoformat()}: its time zone is unknown")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect):
        if value is None:
            return None
        return in_zone(value).astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


# Full-text search is built by a migration in each database's own way (a generated tsvector column
# with a GIN index on PostgreSQL, an FTS5 table kept by triggers on SQLite): not part of the models,
# so schema comparisons leave it out.
def is_modelled(obj, name: str | None, type_: str, reflected: bool, compare_to) -> bool:
    """alembic ``include_object`` hook: False for the full-text search objects."""
    return not (name in ("search_vector", "ix_articles_search_vector") or (name or "").startswith("articles_fts"))


class OutletRow(Base):
    __tablename__ = "outlets"
    __table_args__ = {"comment": "News outlets crawled, as declared in the outlet registry."}

    id: Mapped[str] = mapped_column(String(64), primary_key=True, comment="Outlet id used everywhere, e.g. slobodenpecat")
    name: Mapped[str] = mapped_column(String(200), comment="Outlet name as it presents itself")
    home_url: Mapped[str] = mapped_column(String(500), comment="Home page URL")
    domains: Mapped[list] = mapped_column(JSONType, comment="Domains the outlet publishes on (JSON list)")
    languages: Mapped[list] = mapped_column(JSONType, comment="Languages of its editions, ISO 639-1 (JSON list)")
    timezone: Mapped[str] = mapped_column(String(64), comment="IANA time zone the outlet dates its articles in")
    cms: Mapped[str] = mapped_column(String(64), comment="Publishing system behind the site, e.g. wordpress")


class CrawlRunRow(Base):
    __tablename__ = "crawl_runs"
    __table_args__ = {"comment": "One row per pipeline run of one outlet over one date window, with its counts."}

    run_id: Mapped[str] = mapped_column(String(100), primary_key=True, comment="Run id; articles point here")
    outlet_id: Mapped[str] = mapped_column(ForeignKey("outlets.id"), index=True, comment="Outlet crawled")
    since: Mapped[datetime | None] = mapped_column(UTCDateTime, comment="Window start (inclusive, UTC); null = open")
    until: Mapped[datetime | None] = mapped_column(UTCDateTime, comment="Window end (exclusive, UTC); null = open")
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, comment="When the run started (UTC)")
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, comment="When the run ended (UTC)")
    status: Mapped[str] = mapped_column(String(20), comment="running, success or failed")
    pages_fetched: Mapped[int] = mapped_column(Integer, default=0, comment="Successful HTTP responses, all kinds")
    article_pages_fetched: Mapped[int] = mapped_column(Integer, default=0, comment="Article pages downloaded")
    articles_new: Mapped[int] = mapped_column(Integer, default=0, comment="Articles inserted")
    articles_updated: Mapped[int] = mapped_column(Integer, default=0, comment="Articles whose content changed")
    articles_unchanged: Mapped[int] = mapped_column(Integer, default=0, comment="Articles seen again, unchanged")
    dropped: Mapped[dict] = mapped_column(JSONType, default=dict, comment="Pages dropped, by reason (JSON object)")
    errors: Mapped[int] = mapped_column(Integer, default=0, comment="Failed requests and stage errors")
    error_message: Mapped[str | None] = mapped_column(Text, comment="Why the run failed, if it did")


class ArticleRow(Base):
    __tablename__ = "articles"
    __table_args__ = {"comment": "One row per article (per edition/language), latest content."}

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True, comment="Surrogate key")
    outlet_id: Mapped[str] = mapped_column(ForeignKey("outlets.id"), index=True, comment="Publishing outlet")
    canonical_url: Mapped[str] = mapped_column(String(2000), unique=True, comment="Canonical URL: the article's identity")
    url: Mapped[str] = mapped_column(String(2000), comment="URL the article was fetched from")
    edition: Mapped[str] = mapped_column(String(8), comment="Outlet edition the URL belongs to (language code)")
    language: Mapped[str] = mapped_column(String(8), index=True, comment="Detected language, ISO 639-1")
    language_confidence: Mapped[float] = mapped_column(Float, comment="Detector probability, 0..1 (0 = fallback)")
    title: Mapped[str] = mapped_column(Text, comment="Headline without site name or format markers")
    title_flags: Mapped[list] = mapped_column(JSONType, comment="Format markers lifted from the headline: video, photo, audio, live")
    body: Mapped[str] = mapped_column(Text, comment="Clean article text; paragraphs separated by blank lines")
    authors: Mapped[list] = mapped_column(JSONType, comment="Bylines (JSON list)")
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True, comment="Publication time (UTC)")
    modified_at: Mapped[datetime | None] = mapped_column(UTCDateTime, comment="Last modification the page declares (UTC)")
    section: Mapped[str | None] = mapped_column(String(200), comment="Section/category")
    tags: Mapped[list] = mapped_column(JSONType, comment="Tags (JSON list)")
    image_url: Mapped[str | None] = mapped_column(String(2000), comment="Lead image URL")
    description: Mapped[str | None] = mapped_column(Text, comment="Summary the page declares")
    word_count: Mapped[int] = mapped_column(Integer, comment="Words in body")
    content_hash: Mapped[str] = mapped_column(String(64), comment="SHA-256 of title and body; changes when the text changes")
    first_run_id: Mapped[str] = mapped_column(ForeignKey("crawl_runs.run_id"), comment="Run that first loaded the article")
    last_run_id: Mapped[str] = mapped_column(ForeignKey("crawl_runs.run_id"), index=True, comment="Run that loaded the current content")
    fetched_at: Mapped[datetime] = mapped_column(UTCDateTime, comment="When the current content was fetched (UTC)")
    warc_file: Mapped[str | None] = mapped_column(String(500), comment="WARC file holding the fetched page (relative to the data dir)")
    warc_offset: Mapped[int | None] = mapped_column(BigInteger, comment="Byte offset of the page's response record in warc_file")
    translation_key: Mapped[str | None] = mapped_column(String(2000), index=True, comment="Same for all editions of one story")
    alternates: Mapped[dict] = mapped_column(JSONType, default=dict, comment="Declared translations: language → URL")
    extractor_version: Mapped[str] = mapped_column(String(200), comment="Extractor that produced the current content")
    cleaning_hash: Mapped[str | None] = mapped_column(String(64), comment="Hash of the outlet's cleaning rules in force")
    script: Mapped[str | None] = mapped_column(String(4), comment="Main script of the text, ISO 15924 (Cyrl, Latn, …)")
    title_latin: Mapped[str | None] = mapped_column(Text, comment="Macedonian title in Latin letters (official romanisation)")
    body_latin: Mapped[str | None] = mapped_column(Text, comment="Macedonian body in Latin letters, for searches typed in Latin")
    version: Mapped[int] = mapped_column(Integer, default=1, comment="Number of the current version (see article_versions)")
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, comment="When the article was first loaded (UTC)")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, comment="When the stored content last changed (UTC)")


class FetchLogRow(Base):
    __tablename__ = "fetch_log"
    __table_args__ = {"comment": "Every request a crawl made or refused: what came back, how big, how long, and why it was dropped."}

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True,
                                    comment="Surrogate key")
    run_id: Mapped[str] = mapped_column(ForeignKey("crawl_runs.run_id"), index=True, comment="Run that made the request")
    url: Mapped[str] = mapped_column(String(2000), comment="Requested URL (the outlet's real URL)")
    kind: Mapped[str] = mapped_column(String(20), comment="robots, sitemap, api, feed, listing or article")
    status: Mapped[int | None] = mapped_column(Integer, comment="HTTP status; null when no response came back")
    bytes: Mapped[int | None] = mapped_column(Integer, comment="Response body size in bytes")
    elapsed_ms: Mapped[int | None] = mapped_column(Integer, comment="Time to the response, milliseconds")
    reason: Mapped[str | None] = mapped_column(String(40), comment="Why the request failed or was refused (drop reason); null if fine")
    detail: Mapped[str | None] = mapped_column(Text, comment="Error detail, e.g. the exception or the refused redirect target")
    fetched_at: Mapped[datetime] = mapped_column(UTCDateTime, comment="When it happened (UTC)")


class BoilerplateSegmentRow(Base):
    __tablename__ = "boilerplate_segments"
    __table_args__ = (
        UniqueConstraint("outlet_id", "segment_hash"),
        {"comment": "Paragraphs learned as an outlet's boilerplate (recurring across its articles); review and override via status."},
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True, comment="Surrogate key")
    outlet_id: Mapped[str] = mapped_column(ForeignKey("outlets.id"), comment="Outlet it recurs in")
    segment_hash: Mapped[str] = mapped_column(String(40), comment="SHA-1 of the whitespace-normalised, case-folded text")
    text: Mapped[str | None] = mapped_column(
        Text, comment="The paragraph (the least of its spellings in the load that found it recurring); "
                      "null while it occurs in one article only")
    article_count: Mapped[int] = mapped_column(Integer, comment="Distinct articles it occurs in")
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, comment="First load that saw it (UTC)")
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime,
                                                   comment="Last load that found it in an article it had not been counted in (UTC)")
    status: Mapped[str] = mapped_column(String(20), default="auto",
                                        comment="auto: removed once in enough articles; confirmed: always removed; ignored: never")
    recleaned_at: Mapped[datetime | None] = mapped_column(
        UTCDateTime, comment="When the bodies loaded before it was removed were cleaned of it (UTC); null: not yet")


class BoilerplateOccurrenceRow(Base):
    __tablename__ = "boilerplate_occurrences"
    __table_args__ = (
        PrimaryKeyConstraint("segment_id", "canonical_url"),
        {"comment": "Which articles a candidate boilerplate paragraph occurred in (the basis of article_count)."},
    )

    segment_id: Mapped[int] = mapped_column(ForeignKey("boilerplate_segments.id", ondelete="CASCADE"), comment="Segment")
    canonical_url: Mapped[str] = mapped_column(String(2000), comment="Article it occurred in")


class MaintenanceRunRow(Base):
    __tablename__ = "maintenance_runs"
    __table_args__ = {"comment": "Warehouse maintenance runs (boilerplate re-cleaning, syndication refresh) with their counts."}

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True, comment="Surrogate key")
    task: Mapped[str] = mapped_column(String(40), index=True, comment="What was maintained: boilerplate or syndication")
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, comment="When the run started (UTC)")
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, comment="When the run ended (UTC)")
    status: Mapped[str] = mapped_column(String(20), comment="running, success or failed")
    counts: Mapped[dict] = mapped_column(JSONType, default=dict, comment="What the run did, as counts (JSON object)")
    error_message: Mapped[str | None] = mapped_column(Text, comment="Why the run failed, if it did")


class ArticleVersionRow(Base):
    __tablename__ = "article_versions"
    __table_args__ = (
        UniqueConstraint("article_id", "version"),
        {"comment": "Every distinct content of an article, oldest first: the edit history, with lineage."},
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True, comment="Surrogate key")
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"), index=True, comment="Article")
    version: Mapped[int] = mapped_column(Integer, comment="1 for the first content seen, then 2, 3 …")
    changed_fields: Mapped[list] = mapped_column(JSONType, comment="What differs from the previous version (JSON list)")
    title: Mapped[str] = mapped_column(Text, comment="Headline of this version")
    body: Mapped[str] = mapped_column(Text, comment="Clean text of this version")
    authors: Mapped[list] = mapped_column(JSONType, comment="Bylines of this version")
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime, comment="Publication time this version declares (UTC)")
    modified_at: Mapped[datetime | None] = mapped_column(UTCDateTime, comment="Modification time this version declares (UTC)")
    content_hash: Mapped[str] = mapped_column(String(64), comment="SHA-256 of title and body")
    run_id: Mapped[str] = mapped_column(ForeignKey("crawl_runs.run_id"), comment="Run that produced this version")
    warc_file: Mapped[str | None] = mapped_column(String(500), comment="WARC file holding the page of this version")
    warc_offset: Mapped[int | None] = mapped_column(BigInteger, comment="Offset of its response record")
    extractor_version: Mapped[str] = mapped_column(String(200), comment="Extractor that produced this version")
    cleaning_hash: Mapped[str | None] = mapped_column(String(64), comment="Hash of the cleaning rules that produced it")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, comment="When this version was loaded (UTC)")


class ArticleTranslationRow(Base):
    __tablename__ = "article_translations"
    __table_args__ = (
        PrimaryKeyConstraint("article_id", "translation_url"),
        {"comment": "The same story in an outlet's other editions: one row per article and translation, both ways."},
    )

    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"), comment="Article")
    translation_url: Mapped[str] = mapped_column(String(2000), index=True,
                                                 comment="URL of the translation, as the page declares it (hreflang)")
    language: Mapped[str] = mapped_column(String(8), comment="Language of the translation, ISO 639-1")
    translation_id: Mapped[int | None] = mapped_column(ForeignKey("articles.id", ondelete="SET NULL"), index=True,
                                                       comment="The translation's article; null until it is loaded")
    declared: Mapped[bool] = mapped_column(Boolean, comment="True: this article's page names the translation; "
                                                            "false: only the translation's page names this one")
    run_id: Mapped[str] = mapped_column(ForeignKey("crawl_runs.run_id"), comment="Run that recorded the link")


class SyndicationClusterRow(Base):
    __tablename__ = "syndication_clusters"
    __table_args__ = {"comment": "Near-duplicate texts (wire copies, reposts) found by MinHash/LSH over body shingles."}

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True, comment="Surrogate key")
    representative_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"), unique=True,
                                                   comment="Earliest published member: the likely original")
    articles: Mapped[int] = mapped_column(Integer, comment="Number of member articles")
    outlets: Mapped[int] = mapped_column(Integer, comment="Number of distinct outlets among the members (>1: syndicated)")
    first_published_at: Mapped[datetime | None] = mapped_column(UTCDateTime, comment="Earliest member publication (UTC)")
    last_published_at: Mapped[datetime | None] = mapped_column(UTCDateTime, comment="Latest member publication (UTC)")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, comment="When the membership last changed (UTC)")


class SyndicationMemberRow(Base):
    __tablename__ = "syndication_members"
    __table_args__ = {"comment": "Articles of each near-duplicate cluster (an article is in at most one), with similarity."}

    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True, comment="Article")
    cluster_id: Mapped[int] = mapped_column(ForeignKey("syndication_clusters.id", ondelete="CASCADE"), index=True,
                                            comment="Cluster")
    similarity: Mapped[float] = mapped_column(Float, comment="Jaccard similarity of the body's word 4-gram shingles to the "
                                                             "representative's, 0..1 (1 for the representative)")


class QualityCheckRow(Base):
    __tablename__ = "quality_checks"
    __table_args__ = (
        UniqueConstraint("run_id", "check_name"),
        {"comment": "Quality gates of each run against the outlet's recent baseline: pass, warn or fail, with the numbers."},
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True, comment="Surrogate key")
    run_id: Mapped[str] = mapped_column(ForeignKey("crawl_runs.run_id", ondelete="CASCADE"), index=True,
                                        comment="Run checked")
    outlet_id: Mapped[str] = mapped_column(ForeignKey("outlets.id"), comment="Outlet of the run")
    check_name: Mapped[str] = mapped_column(String(40), comment="Which gate: volume, completeness_title, "
                                                                "completeness_published, completeness_author, "
                                                                "body_length, boilerplate, language_mix, sources, blocked")
    status: Mapped[str] = mapped_column(String(10), comment="pass, warn or fail (a fail fails the Airflow task)")
    measured: Mapped[float | None] = mapped_column(Float, comment="The run's value (a count, share or median); null "
                                                                 "when there was nothing to measure")
    baseline: Mapped[float | None] = mapped_column(Float, comment="The outlet's recent value it was compared with; "
                                                                 "null without enough history")
    message: Mapped[str] = mapped_column(Text, comment="What was found, in words and numbers")
    checked_at: Mapped[datetime] = mapped_column(UTCDateTime, comment="When the check ran (UTC)")


class PageVerdictRow(Base):
    __tablename__ = "page_verdicts"
    __table_args__ = (
        UniqueConstraint("outlet_id", "url"),
        {"comment": "Article pages fetched once that gave no article because their own date put them outside the "
                    "run's window: later crawls skip them unless a source shows them modified or a window holds the date."},
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True,
                                    comment="Surrogate key")
    outlet_id: Mapped[str] = mapped_column(ForeignKey("outlets.id"), comment="Outlet the page belongs to")
    url: Mapped[str] = mapped_column(String(2000), comment="Page URL as discovered")
    reason: Mapped[str] = mapped_column(String(40), comment="Drop reason, as in fetch_log.reason")
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime, comment="Publication time the page gave "
                                                          "(out-of-window pages): a crawl of a window holding it fetches it again")
    run_id: Mapped[str] = mapped_column(ForeignKey("crawl_runs.run_id"), comment="Run that judged it")
    judged_at: Mapped[datetime] = mapped_column(UTCDateTime, comment="When it was judged (UTC)")


class SourceHealthRow(Base):
    __tablename__ = "source_health"
    __table_args__ = (
        UniqueConstraint("outlet_id", "source_url"),
        {"comment": "One row per declared discovery source of an outlet (feed, sitemap, robots.txt's sitemaps, an "
                    "edition's WordPress API, listing): when it last worked, when and why it last failed, what it yields."},
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True, comment="Surrogate key")
    outlet_id: Mapped[str] = mapped_column(ForeignKey("outlets.id"), comment="Outlet")
    source_url: Mapped[str] = mapped_column(String(2000), comment="The source's first document (API: the posts endpoint)")
    kind: Mapped[str] = mapped_column(String(20), comment="feed, sitemap, robots, api or listing")
    edition: Mapped[str | None] = mapped_column(String(8), comment="Edition language; null for site-wide sources")
    last_run_id: Mapped[str] = mapped_column(ForeignKey("crawl_runs.run_id"), comment="Last run that read it")
    last_success_at: Mapped[datetime | None] = mapped_column(UTCDateTime, comment="Last run in which a document of it was read")
    last_failure_at: Mapped[datetime | None] = mapped_column(UTCDateTime, comment="Last run in which a document of it failed")
    last_failure_reason: Mapped[str | None] = mapped_column(String(40), comment="Why, as in fetch_log.reason (or unreadable)")
    last_failure_detail: Mapped[str | None] = mapped_column(Text, comment="The failing document and what happened")
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0, comment="Runs in a row in which no document of it was read")
    runs_without_items: Mapped[int] = mapped_column(Integer, default=0, comment="Runs in a row in which it listed no URL")
    items_last: Mapped[int | None] = mapped_column(Integer, comment="URLs it listed in the last run that read it")
    items_recent: Mapped[list] = mapped_column(JSONType, default=list, comment="URLs listed in each of its last 14 runs, oldest first")
    items_median: Mapped[float | None] = mapped_column(Float, comment="Median of items_recent")
    last_new_article_at: Mapped[datetime | None] = mapped_column(UTCDateTime, comment="Last run in which it listed an "
                                                                 "article the warehouse did not hold")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, comment="When this row last changed (UTC)")
