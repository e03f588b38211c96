"""Connecting to the warehouse, keeping its schema current, and loading a run's articles.

A load is idempotent and goes in batches, one transaction each: INSERT … ON CONFLICT keyed on the
canonical URL, a version only where the content changed. A failing batch leaves nothing of itself
behind; loading the same run again completes it and changes nothing that is already there. Two
loads of the same articles at once end as if one had run after the other.
"""

from __future__ import annotations

import logging
import sqlite3
from collections import Counter
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from alembic import command
from alembic.config import Config
from filelock import FileLock
from sqlalchemy import Engine, and_, bindparam, create_engine, event, func, literal, or_, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, OperationalError, SQLAlchemyError, StatementError
from tenacity import before_sleep_log, retry, retry_if_exception, stop_after_attempt, wait_exponential

from kernel.records import Article
from kernel.registry import Outlet
from kernel.rules import utc_now
from kernel.settings import masked_url
from kernel.window import Window
from models.chunks import chunks as _chunks
from models.crawl_state import record_source_health, record_verdicts
from models.tables import (
    ArticleRow,
    ArticleVersionRow,
    BoilerplateSegmentRow,
    CrawlRunRow,
    FetchLogRow,
    OutletRow,
    UTCDateTime,
)
from models.translations import link_translations

MIGRATIONS = Path(__file__).with_name("migrations")
MIN_ARTICLES = 3  # an automatic segment in this many articles of one outlet is boilerplate; two may be a quote
BATCH_SIZE = 500  # articles per transaction: a few MB of text, and a lock held for well under a second
SQLITE_BUSY_TIMEOUT_S = 30  # how long a SQLite write waits for another writer before it counts as busy
WRITE_ATTEMPTS = 5  # a busy or deadlocked write transaction is tried this often in all
log = logging.getLogger(__name__)


class WarehouseError(RuntimeError):
    """The warehouse URL is wrong or the database cannot be reached; the message says which."""


def _normalize_url(url: str):
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError) as exc:  # ValueError: a port that is not a number
        raise WarehouseError(f"not a database URL: {masked_url(url)!r} ({exc})") from None
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
    if parsed.drivername.startswith("postgresql"):
        connect_args = {"connect_timeout": 10}
    else:  # a ?timeout= in the URL wins
        connect_args = {} if "timeout" in parsed.query else {"timeout": SQLITE_BUSY_TIMEOUT_S}
    engine = create_engine(parsed, pool_pre_ping=True, connect_args=connect_args)
    if parsed.drivername == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except OperationalError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        raise WarehouseError(f"cannot reach warehouse {parsed.render_as_string(hide_password=True)}: {reason}") from None
    return engine


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    """Write-ahead log: readers do not block the writer, and a commit appends to the log instead of
    rewriting pages; with it, synchronous=NORMAL syncs at checkpoints, not at every commit (a
    power cut may lose the last commits, never corrupt the database)."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


MIGRATION_LOCK_KEY = 0x6E657773  # PostgreSQL advisory-lock key of the schema migrations ("news")


@contextmanager
def migration_lock(engine: Engine):
    """One migration at a time per warehouse, across processes and machines: PostgreSQL's advisory
    lock, or a lock file beside the SQLite database. Two first runs at once then upgrade once: the
    second waits, finds the schema at head and does nothing."""
    if engine.dialect.name == "postgresql":
        with engine.connect() as connection:
            connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
            try:
                yield
            finally:
                connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": MIGRATION_LOCK_KEY})
                connection.commit()
        return
    database = engine.url.database
    if not database or database == ":memory:":
        yield  # one process's private database
        return
    with FileLock(f"{database}.migrate.lock"):
        yield


def upgrade(engine: Engine, revision: str = "head") -> None:
    with migration_lock(engine):
        command.upgrade(alembic_config(engine), revision)


def downgrade(engine: Engine, revision: str = "base") -> None:
    with migration_lock(engine):
        command.downgrade(alembic_config(engine), revision)


def current_revision(engine: Engine) -> str | None:
    """The warehouse's schema revision (None: not migrated yet)."""
    from alembic.migration import MigrationContext

    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision() -> str:
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return ScriptDirectory.from_config(config).get_current_head()


@dataclass(frozen=True)
class LoadResult:
    new: int
    updated: int
    unchanged: int


def _insert(connection, table):
    """INSERT with ON CONFLICT support for the connection's database."""
    return (postgresql.insert if connection.dialect.name == "postgresql" else sqlite.insert)(table)


def save_outlet(engine: Engine, outlet: Outlet) -> None:
    values = dict(name=outlet.name, home_url=outlet.home, domains=list(outlet.domains),
                  languages=outlet.languages, timezone=outlet.timezone, cms=outlet.cms)
    table = OutletRow.__table__
    with engine.begin() as connection:  # an upsert: runs of one outlet may start at once
        statement = _insert(connection, table).values(id=outlet.id, **values)
        connection.execute(statement.on_conflict_do_update(
            index_elements=["id"], set_=values,
            where=or_(*(table.c[key].is_distinct_from(statement.excluded[key]) for key in values))))


def start_run(engine: Engine, run_id: str, outlet: Outlet, window: Window) -> None:
    """Record a run as running; a run started again (after a failure) keeps the counts of the rows
    its earlier attempt loaded, so that its row agrees with the rows pointing at it."""
    save_outlet(engine, outlet)
    with engine.begin() as connection:
        earlier = connection.execute(CrawlRunRow.__table__.delete().where(CrawlRunRow.run_id == run_id,
                                                                            CrawlRunRow.status != "success"))
        # Only a run started again can have rows already: a new run is spared two scans of the warehouse.
        counts = _loaded_by(connection, run_id) if earlier.rowcount else {}
        connection.execute(CrawlRunRow.__table__.insert().values(
            run_id=run_id, outlet_id=outlet.id, since=window.since, until=window.until,
            started_at=utc_now(), status="running", dropped={}, **counts,
        ))


def _loaded_by(connection, run_id: str) -> dict[str, int]:
    """What the warehouse's rows say a run inserted and updated."""
    articles, versions = ArticleRow.__table__, ArticleVersionRow.__table__
    new = connection.execute(select(func.count()).where(articles.c.first_run_id == run_id)).scalar_one()
    updated = connection.execute(select(func.count(versions.c.article_id.distinct())).where(
        versions.c.run_id == run_id, versions.c.version > 1)).scalar_one()
    return {"articles_new": new, "articles_updated": updated}


def resume_run(engine: Engine, run_id: str) -> None:
    """Mark a failed or interrupted run as running again."""
    with engine.begin() as connection:
        connection.execute(CrawlRunRow.__table__.update().where(CrawlRunRow.run_id == run_id).values(
            status="running", finished_at=None, error_message=None))


def run_row(engine: Engine, run_id: str):
    """The run's row in ``crawl_runs``, or None."""
    with engine.connect() as connection:
        return connection.execute(select(CrawlRunRow.__table__).where(CrawlRunRow.run_id == run_id)).first()


def finish_run(engine: Engine, run_id: str, status: str, error_message: str | None = None, **counts) -> None:
    with engine.begin() as connection:
        connection.execute(CrawlRunRow.__table__.update().where(CrawlRunRow.run_id == run_id).values(
            status=status, finished_at=utc_now(), error_message=error_message, **counts))


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


def archived_articles(engine: Engine, outlet_id: str, window: Window, urls: list[str] | None = None) -> list:
    """Stored articles of ``window`` (by publication time) with their raw-archive pointers; only those
    with one of the canonical ``urls`` when given."""
    table = ArticleRow.__table__
    query = (select(table.c.url, table.c.edition, table.c.fetched_at, table.c.warc_file, table.c.warc_offset)
             .where(table.c.outlet_id == outlet_id, table.c.warc_file.is_not(None)).order_by(table.c.id))
    if window.since:
        query = query.where(table.c.published_at >= window.since)
    if window.until:
        query = query.where(table.c.published_at < window.until)
    with engine.connect() as connection:
        if urls is None:
            return connection.execute(query).all()
        rows = [row for chunk in _chunks(sorted(urls))
                for row in connection.execute(query.add_columns(table.c.id).where(table.c.canonical_url.in_(chunk)))]
        return sorted(rows, key=lambda row: row.id)


def _transient(exc: BaseException) -> bool:
    """A busy SQLite database, or a PostgreSQL deadlock or serialisation failure: trying again can succeed."""
    if not isinstance(exc, OperationalError):
        return False
    return (getattr(exc.orig, "sqlstate", None) in ("40001", "40P01")
            or getattr(exc.orig, "sqlite_errorname", None) in ("SQLITE_BUSY", "SQLITE_LOCKED"))


@retry(retry=retry_if_exception(_transient), stop=stop_after_attempt(WRITE_ATTEMPTS),
       wait=wait_exponential(multiplier=0.2, max=5), before_sleep=before_sleep_log(log, logging.WARNING), reraise=True)
def _write(engine: Engine, work, *args):
    """``work(connection, *args)`` in one write transaction, tried again while the database is busy."""
    with engine.connect() as connection:
        on_sqlite = connection.dialect.name == "sqlite"
        if on_sqlite:
            # The load's staging tables, and the statement journals of its inserts (which fire the
            # full-text triggers), in memory rather than in temporary files; for this transaction
            # only, so that other queries' large sorts still spill to disk. Set outside a
            # transaction, as SQLite requires (its driver begins one only before a write).
            driver = connection.connection.driver_connection
            driver.execute("PRAGMA temp_store=MEMORY")
        try:
            with connection.begin():
                if on_sqlite:
                    # Take SQLite's one write lock up front (waiting up to the busy timeout), so what the
                    # transaction reads stays true until it commits — like the row locks on PostgreSQL.
                    connection.exec_driver_sql("BEGIN IMMEDIATE")
                return work(connection, *args)
        finally:
            if on_sqlite and not connection.invalidated:
                with suppress(sqlite3.Error):  # left in memory at worst
                    driver.execute("PRAGMA temp_store=DEFAULT")


def _take_turns(connection, outlet_ids) -> None:
    """Lock the outlets' rows until the transaction ends: concurrent loads of one outlet pass here
    one at a time. The lock (FOR NO KEY UPDATE) does not block their article writes."""
    outlets = OutletRow.__table__
    connection.execute(select(outlets.c.id).where(outlets.c.id.in_(sorted(outlet_ids))).order_by(outlets.c.id)
                       .with_for_update(key_share=True))


def _bind_values(connection, table, columns):
    """Row values → what the driver is given for ``columns``, exactly as SQLAlchemy binds them
    (JSON serialised, times checked and made UTC), for statements run on the driver directly."""
    dialect = connection.dialect
    processors = [(position, process) for position, name in enumerate(columns)
                  if (process := table.c[name].type.dialect_impl(dialect).bind_processor(dialect))]

    def bind(values) -> tuple:
        values = list(values)
        try:
            for position, process in processors:
                values[position] = process(values[position])
            return tuple(values)
        except (TypeError, ValueError) as exc:  # as SQLAlchemy reports a value it cannot bind
            raise StatementError(f"({exc.__class__.__name__}) {exc}", f"rows for {table.name}", None, exc) from exc
    return bind


@contextmanager
def _staged(connection, name: str, source: str, columns: list[str], rows, joined: bool = False):
    """A temporary table ``name``, with ``columns`` typed as in the ``source`` tables, holding
    ``rows`` for the statements run inside: PostgreSQL COPYs them, SQLite takes one executemany.
    Set-based statements then join it, instead of a statement per row. Gone at the end (on
    PostgreSQL with the transaction)."""
    names = ", ".join(columns)
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql(f"CREATE TEMP TABLE {name} ON COMMIT DROP AS SELECT {names} FROM {source} LIMIT 0")
        with connection.connection.cursor() as cursor, cursor.copy(f"COPY {name} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        if joined:  # a temporary table has no statistics otherwise, and joins over it are planned blind
            connection.exec_driver_sql(f"ANALYZE {name}")
        yield
    else:
        connection.exec_driver_sql(f"CREATE TEMP TABLE {name} AS SELECT {names} FROM {source} LIMIT 0")
        connection.exec_driver_sql(f"INSERT INTO {name} ({names}) VALUES ({', '.join('?' * len(columns))})", list(rows))
        yield
        connection.exec_driver_sql(f"DROP TABLE temp.{name}")  # a failure rolls its creation back instead


# Learning in three set-based statements over the staged (outlet, segment, article) triples. Exact
# because loads of one outlet take turns at it: the first counts, for segments already known, the
# occurrences the last one then adds; a new segment starts at the number of its staged articles.
# Nothing is written for occurrences already recorded, so a re-run writes nothing.
_COUNT_NEW_OCCURRENCES = text("""
    UPDATE boilerplate_segments SET article_count = article_count + added.articles, last_seen_at = :now
    FROM (SELECT segment.id, COUNT(*) AS articles
          FROM staged_segments staged JOIN boilerplate_segments segment
            ON segment.outlet_id = staged.outlet_id AND segment.segment_hash = staged.segment_hash
          WHERE NOT EXISTS (SELECT 1 FROM boilerplate_occurrences seen
                            WHERE seen.segment_id = segment.id AND seen.canonical_url = staged.canonical_url)
          GROUP BY segment.id) AS added
    WHERE boilerplate_segments.id = added.id""").bindparams(bindparam("now", type_=UTCDateTime))
# A segment's text is kept once it recurs: nearly every candidate is in its one article only, and
# keeping theirs would copy half of every body into the table.
_NEW_SEGMENTS = text("""
    INSERT INTO boilerplate_segments (outlet_id, segment_hash, text, article_count, first_seen_at, last_seen_at, status)
    SELECT outlet_id, segment_hash, CASE WHEN COUNT(*) > 1 THEN MIN(text) END, COUNT(*), :now, :now, 'auto'
    FROM staged_segments GROUP BY outlet_id, segment_hash
    ON CONFLICT (outlet_id, segment_hash) DO NOTHING""").bindparams(bindparam("now", type_=UTCDateTime))
_RECURRING_WITHOUT_TEXT = text("""
    SELECT DISTINCT segment.outlet_id, segment.segment_hash
    FROM staged_segments staged JOIN boilerplate_segments segment
      ON segment.outlet_id = staged.outlet_id AND segment.segment_hash = staged.segment_hash
    WHERE segment.text IS NULL AND segment.article_count > 1""")
_NEW_OCCURRENCES = """
    INSERT INTO boilerplate_occurrences (segment_id, canonical_url)
    SELECT segment.id, staged.canonical_url
    FROM staged_segments staged JOIN boilerplate_segments segment
      ON segment.outlet_id = staged.outlet_id AND segment.segment_hash = staged.segment_hash
    WHERE true {order}
    ON CONFLICT (segment_id, canonical_url) DO NOTHING"""  # WHERE: SQLite would read ON CONFLICT as the join's
# On SQLite in key order: the occurrences' primary-key index grows at its end instead of at random
# pages (measured faster there; PostgreSQL keeps the plan measured for it).
_NEW_OCCURRENCES_BY_DIALECT = {"postgresql": text(_NEW_OCCURRENCES.format(order="")),
                               "sqlite": text(_NEW_OCCURRENCES.format(order="ORDER BY segment.id, staged.canonical_url"))}


def _least_texts(seen: dict[tuple[str, str, str], str], segments: set[tuple[str, str]]) -> dict[tuple[str, str], str]:
    """(outlet, hash) → the least of the staged texts of each of ``segments``, in code point order
    (as SQLite's MIN compares them)."""
    least: dict[tuple[str, str], str] = {}
    for (outlet_id, digest, _), text_ in seen.items():
        key = (outlet_id, digest)
        if key in segments and (key not in least or text_ < least[key]):
            least[key] = text_
    return least


def _add_segments(connection, seen: dict[tuple[str, str, str], str], now: datetime) -> None:
    """_NEW_SEGMENTS done in Python for SQLite: the staged occurrences grouped by segment (articles
    counted, the least text kept for a recurring one, as MIN compares them), inserted in (outlet,
    hash) order, as the GROUP BY would. Spares SQLite staging every candidate's text and sorting it."""
    counts = Counter(key[:2] for key in seen)
    least = _least_texts(seen, {key for key, articles in counts.items() if articles > 1})
    stamp = _bind_values(connection, BoilerplateSegmentRow.__table__, ["first_seen_at"])((now,))[0]
    # Sorted by one string per key: as the (outlet, hash) tuples would sort (no outlet id holds a
    # NUL), and faster.
    ordered = sorted(counts, key=lambda key: f"{key[0]}\0{key[1]}")
    connection.exec_driver_sql(
        "INSERT INTO boilerplate_segments (outlet_id, segment_hash, text, article_count, first_seen_at, last_seen_at, "
        "status) VALUES (?, ?, ?, ?, ?, ?, 'auto') ON CONFLICT (outlet_id, segment_hash) DO NOTHING",
        [(*key, least.get(key), counts[key], stamp, stamp) for key in ordered])


def _add_recurring_texts(connection, seen: dict[tuple[str, str, str], str]) -> None:
    """The text of each known segment stored without one (seen in one article) that now recurs."""
    wanted = set(map(tuple, connection.execute(_RECURRING_WITHOUT_TEXT)))
    if not wanted:
        return
    least = _least_texts(seen, wanted)
    segments = BoilerplateSegmentRow.__table__
    connection.execute(segments.update().where(segments.c.outlet_id == bindparam("key_outlet"),
                                               segments.c.segment_hash == bindparam("key_hash"))
                       .values(text=bindparam("new_text")),
                       [{"key_outlet": outlet_id, "key_hash": digest, "new_text": text_}
                        for (outlet_id, digest), text_ in sorted(least.items())])


def learn_segments(engine: Engine, articles: list[Article],
                   candidates: dict[str, dict[str, str]]) -> dict[str, set[str]]:
    """Record where the articles' candidate segments occur (``candidates``: canonical URL → segment
    hash → paragraph text, the paragraphs where boilerplate lives); return, per outlet, the hashes
    of its active segments (``segment_is_active``), which the transform removes from bodies.

    Counts are of distinct articles, so a re-run or another order learns the same, and a re-run
    writes nothing. One transaction, tried again while the database is busy.
    """
    try:
        return _write(engine, _learn_segments, articles, candidates)
    except SQLAlchemyError as exc:
        raise WarehouseError(f"learning boilerplate failed, nothing written: {_reason(exc)}") from exc


def _learn_segments(connection, articles: list[Article], candidates: dict[str, dict[str, str]]) -> dict[str, set[str]]:
    segments = BoilerplateSegmentRow.__table__
    outlet_ids = sorted({a.outlet for a in articles})
    # Counts span loads: concurrent loads of one outlet take turns here, so neither counts without
    # the other's occurrences.
    _take_turns(connection, outlet_ids)
    seen = {}  # (outlet, hash, article) → paragraph text
    for article in articles:
        for digest, text_ in candidates[article.canonical_url].items():
            seen[(article.outlet, digest, article.canonical_url)] = text_
    if seen:
        now = utc_now()
        on_postgresql = connection.dialect.name == "postgresql"
        # SQLite: texts are not staged but go with the new segments, grouped here (see _add_segments).
        columns = ["outlet_id", "segment_hash", "canonical_url", *(["text"] if on_postgresql else [])]
        rows = [(*key, text_) for key, text_ in seen.items()] if on_postgresql else list(seen)
        with _staged(connection, "staged_segments", "boilerplate_segments, boilerplate_occurrences", columns, rows,
                     joined=True):
            connection.execute(_COUNT_NEW_OCCURRENCES, {"now": now})
            _add_recurring_texts(connection, seen)
            if on_postgresql:
                connection.execute(_NEW_SEGMENTS, {"now": now})
            else:
                _add_segments(connection, seen, now)
            connection.execute(_NEW_OCCURRENCES_BY_DIALECT[connection.dialect.name])
    remove: dict[str, set[str]] = {outlet_id: set() for outlet_id in outlet_ids}
    for outlet_id, digest in connection.execute(select(segments.c.outlet_id, segments.c.segment_hash).where(
            segments.c.outlet_id.in_(outlet_ids), segment_is_active())):
        remove[outlet_id].add(digest)
    return remove


def segment_is_active():
    """The segments the transform removes from bodies: confirmed ones, and automatic ones seen in enough articles."""
    segments = BoilerplateSegmentRow.__table__
    return or_(segments.c.status == "confirmed",
               and_(segments.c.status == "auto", segments.c.article_count >= MIN_ARTICLES))


def article_values(article: Article, run_id: str, now: datetime) -> dict:
    return dict(outlet_id=article.outlet, canonical_url=article.canonical_url, version=1, first_run_id=run_id,
                last_run_id=run_id, first_seen_at=now, updated_at=now,
                **{name: getattr(article, name) for name in _CONTENT_FIELDS})


def _insert_new(connection, articles: list[Article], run_id: str, now: datetime) -> dict[str, int]:
    """Insert ``articles`` (not stored when last read), in canonical-URL order; canonical URL → id of
    each one inserted. One another load inserted meanwhile is left alone here (ON CONFLICT DO NOTHING)."""
    table = ArticleRow.__table__
    rows = [article_values(article, run_id, now) for article in articles]
    columns = list(rows[0])
    names = ", ".join(columns)
    bind = _bind_values(connection, table, columns)
    if connection.dialect.name == "postgresql":
        # COPY into a staging table shaped like articles, then one INSERT … SELECT: no statement of
        # thousands of parameters to build, send and parse, as an executemany of wide rows needs.
        with _staged(connection, "staged_articles", "articles", columns, (bind(row.values()) for row in rows)):
            return dict(connection.exec_driver_sql(
                f"INSERT INTO articles ({names}) SELECT {names} FROM staged_articles ORDER BY canonical_url "
                f"ON CONFLICT (canonical_url) DO NOTHING RETURNING canonical_url, id").all())
    # SQLite: this transaction has held the database's one write lock since it read what is stored,
    # so every article goes in; the ids are read back (an executemany returns none).
    connection.exec_driver_sql(f"INSERT INTO articles ({names}) VALUES ({', '.join('?' * len(columns))}) "
                               f"ON CONFLICT (canonical_url) DO NOTHING", [bind(row.values()) for row in rows])
    urls = [article.canonical_url for article in articles]
    return {url: article_id for chunk in _chunks(urls) for url, article_id in connection.execute(
        select(table.c.canonical_url, table.c.id).where(table.c.canonical_url.in_(chunk)))}


_FIRST_VERSION_COPIES = ("title", "body", "authors", "published_at", "modified_at", "content_hash", "warc_file",
                         "warc_offset", "extractor_version", "cleaning_hash")


def _add_first_versions(connection, article_ids: list[int], run_id: str, now: datetime) -> None:
    """Version 1 of each newly inserted article, copied from its row in the database."""
    table, versions = ArticleRow.__table__, ArticleVersionRow.__table__
    columns = ["article_id", "version", "changed_fields", *_FIRST_VERSION_COPIES, "run_id", "created_at"]
    for chunk in _chunks(sorted(article_ids)):
        connection.execute(versions.insert().from_select(columns, select(
            table.c.id, table.c.version, literal([], versions.c.changed_fields.type),
            *(table.c[name] for name in _FIRST_VERSION_COPIES),
            literal(run_id, versions.c.run_id.type), literal(now, UTCDateTime)).where(table.c.id.in_(chunk))))


def _load_batch(connection, articles: list[Article], run_id: str) -> LoadResult:
    """Upsert one batch (sorted by canonical URL) and add a version for each new or changed content.

    Only rows whose content hash differs are locked and rewritten; an unchanged article is read,
    never written. Loads of the same articles at once wait on each other's row locks and inserts,
    which they take in URL order, so none deadlocks, duplicates a row or skips a version.
    """
    table, versions = ArticleRow.__table__, ArticleVersionRow.__table__
    now = utc_now()
    urls = [article.canonical_url for article in articles]
    stored = {url: digest for chunk in _chunks(urls) for url, digest in connection.execute(
        select(table.c.canonical_url, table.c.content_hash).where(table.c.canonical_url.in_(chunk)))}
    fresh = [article for article in articles if article.canonical_url not in stored]
    inserted = _insert_new(connection, fresh, run_id, now) if fresh else {}
    if inserted:
        _add_first_versions(connection, list(inserted.values()), run_id, now)
    # Changed content, and articles another load inserted since the first read: compare under lock.
    suspects = [article for article in articles if article.canonical_url not in inserted
                and stored.get(article.canonical_url) != article.content_hash]
    rewrites, new_versions = [], []
    if suspects:
        columns = [table.c.canonical_url, table.c.id, table.c.content_hash, table.c.version,
                   *(table.c[name] for name in _EDITABLE_FIELDS)]
        current = {row.canonical_url: row for row in connection.execute(
            select(*columns).where(table.c.canonical_url.in_([a.canonical_url for a in suspects]))
            .order_by(table.c.canonical_url).with_for_update(key_share=True))}
        for article in suspects:
            row = current[article.canonical_url]
            if row.content_hash == article.content_hash:
                continue
            changed = [name for name in _EDITABLE_FIELDS if getattr(row, name) != getattr(article, name)]
            rewrites.append({**{name: getattr(article, name) for name in _CONTENT_FIELDS}, "row_id": row.id,
                             "last_run_id": run_id, "updated_at": now, "version": row.version + 1})
            new_versions.append(_version_row(article, row.id, row.version + 1, changed, run_id, now))
    if rewrites:
        connection.execute(table.update().where(table.c.id == bindparam("row_id")), rewrites)
        connection.execute(versions.insert(), new_versions)
    # Links are read, then written: taken in turns, the last of the batch's transaction, so that a
    # concurrent load sees the other's links and never waits on a lock while holding this one.
    _take_turns(connection, {article.outlet for article in articles})
    link_translations(connection, articles, run_id)
    # The run's counts move with its rows, in the same transaction: true at every commit, and a
    # batch loaded again (a resumed load) adds nothing to them.
    runs = CrawlRunRow.__table__
    if inserted or rewrites:
        connection.execute(runs.update().where(runs.c.run_id == run_id).values(
            articles_new=runs.c.articles_new + len(inserted), articles_updated=runs.c.articles_updated + len(rewrites)))
    return LoadResult(len(inserted), len(rewrites), len(articles) - len(inserted) - len(rewrites))


def _record_fetches(connection, run_id: str, fetches: list[dict], drops: list[dict], sources: dict[str, dict]) -> None:
    """The run's fetch log, its verdicts on pages and its sources' health, written once: a repeated
    load of the run finds its fetch log there and adds nothing."""
    runs, log_table = CrawlRunRow.__table__, FetchLogRow.__table__
    outlet_id = connection.execute(select(runs.c.outlet_id).where(runs.c.run_id == run_id)
                                   .with_for_update(key_share=True)).scalar_one()
    if connection.execute(select(log_table.c.id).where(log_table.c.run_id == run_id).limit(1)).first():
        return
    if fetches:
        connection.execute(log_table.insert(), [
            {**fetch, "run_id": run_id, "fetched_at": datetime.fromisoformat(fetch["fetched_at"]),
             "url": fetch["url"][:2000], "detail": (fetch.get("detail") or None)} for fetch in fetches])
    now = utc_now()
    record_verdicts(connection, outlet_id, run_id, drops, now)
    record_source_health(connection, outlet_id, run_id, sources, now)


def load_articles(engine: Engine, articles: list[Article], run_id: str, fetches: list[dict] = (),
                  batch_size: int | None = None, drops: list[dict] = (), sources: dict[str, dict] | None = None
                  ) -> LoadResult:
    """Insert new articles, rewrite changed ones (adding a version), leave unchanged ones alone, and
    record the run's fetch log, its ``drops``' verdicts and its ``sources``' health
    (``models.crawl_state``). The articles are loaded as they are given.

    They go in batches of ``batch_size``, one transaction each, in canonical-URL order. A failing
    batch is rolled back whole and stops the load with a WarehouseError; earlier batches stay, and
    the run's row counts them. The result is the run's (from its row, when it has one): loading the
    run again after a failure completes it and reports what the whole run did.
    """
    batch_size = batch_size or BATCH_SIZE
    by_url = {article.canonical_url: article for article in articles}  # one per URL: the last one given
    ordered = [article for _, article in sorted(by_url.items())]
    batches = [ordered[start:start + batch_size] for start in range(0, len(ordered), batch_size)]
    new = updated = unchanged = 0
    for number, batch in enumerate(batches, 1):
        try:
            result = _write(engine, _load_batch, batch, run_id)
        except SQLAlchemyError as exc:
            if number == 1:
                raise WarehouseError(f"load of run {run_id} rolled back, nothing written: {_reason(exc)}") from exc
            raise WarehouseError(
                f"load of run {run_id} stopped at batch {number} of {len(batches)}: its {len(batch)} articles rolled "
                f"back, the {new + updated + unchanged} of earlier batches stay committed (and counted); "
                f"`newsetl resume {run_id}` completes it: {_reason(exc)}") from exc
        new, updated, unchanged = new + result.new, updated + result.updated, unchanged + result.unchanged
    if fetches or drops or sources:
        try:
            _write(engine, _record_fetches, run_id, list(fetches), list(drops), sources or {})
        except SQLAlchemyError as exc:
            raise WarehouseError(f"load of run {run_id}: articles committed, fetch log rolled back: {_reason(exc)}") from exc
    with engine.connect() as connection:
        counted = connection.execute(select(CrawlRunRow.articles_new, CrawlRunRow.articles_updated)
                                     .where(CrawlRunRow.run_id == run_id)).first()
    if counted is not None:  # the whole run's, earlier attempts included, not only this call's
        new, updated = counted
        unchanged = len(ordered) - new - updated
    log.info("run %s loaded: %d new, %d updated, %d unchanged", run_id, new, updated, unchanged)
    return LoadResult(new, updated, unchanged)


def _reason(exc: SQLAlchemyError) -> str:
    return f"{exc.__class__.__name__}: {str(exc).splitlines()[0]}"
