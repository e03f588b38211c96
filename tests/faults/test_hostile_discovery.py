"""Whole runs with malformed discovery documents: one of the outlet's two sources (its feed, its
sitemap) replaced by a hostile document while the other stays healthy. Survival: the run finishes
in bounded time and memory, every article reaches the warehouse once through the healthy source,
nothing of a document's entities leaks into the run's records."""

from __future__ import annotations

import resource
import time

import pytest
from sqlalchemy import select

from kernel.settings import load_settings
from kernel.window import Window
from models.tables import ArticleRow, FetchLogRow
from models.warehouse import connect
from newsetl.pipeline import run_outlet
from sandbox.fixture_sites import load_site
from tests.faults.conftest import report

OUTLET = "slobodnaevropa"
SITE = load_site(OUTLET)
FEED, SITEMAP = "/api/zbkmqkeuvo", "/sitemap.xml"
HOME = "https://www.slobodnaevropa.mk"
XML = "application/xml"

BILLION_LAUGHS = (b'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY lol "lol">'
                  + b"".join(f'<!ENTITY lol{i} "{("&lol" + str(i - 1) + ";") * 10 if i > 1 else "&lol;" * 10}">'
                             .encode() for i in range(1, 10))
                  + b']><rss><channel><item><title>&lol9;</title><link>&lol9;</link></item></channel></rss>')
EXTERNAL_ENTITY = (b'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY secret SYSTEM "file:///etc/passwd">]>'
                   b"<rss><channel><item><title>&secret;</title><link>" + HOME.encode() + b"/a/x/&secret;.html</link>"
                   b"<description>&secret;</description></item></channel></rss>")
SELF_INDEX = (b'<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
              b"<sitemap><loc>" + HOME.encode() + SITEMAP.encode() + b"</loc></sitemap></sitemapindex>")
HUGE_SITEMAP = (b'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
                + b"".join(f"<url><loc>{HOME}/z/rubrika-{n}/</loc></url>".encode() for n in range(50_000))
                + b"</urlset>")

SCENARIOS = {
    "entity expansion (billion laughs) in the feed": (FEED, BILLION_LAUGHS),
    "external entity (file:///etc/passwd) in the feed": (FEED, EXTERNAL_ENTITY),
    "truncated feed": (FEED, SITE.render(FEED)[2][: len(SITE.render(FEED)[2]) // 2]),
    "HTML served as the feed": (FEED, SITE.render("/")[2]),
    "sitemap index that lists itself": (SITEMAP, SELF_INDEX),
    "sitemap of 50,000 URLs, none an article": (SITEMAP, HUGE_SITEMAP),
    "truncated sitemap": (SITEMAP, SITE.render(SITEMAP)[2][:300]),
}


@pytest.mark.parametrize("name", SCENARIOS)
def test_a_hostile_discovery_document_costs_no_article(hostile, name):
    path, body = SCENARIOS[name]
    hostile.faults[path] = (200, XML, body, {})
    started, memory_before = time.monotonic(), resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss

    summary = run_outlet(OUTLET, Window(), load_settings())

    seconds = time.monotonic() - started
    crawl_memory_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    engine = connect(load_settings().warehouse_url)
    with engine.connect() as connection:
        urls = connection.execute(select(ArticleRow.canonical_url)).scalars().all()
        records = connection.execute(select(ArticleRow.title, ArticleRow.body, FetchLogRow.url, FetchLogRow.detail)
                                     .select_from(FetchLogRow).outerjoin(ArticleRow, ArticleRow.url == FetchLogRow.url)).all()
    engine.dispose()
    assert sorted(urls) == sorted(a.url for a in SITE.articles)  # each once, through the healthy source
    assert not any("root:" in str(value) for record in records for value in record)
    assert seconds < 60 and crawl_memory_mb < 1024 and memory_before >= 0
    if "50,000" in name:
        assert summary.dropped.get("not-article", 0) == 50_000
    report("discovery", [{"scenario": name, "expected": "every article, once; bounded", "survived": True,
                          "detail": f"{seconds:.1f} s, crawl process at most {crawl_memory_mb:.0f} MB"}])
