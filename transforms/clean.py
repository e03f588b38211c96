"""Clean: strip what is not the article from the extracted paragraphs and the title.

Outlet rules come from the registry (``cleaning``); the title rules (site-name suffix, format
markers such as ``VIDEO |``) are general and apply to every outlet.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import urlsplit

from courlan.urlutils import extract_domain

from kernel.registry import Cleaning

# Leading format markers: "VIDEO | …", "ФОТО: …" → a flag, not part of the title text analysts search.
TITLE_FLAGS = {
    "video": ["video", "видео", "videó"],
    "photo": ["photo", "foto", "фото", "photos", "фотогалерија", "galeri"],
    "audio": ["audio", "аудио", "podcast", "подкаст"],
    "live": ["live", "во живо", "uživo", "drejtpërdrejt", "наживо"],
}
_FLAG_BY_WORD = {word: flag for flag, words in TITLE_FLAGS.items() for word in words}
_LEADING_MARKER = re.compile(r"^\s*([^\W\d_]+(?: [^\W\d_]+)?)\s*[|:/]\s+", re.UNICODE)
# Full-width "：｜" and Hangul "ㅣ" are how Japanese and Korean papers set a site name apart.
_SUFFIX_SEPARATORS = r"\s*[-–—|:»·：｜ㅣ]\s*"
_SEPARATOR_AT_END = re.compile(_SUFFIX_SEPARATORS + "$")
_SEPARATOR_AT_START = re.compile(_SUFFIX_SEPARATORS)
# A call to action or a pointer to other articles, in the languages of the outlets and the big
# European ones: the paragraph's opening words say what it is. Only short paragraphs are judged, so
# an article sentence that merely starts the same way ("Subscribers to the plan…") is kept.
CALL_TO_ACTION_MAX_WORDS = 15
_CALL_TO_ACTION = re.compile(r"""^\W*(?:
 read\ (?:also|more|next)|also\ read|see\ also|more\ (?:from|on\ this|stories|news)
 |related(?:\ (?:articles?|stories|posts|content|news|coverage))?\W*$|related:|see\ more:|(?:more|also):\W*$
 |like\ this\ (?:story|article)|follow\ [\w'’.]+(?:\ [\w'’.]+)?\ on\ |recommended(?:\ for\ you|\ stories)?\W*$
 |you\ (?:may|might)\ (?:also\ )?(?:like|enjoy|be\ interested)|subscribe|sign\ up|follow\ us|share\ (?:this|on|the)
 |advertisement\W*$|order\ reprints?\W*$|print\ (?:this\ )?article\W*$
 |click\ here|don'?t\ miss|most\ (?:read|popular|viewed)|trending(?:\ now)?\W*$|\w*\ ?newsletter\W*$
 |lesen\ sie\ (?:auch|mehr|hier)|auch\ lesen|weitere\ (?:artikel|themen|beiträge|informationen|nachrichten|news)
 |mehr\ (?:zum\ thema|themen|dazu|lesen|news)|(?:das|dies)\ (?:thema\ )?könnte\ (?:sie|dich)\ auch\ interessieren
 |empfohlene\ (?:artikel|beiträge)|anzeige\W*$|(?:jetzt\ )?abonnieren|folgen\ sie\ uns|teilen\W*$
 |lea\ (?:más|también|además)|lee\ (?:también|más|además)|(?:te|le)\ puede\ interesar|s[ií]guenos|mir[ae]:
 |ver\ (?:también|más)|suscr[ií]bete|(?:noticias|art[ií]culos)\ relacionad[oa]s|más\ noticias|publicidad\W*$
 |(?:à\ )?lire\ (?:aussi|également)|voir\ aussi|sur\ le\ même\ sujet|abonnez-vous|suivez-nous|publicité\W*$
 |leia\ (?:também|mais)|veja\ (?:também|mais)|siga-nos|assine|compartilhe
 |leggi\ anche|potrebbe\ interessarti|seguici|iscriviti
 |czytaj\ (?:też|także|więcej)|zobacz\ (?:też|także|również)|przeczytaj\ (?:też|także|również)
 |прочитај(?:те)?\ (?:и|уште|повеќе)|lexo\ (?:edhe|më)|pročitajte\ (?:i|još|više)|прочетете\ (?:още|също)|читајте\ (?:и|још)
 |never\ miss|download\ (?:the|our)\ app|for\ the\ latest\ (?:stories|news|updates)|get\ the\ (?:latest|app)
 |support\ (?:us|our|independent)|become\ a\ (?:member|subscriber|supporter|patron)|join\ (?:us|our)
 |to\ (?:view|read|continue\ reading)\ the\ full|already\ a\ subscriber|(?:log|sign)\ ?in\ to
 |we\ want\ to\ hear|submit\ your\ (?:letter|story|tip)|send\ us\ (?:your|a)
 |unterstütze|unterstützen\ sie|jetzt\ (?:unterstützen|spenden|mitglied)|werde\ (?:mitglied|unterstützer)
 |zum\ newsletter|newsletter\ (?:abonnieren|bestellen|anmelden)|sie\ sind\ (?:aktuell\ |derzeit\ )?nicht\ eingeloggt
 |auch\ interessant|schon\ gelesen|weitere\ (?:\w+\ )?(?:artikel|themen|beiträge)\ (?:zum|aus|bei)
 |gefällt\ (?:dir|ihnen)\ (?:unser|dieser|der)
 |hazte\ (?:miembro|socio|suscriptor)|apoya\ (?:a|el|nuestro)|únete|(?:contenido|notas|noticias|art[ií]culos)\ relacionad[oa]s?
 |vea\ (?:también|además)|lea:|soutenez|abonnez|inscrivez-vous|rejoignez|zapraszamy|dowiedz\ się\ więcej|subskryb
)""", re.IGNORECASE | re.VERBOSE)
# A picture credit, a source line or a copyright line: "Foto: …", "(Bild: …)", "Quelle: dpa",
# "© Getty Images", "Copyright 2019 … All rights reserved". Short paragraphs only, as above.
CREDIT_MAX_WORDS = 15
_CREDIT = re.compile(r"""^\W*(?:
 (?:photos?|fotos?|bild(?:er|quelle)?|images?|pictures?|credits?|crédits?|quellen?(?:angaben|nachweis)?|sources?|fuentes?
  |titelbild|beitragsbild|headerbild|symbolbild|фото|извор|burimi)(?:\ \w+)?\s*:
 |©|copyright\b|all\ rights\ reserved
 |(?:getty\ images|shutterstock|istock(?:photo)?|imago(?:\ images)?|picture\ alliance|dpa|afp|reuters|ap\ photo|epa|keystone)\W*$
 |bild\ anzeigen|image\ illustrative
)""", re.IGNORECASE | re.VERBOSE)
# A line that is only a date, a time, or a date's label ("23.10.2018", "3:59 PM", "Last modified:").
DATE_LINE_MAX_WORDS = 6
_DATE_LINE = re.compile(r"""^\W*(?:\d{1,2}[./-]\d{1,2}[./-]\d{2,4}|\d{4}-\d{2}-\d{2}|\d{1,2}:\d{2}(?:\s?[ap]m)?
 |(?:aktualisiert|updated|last\ modified|letzte\ änderung|release\ date|veröffentlicht|published|stand)(?:\ am|\ on)?:?
)\W*$""", re.IGNORECASE | re.VERBOSE)
# A heading that opens the comments or a list of other stories. When it sits in the body's second
# half and only short paragraphs (names, headlines, comments) follow, it and they are not the article.
_CLOSING_LIST_HEADING = re.compile(r"""^\W*(?:
 (?:\d+\ )?(?:comments?|kommentare?|comentarios?|commentaires?|commenti|komentarze?|коментари|komente)
 |view\ comments|leave\ a\ (?:comment|reply)|no\ comments|keine\ kommentare|kommentare\ insgesamt|kommentar\ schreiben
 |schreibe\ einen\ kommentar|related(?:\ \w+)?|(?:noticias|notas|art[ií]culos|contenidos?)\ relacionad[oa]s?|contenido\ relacionado
 |more\ (?:stories|news)|you\ (?:may|might)\ also\ like|most\ (?:read|popular|viewed)|recommended(?:\ \w+)?
 |weitere\ (?:artikel|beiträge|nachrichten)|meistgelesen|à\ lire\ aussi|sur\ le\ même\ sujet|leggi\ anche
 |czytaj\ (?:też|także)|zobacz\ (?:też|także)|поврзани\ (?:вести|статии)
)\W*(?:\w+\W*){0,3}$""", re.IGNORECASE | re.VERBOSE)
# A teaser of another story: text cut short with an ellipsis, often followed by its "more" link
# ("… / mehr", "... Read more", "[…]"). Article paragraphs seldom end so; a run of them closing the
# body is a stream of teasers, however long each is.
_TRUNCATED = re.compile(r"(?:…|\.\.\.|\[…\]|\[\.\.\.\])\W*(?:\w+\W*){0,3}$")
TEASER_RUN = 2
CLOSING_HEADING_MAX_WORDS = 6
CLOSING_ITEM_MAX_WORDS = 25  # a longer paragraph after the heading is article text: nothing is cut
_WORD = re.compile(r"\w+")
_SPACE = re.compile(r"\s+")


@lru_cache(maxsize=512)
def _compiled(pattern: str) -> re.Pattern:
    return re.compile(pattern, re.IGNORECASE | re.UNICODE)


@dataclass(frozen=True)
class CleanBody:
    paragraphs: list[str]
    removed: dict[str, int]  # rule kind → paragraphs removed


def clean_paragraphs(paragraphs: list[str], rules: Cleaning, titles: tuple[str, ...] = ()) -> CleanBody:
    """The article's paragraphs without the outlet's boilerplate, calls to action, and a headline
    repeated at the top of the body (``titles``: the page's title as found and as cleaned)."""
    removed: Counter[str] = Counter()
    kept = list(paragraphs)
    # An appeal trailer: the first paragraph that opens it, and everything after it, goes.
    for index, paragraph in enumerate(kept):
        if any(_compiled(p).search(paragraph) for p in rules.cut_from):
            removed["trailer"] += len(kept) - index
            kept = kept[:index]
            break
    headlines = {_folded(title) for title in titles if title.strip()}
    while kept and _folded(kept[0]) in headlines:
        removed["title-repeat"] += 1
        kept = kept[1:]
    teasers = _teaser_run_start(kept)
    if teasers < len(kept):
        removed["teaser-stream"] += len(kept) - teasers
        kept = kept[:teasers]
    closing = _closing_list_start(kept)
    if closing < len(kept):
        removed["closing-list"] += len(kept) - closing
        kept = kept[:closing]
    result = []
    for paragraph in kept:
        if any(_compiled(p).search(paragraph) for p in rules.drop_paragraphs):
            removed["paragraph-rule"] += 1
        elif kind := general_boilerplate_kind(paragraph):
            removed[kind] += 1
        else:
            result.append(paragraph)
    return CleanBody(result, dict(removed))


def _words(paragraph: str) -> int:
    return len(_WORD.findall(paragraph))


def ends_in_teasers(paragraphs: list[str]) -> bool:
    """Whether the text closes with a run of truncated teasers of other stories."""
    return _teaser_run_start(paragraphs) < len(paragraphs)


def _teaser_run_start(paragraphs: list[str]) -> int:
    """Where a closing run of truncated teasers begins; ``len(paragraphs)`` when the body ends otherwise."""
    start = len(paragraphs)
    while start > 1 and _TRUNCATED.search(paragraphs[start - 1]):
        start -= 1
    return start if len(paragraphs) - start >= TEASER_RUN else len(paragraphs)


def _closing_list_start(paragraphs: list[str]) -> int:
    """Where the comments or a closing list of other stories begin; ``len(paragraphs)`` when they don't."""
    for index in range(max(1, len(paragraphs) // 2), len(paragraphs)):
        heading, items = paragraphs[index], paragraphs[index + 1:]
        # one short paragraph after the heading may be the article's last: it takes two to make a list
        if (len(items) != 1 and _CLOSING_LIST_HEADING.match(heading) and _words(heading) <= CLOSING_HEADING_MAX_WORDS
                and all(_words(item) <= CLOSING_ITEM_MAX_WORDS for item in items)):
            return index
    return len(paragraphs)


def general_boilerplate_kind(paragraph: str) -> str | None:
    """The removal counter of a paragraph that is boilerplate on any site, or None for article text."""
    if _CALL_TO_ACTION.match(paragraph) and _words(paragraph) <= CALL_TO_ACTION_MAX_WORDS:
        return "call-to-action"
    if _CREDIT.match(paragraph) and _words(paragraph) <= CREDIT_MAX_WORDS:
        return "credit"
    if _DATE_LINE.match(paragraph) and _words(paragraph) <= DATE_LINE_MAX_WORDS:
        return "date-line"
    return None


def _folded(text: str) -> str:
    return _SPACE.sub(" ", text).strip().casefold()


def split_title_flags(title: str) -> tuple[str, list[str]]:
    """``"VIDEO | Andonovic: …"`` → ``("Andonovic: …", ["video"])``; repeats for stacked markers."""
    flags: list[str] = []
    while match := _LEADING_MARKER.match(title):
        flag = _FLAG_BY_WORD.get(match.group(1).casefold())
        if flag is None:
            break
        flags.append(flag)
        title = title[match.end():]
    return title.strip(), flags


def strip_site_suffix(title: str, site_names: list[str]) -> str:
    """Remove a trailing (or leading) ``- Site Name`` the page title carries."""
    title = title.strip()
    for name in sorted(site_names, key=len, reverse=True):
        stripped = _without_site_name(title, name)
        if stripped != title and stripped:
            return stripped
    return title


def _without_site_name(title: str, name: str) -> str:
    # String comparison, not a regex per name: every new site would cost a regex compilation.
    size, folded = len(name), name.casefold()
    if size and title[-size:].casefold() == folded and (separator := _SEPARATOR_AT_END.search(title[:-size])):
        title = title[:separator.start()]
    if size and title[:size].casefold() == folded and (separator := _SEPARATOR_AT_START.match(title[size:])):
        title = title[size + separator.end():]
    return title.strip()


def site_names_of(url: str) -> list[str]:
    """The names a page title may carry its site under, read from the URL: ``golem.de``, ``golem``."""
    host = (urlsplit(url).hostname or "").removeprefix("www.")
    domain = extract_domain(url) or host
    return [name for name in dict.fromkeys([host, domain, domain.split(".")[0]]) if name]


def clean_title(title: str, site_names: list[str]) -> tuple[str, list[str]]:
    return split_title_flags(strip_site_suffix(title, site_names))
