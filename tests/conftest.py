"""Shared fixtures: the fixture outlets over real HTTP, and warehouses on SQLite and PostgreSQL.

PostgreSQL comes from NEWSETL_TEST_PG_URL (default postgresql://postgres@127.0.0.1:5432/postgres);
each test gets a database of its own, dropped afterwards. Without a server the PostgreSQL tests
skip with a message — except under CI=true, where a missing server fails them.
"""

from __future__ import annotations

import os
import secrets

import psycopg
import pytest

PG_ADMIN_URL = os.environ.get("NEWSETL_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


@pytest.fixture(scope="session")
def fixture_server():
    from newsetl.fixture_sites.server import serve

    server = serve()
    yield server
    server.stop()


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    """A private data directory (runs, logs, default SQLite warehouse) for one test."""
    monkeypatch.setenv("NEWSETL_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("NEWSETL_WAREHOUSE_URL", raising=False)
    return tmp_path / "data"


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


@pytest.fixture
def pg_url():
    """URL of a fresh, empty PostgreSQL database, dropped after the test."""
    name = f"newsetl_test_{secrets.token_hex(4)}"
    with _pg_admin() as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    info = psycopg.conninfo.conninfo_to_dict(PG_ADMIN_URL)
    user = info.get("user", "postgres")
    yield f"postgresql+psycopg://{user}@{info.get('host', '127.0.0.1')}:{info.get('port', 5432)}/{name}"
    with _pg_admin() as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", "postgresql"])
def warehouse_url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'warehouse.db'}"
    return request.getfixturevalue("pg_url")
