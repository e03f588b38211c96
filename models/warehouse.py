"""Connecting to the warehouse, keeping its schema current, and loading a run's articles.

A load is one transaction: either every article of the run is written, or none is.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, OperationalError, SQLAlchemyError

from models.chunks import chunks as _chunks
from models.tables import (
    ArticleRow,
    ArticleVersionRow,
    BoilerplateOccurrenceRow,
    BoilerplateSegmentRow,
    CrawlRunRow,
    FetchLogRow,
    OutletRow,
)
from models.translations import link_translations
from newsetl.registry import Outlet
from newsetl.window import Window
from transforms.boilerplate import MIN_ARTICLES, candidate_segments, without_segments
from transforms.records import Article

MIGRATIONS = Path(__file__).with_name("migrations")
log = logging.getLogger(__name__)


class WarehouseError(RuntimeError):
    """The warehouse URL is wrong or the database cannot be reached; the message says which."""


def _normalize_url(url: str):
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise WarehouseError(f"not a database URL: {url!r}") from exc
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")  # psycopg 3 is the driver we ship
    if parsed.drivername not in ("sqlite", "postgresql+psycopg"):
        raise WarehouseError(f"unsupported warehouse {parsed.drivername!r}: use sqlite:/// or postgresql://")
    return parsed


def connect(url: str) -> Engine:
    """An engine for ``url`` whose database answered a ping; raises WarehouseError otherwise."""
    parsed = _normalize_url(url)
    if parsed.drivername == "sqlite" and parsed.database and parsed.database != ":memory:":
        Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    connect_args = {"connect_timeout": 10} if parsed.drivername.startswith("postgresql") else {}
    engine = create_engine(parsed, pool_pre_ping=True, connect_args=connect_args)
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except OperationalError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        raise WarehouseError(f"cannot reach warehouse {parsed.render_as_string(hide_password=True)}: {reason}") from None
    return engine


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    command.upgrade(alembic_config(engine), revision)


def downgrade(engine: Engine, revision: str = "base") -> None:
    command.downgrade(alembic_config(engine), revision)


@dataclass(frozen=True)
class LoadResult:
    new: int
    updated: int
    unchanged: int


def _now() -> datetime:
    return datetime.now(UTC)


def save_outlet(engine: Engine, outlet: Outlet) -> None:
    values = dict(name=outlet.name, home_url=outlet.home, domains=list(outlet.domains),
                  languages=outlet.languages, timezone=outlet.timezone, cms=outlet.cms)
    with engine.begin() as connection:
        row = connection.execute(select(OutletRow).where(OutletRow.id == outlet.id)).first()
        if row is None:
            connection.execute(OutletRow.__table__.insert().values(id=outlet.id, **values))
        elif any(getattr(row, key) != value for key, value in values.items()):
            connection.execute(OutletRow.__table__.update().where(OutletRow.id == outlet.id).values(**values))


def start_run(engine: Engine, run_id: str, outlet: Outlet, window: Window) -> None:
    save_outlet(engine, outlet)
    with engine.begin() as connection:
        connection.execute(CrawlRunRow.__table__.delete().where(CrawlRunRow.run_id == run_id,
                                                                  CrawlRunRow.status != "success"))
        connection.execute(CrawlRunRow.__table__.insert().values(
            run_id=run_id, outlet_id=outlet.id, since=window.since, until=window.until,
            started_at=_now(), status="running", dropped={},
        ))


def finish_run(engine: Engine, run_id: str, status: str, error_message: str | None = None, **counts) -> None:
    with engine.begin() as connection:
        connection.execute(CrawlRunRow.__table__.update().where(CrawlRunRow.run_id == run_id).values(
            status=status, finished_at=_now(), error_message=error_message, **counts))


_CONTENT_FIELDS = (
    "url", "edition", "language", "language_confidence", "title", "title_flags", "body", "authors",
    "published_at", "modified_at", "section", "tags", "image_url", "description", "word_count",
    "content_hash", "fetched_at", "extractor_version", "warc_file", "warc_offset", "alternates", "translation_key",
    "cleaning_hash", "script", "title_latin", "body_latin",
)
# What an analyst would call an edit; a version records which of these changed.
_EDITABLE_FIELDS = ("title", "body", "authors", "published_at", "modified_at", "section", "tags")


def _version_row(article: Article, article_id: int, version: int, changed: list[str], run_id: str,
                 now: datetime) -> dict:
    return dict(article_id=article_id, version=version, changed_fields=changed, title=article.title,
                body=article.body, authors=article.authors, published_at=article.published_at,
                modified_at=article.modified_at, content_hash=article.content_hash, run_id=run_id,
                warc_file=article.warc_file, warc_offset=article.warc_offset,
                extractor_version=article.extractor_version, cleaning_hash=article.cleaning_hash, created_at=now)


def known_articles(engine: Engine, outlet_id: str) -> dict[str, datetime]:
    """URL (as fetched and canonical) → last modification stored, for incremental crawling."""
    table = ArticleRow.__table__
    known: dict[str, datetime] = {}
    with engine.connect() as connection:
        rows = connection.execute(select(table.c.url, table.c.canonical_url, table.c.modified_at, table.c.published_at)
                                  .where(table.c.outlet_id == outlet_id))
        for row in rows:
            moment = row.modified_at or row.published_at or datetime.min.replace(tzinfo=UTC)
            known[row.url] = known[row.canonical_url] = moment
    return known


def archived_articles(engine: Engine, outlet_id: str, window: Window) -> list:
    """Stored articles of ``window`` (by publication time) with their raw-archive pointers."""
    table = ArticleRow.__table__
    query = (select(table.c.url, table.c.edition, table.c.fetched_at, table.c.warc_file, table.c.warc_offset)
             .where(table.c.outlet_id == outlet_id, table.c.warc_file.is_not(None)).order_by(table.c.id))
    if window.since:
        query = query.where(table.c.published_at >= window.since)
    if window.until:
        query = query.where(table.c.published_at < window.until)
    with engine.connect() as connection:
        return connection.execute(query).all()


def learn_boilerplate(connection, articles: list[Article]) -> set[str]:
    """Record where candidate segments occur; return the hashes to remove, per the outlets' counts.

    Counts are of distinct articles, so a re-run or another order learns the same.
    """
    segments, occurrences = BoilerplateSegmentRow.__table__, BoilerplateOccurrenceRow.__table__
    remove: set[str] = set()
    now = _now()
    for outlet_id in sorted({a.outlet for a in articles}):
        candidates: dict[str, str] = {}
        seen_in: dict[str, set[str]] = {}
        for article in (a for a in articles if a.outlet == outlet_id):
            for digest, text_ in candidate_segments(article).items():
                candidates.setdefault(digest, text_)
                seen_in.setdefault(digest, set()).add(article.canonical_url)
        ids = {}
        for chunk in _chunks(list(candidates)):
            ids.update(connection.execute(select(segments.c.segment_hash, segments.c.id).where(
                segments.c.outlet_id == outlet_id, segments.c.segment_hash.in_(chunk))).all())
        for digest in sorted(set(candidates) - set(ids)):
            ids[digest] = connection.execute(segments.insert().values(
                outlet_id=outlet_id, segment_hash=digest, text=candidates[digest], article_count=0,
                first_seen_at=now, last_seen_at=now, status="auto").returning(segments.c.id)).scalar_one()
        pairs = {(ids[digest], url) for digest, urls in seen_in.items() for url in urls}
        known, counts = set(), {}
        for chunk in _chunks(list(ids.values())):
            known.update(connection.execute(select(occurrences.c.segment_id, occurrences.c.canonical_url).where(
                occurrences.c.segment_id.in_(chunk))).all())
        if new_pairs := sorted(pairs - known):
            connection.execute(occurrences.insert(), [{"segment_id": sid, "canonical_url": url} for sid, url in new_pairs])
        for chunk in _chunks(list(ids.values())):
            counts.update(connection.execute(select(occurrences.c.segment_id, func.count()).where(
                occurrences.c.segment_id.in_(chunk)).group_by(occurrences.c.segment_id)).all())
        for segment_id in ids.values():
            connection.execute(segments.update().where(segments.c.id == segment_id).values(
                article_count=counts.get(segment_id, 0), last_seen_at=now))
        for row in connection.execute(select(segments.c.segment_hash, segments.c.status, segments.c.article_count)
                                      .where(segments.c.outlet_id == outlet_id)):
            if row.status == "confirmed" or (row.status == "auto" and row.article_count >= MIN_ARTICLES):
                remove.add(row.segment_hash)
    return remove


def load_articles(engine: Engine, articles: list[Article], run_id: str, fetches: list[dict] = ()) -> LoadResult:
    """Insert new articles, rewrite changed ones (adding a version), leave unchanged ones alone, and
    record the run's fetch log — all in one transaction."""
    new = updated = unchanged = 0
    table, versions = ArticleRow.__table__, ArticleVersionRow.__table__
    try:
        with engine.begin() as connection:
            boilerplate = learn_boilerplate(connection, articles)
            articles = [without_segments(article, boilerplate) for article in articles]
            urls = [article.canonical_url for article in articles]
            existing = {}
            for chunk in _chunks(urls):
                columns = [table.c.canonical_url, table.c.id, table.c.content_hash, table.c.version,
                           *(table.c[name] for name in _EDITABLE_FIELDS)]
                for row in connection.execute(select(*columns).where(table.c.canonical_url.in_(chunk))):
                    existing[row.canonical_url] = row
            now = _now()
            for article in articles:
                content = {name: getattr(article, name) for name in _CONTENT_FIELDS}
                current = existing.get(article.canonical_url)
                if current is None:
                    article_id = connection.execute(table.insert().values(
                        outlet_id=article.outlet, canonical_url=article.canonical_url, version=1,
                        first_run_id=run_id, last_run_id=run_id, first_seen_at=now, updated_at=now, **content,
                    ).returning(table.c.id)).scalar_one()
                    connection.execute(versions.insert().values(_version_row(article, article_id, 1, [], run_id, now)))
                    new += 1
                elif current.content_hash != article.content_hash:
                    changed = [name for name in _EDITABLE_FIELDS if getattr(current, name) != getattr(article, name)]
                    connection.execute(table.update().where(table.c.id == current.id).values(
                        last_run_id=run_id, updated_at=now, version=current.version + 1, **content))
                    connection.execute(versions.insert().values(
                        _version_row(article, current.id, current.version + 1, changed, run_id, now)))
                    updated += 1
                else:
                    unchanged += 1
            link_translations(connection, articles, run_id)
            if fetches:
                connection.execute(FetchLogRow.__table__.insert(), [
                    {**fetch, "run_id": run_id, "fetched_at": datetime.fromisoformat(fetch["fetched_at"]),
                     "url": fetch["url"][:2000], "detail": (fetch.get("detail") or None)} for fetch in fetches])
    except SQLAlchemyError as exc:
        raise WarehouseError(f"load of run {run_id} rolled back, nothing written: {exc.__class__.__name__}: "
                             f"{str(exc).splitlines()[0]}") from exc
    log.info("run %s loaded: %d new, %d updated, %d unchanged", run_id, new, updated, unchanged)
    return LoadResult(new, updated, unchanged)
