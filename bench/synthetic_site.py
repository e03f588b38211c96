"""A synthetic news outlet for the crawl benchmark, served on loopback by aiohttp.

N articles, newest first: each a 20–40 KB page shaped like a WordPress article (a head full of
meta tags, styles and scripts, a nav menu, 6–10 paragraphs, related links, a footer); an RSS feed of
the newest 50; a sitemap of every article, named in robots.txt; and a listing /category/news/ paged
as /category/news/page/N/, 50 <article> cards (link + <time datetime>) per page, that reaches every
article.

Pages are assembled on request from a fixed paragraph pool, so the server holds no per-article
state and a 10,000-article site costs no memory. Run as a script it serves until its stdin closes
(the benchmark holds the other end) or ``--lifetime`` runs out, whichever comes first.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import sys
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from html import escape

from aiohttp import web

OUTLET_ID = "benchsynthetic"
DOMAIN = "bench.example"
HOME = f"https://{DOMAIN}/"
LISTING = "category/news/"
FEED = "feed/"
SITEMAP = "sitemap.xml"
PER_PAGE = 50
NEWEST = datetime(2025, 6, 1, 12, 0, tzinfo=timezone.utc)
SPACING = timedelta(minutes=20)  # between consecutive articles

_ARTICLE_PATH = re.compile(r"^/vest-(\d+)-[a-z-]+/$")
_PAGE_PATH = re.compile(rf"^/{LISTING}page/(\d+)/$")

_WORDS = (
    "vlada sobranie opstina gradot ministerot izjavi denes proektot budzet zakon graganite izbori "
    "partija pretsedatel sednica odluka reforma ekonomija investicii rabota plata penzii zdravstvo "
    "bolnica obrazovanie uciliste student univerzitet kultura teatar festival muzika kniga izlozba "
    "sport fudbal rakomet reprezentacija natprevar pobeda turnir policija sud obvinenie istraga "
    "nesreka pozar vreme zima leto dozd sneg pat avtopat zeleznica aerodrom granica evropa sosed "
    "dogovor pregovori misija ambasador sovet komisija izvestaj anketa javnost mediumi novinar"
).split()


def _toml_regex(domain: str) -> str:
    """``domain`` as a regex, written for a TOML literal string."""
    return re.escape(domain)


def outlet_toml(outlet_id: str = OUTLET_ID, domain: str = DOMAIN) -> str:
    """The declaration of a synthetic outlet; the server answers every host name alike."""
    return f"""\
# Synthetic outlet of the benchmarks (bench/synthetic_site.py); written to a temp dir per run.
id = "{outlet_id}"
name = "Bench Synthetic {outlet_id}"
home = "https://{domain}/"
domains = ["{domain}"]
timezone = "Europe/Skopje"
cms = "wordpress"

[[editions]]
language = "mk"
prefix = "/"

[discovery]
feeds = ["{FEED}"]
listings = ["{LISTING}"]
article_url = '^https://{_toml_regex(domain)}/vest-[0-9]+-[a-z-]+/$'
not_article_url = '/(category|tag|page|author|feed)/'
"""


OUTLET_TOML = outlet_toml()


def _sentence(rng: random.Random) -> str:
    words = rng.choices(_WORDS, k=rng.randint(8, 20))
    return " ".join(words).capitalize() + "."


def _paragraph_pool(size: int = 64, seed: int = 7) -> list[str]:
    rng = random.Random(seed)
    pool = []
    for _ in range(size):
        target, sentences = rng.randint(600, 3400), []
        while sum(map(len, sentences)) < target:
            sentences.append(_sentence(rng))
        pool.append("<p>" + " ".join(sentences) + "</p>\n")
    return pool


_POOL = _paragraph_pool()
_CATEGORIES = _WORDS[:40]

# Site furniture shared by every page: what a themed WordPress site sends around the article.
_STYLE = "<style id='theme-inline-css'>\n" + "".join(
    f".block-{i} .entry-{w}{{margin:{i % 7}px {i % 5}px;padding:{i % 3}em;color:#{i * 4099 % 0xFFFFFF:06x};"
    f"font-size:{12 + i % 9}px;line-height:1.{i % 9}}}\n"
    for i, w in enumerate(_CATEGORIES)
) + "</style>\n"
_HEAD_LINKS = "".join(
    f"<link rel='stylesheet' id='{name}-css' href='{HOME}wp-content/themes/news/css/{name}.css?ver=6.5.{i}' media='all'>\n"
    for i, name in enumerate(["style", "fonts", "icons", "slider", "widgets", "blocks", "print", "custom"])
) + "".join(
    f"<script src='{HOME}wp-includes/js/{name}.min.js?ver=3.7.{i}' id='{name}-js'></script>\n"
    for i, name in enumerate(["jquery", "jquery-migrate", "theme", "lazyload", "ads", "analytics"])
)
_NAV = (
    "<header class='site-header'><div class='logo'><a href='/'>Bench Synthetic</a></div>\n<nav class='main-menu'><ul>\n"
    + "".join(f"<li class='menu-item menu-item-{i}'><a href='/category/{w}/'>{w.title()}</a></li>\n"
              for i, w in enumerate(_CATEGORIES))
    + "</ul></nav></header>\n"
)
_FOOTER = (
    "<footer class='site-footer'><div class='widgets'>\n"
    + "".join(f"<div class='widget'><h4>{w.title()}</h4><ul>"
              + "".join(f"<li><a href='/tag/{w}-{j}/'>{w} {j}</a></li>" for j in range(4)) + "</ul></div>\n"
              for w in _CATEGORIES[:12])
    + "</div><p class='copyright'>© 2025 Bench Synthetic. All rights reserved.</p></footer>\n"
    + "<script>window.dataLayer=window.dataLayer||[];function gtag(){dataLayer.push(arguments)}"
    "gtag('js',new Date());gtag('config','G-BENCH');</script>\n</body></html>\n"
)


class Site:
    """The pages of an outlet of ``articles`` articles; article 0 is the newest."""

    def __init__(self, articles: int, newest: datetime = NEWEST):
        self.articles = articles
        self.pages = -(-articles // PER_PAGE)
        self.newest = newest

    # -- naming ----------------------------------------------------------------------------

    @staticmethod
    def title(k: int) -> str:
        words = [_WORDS[(k * 7 + j * 11) % len(_WORDS)] for j in range(6)]
        return " ".join(words).capitalize() + f" ({k})"

    @staticmethod
    def path(k: int) -> str:
        words = [_WORDS[(k * 7 + j * 11) % len(_WORDS)] for j in range(3)]
        return f"/vest-{k}-{'-'.join(words)}/"

    def published(self, k: int) -> datetime:
        return self.newest - k * SPACING

    @staticmethod
    def listing_path(page: int) -> str:
        return f"/{LISTING}" if page == 1 else f"/{LISTING}page/{page}/"

    # -- pages -----------------------------------------------------------------------------

    def respond(self, path: str, host: str = DOMAIN) -> tuple[int, str, bytes]:
        """(status, content type, body) for a request path; links and canonical URLs on ``host``.

        A client that names the port in its Host header reached this server directly and gets plain
        http links back to it; one that names the outlet only (the crawl's replay, the baselines) gets
        the outlet's https links."""
        home = f"http://{host}/" if ":" in host else f"https://{host}/"
        if match := _ARTICLE_PATH.match(path):
            k = int(match.group(1))
            if k < self.articles and path == self.path(k):
                return 200, "text/html", self.article(k, home)
        elif path in ("/", f"/{LISTING}"):  # the home page is the newest news
            return 200, "text/html", self.listing(1, home)
        elif match := _PAGE_PATH.match(path):
            page = int(match.group(1))
            if 2 <= page <= self.pages:
                return 200, "text/html", self.listing(page, home)
        elif path == f"/{FEED}":
            return 200, "application/rss+xml", self.feed(home)
        elif path == f"/{SITEMAP}":
            return 200, "application/xml", self.sitemap(home)
        elif path == "/robots.txt":
            return 200, "text/plain", f"User-agent: *\nAllow: /\nSitemap: {home}{SITEMAP}\n".encode()
        return 404, "text/html", b"<html><body><h1>Not found</h1></body></html>"

    def _head(self, title: str, canonical: str, description: str) -> str:
        return (
            "<!DOCTYPE html>\n<html lang='mk'><head><meta charset='UTF-8'>\n"
            "<meta name='viewport' content='width=device-width, initial-scale=1'>\n"
            f"<title>{escape(title)} – Bench Synthetic</title>\n"
            f"<meta name='description' content='{escape(description)}'>\n"
            f"<link rel='canonical' href='{canonical}'>\n"
            f"<meta property='og:title' content='{escape(title)}'><meta property='og:url' content='{canonical}'>\n"
            + _HEAD_LINKS + _STYLE + "</head><body>\n" + _NAV
        )

    def article(self, k: int, home: str = HOME) -> bytes:
        title, url, when = self.title(k), home + self.path(k)[1:], self.published(k).isoformat()
        paragraphs = [_POOL[(k * 5 + j * 9) % len(_POOL)] for j in range(6 + k % 5)]  # 6–10, 8 on average
        related = "".join(f"<li><a href='{self.path(r)}'>{escape(self.title(r))}</a></li>\n"
                          for r in range(k + 1, min(k + 6, self.articles)))
        return "".join([
            self._head(title, url, paragraphs[0][3:160]),
            f"<script type='application/ld+json'>{{\"@type\":\"NewsArticle\",\"headline\":\"{title}\","
            f"\"datePublished\":\"{when}\",\"url\":\"{url}\"}}</script>\n",
            f"<main><article class='post'><h1 class='entry-title'>{escape(title)}</h1>\n",
            f"<div class='meta'><span class='author'>Редакција</span> <time datetime='{when}'>{when[:10]}</time></div>\n",
            "<div class='entry-content'>\n", *paragraphs, "</div>\n",
            f"<div class='post-share'>Сподели: <a href='https://www.facebook.com/sharer.php?u={url}'>Facebook</a></div>\n",
            f"<aside class='related'><h3>Поврзани вести</h3><ul>\n{related}</ul></aside></article></main>\n",
            _FOOTER,
        ]).encode()

    def listing(self, page: int, home: str = HOME) -> bytes:
        cards = []
        for k in range((page - 1) * PER_PAGE, min(page * PER_PAGE, self.articles)):
            when = self.published(k).isoformat()
            cards.append(f"<article class='card'><h2><a href='{home}{self.path(k)[1:]}'>{escape(self.title(k))}</a></h2>"
                         f"<time datetime='{when}'>{when[:10]}</time></article>\n")
        next_link = (f"<a class='next' rel='next' href='{self.listing_path(page + 1)}'>Следна</a>"
                     if page < self.pages else "")
        return "".join([
            self._head(f"News – page {page}", home + self.listing_path(page)[1:], "Latest news"),
            "<main class='archive'>\n", *cards, f"<nav class='pagination'>{next_link}</nav></main>\n", _FOOTER,
        ]).encode()

    def feed(self, home: str = HOME) -> bytes:
        items = "".join(
            f"<item><title>{escape(self.title(k))}</title><link>{home}{self.path(k)[1:]}</link>"
            f"<pubDate>{format_datetime(self.published(k))}</pubDate></item>\n"
            for k in range(min(PER_PAGE, self.articles))
        )
        return ("<?xml version='1.0' encoding='UTF-8'?>\n<rss version='2.0'><channel><title>Bench Synthetic</title>"
                f"<link>{home}</link>\n{items}</channel></rss>\n").encode()

    def sitemap(self, home: str = HOME) -> bytes:
        """Every article, one sitemap (the format allows 50,000 URLs)."""
        entries = "".join(f"<url><loc>{home}{self.path(k)[1:]}</loc><lastmod>{self.published(k).isoformat()}</lastmod></url>\n"
                          for k in range(self.articles))
        return ("<?xml version='1.0' encoding='UTF-8'?>\n"
                f"<urlset xmlns='http://www.sitemaps.org/schemas/sitemap/0.9'>\n{entries}</urlset>\n").encode()


async def serve(articles: int, port: int, lifetime: float, newest: datetime = NEWEST) -> None:
    site = Site(articles, newest)

    async def handle(request: web.BaseRequest) -> web.Response:
        status, content_type, body = site.respond(request.path, request.host)
        return web.Response(status=status, body=body, content_type=content_type, charset="utf-8")

    # aiohttp's low-level server: no router or middlewares, so the server is never what a crawl waits for.
    loop = asyncio.get_running_loop()
    server = await loop.create_server(web.Server(handle, access_log=None), "127.0.0.1", port, backlog=1024)
    print(f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}", flush=True)
    stdin_closed = asyncio.Event()

    def on_stdin() -> None:
        if not os.read(sys.stdin.fileno(), 4096):
            stdin_closed.set()

    loop.add_reader(sys.stdin.fileno(), on_stdin)
    try:
        await asyncio.wait_for(stdin_closed.wait(), lifetime)
    except TimeoutError:
        print(f"synthetic site: lifetime of {lifetime:.0f} s is over, stopping", file=sys.stderr)
    server.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="Serve the benchmark's synthetic outlet on 127.0.0.1.")
    parser.add_argument("--articles", type=int, default=10_000)
    parser.add_argument("--port", type=int, default=0, help="0: any free port (printed on stdout)")
    parser.add_argument("--lifetime", type=float, default=3600, help="stop after this many seconds at the latest")
    parser.add_argument("--newest", type=datetime.fromisoformat, default=NEWEST, help="when the newest article was published")
    args = parser.parse_args()
    asyncio.run(serve(args.articles, args.port, args.lifetime, args.newest))
