"""Language identification: langdetect alone vs `newsetl langid`, on lingua's test sets.

    .venv/bin/python bench/langid.py                 # first 1000 lines of each file (all of them today)
    .venv/bin/python bench/langid.py --limit 200     # quick look

Reads ../shared/testdata/langid/{sentences,word-pairs,single-words}/<lang>.txt. The project side runs
the real command (`python -m newsetl.cli langid`, no prior) on every line; langdetect runs in this
process, seeded, its top answer. Also for information: the same sentences with prior "mk" (what a
Macedonian edition passes), and the Serbian sentences transliterated to Serbian Latin.

Prints a table, rewrites the figures block in docs/langid.md, and ends with one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import date
from pathlib import Path

from langdetect import DetectorFactory, detect_langs
from langdetect.lang_detect_exception import LangDetectException

REPO = Path(__file__).resolve().parent.parent
DATA = REPO.parent / "shared" / "testdata" / "langid"
DOC = REPO / "docs" / "langid.md"
SETS = ("sentences", "word-pairs", "single-words")
LANGUAGES = ("mk", "bg", "sr", "sq", "en", "hr", "bs", "sl", "ru", "uk", "tr", "de", "el", "ro")
TARGETS = {"mk": 99.0, "sq": 99.0, "en": 99.0, "bg": 97.0, "sr": 95.0}  # sentences, no prior
LATIN_SERBO_CROATIAN = {"hr": "hr", "bs": "bs", "sr-Latn": "sr"}  # set → its language, given as the prior
BEGIN, END = "<!-- bench/langid.py: figures begin -->", "<!-- bench/langid.py: figures end -->"

_SR_LATIN = {"а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "ђ": "đ", "е": "e", "ж": "ž", "з": "z", "и": "i",
             "ј": "j", "к": "k", "л": "l", "љ": "lj", "м": "m", "н": "n", "њ": "nj", "о": "o", "п": "p", "р": "r",
             "с": "s", "т": "t", "ћ": "ć", "у": "u", "ф": "f", "х": "h", "ц": "c", "ч": "č", "џ": "dž", "ш": "š"}
SR_LATIN = str.maketrans(_SR_LATIN | {k.upper(): v.capitalize() for k, v in _SR_LATIN.items()})


def read_lines(path: Path, limit: int) -> list[str]:
    lines = [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return lines[:limit]


def langdetect_alone(lines: list[str]) -> list[str]:
    DetectorFactory.seed = 0
    labels = []
    for line in lines:
        try:
            labels.append(detect_langs(line)[0].lang)
        except LangDetectException:
            labels.append("und")
    return labels


def start_cli(lines: list[str]) -> subprocess.Popen:
    """`newsetl langid` over all lines, running on the other core while langdetect runs here."""
    source = tempfile.TemporaryFile("w+", encoding="utf-8")
    source.write("\n".join(lines) + "\n")
    source.seek(0)
    env = os.environ | {"PYTHONUTF8": "1"}
    return subprocess.Popen([sys.executable, "-m", "newsetl.cli", "langid"], stdin=source, stdout=subprocess.PIPE,
                            text=True, encoding="utf-8", cwd=REPO, env=env)


def percent(labels: list[str], expected: str | set[str]) -> float:
    wanted = {expected} if isinstance(expected, str) else expected
    return round(100 * sum(label in wanted for label in labels) / len(labels), 1) if labels else 0.0


def confusions(labels: list[str], expected: str) -> str:
    wrong = Counter(label for label in labels if label != expected)
    return ", ".join(f"{label} {count}" for label, count in wrong.most_common(3))


def run(limit: int) -> dict:
    from transforms.language import detect_language

    started = time.monotonic()
    inputs = {(kind, lang): read_lines(DATA / kind / f"{lang}.txt", limit) for kind in SETS for lang in LANGUAGES}
    inputs[("sentences", "sr-Latn")] = [line.translate(SR_LATIN) for line in inputs[("sentences", "sr")]]
    order = list(inputs)
    cli = start_cli([line for key in order for line in inputs[key]])
    timer = time.monotonic()
    alone = {key: langdetect_alone(inputs[key]) for key in order}
    langdetect_seconds = time.monotonic() - timer
    with_prior = {lang: [detect_language(line, prior="mk").language for line in inputs[("sentences", lang)]]
                  for lang in LANGUAGES}
    own_prior = {key: [detect_language(line, prior=prior).language for line in inputs[("sentences", key)]]
                 for key, prior in LATIN_SERBO_CROATIAN.items()}
    output, _ = cli.communicate()
    if cli.returncode:
        raise SystemExit(f"newsetl langid failed with exit code {cli.returncode}")
    answers = [row.split("\t")[0] for row in output.splitlines()]
    project, at = {}, 0
    for key in order:
        project[key] = answers[at:at + len(inputs[key])]
        at += len(inputs[key])

    figures: dict = {"limit": limit, "lines": {kind: len(inputs[(kind, "mk")]) for kind in SETS}}
    for kind in SETS:
        figures[kind] = {lang: {"langdetect": percent(alone[(kind, lang)], lang),
                                "news_etl": percent(project[(kind, lang)], lang)} for lang in LANGUAGES}
    figures["sentences_prior_mk"] = {lang: percent(labels, lang) for lang, labels in with_prior.items()}
    figures["latin_serbo_croatian"] = {
        key: {"langdetect_hr": percent(alone[("sentences", key)], "hr"),
              "news_etl_hr": percent(project[("sentences", key)], "hr"),
              "news_etl_with_prior": percent(own_prior[key], prior)}
        for key, prior in LATIN_SERBO_CROATIAN.items()}
    figures["targets_met"] = all(figures["sentences"][lang]["news_etl"] >= target for lang, target in TARGETS.items())
    figures["langdetect_seconds"] = round(langdetect_seconds, 1)
    figures["seconds"] = round(time.monotonic() - started, 1)
    figures["confusions"] = {lang: confusions(project[("sentences", lang)], lang) for lang in LANGUAGES}
    return figures


def markdown(figures: dict) -> str:
    lines = [f"Last run {date.today().isoformat()}, first {figures['limit']} lines of each file "
             f"({figures['lines']['sentences']} sentences, {figures['lines']['word-pairs']} word pairs, "
             f"{figures['lines']['single-words']} single words per language), {figures['seconds']} s in all:", "",
             "```sh", ".venv/bin/python bench/langid.py", "```", "",
             "Share of lines whose answer is the file's language (%). `newsetl langid` is run without a prior;",
             "the \"prior mk\" column is the same detector given `prior=\"mk\"`, as on a Macedonian edition.", "",
             "| language | target | sentences: langdetect | sentences: news-etl | prior mk | news-etl's mistakes "
             "| word pairs: langdetect | news-etl | single words: langdetect | news-etl |",
             "|---|---:|---:|---:|---:|---|---:|---:|---:|---:|"]
    for lang in LANGUAGES:
        sentences, pairs, words = (figures[kind][lang] for kind in SETS)
        target = f"≥ {TARGETS[lang]:g}" if lang in TARGETS else ""
        lines.append(f"| {lang} | {target} | {sentences['langdetect']} | **{sentences['news_etl']}** "
                     f"| {figures['sentences_prior_mk'][lang]} | {figures['confusions'][lang]} "
                     f"| {pairs['langdetect']} | {pairs['news_etl']} | {words['langdetect']} | {words['news_etl']} |")
    lines += ["", f"Targets (sentences, no prior) met: **{'yes' if figures['targets_met'] else 'no'}**.", "",
              "Serbo-Croatian in Latin script, sentences (sr-Latn: the Serbian sentences transliterated to "
              "Serbian Latin). Without a prior both answer `hr`; given its own language as the prior, news-etl "
              "reports that standard:", "",
              "| set | langdetect: hr | news-etl, no prior: hr | news-etl, prior = the set's language: that language |",
              "|---|---:|---:|---:|"]
    for key, row in figures["latin_serbo_croatian"].items():
        lines.append(f"| {key} ({LATIN_SERBO_CROATIAN[key]}) | {row['langdetect_hr']} | {row['news_etl_hr']} "
                     f"| {row['news_etl_with_prior']} |")
    return "\n".join(lines)


def write_doc(block: str) -> None:
    """Replace the figures block in docs/langid.md, leaving the rest of the page alone."""
    text = DOC.read_text(encoding="utf-8") if DOC.exists() else "# Language identification\n"
    fenced = f"{BEGIN}\n{block}\n{END}"
    if BEGIN in text and END in text:
        text = text[:text.index(BEGIN)] + fenced + text[text.index(END) + len(END):]
    else:
        text = text.rstrip("\n") + "\n\n## Figures\n\n" + fenced + "\n"
    DOC.write_text(text, encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=1000, help="lines per file (default 1000)")
    parser.add_argument("--no-doc", action="store_true", help="do not rewrite docs/langid.md")
    args = parser.parse_args()
    if not DATA.is_dir():
        raise SystemExit(f"test data not found: {DATA}")
    sys.path.insert(0, str(REPO))
    figures = run(args.limit)
    block = markdown(figures)
    print(block)
    if not args.no_doc:
        write_doc(block)
    print(json.dumps(figures, ensure_ascii=False))


if __name__ == "__main__":
    main()
