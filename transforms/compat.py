"""What news-etl re-implements of trafilatura, or reads from inside it and langdetect, in one place.

Each function here gives the library's own answer, faster or with less work (docs/extraction-quality.md
has the measurements). Tests compare them with the library on every run — the author search in
tests/test_metadata.py, the parser and its repair in tests/test_extraction.py, the n-grams and
scores in tests/test_language.py — and ``pyproject.toml`` pins both libraries to the versions those
tests passed on (trafilatura to its minor version, langdetect exactly). A new release is taken by
raising the pin and running those tests.

- trafilatura: the page parser (``parse_html``), the metadata reading (``page_metadata``), its author
  search (``author_of``) and its category and tag search (``categories_or_tags``);
- langdetect: its n-gram extraction (``langdetect_ngrams``) and its scoring
  (``langdetect_probabilities``), and the loading of its profiles (``langdetect_profiles``).
"""

from __future__ import annotations

import json
import os
import re
from copy import deepcopy
from functools import lru_cache

import lxml.html
import numpy as np
from langdetect import DetectorFactory
from langdetect.detector_factory import PROFILES_DIRECTORY
from langdetect.utils.lang_profile import LangProfile
from langdetect.utils.ngram import NGram
from lxml import etree
from trafilatura import metadata as trafilatura_metadata
from trafilatura.json_metadata import normalize_authors
from trafilatura.settings import Document
from trafilatura.utils import DOCTYPE_TAG, FAULTY_HTML, decode_file, is_dubious_html, line_processing, repair_faulty_html, trim
from trafilatura.xml import delete_element

# --- trafilatura ----------------------------------------------------------------------------------

# trafilatura's parser settings with lxml's element class lookup in C rather than lxml.html's Python
# one, which runs for every element object trafilatura's extraction creates (a measurable share of its time). Every
# element is then a plain HtmlElement: no FormElement, InputElement… (nothing here uses them).
_PARSER = lxml.html.HTMLParser(collect_ids=False, default_doctype=False, encoding="utf-8", remove_comments=True,
                               remove_pis=True)
_PARSER.set_element_class_lookup(etree.ElementDefaultClassLookup(
    element=lxml.html.HtmlElement, comment=lxml.html.HtmlComment, pi=lxml.html.HtmlProcessingInstruction,
    entity=lxml.html.HtmlEntity))


# The characters XML forbids that trafilatura's repair_faulty_html deletes: control characters, one
# byte each in UTF-8, and U+FFFE, U+FFFF.
_CONTROL_BYTES = bytes([*range(0x09), 0x0B, 0x0C, *range(0x0E, 0x20)])
_OTHER_BYTES = bytes(sorted(set(range(256)) - set(_CONTROL_BYTES)))


def _repaired(text: str, beginning: str) -> tuple[str, bytes]:
    """trafilatura's ``repair_faulty_html(text, beginning)``, as text and as UTF-8.

    Its first step, deleting the characters XML forbids, is a regex pass over the whole page (a large
    share of the parsing time) that almost never finds one. Here one ``bytes.translate`` over the
    encoded page looks for them instead, and only a page that has some is repaired by trafilatura's
    own function; the other two steps, on the page's first lines, are trafilatura's code.
    """
    encoded = text.encode("utf-8", "surrogatepass")
    if encoded.translate(None, _OTHER_BYTES) or "\ufffe" in text or "\uffff" in text:
        text = repair_faulty_html(text, beginning)
        return text, text.encode("utf-8", "surrogatepass")
    repaired = text
    if "doctype" in beginning:
        firstline, _, rest = repaired.partition("\n")
        repaired = DOCTYPE_TAG.sub("", firstline, count=1) + "\n" + rest
    for line in repaired[:4096].splitlines()[:4]:
        if "<html" in line and line.endswith("/>"):
            repaired = FAULTY_HTML.sub(r"\1>", repaired, count=1)
            break
    return (text, encoded) if repaired == text else (repaired, repaired.encode("utf-8", "surrogatepass"))


# libxml2 stops building the tree 256 elements deep (with a resource-limit error, not an exception),
# so the text of an article wrapped in thousands of containers is lost: such a page is parsed again
# with its runs of nested containers collapsed, then, if still too deep, without containers at all.
_CONTAINER = r"(?:div|span|section|article|main|font|center|b|i|u|em|strong|small)"
_NESTED_RUN = re.compile(rf"(?:<{_CONTAINER}\b[^>]*>\s*){{8,}}|(?:</{_CONTAINER}\s*>\s*){{8,}}", re.IGNORECASE)
_CONTAINER_TAG = re.compile(rf"</?{_CONTAINER}\b[^>]*>", re.IGNORECASE)


def _too_deep() -> bool:
    return any(entry.type_name == "ERR_RESOURCE_LIMIT" for entry in _PARSER.error_log)


def _shallower(text: str) -> str:
    collapsed = _NESTED_RUN.sub(lambda run: run.group(0)[run.group(0).rindex("<"):], text)
    _tree(collapsed.encode("utf-8", "surrogatepass"))
    return _CONTAINER_TAG.sub("", collapsed) if _too_deep() else collapsed


def _tree(source: bytes | str):
    try:
        return lxml.html.fromstring(source, parser=_PARSER)
    except (ValueError, etree.LxmlError):
        return None


def parse_html(html: bytes | str):
    """trafilatura's ``load_html`` with the parser above: its decoding, repair and rejection of non-HTML.

    The page is parsed from its UTF-8 bytes (the parser's encoding), which libxml2 reads faster than a
    str and into the same tree; from the str only when that fails or gives an empty tree, as
    trafilatura tries the two the other way round (lxml refuses a str that declares an encoding).
    """
    text = decode_file(html)
    beginning = text[:50].lower()
    text, encoded = _repaired(text, beginning)
    tree = _tree(encoded)
    if _too_deep():
        text = _shallower(text)
        encoded = text.encode("utf-8", "surrogatepass")
        tree = _tree(encoded)
    if tree is None or not len(tree):
        from_text = _tree(text)
        if from_text is not None and len(from_text):
            tree = from_text
    return None if tree is not None and is_dubious_html(beginning) and len(tree) < 2 else tree


def page_metadata(tree, url: str) -> Document:
    """trafilatura's ``extract_metadata`` without the two searches whose answer is not used here.

    The licence is not stored, and the publication date is read from the page's declaration first
    (htmldate runs only for pages without one); the two took much of the metadata time.
    """
    found = trafilatura_metadata.examine_meta(tree)
    if found.author and " " not in found.author:
        found.author = None  # a single word in the author meta is a handle or the site, as trafilatura judges
    try:
        found = trafilatura_metadata.extract_meta_json(tree, found)
    except Exception:  # noqa: BLE001 -- malformed JSON-LD must not cost the article its body
        pass
    found.title = found.title or trafilatura_metadata.extract_title(tree)
    found.author = found.author or author_of(tree)
    found.url = found.url or trafilatura_metadata.extract_url(tree, url)
    found.sitename = (found.sitename or trafilatura_metadata.extract_sitename(tree) or "").lstrip("@") or None
    if not (found.categories and found.tags):
        hinted_links = HINTED_LINKS(tree)
        found.categories = found.categories or categories_or_tags("category", tree, hinted_links)
        found.tags = found.tags or categories_or_tags("tag", tree, hinted_links)
    found.clean_and_trim()
    return found


# trafilatura's author search (``metadata.extract_author``, XPaths in ``trafilatura.xpaths``) as plain
# tests on each element's tag and attributes: its XPaths evaluate a dozen predicates per element in
# libxml2, on a copy of the whole tree pruned by two more of them first.
_BYLINE_TAGS = frozenset({"a", "address", "div", "link", "p", "span", "strong"})  # AUTHOR_XPATHS[0]
_BYLINE_TESTIDS = frozenset({"AuthorCard", "AuthorURL"})
_BYLINE_CLASS = re.compile("author-?name|AuthorName|authorName")
_GENERIC_TAGS = frozenset({"a", "div", "h3", "h4", "p", "span"})  # AUTHOR_XPATHS[1]
_GENERIC_CLASSES = frozenset({"byline", "username", "byl", "BBL"})
_GENERIC_ID = re.compile("author|zuozhe|bianji|xiaobian")
_GENERIC_CLASS = re.compile("author|channel-name|zuozhe|bianji|xiaobian|submitted-by|posted-by|journalist-name")
_ANY_ID = re.compile("[Aa]uthor")  # AUTHOR_XPATHS[2], any element
_ANY_CLASS = re.compile("[Aa]uthor|screenname|writer|[Bb]yline")
_DISCARD_TAGS = frozenset({"a", "div", "section", "span"})  # AUTHOR_DISCARD_XPATHS[0]; [1] is time and figure
_DISCARD_CLASSES = frozenset({"comments", "title", "date"})
_DISCARD_ID = re.compile("^comments|comment-?list|ProductReviews")
_DISCARD_CLASS = re.compile("^[Cc]omments|commentlist|comments-list|sidebar|is-hidden|quote|embedly-instagram"
                            "|article-(?:share|support)|print|category|meta-date|meta-reviewer")


def _author_discarded(element) -> bool:
    """Whether trafilatura's author search prunes ``element`` (with what it holds) before searching."""
    tag = element.tag
    if tag == "time" or tag == "figure":
        return True
    if tag not in _DISCARD_TAGS:
        return False
    get = element.get
    cls, id_ = get("class") or "", get("id") or ""
    return (id_ == "comments" or cls in _DISCARD_CLASSES or _DISCARD_ID.search(id_) is not None
            or _DISCARD_CLASS.search(cls) is not None or "Figure" in (get("data-component") or ""))


def author_of(tree) -> str | None:
    """trafilatura's ``extract_author``, with the same answer, in one walk over the tree.

    trafilatura copies the tree, deletes what its discard XPaths match (comment lists, sidebars,
    times, figures…), then takes the first element of its three author XPaths, in order, whose text
    has 3 to 119 characters. Here the three searches are one walk testing tags and attributes; an
    element inside a discarded one is skipped, and the text of one holding a discarded element is
    read from a copy of that element alone, pruned as trafilatura prunes (tests/test_metadata.py
    compares the two).
    """
    found: tuple[list, list, list] = ([], [], [])
    for element in tree.iter("*"):
        tag = element.tag
        if tag == "rel":  # AUTHOR_XPATHS[0] tests a child <rel> element's text: leave that to trafilatura
            return trafilatura_metadata.extract_author(tree)
        attributes = element.attrib
        if not attributes:
            if tag == "author":
                found[0].append(element)
            continue
        get = attributes.get
        cls, id_, itemprop = get("class"), get("id"), get("itemprop")
        if tag == "author" or (tag in _BYLINE_TAGS and (
                get("rel") == "author" or id_ == "author" or cls == "author" or itemprop == "author name"
                or get("data-testid") in _BYLINE_TESTIDS or (cls and _BYLINE_CLASS.search(cls)))):
            found[0].append(element)
        if tag in _GENERIC_TAGS and (cls in _GENERIC_CLASSES or "author" in (itemprop or "")
                                     or (id_ and _GENERIC_ID.search(id_)) or (cls and _GENERIC_CLASS.search(cls))):
            found[1].append(element)
        if ("Byline" in (get("data-component") or "") or "author" in (itemprop or "")
                or (id_ and _ANY_ID.search(id_)) or (cls and _ANY_CLASS.search(cls))):
            found[2].append(element)
    for elements in found:
        for element in elements:
            if _author_discarded(element) or any(_author_discarded(a) for a in element.iterancestors()):
                continue
            content = trim(" ".join(_author_text(element)))
            if content and 2 < len(content) < 120:
                return normalize_authors(None, content)
    return None


def _author_text(element):
    """``element.itertext()`` as trafilatura's pruned copy of the tree gives it."""
    inside = [d for d in element.iterdescendants("*") if _author_discarded(d)]
    if not inside:
        return element.itertext()
    copy, discarded = deepcopy(element), set(inside)
    pruned = [twin for original, twin in zip(element.iter(), copy.iter(), strict=True) if original in discarded]
    for twin in pruned:
        delete_element(twin)
    return copy.itertext()


# trafilatura keeps a category (tag) link only if its href has /category/ (/tag/, /tags/) in it;
# without such a link on the page its ten XPath searches cannot find one, so they are not run.
_LINK_HINTS = {"category": "/categor", "tag": "/tag"}
HINTED_LINKS = etree.XPath("//a[contains(@href, '/categor') or contains(@href, '/tag')]/@href")
_SECTION_META = etree.XPath('.//head//meta[@property="article:section" or contains(@name, "subject")]/@content')


def categories_or_tags(kind: str, tree, hinted_links: list[str]) -> list[str]:
    """trafilatura's ``extract_catstags``, skipping its link searches on pages where they cannot succeed.

    ``hinted_links``: the page's link targets with a category or tag hint (``HINTED_LINKS``), looked
    up once for both kinds."""
    if any(_LINK_HINTS[kind] in href for href in hinted_links):
        return trafilatura_metadata.extract_catstags(kind, tree)
    if kind == "tag":
        return []
    # trafilatura's fallback for a category: the section meta tags
    return [r for r in dict.fromkeys(line_processing(str(x)) for x in _SECTION_META(tree) if x) if r]


# --- langdetect ----------------------------------------------------------------------------------

def langdetect_probabilities(factory: DetectorFactory, text: str) -> dict[str, float]:
    """langdetect's answer for ``text``: the same numbers as ``Detector.get_probabilities()``, faster.

    langdetect multiplies a list of per-language probabilities by each sampled n-gram's profile row
    in a Python loop over the 56 languages; here a row is a numpy array and one multiplication does
    it. The n-grams, the random stream (seeded, one draw per step) and the order of every operation
    are langdetect's own, so the results are bit for bit the same (tests/test_language.py).
    """
    detector = factory.create()
    detector.append(text)
    ngrams = langdetect_ngrams(_without_latin_in_other_scripts(detector.text), detector.word_lang_prob_map)
    if not ngrams:
        return {}
    return {code: p for code, p in zip(detector.langlist, _trials(factory, detector, ngrams).tolist(), strict=True) if p > 0}


@lru_cache(maxsize=8192)
def _normalized(char: str) -> str:
    return NGram.normalize(char)


# langdetect's ``Detector.cleaning_text``: Latin letters (its test is 'A' <= ch <= 'z') are counted
# against characters from U+0300 up. It means to leave Latin Extended Additional out, but compares
# the block's number with its name, so every such character counts: here too.
_LATIN = re.compile("[A-z]")
_OTHER_SCRIPTS = re.compile("[\u0300-\U0010ffff]")


def _without_latin_in_other_scripts(text: str) -> str:
    """langdetect's ``cleaning_text``: a text mostly in another script loses its Latin letters. Its
    loop looks every character's Unicode block up; two regular expressions count the same."""
    if 2 * len(_LATIN.findall(text)) < len(_OTHER_SCRIPTS.findall(text)):
        return _LATIN.sub("", text)
    return text


def langdetect_ngrams(text: str, known) -> list[str]:
    """langdetect's ``Detector._extract_ngrams``: the same n-grams in the same order.

    Its window starts afresh after every space, so a word's n-grams (those it ends with the space
    after it included) depend on the word alone: each word is read once per process and its n-grams
    reused. Only the text's last word, with no space after it, is read on its own.
    """
    words = text.split(" ")
    cache = _WORD_NGRAMS.setdefault(id(known), {})
    if len(cache) > _WORD_CACHE_SIZE:
        cache.clear()
    found: list[str] = []
    for word in words[:-1]:
        if word:
            grams = cache.get(word)
            if grams is None:
                grams = cache[word] = tuple(_ngrams_of(word + " ", known))
            found.extend(grams)
    found.extend(_ngrams_of(words[-1], known))
    return found


_WORD_NGRAMS: dict[int, dict[str, tuple[str, ...]]] = {}  # by profile set (its n-gram map), word → n-grams
_WORD_CACHE_SIZE = 200_000


def _ngrams_of(text: str, known) -> list[str]:
    """The n-grams langdetect extracts from ``text``, read as if it followed a space.

    langdetect keeps the last three characters in an ``NGram`` object and looks every character's
    Unicode block up again; here the buffer is a local string and a character is normalised once
    per process (its saving is in docs/extraction-quality.md).
    """
    found: list[str] = []
    append = found.append
    grams, capitals = " ", False  # the last (up to) 3 normalised characters; inside a word in capitals
    for char in text:
        char = _normalized(char)
        last = grams[-1]
        if last == " ":
            capitals = False
            if char == " ":
                grams = " "
                continue
            grams = " " + char
        elif len(grams) >= NGram.N_GRAM:
            grams = grams[1:] + char
        else:
            grams += char
        if char.isupper():
            capitals = capitals or last.isupper()
        else:
            capitals = False
        if capitals:  # langdetect skips the n-grams of words in capitals (abbreviations)
            continue
        if char != " " and char in known:
            append(char)
        if len(grams) >= 2:
            if grams[-2:] in known:
                append(grams[-2:])
            if len(grams) == 3 and grams in known:
                append(grams)
    return found


def _trials(factory: DetectorFactory, detector, ngrams: list[str]) -> np.ndarray:
    """langdetect's ``Detector._detect_block`` after the n-gram extraction, with numpy rows."""
    languages = len(detector.langlist)
    rng = detector.random
    rng.seed(detector.seed)
    total = np.zeros(languages)
    for _ in range(detector.n_trial):
        prob = np.full(languages, 1.0 / languages)
        weight = (detector.alpha + rng.gauss(0.0, 1.0) * detector.ALPHA_WIDTH) / detector.BASE_FREQ
        step = 0
        while True:
            prob *= weight + _profile_row(factory, rng.choice(ngrams))
            if step % 5 == 0:
                prob /= sum(prob.tolist())  # Python's sum, as langdetect adds them (numpy's differs in the last bit)
                if prob.max() > detector.CONV_THRESHOLD or step >= detector.ITERATION_LIMIT:
                    break
            step += 1
        total += prob / detector.n_trial
    return total


@lru_cache(maxsize=1 << 17)  # more than the profiles' 88,000 n-grams: a row is converted once per process
def _profile_row(factory: DetectorFactory, ngram: str) -> np.ndarray:
    return np.array(factory.word_lang_prob_map[ngram])


def langdetect_profiles() -> dict[str, LangProfile]:
    """langdetect's bundled language profiles, by language code."""
    profiles = {}
    for name in sorted(os.listdir(PROFILES_DIRECTORY)):
        with open(os.path.join(PROFILES_DIRECTORY, name), encoding="utf-8") as f:
            profile = LangProfile(**json.load(f))
        profiles[profile.name] = profile
    return profiles


def langdetect_factory(profiles: dict[str, LangProfile]) -> DetectorFactory:
    """A detector factory over ``profiles``, seeded: langdetect samples randomly, a fixed seed makes runs repeatable."""
    DetectorFactory.seed = 0
    factory = DetectorFactory()
    factory.set_seed(0)
    for index, profile in enumerate(profiles.values()):
        factory.add_profile(profile, index, len(profiles))
    return factory
