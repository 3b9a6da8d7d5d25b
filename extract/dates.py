"""Date expressions of Chinese-history prose: find them, read them, and resolve relative ones.

Pure functions, no I/O (except :func:`default_eras`, which reads the era table shipped with the
ontology package once per process).

What :func:`find_dates` recognises, each as one :class:`DateMention` with its span in the text:

=============================  ===================================================================
``1120年`` ``公元前221年``        a Gregorian year (BCE negative: ``前221年`` → −221)
``1124年正月`` ``1213年秋六月``   year and month; a month in Chinese numerals is a *lunar* month
``1227年8月25日``               Arabic month after an Arabic year: a Gregorian date (1227-08-25)
``1120年至1125年`` ``1213年—1214年`` ``1120－1125年`` ``1208年正月至1224年十二月``
                               a range (``year`` … ``end_year``)
``嘉定四年`` ``應曆十五年``        an era year: ``first_year + n - 1`` from the era table
``祥兴二年二月六日``              an era date: the year from the era, lunar month and day
``嘉定四年（1211年）``            an era year with its gloss; a gloss that disagrees is a *conflict*;
                               a gloss with a month (``…十月十一日（1038年11月10日）``) gives
                               the Gregorian date, which the article states
``十一年（1251年）三月``          a bare era year dated by its gloss
``三月`` ``正月`` ``閏八月``        a bare month (lunar in Chinese numerals, Gregorian in Arabic)
``次年`` ``同年`` ``是年`` ``三日後`` ``數月後`` ``次月`` ``翌日``
                               relative dates, resolved by :class:`DateContext`
=============================  ===================================================================

Not dates: ``十年`` (a duration: a one- or two-digit year needs an era name or a gloss),
``40萬人``, ``3000騎``, ``第2次``, ``六歲``, ``1120年代`` (a decade).

Lunar months and days stay lunar: they are months of the Chinese calendar, never converted.
Matching works on either script: every character is compared in its OpenCC t2s form, one
character at a time, so offsets in the text are never shifted.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import NamedTuple

from .article import record
from .script import to_hans

__all__ = [
    "DateContext",
    "DateMention",
    "Era",
    "EraTable",
    "Number",
    "ResolvedDate",
    "default_eras",
    "find_dates",
    "load_eras",
    "parse_number",
]


# ---------------------------------------------------------------------------------------------
# Script normalisation, one character at a time (offsets stay put)


# Variant characters OpenCC leaves alone but era names are written with: 嘉熈 = 嘉熙.
_VARIANTS = {"熈": "熙", "徳": "德", "寳": "宝", "淸": "清", "眞": "真"}


@lru_cache(maxsize=65536)
def _nc(c: str) -> str:
    """The t2s form of one character; full-width digits become ASCII, variants their usual form."""
    if "０" <= c <= "９":
        return chr(ord(c) - 0xFEE0)
    if c in _VARIANTS:
        return _VARIANTS[c]
    try:
        h = to_hans(c)
    except Exception:  # a lone surrogate or anything else OpenCC will not take
        return c
    return h if len(h) == 1 else c


class _NormTable(dict):
    """``str.translate`` table of `_nc`, filled one character at a time as they are met (one C
    call per text instead of one Python call per character)."""

    def __missing__(self, o: int) -> str:
        v = self[o] = _nc(chr(o))
        return v


_NORM_TABLE = _NormTable()


def _norm(text: str) -> str:
    return text.translate(_NORM_TABLE)


# ---------------------------------------------------------------------------------------------
# Numbers


class Number(NamedTuple):
    """A number read from text: ``parse_number("四十餘") == Number(40, True)``."""

    value: int
    approximate: bool


_CN_DIGIT = {"〇": 0, "零": 0, "○": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5,
             "六": 6, "七": 7, "八": 8, "九": 9}
_CN_UNIT = {"十": 10, "百": 100, "千": 1000, "万": 10_000}
_CN_CHARS = "".join(_CN_DIGIT) + "".join(_CN_UNIT) + "廿卅"
_APPROX_SUFFIX = ("有余", "余", "多", "许", "来", "几")
_APPROX_PREFIX = ("约", "近", "逾", "数")


def _cn_int(s: str) -> int | None:
    """Chinese numerals → int: 十二, 二十一, 一千一百二十, 一千零二十, 一二二七 (digit by digit)."""
    if not s:
        return None
    s = s.replace("廿", "二十").replace("卅", "三十")
    if any(c not in _CN_DIGIT and c not in _CN_UNIT for c in s):
        return None
    if len(s) > 1 and all(c in _CN_DIGIT for c in s):
        return int("".join(str(_CN_DIGIT[c]) for c in s))
    total = section = 0
    digit: int | None = None
    last_unit = 10**9
    for c in s:
        if c in _CN_DIGIT:
            if digit not in (None, 0):
                return None  # two digits in a row inside a unit number: 十二三
            digit = _CN_DIGIT[c]
        elif c == "万":
            section += digit or 0
            total += (section or 1) * 10_000
            section, digit, last_unit = 0, None, 10**9
        else:
            unit = _CN_UNIT[c]
            if unit >= last_unit:
                return None  # 十百, 百百
            section += (1 if digit is None else digit) * unit
            digit, last_unit = None, unit
    return total + section + (digit or 0)


def parse_number(text: str) -> Number | None:
    """A number written in Chinese or Arabic numerals, with an approximate flag.

    >>> parse_number("二十一"), parse_number("四十餘"), parse_number("一千一百二十")
    (Number(value=21, approximate=False), Number(value=40, approximate=True), Number(value=1120, approximate=False))
    >>> parse_number("元"), parse_number("1211"), parse_number("年")
    (Number(value=1, approximate=False), Number(value=1211, approximate=False), None)

    ``元`` is the 1 of 元年; 〇/零 are zero; 數十 is about ten.
    """
    s = _norm(text.strip())
    approx = False
    for p in _APPROX_PREFIX:
        if s.startswith(p) and len(s) > len(p):
            s, approx = s[len(p):], True
            break
    for suf in _APPROX_SUFFIX:
        if s.endswith(suf) and len(s) > len(suf):
            s, approx = s[: -len(suf)], True
            break
    if s == "元":
        return Number(1, approx)
    if s.isascii() and s.isdigit():
        return Number(int(s), approx)
    v = _cn_int(s)
    return None if v is None else Number(v, approx)


# ---------------------------------------------------------------------------------------------
# The era table


@dataclass(frozen=True, slots=True)
class Era:
    """One row of ``ontology/eras.tsv``: year N of the era is ``first_year + N - 1``."""

    name: str  # canonical name, Traditional script
    aliases: tuple[str, ...]  # further names of the same era (延祚 for 天授禮法延祚)
    polity: str
    ruler: str
    first_year: int
    last_year: int
    note: str = ""
    index: int = 0  # row order in the table: earlier rows win a tie

    @property
    def length(self) -> int:
        return self.last_year - self.first_year + 1

    def year(self, n: int) -> int:
        """The Gregorian year of year ``n`` of the era (``n`` = 1 for 元年)."""
        return self.first_year + n - 1


# Names that stand for a polity of the era table: a polity hint, or the word right before an era
# name (宋寧宗嘉定四年, 金大定三年), is compared against these (t2s forms).
_POLITY_NAMES: dict[str, tuple[str, ...]] = {
    "北宋": ("宋", "宋朝", "北宋", "大宋", "宋国"),
    "南宋": ("宋", "宋朝", "南宋", "大宋", "宋国"),
    "辽朝": ("辽", "辽朝", "辽国", "大辽", "契丹"),
    "北辽": ("北辽", "辽", "辽朝"),
    "西辽": ("西辽", "辽", "哈剌契丹"),
    "后辽": ("后辽", "辽"),
    "东辽": ("东辽", "辽"),
    "金朝": ("金", "金朝", "金国", "大金"),
    "西夏": ("夏", "西夏", "大夏", "夏国", "西夏国"),
    "元朝": ("元", "元朝", "大元", "蒙古", "蒙古帝国", "大蒙古国", "蒙古国", "蒙元"),
    "北元": ("北元", "元", "元朝"),
    "东夏": ("东夏", "大真"),
    "后梁": ("后梁", "梁"),
    "后唐": ("后唐", "唐"),
    "后晋": ("后晋", "晋"),
    "后汉": ("后汉", "汉"),
    "北汉": ("北汉", "汉"),
    "后周": ("后周", "周"),
}


def _polity_keys(polity: str) -> tuple[str, ...]:
    k = _norm(polity)
    return _POLITY_NAMES.get(k, (k,))


class EraTable:
    """The reign eras, looked up by name in either script.

    >>> t = default_eras()
    >>> t.year("嘉定", 4), t.year("应历", 15), t.year("大安", 2, polity_hint="金")
    (1211, 965, 1210)
    """

    def __init__(self, eras: Iterable[Era]):
        self.eras: tuple[Era, ...] = tuple(eras)
        names: dict[str, list[tuple[Era, bool]]] = {}
        for era in self.eras:
            for i, n in enumerate((era.name, *era.aliases)):
                names.setdefault(_norm(n), []).append((era, i == 0))
        self._names = {k: tuple(v) for k, v in names.items()}
        first: dict[str, list[str]] = {}
        for k in self._names:
            first.setdefault(k[0], []).append(k)
        self._by_first = {c: tuple(sorted(v, key=len, reverse=True)) for c, v in first.items()}
        self._longest = max(map(len, self._names), default=0)
        # where `find_dates` may start a date: one character class, to jump from one to the next
        starts = _FIRST_CHARS | set(self._by_first)
        self._starts = re.compile("[" + "".join(re.escape(c) for c in sorted(starts)) + "]")
        rulers: dict[str, set[str]] = {}
        for era in self.eras:
            for r in era.ruler.split("、"):
                if len(r) >= 2:
                    rulers.setdefault(_norm(r), set()).add(era.polity)
        self._rulers = rulers
        prefixes = {k for era in self.eras for k in _polity_keys(era.polity)} | set(rulers)
        self._prefixes = tuple(sorted(prefixes, key=len, reverse=True))
        by_last: dict[str, list[str]] = {}
        for p in self._prefixes:
            by_last.setdefault(p[-1:], []).append(p)  # an empty prefix (no polity) under ""
        self._prefixes_by_last = {c: tuple(v) for c, v in by_last.items()}  # longest first

    def __len__(self) -> int:
        return len(self.eras)

    def __iter__(self):
        return iter(self.eras)

    def lookup(self, name: str) -> tuple[Era, ...]:
        """Every row named ``name`` (canonical name or alias, either script), in table order."""
        return tuple(e for e, _ in self._names.get(_norm(name), ()))

    def polities(self) -> dict[str, int]:
        """Rows per polity, in table order."""
        out: dict[str, int] = {}
        for e in self.eras:
            out[e.polity] = out.get(e.polity, 0) + 1
        return out

    def name_at(self, norm: str, i: int) -> str | None:
        """The longest era name (t2s form) starting at ``norm[i]``."""
        for k in self._by_first.get(norm[i], ()):
            if norm.startswith(k, i):
                return k
        return None

    def hint_before(self, norm: str, i: int) -> str | None:
        """A polity or ruler named right before offset ``i`` (宋寧宗|嘉定, 金|大定): a polity hint."""
        for p in self._prefixes_by_last.get(norm[i - 1] if i > 0 else "", ()):
            if i >= len(p) and norm.startswith(p, i - len(p)):
                return p
        return self._prefixes_by_last.get("", (None,))[0]

    def matches_hint(self, era: Era, hint: str) -> bool:
        h = _norm(hint)
        if h in self._rulers:
            return era.polity in self._rulers[h] and h in {_norm(r) for r in era.ruler.split("、")}
        return h in _polity_keys(era.polity) or h == _norm(era.polity)

    def candidates(self, name: str, n: int, *, polity_hint: str | None = None,
                   local_hint: str | None = None) -> list[Era]:
        """Rows named ``name``, best first: a ruler or polity named before the era name
        (``local_hint``), then ``polity_hint``, then an era whose span holds year ``n``, then a
        canonical name over an alias, then table order. A hint that fits no row is ignored."""
        rows = list(self._names.get(_norm(name), ()))
        if not rows:
            return []

        def rank(item: tuple[Era, bool]) -> tuple:
            era, canonical = item
            return (
                not (local_hint and self.matches_hint(era, local_hint)),
                not (polity_hint and self.matches_hint(era, polity_hint)),
                not (1 <= n <= era.length),
                not canonical,
                era.index,
            )

        return [e for e, _ in sorted(rows, key=rank)]

    def resolve(self, name: str, n: int = 1, *, polity_hint: str | None = None) -> Era | None:
        """The row that year ``n`` of the era ``name`` most likely belongs to."""
        c = self.candidates(name, n, polity_hint=polity_hint)
        return c[0] if c else None

    def year(self, name: str, n: int, *, polity_hint: str | None = None) -> int | None:
        """The Gregorian year of year ``n`` of the era ``name``: ``year("嘉定", 4) == 1211``."""
        era = self.resolve(name, n, polity_hint=polity_hint)
        return None if era is None else era.year(n)


def load_eras(rows: Sequence[Sequence[str]]) -> EraTable:
    """An :class:`EraTable` from the rows of ``eras.tsv`` (each a list of cells).

    Blank rows, ``#`` comments and a header row (first cell ``era``) are skipped. The era cell
    may hold aliases after ``|``. Raises ``ValueError`` naming the row for a malformed one.
    """
    eras: list[Era] = []
    for i, row in enumerate(rows, 1):
        cells = [c.strip() for c in row]
        if not cells or not any(cells) or cells[0].startswith("#") or cells[0] == "era":
            continue
        if len(cells) < 5:
            raise ValueError(f"era row {i}: expected era, polity, ruler, first_year, last_year[, note]: {row!r}")
        names = [n.strip() for n in cells[0].split("|") if n.strip()]
        try:
            first, last = int(cells[3]), int(cells[4])
        except ValueError:
            raise ValueError(f"era row {i}: years are not integers: {row!r}") from None
        if not names or not cells[1]:
            raise ValueError(f"era row {i}: no era name or polity: {row!r}")
        if first > last:
            raise ValueError(f"era row {i}: first_year {first} > last_year {last}")
        note = cells[5] if len(cells) > 5 else ""
        eras.append(Era(names[0], tuple(names[1:]), cells[1], cells[2], first, last, note, len(eras)))
    return EraTable(eras)


@lru_cache(maxsize=1)
def default_eras() -> EraTable:
    """The era table shipped as ``shilu.ontology/eras.tsv`` (read once per process)."""
    from importlib.resources import files

    text = files("shilu.ontology").joinpath("eras.tsv").read_text(encoding="utf-8")
    return load_eras([line.split("\t") for line in text.splitlines()])


# ---------------------------------------------------------------------------------------------
# Mentions


@record
class DateMention:
    """One date expression: ``text == sentence[start:end]``.

    ``year``: the Gregorian year it states (from an era year when written so; the start of a
    range); None for a bare month or a relative date. ``end_year``: a range's last year.
    ``month``/``day``: as written; ``lunar`` tells whether they are of the Chinese calendar.
    ``relative``: ``next_year``, ``same_year``, ``previous_year``, ``year_after_next``,
    ``year_before_last``, ``years_later``, ``months_later``, ``days_later``, ``same_month``,
    ``next_month``, ``same_day``, ``next_day`` (None for an absolute date); ``offset``: the
    years it adds to the last year; ``amount``: the count in ``三日後`` (3).
    ``precision``: ``year``, ``month`` or ``day`` (what the expression states).
    ``era``: the era's canonical name; ``gloss_year``: the year in a ``（1211年）`` after it;
    ``conflict``: that gloss disagrees with the era year.
    """

    start: int
    end: int
    text: str
    year: int | None = None
    end_year: int | None = None
    month: int | None = None
    day: int | None = None
    lunar: bool = False
    relative: str | None = None
    offset: int = 0
    precision: str | None = None
    era: str | None = None
    gloss_year: int | None = None
    conflict: bool = False
    approximate: bool = False
    end_month: int | None = None
    end_day: int | None = None
    leap: bool = False
    amount: int | None = None
    polity: str | None = None  # the era's polity

    @property
    def is_range(self) -> bool:
        return self.end_year is not None

    @property
    def iso_date(self) -> str | None:
        """``1227-08-25``, ``1124`` (a lunar month is no ISO month), ``-0221``; None for a range,
        a relative date, a conflict or no year."""
        if self.year is None or self.end_year is not None or self.relative or self.conflict:
            return None
        return _iso(self.year, self.month, self.day, self.lunar)


def _iso(year: int, month: int | None, day: int | None, lunar: bool) -> str:
    y = f"-{-year:04d}" if year < 0 else f"{year:04d}"
    if lunar or month is None:
        return y
    if day is None:
        return f"{y}-{month:02d}"
    return f"{y}-{month:02d}-{day:02d}"


def _precision(month: int | None, day: int | None) -> str:
    return "day" if day is not None else "month" if month is not None else "year"


# ---------------------------------------------------------------------------------------------
# Patterns (on the t2s text)

_CNN = f"[{_CN_CHARS}]"
_SEASON = "(?:[春夏秋冬]季?)?"
_GZ = "(?:[甲乙丙丁戊己庚辛壬癸][子丑寅卯辰巳午未申酉戌亥])"
_MONTH_CN = re.compile(r"(闰)?(正|冬|腊|十[一二]?|[一二三四五六七八九])月")
_MONTH_AR = re.compile(r"(?<![0-9])(闰)?(1[0-2]|0?[1-9])月")
_DAY_CN = re.compile(rf"(?:(初[一二三四五六七八九十])(?:{_GZ}?日)?|([二三]?十[一二三四五六七八九]?|廿[一二三四五六七八九]?|卅|[一二三四五六七八九]){_GZ}?日|(朔)日?)")
_DAY_AR = re.compile(r"(3[01]|[12][0-9]|0?[1-9])日")
_YEAR_AR = re.compile(r"(公元前|西元前|前|公元|西元)?([0-9]{1,4})(年)?")
_YEAR_CN_POS = re.compile(r"([〇零○一二三四五六七八九]{3,4})年")
_ERA_YEAR = re.compile(rf"(元|{_CNN}{{1,4}}|[0-9]{{1,2}})年")
_BARE_YEAR = re.compile(rf"(元|{_CNN}{{1,4}})年")
_GLOSS = re.compile(r"\s*[（(]\s*(?:公元|西元)?(前)?([0-9]{3,4})(?:年(?:(1[0-2]|0?[1-9])月(?:(3[01]|[12][0-9]|0?[1-9])日)?)?)?\s*[）)]")
_SEP = re.compile(r"\s*(?:至|到|~|～|〜|—+|－|–|-|─+|―+)\s*")
_REL_COUNT = re.compile(rf"(数十|数|几|半|{_CNN}{{1,3}}|[0-9]{{1,3}})(个)?(余|多)?(年|月|日|天|旬)(余|多)?(?:之)?(?:后|以后)")

_REL_WORDS: dict[str, tuple[str, int]] = {
    "次年": ("next_year", 1), "翌年": ("next_year", 1), "明年": ("next_year", 1),
    "来年": ("next_year", 1), "隔年": ("next_year", 1), "次岁": ("next_year", 1),
    "翌岁": ("next_year", 1), "明岁": ("next_year", 1),
    "第二年": ("next_year", 1), "同年": ("same_year", 0), "是年": ("same_year", 0), "当年": ("same_year", 0),
    "该年": ("same_year", 0), "其年": ("same_year", 0), "本年": ("same_year", 0),
    "是岁": ("same_year", 0),
    "去年": ("previous_year", -1), "前一年": ("previous_year", -1),
    "后年": ("year_after_next", 2), "前年": ("year_before_last", -2),
    "同月": ("same_month", 0), "是月": ("same_month", 0), "当月": ("same_month", 0),
    "次月": ("next_month", 0), "翌月": ("next_month", 0),
    "同日": ("same_day", 0), "是日": ("same_day", 0), "当日": ("same_day", 0), "即日": ("same_day", 0),
    "次日": ("next_day", 0), "翌日": ("next_day", 0), "明日": ("next_day", 0),
}
_REL_BY_FIRST: dict[str, tuple[str, ...]] = {}
for _w in sorted(_REL_WORDS, key=len, reverse=True):
    _REL_BY_FIRST[_w[0]] = (*_REL_BY_FIRST.get(_w[0], ()), _w)
# after a relative word, these make it another word: 明年号 (明 era names), 当年龄, 于是年轻
_REL_NOT_BEFORE = set("号龄纪轻代份鉴度轮")
_REL_NOT_AFTER = set("相于最此之以前")
_COPULA_BEFORE = set("都也就还又正乃即便不只但则亦")
_REL_NOT_FOLLOWED = re.compile(r"[0-9一二三四五六七八九十]+岁|进士|及第|登第")

_CN_MONTH_VALUE = {"正": 1, "冬": 11, "腊": 12}
_DURATION_AFTER = re.compile(r"(?:来|之久|历史)")
_BAD_BEFORE_AR = re.compile(r"[0-9A-Za-z_./\\%#&=:+@-]")
_OPENERS = set("，。；、：！？（(「『“”\"' \n\t") | {"\u3000"}


def _cn_value(s: str) -> int | None:
    if s in _CN_MONTH_VALUE:
        return _CN_MONTH_VALUE[s]
    if s.startswith("初"):
        return _cn_int(s[1:])
    if s == "朔":
        return 1
    return _cn_int(s)


class _MD(NamedTuple):
    end: int
    month: int | None
    day: int | None
    lunar: bool
    leap: bool


_SEASON_RE = re.compile(_SEASON)
_CALENDAR = re.compile(r"(?:农历|阴历|夏历|旧历)")


class _Gloss(NamedTuple):
    end: int
    year: int
    month: int | None
    day: int | None


def _gloss(norm: str, j: int) -> _Gloss | None:
    """A Gregorian gloss at ``norm[j]``: ``（1211年）``, ``（公元1163年）``, ``(1186)``,
    ``（1038年11月10日）``, ``（前194年）``."""
    g = _GLOSS.match(norm, j)
    if not g:
        return None
    year = int(g.group(2)) * (-1 if g.group(1) else 1)
    month = int(g.group(3)) if g.group(3) else None
    day = int(g.group(4)) if g.group(4) and month and _valid_day(year, month, int(g.group(4)), False) else None
    return _Gloss(g.end(), year, month, day)


def _md_gloss(norm: str, j: int, *, arabic_ok: bool) -> tuple[int, _MD | None, _Gloss | None]:
    """After a year: a month and day, a gloss, in either order (嘉定四年三月（1211年）,
    嘉定四年（1211年）三月). Returns (end, month-day, gloss)."""
    md = _month_day(norm, j, arabic_ok=arabic_ok)
    if md:
        j = md.end
    g = _gloss(norm, j)
    if g:
        j = g.end
        if md is None:
            md = _month_day(norm, j, arabic_ok=False)
            if md:
                j = md.end
    return j, md, g


def _month_day(norm: str, i: int, *, arabic_ok: bool, season: bool = True, year: int | None = None) -> _MD | None:
    """A month (and day) at ``norm[i]``: ``三月``, ``正月初二``, ``秋七月``, ``8月25日``.
    A day that the month cannot have (``2月30日``) is left out."""
    j = i
    if season:
        m = _SEASON_RE.match(norm, j)
        if m and m.end() > j and (_MONTH_CN.match(norm, m.end()) or _CALENDAR.match(norm, m.end())):
            j = m.end()  # 秋七月 (but 冬月 is the eleventh month)
    lunar_said = False
    m = _CALENDAR.match(norm, j)
    if m:
        j, lunar_said = m.end(), True
    m = _MONTH_CN.match(norm, j)
    if m:
        month = _cn_value(m.group(2))
        leap = bool(m.group(1))
        d = _DAY_CN.match(norm, m.end())
        day = None
        end = m.end()
        if d:
            v = _cn_value(d.group(1) or d.group(2) or d.group(3))
            if v is not None and 1 <= v <= 30:
                day, end = v, d.end()
        return _MD(end, month, day, True, leap)
    if arabic_ok:
        m = _MONTH_AR.match(norm, j)
        if m:
            month = int(m.group(2))
            d = _DAY_AR.match(norm, m.end())
            day, end = None, m.end()
            if d and _valid_day(year, month, int(d.group(1)), False):
                day, end = int(d.group(1)), d.end()
            return _MD(end, month, day, lunar_said, bool(m.group(1)))
    return None


def _valid_day(year: int | None, month: int, day: int | None, lunar: bool) -> bool:
    if day is None:
        return True
    if lunar:
        return 1 <= day <= 30
    lengths = (31, 29 if year is None or year % 4 == 0 else 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
    return 1 <= day <= lengths[month - 1]


def _agrees(year: int, gloss: int, lunar_month: int | None, gloss_month: int | None) -> bool:
    """An era year and its gloss agree; the 11th and 12th lunar months may fall in January or
    February of the next Gregorian year (拱化五年十二月（1068年1月）)."""
    if gloss == year:
        return True
    return gloss == year + 1 and (lunar_month or 0) >= 11 and (gloss_month is None or gloss_month <= 2)


# A gloss further than this from every row of an era name dates a homonymous era of another
# period the table does not hold (唐 貞觀八年（634年）), not a mistake.
_HOMONYM_DISTANCE = 30


# ---------------------------------------------------------------------------------------------
# The scanner


class _Scanner:
    def __init__(self, text: str, norm: str, eras: EraTable, polity_hint: str | None):
        self.text = text
        self.norm = norm
        self.eras = eras
        self.hint = polity_hint

    def mention(self, s: int, e: int, **kw) -> DateMention:
        return DateMention(s, e, self.text[s:e], **kw)

    # each parser: offset → (mention) or None

    def at(self, i: int) -> DateMention | None:
        c = self.norm[i]
        if c in self.eras._by_first and self.nian_near(i):
            m = self.era_date(i)
            if m:
                return m
        if c.isdigit() or c in "公西前约":
            m = self.gregorian(i)
            if m:
                return m
        if c in _REL_BY_FIRST:
            m = self.relative_word(i)
            if m:
                return m
        if c in _CN_CHARS or c in "数几半元" or c.isdigit():
            m = self.relative_count(i)
            if m:
                return m
        if c in _CN_CHARS or c == "元":
            m = self.cn_year(i)
            if m:
                return m
        if c in _CN_CHARS or c in "正冬腊闰春夏秋" or c.isdigit():
            m = self.bare_month(i)
            if m:
                return m
        return None

    def nian_near(self, i: int) -> bool:
        """Can an era date start at ``i``? It needs a 年 within the longest era name, a
        bracket and four numerals of ``i`` (`era_date` returns None otherwise)."""
        k = self.norm.find("年", i)
        return 0 <= k <= i + self.eras._longest + 5

    def preceded_by_number(self, i: int) -> bool:
        return i > 0 and (self.norm[i - 1] in _CN_CHARS or self.norm[i - 1].isdigit())

    # 嘉定四年（1211年）三月 ----------------------------------------------------------------
    def era_date(self, i: int) -> DateMention | None:
        norm = self.norm
        name = self.eras.name_at(norm, i)
        y = None
        start = i
        while name:
            k = i + len(name)
            if i > 0 and norm[i - 1] in "（(" and k < len(norm) and norm[k] in "）)":
                k += 1  # （紹聖）三年九月, as the histories are quoted
            y = _ERA_YEAR.match(norm, k)
            start = i - 1 if k > i + len(name) else i
            if y:
                break
            # a shorter name at the same place (延祚 inside 天授礼法延祚 is not at i)
            shorter = [k for k in self.eras._by_first.get(norm[i], ()) if len(k) < len(name) and norm.startswith(k, i)]
            name = shorter[0] if shorter else None
        if not name or not y:
            return None
        n = parse_number(y.group(1))
        if n is None or not 1 <= n.value <= 99:
            return None
        if y.end() < len(norm) and (norm[y.end()] == "代" or _DURATION_AFTER.match(norm, y.end())):
            return None
        n = n.value
        j, md, g = _md_gloss(norm, y.end(), arabic_ok=True)
        gloss_year, gloss_month = (g.year, g.month) if g else (None, None)
        local = self.eras.hint_before(norm, i)
        if local == "元" and i >= 2 and norm[i - 2] in "改建纪":
            local = None  # 改元大德: the 元 of 改元 names no polity
        rows = self.eras.candidates(name, n, polity_hint=self.hint, local_hint=local)
        month = md.month if md else None
        era = rows[0]
        conflict = gloss_date = False
        year = era.year(n)
        if gloss_year is not None:
            agreeing = [r for r in rows if _agrees(r.year(n), gloss_year, month, gloss_month)]
            if agreeing:
                era, year = agreeing[0], agreeing[0].year(n)
                if g.month is not None:
                    # 拱化五年十二月（1068年1月）: the article gives the Gregorian date; it wins
                    year, md, gloss_date = g.year, _MD(j, g.month, g.day, False, False), True
            elif all(gloss_year < r.first_year - _HOMONYM_DISTANCE or gloss_year > r.last_year + _HOMONYM_DISTANCE
                     for r in rows):
                if g.month is not None:
                    md = _MD(j, g.month, g.day, False, False)
                return self.finish(start, j, year=gloss_year, md=md, gloss_year=gloss_year)
            else:
                conflict = True
        # a range of era years: 嘉定元年至四年, 嘉定元年至嘉定四年
        end_year = end_md = None
        sep = _SEP.match(norm, j)
        if sep and sep.end() > j:
            k = sep.end()
            k2 = k + len(name) if norm.startswith(name, k) else k
            y2 = _ERA_YEAR.match(norm, k2)
            n2 = parse_number(y2.group(1)) if y2 else None
            if n2 is not None and n < n2.value <= 99:
                end_year = era.year(n2.value)
                j = y2.end()
                end_md = _month_day(norm, j, arabic_ok=False)
                if end_md:
                    j = end_md.end
        return self.finish(start, j, year=year, md=md, era=era, gloss_year=gloss_year, conflict=conflict,
                           end_year=end_year, end_md=end_md, gloss_date=gloss_date)

    def finish(self, s: int, e: int, *, year: int | None, md: _MD | None, era: Era | None = None,
               gloss_year: int | None = None, conflict: bool = False, end_year: int | None = None,
               end_md: _MD | None = None, approximate: bool = False,
               gloss_date: bool = False) -> DateMention:
        month = md.month if md else None
        day = md.day if md else None
        lunar = md.lunar if md else False
        if era is not None and md is not None and not gloss_date:
            lunar = True  # an era date's months are months of the Chinese calendar
        return self.mention(
            s, e, year=year, end_year=end_year, month=month, day=day, lunar=lunar,
            precision=_precision(month, day), era=era.name if era else None,
            gloss_year=gloss_year, conflict=conflict, approximate=approximate,
            end_month=end_md.month if end_md else None, end_day=end_md.day if end_md else None,
            leap=md.leap if md else False, polity=era.polity if era else None,
        )

    # 1227年8月25日, 1120年至1125年, 1120－1125年, 公元前221年 --------------------------------
    def gregorian(self, i: int) -> DateMention | None:
        norm = self.norm
        s = i
        approximate = False
        if norm[i] == "约":
            approximate, i = True, i + 1
        first = self.ar_year(i)
        if first is None:
            return None
        year, has_nian, j, prefixed = first
        if not has_nian:
            # only the first year of a range may go without 年: 1120－1125年
            sep = _SEP.match(norm, j)
            if not sep or sep.end() == j:
                return None
            second = self.ar_year(sep.end(), after_sep=True)
            if second is None or not second[1] or second[0] < year or (year < 100 and not prefixed):
                return None
            md2 = _month_day(norm, second[2], arabic_ok=True, year=second[0])
            return self.mention(s, md2.end if md2 else second[2], year=year, end_year=second[0], precision="year",
                                approximate=approximate, end_month=md2.month if md2 else None,
                                end_day=md2.day if md2 else None)
        md = _month_day(norm, j, arabic_ok=True, year=year)
        if md:
            j = md.end
        # a range: 1208年正月至1224年十二月, 1038年11月10日－1048年1月19日, 1207年正月至二月
        sep = _SEP.match(norm, j)
        if sep and sep.end() > j:
            k = sep.end()
            second = self.ar_year(k, after_sep=True)
            if second is not None and second[1] and second[0] >= year:
                md2 = _month_day(norm, second[2], arabic_ok=True, year=second[0])
                e = md2.end if md2 else second[2]
                return self.finish(s, e, year=year, md=md, end_year=second[0], end_md=md2,
                                   approximate=approximate)
            if md is not None and second is None:
                md2 = _month_day(norm, k, arabic_ok=not md.lunar, season=False)
                if md2 and md2.lunar == md.lunar and md2.month >= md.month:
                    return self.finish(s, md2.end, year=year, md=md, end_year=year, end_md=md2,
                                       approximate=approximate)
        return self.finish(s, j, year=year, md=md, approximate=approximate)

    def ar_year(self, i: int, after_sep: bool = False) -> tuple[int, bool, int, bool] | None:
        """(year, followed by 年, end, had a 公元/前 prefix) of an Arabic year at ``i``."""
        norm = self.norm
        m = _YEAR_AR.match(norm, i)
        if not m:
            return None
        prefix, digits, nian = m.group(1), m.group(2), m.group(3)
        if i > 0 and not after_sep and _BAD_BEFORE_AR.match(norm, i - 1):
            return None
        if prefix == "前" and i > 0 and not after_sep and norm[i - 1] not in _OPENERS:
            return None  # 此前1125年: no BCE
        if m.end() < len(norm):
            nxt = norm[m.end()]
            if (nian and nxt == "代") or (not nian and (nxt.isdigit() or nxt in ".,%")):
                return None  # 1120年代 (a decade), 12345, 3.14
        if nian and m.end() < len(norm) and _DURATION_AFTER.match(norm, m.end()):
            return None
        if len(digits) <= 2 and not prefix:
            return None
        if i > 0 and norm[i - 1] == "第":
            return None
        if not nian and len(digits) < 3:
            return None
        year = int(digits)
        if year == 0:
            return None
        if prefix in ("公元前", "西元前", "前"):
            year = -year
        return year, bool(nian), m.end(), bool(prefix)

    # 一二二七年; 十一年（1251年）三月 -------------------------------------------------------
    def cn_year(self, i: int) -> DateMention | None:
        norm = self.norm
        if self.preceded_by_number(i):
            return None
        m = _YEAR_CN_POS.match(norm, i)
        if m and not (m.end() < len(norm) and norm[m.end()] == "代"):
            year = _cn_int(m.group(1))
            if year and year >= 100:
                md = _month_day(norm, m.end(), arabic_ok=False)
                return self.finish(i, md.end if md else m.end(), year=year, md=md)
        m = _BARE_YEAR.match(norm, i)
        if not m:
            return None
        j, md, g = _md_gloss(norm, m.end(), arabic_ok=False)
        if g is None:
            return None  # 十年, 四年: a duration, or a year of an era the sentence does not name
        n = parse_number(m.group(1))
        if n is None or not 1 <= n.value <= 99:
            return None
        if g.month is not None:
            md = _MD(j, g.month, g.day, False, False)  # 二年四月（1128年5月）: the Gregorian date wins
        return self.finish(i, j, year=g.year, md=md, gloss_year=g.year)

    # 次年, 同年十二月 ------------------------------------------------------------------------
    def relative_word(self, i: int) -> DateMention | None:
        norm = self.norm
        for w in _REL_BY_FIRST.get(norm[i], ()):
            if not norm.startswith(w, i):
                continue
            e = i + len(w)
            if e < len(norm) and norm[e] in _REL_NOT_BEFORE:
                return None
            if i > 0 and norm[i - 1] in _REL_NOT_AFTER and w in ("当年", "是年", "前年", "后年", "明日", "当日"):
                return None
            if _REL_NOT_FOLLOWED.match(norm, e):
                return None  # 其年74岁 (an age), 同年进士 (a classmate)
            if w[0] == "是" and i > 0 and norm[i - 1] in _COPULA_BEFORE:
                return None  # 都是日夜思念: 是 is the verb
            if w == "即日" and norm.startswith("后", e):
                return None  # 即日后 = 即|日后 (later)
            kind, offset = _REL_WORDS[w]
            md = g = None
            if kind.endswith("_year"):
                end, md, g = _md_gloss(norm, e, arabic_ok=True)
                if g is not None:
                    # 次年（1116年）六月: the gloss dates it
                    return self.mention(i, end, year=g.year, relative=kind, offset=offset, gloss_year=g.year,
                                        month=md.month if md else None, day=md.day if md else None,
                                        lunar=md.lunar if md else False,
                                        precision=_precision(md.month if md else None,
                                                                             md.day if md else None),
                                        leap=md.leap if md else False)
            else:
                g = _gloss(norm, e)
                if g is not None:
                    # 翌日（1234年2月9日）: the gloss dates it, in the Gregorian calendar
                    return self.mention(i, g.end, year=g.year, relative=kind, offset=offset, gloss_year=g.year,
                                        month=g.month, day=g.day, lunar=False,
                                        precision=_precision(g.month, g.day))
            if kind.endswith("_month") and g is None:
                d = _DAY_CN.match(norm, e)
                if d:
                    v = _cn_value(d.group(1) or d.group(2) or d.group(3))
                    if v is not None and 1 <= v <= 30:
                        md = _MD(d.end(), None, v, True, False)
            end = md.end if md else e
            month = md.month if md else None
            day = md.day if md else None
            unit = kind.rsplit("_", 1)[1]
            precision = _precision(month, day) if unit == "year" else ("day" if day or unit == "day" else "month")
            return self.mention(i, end, relative=kind, offset=offset, month=month, day=day,
                                lunar=bool(md.lunar) if md else False, precision=precision,
                                leap=md.leap if md else False)
        return None

    # 三日後, 數月後, 三年後 -----------------------------------------------------------------
    def relative_count(self, i: int) -> DateMention | None:
        norm = self.norm
        if self.preceded_by_number(i):
            return None
        m = _REL_COUNT.match(norm, i)
        if not m:
            return None
        count, _ge, more1, unit, more2 = m.groups()
        if unit == "年" and m.group(2):
            return None  # 三个年后 is no Chinese
        approximate = bool(more1 or more2)
        if count in ("数", "数十", "几"):
            amount, approximate = None, True
        elif count == "半":
            amount = 6 if unit == "年" else 15 if unit == "月" else None
            unit = {"年": "月", "月": "日"}.get(unit, unit)
            approximate = approximate or amount is None
        else:
            num = parse_number(count)
            if num is None or num.value == 0:
                return None
            amount = num.value
        if unit == "旬":
            unit, amount = "日", None if amount is None else amount * 10
        kind = {"年": "years_later", "月": "months_later", "日": "days_later", "天": "days_later"}[unit]
        offset = amount if (kind == "years_later" and amount is not None and not approximate) else 0
        precision = {"years_later": "year", "months_later": "month", "days_later": "day"}[kind]
        return self.mention(i, m.end(), relative=kind, offset=offset, amount=amount,
                            approximate=approximate, precision=precision)

    # 三月, 正月初二, 閏八月, 8月 -------------------------------------------------------------
    def bare_month(self, i: int) -> DateMention | None:
        norm = self.norm
        if self.preceded_by_number(i) or (i > 0 and norm[i - 1] in "第每个"):
            return None
        # a season opens a date only at the start of a clause: 秋七月, not 西夏|四月
        md = _month_day(norm, i, arabic_ok=True, season=i == 0 or norm[i - 1] in _OPENERS)
        if not md:
            return None
        if md.end < len(norm) and re.match(r"(?:份|之久|有余|余|多|后|以后|之后|间隔)", norm[md.end:md.end + 3]) \
                and md.day is None:
            return None
        if norm[i] in "春夏秋冬" and md.month is None:
            return None
        # a month range within one year: 正月至三月
        sep = _SEP.match(norm, md.end)
        if sep and sep.end() > md.end:
            md2 = _month_day(norm, sep.end(), arabic_ok=not md.lunar, season=False)
            if md2 and md2.lunar == md.lunar and md2.month >= md.month and not self.preceded_by_number(sep.end()):
                return self.mention(i, md2.end, month=md.month, day=md.day, lunar=md.lunar,
                                    precision=_precision(md.month, md.day), end_month=md2.month,
                                    end_day=md2.day, leap=md.leap)
        return self.mention(i, md.end, month=md.month, day=md.day, lunar=md.lunar,
                            precision=_precision(md.month, md.day), leap=md.leap)


_FIRST_CHARS = set(_CN_CHARS) | set("0123456789公西前约数几半元正冬腊闰春夏秋") | set(_REL_BY_FIRST)


def find_dates(text: str, *, polity_hint: str | None = None, eras: EraTable | None = None) -> list[DateMention]:
    """Every date expression in ``text``, left to right, without overlaps.

    ``polity_hint`` (宋, 金朝, 西夏, …) picks among eras of the same name (大安: 遼, 西夏, 金);
    a polity or ruler written right before the era name (金大定, 宋寧宗嘉定) wins over it.
    ``eras`` defaults to :func:`default_eras`.

    >>> [(m.text, m.year) for m in find_dates("嘉定四年（1211年），金兵南下")]
    [('嘉定四年（1211年）', 1211)]
    """
    if not text:
        return []
    table = eras if eras is not None else default_eras()
    norm = _norm(text)
    if len(norm) != len(text):  # cannot happen (one character in, one out), but never misplace spans
        norm = text
    # Every kind of date holds one of these characters (年, 岁, 月, 日, 天 or 旬: see the parsers
    # and their patterns), at or after its start: none can start after the last of them.
    last = max(norm.rfind("年"), norm.rfind("月"), norm.rfind("日"), norm.rfind("岁"), norm.rfind("天"),
               norm.rfind("旬"))
    if last < 0:
        return []
    scanner = _Scanner(text, norm, table, polity_hint)
    starts = table._starts.search
    out: list[DateMention] = []
    i = 0
    while True:
        found = starts(norm, i)  # the next character a date may start with
        if found is None:
            break
        i = found.start()
        if i > last:
            break
        m = scanner.at(i)
        if m is not None and m.end > m.start:
            out.append(m)
            i = m.end
        else:
            i += 1
    return out


# ---------------------------------------------------------------------------------------------
# Resolution


@record
class ResolvedDate:
    """An absolute date: the year (None for a range or a conflicting gloss), and the month and
    day where known. ``iso_date``: ``1227-08-25`` for a Gregorian day, ``1227-08`` for a Gregorian
    month, ``1211`` for a year or a lunar month (no ISO form), None without a year."""

    year: int | None
    month: int | None
    day: int | None
    lunar: bool
    precision: str | None
    iso_date: str | None
    text: str
    start_year: int | None = None
    end_year: int | None = None
    relative: str | None = None
    era: str | None = None
    conflict: bool = False
    approximate: bool = False


def _resolved(m: DateMention | None, year: int | None, month: int | None, day: int | None, lunar: bool,
              *, approximate: bool = False, text: str | None = None) -> ResolvedDate:
    if year is None:
        return ResolvedDate(None, month, day, lunar, None, None, text if text is not None else m.text,
                            relative=m.relative if m else None, approximate=approximate)
    if month is None:
        day = None
    return ResolvedDate(
        year, month, day, lunar, _precision(month, day), _iso(year, month, day, lunar),
        text if text is not None else m.text,
        relative=m.relative if m else None, era=m.era if m else None,
        approximate=approximate or (m.approximate if m else False),
    )


class DateContext:
    """The date an article's narrative has reached, for relative dates. One per article section.

    - An absolute date (``1211年``, ``嘉定四年三月``) sets the current year, month and day.
    - ``次年``/``翌年``/``明年`` = current year + 1, ``同年``/``是年`` = current year, ``去年`` − 1;
      a month written after them is theirs (``次年正月``).
    - A bare month (``三月``) is in the current year; a month earlier than the one before it does
      not move the year on (the text would have said 次年).
    - ``三日後``, ``數月後``: the current year (``三月後`` moves on a year when the month is known
      and passes the 12th); ``三年後`` adds three years; ``數年後`` is unknown and forgets the year.
    - A range resolves to ``year=None`` with ``start_year``/``end_year``; later relative dates
      count from its start.
    - An era year whose gloss disagrees resolves to ``year=None`` (``conflict=True``) and forgets
      the current year, so nothing after it is dated from a doubtful year.

    Use ``resolve(m)`` then ``observe(m)`` for every mention in text order (or ``feed(m)``).
    """

    def __init__(self) -> None:
        self.year: int | None = None
        self.month: int | None = None
        self.day: int | None = None
        self.lunar: bool = False
        self.text: str = ""  # the mention that set the current date

    def reset(self) -> None:
        self.__init__()

    @property
    def current(self) -> ResolvedDate | None:
        """The date reached so far, or None before any year."""
        if self.year is None:
            return None
        return _resolved(None, self.year, self.month, self.day, self.lunar, text=self.text)

    def resolve(self, m: DateMention) -> ResolvedDate | None:
        """The absolute date of ``m`` given what came before; None when it cannot be known."""
        if m.relative is None or m.year is not None:  # 次年（1116年）: the gloss dates it
            if m.end_year is not None:
                return ResolvedDate(None, m.month, m.day, m.lunar, None, None, m.text, start_year=m.year,
                                    end_year=m.end_year, era=m.era, approximate=m.approximate)
            if m.conflict:
                return ResolvedDate(None, m.month, m.day, m.lunar, None, None, m.text, era=m.era,
                                    conflict=True, approximate=m.approximate)
            if m.year is not None:
                return _resolved(m, m.year, m.month, m.day, m.lunar)
            if self.year is None:
                return None
            return _resolved(m, self.year, m.month, m.day, m.lunar)
        if self.year is None:
            return None
        kind = m.relative
        if kind.endswith("_year") or kind == "years_later":
            if kind == "years_later" and (m.approximate or m.amount is None):
                return None
            return _resolved(m, self.year + m.offset, m.month, m.day, m.lunar)
        if kind == "months_later":
            year = self.year
            if self.month is not None and m.amount is not None and not m.approximate:
                year += (self.month - 1 + m.amount) // 12
            return _resolved(m, year, None, None, False, approximate=m.approximate)
        if kind == "days_later":
            return _resolved(m, self.year, None, None, False, approximate=m.approximate)
        if kind in ("same_month", "next_month"):
            if self.month is None:
                return _resolved(m, self.year, None, None, False)
            year, month = self.year, self.month
            if kind == "next_month":
                year, month = (year + 1, 1) if month == 12 else (year, month + 1)
            return _resolved(m, year, month, m.day, self.lunar)
        if kind in ("same_day", "next_day"):
            if kind == "same_day":
                return _resolved(m, self.year, self.month, self.day, self.lunar)
            return _resolved(m, self.year, self.month, None, self.lunar)
        return None

    def observe(self, m: DateMention) -> None:
        """Move the narrative to ``m``."""
        if m.relative is None or m.year is not None:
            if m.conflict:
                self.year = self.month = self.day = None
                self.text = ""
                return
            if m.year is not None:
                self.year, self.month, self.day, self.lunar = m.year, m.month, m.day, m.lunar
                self.text = m.text
                return
            if m.month is not None:
                self.month, self.day, self.lunar = m.month, m.day, m.lunar
                self.text = m.text
            return
        r = self.resolve(m)
        if r is None or r.year is None:
            if m.relative == "years_later" or self.year is None:
                self.year = self.month = self.day = None
                self.text = ""
            return
        if r.year != self.year or r.month is not None:
            self.month, self.day = r.month, r.day
        self.year = r.year
        self.text = m.text
        if r.month is not None:
            self.lunar = r.lunar

    def feed(self, m: DateMention) -> ResolvedDate | None:
        """``resolve(m)``, then ``observe(m)``."""
        r = self.resolve(m)
        self.observe(m)
        return r
