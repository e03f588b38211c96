"""Metadata from pages nobody declared rules for: titles, bylines, times, lead images."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from kernel.registry import get_outlet, outlet_for_url
from transforms.extract import extract
from transforms.normalize import to_article

BODY = "".join(f"<p>Paragraph {n} of a story long enough to be taken for an article by the extractor, "
               f"with some more words in it to be safe.</p>" for n in range(6))


def page(head: str = "", byline: str = "", extra: str = "") -> str:
    return (f"<html lang='en'><head>{head}</head><body><article><h1>Big news of the day</h1>"
            f"<div class='byline'>{byline}</div>{extra}<div class='content'>{BODY}</div></article></body></html>")


def run(html: str, url: str = "https://news.example.org/2026/11/big-news/", outlet=None):
    outlet = outlet or outlet_for_url(url)
    return to_article(extract(html, url, outlet), outlet, edition="en", run_id="t",
                      fetched_at=datetime(2026, 11, 28, tzinfo=timezone.utc))


@pytest.mark.parametrize("title", ["Big news of the day – Example Daily", "Example Daily | Big news of the day"])
def test_any_site_name_leaves_the_title(title):
    html = page(f"<title>{title}</title><meta property='og:site_name' content='Example Daily'>"
                f"<meta property='og:title' content='{title}'>")
    assert run(html).title == "Big news of the day"


@pytest.mark.parametrize("byline, authors", [
    ("<meta name='author' content='By John Smith'>", ["John Smith"]),
    ("<meta name='author' content='Од Марија Петрова'>", ["Марија Петрова"]),
    ("<meta name='author' content='Autor: Ana Kovač; Ivan Horvat'>", ["Ana Kovač", "Ivan Horvat"]),
])
def test_bylines_become_clean_name_lists(byline, authors):
    assert run(page(byline)).authors == authors


def test_a_naive_time_is_the_outlets_local_time():
    html = page("<meta property='article:published_time' content='2026-11-21T10:42:00'>")
    article = run(html, "https://slobodenpecat.mk/big-news/", get_outlet("slobodenpecat"))
    assert article.published_at == datetime(2026, 11, 21, 9, 42, tzinfo=timezone.utc)
    assert article.published_at.utcoffset() == timedelta(hours=1)  # kept in Europe/Skopje


def test_a_css_background_is_the_lead_image_when_no_meta_names_one():
    html = page(extra="<div class='featured' style=\"background-image: url('/uploads/2026/11/lead.webp')\"></div>")
    assert run(html).image_url == "https://news.example.org/uploads/2026/11/lead.webp"


def test_text_is_unicode_composed():
    html = page(extra="<p>Das Gerät wurde gepru\u0308ft und fu\u0308r gut befunden, sagte der Tester am Montag.</p>")
    assert "geprüft" in run(html).body and "u\u0308" not in run(html).body


def test_a_url_that_is_only_a_label_still_gets_a_stand_in_outlet():
    assert outlet_for_url("hard::page.html").home == "https://unknown.invalid/"


def test_a_declared_timestamp_with_offset_is_taken_exactly():
    html = page('<script type="application/ld+json">{"@graph": [{"@type": "NewsArticle", '
                '"datePublished": "2026-11-21T10:42:17+02:00"}]}</script>', extra="<p>21.11.2026</p>")
    published = run(html).published_at
    assert published == datetime(2026, 11, 21, 8, 42, 17, tzinfo=timezone.utc)
    assert published.utcoffset() == timedelta(hours=2)


@pytest.mark.parametrize("links, meta", [
    ("<a href='/category/politics/'>Politics</a><a href='/tag/budget/'>budget</a>", ""),
    ("<a href='/categories/world/'>World</a>", "<meta property='article:section' content='Economy'>"),
    ("<a href='/politics/'>Politics</a>", "<meta property='article:section' content='Economy'>"),
    ("", "<meta name='subject' content='Sport'><meta property='article:section' content=''>"),
    ("<a href='/tags/'>all tags</a>", ""),
])
def test_section_and_tags_are_trafilaturas(links, meta):
    """The link searches are skipped only where they cannot succeed: the answers stay trafilatura's."""
    from trafilatura.metadata import extract_catstags
    from trafilatura.utils import load_html

    from transforms.compat import HINTED_LINKS as _HINTED_LINKS
    from transforms.compat import categories_or_tags as _categories_or_tags

    html = page(meta, extra=f"<div class='entry-meta'>{links}</div><div class='tags'>{links}</div>")
    tree = load_html(html)
    for kind in ("category", "tag"):
        assert _categories_or_tags(kind, tree, _HINTED_LINKS(tree)) == extract_catstags(kind, tree)
    article = run(html)
    assert (article.section, article.tags) == ((extract_catstags("category", tree) or [None])[0],
                                               extract_catstags("tag", tree))


# --- the author search: trafilatura's answer, found in one walk over the tree

_BYLINE_CASES = [
    "<div class='author'>Jane Roe</div>",
    "<span class='byline'>By <time datetime='2026-11-28'>28 Nov</time>Jane Roe</span>",  # the time is pruned, its tail kept
    "<p class='post-author-name'>By<a class='print'>Print</a>Jane Roe<span class='date'>today</span>and John Doe</p>",
    "<div id='comments'><span class='author'>A Commenter</span></div><div class='writer'>Jane Roe</div>",
    "<figure><figcaption class='author'>Photographer</figcaption></figure><a rel='author'>Jane Roe</a>",
    "<div class='sidebar'><p class='byline'>Sidebar Person</p></div><h4 id='zuozhe'>Li Wei</h4>",
    "<section class='quote-box'><span itemprop='author'>Quoted</span></section><span itemprop='author name'>Jane Roe</span>",
    "<div data-component='Byline'><span>Jane</span> <span>Roe</span></div>",
    "<strong data-testid='AuthorCard'>Jane Roe</strong><div class='author'>X</div>",
    "<author>Jane Roe</author>",
    "<div class='AuthorName'>" + "Very long name " * 10 + "</div><span id='Author'>Jane Roe</span>",
    "<p class='byline'><rel>me</rel>Jane Roe</p>",  # a child <rel>: trafilatura's own search answers
    "<p>no byline at all</p>",
]


@pytest.mark.parametrize("byline", _BYLINE_CASES)
def test_the_author_search_answers_as_trafilaturas(byline):
    from trafilatura.metadata import extract_author

    from transforms.compat import author_of as _author
    from transforms.compat import parse_html as _parse

    tree = _parse(page(extra=byline))
    assert _author(tree) == extract_author(tree)


def test_the_author_search_answers_as_trafilaturas_on_the_fixture_outlets(fixture_server):
    from trafilatura.metadata import extract_author

    from sandbox.demo import fixture_outlets
    from sandbox.fixture_sites import load_site
    from tests.support import fetch
    from transforms.compat import author_of as _author
    from transforms.compat import parse_html as _parse

    found = 0
    for outlet_id in fixture_outlets():
        site = load_site(outlet_id)
        for article in site.articles:
            tree = _parse(fetch(fixture_server, article.url))
            expected = extract_author(tree)
            assert _author(tree) == expected, article.url
            found += expected is not None
    assert found  # the fixture pages do carry bylines the search finds
