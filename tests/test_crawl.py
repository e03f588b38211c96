"""Crawling at production grade, over HTTP on loopback: robots.txt, refused redirects, backoff,
incremental re-crawls, the raw archive and the fetch log."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from kernel.settings import load_settings
from kernel.window import Window
from models.tables import ArticleRow, FetchLogRow
from models.warehouse import connect
from newsetl.pipeline import check_crawl, crawl_stage, plan_run, reextract_outlet, run_outlet
from sandbox.fixture_sites import load_site
from scrapers.archive import read_warc_response
from scrapers.crawl import CrawlFailed
from scrapers.safety import CHALLENGE_MAX_BYTES, blocked_reason, retry_after_seconds
from tests.support import path_of

SITE = load_site("slobodenpecat")
HTML = "text/html; charset=UTF-8"


@pytest.fixture
def faults(replay):
    yield replay.faults
    replay.faults.clear()


def requested_paths(server) -> set[str]:
    return {path.partition("?")[0] for _, _, path, _ in server.requests}


def fetch_log(run_id: str) -> list:
    engine = connect(load_settings().warehouse_url)
    with engine.connect() as connection:
        rows = connection.execute(select(FetchLogRow).where(FetchLogRow.run_id == run_id)).all()
    engine.dispose()
    return rows


def test_robots_txt_is_obeyed(data_dir, faults, replay):
    banned = SITE.articles[3]
    robots = SITE.render("/robots.txt")[2].decode() + f"\nUser-agent: *\nDisallow: {path_of(banned.url)}\n"
    faults["/robots.txt"] = (200, "text/plain", robots.encode(), {})
    replay.requests.clear()

    summary = run_outlet("slobodenpecat", Window(), load_settings())

    assert summary.dropped == {"robots": 1}
    assert summary.articles_new == len(SITE.articles) - 1
    assert path_of(banned.url) not in requested_paths(replay)
    refused = [row for row in fetch_log(summary.run_id) if row.reason == "robots"]
    assert [row.url for row in refused] == [banned.url] and refused[0].status is None


def test_redirects_off_the_outlet_or_to_private_addresses_are_refused(data_dir, faults, replay):
    off_domain, link_local, loopback = SITE.articles[1:4]
    faults[path_of(off_domain.url)] = (301, HTML, b"", {"Location": "https://evil.example/stolen/"})
    faults[path_of(link_local.url)] = (302, HTML, b"", {"Location": "http://169.254.169.254/latest/meta-data/"})
    faults[path_of(loopback.url)] = (302, HTML, b"", {"Location": f"{replay.url}/admin/"})
    replay.requests.clear()

    summary = run_outlet("slobodenpecat", Window(), load_settings())

    assert summary.dropped == {"off-domain": 1, "private-address": 2}
    assert summary.articles_new == len(SITE.articles) - 3
    hosts = {host for _, host, _, _ in replay.requests}
    assert "evil.example" not in hosts and "169.254.169.254" not in hosts
    assert "/admin/" not in requested_paths(replay)
    refused = {row.url: row for row in fetch_log(summary.run_id) if row.reason}
    assert refused[off_domain.url].reason == "off-domain" and "evil.example" in refused[off_domain.url].detail
    assert refused[link_local.url].reason == "private-address"


def test_server_errors_are_retried_with_backoff_honouring_retry_after(data_dir, faults, replay):
    busy = SITE.articles[5]
    faults[path_of(busy.url)] = (429, HTML, b"slow down", {"Retry-After": "1"})
    replay.requests.clear()

    summary = run_outlet("slobodenpecat", Window(), load_settings())

    attempts = [r for r in replay.requests if r[2] == path_of(busy.url)]
    assert len(attempts) == 3  # the first try and two retries
    assert summary.dropped == {"http-error": 1} and summary.errors == 1
    stats = json.loads((data_dir / "runs" / "slobodenpecat" / summary.run_id / "crawl_stats.json").read_text())
    assert stats["newsetl/retry_wait_ms"] == 2000  # Retry-After: 1, twice
    statuses = [row.status for row in fetch_log(summary.run_id) if row.url == busy.url]
    assert statuses == [429, 429, 429]


@pytest.mark.parametrize("value, seconds", [(b"7", 7.0), (None, None), (b"soon", None),
                                            (b"Sat, 28 Nov 2026 10:00:30 GMT", 30.0)])
def test_retry_after_forms(value, seconds):
    from datetime import UTC, datetime

    assert retry_after_seconds(value, now=datetime(2026, 11, 28, 10, 0, tzinfo=UTC)) == seconds


@pytest.mark.parametrize("page", [
    b"<title>Just a Moment...</title><p>Checking your browser before accessing",
    b"<HTML><TITLE>Attention Required! | Cloudflare</TITLE>",
    b"<title>Access Denied</title><p>You don't have permission.</p><p>Reference #18.2f6e1002.1733</p>",
    b"<div id='px-captcha'></div>",
])
def test_a_challenge_page_is_blocked_whatever_its_case(page):
    assert blocked_reason(200, {}, page).startswith("bot-protection challenge page")


def test_an_article_that_mentions_a_wall_is_not_blocked():
    article = b"<title>Access denied</title><p>The ministry said access denied to reporters.</p>"
    assert blocked_reason(200, {}, article) is None
    quoting = b"<p>Cloudflare pages say 'Just a moment...' while they check.</p>" + b"<p>text</p>" * CHALLENGE_MAX_BYTES
    assert blocked_reason(200, {}, quoting) is None  # too long for an interstitial
    assert blocked_reason(403, {}, b"") == "HTTP 403"


def test_rerun_fetches_no_article_page_and_an_edit_is_fetched_again(data_dir, replay):
    first = run_outlet("slobodenpecat", Window(), load_settings())
    assert first.article_pages_fetched == len(SITE.articles)

    again = run_outlet("slobodenpecat", Window(), load_settings())
    assert again.article_pages_fetched == 0
    assert (again.articles_new, again.articles_updated, again.articles_unchanged) == (0, 0, len(SITE.articles))


def test_warc_round_trip_and_lineage(data_dir, replay):
    summary = run_outlet("slobodenpecat", Window(), load_settings())
    engine = connect(load_settings().warehouse_url)
    with engine.connect() as connection:
        rows = connection.execute(select(ArticleRow)).all()
    engine.dispose()
    assert len(rows) == len(SITE.articles)
    for row in rows:
        assert row.last_run_id == summary.run_id and row.extractor_version.startswith("news-etl")
        body, content_type = read_warc_response(data_dir / row.warc_file, row.warc_offset)
        assert body == SITE.render(path_of(row.url))[2]  # the archive holds exactly what was served
        assert content_type.startswith("text/html")

    replay.requests.clear()
    again = reextract_outlet("slobodenpecat", Window(), load_settings())
    assert replay.requests == []  # no network
    assert (again.articles_new, again.articles_updated, again.articles_unchanged) == (0, 0, len(SITE.articles))


def test_fetch_log_records_every_response(data_dir, replay):
    replay.requests.clear()
    summary = run_outlet("slobodenpecat", Window(), load_settings())
    rows = fetch_log(summary.run_id)
    assert len(rows) == len(replay.requests)
    articles = [row for row in rows if row.kind == "article"]
    assert len(articles) == len(SITE.articles)
    assert all(row.status == 200 and row.bytes > 1000 and row.elapsed_ms is not None for row in articles)
    assert {row.kind for row in rows} >= {"robots", "article"}


def test_translations_share_a_key(data_dir, replay):
    run_outlet("slobodenpecat", Window(), load_settings())
    engine = connect(load_settings().warehouse_url)
    with engine.connect() as connection:
        keys = dict(connection.execute(select(ArticleRow.canonical_url, ArticleRow.translation_key)).all())
    engine.dispose()
    by_story: dict[str, set[str]] = {}
    for article in SITE.articles:
        by_story.setdefault(article.story, set()).add(keys[article.url])
    assert all(len(story_keys) == 1 for story_keys in by_story.values())  # one key per story …
    assert len(set(keys.values())) == len(by_story)  # … and a different one for each story


def test_pages_over_the_size_cap_are_not_downloaded(data_dir, faults, replay, monkeypatch):
    huge = SITE.articles[2]
    faults[path_of(huge.url)] = (200, HTML, b"<html><body>" + b"<p>filler text</p>" * 700_000 + b"</body></html>", {})

    summary = run_outlet("slobodenpecat", Window(), load_settings())

    assert summary.dropped == {"too-large": 1}
    assert summary.articles_new == len(SITE.articles) - 1
    refused = [row for row in fetch_log(summary.run_id) if row.url == huge.url]
    assert [(row.reason, row.status) for row in refused] == [("too-large", None)]


def test_a_crawl_whose_error_rate_passes_the_threshold_fails_with_the_numbers(data_dir, faults, replay):
    broken = SITE.articles[:8]
    for article in broken:
        faults[path_of(article.url)] = (404, HTML, b"gone", {})
    settings = load_settings()
    plan = plan_run("slobodenpecat", Window(), settings)

    crawled = crawl_stage(plan, settings)

    requests = crawled["pages_fetched"] + crawled["errors"]
    assert crawled["errors"] == len(broken) and len(broken) / requests > 0.2
    with pytest.raises(CrawlFailed, match=rf"{len(broken)} of {requests} requests failed: error rate \d+% passes "
                                          r"the threshold 20% \(NEWSETL_MAX_ERROR_RATE\); pages dropped: http-error 8$"):
        check_crawl(crawled, settings.max_error_rate)
    for article in SITE.articles:  # the site now walls every article page
        faults[path_of(article.url)] = (403, HTML, b"<h1>Access denied</h1>", {})
    walled = crawl_stage(plan_run("slobodenpecat", Window(), settings), settings)
    with pytest.raises(CrawlFailed, match=f"blocked {len(SITE.articles)}; most were blocked .*: the site is blocking the crawler"):
        check_crawl(walled, settings.max_error_rate)
    assert check_crawl(crawled, 0.5)["error_rate"] == round(len(broken) / requests, 4)


def test_the_error_rate_threshold_comes_from_the_environment(monkeypatch):
    assert load_settings().max_error_rate == 0.2
    monkeypatch.setenv("NEWSETL_MAX_ERROR_RATE", "0.05")
    assert load_settings().max_error_rate == 0.05
    monkeypatch.setenv("NEWSETL_MAX_ERROR_RATE", "20%")
    with pytest.raises(ValueError, match="NEWSETL_MAX_ERROR_RATE='20%': use a share between 0 and 1"):
        load_settings()
