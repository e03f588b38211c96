"""docs/outlets.md's worked example, as written: its declaration, kept in a folder of one's own, and a
run over saved pages served by `python -m http.server` through NEWSETL_REPLAY_URL."""

from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import select

from models.tables import ArticleRow
from models.warehouse import connect
from tests.support import newsetl

DOC = Path(__file__).parents[1] / "docs" / "outlets.md"
WORDS = ("Советот на градот Скопје денеска расправаше за буџетот за наредната година и за тоа колку пари ќе "
         "одат за јавен превоз, училишта и паркови, а опозицијата побара повеќе средства за чисти улици.",
         "Седницата продолжи до доцна навечер, а гласањето за предлогот е закажано за следната недела, "
         "откако советниците ќе ги добијат сите извештаи од службите на градот.")


def example_declaration() -> str:
    (toml,) = [block for block in re.findall(r"```toml\n(.*?)```", DOC.read_text(encoding="utf-8"), flags=re.S)
               if 'id = "dnevnik"' in block]
    return re.sub(r"^ {3}", "", toml, flags=re.M)


def article(title: str, day: str) -> str:
    return f"""<!doctype html><html lang="mk"><head><meta charset="utf-8"><title>{title} – Дневник</title>
<meta property="article:published_time" content="{day}T09:30:00+01:00"></head><body>
<article><h1>{title}</h1><p>{WORDS[0]}</p><p>{WORDS[1]}</p>
<div class="share-buttons"><p>Сподели на Facebook Сподели на X</p></div>
<p>Поддржете го независното новинарство: станете член.</p><p>Последни вести</p></article></body></html>"""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_the_worked_example_runs_offline_on_saved_pages(tmp_path):
    outlets = tmp_path / "outlets"
    outlets.mkdir()
    (outlets / "dnevnik.toml").write_text(example_declaration(), encoding="utf-8")
    site = tmp_path / "site"
    stories = {"2026/11/20/budzet": "Буџетот на Скопје за 2027", "2026/11/20/prevoz": "Нови автобуси во Скопје",
               "2026/11/19/parkovi": "Паркови за сите"}
    for path, title in stories.items():
        (site / path).mkdir(parents=True)
        (site / path / "index.html").write_text(article(title, path[:10].replace("/", "-")), encoding="utf-8")
    items = "".join(f"<item><title>{title}</title><link>https://dnevnik.example/{path}/</link></item>"
                    for path, title in stories.items())
    (site / "feed").mkdir()
    (site / "feed" / "index.html").write_text(f'<?xml version="1.0"?><rss version="2.0"><channel>{items}</channel></rss>')
    (site / "robots.txt").write_text("User-agent: *\nAllow: /\n")
    port = _free_port()
    server = subprocess.Popen([sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"], cwd=site,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(50):
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.1)
        env = {"NEWSETL_OUTLETS_DIR": str(outlets), "NEWSETL_REPLAY_URL": f"http://127.0.0.1:{port}",
               "NEWSETL_POLITENESS": "off", "NEWSETL_DATA_DIR": str(tmp_path / "data")}
        listed = newsetl("outlets", env=env)
        assert listed.returncode == 0 and "dnevnik" in listed.stdout
        result = newsetl("run", "dnevnik", "--since", "2026-11-20", "--until", "2026-11-21", "--json", env=env)
    finally:
        server.terminate()
        server.wait(10)
    assert result.returncode == 0, result.stderr[-2000:]
    summary = json.loads(result.stdout)
    assert summary["articles_new"] == 2 and summary["dropped"] == {"out-of-window": 1}, summary
    engine = connect(f"sqlite:///{tmp_path / 'data' / 'warehouse.db'}")
    with engine.connect() as connection:
        bodies = connection.execute(select(ArticleRow.title, ArticleRow.body)).all()
    engine.dispose()
    assert sorted(title for title, _ in bodies) == ["Буџетот на Скопје за 2027", "Нови автобуси во Скопје"]
    for _, body in bodies:  # the example's rules: the share bar and the appeal trailer are gone
        assert body == "\n\n".join(WORDS)
