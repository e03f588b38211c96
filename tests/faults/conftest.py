"""The fault suite's shared pieces: a private fixture server (the faults it plays must not leak
into other tests), and the scorecard each scenario reports to."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

SCORECARD = Path(os.environ.get("NEWSETL_FAULT_SCORECARD", "/dev/null"))


@pytest.fixture(scope="module")
def hostile_server():
    from sandbox.fixture_sites.server import serve

    server = serve()
    yield server
    server.stop()


@pytest.fixture
def hostile(hostile_server, monkeypatch, tmp_path):
    monkeypatch.setenv("NEWSETL_REPLAY_URL", hostile_server.url)
    monkeypatch.setenv("NEWSETL_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("NEWSETL_DOWNLOAD_TIMEOUT", "2")
    monkeypatch.delenv("NEWSETL_WAREHOUSE_URL", raising=False)
    hostile_server.faults.clear()
    hostile_server.max_in_flight.clear()
    yield hostile_server
    hostile_server.faults.clear()


def report(group: str, rows: list[dict]) -> None:
    """Append a group's scenario outcomes to the scorecard (NEWSETL_FAULT_SCORECARD, when set):
    docs/reliability.md's figures come from it."""
    if str(SCORECARD) == "/dev/null":
        return
    with SCORECARD.open("a", encoding="utf-8") as out:
        for row in rows:
            out.write(json.dumps({"group": group, **row}, ensure_ascii=False) + "\n")
