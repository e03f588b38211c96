"""Serve the fixture sites over HTTP on loopback; the request's Host header picks the outlet."""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

from sandbox.fixture_sites.site import FIXTURES_DIR, HTML, OUTLETS_DIR, FixtureSite, load_site

log = logging.getLogger(__name__)


def load_sites(root: Path = FIXTURES_DIR, outlets_dir: Path = OUTLETS_DIR) -> list[FixtureSite]:
    """A site for every registry outlet that has a fixture folder, in outlet-id order."""
    return [
        load_site(path.stem, root, outlets_dir)
        for path in sorted(Path(outlets_dir).glob("*.toml"))
        if (Path(root) / path.stem / "site.json").is_file()
    ]


def _hostname(host_header: str) -> str:
    host = host_header.strip().lower()
    if host.startswith("["):  # IPv6 literal, "[::1]:8080"
        return host[1:].partition("]")[0]
    return host.partition(":")[0].rstrip(".")


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"
    server_version = "nginx"  # what a hosted WordPress answers with
    sys_version = ""
    timeout = 30  # close idle keep-alive connections

    def do_GET(self) -> None:
        self._answer(send_body=True)

    def do_HEAD(self) -> None:
        self._answer(send_body=False)

    def _answer(self, send_body: bool) -> None:
        fixture = self.server.fixture
        host = self.headers.get("Host", "")
        site = fixture.site_for(host)
        fixture.begin_request(site.outlet_id)
        if fixture.latency:
            time.sleep(fixture.latency)
        fault = fixture.faults.get(self.path.partition("?")[0])
        if callable(fault):  # a behaviour: it writes (or withholds) the raw response itself
            fixture._record(self.command, host, self.path, 0)
            self.close_connection = True
            try:
                fault(self)
            except OSError:  # the client gave up first
                pass
            finally:
                fixture.end_request(site.outlet_id)
            return
        self._respond(fixture, site, host, fault, send_body)

    def _respond(self, fixture, site, host: str, fault, send_body: bool) -> None:
        try:
            status, content_type, body, headers = fault or site.respond(self.path)
        except Exception:
            log.exception("fixture site failed on %s %s", host, self.path)
            status, content_type, body, headers = 500, HTML, b"<h1>500 Internal Server Error</h1>", {}
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        # Logged before the body goes out, so a client that has its response sees the entry.
        fixture._record(self.command, host, self.path, status)
        # The request ends for the client with its last byte: counted out just before it goes.
        if send_body and body:
            self.wfile.write(body[:-1])
            self.wfile.flush()
        fixture.end_request(site.outlet_id)
        if send_body and body:
            self.wfile.write(body[-1:])

    def log_message(self, format: str, *args) -> None:
        log.debug("%s - " + format, self.address_string(), *args)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    fixture: FixtureServer


class FixtureServer:
    """A running fixture HTTP server; stop it with ``stop()`` or use it as a context manager."""

    def __init__(self, sites: list[FixtureSite], host: str = "127.0.0.1", port: int = 0):
        if not sites:
            raise ValueError("no fixture sites to serve")
        self.sites = sites
        self._by_domain = {domain.lower(): site for site in sites for domain in site.domains}
        # (method, Host header, path, status) per request served; appended under the lock.
        self.requests: list[tuple[str, str, str, int]] = []
        self._lock = threading.Lock()
        # path → (status, content type, body, headers) served instead of the page, or a callable
        # given the request handler that writes the raw answer itself: tests use them to play a
        # broken or hostile site (HTTP errors, garbage, wrong encodings, huge pages, resets, stalls).
        self.faults: dict[str, tuple[int, str, bytes, dict[str, str]] | Callable] = {}
        self.latency = 0.0  # seconds each answer waits before it starts, as a distant server's would
        # outlet id → most requests it was answering at one moment (politeness, measured here)
        self.max_in_flight: Counter[str] = Counter()
        self._in_flight: Counter[str] = Counter()
        self._httpd = _Server((host, port), _Handler)
        self._httpd.fixture = self
        self.host: str = self._httpd.server_address[0]
        self.port: int = self._httpd.server_address[1]
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, name=f"fixture-server-{self.port}", daemon=True
        )
        self._thread.start()
        log.debug("fixture server on %s for %s", self.url, [site.outlet_id for site in sites])

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def site_for(self, host_header: str) -> FixtureSite:
        """The site whose domains include the Host; loopback or unknown hosts get the first site."""
        return self._by_domain.get(_hostname(host_header), self.sites[0])

    def edit(self, url: str, *, paragraph: str, modified: datetime) -> None:
        """Rewrite the first paragraph of the article at ``url`` (a real outlet URL) and set its
        modification time; its page, feeds, sitemaps and API answers change from now on."""
        self.site_for(urlsplit(url).netloc).edit(url, paragraph=paragraph, modified=modified)

    def reset(self) -> None:
        """Undo every ``edit`` (the server is shared by tests); ``faults`` are the caller's to clear."""
        for site in self.sites:
            site.reset()

    def begin_request(self, outlet_id: str) -> None:
        with self._lock:
            self._in_flight[outlet_id] += 1
            self.max_in_flight[outlet_id] = max(self.max_in_flight[outlet_id], self._in_flight[outlet_id])

    def end_request(self, outlet_id: str) -> None:
        with self._lock:
            self._in_flight[outlet_id] -= 1

    def _record(self, method: str, host: str, path: str, status: int) -> None:
        with self._lock:
            self.requests.append((method, host, path, status))

    def wait(self, timeout: float | None = None) -> None:
        """Block until the server is stopped (or ``timeout`` seconds pass)."""
        self._thread.join(timeout)

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> FixtureServer:
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop()


def serve(host: str = "127.0.0.1", port: int = 0, *, root: Path = FIXTURES_DIR,
          outlets_dir: Path = OUTLETS_DIR) -> FixtureServer:
    """Load every outlet's fixture site once and serve them in a background thread."""
    return FixtureServer(load_sites(root, outlets_dir), host, port)
