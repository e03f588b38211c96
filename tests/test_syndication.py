"""Near-duplicate / syndication clusters: wire copies across outlets, found by MinHash/LSH."""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, text

from kernel.registry import get_outlet
from kernel.window import Window
from models.syndication import THRESHOLD, refresh_clusters
from models.tables import ArticleRow, SyndicationClusterRow, SyndicationMemberRow
from models.warehouse import connect, load_articles, save_outlet, start_run, upgrade
from sandbox.demo import fixture_outlets
from sandbox.fixture_sites import load_site
from tests.support import newsetl
from tests.test_warehouse import make_article

CLUSTERS = """
    SELECT c.id, r.canonical_url AS representative, c.articles, c.outlets, c.first_published_at, c.last_published_at,
           a.canonical_url, m.similarity
    FROM syndication_clusters c JOIN articles r ON r.id = c.representative_id
    JOIN syndication_members m ON m.cluster_id = c.id JOIN articles a ON a.id = m.article_id"""


def clusters(engine) -> dict[str, dict[str, float]]:
    """Representative URL → {member URL: similarity}."""
    found: dict[str, dict[str, float]] = defaultdict(dict)
    with engine.connect() as connection:
        for row in connection.execute(text(CLUSTERS)):
            found[row.representative][row.canonical_url] = row.similarity
    return dict(found)


def snapshot(engine) -> tuple[list, list]:
    with engine.connect() as connection:
        return (sorted(connection.execute(select(SyndicationClusterRow.__table__)).all()),
                sorted(connection.execute(select(SyndicationMemberRow.__table__)).all()))


def test_wire_copies_across_outlets_form_one_cluster(loaded_warehouse):
    copies = defaultdict(list)
    for outlet_id in fixture_outlets():
        for article in load_site(outlet_id).articles:
            if article.wire:
                copies[article.wire].append(article)
    assert copies and all(len({a.outlet for a in group}) >= 2 for group in copies.values())

    engine = connect(loaded_warehouse.url)
    found = clusters(engine)
    with engine.connect() as connection:
        rows = {row.canonical_url: row for row in connection.execute(
            select(SyndicationClusterRow.__table__, ArticleRow.canonical_url)
            .join(ArticleRow, ArticleRow.id == SyndicationClusterRow.representative_id))}
    engine.dispose()
    assert {frozenset(members) for members in found.values()} == {frozenset(a.url for a in group) for group in copies.values()}
    for group in copies.values():
        original = min(group, key=lambda a: a.published)
        members = found[original.url]  # the earliest copy represents the cluster
        assert members[original.url] == 1.0
        assert all(THRESHOLD <= similarity < 1.0 for url, similarity in members.items() if url != original.url)
        row = rows[original.url]
        assert (row.articles, row.outlets) == (len(group), len({a.outlet for a in group}))
        assert (row.first_published_at, row.last_published_at) == (original.published, max(a.published for a in group))
    assert loaded_warehouse.clusters["clusters"] == len(copies)


def test_refresh_again_changes_nothing_and_the_command_says_so(loaded_warehouse):
    engine = connect(loaded_warehouse.url)
    before = snapshot(engine)
    day = datetime(2026, 11, 25, tzinfo=UTC)
    for since in (None, day, day + timedelta(days=1)):  # whole history, the day of the copies, the day after
        counts = refresh_clusters(engine, since, since + timedelta(days=1) if since else None)
        assert (counts["new"], counts["changed"], counts["removed"]) == (0, 0, 0)
        assert snapshot(engine) == before
    engine.dispose()

    result = newsetl("clusters", "refresh", "--warehouse", loaded_warehouse.url, "--json")
    assert result.returncode == 0, result.stderr
    counts = json.loads(result.stdout.strip().splitlines()[-1])
    assert counts["unchanged"] == counts["clusters"] == loaded_warehouse.clusters["clusters"] and counts["new"] == 0


WIRE = ("Владата на денешната седница ја усвои одлуката за зголемување на минималната плата од први март, "
        "соопшти портпаролот по седницата. Според одлуката, минималната нето плата ќе изнесува 24.379 денари, "
        "што е зголемување од осум отсто во однос на сегашниот износ. Синдикатите побараа поголемо зголемување, "
        "но работодавачите предупредија дека тоа би го загрозило работењето на малите фирми во текстилната "
        "индустрија. Министерството за труд ќе ги следи исплатите преку инспекциски надзор во сите општини.")


def copy(n: int, outlet: str, body: str, hours: int):
    url = f"https://{outlet}.example/story-{n}/"
    return replace(make_article(n, body=body), outlet=outlet, url=url, canonical_url=url, word_count=len(body.split()),
                   content_hash=hashlib.sha256(body.encode()).hexdigest(),
                   published_at=datetime(2026, 11, 21, 9, tzinfo=UTC) + timedelta(hours=hours))


@pytest.fixture
def engine(warehouse_url):
    engine = connect(warehouse_url)
    upgrade(engine)
    for outlet_id in ("metamk", "novamakedonija"):
        save_outlet(engine, get_outlet(outlet_id))
    start_run(engine, "run-1", get_outlet("slobodenpecat"), Window())
    yield engine
    engine.dispose()


def test_clusters_follow_the_texts_and_windows_agree_with_the_whole(engine, warehouse_url):
    other = ("Пожарникарите цела ноќ го гаснеа пожарот во магацинот за мебел во индустриската зона, "
             "а штетата сè уште не е проценета. Повредени нема, а причината за пожарот ќе ја утврдува полицијата. "
             "Сопственикот изјави дека стоката била осигурена, но дека работниците ќе останат без работа неколку недели.")
    original = copy(1, "metamk", WIRE, hours=0)
    repost = copy(2, "novamakedonija", "Скопје, 21 ноември. " + WIRE.replace("денешната ", ""), hours=30)
    unrelated = copy(3, "slobodenpecat", other, hours=1)
    load_articles(engine, [original, repost, unrelated], "run-1")

    day_two = datetime(2026, 11, 22, tzinfo=UTC)  # only the repost's day: the original is found within the lag
    counts = refresh_clusters(engine, day_two, day_two + timedelta(days=1))
    assert (counts["clusters"], counts["new"]) == (1, 1)
    windowed = clusters(engine)
    assert set(windowed) == {original.canonical_url}
    assert set(windowed[original.canonical_url]) == {original.canonical_url, repost.canonical_url}
    assert refresh_clusters(engine)["unchanged"] == 1 and clusters(engine) == windowed  # the whole history agrees

    load_articles(engine, [replace(repost, body=other + " Дополнето.", content_hash="rewritten")], "run-1")
    counts = refresh_clusters(engine)
    assert (counts["removed"], counts["new"], counts["clusters"]) == (1, 1, 1)  # it now copies the fire story
    assert set(clusters(engine)) == {unrelated.canonical_url}

    load_articles(engine, [replace(repost, body="Кратка вест.", content_hash="short", word_count=2)], "run-1")
    assert refresh_clusters(engine)["removed"] == 1
    assert clusters(engine) == {} and snapshot(engine) == ([], [])
