"""A fetched page's bytes as text, decoded by evidence rather than by what the page claims.

Order: a byte-order mark; a declared UTF-16/32; bytes that are valid UTF-8 (a legacy text almost
never is, so this wins over a header or meta that says otherwise); a declared charset that decodes
the bytes; mostly-UTF-8 with a few bad bytes; then charset_normalizer's detection. A page that none
of these decodes, or that decodes into text full of replacement or control characters, is not
decodable: the caller drops it as ``encoding`` rather than store mojibake.
"""

from __future__ import annotations

import codecs
import re

import charset_normalizer
from w3lib.encoding import html_body_declared_encoding, http_content_type_encoding, read_bom

MAX_BAD_SHARE = 0.01  # of the non-ASCII characters: a few stray bytes in a UTF-8 page, not another charset
MAX_JUNK_SHARE = 0.01  # replacement and control characters in the decoded text: above it, it is mojibake
_JUNK = re.compile("[\ufffd\x01-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


class UndecodablePage(ValueError):
    """No charset turns the page's bytes into readable text; the message says what was tried."""


def _codec(name: str | None) -> str | None:
    try:
        return codecs.lookup(name).name if name else None
    except LookupError:
        return None


def _utf8_with_few_errors(body: bytes) -> str | None:
    text = body.decode("utf-8", errors="replace")
    bad = text.count("\ufffd")
    non_ascii = sum(1 for char in text if char > "\x7f")
    return text if bad <= max(3, MAX_BAD_SHARE * non_ascii) else None


def _decoded(body: bytes, content_type: str | None) -> tuple[str, str]:
    """(text, how it was decoded)."""
    bom, _ = read_bom(body)
    if bom:
        return body.decode(bom, errors="replace"), f"byte-order mark ({bom})"
    declared = _codec(http_content_type_encoding(content_type) if content_type else None)
    declared = declared or _codec(html_body_declared_encoding(body))
    if declared and declared.startswith(("utf-16", "utf-32")):
        return body.decode(declared, errors="replace"), f"declared {declared}"
    try:
        return body.decode("utf-8"), "valid utf-8"
    except UnicodeDecodeError:
        pass
    if declared and declared != "utf-8":
        try:
            return body.decode(declared), f"declared {declared}"
        except UnicodeDecodeError:
            pass
    if (text := _utf8_with_few_errors(body)) is not None:
        return text.replace("\ufffd", ""), "utf-8 without its few invalid bytes"
    best = charset_normalizer.from_bytes(body).best()
    if best is None:
        raise UndecodablePage(f"declared {declared or 'nothing'}; neither that, utf-8 nor a detected charset decodes it")
    return str(best), f"detected {best.encoding} (declared {declared or 'nothing'})"


def decode_html(body: bytes, content_type: str | None) -> str:
    """The page as text (NUL characters removed), or UndecodablePage."""
    text, how = _decoded(body, content_type)
    text = text.replace("\x00", "")
    junk = len(_JUNK.findall(text))
    if text and junk > MAX_JUNK_SHARE * len(text):
        raise UndecodablePage(f"{junk} of {len(text)} characters are replacement or control characters ({how})")
    return text
