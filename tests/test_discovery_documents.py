"""Reading one discovery document (scrapers.discovery): each class of document the real web serves,
on feedparser's own test documents (tests/discovery_corpus/feedparser, their expectations quoted in
each file) and on documents written here where a class needs its bytes exact (encodings, BOMs)."""

from __future__ import annotations

import gzip
from datetime import UTC, datetime
from pathlib import Path

import pytest

from scrapers.discovery import read_document, robots_sitemaps

CORPUS = Path(__file__).parent / "discovery_corpus"
BASE = "https://outlet.example/feed/"


def urls(body: bytes, url: str = BASE) -> list[str]:
    return [entry.url for entry in read_document(body, url).entries]


@pytest.mark.parametrize("name, expected", [
    ("atom10_entry_link_rel_enclosure.xml", []),  # an enclosure is not the article
    ("atom10_entry_link_rel_self.xml", []),  # nor is the entry's own Atom document
    ("atom_entry_link_multiple.xml", ["http://www.example.com/"]),  # Atom 0.3: rel="alternate" of two
    ("rss_item_guid_isPermaLink_map_link.xml", ["http://guid.example.com/"]),  # a permalink guid is the URL
    ("rss_item_guid_not_permalink.xml", []),  # a guid that says it is not one is not
    ("rdf_rdf_item_link.xml", ["http://example.com/1"]),  # RSS 1.0
])
def test_feedparser_cases(name, expected):
    assert urls((CORPUS / "feedparser" / name).read_bytes()) == expected


def test_atom_takes_the_alternate_link_whatever_comes_first_and_resolves_xml_base():
    feed = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:base="https://blog.example/2024/">
  <entry><link rel="enclosure" href="/media/a.mp3"/><link rel="self" href="entries/1.atom"/>
    <link rel="alternate" type="text/html" href="first-post/"/>
    <published>2024-05-01T10:00:00+02:00</published><updated>2024-05-03T00:00:00Z</updated></entry>
  <entry xml:base="https://other.example/"><link href="second#comments"/></entry>
</feed>"""
    entries = read_document(feed, BASE).entries
    assert [entry.url for entry in entries] == ["https://blog.example/2024/first-post/", "https://other.example/second"]
    assert entries[0].published == datetime(2024, 5, 1, 8, 0, tzinfo=UTC)
    assert entries[0].modified == datetime(2024, 5, 3, tzinfo=UTC)


@pytest.mark.parametrize("encoding, prefix", [
    ("utf-8", b"\xef\xbb\xbf"),  # a byte-order mark
    ("utf-16", b""),  # Python's utf-16 writes its own BOM
    ("windows-1251", b""),  # declared only in the prolog
])
def test_encodings_declared_in_the_prolog_or_by_a_bom(encoding, prefix):
    text = (f'<?xml version="1.0" encoding="{encoding}"?><rss version="2.0"><channel><item>'
            '<link>https://vesti.example/статия-1</link><pubDate>Tue, 03 Dec 2024 09:00:00 +0100</pubDate>'
            '</item></channel></rss>')
    entries = read_document(prefix + text.encode(encoding), BASE).entries
    assert [entry.url for entry in entries] == ["https://vesti.example/статия-1"]
    assert entries[0].published == datetime(2024, 12, 3, 8, 0, tzinfo=UTC)


def test_cdata_links_and_relative_rss_links():
    feed = b"""<rss version="2.0"><channel><item><link><![CDATA[ https://a.example/x?b=1&c=2 ]]></link></item>
<item><link>/relative/y</link></item></channel></rss>"""
    assert urls(feed) == ["https://a.example/x?b=1&c=2", "https://outlet.example/relative/y"]


def test_a_sitemap_its_news_dates_and_an_index():
    sitemap = (CORPUS / "sitemaps" / "sitemap.xml").read_bytes()
    document = read_document(sitemap, "https://www.sitemaps.org/sitemap.xml")
    assert document.kind == "urlset" and len(document.entries) == 84
    assert document.entries[0].url == "https://www.sitemaps.org/" and document.entries[0].modified == datetime(2016, 11, 21, tzinfo=UTC)
    news = b"""<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">
<url><loc>https://a.example/n1</loc><news:news><news:publication_date>2024-05-01T10:00:00+02:00</news:publication_date>
</news:news></url></urlset>"""
    assert read_document(news, BASE).entries[0].published == datetime(2024, 5, 1, 8, 0, tzinfo=UTC)
    index = b"""<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><sitemap><loc><![CDATA[
https://a.example/s1.xml.gz]]></loc><lastmod>2005-01-01</lastmod></sitemap></sitemapindex>"""
    document = read_document(index, BASE)
    assert document.kind == "sitemapindex" and not document.entries
    children = [(child.url, child.modified) for child in document.sitemaps]
    assert children == [("https://a.example/s1.xml.gz", datetime(2005, 1, 1, tzinfo=UTC))]


def test_hreflang_alternates_are_not_extra_entries():
    document = read_document((CORPUS / "sitemaps" / "sitemap-hreflang.xml").read_bytes(), BASE)
    assert [entry.url for entry in document.entries] == [
        "http://www.example.com/english/page.html", "http://www.example.com/deutsch/page.html",
        "http://www.example.com/schweiz-deutsch/page.html", "http://www.example.com/sitemap2.xml.gz"]


def test_a_text_sitemap_and_a_feed_read_as_whatever_they_were_declared_as():
    text = "\ufeffhttps://a.example/1\r\n  https://a.example/2#top \n\nnot a url\nftp://a.example/3\n"
    document = read_document(text.encode(), "https://a.example/sitemap.txt")
    assert document.kind == "text" and [e.url for e in document.entries] == ["https://a.example/1", "https://a.example/2"]
    feed = gzip.decompress(next((CORPUS / "feeds").glob("*.xml.gz")).read_bytes())
    assert read_document(feed, "https://a.example/sitemap.xml").kind == "feed"


@pytest.mark.parametrize("body, problem", [
    (b"", "empty document"),
    (b"<html><body><p>Not found</p></body></html>", "neither a feed nor a sitemap (root element 'html')"),
    (b"just words, no URL", "no line of it is a URL"),
])
def test_what_is_no_discovery_document_says_why(body, problem):
    document = read_document(body, BASE)
    assert document.kind == "unreadable" and not document.entries and problem in document.problem


def test_robots_sitemap_lines():
    robots = b"User-agent: *\nDisallow: /wp-admin/\nSitemap: /sitemap_index.xml\nsitemap: https://a.example/feed/\n" \
             b"Sitemap: /sitemap_index.xml\nSitemap: mailto:x@a.example\nSitemap:http://\x00:!\n"
    assert robots_sitemaps(robots, "https://a.example/robots.txt") == ["https://a.example/sitemap_index.xml",
                                                                       "https://a.example/feed/"]
