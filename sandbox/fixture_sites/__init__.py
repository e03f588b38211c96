"""Fixture web sites: offline look-alikes of the outlets' sites, served over HTTP on loopback.

Each outlet folder holds ``site.json`` (site furniture) and ``articles/<edition>/<slug>.json``;
``load_site`` reads them and ``serve`` answers requests for every outlet by its Host header.
"""

from sandbox.fixture_sites.server import FixtureServer, load_sites, serve
from sandbox.fixture_sites.site import Block, FixtureArticle, FixtureSite, Response, load_site

__all__ = [
    "Block",
    "FixtureArticle",
    "FixtureServer",
    "FixtureSite",
    "Response",
    "load_site",
    "load_sites",
    "serve",
]
