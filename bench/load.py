"""Load benchmark: the warehouse's upsert path against a bulk copy of the same rows, same run.

    .venv/bin/python bench/load.py                   # 10,000 articles
    .venv/bin/python bench/load.py --articles 1000   # quick check
    .venv/bin/python bench/load.py --rounds 1        # one round instead of the fastest of 3

Generates articles as the transform stage would hand them over (mk/en/sq editions, bodies of a
few KB, a Latin transliteration for mk, the segment hash of each paragraph, a donation appeal at the
end that the load learns and removes) and measures, per database:

- **load** — ``models.warehouse.load_articles`` as the pipeline calls it, into a freshly migrated
  warehouse: boilerplate learning, batched upserts, a version per article;
- **rerun** — the same articles again (all unchanged), under a new run id;
- **baseline** — the same article rows written the plainest way: PostgreSQL ``COPY`` into a scratch
  table created ``LIKE articles INCLUDING ALL`` (its indexes and generated full-text column
  included, its foreign keys not); on SQLite one ``executemany`` INSERT into ``articles`` of a
  freshly migrated warehouse (its indexes and full-text triggers included).

Each database runs ``--rounds`` rounds (load, rerun, baseline, in a fresh warehouse each), and
each of the three keeps its fastest round: on this kind of machine the disk alone moves one
round's baseline by half.

PostgreSQL is a scratch database created on NEWSETL_BENCH_PG_URL's server (default
postgresql://postgres@127.0.0.1:5432/postgres) and dropped afterwards; SQLite a temp file.
Ends with one JSON line of all figures.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import random
import secrets
import sqlite3
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from importlib.metadata import version
from pathlib import Path

import psutil
import psycopg
from crawl import MIB, PeakRss  # bench/ is on sys.path when this file runs as a script
from psycopg.types.json import Jsonb
from sqlalchemy import func, select

from kernel.records import Article
from kernel.registry import get_outlet
from kernel.rules import count_words
from kernel.window import Window
from models.tables import ArticleRow, ArticleVersionRow
from models.warehouse import article_values, connect, load_articles, start_run, upgrade
from newsetl.pipeline import without_learned_boilerplate
from transforms.language import transliterate_mk
from transforms.normalize import content_hash, paragraph_hashes

RATIO_TARGET = 0.5
PG_ADMIN_URL = os.environ.get("NEWSETL_BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
OUTLET = "slobodenpecat"
WORDS = {
    "mk": ("владата седницата министерот соопшти денеска проектот општината граѓаните Скопје буџетот реформите "
           "изборите парламентот договорот економијата инвестиции образованието здравството полицијата судот "
           "европската интеграција денари податоците според годинава").split(),
    "en": ("the government said today that minister project municipality citizens budget reforms elections "
           "parliament agreement economy investment education health police court european integration "
           "according data this year officials announced").split(),
    "sq": ("qeveria tha sot se ministri projekti komuna qytetarët buxheti reformat zgjedhjet parlamenti "
           "marrëveshja ekonomia investimet arsimi shëndetësia policia gjykata integrimi evropian sipas "
           "të dhënave këtë vit zyrtarët njoftuan").split(),
}
APPEAL = {
    "mk": "Поддржете го независното новинарство: секој придонес ја одржува редакцијата слободна за сите читатели.",
    "en": "Support independent journalism: every contribution keeps the newsroom free for every reader.",
    "sq": "Mbështetni gazetarinë e pavarur: çdo kontribut e mban redaksinë të lirë për çdo lexues.",
}


def generate(count: int, seed: int = 7) -> list[Article]:
    """``count`` articles, a third per edition, 6–12 paragraphs of 40–90 words each (a few KB)."""
    rng = random.Random(seed)
    start = datetime(2026, 11, 21, 6, 0, tzinfo=UTC)
    articles = []
    for n in range(count):
        edition = ("mk", "en", "sq")[n % 3]
        words = WORDS[edition]
        paragraphs = [" ".join(rng.choices(words, k=rng.randint(40, 90))).capitalize() + "."
                      for _ in range(rng.randint(6, 12))]
        body = "\n\n".join([*paragraphs, APPEAL[edition]])
        title = " ".join(rng.choices(words, k=rng.randint(6, 12))).capitalize() + f" ({n})"
        url = f"https://www.slobodenpecat.mk/{'' if edition == 'mk' else edition + '/'}story-{n}/"
        published = start + timedelta(minutes=n)
        articles.append(Article(
            outlet=OUTLET, url=url, canonical_url=url, edition=edition, title=title, title_flags=[], body=body,
            authors=[f"Author {n % 40}"], published_at=published, modified_at=None, section="Македонија",
            tags=rng.sample(words, 3), image_url=f"https://www.slobodenpecat.mk/img/{n}.jpg", description=paragraphs[0][:200],
            language=edition, language_confidence=0.99, word_count=count_words(body),
            content_hash=content_hash(title, body), run_id="bench-1", fetched_at=published + timedelta(hours=1),
            extractor_version="bench", warc_file="runs/bench-1/pages.warc.gz", warc_offset=1000 * n,
            translation_key=url, cleaning_hash="0" * 64, script="Cyrl" if edition == "mk" else "Latn",
            title_latin=transliterate_mk(title) if edition == "mk" else None,
            body_latin=transliterate_mk(body) if edition == "mk" else None,
        ))
    return articles


def timed(work) -> tuple[float, float, object]:
    """(seconds, peak RSS of this process in MiB while ``work`` ran, its result)."""
    with PeakRss(lambda: [psutil.Process()]) as rss:
        start = time.perf_counter()
        result = work()
        seconds = time.perf_counter() - start
    return seconds, rss.peak / MIB, result


def learn_and_load(engine, articles: list[Article], run_id: str):
    """What a run does from its transformed articles on: the learned-boilerplate step (learning in the
    warehouse, then removal), at the end of the transform, and the load itself."""
    return load_articles(engine, without_learned_boilerplate(engine, articles), run_id)


def load_and_rerun(url: str, articles: list[Article]) -> dict:
    """The real path: a fresh warehouse, a load of every article, then the same articles again."""
    engine = connect(url)
    upgrade(engine)
    for run_id in ("bench-1", "bench-2"):
        start_run(engine, run_id, get_outlet(OUTLET), Window())
    seconds, peak, first = timed(lambda: learn_and_load(engine, articles, "bench-1"))
    if engine.dialect.name == "postgresql":  # as autovacuum soon would: fresh tables have no statistics yet
        with engine.begin() as connection:
            connection.exec_driver_sql("ANALYZE")
    rerun_seconds, rerun_peak, again = timed(lambda: learn_and_load(engine, articles, "bench-2"))
    with engine.connect() as connection:
        stored = connection.execute(select(func.count()).select_from(ArticleRow)).scalar_one()
        versions = connection.execute(select(func.count()).select_from(ArticleVersionRow)).scalar_one()
        appeals = connection.execute(select(func.count()).select_from(ArticleRow)
                                     .where(ArticleRow.body.like("%" + APPEAL["en"][:30] + "%"))).scalar_one()
    engine.dispose()
    return {"seconds": seconds, "peak_rss_mib": peak, "counts": [first.new, first.updated, first.unchanged],
            "rerun_seconds": rerun_seconds, "rerun_peak_rss_mib": rerun_peak,
            "rerun_counts": [again.new, again.updated, again.unchanged],
            "stored": stored, "versions": versions, "appeals_left": appeals}


def article_rows(articles: list[Article]) -> list[dict]:
    """The rows the load writes to ``articles``, as plain values (ids numbered here)."""
    now = datetime.now(UTC)
    return [{"id": n, **article_values(article, "bench-1", now)} for n, article in enumerate(articles, 1)]


COLUMNS = [column.name for column in ArticleRow.__table__.columns]
JSON_COLUMNS = {column.name for column in ArticleRow.__table__.columns if column.type.__class__.__name__ == "JSON"}


def pg_copy(url: str, articles: list[Article]) -> float:
    """COPY the same article rows into a scratch table with the shape and indexes of ``articles``."""
    with psycopg.connect(url.replace("postgresql+psycopg", "postgresql")) as connection:
        connection.execute("CREATE TABLE copy_baseline (LIKE articles INCLUDING ALL)")
        connection.commit()
        start = time.perf_counter()
        with connection.cursor() as cursor, cursor.copy(f"COPY copy_baseline ({', '.join(COLUMNS)}) FROM STDIN") as copy:
            for row in article_rows(articles):
                copy.write_row([Jsonb(row[name]) if name in JSON_COLUMNS else row[name] for name in COLUMNS])
        connection.commit()
        seconds = time.perf_counter() - start
        copied = connection.execute("SELECT COUNT(*) FROM copy_baseline").fetchone()[0]
    assert copied == len(articles), f"COPY wrote {copied} rows of {len(articles)}"
    return seconds


def sqlite_executemany(path: Path, articles: list[Article]) -> float:
    """One executemany INSERT of the same article rows into ``articles`` of a freshly migrated warehouse:
    its indexes and the triggers that keep its full-text index (FTS5) are the load's too."""
    engine = connect(f"sqlite:///{path}")
    upgrade(engine)  # SQLite leaves the foreign keys unchecked: no outlet or run rows are needed
    engine.dispose()
    connection = sqlite3.connect(path)
    start = time.perf_counter()
    values = [[json.dumps(row[name]) if name in JSON_COLUMNS
               else row[name].isoformat(" ") if isinstance(row[name], datetime) else row[name] for name in COLUMNS]
              for row in article_rows(articles)]
    with connection:
        connection.executemany(f"INSERT INTO articles ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})",
                               values)
    seconds = time.perf_counter() - start
    copied = connection.execute("SELECT COUNT(*) FROM articles").fetchone()[0]
    connection.close()
    assert copied == len(articles), f"executemany wrote {copied} rows of {len(articles)}"
    return seconds


@contextlib.contextmanager
def scratch_postgres() -> Iterator[tuple[str, str]]:
    """(SQLAlchemy URL, server version) of a new database on PG_ADMIN_URL's server, dropped afterwards."""
    name = f"newsetl_bench_{secrets.token_hex(4)}"
    admin = psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=5)
    admin.execute(f'CREATE DATABASE "{name}"')
    try:
        info = psycopg.conninfo.conninfo_to_dict(PG_ADMIN_URL)
        yield (f"postgresql+psycopg://{info.get('user', 'postgres')}@{info.get('host', '127.0.0.1')}:"
               f"{info.get('port', 5432)}/{name}", admin.execute("SHOW server_version").fetchone()[0])
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


def run_postgres(articles: list[Article]) -> dict:
    with scratch_postgres() as (url, server):
        figures = load_and_rerun(url, articles)
        figures["baseline_seconds"] = pg_copy(url, articles)
        figures["server"] = server
    return figures


def run_sqlite(articles: list[Article]) -> dict:
    with tempfile.TemporaryDirectory(prefix="newsetl-bench-") as tmp:
        figures = load_and_rerun(f"sqlite:///{Path(tmp, 'warehouse.db')}", articles)
        figures["baseline_seconds"] = sqlite_executemany(Path(tmp, "baseline.db"), articles)
    figures["server"] = sqlite3.sqlite_version
    return figures


TIMES = ("seconds", "rerun_seconds", "baseline_seconds")


def best_of(rounds: list[dict]) -> dict:
    """Each time's fastest round (the disk's and the other processes' delays only ever add), the
    largest peak RSS, and every round's correctness; the rounds' times are kept for the record."""
    best = {**rounds[-1], **{key: min(r[key] for r in rounds) for key in TIMES},
            **{key: max(r[key] for r in rounds) for key in ("peak_rss_mib", "rerun_peak_rss_mib")}}
    for key in ("counts", "rerun_counts", "stored", "versions", "appeals_left"):
        values = [r[key] for r in rounds]
        best[key] = values[0] if all(v == values[0] for v in values) else values  # differing rounds show as wrong
    best["rounds"] = {key: [round(r[key], 2) for r in rounds] for key in TIMES}
    return best


def summarise(count: int, figures: dict) -> dict:
    rate, rerun_rate, base_rate = (count / figures[key] for key in TIMES)
    return {
        "load_rows_per_s": round(rate), "rerun_rows_per_s": round(rerun_rate), "baseline_rows_per_s": round(base_rate),
        "ratio": round(rate / base_rate, 3), "rerun_ratio": round(rerun_rate / base_rate, 3),
        "load_seconds": round(figures["seconds"], 2), "rerun_seconds": round(figures["rerun_seconds"], 2),
        "baseline_seconds": round(figures["baseline_seconds"], 2),
        "load_peak_rss_mib": round(figures["peak_rss_mib"], 1), "rerun_peak_rss_mib": round(figures["rerun_peak_rss_mib"], 1),
        "counts": figures["counts"], "rerun_counts": figures["rerun_counts"],
        "correct": (figures["counts"] == [count, 0, 0] and figures["rerun_counts"] == [0, 0, count]
                    and figures["stored"] == figures["versions"] == count and figures["appeals_left"] == 0),
        "server": figures["server"], "rounds": figures["rounds"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=10_000, help="articles to load (default 10000)")
    parser.add_argument("--databases", nargs="+", default=["postgresql", "sqlite"], choices=["postgresql", "sqlite"])
    parser.add_argument("--rounds", type=int, default=3,
                        help="rounds of load, rerun and baseline per database; each keeps its fastest (default 3)")
    args = parser.parse_args()
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")

    articles = generate(args.articles)
    body_kib = sum(len(a.body.encode()) for a in articles) / len(articles) / 1024
    # As the transform hands them over: with their paragraph hashes, taken in its worker processes,
    # not in the load (timed here for the record).
    start = time.perf_counter()
    articles = [article.with_paragraph_hashes(paragraph_hashes(article.body)[1]) for article in articles]
    hashing_seconds = time.perf_counter() - start
    print(f"{len(articles)} articles, mean body {body_kib:.1f} KiB; RSS {psutil.Process().memory_info().rss / MIB:.0f} MiB; "
          f"their paragraph hashes, taken by the transform: {hashing_seconds:.2f} s", file=sys.stderr, flush=True)
    results = {}
    for database in args.databases:
        runner = run_postgres if database == "postgresql" else run_sqlite
        rounds = []
        for number in range(1, args.rounds + 1):
            print(f"{database}, round {number} of {args.rounds} …", file=sys.stderr, flush=True)
            rounds.append(runner(articles))
        results[database] = summarise(len(articles), best_of(rounds))

    print()
    print(f"{'':<28}{'load':>10}{'rerun':>10}{'baseline':>10}{'ratio':>8}{'rerun ratio':>13}")
    for database, r in results.items():
        baseline = "COPY" if database == "postgresql" else "executemany"
        print(f"{database + ' rows/s (vs ' + baseline + ')':<28}{r['load_rows_per_s']:>10}{r['rerun_rows_per_s']:>10}"
              f"{r['baseline_rows_per_s']:>10}{r['ratio']:>8.2f}{r['rerun_ratio']:>13.2f}")
    for database, r in results.items():
        met = "met" if r["ratio"] >= RATIO_TARGET else "MISSED"
        print(f"{database}: load/baseline {r['ratio']:.2f} (target >= {RATIO_TARGET}: {met}); peak RSS "
              f"{r['load_peak_rss_mib']:.0f} MiB load, {r['rerun_peak_rss_mib']:.0f} MiB rerun; "
              f"counts {r['counts']} then {r['rerun_counts']}{'' if r['correct'] else ' — WRONG'}")
    figures = {
        "articles": len(articles), "mean_body_kib": round(body_kib, 2), "transform_hashing_seconds": round(hashing_seconds, 2),
        "ratio_target": RATIO_TARGET, **results,
        "versions": {"python": platform.python_version(), "sqlalchemy": version("sqlalchemy"),
                     "psycopg": version("psycopg"), "news-etl": version("news-etl"),
                     "platform": platform.platform(), "cpus": os.cpu_count()},
    }
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
