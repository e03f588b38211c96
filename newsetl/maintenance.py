"""Warehouse maintenance after loads, and reprocessing from the raw archive.

Plain functions over the warehouse, without Airflow: the maintenance DAGs (dags/news_maintenance.py)
call them as tasks, and each returns a small dict of counts, never article data.

- ``reclean_boilerplate``: a learned boilerplate segment is removed from bodies loaded once it is
  active (seen in enough articles, or confirmed); the bodies loaded before that still carry it.
  Those articles are extracted again from the raw archive, so the segment leaves them.
- ``refresh_syndication``: the near-duplicate clusters of the articles that changed since the
  last refresh.
- ``reprocess``: an outlet's articles of a date range extracted again with the current extractor.

Both refreshes record themselves in ``maintenance_runs``; a new version is added only where an
article's output changed (the load's rule), so running either again changes nothing.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from contextlib import contextmanager
from datetime import date, datetime, time, timedelta

from sqlalchemy import Engine, func, select

from kernel.registry import RegistryError, get_outlet
from kernel.rules import utc_now
from kernel.settings import Settings
from kernel.window import Window
from models.chunks import chunks
from models.tables import ArticleRow, BoilerplateOccurrenceRow, BoilerplateSegmentRow, MaintenanceRunRow
from models.warehouse import connect, segment_is_active, upgrade
from transforms.boilerplate import paragraphs_of
from transforms.normalize import segment_hash

log = logging.getLogger(__name__)
# Loads stamp updated_at with their own worker's clock: look this much further back than the last
# refresh's start so a worker whose clock runs behind does not hide a change.
CLOCK_MARGIN = timedelta(minutes=10)
NO_CLUSTER_CHANGE = {"articles": 0, "clusters": 0, "new": 0, "changed": 0, "unchanged": 0, "removed": 0}


@contextmanager
def _recorded(engine: Engine, task: str):
    """Record a maintenance run: yields the dict of counts to fill, stored with the run's outcome."""
    runs = MaintenanceRunRow.__table__
    with engine.begin() as connection:
        run_id = connection.execute(runs.insert().values(task=task, started_at=utc_now(), status="running", counts={})
                                    .returning(runs.c.id)).scalar_one()
    counts: dict = {}
    try:
        yield counts
    except BaseException as exc:
        with engine.begin() as connection:
            connection.execute(runs.update().where(runs.c.id == run_id).values(
                status="failed", finished_at=utc_now(), counts=counts, error_message=f"{type(exc).__name__}: {exc}"))
        raise
    with engine.begin() as connection:
        connection.execute(runs.update().where(runs.c.id == run_id).values(status="success", finished_at=utc_now(),
                                                                            counts=counts))


@contextmanager
def _warehouse(settings: Settings):
    engine = connect(settings.warehouse_url)
    try:
        upgrade(engine)  # maintenance may be the first to run after a deployment
        yield engine
    finally:
        engine.dispose()


def _pending_segments(engine: Engine) -> dict[str, dict[str, int]]:
    """outlet → {segment hash: id} of the active segments not yet cleaned from older bodies."""
    segments = BoilerplateSegmentRow.__table__
    pending: dict[str, dict[str, int]] = defaultdict(dict)
    with engine.connect() as connection:
        for row in connection.execute(select(segments.c.id, segments.c.outlet_id, segments.c.segment_hash)
                                      .where(segment_is_active(), segments.c.recleaned_at.is_(None))):
            pending[row.outlet_id][row.segment_hash] = row.id
    return dict(pending)


def _articles_carrying(engine: Engine, outlet_id: str, segments: dict[str, int]) -> list[str]:
    """Canonical URLs of the outlet's stored articles whose body still has one of ``segments``.

    Only the articles a load saw the segments in (their occurrences) are read: that is what keeps
    the work bounded by the newly active segments rather than by the whole warehouse.
    """
    occurrences, articles = BoilerplateOccurrenceRow.__table__, ArticleRow.__table__
    urls: set[str] = set()
    carrying = []
    with engine.connect() as connection:
        for chunk in chunks(sorted(segments.values())):
            urls.update(connection.execute(select(occurrences.c.canonical_url)
                                           .where(occurrences.c.segment_id.in_(chunk))).scalars())
        for chunk in chunks(sorted(urls)):
            for url, body in connection.execute(select(articles.c.canonical_url, articles.c.body).where(
                    articles.c.outlet_id == outlet_id, articles.c.canonical_url.in_(chunk))):
                if any(segment_hash(paragraph) in segments for paragraph in paragraphs_of(body)):
                    carrying.append(url)
    return sorted(carrying)


def _mark_recleaned(engine: Engine, segment_ids: list[int]) -> None:
    segments = BoilerplateSegmentRow.__table__
    with engine.begin() as connection:
        for chunk in chunks(sorted(segment_ids)):
            connection.execute(segments.update().where(segments.c.id.in_(chunk)).values(recleaned_at=utc_now()))


def _forget_inactive(engine: Engine) -> int:
    """A segment a person set to ignored comes back into bodies loaded meanwhile: if it is confirmed
    again later, those must be cleaned again, so an inactive segment is not counted as cleaned."""
    segments = BoilerplateSegmentRow.__table__
    with engine.begin() as connection:
        return connection.execute(segments.update().where(segments.c.recleaned_at.is_not(None), ~segment_is_active())
                                  .values(recleaned_at=None)).rowcount


def reclean_boilerplate(settings: Settings) -> dict:
    """Extract again, from the raw archive, the articles whose stored body still carries a learned
    segment that became active after they were loaded; the load then drops the segment.

    Bounded: only segments active and not yet cleaned (``boilerplate_segments.recleaned_at`` null)
    are looked at, and only the articles they were seen in — after one refresh a segment is done, and
    later loads drop it themselves. Returns counts: segments, articles carrying them, re-cleaned
    (a version added), unchanged, and not re-cleaned (raw page missing or no longer extracting,
    or an outlet no longer in the registry).
    """
    from newsetl.pipeline import reextract_outlet

    with _warehouse(settings) as engine, _recorded(engine, "boilerplate") as counts:
        pending = _pending_segments(engine)
        counts.update(segments=sum(map(len, pending.values())), outlets=len(pending), articles_carrying=0,
                      recleaned=0, unchanged=0, not_recleaned=0)
        for outlet_id, segments in sorted(pending.items()):
            urls = _articles_carrying(engine, outlet_id, segments)
            counts["articles_carrying"] += len(urls)
            if urls:
                try:
                    summary = reextract_outlet(outlet_id, Window(), settings, urls=urls)
                except RegistryError as exc:  # left pending: cleaned once the outlet is declared again
                    log.warning("boilerplate of %s not re-cleaned: %s", outlet_id, exc)
                    counts["not_recleaned"] += len(urls)
                    continue
                counts["recleaned"] += summary.articles_updated
                counts["unchanged"] += summary.articles_unchanged
                missed = len(urls) - summary.articles_updated - summary.articles_unchanged
                if missed:
                    log.warning("%d articles of %s still carry learned boilerplate: raw page missing or not extracting",
                                missed, outlet_id)
                counts["not_recleaned"] += missed
            _mark_recleaned(engine, list(segments.values()))
        counts["forgotten"] = _forget_inactive(engine)
    log.info("learned boilerplate re-cleaned: %s", counts)
    return counts


def _last_success(engine: Engine, task: str) -> datetime | None:
    runs = MaintenanceRunRow.__table__
    with engine.connect() as connection:
        return connection.execute(select(func.max(runs.c.started_at))
                                  .where(runs.c.task == task, runs.c.status == "success")).scalar_one()


def refresh_syndication(settings: Settings) -> dict:
    """Refresh the near-duplicate clusters of the articles published from the earliest publication
    among those that changed since the last successful refresh (every article on the first one).

    A daily load changes a day or two of articles, so this stays a few days' worth of clusters, not
    the whole warehouse. Returns ``refresh_clusters``'s counts, the articles changed and the
    publication time the refresh started from.
    """
    from models.syndication import refresh_clusters

    articles = ArticleRow.__table__
    with _warehouse(settings) as engine:
        last = _last_success(engine, "syndication")
        with _recorded(engine, "syndication") as counts:
            if last is None:
                changed, since = None, None
                counts.update(refresh_clusters(engine))
            else:
                with engine.connect() as connection:
                    changed, since = connection.execute(
                        select(func.count(), func.min(articles.c.published_at))
                        .where(articles.c.updated_at >= last - CLOCK_MARGIN)).one()
                counts.update(refresh_clusters(engine, since=since) if changed else NO_CLUSTER_CHANGE)
            counts.update(changed_articles=changed, since=since.isoformat() if since else None)
    return counts


def reprocess_window(outlet_id: str, since: str, until: str) -> Window:
    """The window ``[since, until)`` of dates (YYYY-MM-DD, midnight at the outlet) for a reprocess;
    a ValueError that says what is wrong otherwise."""
    outlet = get_outlet(outlet_id)  # a RegistryError (a ValueError) lists the known outlets
    days = []
    for name, text in (("since", since), ("until", until)):
        try:
            days.append(date.fromisoformat(text))
        except (TypeError, ValueError):
            raise ValueError(f"{name} must be a date YYYY-MM-DD, got {text!r}") from None
    if days[0] >= days[1]:
        raise ValueError(f"since ({since}) must be before until ({until}); until is exclusive")
    return Window(*(datetime.combine(day, time(0), tzinfo=outlet.tz) for day in days))


def reprocess(outlet_id: str, since: str, until: str, settings: Settings) -> dict:
    """Extract the outlet's articles published in ``[since, until)`` again from the raw archive with
    the current extractor; a version is added only where the output changed. Returns the run's summary."""
    from newsetl.pipeline import reextract_outlet

    return reextract_outlet(outlet_id, reprocess_window(outlet_id, since, until), settings).to_dict()
