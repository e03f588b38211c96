"""The outlet registry: one declarative TOML file per outlet in ``kernel/outlets/``.

An outlet is a declaration (domains, editions, discovery sources, cleaning rules), not a class:
adding an outlet means adding a file. Entries are validated on load, and a wrong entry fails with
a message that names the file and the field.
"""

from __future__ import annotations

import logging
import re
import tomllib
from functools import cache
from pathlib import Path
from urllib.parse import urljoin, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cssselect import GenericTranslator, SelectorError
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from kernel.settings import extra_outlets_dir

OUTLETS_DIR = Path(__file__).with_name("outlets")
log = logging.getLogger(__name__)


class RegistryError(ValueError):
    """An outlet entry is missing, unreadable or invalid."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _compile_all(patterns: list[str]) -> list[str]:
    for pattern in patterns:
        try:
            re.compile(pattern)
        except re.error as exc:
            raise ValueError(f"not a valid regular expression {pattern!r}: {exc}") from exc
    return patterns


def _css_all(selectors: list[str]) -> list[str]:
    """Each selector, checked the way the crawl (listing cards) and extraction (drop selectors) will read it."""
    for selector in selectors:
        try:
            GenericTranslator().css_to_xpath(selector)
        except SelectorError as exc:
            raise ValueError(f"not a valid CSS selector {selector!r}: {exc}") from exc
    return selectors


class Edition(_Strict):
    language: str = Field(pattern=r"^([a-z]{2}|und)$", description="ISO 639-1 code ('und': unknown)")
    prefix: str = Field(pattern=r"^/([a-z]{2}/)?$", description="URL path prefix, '/' or '/xx/'")


class Discovery(_Strict):
    """Where a crawl finds articles. Feed, listing and API paths repeat under every edition prefix."""

    feeds: list[str] = []  # RSS/Atom, e.g. "feed/"
    listings: list[str] = []  # archive pages that page back with /page/N/ or rel=next
    listing_card: str = "article"  # CSS selector of one entry (link + date) on a listing page
    sitemaps: list[str] = []  # sitemap or sitemap-index paths relative to the home URL
    sitemaps_from_robots: bool = False  # also follow the Sitemap: lines of /robots.txt
    wp_api: bool = False  # WordPress REST API at <edition prefix>wp-json/wp/v2/posts
    article_url: str  # regex an article URL matches
    not_article_url: str = r"$^"  # regex that rules a URL out even if article_url matched

    @field_validator("feeds", "listings", "sitemaps")
    @classmethod
    def _relative(cls, paths: list[str]) -> list[str]:
        for path in paths:
            if path.startswith("/") or "://" in path:
                raise ValueError(f"{path!r} must be relative to the edition prefix (no leading '/')")
        return paths

    @field_validator("article_url", "not_article_url")
    @classmethod
    def _regex(cls, pattern: str) -> str:
        return _compile_all([pattern])[0]

    @field_validator("listing_card")
    @classmethod
    def _selector(cls, selector: str) -> str:
        return _css_all([selector])[0]


class Cleaning(_Strict):
    title_suffixes: list[str] = []
    drop_selectors: list[str] = []
    drop_paragraphs: list[str] = []
    cut_from: list[str] = []

    @field_validator("drop_paragraphs", "cut_from")
    @classmethod
    def _regexes(cls, patterns: list[str]) -> list[str]:
        return _compile_all(patterns)

    @field_validator("drop_selectors")
    @classmethod
    def _selectors(cls, selectors: list[str]) -> list[str]:
        return _css_all(selectors)


class Outlet(_Strict):
    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    name: str = Field(min_length=1)
    home: str
    domains: list[str] = Field(min_length=1)
    timezone: str
    cms: str = "unknown"
    # The Airflow (Celery) queue its crawl goes to: workers near the site, or with its own limits, serve it.
    queue: str = Field("default", pattern=r"^[A-Za-z0-9_.-]+$")
    editions: list[Edition] = Field(min_length=1)
    discovery: Discovery
    cleaning: Cleaning = Cleaning()

    @field_validator("home")
    @classmethod
    def _home(cls, home: str) -> str:
        parts = urlsplit(home)
        if parts.scheme not in ("http", "https") or not parts.netloc or not home.endswith("/"):
            raise ValueError(f"{home!r} must be an absolute http(s) URL ending in '/'")
        return home

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, name: str) -> str:
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown IANA time zone {name!r}") from exc
        return name

    @model_validator(mode="after")
    def _consistent(self) -> Outlet:
        if urlsplit(self.home).hostname not in self.domains:
            raise ValueError(f"home {self.home!r} is not on one of the domains {self.domains}")
        languages = [edition.language for edition in self.editions]
        if len(set(languages)) != len(languages):
            raise ValueError(f"editions repeat a language: {languages}")
        return self

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def languages(self) -> list[str]:
        return [edition.language for edition in self.editions]

    def edition_url(self, edition: Edition, relative_path: str = "") -> str:
        return urljoin(self.home, edition.prefix.lstrip("/") + relative_path)

    def edition_of(self, url: str) -> Edition:
        """The edition whose prefix is the longest match for ``url``'s path."""
        path = urlsplit(url).path or "/"
        matching = [e for e in self.editions if path.startswith(e.prefix)]
        return max(matching, key=lambda e: len(e.prefix)) if matching else self.editions[0]

    def is_article_url(self, url: str) -> bool:
        return bool(
            re.search(self.discovery.article_url, url)
            and not re.search(self.discovery.not_article_url, url)
        )

    def owns(self, url: str) -> bool:
        return (urlsplit(url).hostname or "") in self.domains


def _describe(exc: ValidationError) -> str:
    problems = []
    for error in exc.errors():
        field = ".".join(str(part) for part in error["loc"]) or "(entry)"
        problems.append(f"field '{field}': {error['msg']}")
    return "; ".join(problems)


def load_outlet_file(path: Path) -> Outlet:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise RegistryError(f"outlet file {path}: cannot be read: {exc}") from exc
    try:
        outlet = Outlet.model_validate(data)
    except ValidationError as exc:
        raise RegistryError(f"outlet file {path}: {_describe(exc)}") from None
    if outlet.id != path.stem:
        raise RegistryError(f"outlet file {path}: field 'id' is {outlet.id!r}, expected the file name {path.stem!r}")
    return outlet


@cache
def _load_directories(directories: tuple[Path, ...]) -> dict[str, Outlet]:
    """The outlets declared in ``directories``; a later directory's declaration of an id replaces an
    earlier one's (a file's name is its id, so one directory declares an id once)."""
    registry: dict[str, Outlet] = {}
    for directory in directories:
        if not directory.is_dir():
            raise RegistryError(f"outlet folder {directory} does not exist (NEWSETL_OUTLETS_DIR)")
        for path in sorted(directory.glob("*.toml")):
            outlet = load_outlet_file(path)
            if outlet.id in registry:
                log.info("outlet %s: %s replaces the bundled declaration", outlet.id, path)
            registry[outlet.id] = outlet
    return registry


def load_registry() -> dict[str, Outlet]:
    """Every outlet: the bundled ones and those in $NEWSETL_OUTLETS_DIR, if set, whose declaration of
    a bundled outlet's id replaces the bundled one."""
    extra = extra_outlets_dir()
    return _load_directories((OUTLETS_DIR, *([extra] if extra else [])))


def get_outlet(outlet_id: str) -> Outlet:
    registry = load_registry()
    if outlet_id not in registry:
        known = ", ".join(sorted(registry)) or "none"
        raise RegistryError(f"unknown outlet {outlet_id!r} (known outlets: {known})")
    return registry[outlet_id]


def outlet_for_url(url: str) -> Outlet:
    """The registered outlet that owns ``url``, or a rule-less stand-in for any other site."""
    for outlet in load_registry().values():
        if outlet.owns(url):
            return outlet
    parts = urlsplit(url)
    host = parts.hostname or "unknown.invalid"
    scheme = parts.scheme if parts.scheme in ("http", "https") else "https"  # labels like "hard::page.html"
    return Outlet(
        id="generic", name=host, home=f"{scheme}://{host}/", domains=[host],
        timezone="UTC", editions=[Edition(language="und", prefix="/")],
        discovery=Discovery(article_url=".*"),
    )
