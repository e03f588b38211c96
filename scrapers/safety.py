"""Safety and politeness middlewares: where a crawl may go, and how it backs off.

- One download slot per outlet, so the per-site concurrency limit counts every host of the outlet.
- Only the outlet's own domains over http(s); never private, loopback or link-local addresses
  (a redirect there is how a hostile page would reach internal services). Replay mode is the one
  sanctioned exception for the address check: it points every request at a loopback server.
- Retries on 429 and 5xx wait with exponential backoff, or as long as Retry-After asks.
- Redirects that loop, or lead out of http(s), end with a reason instead of vanishing.
- A wall (401, 403, a bot-protection challenge served with 200) is ``blocked``, never an article.
"""

from __future__ import annotations

import asyncio
import email.utils
import ipaddress
import re
import socket
from datetime import datetime
from functools import lru_cache
from urllib.parse import urljoin, urlsplit

from scrapy.downloadermiddlewares.retry import get_retry_request
from scrapy.exceptions import IgnoreRequest

from kernel.rules import utc_now

REFUSAL_REASONS = ("off-domain", "private-address", "bad-scheme")


class RefusedRequest(IgnoreRequest):
    """A request the crawl chose not to make (``reason`` one of REFUSAL_REASONS)."""

    def __init__(self, reason: str, detail: str):
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


class FailedResponse(IgnoreRequest):
    """A response that answers nothing usable (``blocked``, ``redirect-loop``): a failure of the site;
    ``logged``: its fetch-log row already carries the reason."""

    def __init__(self, reason: str, detail: str, logged: bool = False):
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail
        self.logged = logged


# Bot-protection interstitials answer 200 with a page that only asks the browser to prove itself.
# Read from the challenge pages of the common vendors (Cloudflare, Sucuri, Imperva/Incapsula,
# DDoS-Guard, DataDome, PerimeterX, Akamai) as they are widely documented; see docs/reliability.md.
_CHALLENGE_MARKS = (
    b"just a moment...", b"verifying you are human", b"verify you are human", b"checking your browser",
    b"enable javascript and cookies to continue", b"attention required! | cloudflare", b"cf-chl-",
    b"/cdn-cgi/challenge-platform/", b"ddos-guard", b"_incapsula_resource", b"incapsula incident id",
    b"sucuri website firewall", b"captcha-delivery.com", b"px-captcha", b"press &amp; hold")
_ACCESS_DENIED = re.compile(rb"access denied</title>.{0,2000}reference #", re.DOTALL)  # Akamai's wall
CHALLENGE_MAX_BYTES = 64 * 1024  # an interstitial is small; a long page that quotes one is an article


def _challenge_mark(body: bytes) -> bytes | None:
    """The first challenge mark in ``body``, case-folded. Substring searches of the lowered body:
    one case-insensitive regex of all marks was the crawl's largest CPU cost (docs/benchmarks.md)."""
    lowered = body.lower()
    for mark in _CHALLENGE_MARKS:
        if mark in lowered:
            return mark
    if b"access denied</title>" in lowered and (found := _ACCESS_DENIED.search(lowered)):
        return found.group(0)
    return None


def blocked_reason(status: int, headers, body: bytes) -> str | None:
    """Why a response is a wall rather than the page asked for, or None."""
    if status in (401, 403):
        return f"HTTP {status}"
    if (headers.get(b"cf-mitigated") or b"").lower() == b"challenge":
        return f"HTTP {status}, cf-mitigated: challenge"
    if 200 <= status < 300 and len(body) <= CHALLENGE_MAX_BYTES and (found := _challenge_mark(body)):
        return f"bot-protection challenge page ({found[:40].decode('latin-1')!r})"
    return None


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
        # One download slot for the whole outlet: its per-site limit holds across its hosts
        # (www. and bare, an edition's subdomain) and for robots.txt, not per host name.
        request.meta["download_slot"] = self.crawler.spider.outlet.id
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


class RedirectGuardMiddleware:
    """Downloader middleware under Scrapy's redirect middleware: a redirect back to a URL of its own
    chain is a ``redirect-loop`` (Scrapy's duplicate filter would drop it without a word), and a
    redirect out of http(s) is refused as ``bad-scheme`` (Scrapy would hand the 3xx on as an error)."""

    @classmethod
    def from_crawler(cls, crawler):
        return cls()

    def process_response(self, request, response):
        location = response.headers.get("Location")
        if not location or response.status not in (301, 302, 303, 307, 308):
            return response
        target = urljoin(request.url, location.decode("latin-1").strip())
        if urlsplit(target).scheme not in ("http", "https"):
            raise RefusedRequest("bad-scheme", f"redirect to {target}")
        chain = [*request.meta.get("redirect_urls", ()), request.url]
        if target in chain:
            raise FailedResponse("redirect-loop", f"{' → '.join(chain[chain.index(target):])} → {target}")
        return response
