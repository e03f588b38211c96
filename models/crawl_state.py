"""What crawls remember between runs, kept in the warehouse: the articles stored (``articles``), the
verdicts on pages whose own date put them outside a run's window (``page_verdicts``), and the health of each discovery
source (``source_health``). A run's verdicts and source tallies are written with its fetch log,
in one transaction, once."""

from __future__ import annotations

from datetime import UTC, datetime
from statistics import median

from sqlalchemy import Engine, select

from kernel.records import CrawlState, Verdict
from kernel.rules import SETTLED_DROPS
from models.chunks import chunks
from models.tables import ArticleRow, PageVerdictRow, SourceHealthRow

RECENT_RUNS = 14  # runs of history a source's usual yield is the median of


def crawl_state(engine: Engine, outlet_id: str) -> CrawlState:
    """The outlet's stored articles (URL as fetched and canonical → last modification) and verdicts."""
    articles, verdicts = ArticleRow.__table__, PageVerdictRow.__table__
    state = CrawlState()
    with engine.connect() as connection:
        for row in connection.execute(select(articles.c.url, articles.c.canonical_url, articles.c.modified_at,
                                             articles.c.published_at).where(articles.c.outlet_id == outlet_id)):
            moment = row.modified_at or row.published_at or datetime.min.replace(tzinfo=UTC)
            state.articles[row.url] = state.articles[row.canonical_url] = moment
        for row in connection.execute(select(verdicts.c.url, verdicts.c.reason, verdicts.c.published_at,
                                             verdicts.c.judged_at).where(verdicts.c.outlet_id == outlet_id)):
            state.verdicts[row.url] = Verdict(row.reason, row.published_at, row.judged_at)
    return state


def record_verdicts(connection, outlet_id: str, run_id: str, drops: list[dict], now: datetime) -> int:
    """Remember the run's settled drops (``SETTLED_DROPS``), replacing earlier verdicts on the same URLs."""
    table = PageVerdictRow.__table__
    settled = {drop["url"][:2000]: drop for drop in drops if drop["reason"] in SETTLED_DROPS}
    for urls in chunks(sorted(settled)):
        connection.execute(table.delete().where(table.c.outlet_id == outlet_id, table.c.url.in_(urls)))
    if settled:
        connection.execute(table.insert(), [
            dict(outlet_id=outlet_id, url=url, reason=drop["reason"], run_id=run_id, judged_at=now,
                 published_at=datetime.fromisoformat(drop["published"]) if drop.get("published") else None)
            for url, drop in settled.items()])
    return len(settled)


def record_source_health(connection, outlet_id: str, run_id: str, sources: dict[str, dict], now: datetime) -> None:
    """Fold the run's tally of each source (the crawl's ``sources.json``) into its health row."""
    table = SourceHealthRow.__table__
    rows = {row.source_url: row for row in connection.execute(select(table).where(table.c.outlet_id == outlet_id))}
    for url, tally in sources.items():
        url = url[:2000]
        row = rows.get(url)
        read, failures = tally["documents"] > 0, tally["failures"]
        recent = [*(row.items_recent if row else []), tally["entries"]][-RECENT_RUNS:] if read else (
            row.items_recent if row else [])
        values = dict(
            kind=tally["kind"], edition=tally["edition"], last_run_id=run_id, updated_at=now,
            consecutive_failures=0 if read else (row.consecutive_failures if row else 0) + 1,
            runs_without_items=(0 if tally["entries"] else (row.runs_without_items if row else 0) + 1)
            if read else (row.runs_without_items if row else 0),
            items_recent=recent, items_median=median(recent) if recent else None,
        )
        if read:
            values.update(last_success_at=now, items_last=tally["entries"])
        if tally["new"]:
            values["last_new_article_at"] = now
        if failures:
            values.update(last_failure_at=now, last_failure_reason=failures[0][0][:40],
                          last_failure_detail="; ".join(detail for _, detail in failures[:5]))
        if row is None:
            connection.execute(table.insert().values(outlet_id=outlet_id, source_url=url, **values))
        else:
            connection.execute(table.update().where(table.c.id == row.id).values(**values))
