"""Quality gates over a warehouse filled through the real load path, on SQLite and PostgreSQL.

The outlet's baseline is two weeks of articles (three a day, with titles, dates, authors, Macedonian
bodies of ~60 words); each test then loads one day that is normal or broken in one way.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import inspect, select, text, update

from kernel.records import Article
from kernel.registry import get_outlet
from kernel.window import Window
from models.tables import BoilerplateSegmentRow, QualityCheckRow
from models.warehouse import connect, downgrade, finish_run, load_articles, start_run, upgrade
from newsetl.pipeline import without_learned_boilerplate
from newsetl.quality import QualityGateFailed, enforce, run_quality_checks
from tests.test_end_to_end import readme_queries
from transforms.normalize import content_hash, count_words

OUTLET = get_outlet("slobodenpecat")
DAY = datetime(2026, 11, 20, tzinfo=UTC)  # the day checked
BASELINE_DAYS = 14
APPEAL = ("Поддржете го независното новинарство: секој денар од вашата донација оди за истражувачки "
          "приказни кои никој друг не ги објавува.")


def article(n: int, published: datetime | None, *, title: str | None = None, authors=("Ана Петрова",),
            language: str = "mk", words: int = 60, appeal: str | None = None, run_id: str = "") -> Article:
    paragraphs = [" ".join(f"збор{n}x{p}x{w}" for w in range(words // 3)) for p in range(3)]
    if appeal == "paragraph":
        paragraphs.append(APPEAL)
    elif appeal == "glued":  # a new template puts the appeal inside the last paragraph
        paragraphs[-1] += " " + APPEAL
    body = "\n\n".join(paragraphs)
    title = f"Вест број {n}" if title is None else title
    url = f"https://slobodenpecat.mk/vest-{n}/"
    return Article(outlet=OUTLET.id, url=url, canonical_url=url, edition="mk", title=title, title_flags=[], body=body,
                   authors=list(authors), published_at=published, modified_at=None, section=None, tags=[],
                   image_url=None, description=None, language=language, language_confidence=0.99,
                   word_count=count_words(body), content_hash=content_hash(title, body), run_id=run_id,
                   fetched_at=datetime.now(UTC), extractor_version="test")


def load_run(engine, run_id: str, window: Window, articles: list[Article], fetches: list[dict] = (),
             sources: dict | None = None) -> None:
    start_run(engine, run_id, OUTLET, window)
    load_articles(engine, without_learned_boilerplate(engine, [replace(a, run_id=run_id) for a in articles]), run_id,
                  list(fetches), sources=sources)
    finish_run(engine, run_id, "success")


@pytest.fixture
def engine(warehouse_url):
    """A warehouse with the outlet's baseline: three articles a day for the two weeks before DAY,
    each ending with the same appeal, which the loads learn as boilerplate."""
    engine = connect(warehouse_url)
    upgrade(engine)
    baseline = [article(day * 3 + i, DAY - timedelta(days=BASELINE_DAYS - day, hours=-9 - i), appeal="paragraph")
                for day in range(BASELINE_DAYS) for i in range(3)]
    load_run(engine, "baseline", Window(DAY - timedelta(days=BASELINE_DAYS), DAY), baseline)
    yield engine
    engine.dispose()


def check_day(engine, warehouse_url, articles: list[Article], run_id: str = "day", fetches: list[dict] = ()) -> dict:
    load_run(engine, run_id, Window(DAY, DAY + timedelta(days=1)), articles, fetches)
    checks = {check.name: check for check in run_quality_checks(warehouse_url, run_id)}
    with engine.connect() as connection:
        stored = {row.check_name: row for row in connection.execute(
            select(QualityCheckRow).where(QualityCheckRow.run_id == run_id))}
    assert {name: (row.status, row.measured, row.baseline, row.message) for name, row in stored.items()} == {
        name: (check.status, check.measured, check.baseline, check.message) for name, check in checks.items()}
    return checks


def statuses(checks: dict) -> dict:
    return {name: check.status for name, check in checks.items()}


def today(n: int = 5, first: int = 1000, **kwargs) -> list[Article]:
    return [article(first + i, DAY + timedelta(hours=8 + i), **kwargs) for i in range(n)]


def test_a_normal_day_passes_every_gate(engine, warehouse_url):
    checks = check_day(engine, warehouse_url, today(appeal="paragraph"))

    assert set(statuses(checks).values()) == {"pass"}, {n: c.message for n, c in checks.items()}
    assert checks["volume"].measured == 5 and checks["volume"].baseline == 3
    assert "published in 14 of the previous 14 windows" in checks["volume"].message
    assert checks["completeness_author"].measured == 1 and checks["completeness_author"].baseline == 1
    assert checks["boilerplate"].message.startswith("none of 1 known boilerplate paragraphs")
    assert enforce(list(checks.values())) == {"checks": statuses(checks), "warnings": []}
    # Checking the run again replaces its rows.
    run_quality_checks(warehouse_url, "day")
    with engine.connect() as connection:
        assert len(connection.execute(select(QualityCheckRow.id)).all()) == 9


def test_an_empty_day_where_the_outlet_usually_publishes_fails(engine, warehouse_url):
    checks = check_day(engine, warehouse_url, [])

    volume = checks["volume"]
    assert (volume.status, volume.measured, volume.baseline) == ("fail", 0, 3)
    assert volume.message == ("no articles published 2026-11-20 00:00–2026-11-21 00:00 UTC, but the outlet "
                              "published in 14 of the previous 14 windows (3.0 articles each)")
    with pytest.raises(QualityGateFailed, match="volume: no articles published 2026-11-20"):
        enforce(list(checks.values()))

    [query] = [query for query in readme_queries() if "quality_checks" in query]  # the README's, for ops
    with engine.connect() as connection:
        found = connection.execute(text(query)).all()
    assert [(row.outlet_id, row.run_id, row.check_name, row.status, row.message) for row in found] == [
        ("slobodenpecat", "day", "volume", "fail", volume.message)]


def test_an_empty_day_of_an_outlet_that_rarely_publishes_passes(warehouse_url):
    engine = connect(warehouse_url)
    upgrade(engine)
    every_fourth_day = [article(day, DAY - timedelta(days=day * 4, hours=-10)) for day in range(1, 8)]
    load_run(engine, "baseline", Window(), every_fourth_day)

    checks = check_day(engine, warehouse_url, [])
    engine.dispose()

    assert checks["volume"].status == "pass"
    assert "published in 7 of the previous 28 windows" in checks["volume"].message


def test_missing_fields_and_short_bodies_warn_with_the_numbers(engine, warehouse_url):
    # A redesign: the byline and the headline are gone, two dates unreadable, the body cut short.
    broken = today(title="", authors=(), words=12)
    broken[:2] = [replace(a, published_at=None) for a in broken[:2]]
    checks = check_day(engine, warehouse_url, broken)

    assert statuses(checks) == {"volume": "pass", "completeness_title": "warn", "completeness_published": "warn",
                                "completeness_author": "warn", "body_length": "warn", "boilerplate": "pass",
                                "language_mix": "pass", "sources": "pass", "blocked": "pass"}
    assert checks["completeness_author"].message == "author in 0% of the run's 5 articles (baseline 100% of 42): dropped"
    assert checks["completeness_published"].measured == 0.6
    assert checks["body_length"].message == "median body 12 words (baseline 60): below 50% of the baseline"
    summary = enforce(list(checks.values()))  # warnings do not fail the run
    assert len(summary["warnings"]) == 4 and "title in 0%" in summary["warnings"][0]


def test_a_known_boilerplate_paragraph_left_in_a_body_fails(engine, warehouse_url):
    checks = check_day(engine, warehouse_url, today(appeal="glued"))

    boilerplate = checks["boilerplate"]
    assert (boilerplate.status, boilerplate.measured) == ("fail", 5)
    assert boilerplate.message.startswith("1 known boilerplate paragraphs left in 5 of 5 bodies, e.g. 'поддржете")
    with pytest.raises(QualityGateFailed, match="boilerplate: 1 known boilerplate paragraphs left in 5 of 5"):
        enforce(list(checks.values()))

    # A person marked the paragraph as not boilerplate: no longer a failure.
    with engine.begin() as connection:
        connection.execute(update(BoilerplateSegmentRow).values(status="ignored"))
    assert {c.name: c.status for c in run_quality_checks(warehouse_url, "day")}["boilerplate"] == "pass"


def test_a_changed_language_mix_warns(engine, warehouse_url):
    one_in_english = today(4) + today(1, first=2000, language="en")
    assert check_day(engine, warehouse_url, one_in_english)["language_mix"].status == "pass"  # a shift of 0.2

    checks = check_day(engine, warehouse_url, today(5, first=3000, language="en"), run_id="day-2")
    language = checks["language_mix"]
    assert (language.status, language.measured) == ("warn", 1.0)
    assert language.message == "languages mk 0% (baseline 100%), en 100% (baseline 0%); shift 1.00: changed"


def test_the_quality_checks_migration_goes_down_and_up_again(warehouse_url):
    engine = connect(warehouse_url)
    upgrade(engine)
    with engine.connect() as connection:
        at_head = set(inspect(connection).get_table_names())
    downgrade(engine, "0009")
    with engine.connect() as connection:
        assert set(inspect(connection).get_table_names()) == at_head - {"quality_checks", "page_verdicts", "source_health"}
    upgrade(engine)
    with engine.connect() as connection:
        assert set(inspect(connection).get_table_names()) == at_head
    engine.dispose()


FEED, SITEMAP = "https://slobodenpecat.mk/feed/", "https://slobodenpecat.mk/sitemap_index.xml"


def tally(kind: str, entries: int = 0, new: int = 0, failure: str | None = None) -> dict:
    """A source's tally as the crawl writes it to sources.json: read (and listing ``entries``) or failed."""
    failed = [[failure, f"{kind}: HTTP 404"]] if failure else []
    return {"kind": kind, "edition": None, "documents": 0 if failure else 1, "failures": failed,
            "entries": entries, "new": new}


def test_source_health_follows_each_source_and_warns_then_fails(engine, warehouse_url):
    """Day by day: the feed fails from the second day on, the sitemap lists nothing on the fourth;
    on the fifth nothing answers."""
    days = [
        {FEED: tally("feed", 10, 5), SITEMAP: tally("sitemap", 40, 5)},
        {FEED: tally("feed", failure="http-error"), SITEMAP: tally("sitemap", 40, 5)},
        {FEED: tally("feed", failure="http-error"), SITEMAP: tally("sitemap", 42, 5)},
        {FEED: tally("feed", failure="http-error"), SITEMAP: tally("sitemap", 0)},
        {FEED: tally("feed", failure="http-error"), SITEMAP: tally("sitemap", failure="blocked")},
    ]
    results = []
    for number, sources in enumerate(days):
        run_id = f"day-{number}"
        start = DAY + timedelta(days=number)
        load_run(engine, run_id, Window(start, start + timedelta(days=1)),
                 [article(5000 + number * 10 + i, start + timedelta(hours=9 + i)) for i in range(5)], sources=sources)
        results.append({check.name: check for check in run_quality_checks(warehouse_url, run_id)}["sources"])

    assert [check.status for check in results] == ["pass", "pass", "pass", "warn", "fail"]
    assert results[3].message == (f"1 of 2 sources read; {FEED} failed 3 runs running (http-error); "
                                  f"{SITEMAP} listed no URL (usually 40)")
    assert results[4].message == (f"none of the outlet's 2 sources could be read: {FEED} (http-error); "
                                  f"{SITEMAP} (blocked)")
    with pytest.raises(QualityGateFailed, match="sources: none of the outlet's 2 sources"):
        enforce([results[4]])

    [query] = [query for query in readme_queries() if "source_health" in query]  # the README's, for ops
    with engine.connect() as connection:
        rows = {row.source_url: row for row in connection.execute(text(query))}
    feed, sitemap = rows[FEED], rows[SITEMAP]
    assert (feed.consecutive_failures, feed.last_failure_reason, feed.items_last, feed.items_median) == (4, "http-error", 10, 10)
    assert feed.last_success_at < sitemap.last_new_article_at < sitemap.last_failure_at  # days 1, 3 and 5
    assert sitemap.last_failure_detail == "sitemap: HTTP 404"


def test_a_run_whose_article_requests_were_mostly_blocked_fails(engine, warehouse_url):
    def fetch(n: int, reason: str | None) -> dict:
        return {"url": f"https://slobodenpecat.mk/vest-{n}/", "kind": "article", "status": 403 if reason else 200,
                "bytes": 100, "elapsed_ms": 5, "reason": reason, "detail": None, "fetched_at": DAY.isoformat()}

    fetches = [fetch(n, "blocked") for n in range(6)] + [fetch(n, None) for n in range(6, 10)]
    checks = check_day(engine, warehouse_url, today(), fetches=fetches)
    blocked = checks["blocked"]
    assert (blocked.status, blocked.measured) == ("fail", 0.6)
    assert blocked.message == "6 of 10 article requests blocked (401, 403 or a bot challenge): the site is blocking the crawler"
