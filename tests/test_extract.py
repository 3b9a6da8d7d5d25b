"""Entities and events on hand-written fixture articles: table-driven, one behaviour a case."""

from __future__ import annotations

import pytest

from shilu.extract.entities import base_name, discover_settlements, is_descriptive, link_alias
from shilu.extract.mentions import NameMatcher, PolityTable

from conftest import FIXTURES, extract_fixtures

EVENTS = FIXTURES / "events"


@pytest.fixture(scope="module")
def war():
    """The fixture war, extracted with the fixture polities (甲, 乙) added to the shipped table."""
    extracted, _ = extract_fixtures(EVENTS)
    return (EVENTS / "甲乙戰爭.md").read_text(encoding="utf-8"), extracted["甲乙戰爭"]


def facts(extracted) -> set[tuple]:
    return {(e.kind, *(k for _, k in e.roles), e.year) for e in extracted.events}


def test_coordinated_objects_all_count(war):
    _, f = war
    assert {("Capture", "甲朝", "丙州", 1120), ("Capture", "甲朝", "丁州", 1120)} <= facts(f)
    # 攻打戊州、己州、庚州, dated 次年 after 1120; the unlinked prefectures are found by suffix
    assert {("Attack", "甲朝", p, 1121) for p in ("戊州", "己州", "庚州")} <= facts(f)


def test_armies_stand_for_their_polity(war):
    _, f = war
    assert all(k in ("甲朝", "乙国", "丙州", "丁州", "戊州", "己州", "庚州", "甲太祖")
               for e in f.events for _, k in e.roles)


def test_intentions_failures_and_quotes_are_no_facts(war):
    _, f = war
    assert not any(e.kind == "Attack" and e.role("agent") == ("乙国",) for e in f.events)  # 欲攻打, 攻城不下
    assert not any(e.kind == "Capture" and e.role("agent") == ("乙国",) for e in f.events)
    assert not any("辛州" in e.role("target") for e in f.events)  # inside 「…」


def test_direction_of_defeat_and_passive_conquest(war):
    _, f = war
    assert ("Victory", "甲朝", "乙国", 1123) in facts(f)  # 乙軍敗於甲軍: the victor is 甲
    assert ("Conquest", "甲朝", "乙国", 1123) in facts(f)  # 乙國被甲朝所滅, 同年


def test_death_and_evidence_spans(war):
    src, f = war
    death = next(e for e in f.events if e.kind == "Death")
    assert death.role("agent") == ("甲太祖",) and death.year == 1125
    for e in f.events:
        assert src[e.evidence.start] == e.sentence[0] and src[e.evidence.end - 1] == e.sentence[-1]


def test_typing_from_own_article_and_names(war):
    _, f = war
    classes = {e.key: e.cls for e in f.entities}
    assert classes["甲朝"] == "Dynasty"  # its own article's lead: 是虛構的朝代
    assert classes["乙国"] == "Polity"  # its own article's lead: 是虛構的國家
    assert classes["丙州"] == "City" and classes["甲乙战争"] == "War"


@pytest.mark.parametrize("text,target,alias", [
    ("金朝攻擊黃龍府", "金朝", None),          # the text runs on past the name
    ("上京", "上京臨潢府", "上京"),             # a shorter name of the same place
    ("進攻西夏", "蒙古滅西夏之戰", None),        # an action, not a name
    ("中興府的最終防線", "興慶府", None),        # a phrase
])
def test_link_alias(text, target, alias):
    assert link_alias(text, target) == alias


@pytest.mark.parametrize("title,expected", [("大定府 (辽朝)", "大定府"), ("金朝", "金朝"), ("高丽 (918年－1392年)", "高丽")])
def test_base_name(title, expected):
    assert base_name(title) == expected


def test_descriptive_titles():
    assert is_descriptive("木华黎攻占京兆府长安之战")
    assert not is_descriptive("三峰山之战")


@pytest.mark.parametrize("text,found", [
    ("随后又攻破北宋麟州建宁寨", ["建宁寨"]),  # 麟州 is a known name (occupied below)
    ("围金朝东胜城", ["东胜城"]),
    ("攻破金临洮府", ["临洮府"]),             # the one-character polity is not part of the name
    ("平夏城怀德军", ["平夏城"]),             # 夏 inside a name stays
    ("攻城不下，退守城中", []),               # generic words
])
def test_discover_settlements(text, found):
    occupied = [(text.index("麟州"), text.index("麟州") + 2)] if "麟州" in text else []
    occupied += [(text.index("金朝"), text.index("金朝") + 2)] if "金朝" in text else []
    table = PolityTable.from_rows([["金朝", "金"], ["西夏", "夏"]], [])
    assert [text[s:e] for s, e in discover_settlements(text, occupied, table)] == found


def test_matcher_leftmost_longest_and_armies():
    table = PolityTable.from_rows([["金朝", "金"], ["南宋", "宋"], ["蒙古帝國", "蒙古|蒙"]],
                                  [["army", "兵"], ["army", "軍"], ["commander", "將"], ["coalition", "聯軍"]])
    m = NameMatcher({"金朝": {"金朝"}, "孟珙": {"孟珙"}}, table)
    hits = [(h.start, h.end, h.kind, h.candidates, h.commander) for h in m.find("宋将孟珙与宋蒙联军攻金兵")]
    assert hits == [
        (0, 2, "army", (("南宋",),), True),
        (2, 4, "name", (("孟珙",),), False),
        (5, 9, "coalition", (("南宋",), ("蒙古帝国",)), False),
        (10, 12, "army", (("金朝",),), False),
    ]


@pytest.mark.parametrize("text,hans", [("遼朝", "辽朝"), ("乾定", "乾定"), ("乾亨", "乾亨"), ("鐵木真", "铁木真")])
def test_script_keys(text, hans):
    from shilu.extract.script import key

    assert key(text) == hans
