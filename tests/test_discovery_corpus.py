"""The crawl over real discovery documents (tests/discovery_corpus, SOURCES.md there), served on
loopback as one site: every article URL the parsers themselves read in a document is scheduled,
and nothing else — through robots.txt, gzip, sitemap indexes that loop or name a missing child, a
feed named as a sitemap, and plain-text sitemaps."""

from __future__ import annotations

import gzip
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urldefrag, urljoin, urlsplit

import feedparser
import pytest
from scrapy.utils.sitemap import Sitemap
from w3lib.url import safe_url_string

from kernel.rundir import RunDir
from kernel.settings import load_settings
from kernel.window import Window
from scrapers.crawl import crawl

CORPUS = Path(__file__).parent / "discovery_corpus"
HOME = "https://corpus.example/"
ARTICLE = b"<html><head><title>An article</title></head><body><article><p>Words.</p></article></body></html>"


def _corpus() -> dict[str, bytes]:
    """Path → document as the site serves it (gzipped documents are served as gzip files)."""
    documents = {f"feeds/{path.name.removesuffix('.xml.gz')}": gzip.decompress(path.read_bytes())
                 for path in sorted((CORPUS / "feeds").glob("*.xml.gz"))}
    documents |= {f"feedparser/{path.name}": path.read_bytes() for path in sorted((CORPUS / "feedparser").glob("*.xml"))}
    documents["sitemaps/sitemap.xml.gz"] = gzip.compress((CORPUS / "sitemaps" / "sitemap.xml").read_bytes())
    documents["sitemaps/sitemap-hreflang.xml"] = (CORPUS / "sitemaps" / "sitemap-hreflang.xml").read_bytes()
    return documents


def _index(*children: str) -> bytes:
    entries = "".join(f"<sitemap><loc>{HOME}{child}</loc></sitemap>" for child in children)
    return f'<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{entries}</sitemapindex>'.encode()


def reference_urls(body: bytes, url: str) -> list[str]:
    """What the parsers read in one document, without the crawl: feedparser for feeds, Scrapy's
    sitemap reader for sitemaps, one URL per line for text."""
    if body[:2] == b"\x1f\x8b":
        body = gzip.decompress(body)
    if not body.lstrip().startswith(b"<"):
        links = [line.strip() for line in body.decode().splitlines() if line.strip().startswith("http")]
    elif b"<urlset" in body[:1000]:
        links = [entry["loc"] for entry in Sitemap(body)]
    else:
        parsed = feedparser.parse(body, response_headers={"content-location": url})
        links = [entry.get("feedburner_origlink") or entry.get("link") for entry in parsed.entries]
    absolute = (urldefrag(urljoin(url, link.strip()))[0] for link in links if link and link.strip())
    return [safe_url_string(link) for link in absolute if urlsplit(link).scheme in ("http", "https")]


class _Site(BaseHTTPRequestHandler):
    documents: dict[str, bytes] = {}
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        path = urlsplit(self.path).path.lstrip("/")
        host = self.headers.get("Host", "")
        if host == urlsplit(HOME).netloc and path in self.documents:
            body, kind = self.documents[path], "application/xml"
            if path.endswith(".gz"):
                kind = "application/x-gzip"
            elif path.endswith(".txt"):
                kind = "text/plain; charset=utf-8"
            status = 200
        elif host == urlsplit(HOME).netloc and path.startswith("sitemaps/"):
            status, body, kind = 404, b"not here", "text/plain"
        else:
            status, body, kind = 200, ARTICLE, "text/html; charset=utf-8"
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def corpus_site(tmp_path, monkeypatch):
    """The corpus as one outlet: its feeds declared as feeds, a sitemap index declared, and a
    robots.txt that names a feed, a text sitemap and a gzipped one (three feeds held out for them)."""
    documents = _corpus()
    as_sitemap, as_text, as_gzipped_text, *declared = sorted(path for path in documents if path.startswith("feeds/"))
    declared += sorted(path for path in documents if path.startswith("feedparser/"))
    for name, feed in (("sitemaps/urls.txt", as_text), ("sitemaps/urls-gz.txt.gz", as_gzipped_text)):
        text = "\n".join(reference_urls(documents[feed], HOME + feed)).encode()
        documents[name] = gzip.compress(text) if name.endswith(".gz") else text
    documents["sitemaps/index.xml"] = _index("sitemaps/sitemap.xml.gz", "sitemaps/sitemap-hreflang.xml",
                                             "sitemaps/missing.xml", "sitemaps/index.xml", "sitemaps/index-2.xml")
    documents["sitemaps/index-2.xml"] = _index("sitemaps/index.xml", "sitemaps/sitemap-hreflang.xml")
    documents["robots.txt"] = (f"User-agent: *\nAllow: /\nSitemap: {HOME}{as_sitemap}\n"
                               f"Sitemap: {HOME}sitemaps/urls.txt\nSitemap: /sitemaps/urls-gz.txt.gz\n").encode()
    fetched = ["robots.txt", as_sitemap, "sitemaps/urls.txt", "sitemaps/urls-gz.txt.gz",
               "sitemaps/sitemap.xml.gz", "sitemaps/sitemap-hreflang.xml", *declared]
    expected = {url for path in fetched for url in reference_urls(documents[path], HOME + path)
                if path != "robots.txt"}
    hosts = sorted({urlsplit(url).hostname for url in expected} | {urlsplit(HOME).hostname})
    outlets = tmp_path / "outlets"
    outlets.mkdir()
    (outlets / "corpus.toml").write_text(f"""id = "corpus"
name = "Discovery corpus"
home = "{HOME}"
domains = {json.dumps(hosts)}
timezone = "UTC"

[[editions]]
language = "und"
prefix = "/"

[discovery]
feeds = {json.dumps(declared)}
sitemaps = ["sitemaps/index.xml"]
sitemaps_from_robots = true
article_url = "."
""", encoding="utf-8")
    _Site.documents = documents
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Site)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setenv("NEWSETL_OUTLETS_DIR", str(outlets))
    monkeypatch.setenv("NEWSETL_REPLAY_URL", f"http://127.0.0.1:{server.server_address[1]}")
    monkeypatch.setenv("NEWSETL_POLITENESS", "off")
    monkeypatch.setenv("NEWSETL_DATA_DIR", str(tmp_path / "data"))
    yield expected, len(fetched) - 1
    server.shutdown()


def test_the_crawl_schedules_what_the_parsers_read(corpus_site, tmp_path):
    expected, documents = corpus_site
    run_dir = tmp_path / "run"
    summary = crawl("corpus", Window(None, None), "corpus-run", run_dir, load_settings())
    files = RunDir(run_dir)
    scheduled = {page.url for page in files.read_pages()}
    found = len(scheduled & expected)
    recall, precision = found / len(expected), found / len(scheduled)
    print(f"{documents} documents, {len(expected)} article URLs read by the parsers; the crawl scheduled "
          f"{len(scheduled)}: recall {recall:.4f}, precision {precision:.4f}")
    assert len(expected) > 1000 and documents > 60
    assert recall >= 0.99 and precision >= 0.99, (sorted(expected - scheduled)[:30], sorted(scheduled - expected)[:5])
    assert summary.article_pages_fetched == len(scheduled)
    log = files.read_fetch_log()
    missing = [row for row in log if row["url"] == HOME + "sitemaps/missing.xml"]
    assert [(row["kind"], row["status"], row["reason"]) for row in missing] == [("sitemap", 404, "http-error")]
    indexes = [row["url"] for row in log if row["url"].startswith(HOME + "sitemaps/index")]
    assert sorted(indexes) == [HOME + "sitemaps/index-2.xml", HOME + "sitemaps/index.xml"]  # each read once
    sources = json.loads(files.sources.read_text())
    assert sources[HOME + "robots.txt"]["documents"] == 4  # robots.txt, the feed, both text sitemaps
    assert sources[HOME + "sitemaps/index.xml"]["failures"][0][0] == "http-error"
