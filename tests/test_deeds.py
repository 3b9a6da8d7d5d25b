"""Events whose roles the text leaves to context: a besieged city's taker, a failed capture, a
polity named by a short name in a given year, strikes back, a lifespan. Hand-written fixture
articles in tests/fixtures/deeds."""

from __future__ import annotations

import pytest

from conftest import FIXTURES, extract_fixtures

DEEDS = FIXTURES / "deeds"


@pytest.fixture(scope="module")
def deeds():
    extracted, _ = extract_fixtures(DEEDS)
    return {sid: {(e.kind, *(k for _, k in e.roles), e.year) for e in f.events} for sid, f in extracted.items()}


def test_song_of_1233_is_southern_song_and_takes_what_it_besieged(deeds):
    f = deeds["丙丁戰記"]
    assert ("Attack", "南宋", "戊州", 1233) in f       # 宋軍 in 1233: 南宋 (polities.tsv periods)
    assert ("Capture", "南宋", "戊州", 1233) in f      # 戊州被攻克: by who besieged it


def test_a_failed_capture_is_an_attack(deeds):
    f = deeds["丙丁戰記"]
    assert ("Attack", "甲朝", "己州", 1234) in f
    assert not any(e[0] == "Capture" and "己州" in e for e in f)


def test_beaten_by_and_striking_back(deeds):
    f = deeds["丙丁戰記"]
    assert ("Victory", "甲朝", "乙国", 1235) in f      # 乙軍不敵甲軍
    assert ("Attack", "乙国", "甲朝", 1236) in f       # 乙軍反擊: back at who attacked
    assert ("Victory", "甲朝", "乙国", 1237) in f      # 連破乙軍: to break an army is to beat its polity
    assert ("Victory", "乙国", "甲朝", 1238) in f      # 以甲敗乙勝收場: 甲 lost


def test_a_title_of_a_work_is_not_a_place_taken(deeds):
    f = deeds["丙丁戰記"]
    assert not any(e[0] == "Capture" and e[-1] == 1239 for e in f)  # 取《丙州記》而歸: a book


def test_a_lifespan_gloss_gives_the_death_year(deeds):
    assert ("Death", "李甲", 1150) in deeds["李甲"]


def test_a_founder_named_in_his_lead_founded_it_when_he_acceded(deeds):
    f = deeds["王乙"]
    assert ("Accession", "王乙", "乙国", 1080) in f
    assert ("Founding", "王乙", "乙国", 1080) in f      # 是乙國開國皇帝, dated by his accession
    assert sum(e[0] == "Founding" for e in f) == 1      # 開國公 is a noble title, no founding
