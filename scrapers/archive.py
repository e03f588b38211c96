"""Raw archive and fetch log: every response of a run goes to a gzipped WARC file, every request
outcome to fetch_log.jsonl, so extraction can be re-run without a recrawl and every fetch is on record.
"""

from __future__ import annotations

import gzip
import json
from io import BytesIO
from pathlib import Path

from warcio.archiveiterator import ArchiveIterator
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from kernel.rules import utc_now
from kernel.rundir import RunDir
from kernel.storage import open_ranged
from scrapers.safety import FailedResponse, blocked_reason

GZIP_LEVEL = 3
# Headers that describe the transfer, not the content; the archived body is what Scrapy received.
_TRANSFER_HEADERS = {b"transfer-encoding", b"content-length"}


class FetchLog:
    def __init__(self, run_dir: Path):
        self.file = RunDir(run_dir).fetch_log.open("a", encoding="utf-8", buffering=1)

    def write(self, url: str, kind: str, status: int | None = None, size: int | None = None,
              elapsed: float | None = None, reason: str | None = None, detail: str | None = None) -> None:
        self.file.write(json.dumps({
            "url": url, "kind": kind, "status": status, "bytes": size,
            "elapsed_ms": round(elapsed * 1000) if elapsed is not None else None,
            "reason": reason, "detail": detail, "fetched_at": utc_now().isoformat(),
        }, ensure_ascii=False) + "\n")

    def close(self) -> None:
        self.file.close()


class WarcArchiveMiddleware:
    """Downloader middleware: archive each response (with its request) and log the fetch.

    It sits above the redirect middleware, so redirects are archived too; the offset of each
    response record is left in ``request.meta["warc_offset"]`` for the spider.
    """

    def __init__(self, crawler):
        self.crawler = crawler
        self.file = None  # the spider's run directory's archive, opened with the spider
        self.buffer = BytesIO()
        # Records are written plain into a buffer and gzipped one by one at a fast level: each
        # record is its own gzip member (so it can be read from its offset), and warcio's fixed
        # level 9 costs more CPU per page than the rest of the crawl (docs/benchmarks.md).
        self.writer = WARCWriter(self.buffer, gzip=False)

    @classmethod
    def from_crawler(cls, crawler):
        middleware = cls(crawler)
        from scrapy import signals

        crawler.signals.connect(middleware.open, signal=signals.spider_opened)
        crawler.signals.connect(middleware.close, signal=signals.spider_closed)
        return middleware

    def open(self) -> None:
        self.file = RunDir(self.crawler.spider.run_dir).warc.open("ab")

    def close(self) -> None:
        if self.file:
            self.file.close()

    def _write(self, record) -> int:
        """Append one record as its own gzip member; returns its offset."""
        self.buffer.seek(0)
        self.buffer.truncate()
        self.writer.write_record(record)
        offset = self.file.tell()
        self.file.write(gzip.compress(self.buffer.getvalue(), compresslevel=GZIP_LEVEL, mtime=0))
        return offset

    def process_response(self, request, response):
        request_headers = [(k.decode("latin-1"), v.decode("latin-1"))
                           for k, values in request.headers.items() for v in values]
        self._write(self.writer.create_warc_record(
            request.url, "request",
            http_headers=StatusAndHeaders(f"{request.method} {_path(request.url)} HTTP/1.1", request_headers,
                                          is_http_request=True),
        ))
        headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, values in response.headers.items()
                   for v in values if k.lower() not in _TRANSFER_HEADERS]
        offset = self._write(self.writer.create_warc_record(
            response.url, "response", payload=BytesIO(response.body), length=len(response.body),
            http_headers=StatusAndHeaders(f"{response.status} {_reason(response.status)}", headers,
                                          protocol="HTTP/1.1"),
        ))
        request.meta["warc_offset"] = offset
        handled = response.status in request.meta.get("handle_httpstatus_list", ())
        blocked = blocked_reason(response.status, response.headers, response.body)
        location = response.headers.get("Location")
        if blocked:
            reason, detail = "blocked", blocked
        elif response.status >= 400 and not handled:
            reason, detail = "http-error", None
        else:
            reason = None
            detail = f"redirect to {location.decode('latin-1')}" if location and 300 <= response.status < 400 else None
        self.crawler.spider.fetch_log.write(
            response.url, request_kind(request), response.status, len(response.body),
            request.meta.get("download_latency"), reason=reason, detail=detail)
        if blocked and response.status < 300:  # a 4xx goes on to Scrapy's HTTP error handling
            raise FailedResponse("blocked", blocked, logged=True)
        return response


def request_kind(request) -> str:
    """What a request was for; robots.txt requests come from Scrapy's middleware, unlabelled."""
    if "kind" in request.meta:
        return request.meta["kind"]
    return "robots" if _path(request.url) == "/robots.txt" else "page"


def _path(url: str) -> str:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


def _reason(status: int) -> str:
    from http import HTTPStatus

    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"


def read_warc_response(path: Path, offset: int) -> tuple[bytes, str | None]:
    """(content-decoded body, Content-Type header) of the response record at ``offset`` (of a local
    or a remote archive: only the record's bytes are read)."""
    with open_ranged(path) as file:
        file.seek(offset)
        record = next(iter(ArchiveIterator(file)))
        if record.rec_type != "response":
            raise ValueError(f"{path}@{offset} is a {record.rec_type} record, not a response")
        return record.content_stream().read(), record.http_headers.get_header("Content-Type")
