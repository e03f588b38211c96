"""Extraction-quality metrics, as defined in ../shared/testdata/README.md.

Pure functions with no project imports, so the benchmark (bench/eval_extraction.py) and the quality
floor test (tests/test_extraction_quality.py) score with the very same code.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from datetime import UTC, date, datetime
from statistics import mean

SHINGLE_SIZE = 4
_TOKEN = re.compile(r"\w+")
_SPACE = re.compile(r"\s+")


def normalize_space(text: str | None) -> str:
    return _SPACE.sub(" ", text or "").strip()


def f1(precision: float, recall: float) -> float:
    return 2 * precision * recall / (precision + recall) if precision + recall else 0.0


# --- Body, ScrapingHub metric --------------------------------------------------------------------

def shingles(text: str | None, size: int = SHINGLE_SIZE) -> Counter:
    """Lowercased ``\\w+`` tokens as overlapping ``size``-token shingles, counted as a multiset.

    A text shorter than ``size`` tokens is one shorter shingle, as in the ScrapingHub reference code,
    so a two-word output still counts as an output (and is scored, badly) rather than as no output.
    """
    tokens = _TOKEN.findall((text or "").lower())
    if not tokens:
        return Counter()
    return Counter(tuple(tokens[i:i + size]) for i in range(max(1, len(tokens) - size + 1)))


def body_precision_recall(predicted: str | None, gold: str | None) -> tuple[float | None, float | None]:
    """Per-page (precision, recall); a value is None where it is undefined (empty output or gold)."""
    pred, true = shingles(predicted), shingles(gold)
    overlap = sum((pred & true).values())
    precision = overlap / sum(pred.values()) if pred else None
    recall = overlap / sum(true.values()) if true else None
    return precision, recall


def page_f1(predicted: str | None, gold: str | None) -> float:
    """One page's F1, for ranking pages only (an empty output scores 0)."""
    precision, recall = body_precision_recall(predicted, gold)
    return f1(precision or 0.0, recall or 0.0)


def body_scores(pairs: Iterable[tuple[str | None, str | None]]) -> dict:
    """ScrapingHub scores over (predicted, gold) pairs: P and R averaged over the pages where each is
    defined, F1 of those two averages."""
    precisions, recalls, pages = [], [], 0
    for predicted, gold in pairs:
        pages += 1
        precision, recall = body_precision_recall(predicted, gold)
        if precision is not None:
            precisions.append(precision)
        if recall is not None:
            recalls.append(recall)
    p = mean(precisions) if precisions else 0.0
    r = mean(recalls) if recalls else 0.0
    return {"f1": f1(p, r), "precision": p, "recall": r, "pages": pages}


# --- trafilatura-eval snippets -------------------------------------------------------------------

def snippet_counts(output: str | None, must_have: list[str], must_not_have: list[str]) -> tuple[int, int, int]:
    """(true positives, false negatives, false positives) for one page.

    Matching is a case-sensitive substring test after collapsing whitespace runs to one space in both
    the output and the snippet: what trafilatura's own evaluation does (tests/eval_common.py), so a
    line break between two paragraphs does not cost a snippet that spans them.
    """
    text = normalize_space(output)
    found = sum(normalize_space(snippet) in text for snippet in must_have)
    leaked = sum(normalize_space(snippet) in text for snippet in must_not_have)
    return found, len(must_have) - found, leaked


def snippet_scores(counts: Iterable[tuple[int, int, int]]) -> dict:
    """Micro-averaged precision, recall and F1 over all pages' snippet counts."""
    tp = fn = fp = pages = 0
    for found, missed, leaked in counts:
        tp, fn, fp, pages = tp + found, fn + missed, fp + leaked, pages + 1
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    return {"f1": f1(precision, recall), "precision": precision, "recall": recall,
            "tp": tp, "fn": fn, "fp": fp, "pages": pages}


# --- fundus metadata -----------------------------------------------------------------------------

def title_matches(predicted: str | None, gold: str | None) -> bool | None:
    """Exact (case-sensitive) match after whitespace normalisation; None without a gold title."""
    if not normalize_space(gold):
        return None
    return normalize_space(predicted) == normalize_space(gold)


def _name(name: str) -> str:
    return normalize_space(name).casefold()


def author_f1(predicted: list[str] | None, gold: list[str] | None) -> float | None:
    """F1 of the author sets (names compared whitespace-normalised and casefolded); None without gold."""
    true = {_name(n) for n in gold or [] if _name(n)}
    if not true:
        return None
    pred = {_name(n) for n in predicted or [] if _name(n)}
    return 2 * len(pred & true) / (len(pred) + len(true))


def parse_moment(value: str | None) -> datetime | date | None:
    """An ISO date or date-time; a bare date stays a ``date`` (it says nothing about the time)."""
    if not value or not value.strip():
        return None
    value = value.strip()
    try:
        if len(value) == 10:
            return date.fromisoformat(value)
        return datetime.fromisoformat(value)
    except ValueError:
        return None


def same_minute(predicted: str | None, gold: str | None) -> bool | None:
    """Publication time right to the minute, compared as instants; None when the gold has no offset.

    A prediction without a time of day, or without an offset, cannot be placed on the time line and
    counts as wrong.
    """
    true = parse_moment(gold)
    if not isinstance(true, datetime) or true.tzinfo is None:
        return None
    pred = parse_moment(predicted)
    if not isinstance(pred, datetime) or pred.tzinfo is None:
        return False
    return _minute(pred) == _minute(true)


def _minute(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(second=0, microsecond=0)


def same_day(predicted: str | None, gold: str | None) -> bool | None:
    """Publication date right (a looser, extra figure): the calendar day where the gold was published.

    A prediction with an offset is first moved to the gold's offset; a bare date or a time without
    an offset is taken as it stands. None without a gold date.
    """
    true = parse_moment(gold)
    if true is None:
        return None
    true_day = true.date() if isinstance(true, datetime) else true
    pred = parse_moment(predicted)
    if pred is None:
        return False
    if isinstance(pred, datetime):
        if pred.tzinfo is not None and isinstance(true, datetime) and true.tzinfo is not None:
            pred = pred.astimezone(true.tzinfo)
        pred = pred.date()
    return pred == true_day


def share(values: Iterable[bool | float | None]) -> dict:
    """Mean of the defined values (True counts 1) and how many there were."""
    defined = [float(v) for v in values if v is not None]
    return {"value": mean(defined) if defined else 0.0, "pages": len(defined)}
