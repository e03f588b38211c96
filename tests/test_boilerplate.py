"""Learned boilerplate: what recurs across an outlet's articles is removed, even if no rule names it."""

from __future__ import annotations

import json
import random
from dataclasses import replace
from datetime import UTC, datetime

from sqlalchemy import func, select, update

from kernel.records import Article, Extracted
from kernel.registry import get_outlet
from kernel.settings import load_settings
from kernel.window import Window
from models.tables import ArticleRow, BoilerplateOccurrenceRow, BoilerplateSegmentRow
from models.warehouse import connect, downgrade, load_articles, start_run, upgrade
from newsetl.pipeline import run_outlet, without_learned_boilerplate
from sandbox.fixture_sites import load_site
from tests.support import declare_outlet_without_appeal_rules
from tests.test_warehouse import make_article
from transforms.boilerplate import EDGE_PARAGRAPHS, hash_paragraphs, paragraphs_of, without_segments
from transforms.language import transliterate_mk
from transforms.normalize import content_hash, count_words, is_plain_body, paragraph_hashes, segment_hash, squeeze_whitespace, to_article

APPEAL = ("Support independent reporting today: a small monthly contribution keeps this newsroom "
          "free for every reader, whatever they can pay.")
SHARED = "The ministry said the measures would take effect from the first of January next year."


def article(n: int, paragraphs: list[str]):
    body = "\n\n".join(paragraphs)
    return replace(make_article(n), body=body, content_hash=content_hash(f"Story {n}", body))


def corpus():
    """20 articles ending with an appeal no rule names; two of them also share one real sentence."""
    articles = [article(n, [f"Story {n} opens with its own news, number {n}.", f"Details of story {n}.", APPEAL])
                for n in range(20)]
    articles[3] = article(3, ["Story 3 opens.", SHARED, "More on story 3.", APPEAL])
    articles[7] = article(7, ["Story 7 opens.", SHARED, "More on story 7.", APPEAL])
    return articles


def load(url: str, articles):
    engine = connect(url)
    upgrade(engine)
    start_run(engine, "run-1", get_outlet("slobodenpecat"), Window())
    load_articles(engine, without_learned_boilerplate(engine, articles), "run-1")
    with engine.connect() as connection:
        bodies = dict(connection.execute(select(ArticleRow.canonical_url, ArticleRow.body)).all())
        learned = connection.execute(select(BoilerplateSegmentRow.segment_hash, BoilerplateSegmentRow.article_count,
                                            BoilerplateSegmentRow.status).order_by(BoilerplateSegmentRow.segment_hash)).all()
    return engine, bodies, learned


def test_an_unnamed_appeal_is_learned_and_a_shared_sentence_stays(warehouse_url):
    engine, bodies, learned = load(warehouse_url, corpus())
    assert len(bodies) == 20
    assert not any(APPEAL in body for body in bodies.values())
    assert sum(SHARED in body for body in bodies.values()) == 2
    assert max(count for _, count, _ in learned) == 20
    engine.dispose()


def test_learning_does_not_depend_on_order(tmp_path):
    _, forward_bodies, forward = load(f"sqlite:///{tmp_path / 'a.db'}", corpus())
    _, backward_bodies, backward = load(f"sqlite:///{tmp_path / 'b.db'}", list(reversed(corpus())))
    assert forward == backward and forward_bodies == backward_bodies


def test_a_rerun_writes_nothing_and_a_later_load_counts_only_articles_not_counted_yet(warehouse_url):
    engine, _, _ = load(warehouse_url, corpus())

    def learned():
        with engine.connect() as connection:
            segments = {row.segment_hash: row for row in connection.execute(select(BoilerplateSegmentRow))}
            occurrences = set(connection.execute(select(BoilerplateOccurrenceRow.segment_id,
                                                        BoilerplateOccurrenceRow.canonical_url)).all())
        return segments, occurrences

    before = learned()
    start_run(engine, "run-2", get_outlet("slobodenpecat"), Window())
    load_articles(engine, without_learned_boilerplate(engine, list(reversed(corpus()))), "run-2")
    assert learned() == before  # not a count, not a last_seen_at

    start_run(engine, "run-3", get_outlet("slobodenpecat"), Window())
    later = [article(n, [f"Story {n} opens.", f"Details of story {n}.", APPEAL]) for n in (20, 21)]
    load_articles(engine, without_learned_boilerplate(engine, [corpus()[0], *later]), "run-3")
    segments, occurrences = learned()
    appeal = segment_hash(APPEAL)
    assert segments[appeal].article_count == 22 and segments[appeal].last_seen_at > before[0][appeal].last_seen_at
    assert len(occurrences) == len(before[1]) + 2 * 3  # the two new articles' three paragraphs each
    for digest, row in before[0].items():
        if digest != appeal:
            assert segments[digest] == row, row.text  # counted before, or in the old article only: untouched
    engine.dispose()


def test_people_can_confirm_or_ignore_a_segment(tmp_path):
    engine, _, _ = load(f"sqlite:///{tmp_path / 'w.db'}", corpus())
    with engine.begin() as connection:
        connection.execute(update(BoilerplateSegmentRow).where(BoilerplateSegmentRow.text == APPEAL)
                           .values(status="ignored"))
        # In two articles only: kept as article text until a person confirms it as boilerplate.
        connection.execute(update(BoilerplateSegmentRow).where(BoilerplateSegmentRow.text == SHARED)
                           .values(status="confirmed"))
    start_run(engine, "run-2", get_outlet("slobodenpecat"), Window())
    load_articles(engine, without_learned_boilerplate(
        engine, [article(3, ["Story 3 opens.", SHARED, "More on story 3, now longer.", APPEAL])]), "run-2")
    with engine.connect() as connection:
        body = connection.execute(select(ArticleRow.body).where(ArticleRow.canonical_url.like("%story-3/"))).scalar_one()
    engine.dispose()
    assert APPEAL in body and SHARED not in body and "More on story 3, now longer." in body


def test_a_segment_keeps_its_text_once_it_recurs(warehouse_url):
    """A paragraph in one article is only a candidate: its text is not copied into the table until
    another article has it too."""
    engine, _, _ = load(warehouse_url, corpus())

    def texts():
        with engine.connect() as connection:
            return {row.segment_hash: (row.text, row.article_count)
                    for row in connection.execute(select(BoilerplateSegmentRow))}

    first = texts()
    assert first[segment_hash(APPEAL)] == (APPEAL, 20) and first[segment_hash(SHARED)] == (SHARED, 2)
    once = segment_hash("Details of story 5.")
    assert first[once] == (None, 1)
    assert {text for text, count in first.values() if count == 1} == {None}
    start_run(engine, "run-2", get_outlet("slobodenpecat"), Window())
    load_articles(engine, without_learned_boilerplate(
        engine, [article(30, ["Story 30 opens.", "DETAILS of story 5.", APPEAL])]), "run-2")
    later = texts()
    assert later[once] == ("DETAILS of story 5.", 2)  # the spelling of the load that found it again
    assert later[segment_hash("Story 30 opens.")] == (None, 1) and later[segment_hash(APPEAL)] == (APPEAL, 21)
    assert all(later[digest] == row for digest, row in first.items() if digest not in (once, segment_hash(APPEAL)))
    engine.dispose()


def test_the_outlets_appeal_is_removed_without_its_rules(data_dir, replay, tmp_path, monkeypatch):
    """Sloboden Pechat declared without any appeal rule: learning alone must clean every article."""
    site = load_site("slobodenpecat")
    declare_outlet_without_appeal_rules(tmp_path / "outlets")
    monkeypatch.setenv("NEWSETL_OUTLETS_DIR", str(tmp_path / "outlets"))
    assert get_outlet("sp_norules").cleaning.cut_from == []

    run_outlet("sp_norules", Window(), load_settings())

    engine = connect(load_settings().warehouse_url)
    with engine.connect() as connection:
        rows = {row.canonical_url: row for row in connection.execute(
            select(ArticleRow.canonical_url, ArticleRow.body, ArticleRow.body_latin, ArticleRow.language))}
    engine.dispose()
    for expected in site.articles:
        row = rows[expected.url]
        assert row.body == "\n\n".join(expected.body_paragraphs), expected.url
        # The Latin copy that searches typed in Latin read loses the appeal too.
        assert row.body_latin == (transliterate_mk(row.body) if row.language == "mk" else None), expected.url
    assert sum(row.language == "mk" for row in rows.values()) > 0


def test_whitespace_squeezing_and_word_counts_after_removal_match_the_plain_ways():
    rng = random.Random(7)
    characters = ["a", "Ж", "ß", " ", " ", "\n", "\n", "\t", "\r", "\xa0", "\u3000", "\u2028", "\x85", "字"]
    for _ in range(20_000):
        text = "".join(rng.choices(characters, k=rng.randint(0, 10)))
        assert squeeze_whitespace(text) == " ".join(text.split()), repr(text)
    kept, dropped = ["Прв пасус, со зборови.", "字字 and more\twords"], [APPEAL, "Read  more\n here"]
    body = "\n\n".join([kept[0], dropped[0], kept[1], dropped[1]])
    original = replace(make_article(1), body=body, word_count=count_words(body))
    cleaned = without_segments(original, {segment_hash(p) for p in dropped})
    assert cleaned.body == "\n\n".join(kept)
    assert cleaned.word_count == count_words(cleaned.body) and cleaned.removed["learned"] == 2
    assert cleaned.content_hash == content_hash(original.title, "\n\n".join(kept))


def test_paragraph_hashes_of_a_whole_body_match_hashing_each_paragraph():
    rng = random.Random(11)
    pieces = ["a", "B", "Ж", "İ", "ß", "Σ", "ς", "ﬁ", "字", " ", "  ", "\n", "\n\n", "\n\n\n", "\t", "\r\n", "\xa0",
              "\u200b", "\u2028", " \n\n", "\n\n ", "x y"]
    for _ in range(20_000):
        body = "".join(rng.choices(pieces, k=rng.randint(0, 16)))
        paragraphs = paragraphs_of(body)
        hashes = [segment_hash(p) for p in paragraphs]
        edges = list(zip(hashes, paragraphs, strict=True))
        expected = (paragraphs, hashes, dict(edges[:EDGE_PARAGRAPHS] + edges[-EDGE_PARAGRAPHS:]))
        found = hash_paragraphs(replace(make_article(1), body=body))
        assert found[:3] == expected, repr(body)
        assert found[3] == is_plain_body(body), repr(body)
        if found[3]:  # plain: every paragraph is its own squeezed form, one blank line apart
            assert body == "\n\n".join(squeeze_whitespace(p) for p in paragraphs) != "", repr(body)


def test_the_content_hash_after_removing_paragraphs_is_that_of_the_body_kept():
    rng = random.Random(13)
    words = ["Прв", "пасус", "ß", "字字", "İs", "a", "word"]
    junk = [" ", "  ", "\t", "\n", "\xa0", "\u2028", "\u200b", ""]
    titles = ["Title", "  Spaced\ttitle ", "", "\n"]
    plain_seen = 0
    for _ in range(5_000):
        paragraphs = [" ".join(rng.choices(words, k=rng.randint(1, 5))) for _ in range(rng.randint(1, 6))]
        if rng.random() < 0.3:  # some bodies are not plain
            paragraphs = [p + rng.choice(junk) for p in paragraphs]
        body = "\n\n".join(paragraphs)
        article = replace(make_article(1), title=rng.choice(titles), body=body, word_count=count_words(body))
        taken = hash_paragraphs(article)
        plain_seen += taken[3]
        boilerplate = set(rng.sample(taken[1], rng.randint(1, len(taken[1]))))
        cleaned = without_segments(article, boilerplate, taken)
        assert cleaned.content_hash == content_hash(article.title, cleaned.body), (article.title, body)
        assert cleaned == without_segments(article, boilerplate), (article.title, body)
        if taken[3]:  # the hashes the transform gives a plain body: the same article, with those of the kept body
            carried = without_segments(replace(article).with_paragraph_hashes(taken[1]), boilerplate)
            assert carried == cleaned, (article.title, body)
            assert carried.paragraph_hashes == (paragraph_hashes(cleaned.body)[1] if cleaned.body else None)
    assert 2_000 < plain_seen < 5_000  # both ways were taken


def test_an_article_carries_its_paragraph_hashes_from_the_transform_to_the_load_and_drops_them_with_its_body():
    outlet = get_outlet("slobodenpecat")
    extracted = Extracted(url="https://www.slobodenpecat.mk/prikazna/", canonical_url="https://www.slobodenpecat.mk/prikazna/",
                          title="Приказна", site_name=None, authors=[], published_at=None, modified_at=None, section=None,
                          tags=[], image_url=None, description=None, declared_language="mk",
                          paragraphs=["Владата соопшти денеска.", "Второ ПАСУС со зборови.", APPEAL])
    made = to_article(extracted, outlet, edition="mk", run_id="t", fetched_at=datetime(2026, 12, 1, tzinfo=UTC))
    assert made.paragraph_hashes == [segment_hash(p) for p in paragraphs_of(made)] and len(made.paragraph_hashes) == 3
    # A body that is not plain carries none: the load hashes it the general way.
    spaced = replace(extracted, paragraphs=["Владата  соопшти денеска.", "Второ ПАСУС\tсо зборови."])
    assert to_article(spaced, outlet, edition="mk", run_id="t", fetched_at=made.fetched_at).paragraph_hashes is None
    # Through the staged file between the transform and the load.
    staged = Article.from_json_dict(json.loads(json.dumps(made.to_json_dict())))
    assert staged == made and staged.paragraph_hashes == made.paragraph_hashes
    # A changed body never keeps the hashes of the old one: the load hashes it again.
    edited = replace(made, body=made.body + "\n\nOne more paragraph.")
    assert edited.paragraph_hashes is None
    assert hash_paragraphs(edited)[1] == paragraph_hashes(edited.body)[1]
    # Hashes that do not fit the body (made by hand) are not trusted either.
    wrong = replace(made).with_paragraph_hashes(["0" * 40])
    assert hash_paragraphs(wrong)[1] == paragraph_hashes(made.body)[1]


def test_the_segment_text_migration_goes_down_and_up_again_with_segments_stored(warehouse_url):
    engine, _, before = load(warehouse_url, corpus())

    def texts():
        with engine.connect() as connection:
            return dict(connection.execute(select(BoilerplateSegmentRow.segment_hash, BoilerplateSegmentRow.text)).all())

    stored = texts()
    with engine.connect() as connection:
        occurrences = connection.execute(select(func.count()).select_from(BoilerplateOccurrenceRow)).scalar_one()
    downgrade(engine, "0010")  # the column requires a text again: the ones never kept become empty
    with engine.connect() as connection:
        rows = dict(connection.exec_driver_sql("SELECT segment_hash, text FROM boilerplate_segments").all())
    assert rows == {digest: "" if text is None else text for digest, text in stored.items()}
    upgrade(engine)
    assert texts() == {digest: "" if text is None else text for digest, text in stored.items()}
    with engine.connect() as connection:  # and the segments stay as learned, ids and counts included
        assert connection.execute(select(BoilerplateSegmentRow.segment_hash, BoilerplateSegmentRow.article_count,
                                         BoilerplateSegmentRow.status).order_by(BoilerplateSegmentRow.segment_hash)
                                  ).all() == before
        assert connection.execute(select(func.count()).select_from(BoilerplateOccurrenceRow)).scalar_one() == occurrences
    engine.dispose()
