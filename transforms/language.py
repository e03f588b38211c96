"""Language identification with langdetect, made deterministic, with a fallback for short texts."""

from __future__ import annotations

from dataclasses import dataclass

from langdetect import DetectorFactory, detect_langs
from langdetect.lang_detect_exception import LangDetectException

DetectorFactory.seed = 0  # langdetect samples randomly; a fixed seed makes runs repeatable
MIN_CHARS = 20  # below this langdetect guesses; trust the page/edition instead


@dataclass(frozen=True)
class LanguageGuess:
    language: str
    confidence: float


def detect_language(text: str, fallback: str | None = None) -> LanguageGuess:
    """Best language for ``text``; ``fallback`` (edition or declared language) when text is too short."""
    text = text.strip()
    if len(text) >= MIN_CHARS:
        try:
            best = detect_langs(text)[0]
            return LanguageGuess(best.lang, round(best.prob, 4))
        except LangDetectException:
            pass
    return LanguageGuess(fallback or "und", 0.0)
