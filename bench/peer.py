"""The peers of the end-to-end benchmark, pointed at its synthetic outlet on loopback.

    python bench/peer.py HOST trafilatura TRAFILATURA_ARGS...   # trafilatura's command line, as installed
    python bench/peer.py HOST news-please URL_FILE              # news-please's NewsPlease.from_urls

``HOST`` (the outlet's name) resolves to 127.0.0.1 in this process, as a DNS entry would: trafilatura's
command line refuses URLs with an IP address for a host. This file imports only the standard library
and the peer it runs, so it runs in a peer's own virtualenv (news-please's).
"""

from __future__ import annotations

import json
import socket
import sys

NEWS_PLEASE_BATCH = 500  # from_urls starts a thread per URL and holds every page: a batch at a time
_resolve = socket.getaddrinfo


def resolve_to_loopback(name: str) -> None:
    def getaddrinfo(host, *args, **kwargs):
        return _resolve("127.0.0.1" if host == name else host, *args, **kwargs)

    socket.getaddrinfo = getaddrinfo


def news_please(url_file: str) -> None:
    """Every URL of ``url_file`` through news-please; one JSON line: URLs, articles with a body."""
    from newsplease import NewsPlease

    urls = [line.strip() for line in open(url_file, encoding="utf-8") if line.strip()]
    articles = 0
    for start in range(0, len(urls), NEWS_PLEASE_BATCH):
        results = NewsPlease.from_urls(urls[start:start + NEWS_PLEASE_BATCH], request_args={"timeout": 30},
                                       fetch_images=False)
        articles += sum(1 for article in results.values() if getattr(article, "maintext", None))
        print(f"news-please: {start + NEWS_PLEASE_BATCH}/{len(urls)}", file=sys.stderr, flush=True)
    print(json.dumps({"urls": len(urls), "articles": articles}))


if __name__ == "__main__":
    host, peer, *rest = sys.argv[1:]
    resolve_to_loopback(host)
    if peer == "trafilatura":
        from trafilatura import cli

        sys.argv = ["trafilatura", *rest]
        cli.main()
    elif peer == "news-please":
        news_please(*rest)
    else:
        sys.exit(f"unknown peer {peer!r}: trafilatura or news-please")
