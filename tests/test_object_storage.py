"""Run storage on an object store (an S3-compatible server on loopback) and on a plain shared
directory: each stage as a worker with no disk of its own in common with the others would run it."""

from __future__ import annotations

import os
from io import BytesIO
from pathlib import Path

import pytest
from sqlalchemy import select
from warcio.archiveiterator import ArchiveIterator
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from kernel.records import Lineage
from kernel.settings import load_settings
from kernel.storage import RANGED_READ_BYTES, location_path, open_ranged
from kernel.window import Window
from models.tables import ArticleRow, CrawlRunRow
from models.warehouse import connect
from newsetl.pipeline import crawl_stage, load_stage, plan_run, read_archived_page, reextract_outlet, transform_stage
from sandbox.fixture_sites import load_site
from scrapers.archive import read_warc_response
from tests.support import newsetl
from transforms.stage import PageRef

SITE = load_site("slobodenpecat")
RUN_FILES = {"known.json", "crawl_config.json", "crawl.log", "crawl_stats.json", "archive.warc.gz", "fetch_log.jsonl",
             "pages.jsonl", "sources.json", "crawl_summary.json", "articles.jsonl", "drops.jsonl", "transform_summary.json"}


def _as_another_worker(monkeypatch, tmp_path: Path, name: str) -> Path:
    """A worker of its own: an empty local work directory that no other stage sees."""
    work = tmp_path / name
    monkeypatch.setenv("NEWSETL_WORK_DIR", str(work))
    return work


@pytest.fixture(params=["object-store", "shared-directory"])
def storage(request, tmp_path, monkeypatch, replay):
    """Run storage, and a function listing what it holds (relative name → size)."""
    if request.param == "object-store":
        store = request.getfixturevalue("object_store")
        bucket = request.getfixturevalue("s3_data_dir")
        return lambda: {key.removeprefix("news/"): size for key, size in store.keys(bucket).items()}
    shared = tmp_path / "shared"
    monkeypatch.setenv("NEWSETL_DATA_DIR", str(shared))
    monkeypatch.delenv("NEWSETL_WAREHOUSE_URL", raising=False)
    return lambda: {path.relative_to(shared).as_posix(): path.stat().st_size
                    for path in shared.rglob("*") if path.is_file() and path.relative_to(shared).parts[0] == "runs"}


def test_each_stage_on_another_worker_loads_every_article_once(storage, tmp_path, monkeypatch):
    warehouse_url = f"sqlite:///{tmp_path / 'warehouse.db'}"  # the warehouse is the one thing they share
    _as_another_worker(monkeypatch, tmp_path, "planner")
    plan = plan_run("slobodenpecat", Window(), load_settings(warehouse_url))
    crawler = _as_another_worker(monkeypatch, tmp_path, "crawler")
    crawled = crawl_stage(plan, load_settings(warehouse_url))
    assert not (crawler / "crawls").exists() or not any((crawler / "crawls").rglob("*.*")), "crawl files left behind"
    _as_another_worker(monkeypatch, tmp_path, "extractor")
    transformed = transform_stage(plan, workers=2)
    _as_another_worker(monkeypatch, tmp_path, "loader")
    loaded = load_stage(plan)

    assert crawled["article_pages_fetched"] == transformed["articles"] == loaded.articles_new == len(SITE.articles)
    held = storage()
    run_prefix = f"runs/slobodenpecat/{plan.run_id}/"
    assert {name.removeprefix(run_prefix) for name in held if name.startswith(run_prefix)} == RUN_FILES
    engine = connect(warehouse_url)
    with engine.connect() as connection:
        rows = connection.execute(select(ArticleRow)).all()
        run = connection.execute(select(CrawlRunRow).where(CrawlRunRow.run_id == plan.run_id)).one()
    engine.dispose()
    assert sorted(row.canonical_url for row in rows) == sorted(article.url for article in SITE.articles)
    assert (run.status, run.articles_new) == ("success", len(SITE.articles))

    # Lineage stays valid from any worker: each row's record is read back from the store.
    _as_another_worker(monkeypatch, tmp_path, "analyst")
    titles = {article.url: article.title for article in SITE.articles}
    for row in rows:
        body, headers = read_archived_page(load_settings().run_store, PageRef(row.url, Lineage(
            plan.run_id, row.fetched_at, row.edition, row.warc_file, row.warc_offset)))
        assert titles[row.canonical_url].split()[0] in body.decode("utf-8") and "text/html" in headers["Content-Type"]

    # Re-extraction reads the archive where it is kept, and finds nothing changed.
    again = reextract_outlet("slobodenpecat", Window(), load_settings(warehouse_url))
    assert (again.articles_new, again.articles_updated, again.articles_unchanged) == (0, 0, len(SITE.articles))


def test_reading_one_record_reads_a_range_not_the_archive(object_store, s3_data_dir, tmp_path):
    # An archive of 80 incompressible 40 KB pages, each record its own gzip member as the crawl writes them.
    local, offsets = tmp_path / "archive.warc.gz", []
    with local.open("wb") as file:
        writer = WARCWriter(file, gzip=True)
        for n in range(80):
            offsets.append(file.tell())
            writer.write_record(writer.create_warc_record(
                f"https://example.org/{n}", "response", payload=BytesIO(f"<p>page {n}</p>".encode() + os.urandom(40_000)),
                http_headers=StatusAndHeaders("200 OK", [("Content-Type", "text/html")], protocol="HTTP/1.1")))
    archive = location_path(load_settings().run_store) / "runs" / "archive.warc.gz"
    archive.fs.put_file(str(local), archive.path)
    size = archive.stat().st_size
    assert size > 8 * RANGED_READ_BYTES

    body, content_type = read_warc_response(archive, offsets[41])
    assert body.startswith(b"<p>page 41</p>") and content_type == "text/html"
    with open_ranged(archive) as file:  # what read_warc_response reads through
        file.seek(offsets[41])
        next(iter(ArchiveIterator(file))).content_stream().read()
        requested = file.cache.total_requested_bytes
    assert requested <= 2 * RANGED_READ_BYTES < size / 4, f"{requested} of {size} bytes fetched for one record"


@pytest.mark.parametrize("location, message", [
    ("s3://key:secret@bucket/news", "put no credentials in the URL"),
    ("nosuch://bucket/news", "no filesystem for nosuch://"),
    ("s3:///news", "name the bucket"),
])
def test_a_bad_storage_url_is_one_readable_line(location, message, tmp_path):
    result = newsetl("run", "slobodenpecat", env={"NEWSETL_DATA_DIR": location, "NEWSETL_WORK_DIR": str(tmp_path)})
    assert result.returncode == 1 and message in result.stderr
    assert "Traceback" not in result.stderr and "secret" not in result.stderr


def test_an_unreachable_store_fails_the_run_with_the_reason(object_store, s3_data_dir, replay, tmp_path, monkeypatch):
    from sandbox.airflow_local import free_port

    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{free_port()}")  # nothing listens there
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    warehouse = tmp_path / "warehouse.db"
    result = newsetl("run", "slobodenpecat", "--warehouse", f"sqlite:///{warehouse}")
    assert result.returncode == 1, result.stderr
    assert "error:" in result.stderr and "Traceback" not in result.stderr
    engine = connect(f"sqlite:///{warehouse}")
    with engine.connect() as connection:
        status, message = connection.execute(select(CrawlRunRow.status, CrawlRunRow.error_message)).one()
    engine.dispose()
    assert status == "failed" and "127.0.0.1" in message
