"""Clean: strip what is not the article from the extracted paragraphs and the title.

Outlet rules come from the registry (``cleaning``); the title rules (site-name suffix, format
markers such as ``VIDEO |``) are general and apply to every outlet.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache

from newsetl.registry import Cleaning

# Leading format markers: "VIDEO | …", "ФОТО: …" → a flag, not part of the title text analysts search.
TITLE_FLAGS = {
    "video": ["video", "видео", "videó"],
    "photo": ["photo", "foto", "фото", "photos", "фотогалерија", "galeri"],
    "audio": ["audio", "аудио", "podcast", "подкаст"],
    "live": ["live", "во живо", "uživo", "drejtpërdrejt", "наживо"],
}
_FLAG_BY_WORD = {word: flag for flag, words in TITLE_FLAGS.items() for word in words}
_LEADING_MARKER = re.compile(r"^\s*([^\W\d_]+(?: [^\W\d_]+)?)\s*[|:/]\s+", re.UNICODE)
_SUFFIX_SEPARATORS = r"\s*[-–—|:»·]\s*"


@lru_cache(maxsize=512)
def _compiled(pattern: str) -> re.Pattern:
    return re.compile(pattern, re.IGNORECASE | re.UNICODE)


@dataclass(frozen=True)
class CleanBody:
    paragraphs: list[str]
    removed: dict[str, int]  # rule kind → paragraphs removed


def clean_paragraphs(paragraphs: list[str], rules: Cleaning) -> CleanBody:
    removed: Counter[str] = Counter()
    kept = list(paragraphs)
    # An appeal trailer: the first paragraph that opens it, and everything after it, goes.
    for index, paragraph in enumerate(kept):
        if any(_compiled(p).search(paragraph) for p in rules.cut_from):
            removed["trailer"] += len(kept) - index
            kept = kept[:index]
            break
    result = []
    for paragraph in kept:
        if any(_compiled(p).search(paragraph) for p in rules.drop_paragraphs):
            removed["paragraph-rule"] += 1
        else:
            result.append(paragraph)
    return CleanBody(result, dict(removed))


def split_title_flags(title: str) -> tuple[str, list[str]]:
    """``"VIDEO | Andonovic: …"`` → ``("Andonovic: …", ["video"])``; repeats for stacked markers."""
    flags: list[str] = []
    while match := _LEADING_MARKER.match(title):
        flag = _FLAG_BY_WORD.get(match.group(1).casefold())
        if flag is None:
            break
        flags.append(flag)
        title = title[match.end():]
    return title.strip(), flags


def strip_site_suffix(title: str, site_names: list[str]) -> str:
    """Remove a trailing (or leading) ``- Site Name`` the page title carries."""
    for name in sorted(site_names, key=len, reverse=True):
        escaped = re.escape(name)
        stripped = re.sub(rf"{_SUFFIX_SEPARATORS}{escaped}\s*$", "", title, flags=re.IGNORECASE)
        stripped = re.sub(rf"^\s*{escaped}{_SUFFIX_SEPARATORS}", "", stripped, flags=re.IGNORECASE)
        if stripped != title and stripped.strip():
            return stripped.strip()
    return title.strip()


def clean_title(title: str, site_names: list[str]) -> tuple[str, list[str]]:
    return split_title_flags(strip_site_suffix(title, site_names))
