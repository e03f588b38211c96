"""The Sloboden Pechat fixture site, fetched over real HTTP on loopback.

Expectations come from ``load_site`` (never hard-coded counts), so the tests follow the article files.
"""

from __future__ import annotations

import json
import shutil
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from urllib.parse import urlencode, urlsplit

import pytest
from parsel import Selector

from sandbox.fixture_sites import FixtureArticle, load_site, serve, wordpress
from sandbox.fixture_sites.site import FIXTURES_DIR, PER_PAGE, load_article, read_outlet_entry
from tests.support import http_get, normalized, text_of

OUTLET = "slobodenpecat"
HOST = "slobodenpecat.mk"
SITE = load_site(OUTLET, FIXTURES_DIR)
EDITIONS = list(SITE.prefixes)
FURNITURE = SITE.furniture["editions"]
NS = {
    "content": "http://purl.org/rss/1.0/modules/content/",
    "dc": "http://purl.org/dc/elements/1.1/",
    "sm": "http://www.sitemaps.org/schemas/sitemap/0.9",
    "news": "http://www.google.com/schemas/sitemap-news/0.9",
}




@pytest.fixture(scope="module")
def server():
    with serve() as running:
        yield running


def fetch(server, path: str, method: str = "GET", host: str = HOST):
    """(status, headers, body) for ``path`` on the fixture server, with the outlet's Host header."""
    return http_get(server, path, host, method)


def path_of(url: str) -> str:
    parts = urlsplit(url)
    assert parts.scheme == "https" and parts.hostname == HOST, url
    return parts.path + (f"?{parts.query}" if parts.query else "")


def html_of(body: bytes) -> Selector:
    return Selector(text=body.decode("utf-8"))





def in_order(wanted: list[str], texts: list[str]) -> bool:
    """Whether every text of ``wanted`` appears in ``texts``, in the same order."""
    remaining = iter(texts)
    return all(any(normalized(text) == seen for seen in remaining) for text in wanted)


def by_id(article: FixtureArticle) -> str:
    return f"{article.edition}/{article.slug}"


def test_the_site_has_articles_in_every_edition():
    for edition in EDITIONS:
        assert SITE.edition_articles(edition), f"no articles in the {edition} edition"
    assert list(SITE.articles) == sorted(SITE.articles, key=lambda a: a.published, reverse=True)


@pytest.mark.parametrize("article", SITE.articles, ids=by_id)
def test_article_page_has_the_pennews_markup(server, article):
    status, headers, body = fetch(server, path_of(article.url))
    assert status == 200
    assert headers["Content-Type"] == "text/html; charset=UTF-8"
    page = html_of(body)
    ed = FURNITURE[article.edition]

    assert page.css("html::attr(lang)").get() == ed["html_lang"]
    suffix = " - Слободен печат" if article.edition == "mk" else " - Sloboden Pechat"
    assert page.css("title::text").get() == article.title + suffix
    meta = {m.attrib.get("property"): m.attrib.get("content") for m in page.css("meta[property]")}
    assert meta["og:title"] == article.title
    assert meta["og:url"] == article.url
    assert meta["og:description"] == article.excerpt
    assert meta["og:site_name"] == ed["site_name"]
    assert datetime.fromisoformat(meta["article:published_time"]) == article.published
    assert datetime.fromisoformat(meta["article:modified_time"]) == article.modified
    assert meta["article:section"] == ed["categories"][article.category]
    assert page.css('meta[property="article:tag"]::attr(content)').getall() == list(article.tags)
    assert page.css('link[rel="canonical"]::attr(href)').get() == article.url
    alternates = dict(zip(page.css('link[rel="alternate"][hreflang]::attr(hreflang)').getall(),
                          page.css('link[rel="alternate"][hreflang]::attr(href)').getall(), strict=True))
    assert alternates == {t.edition: t.url for t in SITE.translations(article)}
    ld = json.loads(page.css('script[type="application/ld+json"]::text').get())
    assert ld["@type"] == "NewsArticle" and ld["headline"] == article.title
    assert datetime.fromisoformat(ld["datePublished"]) == article.published
    assert ld["author"]["name"] == article.author

    assert page.css("h1.entry-title.penci-entry-title::text").get() == article.title
    entry_meta = page.css("div.entry-meta.penci-entry-meta")
    assert entry_meta.css("span.author.vcard a::text").get() == article.author
    published = entry_meta.css("time.entry-date.published::attr(datetime)").get()
    assert datetime.fromisoformat(published) == article.published
    assert datetime.fromisoformat(published).utcoffset() is not None
    assert datetime.fromisoformat(entry_meta.css("time.updated::attr(datetime)").get()) == article.modified
    assert page.css('span.penci-cat-links a[rel="category tag"]::text').get() == ed["categories"][article.category]
    if article.image_url:
        featured = page.css("div.penci-single-featured-img")
        assert f"background-image: url({article.image_url})" in featured.attrib["style"]
        assert not featured.css("img")
    share = page.css("div.penci-post-share-box.post-share")
    for network in ("facebook", "twitter", "viber", "email"):
        assert share.css(f".post-share-{network} .post-share-count::text").get().isdigit()

    content = page.css("div.penci-entry-content.entry-content")
    assert len(content) == 1
    texts = [text_of(p) for p in content.xpath("./p | ./h2 | ./h3 | ./h4")]
    # The article's text, in order, then the appeal and the "Video of the day" heading.
    appeal_at = texts.index(ed["appeal"][0])
    assert in_order(article.body_paragraphs, texts[:appeal_at])
    assert texts[appeal_at:appeal_at + len(ed["appeal"])] == ed["appeal"]
    assert texts[appeal_at + len(ed["appeal"])] == ed["video_heading"]
    iframes = content.css("iframe::attr(src)").getall()
    assert iframes and iframes[-1].startswith("https://www.youtube.com/embed/")
    assert len(iframes) == 1 + sum(block.kind == "embed" for block in article.blocks)
    for block in article.blocks:
        if block.kind == "read_also":
            headline = normalized(SITE.split_read_also(block.text)[1])
            assert any(headline in text for text in texts[:appeal_at])
        if block.kind == "figure":
            captions = [text_of(c) for c in content.css("figure.wp-caption figcaption.wp-caption-text")]
            assert normalized(block.text) in captions

    assert page.css("span.tags-links a[rel=tag]::text").getall() == list(article.tags)
    related = page.css("div.penci-post-related h4.entry-title a::attr(href)").getall()
    same_edition = SITE.edition_articles(article.edition)
    assert len(related) == min(3, len(same_edition) - 1)
    assert article.url not in related
    assert all(SITE.article(url).edition == article.edition for url in related)
    respond = page.css("#comments div.comment-respond")
    assert respond.css("h3::text").get() == ed["comments"]["heading"]
    assert respond.css("textarea") and respond.css("input#author") and respond.css("input#email")
    assert page.css(".penci-sidebar .newsletter-box")
    assert page.css(".penci-sidebar li a::text").getall()  # most read
    assert page.css(".cookie-notice")
    assert "©" in text_of(page.css("footer"))
    # Links are absolute URLs of the real site.
    assert all(href.startswith(("https://", "viber://", "mailto:", "#")) for href in page.css("a::attr(href)").getall())


def test_english_page_carries_the_exact_appeal(server):
    appeal = FURNITURE["en"]["appeal"]
    assert appeal[0] == "Dear reader,"
    assert appeal[1].startswith("Our access to web content is free")
    assert appeal[1].endswith("ALWAYS BE ON THE PEOPLE'S SIDE.")
    assert FURNITURE["en"]["video_heading"] == "Video of the day"
    assert FURNITURE["mk"]["appeal"][0] == "Почитуван читателу,"
    assert FURNITURE["sq"]["appeal"][0] == "I dashur lexues,"
    english = SITE.edition_articles("en")
    if not english:
        pytest.skip("no English articles")
    page = html_of(fetch(server, path_of(english[0].url))[2])
    content = page.css("div.penci-entry-content.entry-content")
    assert "Dear reader," in content.css("p strong::text").getall()
    assert appeal[1] in [text_of(p) for p in content.css("p")]
    assert "Video of the day" in content.css("h3::text, h4::text").getall()


@pytest.mark.parametrize("edition", EDITIONS)
def test_feed_lists_the_newest_posts_of_the_edition(server, edition):
    status, headers, body = fetch(server, f"{SITE.prefixes[edition]}feed/")
    assert status == 200
    assert headers["Content-Type"] == "application/rss+xml; charset=UTF-8"
    root = ET.fromstring(body)
    assert root.tag == "rss" and root.get("version") == "2.0"
    items = root.findall("./channel/item")
    expected = SITE.edition_articles(edition)[:10]
    assert len(items) == len(expected) <= 10
    for item, article in zip(items, expected, strict=True):
        assert item.findtext("link") == article.url
        assert item.findtext("title") == article.title
        assert item.findtext("dc:creator", namespaces=NS) == article.author
        assert parsedate_to_datetime(item.findtext("pubDate")) == article.published
        categories = [c.text for c in item.findall("category")]
        assert categories[0] == FURNITURE[edition]["categories"][article.category]
        assert categories[1:] == list(article.tags)
        assert item.findtext("guid")
        encoded = Selector(text=item.findtext("content:encoded", namespaces=NS))
        assert in_order(article.body_paragraphs, [text_of(p) for p in encoded.css("p, h2")])
        assert fetch(server, path_of(article.url), method="HEAD")[0] == 200


def walk_listing(server, base: str) -> tuple[list[tuple[str, datetime]], int]:
    """(card link and date of every post, number of pages), following the "next" links from ``base``."""
    seen: list[tuple[str, datetime]] = []
    path: str | None = base
    pages = 0
    while path:
        status, _, body = fetch(server, path)
        assert status == 200, path
        pages += 1
        page = html_of(body)
        cards = page.css("article.item")
        assert len(cards) <= PER_PAGE
        for card in cards:
            link = card.css("h2.penci-entry-title a::attr(href)").get()
            published = card.css("time.entry-date.published::attr(datetime)").get()
            assert card.css(".entry-content p::text").get()  # excerpt
            seen.append((link, datetime.fromisoformat(published)))
        next_url = page.css("a.next.page-numbers::attr(href)").get()
        path = path_of(next_url) if next_url else None
    return seen, pages


def check_listing(server, site, edition: str, category: str) -> int:
    expected = site.edition_articles(edition, category)
    base = f"{site.prefixes[edition]}category/vesti/{category}/"
    seen, pages = walk_listing(server, base)
    assert seen == [(a.url, a.published) for a in expected]
    assert pages == max(1, -(-len(expected) // PER_PAGE))
    assert fetch(server, f"{base}page/{pages + 1}/")[0] == 404
    if pages > 1:
        assert fetch(server, f"{base}page/{pages}/")[0] == 200
        status, headers, _ = fetch(server, f"{base}page/1/")
        assert status == 301 and headers["Location"] == site.home.rstrip("/") + base
    return pages


@pytest.mark.parametrize("edition", EDITIONS)
def test_category_listings_page_back_through_every_post(server, edition):
    for category in FURNITURE[edition]["categories"]:
        check_listing(server, SITE, edition, category)


def test_pagination_of_a_long_category(tmp_path):
    # The real files may fit one page per category; a generated site makes several pages.
    root = tmp_path / OUTLET
    (root / "articles" / "mk").mkdir(parents=True)
    shutil.copy(FIXTURES_DIR / OUTLET / "site.json", root / "site.json")
    for n in range(2 * PER_PAGE + 2):
        article = {
            "story": f"story-{n}", "edition": "mk", "slug": f"vest-{n}", "title": f"Вест {n}",
            "category": "planeta", "tags": [], "author": "Автор",
            "published": f"2026-11-{10 + n:02d}T09:00:00+01:00", "excerpt": f"Извадок {n}.",
            "blocks": [{"p": f"Пасус {n}."}],
        }
        (root / "articles" / "mk" / f"vest-{n}.json").write_text(json.dumps(article), encoding="utf-8")
    site = load_site(OUTLET, tmp_path)
    with serve(root=tmp_path) as generated:
        assert check_listing(generated, site, "mk", "planeta") == 3
        feed = ET.fromstring(fetch(generated, "/feed/")[2])
        assert [i.findtext("link") for i in feed.findall("./channel/item")] == [
            a.url for a in site.articles[:10]
        ]


@pytest.mark.parametrize("path", ["/no-such-story/", "/en/no-such-story/", "/sq/nope", "/category/vesti/sport/",
                                  "/wp-sitemap-posts-post-9.xml", "/", "/category/vesti/planeta/page/0/"])
def test_unknown_paths_answer_a_themed_404(server, path):
    status, headers, body = fetch(server, path)
    assert status == 404
    assert headers["Content-Type"] == "text/html; charset=UTF-8"
    page = html_of(body)
    assert page.css(".penci-sidebar") and page.css("section.error-404")
    assert page.css("title::text").get().endswith(("Слободен печат", "Sloboden Pechat"))


@pytest.mark.parametrize("article", SITE.articles[:3], ids=by_id)
def test_paths_without_trailing_slash_redirect(server, article):
    path = path_of(article.url)
    status, headers, _ = fetch(server, path.rstrip("/") + "?utm_source=x")
    assert status == 301
    assert headers["Location"] == article.url + "?utm_source=x"
    category = f"{SITE.prefixes[article.edition]}category/vesti/{article.category}"
    status, headers, _ = fetch(server, category)
    assert status == 301 and headers["Location"] == SITE.home.rstrip("/") + category + "/"
    # The query string plays no part in routing.
    assert fetch(server, path + "?utm_source=x")[0] == 200


def test_robots_txt(server):
    status, headers, body = fetch(server, "/robots.txt")
    assert status == 200 and headers["Content-Type"] == "text/plain; charset=UTF-8"
    lines = body.decode().splitlines()
    assert lines[:3] == ["User-agent: *", "Disallow: /wp-admin/", "Allow: /wp-admin/admin-ajax.php"]
    assert [line for line in lines if line.startswith("Sitemap:")] == [
        "Sitemap: https://slobodenpecat.mk/wp-sitemap.xml", "Sitemap: https://slobodenpecat.mk/news-sitemap.xml"]


def test_head_requests_and_the_request_log(server):
    status, headers, body = fetch(server, "/robots.txt", method="HEAD")
    assert status == 200 and body == b"" and int(headers["Content-Length"]) > 0
    # A loopback Host falls back to the first outlet.
    assert fetch(server, "/robots.txt", host=f"127.0.0.1:{server.port}")[0] == 200
    assert ("HEAD", HOST, "/robots.txt", 200) in server.requests
    assert ("GET", f"127.0.0.1:{server.port}", "/robots.txt", 200) in server.requests


def test_rendering_is_deterministic():
    again = load_site(OUTLET, FIXTURES_DIR)
    for path in ["/feed/", "/category/vesti/planeta/", "/no-such-story/"] + [
        path_of(a.url) for a in SITE.articles[:3]
    ]:
        assert SITE.render(path) == again.render(path)


def _write_article(tmp_path, **changes):
    data = {
        "story": "sample", "edition": "mk", "slug": "sample-story", "title": "Наслов",
        "category": "planeta", "tags": ["Свет"], "author": "Автор",
        "published": "2026-11-21T10:42:00+01:00", "excerpt": "Извадок.",
        "image": {"file": "2026/11/sample.webp", "caption": "Фото: EPA"},
        "blocks": [
            {"p": "Прв пасус."},
            {"read_also": "Прочитајте и: Друга вест", "target": "druga-vest"},
            {"h2": "Поднаслов"},
            {"figure": "Опис на фотографија. Фото: EPA"},
            {"embed": "youtube"},
            {"p": "Последен пасус."},
        ],
    }
    data.update(changes)
    path = tmp_path / "mk" / "sample-story.json"
    path.parent.mkdir(exist_ok=True)
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    entry = read_outlet_entry(OUTLET)
    categories = {lang: ed["categories"] for lang, ed in FURNITURE.items()}
    return lambda: load_article(path, OUTLET, entry["home"], entry["prefixes"], categories)


def test_body_paragraphs_keep_only_text_blocks(tmp_path):
    article = _write_article(tmp_path)()
    assert article.body_paragraphs == ["Прв пасус.", "Поднаслов", "Последен пасус."]
    assert article.url == "https://slobodenpecat.mk/sample-story/"
    assert article.modified == article.published
    for real in SITE.articles:
        assert real.body_paragraphs == [b.text for b in real.blocks if b.kind in ("p", "h2")]


@pytest.mark.parametrize(("changes", "field"), [
    ({"published": "2026-11-21T10:42:00"}, "published"),
    ({"category": "sport"}, "category"),
    ({"blocks": [{"quote": "x"}]}, "blocks[0]"),
    ({"edition": "en"}, "edition"),
    ({"tags": "Свет"}, "tags"),
])
def test_malformed_article_names_file_and_field(tmp_path, changes, field):
    load = _write_article(tmp_path, **changes)
    with pytest.raises(ValueError, match=f"sample-story.json: field '{field}'".replace("[", r"\[")):
        load()


# --- sitemaps and the WordPress REST API --------------------------------------------------------


def sitemap_entries(server, path: str) -> dict[str, datetime]:
    """{loc: lastmod} of a <urlset>."""
    status, headers, body = fetch(server, path)
    assert status == 200 and headers["Content-Type"] == "application/xml; charset=UTF-8"
    root = ET.fromstring(body)
    assert root.tag == f"{{{NS['sm']}}}urlset"
    return {url.findtext("sm:loc", namespaces=NS): datetime.fromisoformat(url.findtext("sm:lastmod", namespaces=NS))
            for url in root.findall("sm:url", NS)}


def all_sitemap_entries(server) -> tuple[dict[str, datetime], list[tuple[str, datetime]]]:
    """Every (loc, lastmod) reached from /wp-sitemap.xml, and the index's own entries."""
    index = ET.fromstring(fetch(server, "/wp-sitemap.xml")[2])
    assert index.tag == f"{{{NS['sm']}}}sitemapindex"
    children = [(s.findtext("sm:loc", namespaces=NS), datetime.fromisoformat(s.findtext("sm:lastmod", namespaces=NS)))
                for s in index.findall("sm:sitemap", NS)]
    entries: dict[str, datetime] = {}
    for location, lastmod in children:
        part = sitemap_entries(server, path_of(location))
        assert lastmod == max(part.values())
        assert not set(part) & set(entries)
        entries |= part
    return entries, children


def test_sitemap_index_leads_to_every_article_with_its_modification_time(server):
    entries, children = all_sitemap_entries(server)
    assert [loc for loc, _ in children] == ["https://slobodenpecat.mk/wp-sitemap-posts-post-1.xml"]
    assert entries == {a.url: a.modified for a in SITE.articles}
    assert all(moment.utcoffset() is not None for moment in entries.values())


def test_long_sitemaps_are_split(server, monkeypatch):
    monkeypatch.setattr(wordpress, "SITEMAP_MAX_URLS", 4)
    entries, children = all_sitemap_entries(server)
    assert len(children) == -(-len(SITE.articles) // 4)
    assert [loc for loc, _ in children][-1].endswith(f"/wp-sitemap-posts-post-{len(children)}.xml")
    assert entries == {a.url: a.modified for a in SITE.articles}
    assert fetch(server, f"/wp-sitemap-posts-post-{len(children) + 1}.xml")[0] == 404


def test_news_sitemap_lists_the_last_two_days(server):
    status, _, body = fetch(server, "/news-sitemap.xml")
    assert status == 200
    urls = ET.fromstring(body).findall("sm:url", NS)
    newest = max(a.published for a in SITE.articles)
    expected = [a for a in SITE.articles if newest - timedelta(days=2) <= a.published]
    assert 0 < len(expected) < len(SITE.articles)
    assert [u.findtext("sm:loc", namespaces=NS) for u in urls] == [a.url for a in expected]
    for url, article in zip(urls, expected, strict=True):
        news = url.find("news:news", NS)
        assert news.findtext("news:publication/news:name", namespaces=NS) == FURNITURE[article.edition]["site_name"]
        assert news.findtext("news:publication/news:language", namespaces=NS) == article.edition
        published = datetime.fromisoformat(news.findtext("news:publication_date", namespaces=NS))
        assert published == article.published and published.utcoffset() is not None
        assert news.findtext("news:title", namespaces=NS) == article.title


def api(server, edition: str, **query):
    """(status, headers, decoded JSON) of the edition's /wp-json/wp/v2/posts."""
    path = f"{SITE.prefixes[edition]}wp-json/wp/v2/posts"
    status, headers, body = fetch(server, path + ("?" + urlencode(query) if query else ""))
    assert headers["Content-Type"] == "application/json; charset=UTF-8"
    return status, headers, json.loads(body)


def api_all(server, edition: str, per_page: int, **query) -> list[dict]:
    """Every post of a query, page after page until WordPress answers 400 past the last one."""
    posts, page, pages = [], 1, None
    while True:
        status, headers, batch = api(server, edition, per_page=per_page, page=page, **query)
        if status == 400:
            assert batch["code"] == "rest_post_invalid_page_number" and page == pages + 1
            return posts
        assert status == 200 and len(batch) <= per_page
        pages = int(headers["X-WP-TotalPages"])
        posts += batch
        if pages == 0:  # nothing matched: page 1 is empty, not an error
            return posts
        page += 1


@pytest.mark.parametrize("edition", EDITIONS)
def test_api_pages_through_the_editions_posts_newest_first(server, edition):
    expected = SITE.edition_articles(edition)
    status, headers, first = api(server, edition)
    assert status == 200 and len(first) == min(10, len(expected))  # WordPress's default per_page
    status, headers, batch = api(server, edition, per_page=3)
    assert int(headers["X-WP-Total"]) == len(expected)
    assert int(headers["X-WP-TotalPages"]) == -(-len(expected) // 3)
    posts = api_all(server, edition, per_page=3)
    assert [p["link"] for p in posts] == [a.url for a in expected]
    for post, article in zip(posts, expected, strict=True):
        assert post["id"] == SITE.post_id(article) and post["slug"] == article.slug
        assert (post["status"], post["type"]) == ("publish", "post")
        assert datetime.fromisoformat(post["date"]).replace(tzinfo=SITE.tz) == article.published
        assert datetime.fromisoformat(post["date_gmt"]).replace(tzinfo=UTC) == article.published
        assert datetime.fromisoformat(post["modified_gmt"]).replace(tzinfo=UTC) == article.modified
        assert html_of(post["title"]["rendered"].encode()).css("::text").get() == article.title
        content = html_of(post["content"]["rendered"].encode())
        texts = [text_of(p) for p in content.css("p, h2, h3")]
        assert in_order(article.body_paragraphs + FURNITURE[edition]["appeal"], texts)
        assert article.excerpt in text_of(html_of(post["excerpt"]["rendered"].encode()))
        assert isinstance(post["author"], int) and all(isinstance(t, int) for t in post["tags"])
        assert len(post["tags"]) == len(article.tags) and len(post["categories"]) == 1


def test_api_category_ids_are_the_outlets():
    ids = {"makedonija": 57, "ekonomija": 67, "kultura": 1373, "hronika": 1092, "planeta": 1091}
    assert {c: SITE.category_id(c) for c in FURNITURE["mk"]["categories"]} == ids


def test_api_filters_by_category(server):
    for category in FURNITURE["mk"]["categories"]:
        posts = api_all(server, "mk", per_page=100, categories=SITE.category_id(category))
        assert [p["link"] for p in posts] == [a.url for a in SITE.edition_articles("mk", category)]


def test_api_date_window_returns_exactly_that_window(server):
    mk = SITE.edition_articles("mk")
    since, until = mk[-3].published, mk[1].published  # exclusive bounds, as WP_Date_Query's
    expected = [a.url for a in mk if since < a.published < until]
    assert expected
    utc = "%Y-%m-%dT%H:%M:%SZ"
    window = {"after": since.astimezone(UTC).strftime(utc), "before": until.astimezone(UTC).strftime(utc)}
    assert [p["link"] for p in api_all(server, "mk", per_page=2, **window)] == expected
    # Naive times are the site's local time; offsets are honoured.
    naive = {"after": SITE.local(since).strftime("%Y-%m-%dT%H:%M:%S"), "before": SITE.iso(until)}
    assert [p["link"] for p in api_all(server, "mk", per_page=100, **naive)] == expected
    status, headers, posts = api(server, "mk", after="2999-01-01T00:00:00")
    assert (status, posts, headers["X-WP-Total"], headers["X-WP-TotalPages"]) == (200, [], "0", "0")


def test_api_modified_after_and_orderby_modified(server):
    mk = sorted(SITE.edition_articles("mk"), key=lambda a: a.modified)
    cut = mk[len(mk) // 2].modified
    posts = api_all(server, "mk", per_page=100, modified_after=SITE.iso(cut), orderby="modified", order="asc")
    assert [p["link"] for p in posts] == [a.url for a in mk if a.modified > cut]


def test_api_fields_selects_fields(server):
    status, _, posts = api(server, "en", _fields="link,date_gmt,title.rendered", per_page=1)
    assert status == 200 and set(posts[0]) == {"link", "date_gmt", "title"} and set(posts[0]["title"]) == {"rendered"}


@pytest.mark.parametrize("query", [{"per_page": 0}, {"per_page": 101}, {"per_page": "ten"}, {"page": 0},
                                   {"after": "yesterday"}, {"orderby": "popularity"}, {"order": "up"}])
def test_api_rejects_bad_parameters(server, query):
    status, _, error = api(server, "mk", **query)
    assert status == 400 and error["code"] == "rest_invalid_param"
    assert error["data"]["status"] == 400 and set(error["data"]["params"]) == set(query)


def test_api_answers_400_past_the_last_page(server):
    status, headers, _ = api(server, "sq", per_page=5)
    pages = int(headers["X-WP-TotalPages"])
    assert api(server, "sq", per_page=5, page=pages)[0] == 200
    status, _, error = api(server, "sq", per_page=5, page=pages + 1)
    assert status == 400 and error == {
        "code": "rest_post_invalid_page_number",
        "message": "The page number requested is larger than the number of pages available.",
        "data": {"status": 400},
    }


def test_api_unknown_routes_answer_json_404(server):
    status, headers, body = fetch(server, "/wp-json/wp/v2/pages")
    assert status == 404 and json.loads(body)["code"] == "rest_no_route"
    article = SITE.edition_articles("en")[0]
    status, _, body = fetch(server, f"/en/wp-json/wp/v2/posts/{SITE.post_id(article)}")
    assert status == 200 and json.loads(body)["link"] == article.url
    assert fetch(server, f"/sq/wp-json/wp/v2/posts/{SITE.post_id(article)}")[0] == 404  # another language


def test_an_edit_shows_everywhere_and_reset_restores(server):
    article = SITE.edition_articles("mk")[2]
    later = max(a.modified for a in SITE.articles) + timedelta(hours=5)  # the newest edit of all
    paragraph = "Исправен прв пасус: редакцијата го дополни текстот по објавувањето."
    original_page = fetch(server, path_of(article.url))[2]
    server.edit(article.url, paragraph=paragraph, modified=later)
    try:
        page = html_of(fetch(server, path_of(article.url))[2])
        texts = [text_of(p) for p in page.css("div.entry-content p")]
        assert texts[0] == paragraph and article.body_paragraphs[0] not in texts
        assert datetime.fromisoformat(page.css("time.updated::attr(datetime)").get()) == later
        assert datetime.fromisoformat(page.css('meta[property="article:modified_time"]::attr(content)').get()) == later
        assert all_sitemap_entries(server)[0][article.url] == later
        post = next(p for p in api_all(server, "mk", per_page=100) if p["link"] == article.url)
        assert datetime.fromisoformat(post["modified_gmt"]).replace(tzinfo=UTC) == later
        assert paragraph in post["content"]["rendered"]
        assert [p["link"] for p in api(server, "mk", modified_after=SITE.iso(later - timedelta(minutes=1)))[2]] == [
            article.url]
        feed = ET.fromstring(fetch(server, "/feed/")[2])
        item = next(i for i in feed.findall("./channel/item") if i.findtext("link") == article.url)
        assert paragraph in item.findtext("content:encoded", namespaces=NS)
    finally:
        server.reset()
    assert fetch(server, path_of(article.url))[2] == original_page
    assert all_sitemap_entries(server)[0][article.url] == article.modified
    with pytest.raises(KeyError):
        server.edit("https://slobodenpecat.mk/no-such-story/", paragraph="x", modified=later)
