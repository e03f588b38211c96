"""Near-duplicate and syndication clusters: wire copies and reposts of one text, across outlets.

Each body is normalised (NFC, case-folded, words only) and cut into word 4-gram shingles; a MinHash
of the shingles goes into an LSH index, which proposes candidate pairs; a pair whose exact Jaccard
similarity reaches ``THRESHOLD`` is a match, and the connected groups of matches are the clusters.
The earliest published member is the representative (the likely original) and each member records
its similarity to it.

``refresh_clusters`` is deterministic (a seeded hash, candidates checked exactly, members ordered by
publication time and URL) and idempotent: a cluster whose membership has not changed is not written,
so a rerun on the same data changes no row.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from datasketch import MinHash, MinHashLSH
from sqlalchemy import Connection, Engine, select

from kernel.rules import MIN_WORDS, utc_now
from models.chunks import chunks
from models.tables import ArticleRow, SyndicationClusterRow, SyndicationMemberRow

log = logging.getLogger(__name__)

SHINGLE_WORDS = 4
THRESHOLD = 0.5  # Jaccard of shingles: wire copies with a changed lead or a cut paragraph stay well above it
NUM_PERM = 128
SEED = 1  # fixed, so the same texts always hash the same
LAG = timedelta(days=3)  # how long after the original a copy is still looked for, on a windowed refresh


def shingles(text: str) -> set[str]:
    """Word 4-grams of the case-folded, NFC-normalised text, punctuation ignored."""
    words = re.findall(r"\w+", unicodedata.normalize("NFC", text).casefold())
    return {" ".join(words[i:i + SHINGLE_WORDS]) for i in range(len(words) - SHINGLE_WORDS + 1)}


def jaccard(a: set[str], b: set[str]) -> float:
    return len(a & b) / len(a | b) if a or b else 0.0


def _minhash(shingle_set: set[str]) -> MinHash:
    minhash = MinHash(num_perm=NUM_PERM, seed=SEED)
    minhash.update_batch([shingle.encode("utf-8") for shingle in sorted(shingle_set)])
    return minhash


def _components(nodes: Iterable[int], edges: Iterable[tuple[int, int]]) -> list[list[int]]:
    parent = {node: node for node in nodes}

    def root(node: int) -> int:
        while parent[node] != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    for a, b in edges:
        ra, rb = root(a), root(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    groups: dict[int, list[int]] = {}
    for node in parent:
        groups.setdefault(root(node), []).append(node)
    return [sorted(group) for group in groups.values() if len(group) > 1]


def _articles_in_scope(connection: Connection, since: datetime | None, until: datetime | None) -> list:
    """Articles published in [since - LAG, until), plus every member of a cluster that any of them is in
    (so a refresh never splits a cluster it only partly sees)."""
    table, members = ArticleRow.__table__, SyndicationMemberRow.__table__
    columns = (table.c.id, table.c.outlet_id, table.c.canonical_url, table.c.published_at, table.c.body)
    query = select(*columns).where(table.c.word_count >= MIN_WORDS)
    if since is not None:
        query = query.where(table.c.published_at >= since - LAG)
    if until is not None:
        query = query.where(table.c.published_at < until)
    rows = {row.id: row for row in connection.execute(query)}
    clusters = set()
    for chunk in chunks(sorted(rows)):
        clusters.update(connection.execute(select(members.c.cluster_id).where(members.c.article_id.in_(chunk))).scalars())
    for chunk in chunks(sorted(clusters)):
        joined = select(*columns).join(members, members.c.article_id == table.c.id).where(members.c.cluster_id.in_(chunk))
        rows.update({row.id: row for row in connection.execute(joined)})
    return sorted(rows.values(), key=lambda row: row.id)


def find_clusters(articles: list) -> list[list[tuple[int, float]]]:
    """Clusters of ``articles`` (rows with id, published_at, canonical_url, body): each a list of
    (article id, similarity to the representative), representative first."""
    texts = {row.id: shingles(row.body) for row in articles}
    texts = {article_id: value for article_id, value in texts.items() if value}
    lsh = MinHashLSH(threshold=THRESHOLD, num_perm=NUM_PERM)
    minhashes = {}
    for article_id in sorted(texts):
        minhashes[article_id] = _minhash(texts[article_id])
        lsh.insert(article_id, minhashes[article_id])
    edges = set()
    for article_id in sorted(texts):
        for other in lsh.query(minhashes[article_id]):
            if other > article_id and jaccard(texts[article_id], texts[other]) >= THRESHOLD:
                edges.add((article_id, other))
    order = {row.id: (row.published_at or datetime.max.replace(tzinfo=UTC), row.canonical_url) for row in articles}
    clusters = []
    for group in _components(texts, sorted(edges)):
        group.sort(key=order.__getitem__)
        representative = texts[group[0]]
        clusters.append([(article_id, round(jaccard(representative, texts[article_id]), 4)) for article_id in group])
    return sorted(clusters, key=lambda cluster: order[cluster[0][0]])


def _stored_clusters(connection: Connection, article_ids: list[int]) -> dict[int, dict]:
    """Cluster id → {"representative_id", "members": {article id: similarity}} for clusters touching ``article_ids``."""
    clusters_t, members = SyndicationClusterRow.__table__, SyndicationMemberRow.__table__
    cluster_ids = set()
    for chunk in chunks(article_ids):
        cluster_ids.update(connection.execute(select(members.c.cluster_id).where(members.c.article_id.in_(chunk))).scalars())
    stored: dict[int, dict] = {}
    for chunk in chunks(sorted(cluster_ids)):
        for row in connection.execute(select(clusters_t.c.id, clusters_t.c.representative_id).where(clusters_t.c.id.in_(chunk))):
            stored[row.id] = {"representative_id": row.representative_id, "members": {}}
        for row in connection.execute(select(members).where(members.c.cluster_id.in_(chunk))):
            stored[row.cluster_id]["members"][row.article_id] = row.similarity
    return stored


def refresh_clusters(engine: Engine, since: datetime | None = None, until: datetime | None = None) -> dict:
    """Recompute the near-duplicate clusters of the articles published in [since, until) (all when both
    are None) and store what changed, in one transaction. Returns counts: articles compared, clusters
    found, and clusters new, changed, unchanged and removed."""
    clusters_t, members = SyndicationClusterRow.__table__, SyndicationMemberRow.__table__
    now = utc_now()
    with engine.begin() as connection:
        articles = _articles_in_scope(connection, since, until)
        published = {row.id: row.published_at for row in articles}
        outlets = {row.id: row.outlet_id for row in articles}
        found = find_clusters(articles)
        stored = _stored_clusters(connection, [row.id for row in articles])
        by_representative = {cluster["representative_id"]: cluster_id for cluster_id, cluster in stored.items()}
        counts = {"articles": len(articles), "clusters": len(found), "new": 0, "changed": 0, "unchanged": 0, "removed": 0}
        kept = set()
        for cluster in found:
            representative = cluster[0][0]
            member_map = dict(cluster)
            dates = [published[article_id] for article_id in member_map if published[article_id] is not None]
            values = dict(representative_id=representative, articles=len(cluster),
                          outlets=len({outlets[article_id] for article_id in member_map}),
                          first_published_at=min(dates, default=None), last_published_at=max(dates, default=None),
                          updated_at=now)
            cluster_id = by_representative.get(representative)
            if cluster_id is not None and stored[cluster_id]["members"] == member_map:
                counts["unchanged"] += 1
                kept.add(cluster_id)
                continue
            # An article belongs to one cluster: free the members from wherever they were.
            for chunk in chunks(sorted(member_map)):
                connection.execute(members.delete().where(members.c.article_id.in_(chunk)))
            if cluster_id is None:
                cluster_id = connection.execute(clusters_t.insert().values(**values).returning(clusters_t.c.id)).scalar_one()
                counts["new"] += 1
            else:
                connection.execute(members.delete().where(members.c.cluster_id == cluster_id))
                connection.execute(clusters_t.update().where(clusters_t.c.id == cluster_id).values(**values))
                counts["changed"] += 1
            kept.add(cluster_id)
            connection.execute(members.insert(), [
                {"cluster_id": cluster_id, "article_id": article_id, "similarity": similarity}
                for article_id, similarity in cluster])
        # Clusters no longer found: their members that were not taken by another cluster go with them
        # (deleted explicitly: SQLite enforces ON DELETE CASCADE only with a pragma).
        gone = sorted(set(stored) - kept)
        for chunk in chunks(gone):
            connection.execute(members.delete().where(members.c.cluster_id.in_(chunk)))
            connection.execute(clusters_t.delete().where(clusters_t.c.id.in_(chunk)))
        counts["removed"] = len(gone)
    log.info("syndication clusters refreshed: %s", counts)
    return counts
