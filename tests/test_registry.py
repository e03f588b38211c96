import os
from pathlib import Path

import pytest

from kernel.registry import RegistryError, get_outlet, load_outlet_file, load_registry, outlet_for_url
from tests.support import newsetl

GOOD = (Path(__file__).parents[1]
        / "kernel" / "outlets" / "slobodenpecat.toml").read_text(encoding="utf-8")


def test_registry_has_sloboden_pechat_with_three_editions():
    outlet = load_registry()["slobodenpecat"]
    assert [(e.language, e.prefix) for e in outlet.editions] == [("mk", "/"), ("en", "/en/"), ("sq", "/sq/")]
    assert outlet.timezone == "Europe/Skopje"
    assert outlet.edition_url(outlet.editions[2], "feed/") == "https://slobodenpecat.mk/sq/feed/"
    assert outlet.edition_of("https://slobodenpecat.mk/en/some-story/").language == "en"
    assert outlet.edition_of("https://slobodenpecat.mk/some-story/").language == "mk"


@pytest.mark.parametrize("url, expected", [
    ("https://slobodenpecat.mk/some-story/", True),
    ("https://slobodenpecat.mk/sq/some-story/", True),
    ("https://slobodenpecat.mk/category/vesti/planeta/", False),
    ("https://slobodenpecat.mk/feed/", False),
    ("https://example.com/some-story/", False),
])
def test_article_urls(url, expected):
    assert get_outlet("slobodenpecat").is_article_url(url) is expected


def _write(tmp_path, text, name="slobodenpecat"):
    path = tmp_path / f"{name}.toml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("broken, field", [
    (GOOD.replace('timezone = "Europe/Skopje"', 'timezone = "Europe/Atlantis"'), "timezone"),
    (GOOD.replace('language = "en"', 'language = "english"'), "editions.1.language"),
    (GOOD.replace('home = "https://slobodenpecat.mk/"\n', ""), "home"),
    (GOOD.replace("article_url = '", "article_url = '(unclosed"), "discovery.article_url"),
    (GOOD.replace('feeds = ["feed/"]', 'feeds = ["/feed/"]'), "discovery.feeds"),
    (GOOD.replace('cms = "wordpress"', 'cms = "wordpress"\ncolour = "red"'), "colour"),
    (GOOD.replace('".post-share",', '".post-share",\n    "div..share",'), "cleaning.drop_selectors"),
    (GOOD.replace("[discovery]", '[discovery]\nlisting_card = "article["'), "discovery.listing_card"),
])
def test_invalid_entry_names_file_and_field(tmp_path, broken, field):
    path = _write(tmp_path, broken)
    with pytest.raises(RegistryError) as error:
        load_outlet_file(path)
    assert str(path) in str(error.value)
    assert f"field '{field}'" in str(error.value)


def test_id_must_match_file_name(tmp_path):
    with pytest.raises(RegistryError, match="field 'id'"):
        load_outlet_file(_write(tmp_path, GOOD, name="other"))


def test_unknown_outlet_lists_known_ones():
    with pytest.raises(RegistryError, match="unknown outlet 'nosuch'.*slobodenpecat"):
        get_outlet("nosuch")


def test_unregistered_url_gets_a_rule_less_stand_in():
    outlet = outlet_for_url("https://news.example.org/a/b.html")
    assert outlet.id == "generic" and outlet.domains == ["news.example.org"]
    assert outlet.cleaning.drop_paragraphs == []
    assert outlet_for_url("https://slobodenpecat.mk/en/x/").id == "slobodenpecat"


def test_the_command_line_prints_a_bad_declaration_as_written(tmp_path):
    """The console's markup must not eat the pattern out of the message (``[a-z]`` is no style)."""
    _write(tmp_path, GOOD.replace('id = "slobodenpecat"', 'id = "badlang"').replace('language = "en"', 'language = "english"'),
           name="badlang")
    result = newsetl("outlets", env={"NEWSETL_OUTLETS_DIR": str(tmp_path), "NEWSETL_DATA_DIR": str(tmp_path / "data")})
    assert result.returncode == 1
    message = " ".join(result.stderr.split())
    assert "badlang.toml" in message and "editions.1.language" in message
    assert "^([a-z]{2}|und)$" in message, result.stderr
    assert os.path.exists(tmp_path / "data" / "logs" / "newsetl.log")


def test_an_own_declaration_replaces_the_bundled_one_and_adds_new_ones(tmp_path, monkeypatch):
    _write(tmp_path, GOOD.replace('name = "Слободен печат"', 'name = "Sloboden Pechat (own rules)"'))
    _write(tmp_path, GOOD.replace('id = "slobodenpecat"', 'id = "mine"'), name="mine")
    monkeypatch.setenv("NEWSETL_OUTLETS_DIR", str(tmp_path))
    registry = load_registry()
    assert registry["slobodenpecat"].name == "Sloboden Pechat (own rules)"
    assert {"mine", "metamk", "novamakedonija"} <= set(registry)


def test_a_missing_outlet_folder_is_an_error_not_an_empty_registry(tmp_path, monkeypatch):
    monkeypatch.setenv("NEWSETL_OUTLETS_DIR", str(tmp_path / "nosuch"))
    with pytest.raises(RegistryError, match="outlet folder .*nosuch does not exist"):
        load_registry()
