"""The date normaliser (extract/dates.py) and the era table (ontology/eras.tsv).

Table-driven, one line per case, in the manner of DBpedia's dataparser tests. The sentences are
made up for the tests; none is copied from an article.
"""

from __future__ import annotations

from collections import defaultdict
from importlib.resources import files

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shilu.extract.dates import (
    DateContext,
    DateMention,
    EraTable,
    Number,
    default_eras,
    find_dates,
    load_eras,
    parse_number,
)

LUNAR = "lunar"
GREG = "gregorian"


def only(text: str, **kw) -> DateMention:
    found = find_dates(text, **kw)
    assert len(found) == 1, (text, found)
    return found[0]


# --------------------------------------------------------------------------------------- numbers

NUMBERS = [
    ("一", 1), ("十", 10), ("十二", 12), ("二十", 20), ("二十一", 21), ("三十九", 39),
    ("一百", 100), ("一百零五", 105), ("一千一百二十", 1120), ("一千零二十", 1020),
    ("一二二七", 1227), ("〇", 0), ("零", 0), ("兩", 2), ("廿三", 23), ("元", 1), ("1211", 1211),
    ("１２１１", 1211),
]


@pytest.mark.parametrize(("text", "value"), NUMBERS)
def test_number(text, value):
    assert parse_number(text) == Number(value, False)


@pytest.mark.parametrize(("text", "value"), [("四十餘", 40), ("四十余", 40), ("三十多", 30), ("約五十", 50)])
def test_approximate_number(text, value):
    assert parse_number(text) == Number(value, True)


@pytest.mark.parametrize("text", ["", "年", "十十", "十百", "abc", "二三十"])
def test_not_a_number(text):
    assert parse_number(text) is None


# ------------------------------------------------------------------------------------ era years

ERA_YEARS = [
    ("嘉定四年", 1211), ("嘉定元年", 1208), ("應曆十五年", 965), ("应历十五年", 965),
    ("統和二十二年", 1004), ("天會四年", 1126), ("大定十七年", 1177), ("紹興三十二年", 1162),
    ("至元十六年", 1279), ("後至元四年", 1338), ("至正二十八年", 1368), ("中統元年", 1260),
    ("祥興二年", 1279), ("建炎三年", 1129), ("慶曆四年", 1044), ("天授禮法延祚五年", 1042),
    ("延祚十一年", 1048), ("乾祐二十四年", 1193), ("光定十三年", 1223), ("乾定四年", 1226),
    ("天顯十一年", 936), ("顯德七年", 960), ("同光元年", 923), ("收國二年", 1116),
    ("嘉熈二年", 1238), ("寶佑五年", 1257), ("大中祥符元年", 1008),
]


@pytest.mark.parametrize(("text", "year"), ERA_YEARS)
def test_era_year(text, year):
    m = only(text)
    assert (m.text, m.year, m.era is not None, m.lunar, m.precision) == (text, year, True, False, "year")


@pytest.mark.parametrize(("text", "hint", "year"), [
    ("大安二年", "遼", 1086), ("大安二年", "金", 1210), ("大安二年", "西夏", 1076),
    ("天慶五年", "遼朝", 1115), ("天慶五年", "夏", 1198), ("大德三年", "元", 1299),
    ("大德三年", "西夏", 1137), ("乾道二年", "宋", 1166), ("天會三年", "北漢", 959),
])
def test_era_polity_hint(text, hint, year):
    assert only(text, polity_hint=hint).year == year


@pytest.mark.parametrize(("text", "year"), [
    ("金大安二年", 1210), ("夏大安二年", 1076), ("宋寧宗嘉定四年", 1211), ("元大德三年", 1299),
])
def test_polity_written_before_the_era(text, year):
    # the word before the era name beats the hint
    assert only(text, polity_hint="遼").year == year


# --------------------------------------------------------------------------------------- table

DATES = [
    # (text, year, month, day, calendar)
    ("1120年", 1120, None, None, None),
    ("1124年正月", 1124, 1, None, LUNAR),
    ("1213年六月", 1213, 6, None, LUNAR),
    ("1216年秋十一月", 1216, 11, None, LUNAR),
    ("1227年8月25日", 1227, 8, 25, GREG),
    ("1235年6月", 1235, 6, None, GREG),
    ("1003年農曆五月五日", 1003, 5, 5, LUNAR),
    ("祥兴二年二月六日", 1279, 2, 6, LUNAR),
    ("延祚十一年正月初二", 1048, 1, 2, LUNAR),
    ("嘉定七年（1214年）七月", 1214, 7, None, LUNAR),
    ("嘉定七年七月（1214年）", 1214, 7, None, LUNAR),
    ("閏八月", None, 8, None, LUNAR),
    ("三月", None, 3, None, LUNAR),
    ("正月", None, 1, None, LUNAR),
    ("十二月", None, 12, None, LUNAR),
    ("8月", None, 8, None, GREG),
    ("前221年", -221, None, None, None),
    ("公元前221年", -221, None, None, None),
    ("公元9年", 9, None, None, None),
    ("一二二七年", 1227, None, None, None),
    ("十一年（1251年）三月", 1251, 3, None, LUNAR),
]


@pytest.mark.parametrize(("text", "year", "month", "day", "calendar"), DATES)
def test_date(text, year, month, day, calendar):
    m = only(text)
    assert (m.text, m.year, m.month, m.day) == (text, year, month, day)
    if calendar is not None:
        assert m.lunar == (calendar == LUNAR)
    assert m.precision == ("day" if day else "month" if month else "year")


@pytest.mark.parametrize(("text", "iso"), [
    ("1227年8月25日", "1227-08-25"), ("1235年6月", "1235-06"), ("1211年", "1211"), ("965年", "0965"),
    ("前221年", "-0221"), ("1124年正月", "1124"), ("嘉定四年三月", "1211"), ("1120年至1125年", None),
    ("次年", None), ("三月", None), ("1227年2月30日", "1227-02"),
])
def test_iso_date(text, iso):
    assert only(text).iso_date == iso


RANGES = [
    ("1120年至1125年", 1120, 1125),
    ("1213年—1214年", 1213, 1214),
    ("1120－1125年", 1120, 1125),
    ("1120-1125年", 1120, 1125),
    ("1235年〜1241年", 1235, 1241),
    ("979年到1004年", 979, 1004),
    ("1208年正月至1224年十二月", 1208, 1224),
    ("1038年11月10日－1048年1月19日", 1038, 1048),
    ("1207年正月至二月", 1207, 1207),
    ("嘉定元年至四年", 1208, 1211),
    ("前221年至前206年", -221, -206),
]


@pytest.mark.parametrize(("text", "start", "end"), RANGES)
def test_range(text, start, end):
    m = only(text)
    assert (m.text, m.year, m.end_year, m.is_range) == (text, start, end, True)


def test_range_months():
    m = only("1208年正月至1224年十二月")
    assert (m.month, m.end_month, m.lunar) == (1, 12, True)
    m = only("1038年11月10日－1048年1月19日")
    assert (m.month, m.day, m.end_month, m.end_day, m.lunar) == (11, 10, 1, 19, False)


RELATIVE = [
    ("次年", "next_year", 1), ("翌年", "next_year", 1), ("明年", "next_year", 1), ("隔年", "next_year", 1),
    ("同年", "same_year", 0), ("是年", "same_year", 0), ("當年", "same_year", 0), ("该年", "same_year", 0),
    ("其年", "same_year", 0), ("後年", "year_after_next", 2), ("前年", "year_before_last", -2),
    ("去年", "previous_year", -1), ("三日後", "days_later", 0), ("數月後", "months_later", 0),
    ("三年後", "years_later", 3), ("次月", "next_month", 0), ("翌日", "next_day", 0),
]


@pytest.mark.parametrize(("text", "kind", "offset"), RELATIVE)
def test_relative(text, kind, offset):
    m = only(text)
    assert (m.text, m.relative, m.offset, m.year) == (text, kind, offset, None)


def test_relative_with_gloss():
    m = only("翌日（1234年2月9日）")
    assert (m.relative, m.year, m.month, m.day, m.lunar, m.gloss_year) == ("next_day", 1234, 2, 9, False, 1234)
    m = only("次年（1116年）六月")
    assert (m.relative, m.year, m.month, m.lunar) == ("next_year", 1116, 6, True)


def test_relative_with_month():
    m = only("次年正月")
    assert (m.relative, m.month, m.lunar, m.precision) == ("next_year", 1, True, "month")
    assert only("數月後").approximate and only("三日後").amount == 3


NOT_DATES = [
    "40萬人", "3000騎", "第2次", "六歲", "6歲", "十年", "四年", "三十年", "1120年代", "四十餘",
    "其年七十歲", "與他同年進士", "于是年輕", "三個月", "數月", "在位40年", "ISBN 7-1120年", "v1.1120",
    "嘉定", "元年", "明年號", "都是日夜思念", "即日後成為國都",
]


@pytest.mark.parametrize("text", NOT_DATES)
def test_not_a_date(text):
    assert find_dates(text) == [], text


# --------------------------------------------------------------------------------------- glosses

GLOSSES = [
    # (text, year, gloss, conflict)
    ("嘉定四年（1211年）", 1211, 1211, False),
    ("隆興元年（公元1163年）", 1163, 1163, False),
    ("統和九年(991年)", 991, 991, False),
    ("慶元元年（1195）", 1195, 1195, False),
    ("淳熙十二年（1186）", 1185, 1186, True),
    ("明道二年（1041年）", 1033, 1041, True),
    # the 12th lunar month of an era year may fall in January of the next Gregorian year
    ("拱化五年十二月（1068年1月）", 1068, 1068, False),
    ("大慶三年十月十一日（1038年11月10日）", 1038, 1038, False),
]


@pytest.mark.parametrize(("text", "year", "gloss", "conflict"), GLOSSES)
def test_gloss(text, year, gloss, conflict):
    m = only(text)
    assert (m.text, m.year, m.gloss_year, m.conflict) == (text, year, gloss, conflict)


@pytest.mark.parametrize(("text", "date"), [
    # a gloss with a Gregorian month dates the mention in the Gregorian calendar
    ("大慶三年十月十一日（1038年11月10日）", (1038, 11, 10, False, "1038-11-10")),
    ("拱化五年十二月（1068年1月）", (1068, 1, None, False, "1068-01")),
    ("二年四月（1128年5月）", (1128, 5, None, False, "1128-05")),
    # without one, the months stay lunar
    ("嘉定七年（1214年）七月", (1214, 7, None, True, "1214")),
    ("嘉定七年七月（1214年）", (1214, 7, None, True, "1214")),
])
def test_gloss_with_a_gregorian_date(text, date):
    m = only(text)
    assert (m.year, m.month, m.day, m.lunar, m.iso_date) == date


def test_gloss_picks_the_era_it_agrees_with():
    # 大安: 遼 1085, 西夏 1075, 金 1209; the gloss decides where no hint does
    assert only("大安二年（1210年）").year == 1210
    assert not only("大安二年（1210年）").conflict


def test_gloss_far_from_every_row_dates_another_period():
    # 貞觀 of the table is 西夏's (1101); a gloss of 634 dates Tang's 貞觀, which the table lacks
    m = only("貞觀八年（634年）")
    assert (m.year, m.era, m.conflict) == (634, None, False)


def test_gregorian_year_then_eras_in_parentheses():
    found = find_dates("1163年（宋隆兴元年，金大定三年）")
    assert [(m.text, m.year) for m in found] == [("1163年", 1163), ("隆兴元年", 1163), ("大定三年", 1163)]


# ----------------------------------------------------------------------------------- DateContext


def chain(text: str) -> list[tuple[str, int | None, int | None]]:
    ctx = DateContext()
    out = []
    for m in find_dates(text):
        r = ctx.resolve(m)
        ctx.observe(m)
        out.append((m.text, r.year if r else None, r.month if r else None))
    return out


CHAINS = [
    ("1211年，甲攻乙。次年，乙降。", [("1211年", 1211, None), ("次年", 1212, None)]),
    ("1211年三月，甲攻乙。同年九月，乙降。翌年，丙亡。",
     [("1211年三月", 1211, 3), ("同年九月", 1211, 9), ("翌年", 1212, None)]),
    ("嘉定四年，甲攻乙。三月，乙降。次年正月，丙亡。",
     [("嘉定四年", 1211, None), ("三月", 1211, 3), ("次年正月", 1212, 1)]),
    # a month earlier than the one before it, with no year given: the year stays
    ("1211年九月，甲至。三月，乙降。", [("1211年九月", 1211, 9), ("三月", 1211, 3)]),
    ("成吉思汗病死於1227年，三日後，西夏滅亡。", [("1227年", 1227, None), ("三日後", 1227, None)]),
    ("1225年十一月，甲出兵。三月後，乙降。", [("1225年十一月", 1225, 11), ("三月後", 1226, None)]),
    ("1120年，甲攻乙。三年後，乙亡。", [("1120年", 1120, None), ("三年後", 1123, None)]),
    ("1120年，甲攻乙。數年後，乙亡。次年，丙立。", [("1120年", 1120, None), ("數年後", None, None), ("次年", None, None)]),
    ("次年，乙降。", [("次年", None, None)]),
    ("三月，乙降。", [("三月", None, 3)]),
    # a range: None itself, later relative dates count from its start
    ("1213年—1214年，甲攻乙。次年，乙降。", [("1213年—1214年", None, None), ("次年", 1214, None)]),
    # a conflicting gloss: no year, and nothing after it is dated from it
    ("明道二年（1041年），甲卒。次年，乙立。", [("明道二年（1041年）", None, None), ("次年", None, None)]),
    # a relative year with its gloss is dated by the gloss
    ("1114年，甲起兵。次年（1116年）六月，乙降。", [("1114年", 1114, None), ("次年（1116年）六月", 1116, 6)]),
    ("1211年十二月，甲至。次月，乙降。", [("1211年十二月", 1211, 12), ("次月", 1212, 1)]),
]


@pytest.mark.parametrize(("text", "expected"), CHAINS)
def test_context_chain(text, expected):
    got = chain(text)
    # a bare month with no year resolves to None (nothing to anchor it)
    expected = [(t, y, (m if y is not None else None)) for t, y, m in expected]
    assert got == expected


def test_context_range_and_conflict_keep_their_facts():
    ctx = DateContext()
    r = ctx.resolve(only("1120年至1125年"))
    assert (r.year, r.start_year, r.end_year, r.iso_date) == (None, 1120, 1125, None)
    r = ctx.resolve(only("明道二年（1041年）"))
    assert (r.year, r.conflict) == (None, True)


def test_context_resolved_date():
    ctx = DateContext()
    assert ctx.current is None
    r = ctx.feed(only("1227年8月25日"))
    assert (r.year, r.month, r.day, r.lunar, r.precision, r.iso_date, r.text) == \
        (1227, 8, 25, False, "day", "1227-08-25", "1227年8月25日")
    r = ctx.feed(only("祥兴二年二月六日"))
    assert (r.year, r.month, r.day, r.lunar, r.precision, r.iso_date) == (1279, 2, 6, True, "day", "1279")
    assert ctx.current.year == 1279 and ctx.current.month == 2


# ------------------------------------------------------------------------------------ era table


def table_rows() -> list[list[str]]:
    text = files("shilu.ontology").joinpath("eras.tsv").read_text(encoding="utf-8")
    return [line.split("\t") for line in text.splitlines()]


def test_every_row_has_six_columns():
    for line in table_rows():
        if line and line[0] and not line[0].startswith("#"):
            assert len(line) == 6, line


def test_rows_are_ordered_years():
    for era in default_eras():
        assert era.first_year <= era.last_year, era


def test_no_overlap_within_a_polity():
    by_polity: dict[str, list] = defaultdict(list)
    for era in default_eras():
        by_polity[era.polity].append(era)
    for polity, eras in by_polity.items():
        for i, a in enumerate(eras):
            for b in eras[i + 1:]:
                overlap = min(a.last_year, b.last_year) - max(a.first_year, b.first_year) + 1
                # successive eras may share their changeover year; 後漢 counted on in 後晉's 天福
                assert overlap <= 1, (polity, a.name, b.name)


@pytest.mark.parametrize(("polity", "first", "last"), [
    ("北宋", "建隆", "靖康"), ("南宋", "建炎", "祥興"), ("遼朝", "神冊", "保大"), ("金朝", "收國", "天興"),
    ("西夏", "顯道", "寶義"), ("元朝", "中統", "至正"),
])
def test_eras_chain_without_gaps(polity, first, last):
    eras = [e for e in default_eras() if e.polity == polity]
    names = [e.name for e in eras]
    eras = eras[names.index(first): names.index(last) + 1]
    eras.sort(key=lambda e: (e.first_year, e.last_year))
    reach = eras[0].last_year
    for e in eras[1:]:
        assert e.first_year <= reach + 1, (polity, e.name, reach)
        reach = max(reach, e.last_year)


def test_southern_song_chains_from_jianyan_to_xiangxing():
    eras = [e for e in default_eras() if e.polity == "南宋"]
    assert (eras[0].name, eras[-1].name) == ("建炎", "祥興")
    assert (eras[0].first_year, eras[-1].last_year) == (1127, 1279)
    for a, b in zip(eras, eras[1:]):
        assert b.first_year in (a.last_year, a.last_year + 1), (a.name, b.name)


def test_table_covers_the_polities():
    counts = default_eras().polities()
    for polity, least in [("北宋", 35), ("南宋", 22), ("遼朝", 22), ("北遼", 2), ("金朝", 21), ("西夏", 30),
                          ("元朝", 16), ("後梁", 4), ("後唐", 5), ("後晉", 2), ("後漢", 2), ("後周", 2)]:
        assert counts.get(polity, 0) >= least, polity


def test_recurring_names_are_all_kept():
    t = default_eras()
    assert {e.polity for e in t.lookup("大安")} == {"遼朝", "西夏", "金朝"}
    assert {e.polity for e in t.lookup("天慶")} == {"遼朝", "西夏"}
    assert [e.first_year for e in t.lookup("至元")] == [1264, 1335]
    assert t.lookup("辽道宗") == ()
    assert [e.name for e in t.lookup("延祚")] == ["天授禮法延祚"]


def test_lookup_in_either_script():
    t = default_eras()
    assert t.lookup("應曆") == t.lookup("应历") and len(t.lookup("應曆")) == 1
    assert t.year("宝庆", 2) == 1226 and t.year("寶慶", 2) == 1226


def test_load_eras_from_rows():
    t = load_eras([
        ["# a comment"], ["era", "polity", "ruler", "first_year", "last_year", "note"], [],
        ["甲乙|甲", "某國", "某帝", "1000", "1004", ""],
        ["丙丁", "某國", "某帝", "1005", "1009"],
    ])
    assert isinstance(t, EraTable) and len(t) == 2
    assert only("甲乙三年", eras=t).year == 1002
    assert only("甲三年", eras=t).era == "甲乙"
    assert find_dates("嘉定四年", eras=t) == []


@pytest.mark.parametrize("row", [
    ["甲乙", "某國", "某帝", "1000"],
    ["甲乙", "某國", "某帝", "一千", "1004"],
    ["甲乙", "某國", "某帝", "1005", "1004"],
    ["", "某國", "某帝", "1000", "1004"],
])
def test_load_eras_rejects_bad_rows(row):
    with pytest.raises(ValueError):
        load_eras([row])


# -------------------------------------------------------------------------------------- robust


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_find_dates_never_raises_and_spans_hold(text):
    for m in find_dates(text):
        assert text[m.start:m.end] == m.text
        assert 0 <= m.start < m.end <= len(text)


_PIECES = st.sampled_from([
    "1211年", "嘉定", "四年", "（1211年）", "（", "）", "三月", "正月", "次年", "至", "—", "-", "十", "二",
    "日", "後", "年", "月", "元", "金", "夏", "，", "。", "8月", "25日", "公元前", "221", "初二", "閏",
    "數", "餘", "春", "大安", "至元", "紹聖", "前", "约", "1", "12",
])


@settings(max_examples=300, deadline=None)
@given(st.lists(_PIECES, max_size=14).map("".join))
def test_date_like_text_never_raises(text):
    found = find_dates(text)
    ctx = DateContext()
    last_end = 0
    for m in found:
        assert text[m.start:m.end] == m.text
        assert m.start >= last_end  # left to right, no overlaps
        last_end = m.end
        ctx.feed(m)
