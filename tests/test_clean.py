import pytest

from kernel.registry import Cleaning, get_outlet
from transforms.clean import clean_paragraphs, clean_title, ends_in_teasers, site_names_of, split_title_flags, strip_site_suffix
from transforms.normalize import count_words

SITE = ["Слободен печат", "Sloboden Pechat"]
NO_RULES = Cleaning()


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


@pytest.mark.parametrize("paragraph", [
    "Read also: Skopje gets a new bridge", "Subscribe to our newsletter", "Lesen Sie auch:", "Auch lesen:",
    "Síguenos en Telegram, Instagram, Facebook y Twitter", "Le puede interesar", "À lire aussi",
    "Leia também: O novo governo", "Czytaj także: Nowy rząd", "Прочитајте и: Друга вест", "Related Articles",
    "- Order Reprints", "Print Article", "Related: The 15 Weirdest Galaxies in Our Universe", "More:",
    "SEE MORE: Protests enter their third week", "Follow Newsbeat on Instagram, Facebook, Twitter and YouTube.",
    "Like this story? Share it with a friend!",
])
def test_calls_to_action_in_many_languages_are_dropped_for_any_outlet(paragraph):
    cleaned = clean_paragraphs(["The article.", paragraph, "More of the article."], NO_RULES)
    assert cleaned.paragraphs == ["The article.", "More of the article."]
    assert cleaned.removed == {"call-to-action": 1}


@pytest.mark.parametrize("paragraph", [
    # a long paragraph that opens like a call to action is article text
    "Subscribers to the municipal heating plan will pay eight percent more from January, the city council "
    "decided on Tuesday after a long debate about the cost of gas.",
    "Related to this, the minister said the bridge would open in May.",
    "The newsletter was sent to every household.",
    "Print articles of the 1990s fill the archive in the basement.",
    "Follow-up talks on the budget are planned for March.", "More than a hundred people came.",
])
def test_article_sentences_that_look_like_calls_to_action_stay(paragraph):
    assert clean_paragraphs([paragraph], NO_RULES).paragraphs == [paragraph]


@pytest.mark.parametrize("paragraph", [
    "Never miss a story: sign up for our morning briefing", "Become a member today", "Support independent journalism",
    "Unterstützen Sie unabhängigen Journalismus", "Sie sind nicht eingeloggt.", "Hazte miembro y apoya el periodismo",
    "Notas relacionadas", "Abonnez-vous à notre lettre", "Dowiedz się więcej",
])
def test_more_calls_to_action_are_dropped(paragraph):
    cleaned = clean_paragraphs(["The article.", paragraph, "More of the article."], NO_RULES)
    assert cleaned.paragraphs == ["The article.", "More of the article."]
    assert cleaned.removed == {"call-to-action": 1}


@pytest.mark.parametrize("paragraph, kind", [
    ("Foto: Reuters/Ognen Teofilovski", "credit"), ("(Bild: Stadt Skopje)", "credit"), ("© Getty Images", "credit"),
    ("Copyright 2024 Skopje Daily. All rights reserved.", "credit"), ("Quelle: dpa", "credit"),
    ("Photo credit: Ana Petrova", "credit"), ("Фото: МИА", "credit"), ("Извор: Фејсбук", "credit"), ("AFP", "credit"),
    ("23.10.2018", "date-line"), ("3:59 PM", "date-line"), ("Last modified:", "date-line"), ("2024-05-01", "date-line"),
])
def test_credit_source_and_date_lines_are_dropped(paragraph, kind):
    cleaned = clean_paragraphs(["The article.", paragraph, "More of the article."], NO_RULES)
    assert cleaned.paragraphs == ["The article.", "More of the article."]
    assert cleaned.removed == {kind: 1}


@pytest.mark.parametrize("paragraph", [
    "Source: the ministry, which said on Tuesday that the bridge will open in May after two years of delays and debate.",
    "Photos of the flood were shared thousands of times.", "Updated figures show that unemployment fell.",
    "2024-05-01 was the day the bridge opened.", "AFP reported that the talks had failed.",
    "Support for the plan fell to 40 percent, a poll showed on Monday, the lowest since it was announced.",
])
def test_article_sentences_that_look_like_credits_or_dates_stay(paragraph):
    assert clean_paragraphs([paragraph], NO_RULES).paragraphs == [paragraph]


ARTICLE = [f"Paragraph {n} of the article, long enough to be the text of a story about the new bridge." for n in range(4)]


@pytest.mark.parametrize("heading, items", [
    ("Comments (3)", ["Ana", "Great story, thanks!", "Marko", "I was there that day."]),
    ("Related stories", ["Bridge opens in Skopje", "Monday, 18 April 2022", "The city council met on Tuesday."]),
    ("Коментари", ["Ана", "Одлична приказна."]),
    ("No comments", []),
])
def test_comments_or_a_list_of_other_stories_close_the_body(heading, items):
    cleaned = clean_paragraphs([*ARTICLE, heading, *items], NO_RULES)
    assert cleaned.paragraphs == ARTICLE
    assert cleaned.removed == {"closing-list": 1 + len(items)}


def test_a_closing_heading_followed_by_article_text_or_high_in_the_body_cuts_nothing():
    more_article = ("The works will take two more years, the mayor said, and cost about 40 million euros, most of it "
                    "from a loan of the European Investment Bank signed last spring.")
    cleaned = clean_paragraphs([*ARTICLE, "Related", "The mayor spoke first.", more_article], NO_RULES)
    assert cleaned.paragraphs == [*ARTICLE, "The mayor spoke first.", more_article]  # the heading alone goes
    assert cleaned.removed == {"call-to-action": 1}
    last = clean_paragraphs([*ARTICLE, "Related", "The mayor spoke last."], NO_RULES)
    assert last.paragraphs == [*ARTICLE, "The mayor spoke last."]  # one short paragraph is not a list
    high = ["Comments", "Short line.", *ARTICLE, "Another short line."]
    assert clean_paragraphs(high, NO_RULES).removed == {}


def test_a_closing_run_of_truncated_teasers_is_cut():
    teasers = ["Im Zuge der falschen Beatmung wurden vermutlich tausende Menschen schwer geschädigt oder starben…/ mehr",
               "The council voted on the budget for the new bridge after a long debate on Monday... Read more",
               "A third story about the housing plan that the mayor announced last week […]"]
    cleaned = clean_paragraphs([*ARTICLE, *teasers], NO_RULES)
    assert cleaned.paragraphs == ARTICLE
    assert cleaned.removed == {"teaser-stream": 3}


def test_a_text_that_ends_in_teasers_says_so():
    teasers = ["First other story, cut off here…/ mehr", "Second other story, cut off here… Read more"]
    assert ends_in_teasers([*ARTICLE, *teasers])
    assert not ends_in_teasers([*ARTICLE, teasers[0]]) and not ends_in_teasers([*teasers, *ARTICLE])


def test_an_ellipsis_in_the_article_or_one_truncated_line_at_its_end_cuts_nothing():
    trailing = "And then, the mayor said, we will see…"
    assert clean_paragraphs([*ARTICLE, trailing], NO_RULES).paragraphs == [*ARTICLE, trailing]
    inside = [ARTICLE[0], "He paused... and went on.", "Then he left…", *ARTICLE[1:]]
    assert clean_paragraphs(inside, NO_RULES).removed == {}


def test_a_headline_repeated_at_the_top_of_the_body_is_dropped_once_only_there():
    body = ["Bridge  opens in Skopje", "The bridge opened today.", "Bridge opens in Skopje"]
    cleaned = clean_paragraphs(body, NO_RULES, titles=("Bridge opens in Skopje - Daily", "bridge opens in skopje"))
    assert cleaned.paragraphs == ["The bridge opened today.", "Bridge opens in Skopje"]
    assert cleaned.removed == {"title-repeat": 1}


@pytest.mark.parametrize("raw, url, expected", [
    ("Neues Smartphone im Test - Golem.de", "https://www.golem.de/news/x.html", "Neues Smartphone im Test"),
    ("Wahl in Sachsen | MDR.DE", "https://www.mdr.de/nachrichten/x.html", "Wahl in Sachsen"),
    ("Kanzler reist nach Paris - WELT", "https://www.welt.de/politik/x.html", "Kanzler reist nach Paris"),
    ("新しい橋が開通：yomiuri", "https://www.yomiuri.co.jp/x", "新しい橋が開通"),
    ("Golem", "https://www.golem.de/x", "Golem"),
])
def test_the_site_name_in_the_url_is_taken_off_the_title(raw, url, expected):
    assert strip_site_suffix(raw, site_names_of(url)) == expected


@pytest.mark.parametrize("text, words", [
    ("Hello world, this is 42.", 5),
    ("Ђорђе ћути, а Јован говори.", 5),
    ("日本語の文章です。", 8),  # no spaces: each ideograph or kana is a word, not the whole run
    ("한국어 문장 입니다", 3),  # Korean separates its words with spaces
    ("Tokyo 東京 2024", 4),
])
def test_word_count_reads_languages_written_without_spaces(text, words):
    assert count_words(text) == words
