"""Names the corpus never links, found by what the text states (glosses, cues, lists, suffixes),
and one resource per thing (eras under several titles, aliases one article's link invented).
Hand-written fixture articles in tests/fixtures/names."""

from __future__ import annotations

import pytest

from shilu.extract.entities import discover_in_lists

from conftest import FIXTURES, extract_fixtures

NAMES = FIXTURES / "names"


@pytest.fixture(scope="module")
def corpus():
    return extract_fixtures(NAMES)


def classes(f) -> dict[str, str | None]:
    return {e.key: e.cls for e in f.entities}


def facts(f) -> set[tuple]:
    return {(e.kind, *(k for _, k in e.roles), e.year) for e in f.events}


def test_names_stated_by_cue_gloss_and_motion(corpus):
    fs, _ = corpus
    c = classes(fs["丙丁之戰"])
    assert c["李丙"] == "Person"   # 大將李丙: a person named by his rank
    assert c["巳阳"] == "Place"    # 辰州（今湖北巳陽）: the modern place a gloss names
    assert c["戊阳"] == "Place"    # 進至戊陽，: where an army goes
    assert c["己南"] == "Place"    # 屯己南。


def test_capital_title_and_circuit_take_the_prefecture(corpus):
    fs, _ = corpus
    f = fs["丙丁之戰"]
    assert ("Capture", "甲朝", "壬定府", 1131) in facts(f)      # 北京壬定府: one name, the prefecture's
    assert not any("北京" in k for e in f.events for _, k in e.roles)
    assert ("Capture", "甲朝", "癸阳府", 1131) in facts(f)      # 東京路癸陽府: the city in the circuit
    assert not any(k == "东京路" for e in f.events for _, k in e.roles)
    ent = next(e for e in f.entities if e.key == "壬定府")
    assert any(hans == "北京壬定府" for _, hans in ent.aliases)
    assert classes(f)["东京路"] == "Place"


def test_lists_share_the_kind_of_their_known_items(corpus):
    fs, _ = corpus
    f = fs["丙丁之戰"]
    # 攻下丑州、寅陽、卯州: 寅陽 has no suffix, but stands in a list of prefectures
    assert {("Capture", "甲朝", p, 1132) for p in ("丑州", "寅阳", "卯州")} <= facts(f)
    assert classes(f)["寅阳"] == "Place"
    # 李丙和李丁、李戊兄弟: brothers of a known person, by the surname they share
    assert classes(f)["李丁"] == "Person" and classes(f)["李戊"] == "Person"


def test_list_discovery_needs_a_known_neighbour():
    hans = "攻下甲乙、丙丁、戊己。"
    assert discover_in_lists(hans, []) == []  # nothing known: nothing said
    assert [hans[a:b] for a, b, _ in discover_in_lists(hans, [(2, 4, "City")])] == ["丙丁", "戊己"]
    # a person's neighbour is a person only when it shares the surname (or the corpus knows the name)
    assert discover_in_lists("孟珙、張三。", [(0, 2, "Person")]) == []


def test_one_era_under_several_titles_is_one_thing(corpus):
    _, lexicon = corpus
    # the era table has one 嘉定 (南宋): bare, ruler-qualified and 年號-qualified titles are one thing
    assert lexicon.resolve("嘉定 (宋寧宗)") == lexicon.resolve("嘉定 (年號)") == lexicon.resolve("嘉定")
    # two eras named 至元 (元世祖's and 元惠宗's) stay two
    assert lexicon.resolve("至元 (元世祖)") != lexicon.resolve("至元 (元惠宗)")


def test_a_name_another_thing_owns_is_no_alias(corpus):
    fs, _ = corpus
    f = fs["年號"]
    beijing = next(e for e in f.entities if e.key == "北京市")
    # [大名府](…/北京市): one article's link text, but 大名府 is a thing of its own
    assert not any(hans == "大名府" for _, hans in beijing.aliases)
    assert "大名府" in classes(f)
