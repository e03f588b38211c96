"""Quality floor on real pages: newsetl must extract at least as well as bare trafilatura (better on ScrapingHub).

A small fixed slice (the first pages of ScrapingHub and of trafilatura-eval, sorted by id) is read by
`newsetl extract` and by `trafilatura.extract(html, url=url)` in the same run, and scored with the
benchmark's own metric code (bench/extraction_metrics.py). The full figures come from
bench/eval_extraction.py (docs/extraction-quality.md). Needs ../shared/testdata; skips without it.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
TESTDATA = REPO / ".." / "shared" / "testdata"
SLICE = {"scrapinghub": 25, "trafilatura": 60}
# How far newsetl must lead bare trafilatura on the slice. Measured 2026-11-28: ScrapingHub 0.977 vs
# 0.949, trafilatura-eval 0.928 vs 0.919; the required lead keeps about half of that as a margin.
LEAD = {"scrapinghub": 0.015, "trafilatura": 0.004}

sys.path.insert(0, str(REPO / "bench"))  # bench/ is a folder of scripts, not a package
import eval_extraction as bench  # noqa: E402
import extraction_metrics as metrics  # noqa: E402


@pytest.fixture(scope="module")
def testdata() -> Path:
    folders = [TESTDATA / "scrapinghub", TESTDATA / "trafilatura-eval"]
    missing = [str(folder.resolve()) for folder in folders if not folder.is_dir()]
    if missing:
        pytest.skip(f"real-page test data not found ({', '.join(missing)}): "
                    "these tests read ../shared/testdata next to the repository")
    return TESTDATA.resolve()


def _both(dataset: str, testdata: Path, workdir: Path) -> tuple[list, dict, dict]:
    pages = bench.LOADERS[dataset](testdata, SLICE[dataset])
    ours = bench.run_newsetl(pages, workdir)
    theirs = bench.run_trafilatura(pages, bench.BASELINES["trafilatura-default"], metadata=False)
    return pages, bench.score(dataset, pages, ours), bench.score(dataset, pages, theirs)


def test_scrapinghub_body_f1_leads_bare_trafilatura(testdata, tmp_path):
    pages, ours, theirs = _both("scrapinghub", testdata, tmp_path)
    assert len(pages) == SLICE["scrapinghub"]
    assert ours["errors"] == 0
    assert ours["f1"] >= theirs["f1"] + LEAD["scrapinghub"], (
        f"newsetl ScrapingHub F1 {ours['f1']:.3f} (P {ours['precision']:.3f}, R {ours['recall']:.3f}) is not "
        f"{LEAD['scrapinghub']} above bare trafilatura's {theirs['f1']:.3f} (P {theirs['precision']:.3f}, "
        f"R {theirs['recall']:.3f}) on the first {len(pages)} pages; run bench/eval_extraction.py for the pages it loses")


def test_trafilatura_snippet_f1_not_below_bare_trafilatura(testdata, tmp_path):
    pages, ours, theirs = _both("trafilatura", testdata, tmp_path)
    assert len(pages) == SLICE["trafilatura"]
    assert ours["f1"] >= theirs["f1"] + LEAD["trafilatura"], (
        f"newsetl snippet F1 {ours['f1']:.3f} (P {ours['precision']:.3f}, R {ours['recall']:.3f}) is below "
        f"bare trafilatura's {theirs['f1']:.3f} (P {theirs['precision']:.3f}, R {theirs['recall']:.3f}) "
        f"on the first {len(pages)} pages; run bench/eval_extraction.py for the pages it loses")


def test_metrics_follow_the_published_definitions():
    # ScrapingHub: 4-token shingles as a multiset, lowercased; P and R undefined on empty sides.
    assert metrics.body_precision_recall("A b c d e", "a b c d") == (0.5, 1.0)
    assert metrics.body_precision_recall("", "a b c d") == (None, 0.0)
    assert metrics.body_precision_recall("a b c d", "") == (0.0, None)
    # Multisets: "x y x y x y" has the shingle (x y x y) twice, the gold once, so only one of its three matches.
    assert metrics.body_precision_recall("x y x y x y", "x y x y") == (1 / 3, 1.0)
    scores = metrics.body_scores([("a b c d", "a b c d"), ("", "a b c d")])
    assert (scores["precision"], scores["recall"]) == (1.0, 0.5)  # the empty output has no precision
    # trafilatura snippets: case-sensitive, whitespace-normalised substring.
    assert metrics.snippet_counts("One two\n\nthree. Menu", ["two three.", "Two"], ["Menu", "Footer"]) == (1, 1, 1)
    # fundus: instants to the minute; a gold time without an offset is not scored.
    assert metrics.same_minute("2024-05-03T17:47:59+02:00", "2024-05-03 15:47:42.389000+00:00") is True
    assert metrics.same_minute("2024-05-03", "2024-05-03 15:47:42+00:00") is False
    assert metrics.same_minute("2024-05-03T15:47:00+00:00", "2024-05-03 15:47:00") is None
    assert metrics.author_f1(["Anna  Fink", "X"], ["anna fink", "Jan Marchart"]) == 0.5
    assert metrics.title_matches(" A  title\n", "A title") is True
