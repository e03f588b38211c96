"""Helpers shared by the tests: fixture pages over HTTP, the appeal texts, the newsetl command."""

from __future__ import annotations

import os
import subprocess
import sys
import urllib.request
from urllib.parse import urlsplit


def path_of(url: str) -> str:
    return urlsplit(url).path


def fetch(server, url: str) -> bytes:
    """GET an outlet URL from the fixture server the way replay mode does: the real host in Host."""
    request = urllib.request.Request(f"{server.url}{path_of(url)}", headers={"Host": urlsplit(url).netloc})
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.read()


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
