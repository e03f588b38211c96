"""A hostile web on loopback: behaviours the fixture server plays in place of a page.

Each function returns a callable given the request handler; it writes (or withholds) the raw
answer itself — resets, stalls, lies about sizes and charsets, loops — as real servers do.
"""

from __future__ import annotations

import gzip
import select
import socket
import struct
import threading
import time
import zlib
from urllib.parse import parse_qs, urlsplit


def _client_gone(handler) -> bool:
    """Whether the client hung up (the server only notices when it looks)."""
    readable, _, _ = select.select([handler.connection], [], [], 0)
    try:
        return bool(readable) and handler.connection.recv(1, socket.MSG_PEEK) == b""
    except OSError:
        return True


def _wait(handler, seconds: float) -> None:
    """Sleep ``seconds``, or until the client hangs up."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and not _client_gone(handler):
        time.sleep(0.01)


def _head(handler, status: int, headers: dict[str, str]) -> None:
    lines = [f"HTTP/1.1 {status} X"] + [f"{name}: {value}" for name, value in headers.items()]
    handler.wfile.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))


def answer(status: int, body: bytes, content_type: str = "text/html", **headers: str):
    """A plain response (what the static faults give), as a behaviour."""
    def behave(handler):
        _head(handler, status, {"Content-Type": content_type, "Content-Length": str(len(body)),
                                "Connection": "close", **{k.replace("_", "-"): v for k, v in headers.items()}})
        handler.wfile.write(body)
    return behave


def after_failures(count: int, failure, success):
    """``failure`` for the first ``count`` requests, ``success`` after (a burst, then recovery)."""
    served = [0]
    lock = threading.Lock()

    def behave(handler):
        with lock:
            served[0] += 1
            failing = served[0] <= count
        (failure if failing else success)(handler)
    return behave


def reset():
    """The connection is torn down (RST) as soon as the request arrives."""
    def behave(handler):
        handler.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        handler.connection.close()
    return behave


def truncated(body: bytes):
    """A Content-Length the body never reaches: the server hangs up half-way."""
    def behave(handler):
        _head(handler, 200, {"Content-Type": "text/html; charset=utf-8", "Content-Length": str(len(body))})
        handler.wfile.write(body[: len(body) // 2])
        handler.wfile.flush()
        handler.connection.shutdown(socket.SHUT_RDWR)
    return behave


def trickle(body: bytes, interval: float = 0.5, seconds: float = 20):
    """One byte every ``interval`` seconds: the page never arrives in time."""
    def behave(handler):
        _head(handler, 200, {"Content-Type": "text/html; charset=utf-8", "Content-Length": str(len(body))})
        deadline = time.monotonic() + seconds
        for byte in body:
            if time.monotonic() > deadline or _client_gone(handler):
                return
            handler.wfile.write(bytes([byte]))
            handler.wfile.flush()
            _wait(handler, interval)
    return behave


def silent(seconds: float = 20):
    """The request is read and never answered."""
    def behave(handler):
        _wait(handler, seconds)
    return behave


def gzip_bomb(layers: int = 1, inflated: int = 64 * 1024 * 1024):
    """A small body that inflates far past the size cap (``layers`` of gzip, declared as such)."""
    body = gzip.compress(b"\0" * inflated, compresslevel=9)
    for _ in range(layers - 1):
        body = gzip.compress(body, compresslevel=9)
    return answer(200, body, "text/html; charset=utf-8", Content_Encoding=", ".join(["gzip"] * layers))


def endless_stream(chunk: bytes = b"<p>" + b"more " * 2000 + b"</p>"):
    """Chunked transfer that never ends."""
    def behave(handler):
        _head(handler, 200, {"Content-Type": "text/html; charset=utf-8", "Transfer-Encoding": "chunked"})
        handler.wfile.write(b"c\r\n<html><body>\r\n")
        framed = f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            handler.wfile.write(framed)
    return behave


def redirect(location: str, status: int = 301):
    return answer(status, b"", Location=location)


def redirect_chain(hops: int, final):
    """``?hop=1`` … ``?hop=hops`` redirect to the next hop; the last hop answers with ``final``."""
    def behave(handler):
        parts = urlsplit(handler.path)
        hop = int(parse_qs(parts.query).get("hop", ["0"])[0])
        if hop >= hops:
            return final(handler)
        redirect(f"{parts.path}?hop={hop + 1}")(handler)
    return behave


def deflate_raw(body: bytes) -> bytes:
    compressor = zlib.compressobj(wbits=-15)
    return compressor.compress(body) + compressor.flush()
