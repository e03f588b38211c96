"""Definitions more than one stage applies: how words are counted, how short an article may be,
how large a page may be, what time it is, which zone a time without an offset speaks in."""

from __future__ import annotations

import re
from datetime import UTC, datetime, tzinfo

MIN_WORDS = 30  # shorter bodies are teasers, galleries, captions or error pages, not articles
MAX_RESPONSE_BYTES = 10 * 1024 * 1024  # the crawl stops reading a response past this
# Drops remembered per page: not fetched again unless a source shows the page modified, or a run's
# window holds its date. Only a page's own publication date qualifies: a page dropped as too short
# or undecodable may be a passing fault of the site (docs/reliability.md), and must heal.
SETTLED_DROPS = frozenset({"out-of-window"})
MAX_HTML_BYTES = 5 * 1024 * 1024  # a page larger than this is not an article worth parsing

# Chinese and Japanese write words without spaces: each ideograph or kana counts as a word (as word
# processors count them), not the whole run between two punctuation marks.
_EAST_ASIAN = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_WORD = re.compile(rf"[{_EAST_ASIAN}]|[^\W{_EAST_ASIAN}]+", re.UNICODE)


def count_words(text: str) -> int:
    """The word count of ``articles.word_count`` and of every rule stated in words."""
    return len(_WORD.findall(text))


def utc_now() -> datetime:
    """The current time, time-zone aware (UTC): every timestamp the project writes."""
    return datetime.now(UTC)


def in_zone(moment: datetime, zone: tzinfo = UTC) -> datetime:
    """``moment`` unchanged if it carries an offset; else read as a wall-clock time in ``zone``."""
    return moment if moment.tzinfo else moment.replace(tzinfo=zone)
