"""Language identification: langdetect (seeded) plus what it lacks for Macedonian outlets.

langdetect has no Serbian and mixes up the Cyrillic South Slavic languages, so on top of it:

- a Serbian profile, made once from langdetect's Croatian profile written in Serbian Cyrillic (the
  standards share their n-grams; the alphabet differs), blended with some of the Macedonian one;
- alphabet evidence: letters that a language's alphabet lacks (ђ ћ are not Macedonian, ѓ ќ ѕ not
  Serbian, ъ щ ь ю я й not Macedonian or Serbian, ј љ њ џ not Bulgarian, ы э ё only Russian, є ї і ґ
  only Ukrainian) rule that language out;
- marker words that only some of Macedonian, Serbian and Bulgarian use (во, је, че, case endings);
- a prior (the outlet edition's language, else the fallback) that wins when the text's own evidence
  is weak, and short texts that fall back to the declared or edition language;
- Serbo-Croatian reported as the hint's standard (sr, hr or bs) when the hint is one of them, else as
  ``hr`` in Latin script (langdetect's label) and ``sr`` in Cyrillic: the standards differ too little
  for character n-grams to tell apart.

docs/langid.md has the reasoning and the measured accuracy (bench/langid.py).
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache

from langdetect import DetectorFactory

from transforms.compat import LangProfile, langdetect_factory, langdetect_probabilities, langdetect_profiles

MIN_CHARS = 20  # below this langdetect guesses; trust the page/edition instead
# How much likelier the hinted language is before reading the text: another language must be more
# than 90 % sure to beat it, so only weak evidence is overruled.
PRIOR_WEIGHT = 9.0
# A language stays a candidate while the share of the text's Cyrillic letters foreign to its
# alphabet is at most this much above the best language's share: a quoted name does not rule it out.
FOREIGN_TOLERANCE = 0.003
SERBO_CROATIAN = ("sr", "hr", "bs")
SERBIAN_MK_SHARE = 0.2  # of the Serbian profile taken from Macedonian: see _serbian_profile

# Alphabets of the Cyrillic languages the detector knows. ѝ and ѐ are stressed и/е in Macedonian and
# Bulgarian spelling (ѝ is also the pronoun "her" in both), so they do not separate them.
CYRILLIC_ALPHABETS = {
    "mk": set("абвгдѓежзѕијклљмнњопрстќуфхцчџшѐѝ"),
    "sr": set("абвгдђежзијклљмнњопрстћуфхцчџш"),
    "bg": set("абвгдежзийклмнопрстуфхцчшщъьюяѐѝ"),
    "ru": set("абвгдеёжзийклмнопрстуфхцчшщъыьэюя"),
    "uk": set("абвгґдеєжзиіїйклмнопрстуфхцчшщьюя"),
}

# Frequent short words that only some of Macedonian, Serbian and Bulgarian use (function words,
# copulas, pronouns, case forms). langdetect's 1–3-letter n-grams cannot see whole words, and the three
# share most n-grams; each of these words multiplies the odds of the languages that use it.
_MARKER_WORDS = {
    "mk": "во со дека кој кои кое оваа овој овие тоа таа тие нив сите многу уште ниту беа биле еден преку "
          "околу неа денес каде туку сум јас колку толку таму затоа додека потоа зошто",
    "sr": "је у су није нису био који које као када кад према између године годину ово овај тај их све сви "
          "још због током након док ко шта где тако односно затим преко сада данас један али више мање "
          "веома јер смо бити овим овом своје он они онда зато зашто",
    "bg": "в във с със от че това този тази тези които който която което след още като през дори между "
          "също обаче нещо днес какво аз всички колкото толкова когато докато тук",
    "mk bg": "е ги го сме беше една едно сега тука поради кога така ние вие",
    "mk sr": "од ја што ова како нешто свој исто треба мора овде",
    "sr bg": "са много там",
}
# Endings: Serbian case endings (Macedonian and Bulgarian lost the cases) and present -ује/-ују, the
# Macedonian article -от (Bulgarian writes -ът) and 3rd plural -аат, the Macedonian/Bulgarian plural
# article -ите and present -ува, the Bulgarian aorist -иха.
_MARKER_ENDINGS = {
    "sr": "ског ском ској ских ским ске ску ној ном ног ије ује ују",
    "mk": "от аат",
    "mk bg": "ите ува",
    "bg": "иха",
}
_WORD_LANGUAGES = {word: tuple(codes.split()) for codes, words in _MARKER_WORDS.items() for word in words.split()}
_ENDING_LANGUAGES = [(end, tuple(codes.split())) for codes, ends in _MARKER_ENDINGS.items() for end in ends.split()]
WORD_WEIGHT = 30.0  # each marker word multiplies the odds of the languages that use it by this
WORD_FLOOR = 0.1  # keeps a language langdetect ruled out within reach of the marker words
_BG_COMPARATIVE = re.compile(r"(?<!\w)(?:по|най)-\w", re.IGNORECASE)  # по-добро: Bulgarian hyphenates

_SCRIPT_CODES = {
    "LATIN": "Latn", "CYRILLIC": "Cyrl", "GREEK": "Grek", "ARABIC": "Arab", "HEBREW": "Hebr",
    "ARMENIAN": "Armn", "GEORGIAN": "Geor", "DEVANAGARI": "Deva", "BENGALI": "Beng", "GURMUKHI": "Guru",
    "GUJARATI": "Gujr", "TAMIL": "Taml", "TELUGU": "Telu", "KANNADA": "Knda", "MALAYALAM": "Mlym",
    "THAI": "Thai", "HANGUL": "Hang", "CJK": "Hani", "HIRAGANA": "Hira", "KATAKANA": "Kana",
}

# Serbian Latin → Cyrillic; digraphs first so that "lj" becomes љ, not л + ј.
_SR_LATIN_DIGRAPHS = {"dž": "џ", "lj": "љ", "nj": "њ", "Dž": "Џ", "DŽ": "Џ", "Lj": "Љ", "LJ": "Љ", "Nj": "Њ", "NJ": "Њ"}
_SR_LATIN_LETTERS = dict(zip("abcčćdđefghijklmnoprsštuvzž", "абцчћдђефгхијклмнопрсштувзж", strict=True))
_SR_LATIN_LETTERS |= {k.upper(): v.upper() for k, v in _SR_LATIN_LETTERS.items()}
_SR_LATIN_RE = re.compile("|".join(sorted(_SR_LATIN_DIGRAPHS, key=len, reverse=True)) + "|.", re.DOTALL)

# The official Macedonian romanisation (Government of North Macedonia, also BGN/PCGN 2013).
_MK_LATIN = {
    "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "ѓ": "gj", "е": "e", "ж": "zh", "з": "z", "ѕ": "dz",
    "и": "i", "ј": "j", "к": "k", "л": "l", "љ": "lj", "м": "m", "н": "n", "њ": "nj", "о": "o", "п": "p",
    "р": "r", "с": "s", "т": "t", "ќ": "kj", "у": "u", "ф": "f", "х": "h", "ц": "c", "ч": "ch", "џ": "dzh",
    "ш": "sh", "ѐ": "e", "ѝ": "i",
}
_MK_TABLE = str.maketrans(_MK_LATIN | {k.upper(): v.capitalize() for k, v in _MK_LATIN.items()})
_LETTERS = re.compile(r"[^\W\d_]+")


@dataclass(frozen=True)
class LanguageGuess:
    language: str
    confidence: float
    script: str = "Zyyy"  # ISO 15924 code of the text's main script; Zyyy when it has no letters


def transliterate_mk(text: str) -> str:
    """Macedonian Cyrillic → Latin (ѓ→gj, ќ→kj, ж→zh, џ→dzh …), keeping case: Жица → Zhica, ЖИЦА → ZHICA."""

    def word(match: re.Match) -> str:
        original = match.group()
        latin = original.translate(_MK_TABLE)
        # A capital digraph is "Zh" in a word, "ZH" in a word written in capitals.
        return latin.upper() if len(original) > 1 and original.isupper() else latin

    return _LETTERS.sub(word, text)


def detect_language(text: str, fallback: str | None = None, prior: str | None = None) -> LanguageGuess:
    """Best language for ``text``.

    ``fallback`` (the page's declared language or the edition's) is the answer, with confidence 0,
    when the text is too short to judge. ``prior`` (the outlet edition's language; the fallback when
    not given) is favoured when the text's own evidence is weak.
    """
    text = text.strip()
    hint = prior or fallback
    letters = Counter(text.lower())
    script = _main_script(letters)
    if len(text) < MIN_CHARS and (fallback or prior):
        return LanguageGuess(fallback or prior, 0.0, script)
    probabilities = _langdetect_probabilities(text)
    if not probabilities:
        return LanguageGuess(fallback or prior or "und", 0.0, script)
    if script == "Cyrl":
        probabilities = _apply_words(_apply_alphabet(probabilities, letters), text)
    if hint in SERBO_CROATIAN:
        # Same language, several standards: the page or edition says which one it is.
        family = sum(probabilities.pop(code, 0.0) for code in SERBO_CROATIAN)
        if family:
            probabilities[hint] = family
    if hint in probabilities:
        probabilities[hint] *= PRIOR_WEIGHT
    total = sum(probabilities.values())
    language = max(probabilities, key=lambda code: (probabilities[code], code == hint))
    return LanguageGuess(language, round(probabilities[language] / total, 4), script)


def _main_script(letters: Counter) -> str:
    counts: Counter = Counter()
    for char, count in letters.items():
        if char.isalpha():
            counts[_script_of(char)] += count
    counts.pop("Zyyy", None)
    return counts.most_common(1)[0][0] if counts else "Zyyy"


@lru_cache(maxsize=4096)
def _script_of(char: str) -> str:
    return _SCRIPT_CODES.get(unicodedata.name(char, "").split(" ", 1)[0], "Zyyy")


def _apply_alphabet(probabilities: dict[str, float], letters: Counter) -> dict[str, float]:
    """Keep only the Cyrillic languages whose alphabet fits the text's letters (within a tolerance)."""
    cyrillic = {char: count for char, count in letters.items() if "\u0400" <= char <= "\u04ff" and char.isalpha()}
    total = sum(cyrillic.values())
    if not total:
        return probabilities
    foreign = {code: sum(n for char, n in cyrillic.items() if char not in alphabet) / total
               for code, alphabet in CYRILLIC_ALPHABETS.items()}
    best = min(foreign.values())
    candidates = [code for code, share in foreign.items() if share <= best + FOREIGN_TOLERANCE]
    kept = {code: probabilities.get(code, 0.0) for code in candidates}
    if sum(kept.values()) < 1e-9:
        # The n-grams pointed elsewhere but the letters cannot be that language: let letters decide.
        kept = dict.fromkeys(candidates, 1.0)
    return kept


def _apply_words(probabilities: dict[str, float], text: str) -> dict[str, float]:
    """Share Macedonian, Serbian and Bulgarian's probability out again by the marker words each uses."""
    group = [code for code in ("mk", "sr", "bg") if code in probabilities]
    mass = sum(probabilities[code] for code in group)
    if len(group) < 2 or not mass:
        return probabilities
    votes: Counter = Counter()
    for word in _LETTERS.findall(text):
        # Words in capitals are abbreviations or units (С, БОК), not function words.
        if word.islower() or (word.istitle() and len(word) > 1):
            word = word.lower()
            votes.update(_WORD_LANGUAGES.get(word) or _ending_languages(word))
    votes["bg"] += len(_BG_COMPARATIVE.findall(text))
    low = min(votes[code] for code in group)
    # The lead is capped: a long article's hundreds of markers would overflow a float, and 30 decide.
    weights = {code: (probabilities[code] / mass + WORD_FLOOR) * WORD_WEIGHT ** min(votes[code] - low, 30) for code in group}
    total = sum(weights.values())
    return probabilities | {code: mass * weight / total for code, weight in weights.items()}


@lru_cache(maxsize=65536)
def _ending_languages(word: str) -> tuple[str, ...]:
    if len(word) < 4 or word == "живот":
        return ()
    return next((codes for end, codes in _ENDING_LANGUAGES if word.endswith(end)), ())


def _langdetect_probabilities(text: str) -> dict[str, float]:
    return langdetect_probabilities(_factory(), text)


@lru_cache(maxsize=1)
def _factory() -> DetectorFactory:
    """langdetect's profiles plus a Serbian one; built once per process."""
    profiles = langdetect_profiles()
    profiles["sr"] = _serbian_profile(profiles["hr"], profiles["mk"])
    return langdetect_factory(profiles)


def _serbian_profile(croatian: LangProfile, macedonian: LangProfile) -> LangProfile:
    """Croatian n-grams in Serbian Cyrillic, blended with Macedonian's Serbian-alphabet n-grams.

    Croatian keeps foreign names in their own spelling (Shakespeare) where Serbian Cyrillic, like
    Macedonian, spells them as spoken (Шекспир); a share of Macedonian fills that gap. Frequencies
    become per-length probabilities so that the two profiles can be mixed.
    """
    freq: Counter = Counter()
    for gram, count in croatian.freq.items():
        cyrillic = _sr_to_cyrillic(gram)
        if cyrillic is not None:
            freq[cyrillic] += (1 - SERBIAN_MK_SHARE) * count / croatian.n_words[len(gram) - 1]
    for gram, count in macedonian.freq.items():
        if all(char == " " or char.lower() in CYRILLIC_ALPHABETS["sr"] for char in gram):
            freq[gram] += SERBIAN_MK_SHARE * count / macedonian.n_words[len(gram) - 1]
    return LangProfile(name="sr", freq=dict(freq), n_words=[1, 1, 1])


def _sr_to_cyrillic(gram: str) -> str | None:
    out = []
    for piece in _SR_LATIN_RE.findall(gram):
        if piece == " ":
            out.append(piece)
        elif piece in _SR_LATIN_DIGRAPHS:
            out.append(_SR_LATIN_DIGRAPHS[piece])
        elif piece in _SR_LATIN_LETTERS:
            out.append(_SR_LATIN_LETTERS[piece])
        else:
            return None
    return "".join(out)
