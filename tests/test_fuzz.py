"""Property-based tests of the article parser, the date normaliser and the extraction pipeline.

Whatever the text: no exception; every sentence, link and bold term points at the characters it
quotes, in the source file and in the plain text; dates quote their own text, in order, without
overlaps; extraction gives the same facts twice.

The default profile is small and derandomised (``make test`` stays fast and repeatable); run
``HYPOTHESIS_PROFILE=fuzz .venv/bin/python -m pytest tests/test_fuzz.py`` for a long random run.
"""

from __future__ import annotations

import os
from functools import lru_cache

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shilu.extract import extract_text, parse_article
from shilu.extract.dates import find_dates

from conftest import CORPUS, FIXTURES, SEEDS

settings.register_profile("ci", max_examples=200, deadline=None, derandomize=True,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.register_profile("fuzz", max_examples=5000, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "ci")

# Pieces of the Markdown pandoc writes, and of broken Markdown.
TOKENS = [
    "[", "]", "(", ")", "**", "*", "-{", "}-", "{{", "}}", "\\", "\\[1\\]", "\\(", "\\)", "\n", "\n\n",
    "\r\n", "  ", "\t", "# ", "## ", "### ", "|", " | ", "|---|---|\n", "- ", "  - ", "1. ", "> ",
    "<ref>", "</ref>", "<br>", "<br />", "<small>", "</small>", "<!--", "-->", "<http://x.org/a>",
    "。", "！", "？", "；", "，", "「", "」", "“", "”", "（", "）", "(", ")", '"', " \"wikilink\"",
    "zh-hans:", "zh-hant:", "zh-cn:", "zh-tw:", ";", "H|", "A|", "-", ":", "fig:", "Category:", "分类：",
    "../Page/", ".md", "https://zh.wikipedia.org/wiki/", "%E9%87%91", "_", "#", "http://example.org/",
    "金朝", "遼朝", "辽", "宋", "西夏", "蒙古", "大定府", "攻", "克", "取", "之戰", "元年", "年", "月",
    "日", "正月", "初三", "1127", "一一二七", "嘉定", "四年", "（1211年）", "前221年", "淳化五年", "冬",
    "甲", "乙", "a", "Z", "0", "9", " ", "\u3000", "\ufeff", "\x00", "\u200b", "\U00020000",
]


def _links() -> st.SearchStrategy[str]:
    text = st.text(st.sampled_from("金朝遼宋夏甲乙之戰府州 ()\\\"[]_-"), max_size=8)
    url = st.builds(lambda pre, t, post: pre + t + post,
                    st.sampled_from(["../Page/", "https://zh.wikipedia.org/wiki/", "http://e.org/", "", "Category:"]),
                    text, st.sampled_from([".md", "", ".md \"wikilink\"", " \"fig:x\"", "\"", ")"]))
    return st.builds(lambda t, u: f"[{t}]({u})", text, url)


def _conversions() -> st.SearchStrategy[str]:
    inner = st.text(st.sampled_from("金遼宋甲乙 ;:zh-anst|H-{}\\*"), max_size=12)
    word = st.text(st.sampled_from("金遼宋甲乙 。\\*[]()"), max_size=6)
    rule = st.builds(lambda v, w: f"{v}:{w}", st.sampled_from(["zh-hans", "zh-hant", "zh-cn", "zh-tw", "zh", " zh-hk "]), word)
    rules = st.builds(lambda flags, rs, end: flags + ";".join(rs) + end, st.sampled_from(["", "A|", "H|", "zh-hans;zh-hant|"]),
                      st.lists(rule, min_size=1, max_size=3), st.sampled_from(["", ";"]))
    leaf = st.one_of(st.builds(lambda s: "-{" + s + "}-", inner), st.builds(lambda s: "-{" + s + "}-", rules))
    return st.recursive(leaf, lambda c: st.builds(lambda a, b, x: "-{" + a + x + b + "}-", inner, inner, c),
                        max_leaves=4)


@lru_cache(maxsize=1)
def _real_texts() -> tuple[str, ...]:
    out = []
    for d in (SEEDS, CORPUS, FIXTURES / "mini"):
        if d.is_dir():
            for p in sorted(d.iterdir())[:40]:
                try:
                    out.append(p.read_text(encoding="utf-8"))
                except (UnicodeDecodeError, OSError):
                    pass
    return tuple(out)


@st.composite
def _spliced(draw) -> str:
    """Pieces of real articles cut at arbitrary offsets and glued together."""
    texts = _real_texts()
    parts = []
    for _ in range(draw(st.integers(1, 4))):
        t = texts[draw(st.integers(0, len(texts) - 1))]
        a = draw(st.integers(0, len(t)))
        b = draw(st.integers(a, min(len(t), a + 1500)))
        parts.append(t[a:b])
    return "".join(parts)


MARKDOWN = st.lists(st.one_of(st.sampled_from(TOKENS), _links(), _conversions(), st.text(max_size=6)),
                    max_size=80).map("".join)
TEXT = st.one_of(st.text(max_size=300), MARKDOWN, _spliced())


def check_article(src: str) -> None:
    a = parse_article(src, "fuzz")
    n = len(src)
    for s in a.sentences:
        assert s.text, s
        assert 0 <= s.span.start < s.span.end <= n, s
        assert src[s.span.start] == s.text[0] and src[s.span.end - 1] == s.text[-1], (s, src[s.span.start:s.span.end])
        assert a.text[s.plain.start:s.plain.end] == s.text, s
    for link in a.links + a.figures:
        assert 0 < link.span.start <= link.span.end < n, link
        assert src[link.span.start - 1] == "[" and src[link.span.end] == "]", link
    for link in a.links:  # (a figure's text is its caption, shown nowhere in the text)
        assert a.text[link.plain.start:link.plain.end] == link.text, link
    for term, span in a.bold:
        assert a.text[span.start:span.end] == term
    for c in a.conversions:
        assert src.startswith("-{", c.span.start) and src.startswith("}-", c.span.end - 2), c
    for off in range(0, len(a.text), max(1, len(a.text) // 50)):
        assert 0 <= a.source_offset(off) <= n


@settings(settings.get_profile(PROFILE))
@given(TEXT)
def test_parser_never_raises_and_offsets_quote_the_source(src):
    check_article(src)


@settings(settings.get_profile(PROFILE))
@given(st.one_of(st.text(max_size=200), st.lists(st.sampled_from(TOKENS[40:] + [
    "大定", "三年", "十二月", "廿", "卅", "閏", "八月", "十五日", "次年", "明年", "是年", "三日後", "前", "至",
    "－", "-", "—", "~", "世紀", "年代", "初", "末", "春", "夏", "秋", "天會", "建炎", "紹興", "元至元",
    "0", "1", "2", "〇", "零", "一", "二", "十", "百", "千", "萬", "億"]), max_size=40).map("".join)))
def test_find_dates_never_raises_and_quotes_its_text(text):
    found = find_dates(text)
    last = 0
    for m in found:
        assert last <= m.start < m.end <= len(text), m
        assert text[m.start:m.end] == m.text, m
        last = m.end
    assert find_dates(text) == found


@settings(settings.get_profile(PROFILE).__class__(settings.get_profile(PROFILE), max_examples=60))
@given(st.one_of(MARKDOWN, _spliced()))
def test_extraction_is_deterministic(src):
    first = extract_text(src, "fuzz")
    assert extract_text(src, "fuzz") == first


def test_hostile_inputs_stay_linear():
    """Inputs that would make a backtracking parser crawl: 50,000 unclosed brackets,
    deeply nested conversions, a 20,000-link line."""
    import time

    for src in ("[" * 50_000, "(" * 50_000 + ")", "-{" * 20_000 + "}-" * 20_000, "**" * 30_001,
                "".join(f"[甲{i}](../Page/甲{i}.md \"wikilink\")" for i in range(20_000)),
                "<!--" + "a" * 100_000, "{{" * 30_000, "\\" * 100_001, "|" * 50_000 + "\n" + "|-" * 10_000):
        started = time.perf_counter()
        check_article(src)
        assert time.perf_counter() - started < 10, src[:20]
