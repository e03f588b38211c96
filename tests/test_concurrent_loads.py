"""Two loads of the same outlet and day at once, in two OS processes: no duplicate, no lost row,
consistent versions and translation links — on PostgreSQL (row locks) and SQLite (one writer at a time, the other waits)."""

from __future__ import annotations

import multiprocessing
import sqlite3
import threading
from dataclasses import replace

import pytest
from sqlalchemy import func, select

from kernel.registry import get_outlet
from kernel.window import Window
from models.tables import ArticleRow, ArticleTranslationRow, ArticleVersionRow, BoilerplateSegmentRow
from models.warehouse import WarehouseError, connect, load_articles, start_run, upgrade
from newsetl.pipeline import without_learned_boilerplate
from tests.test_warehouse import make_article
from transforms.normalize import content_hash, segment_hash

ROUNDS = 4
SHARED = 60  # articles both processes load every round
OWN = 10  # articles only one process loads
BATCH = 16  # several batches per load, so the two interleave
APPEAL = "Support independent reporting: a small monthly contribution keeps this newsroom free for every reader."


TRANSLATED = range(0, 20, 2)  # story n names story n + 1 as its English edition


def article(n: int, body: str):
    body = f"{body}\n\n{APPEAL}"  # learned as boilerplate by both loads, and removed
    alternates = {"en": f"https://slobodenpecat.mk/story-{n + 1}/"} if n in TRANSLATED else {}
    return replace(make_article(n, body), content_hash=content_hash(f"Story {n}", body), alternates=alternates)


def edited_in(n: int, round_: int) -> bool:
    return n % 3 == round_ % 3 and round_ > 0


def articles_for(process: int, round_: int):
    """Both processes: the same edits of the same stories, and one story each edits its own way."""
    shared = []
    for n in range(SHARED):
        if n == 0:  # contested: each process has its own text every round
            shared.append(article(n, f"Process {process} wrote this in round {round_}."))
        else:
            shared.append(article(n, f"Story {n} as of round {round_}." if edited_in(n, round_) else f"Story {n}."))
    own = [article(1000 * (process + 1) + n, f"Only process {process}, story {n}.") for n in range(OWN)]
    return shared + own


def load_rounds(url: str, process: int, barrier, results) -> None:
    """Each round: start a run, wait for the other process, load. Puts one message: all counts, or the failure."""
    engine = connect(url)
    counts = []
    try:
        for round_ in range(ROUNDS):
            run_id = f"run-{process}-{round_}"
            start_run(engine, run_id, get_outlet("slobodenpecat"), Window())
            barrier.wait(timeout=60)
            loaded = load_articles(engine, without_learned_boilerplate(engine, articles_for(process, round_)), run_id,
                                   batch_size=BATCH)
            counts.append((process, round_, loaded.new, loaded.updated, loaded.unchanged))
        results.put(counts)
    except Exception as exc:  # the parent reports it
        barrier.abort()
        results.put(f"process {process} failed in round {len(counts)}: {exc!r}")
    finally:
        engine.dispose()


def test_two_loads_at_once_end_without_duplicates_lost_rows_or_version_gaps(warehouse_url):
    engine = connect(warehouse_url)
    upgrade(engine)
    context = multiprocessing.get_context("spawn")
    barrier, results = context.Barrier(2), context.Queue()
    processes = [context.Process(target=load_rounds, args=(warehouse_url, p, barrier, results)) for p in (0, 1)]
    for process in processes:
        process.start()
    messages = [results.get(timeout=240) for _ in processes]
    for process in processes:
        process.join(timeout=60)
    assert not [m for m in messages if isinstance(m, str)], messages
    reports = [report for message in messages for report in message]

    with engine.connect() as connection:
        rows = {row.canonical_url: row for row in connection.execute(select(ArticleRow))}
        versions = connection.execute(select(ArticleVersionRow).order_by(ArticleVersionRow.article_id,
                                                                         ArticleVersionRow.version)).all()
        links = set(connection.execute(select(ArticleTranslationRow.article_id, ArticleTranslationRow.translation_id,
                                              ArticleTranslationRow.declared)).all())
        appeal = connection.execute(select(BoilerplateSegmentRow.article_count)
                                    .where(BoilerplateSegmentRow.segment_hash == segment_hash(APPEAL))).scalar_one()
    engine.dispose()

    expected_urls = {a.canonical_url for p in (0, 1) for a in articles_for(p, 0)}
    assert set(rows) == expected_urls and len(rows) == SHARED + 2 * OWN  # none lost, none twice
    history: dict[int, list] = {}
    for version in versions:
        history.setdefault(version.article_id, []).append(version)
    for url, row in rows.items():
        own = history[row.id]
        assert [v.version for v in own] == list(range(1, row.version + 1)), url  # no gap, no repeat
        assert (own[-1].content_hash, own[-1].body) == (row.content_hash, row.body), url  # the row is its last version
        assert APPEAL not in row.body
        assert all(a.content_hash != b.content_hash for a, b in zip(own, own[1:], strict=False)), url  # a version only on change
    for n in range(1, SHARED):  # the same edit from both processes is one version, whoever wrote it
        edits = sum(edited_in(n, r) != edited_in(n, r - 1) for r in range(1, ROUNDS))
        assert rows[f"https://slobodenpecat.mk/story-{n}/"].version == 1 + edits, n
    assert appeal == len(expected_urls)
    story = {n: rows[f"https://slobodenpecat.mk/story-{n}/"].id for n in range(SHARED)}
    assert links == {(story[n], story[n + 1], True) for n in TRANSLATED} | {(story[n + 1], story[n], False) for n in TRANSLATED}

    new = sum(r[2] for r in reports)
    updated = sum(r[3] for r in reports)
    assert new == len(expected_urls)  # each article inserted by exactly one of the loads
    assert new + updated == len(versions)  # and each version counted by the load that wrote it
    for process in (0, 1):
        for round_ in range(ROUNDS):
            (report,) = [r for r in reports if r[:2] == (process, round_)]
            assert sum(report[2:]) == SHARED + OWN


def test_a_busy_sqlite_warehouse_is_waited_for_then_given_up_on_with_a_clear_error(tmp_path):
    path = tmp_path / "warehouse.db"
    engine = connect(f"sqlite:///{path}?timeout=0.2")
    upgrade(engine)
    start_run(engine, "run-1", get_outlet("slobodenpecat"), Window())
    other_writer = sqlite3.connect(path, isolation_level=None, check_same_thread=False)

    other_writer.execute("BEGIN IMMEDIATE")
    release = threading.Timer(0.5, other_writer.execute, ["ROLLBACK"])
    release.start()
    waited = load_articles(engine, [make_article(1)], "run-1")  # tried again until the other writer is done
    release.join()
    assert waited.new == 1

    other_writer.execute("BEGIN IMMEDIATE")  # and now it never lets go
    with pytest.raises(WarehouseError, match="rolled back, nothing written: .*database is locked"):
        load_articles(engine, [make_article(2)], "run-1")
    other_writer.execute("ROLLBACK")
    other_writer.close()
    with engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(ArticleRow)).scalar_one() == 1
    engine.dispose()
