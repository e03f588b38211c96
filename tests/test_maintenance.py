"""Warehouse maintenance on SQLite and PostgreSQL, over articles loaded by the real pipeline: learned
boilerplate cleaned from bodies loaded before it was learned, syndication refreshed from what changed,
and reprocessing a date range with the current cleaning rules."""

from __future__ import annotations

import re
from datetime import UTC, timedelta

import pytest
from sqlalchemy import func, select

from kernel.registry import RegistryError
from kernel.settings import load_settings
from kernel.window import Window, parse_bound
from models.tables import ArticleRow, ArticleVersionRow, MaintenanceRunRow
from models.warehouse import connect
from newsetl import maintenance
from newsetl.pipeline import run_outlet
from sandbox.fixture_sites import load_site
from tests.support import appeal_sentences, declare_outlet_without_appeal_rules

SITE = load_site("slobodenpecat")
FIRST_DAY, SECOND_DAY, THIRD_DAY = "2026-11-20", "2026-11-21", "2026-11-22"


def day(text: str):
    return parse_bound(text, SITE.tz)


def published_on(text: str) -> set[str]:
    window = Window(day(text), day(text) + timedelta(days=1))
    return {article.url for article in SITE.articles if window.contains(article.published)}


def stored(url: str) -> tuple[dict, dict]:
    """canonical URL → body, and → number of versions."""
    engine = connect(url)
    with engine.connect() as connection:
        bodies = dict(connection.execute(select(ArticleRow.canonical_url, ArticleRow.body)).all())
        versions = dict(connection.execute(select(ArticleRow.canonical_url, func.count())
                                           .join(ArticleVersionRow, ArticleVersionRow.article_id == ArticleRow.id)
                                           .group_by(ArticleRow.canonical_url)).all())
    engine.dispose()
    return bodies, versions


@pytest.fixture
def norules(tmp_path, monkeypatch):
    """Sloboden Pechat without its appeal rules: only learning removes the appeal."""
    monkeypatch.setenv("NEWSETL_OUTLETS_DIR", str(tmp_path / "outlets"))
    monkeypatch.setenv("NEWSETL_POLITENESS", "off")  # our own fixture sites; these tests are not about crawling
    return declare_outlet_without_appeal_rules(tmp_path / "outlets")


def test_refresh_cleans_boilerplate_learned_after_a_load_and_reprocess_applies_new_rules(
        data_dir, replay, norules, warehouse_url, tmp_path, monkeypatch):
    settings = load_settings(warehouse_url)
    appeal = appeal_sentences(SITE)
    # One day: each edition's appeal is in fewer articles than it takes to be learned, so it stays.
    run_outlet(norules, Window(day(FIRST_DAY), day(SECOND_DAY)), settings)
    first_day = published_on(FIRST_DAY)
    bodies, _ = stored(warehouse_url)
    assert set(bodies) == first_day and all(any(s in bodies[url] for s in appeal) for url in first_day)
    # The rest: now learned, the appeal leaves every new body but stays in the first day's.
    run_outlet(norules, Window(day(SECOND_DAY), None), settings)
    bodies, _ = stored(warehouse_url)
    carrying = {url for url, body in bodies.items() if any(s in body for s in appeal)}
    assert carrying == first_day

    counts = maintenance.reclean_boilerplate(settings)

    assert counts["segments"] >= 3 and counts["outlets"] == 1  # at least each edition's appeal
    assert (counts["articles_carrying"], counts["recleaned"], counts["not_recleaned"]) == (len(first_day),) * 2 + (0,)
    bodies, versions = stored(warehouse_url)
    expected = {article.url: "\n\n".join(article.body_paragraphs) for article in SITE.articles}
    assert bodies == expected  # exactly the article text, nothing else gone
    assert versions == {url: 2 if url in first_day else 1 for url in expected}

    again = maintenance.reclean_boilerplate(settings)
    assert (again["segments"], again["articles_carrying"], again["recleaned"]) == (0, 0, 0)
    assert stored(warehouse_url) == (bodies, versions)

    # The team drops a paragraph by a new rule and reprocesses a range: only the article holding it changes.
    target = min(published_on(SECOND_DAY))
    paragraph = next(a for a in SITE.articles if a.url == target).body_paragraphs[1]
    declare_outlet_without_appeal_rules(tmp_path / "outlets-v2", ("^" + re.escape(paragraph[:40]),))
    monkeypatch.setenv("NEWSETL_OUTLETS_DIR", str(tmp_path / "outlets-v2"))  # the registry is read once per folder
    summary = maintenance.reprocess(norules, FIRST_DAY, THIRD_DAY, settings)
    in_range = first_day | published_on(SECOND_DAY)
    assert (summary["articles_updated"], summary["articles_unchanged"]) == (1, len(in_range) - 1)
    bodies, after = stored(warehouse_url)
    assert paragraph not in bodies[target] and after == {**versions, target: 3 if target in first_day else 2}
    again = maintenance.reprocess(norules, FIRST_DAY, THIRD_DAY, settings)
    assert (again["articles_updated"], again["articles_unchanged"]) == (0, len(in_range))


def test_syndication_refresh_covers_what_changed_since_the_last_one(data_dir, replay, norules, warehouse_url,
                                                                    monkeypatch):
    monkeypatch.setattr(maintenance, "CLOCK_MARGIN", timedelta(0))  # every load here is within the margin
    settings = load_settings(warehouse_url)
    wire_day = Window(day("2026-11-25"), day("2026-11-26"))
    run_outlet(norules, Window(), settings)
    run_outlet("metamk", wire_day, settings)

    first = maintenance.refresh_syndication(settings)  # the first refresh looks at everything
    assert (first["since"], first["clusters"], first["new"]) == (None, 1, 1)

    nothing = maintenance.refresh_syndication(settings)
    assert (nothing["changed_articles"], nothing["articles"], nothing["new"], nothing["changed"]) == (0, 0, 0, 0)

    loaded = run_outlet("novamakedonija", wire_day, settings)  # a third copy of the wire story
    after = maintenance.refresh_syndication(settings)
    earliest = min(a.published for a in load_site("novamakedonija").articles if wire_day.contains(a.published))
    assert after["changed_articles"] == loaded.articles_new
    assert after["since"] == earliest.astimezone(UTC).isoformat()  # from the earliest changed article on
    assert (after["clusters"], after["changed"], after["new"]) == (1, 1, 0)
    assert 0 < after["articles"] < first["articles"]  # a few days' worth, not the whole warehouse

    engine = connect(warehouse_url)
    with engine.connect() as connection:
        runs = connection.execute(select(MaintenanceRunRow.task, MaintenanceRunRow.status)
                                  .order_by(MaintenanceRunRow.id)).all()
    engine.dispose()
    assert runs == [("syndication", "success")] * 3


@pytest.mark.parametrize(("outlet", "since", "until", "message"), [
    ("nowhere", "2026-11-20", "2026-11-21", "unknown outlet 'nowhere' (known outlets: "),
    ("slobodenpecat", "2026-11-22", "2026-11-21", "since (2026-11-22) must be before until (2026-11-21)"),
    ("slobodenpecat", "2026-11-21", "2026-11-21", "since (2026-11-21) must be before until (2026-11-21)"),
    ("slobodenpecat", "20.11.2026", "2026-11-21", "since must be a date YYYY-MM-DD, got '20.11.2026'"),
    ("slobodenpecat", "2026-11-20", None, "until must be a date YYYY-MM-DD, got None"),
])
def test_reprocess_says_what_is_wrong_with_its_params(outlet, since, until, message):
    with pytest.raises((ValueError, RegistryError), match=re.escape(message)):
        maintenance.reprocess_window(outlet, since, until)


def test_reprocess_window_is_whole_days_at_the_outlet():
    window = maintenance.reprocess_window("slobodenpecat", "2026-11-20", "2026-11-22")
    assert window == Window(day("2026-11-20"), day("2026-11-22"))
    assert window.since.utcoffset() == timedelta(hours=1)  # Europe/Skopje in November
