"""Rebuild this folder's feeds from a checkout of kagisearch/fastfeedparser (its benchmark_data:
feeds saved from the web) and the sitemaps from adbar/trafilatura's tests/resources.

    python tests/discovery_corpus/collect.py FASTFEEDPARSER_CHECKOUT TRAFILATURA_CHECKOUT

Which feeds: every one up to 120 KB that has one of the classes a feed reader gets wrong (xml:base,
a byte-order mark, an encoding other than UTF-8 in its prolog, RSS 1.0/RDF, a link in CDATA, an item
whose only URL is its guid, Atom links with a rel, feedburner links), then the others in file-name
order (the names are content hashes, so this is an unbiased sample) up to 60 feeds.
"""

from __future__ import annotations

import gzip
import re
import shutil
import sys
from pathlib import Path

HERE = Path(__file__).parent
MAX_BYTES = 120_000
TARGET = 60
CLASSES = {
    "xml:base": rb"xml:base=",
    "bom": rb"^(\xef\xbb\xbf|\xff\xfe|\xfe\xff)",
    "encoding": rb"^\s*<\?xml[^>]*encoding=[\"'](?!utf-8)",
    "rdf": rb"<rdf:RDF",
    "cdata-link": rb"<link>\s*<!\[CDATA\[",
    "guid": rb"isPermaLink=[\"']true",
    "atom-rel": rb"<link[^>]*rel=[\"'](self|enclosure|replies|edit)",
    "feedburner": rb"feedburner:origLink",
}


def classes(body: bytes) -> list[str]:
    return [name for name, pattern in CLASSES.items() if re.search(pattern, body[:MAX_BYTES], re.I)]


def main(feeds_checkout: str, trafilatura_checkout: str) -> None:
    source = Path(feeds_checkout) / "benchmark_data"
    chosen, rest = [], []
    for path in sorted(source.iterdir()):
        body = path.read_bytes()
        if len(body) > MAX_BYTES or body.lstrip().startswith(b"{"):  # JSON Feed: not a format under test here
            continue
        (chosen if classes(body) else rest).append(path)
    chosen += rest[: max(0, TARGET - len(chosen))]
    out = HERE / "feeds"
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir()
    for path in chosen:
        (out / f"{path.name}.xml.gz").write_bytes(gzip.compress(path.read_bytes(), mtime=0))
    shutil.copy(Path(feeds_checkout) / "LICENSE", out / "LICENSE")
    sitemaps = HERE / "sitemaps"
    sitemaps.mkdir(exist_ok=True)
    for name in ("sitemap.xml", "sitemap-hreflang.xml"):
        shutil.copy(Path(trafilatura_checkout) / "tests" / "resources" / name, sitemaps / name)
    shutil.copy(Path(trafilatura_checkout) / "LICENSE", sitemaps / "LICENSE")
    print(f"{len(chosen)} feeds, {sum(p.stat().st_size for p in out.iterdir())} bytes gzipped")


if __name__ == "__main__":
    main(*sys.argv[1:3])
