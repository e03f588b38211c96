"""Shared fixtures: the fixture outlets over real HTTP, and warehouses on SQLite and PostgreSQL.

PostgreSQL comes from NEWSETL_TEST_PG_URL (default postgresql://postgres@127.0.0.1:5432/postgres);
each test gets a database of its own, dropped afterwards. Without a server the PostgreSQL tests
skip with a message — except under CI=true, where a missing server fails them.
"""

from __future__ import annotations

import os
import secrets
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlsplit

import psycopg
import pytest

PG_ADMIN_URL = os.environ.get("NEWSETL_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


@pytest.fixture(scope="session")
def fixture_server():
    from sandbox.fixture_sites.server import serve

    server = serve()
    yield server
    server.stop()


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    """A private data directory (runs, logs, default SQLite warehouse) for one test."""
    monkeypatch.setenv("NEWSETL_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("NEWSETL_WAREHOUSE_URL", raising=False)
    return tmp_path / "data"


@pytest.fixture(scope="session")
def object_store(tmp_path_factory):
    """An S3-compatible server on loopback (what a cloud bucket is in production)."""
    from sandbox.object_store import serve_object_store

    with serve_object_store(log=tmp_path_factory.mktemp("object-store") / "server.log") as store:
        yield store


@pytest.fixture
def s3_data_dir(object_store, tmp_path, monkeypatch):
    """Run storage in a bucket of its own (``NEWSETL_DATA_DIR=s3://…``), the local work directory
    under ``tmp_path``; returns the bucket's name."""
    bucket = object_store.new_bucket()
    for name, value in {**object_store.env(bucket), "NEWSETL_WORK_DIR": str(tmp_path / "work")}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("NEWSETL_WAREHOUSE_URL", raising=False)
    return bucket


@pytest.fixture
def replay(fixture_server, monkeypatch):
    monkeypatch.setenv("NEWSETL_REPLAY_URL", fixture_server.url)
    return fixture_server


def _pg_admin():
    try:
        return psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        message = f"no PostgreSQL at {PG_ADMIN_URL} ({str(exc).strip().splitlines()[0]}); set NEWSETL_TEST_PG_URL"
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true and {message}")
        pytest.skip(message)


@contextmanager
def _pg_database():
    name = f"newsetl_test_{secrets.token_hex(4)}"
    with _pg_admin() as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    info = psycopg.conninfo.conninfo_to_dict(PG_ADMIN_URL)
    user = info.get("user", "postgres")
    try:
        yield f"postgresql+psycopg://{user}@{info.get('host', '127.0.0.1')}:{info.get('port', 5432)}/{name}"
    finally:
        with _pg_admin() as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def pg_url():
    """URL of a fresh, empty PostgreSQL database, dropped after the test."""
    with _pg_database() as url:
        yield url


@pytest.fixture
def airflow_metadata_url():
    """A second fresh PostgreSQL database: an Airflow instance's metadata."""
    with _pg_database() as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def warehouse_url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'warehouse.db'}"
    return request.getfixturevalue("pg_url")


@dataclass(frozen=True)
class LoadedWarehouse:
    """A warehouse filled by the real pipeline from every fixture outlet, as an analyst would find it."""

    url: str
    runs: dict[str, list]  # outlet id → its run summaries, in order
    articles: dict  # URL → fixture article as the sites serve it at the end (the edit included)
    edited_url: str  # the article edited after publication (and recrawled)
    original: object  # that article as first published
    edited_paragraph: str
    failed_url: str  # the article whose first fetch failed with HTTP 500 (loaded by the outlet's next run)
    clusters: dict  # what refresh_clusters reported


EDITED_URL = "https://slobodenpecat.mk/vonredniot-samit-na-eu-bez-dogovor-za-dolgorochniot-budzhet/"
EDIT_PARAGRAPH = "Исправка: седницата е закажана за вторник, а не за понеделник, како што беше првично објавено."


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def loaded_warehouse(request, tmp_path_factory):
    """Every fixture outlet run through the whole pipeline (crawl over loopback, extract, load) into
    SQLite or PostgreSQL; then one article is edited and recrawled, one outlet's first run meets an
    HTTP 500 on one article, and the syndication clusters are refreshed."""
    from kernel.settings import load_settings
    from kernel.window import Window
    from models.syndication import refresh_clusters
    from models.warehouse import connect
    from newsetl.pipeline import run_outlet
    from sandbox.demo import fixture_outlets
    from sandbox.fixture_sites import load_site
    from sandbox.fixture_sites.server import serve

    with ExitStack() as stack:
        if request.param == "sqlite":
            url = f"sqlite:///{tmp_path_factory.mktemp('warehouse') / 'warehouse.db'}"
        else:
            url = stack.enter_context(_pg_database())
        server = stack.enter_context(serve())
        patch = stack.enter_context(pytest.MonkeyPatch.context())
        patch.setenv("NEWSETL_REPLAY_URL", server.url)
        patch.setenv("NEWSETL_DATA_DIR", str(tmp_path_factory.mktemp("data")))
        settings = load_settings(url)

        failing = load_site("novamakedonija").articles[-1]
        server.faults[urlsplit(failing.url).path] = (500, "text/html; charset=UTF-8", b"<h1>Internal Server Error</h1>", {})
        runs = {outlet_id: [run_outlet(outlet_id, Window(), settings)] for outlet_id in fixture_outlets()}
        server.faults.clear()
        runs["novamakedonija"].append(run_outlet("novamakedonija", Window(), settings))

        original = load_site("slobodenpecat").article(EDITED_URL)
        server.edit(EDITED_URL, paragraph=EDIT_PARAGRAPH, modified=original.modified + timedelta(hours=3))
        runs["slobodenpecat"].append(run_outlet("slobodenpecat", Window(), settings))

        engine = connect(url)
        clusters = refresh_clusters(engine)
        engine.dispose()
        articles = {article.url: article for site in server.sites for article in site.articles}
        yield LoadedWarehouse(url, runs, articles, EDITED_URL, original, EDIT_PARAGRAPH, failing.url, clusters)
