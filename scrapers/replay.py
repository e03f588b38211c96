"""Replay mode: with NEWSETL_REPLAY_URL set, every outlet request is answered by that server.

It works at the download-handler level, the last step before the network, so everything above it
(redirects, robots.txt, stats, the spider and the stored URLs) sees the outlet's real URLs; only
the socket goes to the replay server, with the original host in the ``Host`` header.
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

from scrapy.core.downloader.handlers.http11 import HTTP11DownloadHandler
from scrapy.exceptions import NotConfigured
from scrapy.http import Request, Response


def replay_target(url: str, replay_url: str) -> str:
    """``url`` with scheme and host swapped for the replay server's; path and query unchanged."""
    original, replay = urlsplit(url), urlsplit(replay_url)
    return urlunsplit((replay.scheme, replay.netloc, original.path or "/", original.query, ""))


class ReplayDownloadHandler(HTTP11DownloadHandler):
    def __init__(self, crawler):
        self.replay_url = crawler.settings.get("NEWSETL_REPLAY_URL")
        if not self.replay_url:
            raise NotConfigured("NEWSETL_REPLAY_URL is not set")
        super().__init__(crawler)

    async def download_request(self, request: Request) -> Response:
        host = urlsplit(request.url).netloc
        replayed = request.replace(url=replay_target(request.url, self.replay_url))
        replayed.headers[b"Host"] = host.encode("idna")
        response = await super().download_request(replayed)
        if "download_latency" in replayed.meta:  # measured on the copy; the fetch log reads it here
            request.meta["download_latency"] = replayed.meta["download_latency"]
        return response.replace(url=request.url, request=request)
