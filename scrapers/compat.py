"""What the crawl re-implements of Scrapy's insides, in one place, for the Scrapy minor version
pinned in ``pyproject.toml``; ``tests/faults`` measures at the server that it holds."""

from __future__ import annotations

from time import monotonic

from scrapy.core.downloader import Downloader, Slot
from scrapy.utils.asyncio import call_later
from scrapy.utils.defer import _schedule_coro


class PoliteDownloader(Downloader):
    """Scrapy's downloader, with each slot's concurrency limit kept.

    With the asyncio reactor, Scrapy schedules each download as a task and counts it as
    transferring only once that task first runs, so one pass over a slot's queue starts every
    queued request at once (4–5 in flight to one site where 2 are allowed, measured at the test
    server). Here a request counts as transferring from the moment it leaves the queue.
    """

    def _process_queue(self, slot: Slot) -> None:  # Scrapy 2.19's, with the one line marked
        if slot.latercall:
            return
        now = monotonic()
        delay = slot.download_delay()
        if delay:
            penalty = delay - now + slot.lastseen
            if penalty > 0:
                slot.latercall = call_later(penalty, self._latercall, slot)
                return
        while slot.queue and slot.free_transfer_slots() > 0:
            slot.lastseen = now
            request, queue_dfd = slot.queue.popleft()
            slot.transferring.add(request)  # the line: _download adds it again (a set) and removes it
            _schedule_coro(self._wait_for_download(slot, request, queue_dfd))
            if delay:
                self._process_queue(slot)
                break
