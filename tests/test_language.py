import subprocess
import sys

import pytest

from transforms.language import detect_language

SAMPLES = {
    "mk": "Владата денеска ќе одржи седница на која ќе се разгледа предлог-буџетот за следната година.",
    "en": "The government will hold a session today to discuss the draft budget for next year.",
    "sq": "Qeveria sot do të mbajë një seancë ku do të shqyrtohet projektbuxheti për vitin e ardhshëm.",
}


@pytest.mark.parametrize("language", sorted(SAMPLES))
def test_detects_the_three_editions_languages(language):
    guess = detect_language(SAMPLES[language])
    assert guess.language == language
    assert 0.5 < guess.confidence <= 1.0


def test_detection_is_repeatable():
    text = "Skopje Ohrid Bitola"  # ambiguous: an unseeded detector flips between answers
    assert len({detect_language(text) for _ in range(20)}) == 1


def test_short_text_falls_back_with_zero_confidence():
    guess = detect_language("ВИДЕО", fallback="mk")
    assert (guess.language, guess.confidence) == ("mk", 0.0)
    assert detect_language("", fallback=None).language == "und"


def test_langid_command_prints_one_line_per_input_line():
    lines = "\n".join([SAMPLES["mk"], SAMPLES["en"], SAMPLES["sq"]]) + "\n"
    result = subprocess.run([sys.executable, "-m", "newsetl.cli", "langid"], input=lines,
                            capture_output=True, text=True, check=True)
    rows = [row.split("\t") for row in result.stdout.splitlines()]
    assert [row[0] for row in rows] == ["mk", "en", "sq"]
    assert all(0.5 < float(row[1]) <= 1.0 for row in rows)
