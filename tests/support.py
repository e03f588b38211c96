"""Helpers shared by the tests: fixture pages over HTTP, the appeal texts, the newsetl command, a webhook."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit


def path_of(url: str) -> str:
    return urlsplit(url).path


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    # Redirects point at the real https site: never follow them off the loopback server.
    def redirect_request(self, *args, **kwargs):
        return None


_OPENER = urllib.request.build_opener(_NoRedirect)


def http_get(server, path: str, host: str, method: str = "GET"):
    """(status, headers, body) for ``path`` on the fixture server, as asked for ``host``; no redirects."""
    request = urllib.request.Request(server.url + path, method=method, headers={"Host": host})
    try:
        with _OPENER.open(request, timeout=10) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


def fetch(server, url: str) -> bytes:
    """The body of an outlet URL from the fixture server, asked the way replay mode asks."""
    parts = urlsplit(url)
    status, _, body = http_get(server, parts.path + (f"?{parts.query}" if parts.query else ""), parts.netloc)
    assert status == 200, f"{url}: HTTP {status}"
    return body


def normalized(text: str) -> str:
    return " ".join(text.split())


def words(text: str) -> set[str]:
    """The case-folded words of a text, as a full-text index without stemming sees them."""
    return set(re.findall(r"\w+", text.casefold()))


def article_words(article) -> set[str]:
    """The words of a fixture article's title and body."""
    return words(article.title + " " + " ".join(article.body_paragraphs))


def text_of(selection) -> str:
    """The whitespace-normalised text of a parsel selection."""
    return normalized(" ".join(selection.css("::text").getall()))


def appeal_sentences(site) -> list[str]:
    """Each sentence of every edition's donation appeal, and its "Video of the day" heading."""
    sentences = []
    for edition in site.furniture["editions"].values():
        for paragraph in edition["appeal"]:
            sentences += [s.strip() for s in paragraph.split(". ") if len(s.strip()) > 12]
        sentences.append(edition["video_heading"])
    return sentences


def newsetl(*args: str, env: dict | None = None, input: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "newsetl.cli", *args], capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, input=input, timeout=300)


ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NORULES = "sp_norules"  # Sloboden Pechat declared without its appeal rules


def declare_outlet_without_appeal_rules(folder, extra_drop: tuple[str, ...] = ()) -> str:
    """Write ``sp_norules.toml`` into ``folder`` (for NEWSETL_OUTLETS_DIR): Sloboden Pechat with only
    the "Read also" rule (plus ``extra_drop`` paragraph patterns), so its appeal is left to learning."""
    with open(os.path.join(ROOT, "kernel", "outlets", "slobodenpecat.toml"), encoding="utf-8") as file:
        toml = file.read().replace('id = "slobodenpecat"', f'id = "{NORULES}"')
    drop = ["^(прочитајте и|read also|lexoni edhe)\\b", *extra_drop]
    toml = re.sub(r"drop_paragraphs = \[.*?\n\]", lambda _: "drop_paragraphs = " + json.dumps(drop, ensure_ascii=False),
                  toml, flags=re.S)
    toml = re.sub(r"cut_from = \[.*?\n\]", "cut_from = []", toml, flags=re.S)
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, f"{NORULES}.toml"), "w", encoding="utf-8") as file:
        file.write(toml)
    return NORULES


class Webhook:
    """A loopback HTTP server that keeps the JSON bodies POSTed to it."""

    def __init__(self):
        received = self.received = []

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/alerts"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
