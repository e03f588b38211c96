"""XML sitemaps (sitemaps.org urlset and index, Google News) as the fixture sites serve them."""

from __future__ import annotations

from collections.abc import Iterable
from xml.sax.saxutils import escape

from sandbox.fixture_sites.site import Response

XML = "application/xml; charset=UTF-8"
SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"
NEWS_NS = "http://www.google.com/schemas/sitemap-news/0.9"


def _head(stylesheet: str | None) -> list[str]:
    lines = ['<?xml version="1.0" encoding="UTF-8"?>']
    if stylesheet:
        lines.append(f'<?xml-stylesheet type="text/xsl" href="{escape(stylesheet)}" ?>')
    return lines


def urlset(entries: Iterable[tuple[str, str]], stylesheet: str | None = None) -> str:
    """A ``<urlset>`` of (location, lastmod) pairs; lastmod is an ISO 8601 string."""
    lines = _head(stylesheet) + [f'<urlset xmlns="{SITEMAP_NS}">']
    for location, lastmod in entries:
        lines.append(f"<url><loc>{escape(location)}</loc><lastmod>{escape(lastmod)}</lastmod></url>")
    lines.append("</urlset>")
    return "\n".join(lines) + "\n"


def index(entries: Iterable[tuple[str, str]], stylesheet: str | None = None) -> str:
    """A ``<sitemapindex>`` of (sitemap location, lastmod) pairs."""
    lines = _head(stylesheet) + [f'<sitemapindex xmlns="{SITEMAP_NS}">']
    for location, lastmod in entries:
        lines.append(f"<sitemap><loc>{escape(location)}</loc><lastmod>{escape(lastmod)}</lastmod></sitemap>")
    lines.append("</sitemapindex>")
    return "\n".join(lines) + "\n"


def news(entries: Iterable[tuple[str, str, str, str, str]]) -> str:
    """A Google News sitemap of (location, publication name, language, publication date, title)."""
    lines = _head(None) + [f'<urlset xmlns="{SITEMAP_NS}" xmlns:news="{NEWS_NS}">']
    for location, name, language, published, title in entries:
        lines += [
            "<url>",
            f"<loc>{escape(location)}</loc>",
            "<news:news>",
            f"<news:publication><news:name>{escape(name)}</news:name>"
            f"<news:language>{escape(language)}</news:language></news:publication>",
            f"<news:publication_date>{escape(published)}</news:publication_date>",
            f"<news:title>{escape(title)}</news:title>",
            "</news:news>",
            "</url>",
        ]
    lines.append("</urlset>")
    return "\n".join(lines) + "\n"


def response(xml: str) -> Response:
    return Response(200, XML, xml.encode("utf-8"), {})
