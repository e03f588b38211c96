"""Quality gates of a run, judged from the warehouse alone against the outlet's recent baseline.

The gates (each a row in ``quality_checks``):

- **volume** — no article published in the run's window although the outlet publishes on most
  days of the baseline → fail (a broken discovery, a site that moved);
- **completeness_title / _published / _author** — the share of the run's articles with that field
  dropped against the baseline → warn (how a site redesign shows up);
- **body_length** — the run's median word count fell well below the baseline's → warn;
- **boilerplate** — a learned boilerplate paragraph (confirmed, or auto and seen in enough articles)
  still inside a loaded body, e.g. glued to a paragraph by a new template → fail;
- **language_mix** — the run's languages differ from the baseline's → warn;
- **sources** — a discovery source (``source_health``) that used to list URLs listed none, or failed
  SOURCE_FAILING_RUNS runs running → warn; no source of the outlet could be read in the run → fail;
- **blocked** — more than BLOCKED_SHARE of the run's article requests met a wall (``blocked``:
  401, 403, a bot challenge) → fail.

The run's articles are those it loaded (``last_run_id``); the baseline is the outlet's other
articles from the BASELINE_DAYS before the window (before the run, for an open window). Too few
articles on either side means nothing to compare: the check passes and says so.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from statistics import median

from sqlalchemy import Engine, func, select

from kernel.rules import in_zone, utc_now
from models.tables import ArticleRow, BoilerplateSegmentRow, CrawlRunRow, FetchLogRow, QualityCheckRow, SourceHealthRow
from models.warehouse import segment_is_active
from transforms.normalize import normalize_segment

BASELINE_DAYS = 28
MIN_HISTORY_PERIODS = 7  # windows of history before an empty window can count as unusual
USUAL_SHARE = 0.75  # publishing in this share of the baseline's windows makes an empty window a failure
MIN_RUN_ARTICLES = 5  # fewer articles in a run say nothing about its fields or languages
MIN_BASELINE_ARTICLES = 20
FIELD_DROP = 0.2  # a field's share falling by more than this (absolute) warns
BODY_LENGTH_RATIO = 0.5  # a median word count below this share of the baseline's warns
LANGUAGE_SHIFT = 0.3  # total variation distance between the language shares that warns
MIN_SEGMENT_CHARS = 40  # shorter boilerplate ("Share") may occur in real sentences
SOURCE_FAILING_RUNS = 3  # a source failing this many runs in a row warns
BLOCKED_SHARE = 0.5  # a run most of whose article requests were blocked fails
MIN_ARTICLE_REQUESTS = 5  # fewer say nothing about blocking
log = logging.getLogger(__name__)


class QualityGateFailed(RuntimeError):
    """A run failed a quality gate; the message gives every failed gate's numbers."""


@dataclass(frozen=True)
class Check:
    name: str
    status: str  # pass, warn or fail
    measured: float | None
    baseline: float | None
    message: str


@dataclass(frozen=True)
class RunArticles:
    """What the gates read of one run, and of its outlet's baseline."""

    outlet: str
    since: datetime | None
    until: datetime | None
    window_count: int | None  # articles published in the window; None for an open window
    history: list[int]  # articles per window-long period before the window, oldest first
    run: list  # rows of the run's articles
    baseline: list  # rows of the baseline's articles


_FIELDS = (ArticleRow.canonical_url, ArticleRow.title, ArticleRow.published_at, ArticleRow.authors,
           ArticleRow.word_count, ArticleRow.language)


def read_run(engine: Engine, run_id: str) -> RunArticles:
    articles = ArticleRow.__table__
    with engine.connect() as connection:
        run = connection.execute(select(CrawlRunRow.outlet_id, CrawlRunRow.since, CrawlRunRow.until,
                                        CrawlRunRow.started_at).where(CrawlRunRow.run_id == run_id)).one_or_none()
        if run is None:
            raise LookupError(f"no run {run_id!r} in the warehouse")
        outlet = articles.c.outlet_id == run.outlet_id
        reference = run.since or run.started_at
        seen = func.coalesce(articles.c.published_at, articles.c.first_seen_at)
        run_rows = connection.execute(select(*_FIELDS, ArticleRow.body).where(
            outlet, articles.c.last_run_id == run_id).order_by(articles.c.canonical_url)).all()
        baseline = connection.execute(select(*_FIELDS).where(
            outlet, articles.c.last_run_id != run_id,
            seen >= reference - timedelta(days=BASELINE_DAYS), seen < reference)).all()
        window_count, history = None, []
        if run.since and run.until:
            window_count = connection.execute(select(func.count()).where(
                outlet, articles.c.published_at >= run.since, articles.c.published_at < run.until)).scalar_one()
            length = run.until - run.since
            periods = max(1, int(timedelta(days=BASELINE_DAYS) / length))
            start = run.since - periods * length
            earliest = connection.execute(select(func.min(articles.c.published_at)).where(outlet)).scalar_one()
            published = connection.execute(select(articles.c.published_at).where(
                outlet, articles.c.published_at >= start, articles.c.published_at < run.since)).scalars()
            counts = Counter(int((moment - start) / length) for moment in published)
            first = 0 if earliest is None else max(0, int((in_zone(earliest) - start) / length))
            history = [counts[index] for index in range(first, periods)] if earliest else []
    return RunArticles(run.outlet_id, run.since, run.until, window_count, history, run_rows, baseline)


def volume_check(data: RunArticles) -> Check:
    if data.window_count is None:
        return Check("volume", "pass", None, None, "open window: no expected volume")
    if len(data.history) < MIN_HISTORY_PERIODS:
        return Check("volume", "pass", data.window_count, None,
                     f"{data.window_count} articles; {len(data.history)} days of history, "
                     f"fewer than {MIN_HISTORY_PERIODS} to judge by")
    active = sum(1 for count in data.history if count)
    share, mean = active / len(data.history), sum(data.history) / len(data.history)
    window = f"{data.since:%Y-%m-%d %H:%M}–{data.until:%Y-%m-%d %H:%M} UTC"
    usual = f"the outlet published in {active} of the previous {len(data.history)} windows ({mean:.1f} articles each)"
    if data.window_count == 0 and share >= USUAL_SHARE:
        return Check("volume", "fail", 0, round(mean, 2), f"no articles published {window}, but {usual}")
    return Check("volume", "pass", data.window_count, round(mean, 2),
                 f"{data.window_count} articles published {window}; {usual}")


def _too_few(data: RunArticles) -> str | None:
    if len(data.run) < MIN_RUN_ARTICLES or len(data.baseline) < MIN_BASELINE_ARTICLES:
        return (f"{len(data.run)} articles in the run, {len(data.baseline)} in the baseline: at least "
                f"{MIN_RUN_ARTICLES} and {MIN_BASELINE_ARTICLES} are needed to compare")
    return None


_PRESENT = {
    "completeness_title": ("title", lambda row: bool((row.title or "").strip())),
    "completeness_published": ("published date", lambda row: row.published_at is not None),
    "completeness_author": ("author", lambda row: bool(row.authors)),
}


def completeness_checks(data: RunArticles) -> list[Check]:
    checks = []
    too_few = _too_few(data)
    for name, (field, present) in _PRESENT.items():
        share = sum(map(present, data.run)) / len(data.run) if data.run else None
        if too_few:
            checks.append(Check(name, "pass", share, None, too_few))
            continue
        usual = sum(map(present, data.baseline)) / len(data.baseline)
        dropped = usual - share > FIELD_DROP
        checks.append(Check(name, "warn" if dropped else "pass", round(share, 4), round(usual, 4),
                            f"{field} in {share:.0%} of the run's {len(data.run)} articles "
                            f"(baseline {usual:.0%} of {len(data.baseline)})" + (": dropped" if dropped else "")))
    run_median = median(row.word_count for row in data.run) if data.run else None
    if too_few:
        checks.append(Check("body_length", "pass", run_median, None, too_few))
    else:
        usual = median(row.word_count for row in data.baseline)
        short = run_median < BODY_LENGTH_RATIO * usual
        checks.append(Check("body_length", "warn" if short else "pass", run_median, usual,
                            f"median body {run_median:g} words (baseline {usual:g})"
                            + (f": below {BODY_LENGTH_RATIO:.0%} of the baseline" if short else "")))
    return checks


def _shares(rows) -> dict[str, float]:
    counts = Counter(row.language for row in rows)
    return {language: count / len(rows) for language, count in counts.items()}


def language_check(data: RunArticles) -> Check:
    if too_few := _too_few(data):
        return Check("language_mix", "pass", None, None, too_few)
    run, usual = _shares(data.run), _shares(data.baseline)
    shift = sum(abs(run.get(lang, 0) - usual.get(lang, 0)) for lang in run.keys() | usual.keys()) / 2
    mix = ", ".join(f"{lang} {run.get(lang, 0):.0%} (baseline {usual.get(lang, 0):.0%})"
                    for lang in sorted(run.keys() | usual.keys(), key=lambda lang: -usual.get(lang, 0)))
    changed = shift > LANGUAGE_SHIFT
    return Check("language_mix", "warn" if changed else "pass", round(shift, 4), LANGUAGE_SHIFT,
                 f"languages {mix}; shift {shift:.2f}" + (": changed" if changed else ""))


def known_segments(engine: Engine, outlet: str) -> list[str]:
    """The outlet's active boilerplate segments (``segment_is_active``), as the transform removes them."""
    segments = BoilerplateSegmentRow.__table__
    with engine.connect() as connection:
        texts = connection.execute(select(segments.c.text).where(
            segments.c.outlet_id == outlet, segments.c.text.is_not(None),  # a confirmed one seen once has none
            segment_is_active())).scalars()
        return [normalized for normalized in map(normalize_segment, texts) if len(normalized) >= MIN_SEGMENT_CHARS]


def boilerplate_check(data: RunArticles, segments: list[str]) -> Check:
    found = Counter()
    example = {}
    for row in data.run:
        body = normalize_segment(row.body)
        for segment in segments:
            if segment in body:
                found[segment] += 1
                example.setdefault(segment, row.canonical_url)
    if not found:
        return Check("boilerplate", "pass", 0, None,
                     f"none of {len(segments)} known boilerplate paragraphs in the run's {len(data.run)} bodies")
    articles = sum(1 for row in data.run if any(s in normalize_segment(row.body) for s in found))
    worst, count = found.most_common(1)[0]
    return Check("boilerplate", "fail", articles, None,
                 f"{len(found)} known boilerplate paragraphs left in {articles} of {len(data.run)} bodies, e.g. "
                 f"{worst[:80]!r} in {count} (first {example[worst]})")


def sources_check(engine: Engine, run_id: str) -> Check:
    """The health of the sources the run read (``source_health``, updated by its load)."""
    table = SourceHealthRow.__table__
    with engine.connect() as connection:
        sources = connection.execute(select(table).where(table.c.last_run_id == run_id).order_by(table.c.source_url)).all()
    if not sources:
        return Check("sources", "pass", None, None, "the run read no declared source")
    dead = [row for row in sources if row.consecutive_failures]
    if len(dead) == len(sources):
        return Check("sources", "fail", 0, len(sources), f"none of the outlet's {len(sources)} sources could be read: "
                     + "; ".join(f"{row.source_url} ({row.last_failure_reason})" for row in dead))
    problems = [f"{row.source_url} failed {row.consecutive_failures} runs running ({row.last_failure_reason})"
                for row in dead if row.consecutive_failures >= SOURCE_FAILING_RUNS]
    problems += [f"{row.source_url} listed no URL (usually {median(row.items_recent[:-1]):g})"
                 for row in sources if row.items_last == 0 and not row.consecutive_failures
                 and len(row.items_recent) > 1 and median(row.items_recent[:-1]) > 0]
    read = len(sources) - len(dead)
    if problems:
        return Check("sources", "warn", read, len(sources), f"{read} of {len(sources)} sources read; " + "; ".join(problems))
    return Check("sources", "pass", read, len(sources), f"{read} of {len(sources)} sources read")


def blocked_check(engine: Engine, run_id: str) -> Check:
    table = FetchLogRow.__table__
    with engine.connect() as connection:
        reasons = Counter(connection.execute(select(table.c.reason).where(
            table.c.run_id == run_id, table.c.kind == "article")).scalars())
    requests, blocked = sum(reasons.values()), reasons["blocked"]
    share = blocked / requests if requests else 0.0
    message = f"{blocked} of {requests} article requests blocked (401, 403 or a bot challenge)"
    if requests >= MIN_ARTICLE_REQUESTS and share > BLOCKED_SHARE:
        return Check("blocked", "fail", round(share, 4), BLOCKED_SHARE, message + ": the site is blocking the crawler")
    return Check("blocked", "pass", round(share, 4), BLOCKED_SHARE, message)


def check_run(engine: Engine, run_id: str) -> list[Check]:
    data = read_run(engine, run_id)
    return [volume_check(data), *completeness_checks(data), boilerplate_check(data, known_segments(engine, data.outlet)),
            language_check(data), sources_check(engine, run_id), blocked_check(engine, run_id)]


def record_checks(engine: Engine, run_id: str, checks: list[Check]) -> None:
    """Store the run's checks, replacing those of an earlier check of the same run."""
    table = QualityCheckRow.__table__
    now = utc_now()
    with engine.begin() as connection:
        outlet = connection.execute(select(CrawlRunRow.outlet_id).where(CrawlRunRow.run_id == run_id)).scalar_one()
        connection.execute(table.delete().where(table.c.run_id == run_id))
        connection.execute(table.insert(), [dict(run_id=run_id, outlet_id=outlet, check_name=check.name,
                                                 status=check.status, measured=check.measured,
                                                 baseline=check.baseline, message=check.message, checked_at=now)
                                            for check in checks])


def run_quality_checks(warehouse_url: str, run_id: str) -> list[Check]:
    """Judge a loaded run and record the result; warnings and failures are logged with their numbers."""
    from models.warehouse import connect

    engine = connect(warehouse_url)
    try:
        checks = check_run(engine, run_id)
        record_checks(engine, run_id, checks)
    finally:
        engine.dispose()
    for check in checks:
        level = {"pass": logging.INFO, "warn": logging.WARNING}.get(check.status, logging.ERROR)
        log.log(level, "quality %s %s: %s", check.name, check.status, check.message)
    return checks


def enforce(checks: list[Check]) -> dict:
    """The checks' summary (for XCom); raises QualityGateFailed naming every failed gate."""
    if failed := [check for check in checks if check.status == "fail"]:
        raise QualityGateFailed("; ".join(f"{check.name}: {check.message}" for check in failed))
    return {"checks": {check.name: check.status for check in checks},
            "warnings": [f"{check.name}: {check.message}" for check in checks if check.status == "warn"]}
