"""What a WordPress fixture site (site.json ``"cms": "wordpress"``) serves besides its theme's pages:
core sitemaps (``/wp-sitemap.xml``), a Google News sitemap and the REST API's posts endpoint.

site.json may switch them off: ``"wordpress": {"rest_api": false, "sitemaps": false}`` (a site that
disabled the API answers 404 there, one without sitemaps lists none in robots.txt).
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from markupsafe import escape

from sandbox.fixture_sites import sitemaps
from sandbox.fixture_sites.site import FixtureArticle, FixtureSite, Response, _digest

SITEMAP_MAX_URLS = 2000  # URLs per core posts sitemap (wp_sitemaps_get_max_urls); tests may lower it
NEWS_SITEMAP_DAYS = 2  # a news sitemap lists the last two days of posts
API_DEFAULT_PER_PAGE = 10
API_MAX_PER_PAGE = 100
JSON = "application/json; charset=UTF-8"

POSTS_SITEMAP_RE = re.compile(r"/wp-sitemap-posts-post-([1-9][0-9]*)\.xml")
ORDERBY = ("date", "modified", "id", "title", "slug")
# WordPress's rest_parse_date accepts RFC 3339 date-times, the offset optional.
RFC3339_RE = re.compile(r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}(:?\d{2})?)?")


def _enabled(site: FixtureSite, feature: str) -> bool:
    return bool(site.furniture.get("wordpress", {}).get(feature, True))


def robots_sitemaps(site: FixtureSite) -> list[str]:
    if not _enabled(site, "sitemaps"):
        return []
    return [site.home + "wp-sitemap.xml", site.home + "news-sitemap.xml"]


def respond(site: FixtureSite, path: str, params: dict[str, list[str]]) -> Response | None:
    """The answer for a WordPress endpoint, or None when ``path`` is a theme page."""
    if _enabled(site, "sitemaps"):
        if path == "/wp-sitemap.xml":
            return sitemaps.response(sitemap_index(site))
        if match := POSTS_SITEMAP_RE.fullmatch(path):
            chunks = _sitemap_chunks(site)
            number = int(match.group(1))
            if number <= len(chunks):
                entries = [(a.url, site.iso(a.modified)) for a in chunks[number - 1]]
                return sitemaps.response(sitemaps.urlset(entries, site.home + "wp-sitemap.xsl"))
        if path == "/news-sitemap.xml":
            return sitemaps.response(news_sitemap(site))
    if _enabled(site, "rest_api"):
        edition, rest = site._edition_of(path)
        if rest == "wp-json" or rest.startswith("wp-json/"):
            route = rest.removeprefix("wp-json").strip("/")
            if route == "wp/v2/posts":
                return _posts(site, edition, params)
            if match := re.fullmatch(r"wp/v2/posts/([0-9]+)", route):
                return _post(site, edition, int(match.group(1)), params)
            return _error(404, "rest_no_route", "No route was found matching the URL and request method.")
    return None


# --- sitemaps ------------------------------------------------------------------------------------


def _sitemap_chunks(site: FixtureSite) -> list[list[FixtureArticle]]:
    # Core lists posts oldest first, SITEMAP_MAX_URLS to a file.
    posts = sorted(site.articles, key=lambda a: (a.published, a.url))
    return [posts[i:i + SITEMAP_MAX_URLS] for i in range(0, len(posts), SITEMAP_MAX_URLS)] or [[]]


def sitemap_index(site: FixtureSite) -> str:
    entries = []
    for number, chunk in enumerate(_sitemap_chunks(site), start=1):
        lastmod = site.iso(max(a.modified for a in chunk)) if chunk else ""
        entries.append((f"{site.home}wp-sitemap-posts-post-{number}.xml", lastmod))
    return sitemaps.index(entries, site.home + "wp-sitemap-index.xsl")


def news_sitemap(site: FixtureSite) -> str:
    if not site.articles:
        return sitemaps.news([])
    since = max(a.published for a in site.articles) - timedelta(days=NEWS_SITEMAP_DAYS)
    recent = [a for a in site.articles if a.published >= since]  # newest first
    return sitemaps.news(
        (a.url, site.furniture["editions"][a.edition]["site_name"], a.edition, site.iso(a.published), a.title)
        for a in recent
    )


# --- REST API ------------------------------------------------------------------------------------


def _json(status: int, data: Any, headers: dict[str, str] | None = None) -> Response:
    # PHP's json_encode escapes non-ASCII characters as \uXXXX.
    body = json.dumps(data, ensure_ascii=True, separators=(",", ":")).encode("ascii")
    return Response(status, JSON, body, {"X-Robots-Tag": "noindex", "Allow": "GET", **(headers or {})})


def _error(status: int, code: str, message: str, **data: Any) -> Response:
    return _json(status, {"code": code, "message": message, "data": {"status": status, **data}})


def _invalid(problems: dict[str, str]) -> Response:
    return _error(400, "rest_invalid_param", f"Invalid parameter(s): {', '.join(problems)}", params=problems,
                  details={name: {"code": "rest_invalid_param", "message": text, "data": None}
                           for name, text in problems.items()})


def _naive(moment: datetime) -> str:
    return moment.replace(tzinfo=None).isoformat(timespec="seconds")


def _term_id(kind: str, name: str) -> int:
    return 2000 + int.from_bytes(_digest(f"{kind}/{name}")[:4], "big") % 90000


def author_id(article: FixtureArticle) -> int:
    return 2 + int.from_bytes(_digest(f"author/{article.author}")[:2], "big") % 500


def tag_ids(article: FixtureArticle) -> list[int]:
    return [_term_id("tag", tag) for tag in article.tags]


def post_object(site: FixtureSite, article: FixtureArticle) -> dict[str, Any]:
    """A post as /wp/v2/posts returns it (context "view")."""
    pid = site.post_id(article)
    collection = site.url(article.edition, "wp-json/wp/v2/posts")
    return {
        "id": pid,
        "date": _naive(site.local(article.published)),
        "date_gmt": _naive(article.published.astimezone(UTC)),
        "guid": {"rendered": f"{site.home}?p={pid}"},
        "modified": _naive(site.local(article.modified)),
        "modified_gmt": _naive(article.modified.astimezone(UTC)),
        "slug": article.slug,
        "status": "publish",
        "type": "post",
        "link": article.url,
        "title": {"rendered": str(escape(article.title))},
        "content": {"rendered": site.content_html(article), "protected": False},
        "excerpt": {"rendered": f"<p>{escape(article.excerpt)} [&hellip;]</p>\n", "protected": False},
        "author": author_id(article),
        "featured_media": pid + 1 if article.image_url else 0,
        "comment_status": "open",
        "ping_status": "closed",
        "sticky": False,
        "template": "",
        "format": "standard",
        "meta": [],
        "categories": [site.category_id(article.category)],
        "tags": tag_ids(article),
        "lang": article.edition,
        "_links": {
            "self": [{"href": f"{collection}/{pid}"}],
            "collection": [{"href": collection}],
        },
    }


def _only(post: dict[str, Any], fields: str | None) -> dict[str, Any]:
    """``_fields=id,title.rendered``: just those fields."""
    if not fields:
        return post
    kept: dict[str, Any] = {}
    for field in (f.strip() for f in fields.split(",") if f.strip()):
        top, _, inner = field.partition(".")
        if top not in post:
            continue
        if inner and isinstance(post[top], dict):
            if inner in post[top]:
                kept.setdefault(top, {})[inner] = post[top][inner]
        else:
            kept[top] = post[top]
    return kept


def _parse_date(site: FixtureSite, value: str) -> datetime | None:
    # An unencoded "+01:00" arrives as " 01:00": read it as the offset it was meant to be.
    value = re.sub(r" (\d{2}(:?\d{2})?)$", r"+\1", value.strip())
    if not RFC3339_RE.fullmatch(value):
        return None
    try:
        moment = datetime.fromisoformat(value.replace("z", "Z"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=site.tz)  # naive: the site's time zone


def _int_list(value: str) -> list[int] | None:
    items = [item.strip() for item in value.split(",") if item.strip()]
    return [int(item) for item in items] if all(item.isdigit() for item in items) else None


def _posts(site: FixtureSite, edition: str, params: dict[str, list[str]]) -> Response:
    def arg(name: str) -> str | None:
        values = params.get(name)
        return values[-1] if values else None

    problems: dict[str, str] = {}
    numbers = {}
    for name, default, low, high in (("page", 1, 1, None), ("per_page", API_DEFAULT_PER_PAGE, 1, API_MAX_PER_PAGE)):
        raw = arg(name)
        value = int(raw) if raw is not None and re.fullmatch(r"-?[0-9]+", raw.strip()) else None
        if raw is None:
            value = default
        if value is None:
            problems[name] = f"{name} is not of type integer."
        elif value < low or (high is not None and value > high):
            problems[name] = (f"{name} must be between {low} (inclusive) and {high} (inclusive)" if high
                              else f"{name} must be greater than or equal to {low}")
        numbers[name] = value
    bounds = {}
    for name in ("after", "before", "modified_after", "modified_before"):
        if (raw := arg(name)) is not None:
            bounds[name] = _parse_date(site, raw)
            if bounds[name] is None:
                problems[name] = "Invalid date."
    orderby, order = arg("orderby") or "date", arg("order") or "desc"
    if orderby not in ORDERBY:
        problems["orderby"] = f"orderby is not one of {', '.join(ORDERBY)}."
    if order not in ("asc", "desc"):
        problems["order"] = "order is not one of asc, desc."
    terms = {}
    for name in ("categories", "tags"):
        if (raw := arg(name)) is not None:
            terms[name] = _int_list(raw)
            if terms[name] is None:
                problems[name] = f"{name}[0] is not of type integer."
    if problems:
        return _invalid(problems)

    posts = site.edition_articles(edition)
    tests = {
        "after": lambda a, t: a.published > t,  # WP_Date_Query bounds are exclusive
        "before": lambda a, t: a.published < t,
        "modified_after": lambda a, t: a.modified > t,
        "modified_before": lambda a, t: a.modified < t,
    }
    for name, bound in bounds.items():
        posts = [a for a in posts if tests[name](a, bound)]
    if terms.get("categories"):
        posts = [a for a in posts if site.category_id(a.category) in terms["categories"]]
    if terms.get("tags"):
        posts = [a for a in posts if set(tag_ids(a)) & set(terms["tags"])]
    if slugs := arg("slug"):
        posts = [a for a in posts if a.slug in slugs.split(",")]
    if search := (arg("search") or "").strip().casefold():
        posts = [a for a in posts if search in " ".join([a.title, a.excerpt, *a.body_paragraphs]).casefold()]
    keys = {
        "date": lambda a: a.published, "modified": lambda a: a.modified, "id": site.post_id,
        "title": lambda a: a.title.casefold(), "slug": lambda a: a.slug,
    }
    posts.sort(key=lambda a: (keys[orderby](a), a.url), reverse=order == "desc")

    page, per_page = numbers["page"], numbers["per_page"]
    total = len(posts)
    pages = -(-total // per_page)
    if page > pages and total > 0:
        return _error(400, "rest_post_invalid_page_number",
                      "The page number requested is larger than the number of pages available.")
    headers = {"X-WP-Total": str(total), "X-WP-TotalPages": str(pages),
               "Access-Control-Expose-Headers": "X-WP-Total, X-WP-TotalPages, Link"}
    links = []
    base = site.url(edition, "wp-json/wp/v2/posts")
    kept = [(name, values[-1]) for name, values in sorted(params.items()) if name != "page"]
    if page > 1:
        links.append(f'<{base}?{urlencode(kept + [("page", page - 1)])}>; rel="prev"')
    if page < pages:
        links.append(f'<{base}?{urlencode(kept + [("page", page + 1)])}>; rel="next"')
    if links:
        headers["Link"] = ", ".join(links)
    chosen = posts[(page - 1) * per_page: page * per_page]
    return _json(200, [_only(post_object(site, a), arg("_fields")) for a in chosen], headers)


def _post(site: FixtureSite, edition: str, number: int, params: dict[str, list[str]]) -> Response:
    article = next((a for a in site.edition_articles(edition) if site.post_id(a) == number), None)
    if article is None:
        return _error(404, "rest_post_invalid_id", "Invalid post ID.")
    fields = params.get("_fields", [None])[-1]
    return _json(200, _only(post_object(site, article), fields))
