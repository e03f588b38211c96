import pytest

from newsetl.registry import get_outlet
from transforms.clean import clean_paragraphs, clean_title, split_title_flags, strip_site_suffix

SITE = ["Слободен печат", "Sloboden Pechat"]


@pytest.mark.parametrize("raw, title, flags", [
    ("VIDEO | Andonovic: North Korea is coming out", "Andonovic: North Korea is coming out", ["video"]),
    ("ВИДЕО | Нешто се случи", "Нешто се случи", ["video"]),
    ("FOTO | Festivali në Ohër", "Festivali në Ohër", ["photo"]),
    ("ФОТО | ВИДЕО | Двоен формат", "Двоен формат", ["photo", "video"]),
    ("Andonovic: no marker here", "Andonovic: no marker here", []),
    ("Skopje | the city that grows", "Skopje | the city that grows", []),  # not a format word
])
def test_format_markers_become_flags(raw, title, flags):
    assert split_title_flags(raw) == (title, flags)


@pytest.mark.parametrize("raw, expected", [
    ("Наслов на веста - Слободен печат", "Наслов на веста"),
    ("Title of the story – Sloboden Pechat", "Title of the story"),
    ("Sloboden Pechat | Title first", "Title first"),
    ("A title - with a dash inside", "A title - with a dash inside"),
    ("Слободен печат", "Слободен печат"),  # never strip a title down to nothing
])
def test_site_suffix_leaves_the_title(raw, expected):
    assert strip_site_suffix(raw, SITE) == expected


def test_clean_title_does_both():
    assert clean_title("VIDEO | Andonovic: isolation - Sloboden Pechat", SITE) == ("Andonovic: isolation", ["video"])


def test_outlet_rules_cut_the_appeal_trailer_and_read_also_lines():
    rules = get_outlet("slobodenpecat").cleaning
    paragraphs = [
        "First article paragraph.",
        "Прочитајте и: Друга вест за Скопје",
        "Second article paragraph about Dear reader, letters.",  # mentions, but is not, the appeal
        "Dear reader,",
        "Our access to web content is free ... Become a member of Sloboden Pechat ...",
        "Video of the day",
    ]
    cleaned = clean_paragraphs(paragraphs, rules)
    assert cleaned.paragraphs == ["First article paragraph.", "Second article paragraph about Dear reader, letters."]
    assert cleaned.removed == {"trailer": 3, "paragraph-rule": 1}


def test_rules_drop_a_stray_widget_heading_anywhere():
    rules = get_outlet("slobodenpecat").cleaning
    cleaned = clean_paragraphs(["Видео на денот", "Текст на веста.", "Video e ditës"], rules)
    assert cleaned.paragraphs == ["Текст на веста."]
