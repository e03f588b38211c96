"""Safety and politeness middlewares: where a crawl may go, and how it backs off.

- Only the outlet's own domains over http(s); never private, loopback or link-local addresses
  (a redirect there is how a hostile page would reach internal services). Replay mode is the one
  sanctioned exception for the address check: it points every request at a loopback server.
- Retries on 429 and 5xx wait with exponential backoff, or as long as Retry-After asks.
"""

from __future__ import annotations

import asyncio
import email.utils
import ipaddress
import socket
from datetime import datetime
from functools import lru_cache
from urllib.parse import urlsplit

from scrapy.downloadermiddlewares.retry import get_retry_request
from scrapy.exceptions import IgnoreRequest

from kernel.rules import utc_now

REFUSAL_REASONS = ("off-domain", "private-address", "bad-scheme")


class RefusedRequest(IgnoreRequest):
    def __init__(self, reason: str, detail: str):
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


def _is_private(address: str) -> bool:
    ip = ipaddress.ip_address(address)
    return ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_multicast or ip.is_reserved or ip.is_unspecified


@lru_cache(maxsize=256)
def _resolves_privately(host: str) -> bool:
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(host, None)}
    except OSError:
        return False  # unresolvable: the download itself will fail with a DNS error
    return any(_is_private(address) for address in addresses)


class SafetyMiddleware:
    def __init__(self, crawler):
        self.crawler = crawler
        self.replay = bool(crawler.settings.get("NEWSETL_REPLAY_URL"))

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def process_request(self, request):
        parts = urlsplit(request.url)
        host = (parts.hostname or "").lower()
        if parts.scheme not in ("http", "https"):
            raise RefusedRequest("bad-scheme", request.url)
        try:
            literal = ipaddress.ip_address(host)
        except ValueError:
            literal = None
        if literal is not None and _is_private(host):
            raise RefusedRequest("private-address", request.url)
        if host not in self.crawler.spider.outlet.domains:
            raise RefusedRequest("off-domain", request.url)
        if not self.replay and _resolves_privately(host):
            raise RefusedRequest("private-address", f"{request.url} resolves to a private address")
        return None


def retry_after_seconds(value: bytes | None, now: datetime | None = None) -> float | None:
    """Retry-After as seconds: either delta-seconds or an HTTP date."""
    if not value:
        return None
    text = value.decode("latin-1").strip()
    if text.isdigit():
        return float(text)
    try:
        moment = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    return max(0.0, (moment - (now or utc_now())).total_seconds())


class BackoffRetryMiddleware:
    """Retry 429/5xx responses after base·2^n seconds, or Retry-After, capped."""

    def __init__(self, crawler):
        settings = crawler.settings
        self.crawler = crawler
        self.codes = set(settings.getlist("NEWSETL_RETRY_HTTP_CODES", [429, 500, 502, 503, 504, 522, 524, 408]))
        self.max_times = settings.getint("RETRY_TIMES", 2)
        self.base = settings.getfloat("NEWSETL_RETRY_BASE_DELAY", 1.0)
        self.cap = settings.getfloat("NEWSETL_RETRY_MAX_DELAY", 60.0)

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    async def process_response(self, request, response):
        if response.status not in self.codes or request.meta.get("dont_retry"):
            return response
        attempt = request.meta.get("retry_times", 0)
        retry = get_retry_request(request, spider=self.crawler.spider, reason=f"HTTP {response.status}",
                                  max_retry_times=self.max_times)
        if retry is None:
            return response
        delay = retry_after_seconds(response.headers.get("Retry-After"))
        delay = min(self.cap, delay if delay is not None else self.base * 2 ** attempt)
        self.crawler.stats.inc_value("newsetl/retry_wait_ms", round(delay * 1000))
        await asyncio.sleep(delay)
        return retry
