"""Extraction against every fixture article: the clean body, title, metadata and language.

One parametrised test runs over every outlet's fixture pages (fetched over HTTP from the fixture
server), so a new outlet is covered the moment its fixtures exist.
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest

from kernel.records import Article, Lineage
from kernel.registry import get_outlet, load_registry, outlet_for_url
from sandbox.demo import fixture_outlets
from sandbox.fixture_sites import load_site
from tests.support import appeal_sentences, fetch
from transforms.article import page_to_article
from transforms.clean import split_title_flags
from transforms.extract import extract, precise_is_enough
from transforms.normalize import to_article

SEED_TITLE = ("VIDEO | Andonovic: North Korea is coming out of complete isolation - "
              "the defense agreement with Russia came into force")
REGISTRY = sorted(load_registry())  # the bundled outlets: every one must have recorded fixture pages
SITES = {outlet_id: load_site(outlet_id) for outlet_id in fixture_outlets()}
CASES = [(outlet_id, article) for outlet_id, site in SITES.items() for article in site.articles]
# What every outlet's fixture pages must show at least once, beyond title, body, author, time and URL.
COVERED_FIELDS = ("tags", "image_url")


def process(server, outlet_id, article):
    """The fixture page through the pipeline's one path to an article (it must not be dropped)."""
    outcome = page_to_article(fetch(server, article.url), article.url, get_outlet(outlet_id),
                              Lineage("test", article.published, article.edition), headers={})
    assert isinstance(outcome, Article), outcome
    return outcome


def uncovered(outlet_id: str) -> list[str]:
    """What the outlet's recorded fixture pages leave untested: all of it without a fixture site."""
    if outlet_id not in SITES:
        return [f"no fixture site (sandbox/fixture_sites/{outlet_id}/site.json)"]
    articles = SITES[outlet_id].articles
    missing = [] if articles else ["no article pages"]
    missing += [f"{a.url}: {name}" for a in articles for name in ("title", "body_paragraphs", "author", "published")
                if not getattr(a, name)]
    missing += [name for name in COVERED_FIELDS if not any(getattr(a, name) for a in articles)]
    missing += [f"edition {e}" for e in get_outlet(outlet_id).languages if e not in {a.edition for a in articles}]
    return missing


@pytest.mark.parametrize("outlet_id", REGISTRY)
def test_every_registered_outlet_has_recorded_pages_covering_its_fields(outlet_id):
    assert uncovered(outlet_id) == []


def test_an_outlet_without_recorded_pages_fails_the_registry_test(tmp_path, monkeypatch):
    (tmp_path / "nopages.toml").write_text((Path(__file__).parents[1] / "kernel" / "outlets" / "metamk.toml")
                                           .read_text(encoding="utf-8").replace('id = "metamk"', 'id = "nopages"'),
                                           encoding="utf-8")
    monkeypatch.setenv("NEWSETL_OUTLETS_DIR", str(tmp_path))
    assert "nopages" in load_registry()
    assert uncovered("nopages") == ["no fixture site (sandbox/fixture_sites/nopages/site.json)"]


@pytest.mark.parametrize("outlet_id, expected", CASES, ids=[f"{o}:{a.edition}/{a.slug[:40]}" for o, a in CASES])
def test_fixture_article_comes_out_clean_and_complete(fixture_server, outlet_id, expected):
    article = process(fixture_server, outlet_id, expected)
    title, flags = split_title_flags(expected.title)
    assert article.title == title
    assert article.title_flags == flags
    assert article.body.split("\n\n") == expected.body_paragraphs
    assert article.authors == [expected.author]
    assert article.published_at == expected.published
    assert article.published_at.utcoffset() == expected.published.utcoffset()
    assert article.canonical_url == expected.url
    assert article.language == expected.edition and article.language_confidence > 0.9
    assert article.tags == list(expected.tags)
    assert article.image_url == expected.image_url
    for text in appeal_sentences(SITES[outlet_id]):
        assert text not in article.body


def test_seed_article(fixture_server):
    """The English seed page: 12 paragraphs verbatim, no appeal, no widget, clean title, English."""
    seed = next(a for a in SITES["slobodenpecat"].articles if a.title == SEED_TITLE)
    assert len(seed.body_paragraphs) == 12
    article = process(fixture_server, "slobodenpecat", seed)
    for paragraph in seed.body_paragraphs:
        assert paragraph in article.body
    for sentence in ["Dear reader", "Our access to web content is free",
                     "Become a member of Sloboden Pechat", "ALWAYS BE ON THE PEOPLE'S SIDE", "Video of the day"]:
        assert sentence not in article.body
    assert article.title == SEED_TITLE.removeprefix("VIDEO | ")
    assert "Sloboden Pechat" not in article.title and article.title_flags == ["video"]
    assert article.language == "en"
    assert article.published_at.astimezone(timezone.utc) == seed.published.astimezone(timezone.utc)


def test_the_pages_tree_reads_as_trafilaturas_own(fixture_server):
    """The chain parses with its own lxml parser (element lookup in C): trafilatura reads the same body
    from that tree as from its own parser's, and what is not HTML is refused as trafilatura refuses it."""
    import trafilatura
    from trafilatura.utils import load_html

    from transforms.compat import parse_html as _parse
    from transforms.extract import _TRAFILATURA_OPTIONS

    for site in SITES.values():
        html = fetch(fixture_server, site.articles[0].url)
        ours, theirs = (trafilatura.bare_extraction(parse(html), **_TRAFILATURA_OPTIONS) for parse in (_parse, load_html))
        assert ours.text == theirs.text and ours.text
    for not_html in (b"just some text", b"{\"json\": true}"):
        assert (_parse(not_html) is None) == (load_html(not_html) is None)
    # trafilatura's repairs: forbidden characters deleted, a slash in the doctype, a self-closing <html/>
    story = "".join(f"<p>{p}</p>" for p in _STORY)
    forbidden = story.replace("the", "th\x0be", 3) + "\ufffe"
    for page in (f"<!DOCTYPE html/>\n<html><body><article>{story}</article></body></html>",
                 f"<html/>\n<body><article>{story}</article></body>",
                 f"<html><body><article>{forbidden}</article></body></html>",
                 f"<?xml version='1.0' encoding='utf-8'?><html><body><article>{story}</article></body></html>"):
        ours, theirs = (trafilatura.bare_extraction(parse(page.encode()), **_TRAFILATURA_OPTIONS) for parse in (_parse, load_html))
        assert ours.text == theirs.text and ours.text


@pytest.mark.parametrize("text", [
    "<!DOCTYPE html/>\n<html><body>x</body></html>", "<!doctype html/>", "<!DOCTYPE x/y>", "no line break at all",
    "<html lang='en' />\r\n<body>", "<p>a\x00b\x1fc\ufffe\uffffd</p>", "\x0b<!DOCTYPE x/y>\nz", "tab\t, line\n, return\r",
])
def test_the_repair_before_parsing_is_trafilaturas(text):
    from trafilatura.utils import repair_faulty_html

    from transforms.compat import _repaired

    beginning = text[:50].lower()
    assert _repaired(text, beginning) == (repair_faulty_html(text, beginning), repair_faulty_html(text, beginning).encode())


# --- how the body is read: precision for pages that declare an article, checked when it reads little

_SENTENCE = "The council met on Tuesday evening to discuss the new budget for the city's parks and its libraries. "
_STORY = [f"{_SENTENCE * 2}Paragraph {i} adds a detail about the vote and what comes next." for i in range(8)]
_BOX = "Get our morning briefing in your inbox every weekday, with the stories that matter most to the city."
_URL = "https://news.example.org/2024/council-budget"


def _page(declares_article: bool, article_html: str) -> str:
    meta = '<meta property="og:type" content="article">' if declares_article else ""
    return (f"<html><head><title>Council budget</title>{meta}</head><body><nav><a href='/'>Home</a></nav>"
            f"<article><h1>Council budget</h1>{article_html}</article><footer>About us</footer></body></html>")


def _body(html: str) -> list[str]:
    outlet = outlet_for_url(_URL)
    return to_article(extract(html, _URL, outlet), outlet, edition="en", run_id="test",
                      fetched_at=datetime(2024, 5, 1, tzinfo=timezone.utc)).body.split("\n\n")


def test_a_declared_article_is_read_with_precision():
    story = "".join(f"<p>{p}</p>" for p in _STORY) + f"<div class='story-bottom'><p>{_BOX}</p></div>"
    assert _body(_page(True, story)) == _STORY  # the box under the story is not the article
    assert _body(_page(False, story)) == [*_STORY, _BOX]  # a page that declares nothing keeps the balanced reading


def test_a_declared_article_that_the_fast_precise_reading_misses_comes_out_whole():
    # The story sits in a <header>, which precision prunes; fast mode then finds nothing, the full cascade finds it.
    story = "<header>" + "".join(f"<p>{p}</p>" for p in _STORY) + "</header>"
    assert _body(_page(True, story)) == _STORY


def test_a_short_precise_body_is_kept_when_the_balanced_reading_adds_only_short_lines():
    story = _STORY[0]
    menu = "\n".join(["Album › Genre: Pop", "Anzeige", "Short-URL: https://example.org/m1", "Impressum",
                      "Datenschutzerklärung", "Cookie-Erklärung", "Musiknewsletter", "Service"] * 10)
    assert len(menu) > 2 * len(story)  # by length alone the balanced reading would win
    assert precise_is_enough(story, f"{story}\n{menu}")
    lost = " ".join(f"More of the story, paragraph {n}, tells what the council decided on the budget." for n in range(30))
    assert not precise_is_enough(story, f"{story}\n{lost}")  # paragraphs precision left out: balanced wins
    assert not precise_is_enough("Too few words.", "Too few words.")


_TOPICS = "council budget parks libraries vote mayor schools roads housing transit water taxes".split()
_ADVERT = "<aside class='ad'><p>Advertisement</p></aside>"


def _numbered(first: int, count: int) -> list[str]:
    """Paragraphs that differ from their first words on, as an article's do."""
    return [f"Paragraph {i} of the story: " + " ".join(_TOPICS[(i + k) % len(_TOPICS)] for k in range(30)) + "."
            for i in range(first, first + count)]


def _paragraphs_html(paragraphs: list[str]) -> str:
    return "".join(f"<p>{p}</p>" for p in paragraphs)


def test_an_article_split_by_adverts_over_containers_of_one_class_comes_out_whole():
    # Each part of the story in its own `div.article__body`, adverts between them: trafilatura reads the first.
    parts = [_numbered(4 * n, 4) for n in range(3)]
    story = f"<div class='grid'>{_ADVERT}</div>".join(
        f"<div class='grid'><div class='story-body article__body'>{_paragraphs_html(part)}</div></div>" for part in parts)
    assert _body(_page(True, story)) == [p for part in parts for p in part]


def test_other_posts_in_containers_of_the_same_class_stay_out():
    # A page of posts (each post's text in `div.entry-content` inside a post container of its own class)
    # and teasers of other articles, each in an <article> of its own: only the page's article is read.
    story, others = _numbered(0, 6), [_numbered(10 * n, 4) for n in (1, 2)]
    posts = "".join(f"<div class='post post-{n}'><div class='entry-content'>{_paragraphs_html(text)}</div></div>"
                    for n, text in enumerate([story, *others]))
    assert _body(_page(True, posts)) == story
    teasers = "".join(f"<article><div class='entry-content'>{_paragraphs_html(text)}</div></article>" for text in others)
    page = _page(True, f"<div class='entry-content'>{_paragraphs_html(story)}</div>").replace(
        "<footer>", f"<section class='more'>{teasers}</section><footer>")
    assert _body(page) == story


def test_widgets_named_by_their_class_inside_the_article_stay_out():
    widgets = [
        ("div", "class='saboxplugin-wrap'", "Jane Doe writes about the city council and has covered local politics."),
        ("div", "class='post-share sharing'", "Share this story with your friends on every network you use."),
        ("div", "id='newsletter-box'", _BOX),
        ("aside", "class='related-stories'", "The mayor's plan for the new library opens to public comment."),
        ("div", "class='ez-toc-container'", "Contents: The vote. The budget. What comes next."),
        ("p", "class='affiliate-disclosure'", "We may earn a commission when you buy through links on this page."),
    ]
    story = "".join(f"<p>{paragraph}</p><{tag} {name}><span>{text}</span></{tag}>"
                    for paragraph, (tag, name, text) in zip(_STORY, widgets, strict=False)) + _paragraphs_html(_STORY[len(widgets):])
    unnamed = story
    for _, name, _ in widgets:
        unnamed = unnamed.replace(name, "class='box'")
    for declared in (True, False):
        assert _body(_page(declared, story)) == _STORY
        assert len(_body(_page(declared, unnamed))) > len(_STORY)  # the same boxes without their names are read


def test_a_long_element_named_like_a_widget_is_kept():
    # A wrapper whose class names a widget ("share-wrapper") but holds the whole story is the story.
    story = _numbered(0, 6)
    assert _body(_page(True, f"<div class='share-wrapper'>{_paragraphs_html(story)}</div>")) == story


_LEAD = ("The city council agreed on a budget that keeps every library open, after a long night of debate about parks,"
         " schools and the roads that lead to them.")


def _page_with_header(header: str, before_article: str = "") -> str:
    return ('<html><head><title>Council budget</title><meta property="og:type" content="article"></head><body>'
            f"<h1>Council budget</h1>{before_article}<article><header>{header}</header>"
            f"<div class='story-body'>{_paragraphs_html(_numbered(0, 6))}</div></article></body></html>")


def test_the_standfirst_that_trafilatura_leaves_out_opens_the_body():
    story = _numbered(0, 6)
    assert _body(_page_with_header(f"<div class='teaser-text'><p>{_LEAD}</p></div>")) == [_LEAD, *story]
    assert _body(_page_with_header(f"<p class='intro'>{_LEAD}</p>")) == [_LEAD, *story]
    # a one-line dek, a teaser outside the article and a captioned picture named "lead" stay out
    assert _body(_page_with_header("<p class='summary'>Libraries stay open, parks get less.</p>")) == story
    assert _body(_page_with_header("", f"<div class='teaser'><p>{_LEAD}</p></div>")) == story
    assert _body(_page_with_header(f"<figure class='lead-image'><img src='a.jpg'><figcaption>{_LEAD}</figcaption>"
                                   "</figure>")) == story


def test_a_page_that_dates_itself_only_in_its_text_gets_htmldates_extensive_reading():
    story = "".join(f"<p>{p}</p>" for p in _STORY) + "<p>The council met on Tuesday, 12 March 2021, to vote.</p>"
    page = f"<html><head><title>Council</title></head><body><article><h1>Council</h1>{story}</article></body></html>"
    extracted = extract(page, _URL, outlet_for_url(_URL))
    assert extracted.published_at is not None and extracted.published_at.date().isoformat() == "2021-03-12"
    undated = page.replace(", 12 March 2021,", "")
    assert extract(undated, _URL, outlet_for_url(_URL)).published_at is None
