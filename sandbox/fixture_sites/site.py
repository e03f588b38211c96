"""An outlet's fixture web site: article JSON files rendered through Jinja2 theme templates.

``load_site("slobodenpecat")`` reads ``<outlet>/site.json`` and ``<outlet>/articles/*/*.json``;
``FixtureSite.render(path)`` answers a request path the way the outlet's CMS would. Pages are
derived from the files only (no clock, no randomness), so the same files give the same bytes.

URL shapes come from site.json (``article_path``, ``category_path``, ``page_path``, ``feeds``), so one
router serves WordPress permalinks as well as other CMSs; CMS-specific endpoints (the WordPress REST
API and sitemaps) live in their own modules and are asked first.
"""

from __future__ import annotations

import base64
import dataclasses
import email.utils
import hashlib
import json
import re
import tomllib
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import parse_qs, quote, unquote, urlsplit
from zoneinfo import ZoneInfo

import jinja2
from markupsafe import Markup

FIXTURES_DIR = Path(__file__).resolve().parent
TEMPLATES_DIR = FIXTURES_DIR / "templates"
OUTLETS_DIR = FIXTURES_DIR.parents[1] / "kernel" / "outlets"

PER_PAGE = 2  # posts per archive page: small, so the fixture categories span several pages
FEED_SIZE = 10  # WordPress's default number of feed items
MOST_READ = 5
RELATED = 3

HTML = "text/html; charset=UTF-8"
RSS = "application/rss+xml; charset=UTF-8"
TEXT = "text/plain; charset=UTF-8"

BLOCK_KINDS = ("p", "h2", "read_also", "figure", "embed")
TEXT_KINDS = ("p", "h2")  # the blocks a clean extraction returns
SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9-]+$")

# What site.json may leave out: the shape of a WordPress site with PenNews-style category archives.
DEFAULT_OPTIONS: dict[str, Any] = {
    "theme": "pennews",
    "cms": "",  # "wordpress" adds the REST API and core sitemaps (see wordpress.py)
    "article_path": "{slug}/",  # relative to the edition prefix; {category} {subcategory} {id} also work
    "category_path": "category/vesti/{category}/",  # {category_id} also works
    "page_path": "page/{page}/",  # appended to category_path for page 2+; null: one page per listing
    "per_page": PER_PAGE,
    "feeds": None,  # {"": main feed, "<category>": its feed}; None: WordPress's feed/ paths
    "feed_size": FEED_SIZE,
    "uploads": None,  # base URL of images; None: <home>wp-content/uploads/
    "sitemap": None,  # path of a plain urlset sitemap of every article (non-WordPress sites)
    "category_ids": {},  # category → numeric id (WordPress term id, Pangea zone id)
    "author_path": "author/{author}/",  # {author_id} also works
}


def site_options(furniture: dict[str, Any]) -> dict[str, Any]:
    return {**DEFAULT_OPTIONS, **{k: v for k, v in furniture.items() if k in DEFAULT_OPTIONS}}


def read_outlet_entry(outlet_id: str, outlets_dir: Path = OUTLETS_DIR) -> dict[str, Any]:
    """The few registry fields a fixture site needs, read straight from the outlet's TOML."""
    path = outlets_dir / f"{outlet_id}.toml"
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        return {
            "name": data["name"],
            "home": data["home"],
            "domains": tuple(data["domains"]),
            "timezone": data.get("timezone", "UTC"),
            "prefixes": {e["language"]: e["prefix"] for e in data["editions"]},
        }
    except (OSError, tomllib.TOMLDecodeError, KeyError, TypeError) as exc:
        raise ValueError(f"outlet file {path}: cannot be read as an outlet entry: {exc!r}") from exc


@dataclass(frozen=True)
class Block:
    """One body block of an article, in page order."""

    kind: str  # one of BLOCK_KINDS
    text: str  # paragraph/heading text, "Read also: headline", figure caption, or embed provider
    target: str | None = None  # read_also: slug (or absolute URL) of the linked article
    file: str | None = None  # figure: upload path under wp-content/uploads/, when given


@dataclass(frozen=True)
class FixtureArticle:
    outlet: str
    story: str  # shared by the translations of one story
    edition: str
    slug: str
    url: str
    title: str
    category: str
    tags: tuple[str, ...]
    author: str
    published: datetime
    modified: datetime
    excerpt: str
    image_url: str  # "" when the article has no featured image
    image_caption: str
    blocks: tuple[Block, ...]
    article_id: int | None = None  # the CMS's own numeric id, when the file gives one ("id")
    subcategory: str = ""  # e.g. "hronika" under "makedonija", when the file gives one
    wire: str = ""  # the agency text the article reproduces (same value across outlets: a syndicated copy)

    @property
    def body_paragraphs(self) -> list[str]:
        """The article text a clean extraction must return: the p and h2 blocks, in order."""
        return [block.text for block in self.blocks if block.kind in TEXT_KINDS]


class Response(NamedTuple):
    status: int
    content_type: str
    body: bytes
    headers: dict[str, str]


def _digest(seed: str) -> bytes:
    return hashlib.sha256(seed.encode("utf-8")).digest()


def youtube_id(seed: str) -> str:
    """A stable, YouTube-shaped (11 characters of base64url) video id."""
    return base64.urlsafe_b64encode(_digest(seed)).decode("ascii")[:11]


def post_id(article: FixtureArticle) -> int:
    """The article's own id, else a stable WordPress-like numeric post id."""
    if article.article_id is not None:
        return article.article_id
    return 100000 + int.from_bytes(_digest(f"{article.edition}/{article.slug}")[:4], "big") % 900000


_CYRILLIC = dict(zip(
    "абвгдѓежзѕијклљмнњопрстќуфхцчџш",
    "a b v g d gj e zh z dz i j k l lj m n nj o p r s t kj u f h c ch dzh sh".split(),
    strict=True,
))


def slugify(text: str) -> str:
    """A WordPress-style Latin slug (Macedonian Cyrillic transliterated, ц→cz before a vowel)."""
    text = text.lower()
    out = []
    for i, char in enumerate(text):
        if char == "ц" and i + 1 < len(text) and text[i + 1] in "аеиоу":
            out.append("cz")
        else:
            out.append(_CYRILLIC.get(char, char))
    ascii_text = unicodedata.normalize("NFKD", "".join(out)).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]+", "-", ascii_text).strip("-")


def _css_url(url: str) -> str:
    # Unquoted CSS url(...) cannot hold spaces, quotes or parentheses.
    return re.sub(r"[\s()'\"\\]", lambda m: f"%{ord(m.group()):02X}", url)


def _cdata(value: Any) -> Markup:
    # The text goes inside <![CDATA[...]]>, where only "]]>" needs breaking up.
    return Markup(str(value).replace("]]>", "]]]]><![CDATA[>"))


def _environment(theme: str) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR / theme),
        autoescape=jinja2.select_autoescape(["html", "xml"]),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.policies["json.dumps_kwargs"] = {"ensure_ascii": False, "sort_keys": False}
    env.filters["css_url"] = _css_url
    env.filters["cdata"] = _cdata
    env.filters["query_value"] = lambda value: quote(str(value), safe="")
    return env


# --- loading ---------------------------------------------------------------------------------


def _parse_time(value: Any, fail) -> datetime:
    if not isinstance(value, str):
        fail("must be an ISO 8601 timestamp string")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        fail(f"{value!r} is not an ISO 8601 timestamp")
    if moment.tzinfo is None:
        fail(f"{value!r} has no UTC offset")
    return moment


def _parse_block(index: int, raw: Any, fail) -> Block:
    where = f"blocks[{index}]"
    if not isinstance(raw, dict):
        fail(where, "must be an object such as {\"p\": \"text\"}")
    kinds = [kind for kind in BLOCK_KINDS if kind in raw]
    if len(kinds) != 1:
        fail(where, f"must have exactly one of the keys {', '.join(BLOCK_KINDS)}")
    kind = kinds[0]
    text = raw[kind]
    if not isinstance(text, str) or not text.strip():
        fail(f"{where}.{kind}", "must be a non-empty string")
    for extra in ("target", "file"):
        if extra in raw and not (isinstance(raw[extra], str) and raw[extra].strip()):
            fail(f"{where}.{extra}", "must be a non-empty string")
    return Block(kind, text, raw.get("target"), raw.get("file"))


def load_article(path: Path, outlet_id: str, home: str, prefixes: dict[str, str],
                 categories: dict[str, dict[str, str]], *, article_path: str = "{slug}/",
                 uploads: str | None = None) -> FixtureArticle:
    """One article file; a ValueError names the file and the field when it is malformed."""

    def fail(field: str, problem: str):
        raise ValueError(f"article {path}: field '{field}': {problem}")

    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"article {path}: not readable as JSON: {exc}") from exc
    if not isinstance(data, dict):
        fail("(file)", "must be a JSON object")

    def text(field: str, required: bool = True) -> str:
        value = data.get(field)
        if value is None and not required:
            return ""
        if not isinstance(value, str) or not value.strip():
            fail(field, "must be a non-empty string")
        return value

    edition = text("edition")
    if edition not in prefixes:
        fail("edition", f"{edition!r} is not one of the outlet's editions {sorted(prefixes)}")
    if edition != path.parent.name:
        fail("edition", f"{edition!r} does not match the folder {path.parent.name!r}")
    slug = text("slug")
    if not SLUG_RE.match(slug):
        fail("slug", f"{slug!r} must be lowercase Latin letters, digits and '-'")
    if slug != path.stem:
        fail("slug", f"{slug!r} does not match the file name {path.stem!r}")
    category = text("category")
    if category not in categories.get(edition, {}):
        fail("category", f"{category!r} is not a category of site.json ({', '.join(categories.get(edition, {}))})")
    tags = data.get("tags", [])
    if not isinstance(tags, list) or not all(isinstance(t, str) and t.strip() for t in tags):
        fail("tags", "must be a list of non-empty strings")
    published = _parse_time(data.get("published"), lambda problem: fail("published", problem))
    modified = published
    if data.get("modified") is not None:
        modified = _parse_time(data["modified"], lambda problem: fail("modified", problem))
    article_id = data.get("id")
    if article_id is not None and (not isinstance(article_id, int) or isinstance(article_id, bool) or article_id < 1):
        fail("id", "must be a positive integer")
    if article_id is None and "{id}" in article_path:
        fail("id", "is required: the outlet's article URLs carry it")
    subcategory = text("subcategory", required=False)
    if subcategory and not SLUG_RE.match(subcategory):
        fail("subcategory", f"{subcategory!r} must be lowercase Latin letters, digits and '-'")
    image = data.get("image")
    image_url = image_caption = ""
    if image is not None:
        if not isinstance(image, dict) or not isinstance(image.get("file"), str) or not image["file"].strip():
            fail("image", "must be an object with a non-empty 'file'")
        if not isinstance(image.get("caption", ""), str):
            fail("image.caption", "must be a string")
        image_url = f"{uploads or home + 'wp-content/uploads/'}{image['file'].lstrip('/')}"
        image_caption = image.get("caption", "")
    raw_blocks = data.get("blocks")
    if not isinstance(raw_blocks, list) or not raw_blocks:
        fail("blocks", "must be a non-empty list")
    blocks = tuple(_parse_block(i, raw, fail) for i, raw in enumerate(raw_blocks))
    # An absent {subcategory} leaves an empty segment: fold it away.
    relative = re.sub(r"/{2,}", "/", article_path.format(
        slug=slug, category=category, subcategory=subcategory, id=article_id or ""))
    return FixtureArticle(
        outlet=outlet_id,
        story=text("story"),
        edition=edition,
        slug=slug,
        url=f"{home.rstrip('/')}{prefixes[edition]}{relative.lstrip('/')}",
        title=text("title"),
        category=category,
        tags=tuple(tags),
        author=text("author"),
        published=published,
        modified=modified,
        excerpt=text("excerpt"),
        image_url=image_url,
        image_caption=image_caption,
        blocks=blocks,
        article_id=article_id,
        subcategory=subcategory,
        wire=text("wire", required=False),
    )


def load_site(outlet_id: str, root: Path = FIXTURES_DIR, outlets_dir: Path = OUTLETS_DIR) -> FixtureSite:
    """The fixture site of ``outlet_id``: ``<root>/<outlet_id>/site.json`` plus its article files."""
    entry = read_outlet_entry(outlet_id, outlets_dir)
    folder = Path(root) / outlet_id
    site_file = folder / "site.json"
    try:
        furniture = json.loads(site_file.read_text(encoding="utf-8"))
        categories = {lang: ed["categories"] for lang, ed in furniture["editions"].items()}
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ValueError(f"site file {site_file}: cannot be read: {exc!r}") from exc
    missing = sorted(set(entry["prefixes"]) - set(categories))
    if missing:
        raise ValueError(f"site file {site_file}: field 'editions': no furniture for {missing}")
    options = site_options(furniture)
    articles = [
        load_article(path, outlet_id, entry["home"], entry["prefixes"], categories,
                     article_path=options["article_path"], uploads=options["uploads"])
        for path in sorted(folder.glob("articles/*/*.json"))
    ]
    urls = [article.url for article in articles]
    if len(set(urls)) != len(urls):
        twice = sorted({url for url in urls if urls.count(url) > 1})
        raise ValueError(f"site {folder}: several article files give the URL(s) {twice}")
    return FixtureSite(outlet_id, entry, furniture, articles)


# --- the site --------------------------------------------------------------------------------


class FixtureSite:
    """An outlet's site: its articles, its furniture (site.json) and its request routing."""

    def __init__(self, outlet_id: str, entry: dict[str, Any], furniture: dict[str, Any],
                 articles: list[FixtureArticle]):
        self.outlet_id = outlet_id
        self.name: str = entry["name"]
        self.home: str = entry["home"]
        self.domains: tuple[str, ...] = entry["domains"]
        self.tz = ZoneInfo(entry["timezone"])
        self.prefixes: dict[str, str] = entry["prefixes"]
        self.furniture = furniture
        self.options = site_options(furniture)
        self.cms: str = self.options["cms"]
        self._originals = tuple(articles)
        self._set_articles(articles)
        self._env = _environment(self.options["theme"])
        # The site's "today" (top bar date, copyright year) is its newest post's day.
        self.today = self.local(self.articles[0].published) if self.articles else None
        # Edits change texts and times, never URLs or categories: the routes are built once.
        self._routes = self._build_routes()

    def _set_articles(self, articles) -> None:
        self.articles: tuple[FixtureArticle, ...] = tuple(
            sorted(articles, key=lambda a: (a.published, a.url), reverse=True)
        )
        self._by_url = {a.url: a for a in self.articles}

    # Edits, for incremental-crawl tests

    def edit(self, url: str, *, paragraph: str, modified: datetime) -> FixtureArticle:
        """Replace the article at ``url`` by a copy whose first paragraph is ``paragraph`` and whose
        modification time is ``modified``; pages, feeds, sitemaps and the API all show the copy."""
        article = self._by_url.get(url)
        if article is None:
            raise KeyError(f"no article at {url}")
        if modified.tzinfo is None:
            raise ValueError("modified must be time-zone aware")
        first = next((i for i, b in enumerate(article.blocks) if b.kind == "p"), None)
        blocks = list(article.blocks)
        if first is None:
            blocks.insert(0, Block("p", paragraph))
        else:
            blocks[first] = Block("p", paragraph)
        edited = dataclasses.replace(article, blocks=tuple(blocks), modified=modified)
        self._set_articles([edited if a.url == url else a for a in self.articles])
        return edited

    def reset(self) -> None:
        """Undo every ``edit``."""
        self._set_articles(self._originals)

    # URLs and formatting, also used by the templates

    def url(self, edition: str, relative: str = "") -> str:
        return f"{self.home.rstrip('/')}{self.prefixes[edition]}{relative}"

    def category_url(self, edition: str, category: str, page: int = 1) -> str:
        relative = self.options["category_path"].format(
            category=category, category_id=self.options["category_ids"].get(category, ""))
        if page > 1:
            relative += self.options["page_path"].format(page=page)
        return self.url(edition, relative)

    def feed_url(self, edition: str, category: str | None = None) -> str | None:
        """The RSS feed of the edition (or of one category), None when the site has none."""
        feeds = self.options["feeds"]
        if feeds is None:  # WordPress: /feed/ and every archive's feed/
            return self.url(edition, "feed/") if category is None else self.category_url(edition, category) + "feed/"
        relative = feeds.get(category or "")
        return self.url(edition, relative) if relative else None

    def tag_url(self, edition: str, tag: str) -> str:
        return self.url(edition, f"tag/{slugify(tag)}/")

    def author_url(self, article: FixtureArticle) -> str:
        author_id = 10000 + int.from_bytes(_digest(f"author/{article.author}")[:3], "big") % 90000
        return self.url(article.edition, self.options["author_path"].format(
            author=slugify(article.author), author_id=author_id))

    def upload_url(self, file: str) -> str:
        if "://" in file:
            return file
        return f"{self.options['uploads'] or self.home + 'wp-content/uploads/'}{file.lstrip('/')}"

    def figure_url(self, article: FixtureArticle, block: Block, index: int) -> str:
        if block.file:
            return self.upload_url(block.file)
        day = self.local(article.published)
        return self.upload_url(f"{day:%Y/%m}/{article.slug}-{index}.jpg")

    def local(self, moment: datetime) -> datetime:
        return moment.astimezone(self.tz)

    def iso(self, moment: datetime) -> str:
        return self.local(moment).isoformat()

    def rfc822(self, moment: datetime) -> str:
        return email.utils.format_datetime(moment.astimezone(UTC))

    def long_date(self, moment: datetime, edition: str) -> str:
        day = self.local(moment)
        month = self.furniture["editions"][edition]["months"][day.month - 1]
        return f"{day.day} {month} {day.year}"

    def day_line(self, edition: str) -> str:
        if self.today is None:
            return ""
        weekday = self.furniture["editions"][edition]["weekdays"][self.today.weekday()]
        return f"{weekday}, {self.long_date(self.today, edition)}"

    def category_name(self, edition: str, category: str) -> str:
        return self.furniture["editions"][edition]["categories"][category]

    def subcategory_name(self, edition: str, subcategory: str) -> str:
        names = self.furniture["editions"][edition].get("subcategories", {})
        return names.get(subcategory, subcategory.replace("-", " ").capitalize())

    def category_id(self, category: str) -> int:
        return self.options["category_ids"].get(category) or 1  # 1: WordPress's "Uncategorized"

    def post_id(self, article: FixtureArticle) -> int:
        return post_id(article)

    def youtube_id(self, seed: str) -> str:
        return youtube_id(seed)

    def video_of_the_day(self, article: FixtureArticle) -> str:
        # One clip per edition and day, as a daily widget would show.
        return youtube_id(f"video-of-the-day/{article.edition}/{self.local(article.published):%Y-%m-%d}")

    def share_count(self, article: FixtureArticle, network: str) -> int:
        return int.from_bytes(_digest(f"{article.url}|{network}")[:2], "big") % 400

    @staticmethod
    def split_read_also(text: str) -> tuple[str, str]:
        """"Прочитајте и: Наслов" → ("Прочитајте и:", "Наслов"); no colon → ("", text)."""
        lead, colon, headline = text.partition(":")
        if not colon or not headline.strip():
            return "", text
        return lead.strip() + ":", headline.strip()

    def link_target(self, article: FixtureArticle, target: str) -> str:
        if "://" in target:
            return target
        same = next((a.url for a in self.articles if a.edition == article.edition and a.slug == target.strip("/")), None)
        return same or self.url(article.edition, target.strip("/") + "/")

    def content_html(self, article: FixtureArticle) -> str:
        """The post's content as the page shows it (body and the outlet's trailer): the theme's
        ``content`` macro, also used by feeds and the REST API."""
        module = self._env.get_template("_blocks.html").module
        return str(module.content(self, article, self.furniture["editions"][article.edition]))

    # Article queries

    def edition_articles(self, edition: str, category: str | None = None) -> list[FixtureArticle]:
        return [a for a in self.articles
                if a.edition == edition and (category is None or a.category == category)]

    def article(self, url: str) -> FixtureArticle | None:
        """The article published at ``url`` (an absolute URL as in ``FixtureArticle.url``)."""
        return self._by_url.get(url)

    def translations(self, article: FixtureArticle) -> list[FixtureArticle]:
        """All editions of the article's story, the article itself included, in edition order."""
        order = list(self.prefixes)
        same = [a for a in self.articles if a.story == article.story]
        return sorted(same, key=lambda a: order.index(a.edition))

    def related(self, article: FixtureArticle) -> list[FixtureArticle]:
        others = [a for a in self.edition_articles(article.edition) if a.url != article.url]
        others.sort(key=lambda a: (a.category != article.category,
                                   abs((a.published - article.published).total_seconds()), a.url))
        return others[:RELATED]

    def most_read(self, edition: str) -> list[FixtureArticle]:
        # A stable pseudo-popularity order, so the widget differs from the newest-first lists.
        return sorted(self.edition_articles(edition), key=lambda a: _digest(a.url))[:MOST_READ]

    def listing_pages(self, edition: str, category: str) -> int:
        if self.options["page_path"] is None:
            return 1
        return max(1, -(-len(self.edition_articles(edition, category)) // self.options["per_page"]))

    # Routing

    def render(self, path: str) -> tuple[int, str, bytes]:
        """(status, content type, body) for a request path."""
        status, content_type, body, _ = self.respond(path)
        return status, content_type, body

    def respond(self, path: str) -> Response:
        """Like ``render``, with the response headers (``Location`` on redirects)."""
        path, _, query = path.partition("#")[0].partition("?")
        path = unquote(path) or "/"
        if path == "/robots.txt":
            robots = self._render("robots.txt", sitemaps=self.robots_sitemaps())
            return Response(200, TEXT, robots.encode("utf-8"), {})
        if self.cms == "wordpress":
            from sandbox.fixture_sites import wordpress  # it imports this module

            answer = wordpress.respond(self, path, parse_qs(query, keep_blank_values=True))
            if answer is not None:
                return answer
        if self.options["sitemap"] and path == "/" + self.options["sitemap"]:
            from sandbox.fixture_sites import sitemaps

            return sitemaps.response(sitemaps.urlset(
                (a.url, self.iso(a.modified)) for a in sorted(self.articles, key=lambda a: (a.published, a.url))))
        route = self._routes.get(path)
        if route is None and not path.endswith("/") and path + "/" in self._routes:
            return self._redirect(path + "/", query)
        if route is None:
            return self._not_found(path)
        kind, args = route
        if kind == "article":
            return self._article_page(self._by_url[args])
        if kind == "feed":
            return self._feed(*args)
        if kind == "redirect":  # WordPress sends /page/1/ to the archive's first page
            return self._redirect(args, query)
        return self._category_page(*args)

    def robots_sitemaps(self) -> list[str]:
        """The Sitemap: lines of robots.txt."""
        if self.cms == "wordpress":
            from sandbox.fixture_sites import wordpress

            return wordpress.robots_sitemaps(self)
        return [self.home + self.options["sitemap"]] if self.options["sitemap"] else []

    def _build_routes(self) -> dict[str, tuple[str, Any]]:
        routes: dict[str, tuple[str, Any]] = {urlsplit(a.url).path: ("article", a.url) for a in self.articles}
        for edition in self.prefixes:
            if feed := self.feed_url(edition):
                routes[urlsplit(feed).path] = ("feed", (edition, None))
            for category in self.furniture["editions"][edition]["categories"]:
                if feed := self.feed_url(edition, category):
                    routes[urlsplit(feed).path] = ("feed", (edition, category))
                pages = self.listing_pages(edition, category)
                for page in range(1, pages + 1):
                    routes[urlsplit(self.category_url(edition, category, page)).path] = (
                        "category", (edition, category, page))
                if self.options["page_path"] is not None:
                    first = urlsplit(self.category_url(edition, category)).path
                    routes[first + self.options["page_path"].format(page=1)] = ("redirect", first)
        return routes

    def _edition_of(self, path: str) -> tuple[str, str]:
        """(edition, rest of the path after its prefix) by the longest matching prefix."""
        matching = [(len(prefix), lang) for lang, prefix in self.prefixes.items() if path.startswith(prefix)]
        if not matching:
            return next(iter(self.prefixes)), path.lstrip("/")
        length, edition = max(matching)
        return edition, path[length:]

    # Pages

    def _render(self, template: str, **context: Any) -> str:
        return self._env.get_template(template).render(site=self, home=self.home, **context)

    def _page_context(self, edition: str) -> dict[str, Any]:
        return {
            "edition": edition,
            "ed": self.furniture["editions"][edition],
            "logo": self.upload_url(self.furniture.get("logo", "logo.png")),
            "edition_home": self.url(edition),
            "feed_url": self.feed_url(edition),
            "language_links": {lang: self.url(lang) for lang in self.prefixes},
            "most_read": self.most_read(edition),
            "year": self.today.year if self.today else None,
        }

    def _html(self, status: int, template: str, edition: str, **context: Any) -> Response:
        html = self._render(template, **self._page_context(edition), **context)
        return Response(status, HTML, html.encode("utf-8"), {})

    def _redirect(self, path: str, query: str) -> Response:
        location = self.home.rstrip("/") + quote(path) + (f"?{query}" if query else "")
        body = f'<!DOCTYPE html><html><body><a href="{location}">{location}</a></body></html>'
        return Response(301, HTML, body.encode("utf-8"), {"Location": location})

    def _not_found(self, path: str) -> Response:
        edition, _ = self._edition_of(path if path.endswith("/") else path + "/")
        return self._html(404, "404.html", edition)

    def _article_page(self, article: FixtureArticle) -> Response:
        translations = self.translations(article)
        context = self._page_context(article.edition)
        # The language switcher points at this story's translations where they exist.
        context["language_links"].update({t.edition: t.url for t in translations})
        html = self._render(
            "article.html", **context,
            article=article,
            category_name=self.category_name(article.edition, article.category),
            translations=translations,
            related=self.related(article),
            jsonld=self._jsonld(article),
            video_of_the_day=self.video_of_the_day(article),
        )
        return Response(200, HTML, html.encode("utf-8"), {})

    def _jsonld(self, article: FixtureArticle) -> dict[str, Any]:
        ed = self.furniture["editions"][article.edition]
        data: dict[str, Any] = {
            "@context": "https://schema.org",
            "@type": "NewsArticle",
            "@id": f"{article.url}#article",
            "mainEntityOfPage": {"@type": "WebPage", "@id": article.url},
            "headline": article.title,
            "description": article.excerpt,
            "datePublished": self.iso(article.published),
            "dateModified": self.iso(article.modified),
            "author": {"@type": "Person", "name": article.author, "url": self.author_url(article)},
            "articleSection": ed["categories"][article.category],
            "keywords": list(article.tags),
            "inLanguage": ed["html_lang"],
            "publisher": {
                "@type": "Organization",
                "name": ed["site_name"],
                "logo": {"@type": "ImageObject", "url": self.upload_url(self.furniture.get("logo", "logo.png"))},
            },
        }
        if article.image_url:
            data["image"] = [article.image_url]
        return data

    def _category_page(self, edition: str, category: str, page: int) -> Response:
        posts = self.edition_articles(edition, category)
        pages = self.listing_pages(edition, category)
        size = self.options["per_page"] if self.options["page_path"] is not None else len(posts)
        return self._html(
            200, "category.html", edition,
            category=category,
            category_name=self.category_name(edition, category),
            posts=posts[(page - 1) * size: page * size],
            page=page,
            pages=pages,
            page_url=self.category_url(edition, category, page),
            prev_url=self.category_url(edition, category, page - 1) if page > 1 else None,
            next_url=self.category_url(edition, category, page + 1) if page < pages else None,
            category_feed=self.feed_url(edition, category),
        )

    def _feed(self, edition: str, category: str | None) -> Response:
        ed = self.furniture["editions"][edition]
        posts = self.edition_articles(edition, category)[:self.options["feed_size"]]
        if category:
            title = f"{ed['categories'][category]} - {ed['site_name']}"
            link = self.category_url(edition, category)
        else:
            title, link = ed["site_name"], self.url(edition)
        xml = self._render(
            "feed.xml", edition=edition, ed=ed, posts=posts, channel_title=title,
            channel_link=link, self_url=self.feed_url(edition, category),
            last_build=self.rfc822(max(a.modified for a in posts)) if posts else None,
        )
        return Response(200, RSS, xml.encode("utf-8"), {})
