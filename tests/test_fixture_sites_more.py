"""The Meta.mk, Nova Makedonija and Radio Free Europe fixture sites, fetched over HTTP on loopback.

Each outlet has its own theme and URL shapes; the expectations come from ``load_site`` and the
outlet's registry entry, so the tests follow the article files.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from datetime import datetime
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

import pytest
from parsel import Selector

from kernel.registry import get_outlet
from sandbox.fixture_sites import load_site, serve
from sandbox.fixture_sites.site import load_article
from tests.support import http_get, normalized, text_of

OUTLETS = ["metamk", "novamakedonija", "slobodnaevropa"]
SITES = {outlet_id: load_site(outlet_id) for outlet_id in OUTLETS}
ARTICLES = [(outlet_id, article) for outlet_id, site in SITES.items() for article in site.articles]
IDS = [f"{o}:{a.edition}/{a.slug[:40]}" for o, a in ARTICLES]
SM = {"sm": "http://www.sitemaps.org/schemas/sitemap/0.9"}

# Where each theme puts the parts of an article page.
THEMES = {
    "metamk": {
        "title": "div.entry-header h1.jeg_post_title::text",
        "author": "div.jeg_meta_author a::text",
        "category": "div.jeg_meta_category a[rel='category tag']::text",
        "body": "div.entry-content div.content-inner",
        "body_text": "./p | ./h2 | ./div/h4 | ./div/p",
        "share": "div.jeg_share_top_container a::attr(href)",
        "related": "div.jnews_related_post_container h3.jeg_post_title a::attr(href)",
        "tags": "div.jeg_post_tags a[rel=tag]::text",
        "sidebar": "div.jeg_sidebar h3.jeg_post_title a",
        "cookie": "div.cmplz-cookiebanner",
        "footer": "div.jeg_footer",
        "menu": "ul.jeg_main_menu li a",
    },
    "novamakedonija": {
        "title": "header.td-post-title h1.entry-title::text",
        "author": "div.td-post-author-name a::text",
        "category": "ul.td-category li.entry-category a::text",
        "body": "div.td-post-content",
        "body_text": "./p | ./h2 | ./div/h4",
        "share": "div.td-post-sharing-top a::attr(href)",
        "related": "div.td_block_related_posts h3.td-module-title a::attr(href)",
        "tags": "div.td-post-source-tags ul.td-tags li a::text",
        "sidebar": "div.td-pb-span4 .td_module_wrap a",
        "cookie": "div.td-cookie-notice",
        "footer": "div.td-sub-footer-container",
        "menu": "ul#menu-glavno-meni li a",
    },
    "slobodnaevropa": {
        "title": "h1.title.pg-title::text",
        "author": "div.links ul.author-list a::text",
        "category": "div.category a::text",
        "body": "div#article-content div.wsw",
        "body_text": "./p | ./h2",
        "share": "div.share a::attr(href)",
        "related": "div.media-block-wrap.related h4.media-block__title",
        "tags": "div.tags a::text",
        "sidebar": "div.sidebar ol.most-read__list a",
        "cookie": "div.gdpr-banner",
        "footer": "footer div.foot",
        "menu": "nav.main-menu a",
    },
}




@pytest.fixture(scope="module")
def server():
    with serve() as running:
        yield running


def fetch(server, url: str, method: str = "GET"):
    """(status, headers, body) for an outlet URL, asked of the fixture server with the outlet's Host."""
    parts = urlsplit(url)
    return http_get(server, parts.path + (f"?{parts.query}" if parts.query else ""), parts.netloc, method)





def in_order(wanted: list[str], texts: list[str]) -> bool:
    remaining = iter(texts)
    return all(any(normalized(text) == seen for seen in remaining) for text in wanted)


def test_every_outlet_has_articles_and_a_registry_entry():
    for outlet_id, site in SITES.items():
        outlet = get_outlet(outlet_id)
        assert site.articles, f"{outlet_id} has no fixture articles"
        assert site.home == outlet.home and set(site.prefixes.values()) == {e.prefix for e in outlet.editions}
        assert outlet.timezone == "Europe/Skopje"


@pytest.mark.parametrize("outlet_id, article", ARTICLES, ids=IDS)
def test_article_page_is_a_full_page_in_the_outlets_style(server, outlet_id, article):
    site, theme = SITES[outlet_id], THEMES[outlet_id]
    ed = site.furniture["editions"][article.edition]
    status, headers, body = fetch(server, article.url)
    assert status == 200 and headers["Content-Type"] == "text/html; charset=UTF-8"
    page = Selector(text=body.decode("utf-8"))

    assert page.css("html::attr(lang)").get() == ed["html_lang"]
    assert page.css('link[rel="canonical"]::attr(href)').get() == article.url
    meta = {m.attrib.get("property"): m.attrib.get("content") for m in page.css("meta[property]")}
    assert (meta["og:title"], meta["og:url"], meta["og:site_name"]) == (article.title, article.url, ed["site_name"])
    assert meta.get("og:image", "") == article.image_url
    assert page.css('meta[property="article:tag"]::attr(content)').getall() == list(article.tags)
    ld = json.loads(page.css('script[type="application/ld+json"]::text').get())
    assert ld["@type"] == "NewsArticle" and ld["headline"] == article.title and ld["author"]["name"] == article.author
    assert datetime.fromisoformat(ld["datePublished"]) == article.published
    assert datetime.fromisoformat(ld["datePublished"]).utcoffset() == article.published.utcoffset()

    assert page.css(theme["title"]).get() == article.title
    assert normalized(page.css(theme["author"]).get()) == article.author
    assert ed["categories"][article.category] in page.css(theme["category"]).getall()
    assert [normalized(t) for t in page.css(theme["tags"]).getall() if normalized(t)] == list(article.tags)
    dates = [datetime.fromisoformat(d) for d in page.css("time::attr(datetime)").getall()]
    dates += [datetime.fromisoformat(d) for d in page.css('meta[property="article:published_time"]::attr(content)').getall()]
    assert article.published in dates

    content = page.css(theme["body"])
    assert len(content) == 1
    texts = [text_of(node) for node in content.xpath(theme["body_text"])]
    # The article's text in order, then the outlet's own trailer.
    assert in_order(article.body_paragraphs, texts)
    trailer = [t for t in texts if any(paragraph in t for paragraph in ed["appeal"])]
    assert trailer and texts.index(trailer[0]) > max(texts.index(p) for p in map(normalized, article.body_paragraphs))

    assert len(page.css(theme["share"]).getall()) >= 3
    assert page.css(theme["related"])
    assert page.css(theme["sidebar"]) and page.css(theme["cookie"]) and page.css(theme["menu"])
    assert "©" in text_of(page.css(theme["footer"]))
    links = page.css("a::attr(href)").getall()
    assert all(href.startswith(("https://", "viber://", "mailto:", "#")) for href in links)
    assert all(SITES[outlet_id].article(h) or not get_outlet(outlet_id).is_article_url(h) for h in links)


@pytest.mark.parametrize("outlet_id", OUTLETS)
def test_registry_patterns_match_the_sites_urls(outlet_id):
    site, outlet = SITES[outlet_id], get_outlet(outlet_id)
    for article in site.articles:
        assert outlet.is_article_url(article.url), article.url
        assert outlet.edition_of(article.url).language == article.edition
    for edition in site.prefixes:
        others = [site.url(edition), site.feed_url(edition), site.tag_url(edition, "Скопје")]
        for category in site.furniture["editions"][edition]["categories"]:
            others += [site.category_url(edition, category), site.feed_url(edition, category)]
        for url in filter(None, others):
            assert not outlet.is_article_url(url), url


@pytest.mark.parametrize("outlet_id", OUTLETS)
def test_feeds_list_the_newest_posts(server, outlet_id):
    site = SITES[outlet_id]
    for edition in site.prefixes:
        status, headers, body = fetch(server, site.feed_url(edition))
        assert status == 200 and headers["Content-Type"] == "application/rss+xml; charset=UTF-8"
        items = ET.fromstring(body).findall("./channel/item")
        expected = site.edition_articles(edition)[:site.options["feed_size"]]
        assert [i.findtext("link") for i in items] == [a.url for a in expected]
        assert [i.findtext("title") for i in items] == [a.title for a in expected]
        assert [parsedate_to_datetime(i.findtext("pubDate")) for i in items] == [a.published for a in expected]


def test_metamk_is_wordpress_with_api_and_sitemaps(server):
    site = SITES["metamk"]
    robots = fetch(server, site.home + "robots.txt")[2].decode()
    assert "Sitemap: https://meta.mk/wp-sitemap.xml" in robots.splitlines()
    index = ET.fromstring(fetch(server, site.home + "wp-sitemap.xml")[2])
    listed = {}
    for location in index.findall("sm:sitemap/sm:loc", SM):
        urlset = ET.fromstring(fetch(server, location.text)[2])
        listed |= {u.findtext("sm:loc", namespaces=SM): datetime.fromisoformat(u.findtext("sm:lastmod", namespaces=SM))
                   for u in urlset.findall("sm:url", SM)}
    assert listed == {a.url: a.modified for a in site.articles}
    for edition in site.prefixes:
        status, headers, body = fetch(server, site.url(edition, "wp-json/wp/v2/posts?per_page=100"))
        posts = json.loads(body)
        assert status == 200 and int(headers["X-WP-Total"]) == len(site.edition_articles(edition))
        assert [p["link"] for p in posts] == [a.url for a in site.edition_articles(edition)]
        ids = {site.category_id(c) for c in site.furniture["editions"][edition]["categories"]}
        assert all(p["categories"][0] in ids for p in posts)


def walk_listing(server, site, outlet, url: str) -> list[tuple[str, datetime]]:
    """Follow a listing the way the crawler does: its cards, then <link rel=next>."""
    seen = []
    while url:
        status, _, body = fetch(server, url)
        assert status == 200, url
        page = Selector(text=body.decode("utf-8"))
        cards = page.css(outlet.discovery.listing_card)
        assert len(cards) <= site.options["per_page"]
        for card in cards:
            link = next(h for h in card.css("a::attr(href)").getall() if outlet.is_article_url(h))
            seen.append((link, datetime.fromisoformat(card.css("time::attr(datetime)").get())))
        next_link = page.css("link[rel=next]::attr(href)").get()
        assert next_link == page.css('a[aria-label="next-page"]::attr(href)').get()  # TagDiv's own arrow
        url = next_link
    return seen


def test_novamakedonija_listings_page_back_through_every_post(server):
    site, outlet = SITES["novamakedonija"], get_outlet("novamakedonija")
    for category in site.furniture["editions"]["mk"]["categories"]:
        expected = site.edition_articles("mk", category)
        assert walk_listing(server, site, outlet, site.category_url("mk", category)) == [
            (a.url, a.published) for a in expected]
        pages = site.listing_pages("mk", category)
        assert fetch(server, site.category_url("mk", category) + f"page/{pages + 1}/")[0] == 404
        status, headers, _ = fetch(server, site.category_url("mk", category) + "page/1/")
        assert status == 301 and headers["Location"] == site.category_url("mk", category)
    for listing in outlet.discovery.listings:
        assert fetch(server, site.url("mk", listing))[0] == 200


def test_novamakedonija_urls_carry_category_and_subcategory():
    for article in SITES["novamakedonija"].articles:
        parts = urlsplit(article.url).path.strip("/").split("/")
        assert parts[0] == article.category and parts[-1] == article.slug
        assert parts[1:-1] == ([article.subcategory] if article.subcategory else [])


def test_novamakedonija_has_no_api_and_no_sitemap(server):
    site = SITES["novamakedonija"]
    status, headers, body = fetch(server, site.home + "wp-json/wp/v2/posts")
    assert status == 404 and headers["Content-Type"] == "text/html; charset=UTF-8"
    assert b"td-404-title" in body
    assert not any(line.startswith("Sitemap:") for line in fetch(server, site.home + "robots.txt")[2].decode().splitlines())
    assert fetch(server, site.home + "wp-sitemap.xml")[0] == 404


def test_slobodnaevropa_is_pangea(server):
    site = SITES["slobodnaevropa"]
    for article in site.articles:
        assert urlsplit(article.url).path == f"/a/{article.slug}/{article.article_id}.html"
    robots = fetch(server, site.home + "robots.txt")[2].decode().splitlines()
    assert "Sitemap: https://www.slobodnaevropa.mk/sitemap.xml" in robots
    urlset = ET.fromstring(fetch(server, site.home + "sitemap.xml")[2])
    assert {u.findtext("sm:loc", namespaces=SM): datetime.fromisoformat(u.findtext("sm:lastmod", namespaces=SM))
            for u in urlset.findall("sm:url", SM)} == {a.url: a.modified for a in site.articles}
    section = ET.fromstring(fetch(server, site.home + "api/zqrp_qeyvo")[2])
    assert [i.findtext("link") for i in section.findall("./channel/item")] == [
        a.url for a in site.edition_articles("mk", "makedonija")]
    assert fetch(server, site.home + "wp-json/wp/v2/posts")[0] == 404
    assert fetch(server, site.home + "feed/")[0] == 404
    zone = Selector(text=fetch(server, site.category_url("mk", "balkan"))[2].decode("utf-8"))
    assert zone.css("ul.archive-list h4.media-block__title::text").getall() == [
        a.title for a in site.edition_articles("mk", "balkan")]


def test_edits_work_on_every_outlet(server):
    for outlet_id, site in SITES.items():
        article = site.articles[-1]
        later = max(a.modified for a in site.articles).replace(microsecond=0)
        server.edit(article.url, paragraph="Исправен прв пасус.", modified=later)
        try:
            page = Selector(text=fetch(server, article.url)[2].decode("utf-8"))
            texts = [text_of(p) for p in page.css(THEMES[outlet_id]["body"]).xpath("./p")]
            assert texts[0] == "Исправен прв пасус."
            assert datetime.fromisoformat(page.css('script[type="application/ld+json"]::text').re_first(
                r'"dateModified": ?"([^"]+)"')) == later
        finally:
            server.reset()
        assert site.article(article.url).body_paragraphs == article.body_paragraphs


def _article_file(tmp_path, **fields):
    data = {"story": "s", "edition": "mk", "slug": "vest", "title": "Наслов", "category": "makedonija",
            "author": "Автор", "published": "2026-11-21T10:00:00+01:00", "excerpt": "Извадок.",
            "blocks": [{"p": "Пасус."}], **fields}
    path = tmp_path / "mk" / "vest.json"
    path.parent.mkdir(exist_ok=True)
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


def test_optional_id_and_subcategory_shape_the_url(tmp_path):
    categories = {"mk": {"makedonija": "Македонија"}}
    load = lambda path, pattern: load_article(path, "x", "https://x.mk/", {"mk": "/"}, categories, article_path=pattern)  # noqa: E731
    path = _article_file(tmp_path, id=33600001, subcategory="hronika")
    assert load(path, "a/{slug}/{id}.html").url == "https://x.mk/a/vest/33600001.html"
    assert load(path, "{category}/{subcategory}/{slug}/").url == "https://x.mk/makedonija/hronika/vest/"
    assert load(_article_file(tmp_path), "{category}/{subcategory}/{slug}/").url == "https://x.mk/makedonija/vest/"
    for fields, pattern, field in [({}, "a/{slug}/{id}.html", "id"), ({"id": "12"}, "{slug}/", "id"),
                                   ({"id": 0}, "{slug}/", "id"), ({"subcategory": "Хроника"}, "{slug}/", "subcategory")]:
        with pytest.raises(ValueError, match=f"vest.json: field '{field}'"):
            load(_article_file(tmp_path, **fields), pattern)
