"""A warehouse password with @, / and : in it: escaped where URLs are built, masked wherever a URL
is logged, printed or stored (checked by searching the output, the data directory and the run
tables of a run that uses one)."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

from airflow.sdk import Connection
from sqlalchemy import select
from sqlalchemy.engine import make_url

from kernel.records import RunPlan
from kernel.settings import masked_url
from models.tables import CrawlRunRow, FetchLogRow
from models.warehouse import connect
from newsetl.dag_factory import _plan_to_xcom, connection_url
from tests.faults.conftest import report
from tests.support import newsetl

PASSWORD = "s3cr@t/pa:ss"  # PostgreSQL here trusts loopback: any password is accepted, so it reaches the server


def with_password(url: str) -> str:
    parsed = make_url(url)
    return parsed.set(password=PASSWORD).render_as_string(hide_password=False)


def test_an_airflow_connection_with_such_a_password_gives_a_working_url(pg_url):
    parts = make_url(pg_url)
    conn = Connection(conn_id="news_warehouse", conn_type="postgres", login=parts.username, password=PASSWORD,
                      host=parts.host, port=parts.port, schema=parts.database)

    url = connection_url(conn)

    assert make_url(url).password == PASSWORD and make_url(url).host == parts.host
    assert quote(PASSWORD, safe="") in url  # escaped, not spliced in
    connect(url).dispose()  # reaches the right server and database


def test_the_password_is_masked_in_output_files_and_tables(hostile, pg_url, tmp_path):
    url = with_password(pg_url)
    data = Path(load_data_dir())

    runs = [newsetl("run", "slobodenpecat", "--warehouse", url), newsetl("db", "current", "--warehouse", url),
            newsetl("run", "slobodenpecat", "--warehouse", url.replace(":5432/", ":9/")),
            newsetl("run", "slobodenpecat", "--warehouse", url.replace(":5432/", ":port/"))]

    assert [run.returncode for run in runs] == [0, 0, 1, 1]
    texts = [run.stdout + run.stderr for run in runs]
    texts += [path.read_text(errors="replace") for path in data.rglob("*") if path.is_file() and path.suffix != ".gz"]
    engine = connect(url)
    with engine.connect() as connection:
        texts += [repr(row) for row in connection.execute(select(CrawlRunRow)).all()]
        texts += [repr(row) for row in connection.execute(select(FetchLogRow)).all()]
    engine.dispose()
    plan = RunPlan("slobodenpecat", "r", "/tmp/r", None, None, url, "/tmp")
    texts.append(repr(_plan_to_xcom(plan)))
    leaks = [text[:200] for text in texts if PASSWORD in text or quote(PASSWORD, safe="") in text]
    assert not leaks
    assert "***" in runs[2].stderr and "***" in runs[3].stderr  # the failing URLs are shown, masked
    assert "not a database URL" in runs[3].stderr
    assert masked_url("postgresql://u:" + quote(PASSWORD, safe="") + "@h/db") == "postgresql://u:***@h/db"
    report("secrets", [{"scenario": "warehouse password with @ / : in output, logs, run files, tables, XCom",
                        "expected": "masked everywhere", "survived": True, "detail": f"{len(texts)} texts searched"}])


def load_data_dir() -> str:
    from kernel.settings import load_settings

    return str(load_settings().data_dir)
