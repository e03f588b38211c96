"""The newsetl command's contracts and its one-line errors for expected failures."""

from __future__ import annotations

import gzip
import json

import pytest

from sandbox.demo import fixture_outlets
from sandbox.fixture_sites import load_site
from tests.support import newsetl, path_of

SITE = load_site("slobodenpecat")


def test_outlets_json_lists_registry_ids(data_dir):
    result = newsetl("outlets", "--json")
    assert result.returncode == 0
    outlets = json.loads(result.stdout)
    assert "slobodenpecat" in [o["id"] for o in outlets]


def test_extract_manifest_contract(data_dir, tmp_path):
    entries = []
    for index, article in enumerate(SITE.articles[:4]):
        status, _, body = SITE.render(path_of(article.url))[:3]
        assert status == 200
        path = tmp_path / (f"page{index}.html" + (".gz" if index % 2 else ""))
        path.write_bytes(gzip.compress(body) if index % 2 else body)
        entries.append({"id": f"p{index}", "path": path.name, "url": article.url})
    manifest = tmp_path / "manifest.jsonl"
    manifest.write_text("\n".join(json.dumps(e) for e in entries) + "\n")

    result = newsetl("extract", "--manifest", str(manifest))
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["id"] for line in lines] == ["p0", "p1", "p2", "p3"]
    for line, article in zip(lines, SITE.articles[:4], strict=True):
        assert set(line) >= {"id", "url", "title", "body", "authors", "published_at", "language", "language_confidence"}
        assert line["body"].split("\n\n") == article.body_paragraphs
        assert line["authors"] == [article.author]
        assert line["published_at"] == article.published.isoformat()
        assert line["language"] == article.edition


def test_extract_reports_a_missing_page_and_goes_on(data_dir, tmp_path):
    manifest = tmp_path / "m.jsonl"
    manifest.write_text(json.dumps({"id": "gone", "path": "nowhere.html", "url": "https://example.org/x"}) + "\n")
    result = newsetl("extract", "--manifest", str(manifest))
    assert result.returncode == 0
    line = json.loads(result.stdout)
    assert line["id"] == "gone" and line["body"] is None and "nowhere.html" in line["error"]


@pytest.mark.parametrize("args, message", [
    (["run", "nosuch"], "error: unknown outlet 'nosuch'"),
    (["run", "slobodenpecat", "--warehouse", "postgresql://nobody@127.0.0.1:1/x"], "error: cannot reach warehouse"),
    (["run", "slobodenpecat", "--since", "yesterday"], "error: not a date or ISO 8601 time: 'yesterday'"),
    (["extract", "--manifest", "/no/such/manifest.jsonl"], "error: manifest not found: /no/such/manifest.jsonl"),
])
def test_expected_failures_are_one_readable_line(data_dir, args, message):
    result = newsetl(*args)
    assert result.returncode == 1
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert (data_dir / "logs" / "newsetl.log").exists()


def test_db_upgrade_creates_the_schema(data_dir, tmp_path):
    url = f"sqlite:///{tmp_path / 'wh.db'}"
    result = newsetl("db", "upgrade", "--warehouse", url)
    assert result.returncode == 0, result.stderr
    import sqlite3

    tables = {r[0] for r in sqlite3.connect(tmp_path / "wh.db").execute("select name from sqlite_master where type='table'")}
    assert {"outlets", "articles", "crawl_runs", "alembic_version"} <= tables


def test_demo_runs_the_whole_pipeline_and_summarises(data_dir):
    result = newsetl("demo", env={"COLUMNS": "160"})
    assert result.returncode == 0, result.stderr
    assert "Run summary" in result.stdout and "slobodenpecat" in result.stdout
    assert "SELECT o.name AS outlet" in result.stdout
    import sqlite3

    database = sqlite3.connect(data_dir / "warehouse.db")
    expected = sum(len(load_site(outlet_id).articles) for outlet_id in fixture_outlets())
    assert database.execute("select count(*) from articles").fetchone()[0] == expected
    wires = [a.wire for outlet_id in fixture_outlets() for a in load_site(outlet_id).articles if a.wire]
    assert database.execute("select count(*) from syndication_members").fetchone()[0] == len(wires)
    assert f"syndication clusters: {len(set(wires))} " in result.stdout
