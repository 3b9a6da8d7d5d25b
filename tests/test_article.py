"""The article parser on a hand-written fixture and on every real article in ../shared."""

from __future__ import annotations

import pytest

from shilu.extract.article import Span, page_title, parse_article

from conftest import CORPUS, FIXTURES, SEEDS, need_shared


@pytest.fixture(scope="module")
def war():
    path = FIXTURES / "mini" / "甲乙之戰.md"
    return path.read_text(encoding="utf-8"), parse_article(path.read_text(encoding="utf-8"), "甲乙之戰")


def test_banner_title_and_sections(war):
    _, a = war
    assert a.converted_from == "甲乙之战"
    assert a.title == "甲乙之戰"
    assert [s.title for s in a.sections] == ["經過"]
    assert "本文内容由" not in a.text


def test_sentences_split_on_terminators_and_keep_closing_quotes(war):
    _, a = war
    texts = [s.text for s in a.sentences if s.kind == "text"]
    assert "1120年，甲朝攻下丙州！" in texts
    assert "隨後圍攻丁城？" in texts
    assert "「城破。」" in texts
    assert "乙國滅亡。" in texts


def test_links_both_forms_escaped_parentheses_and_offsets(war):
    src, a = war
    by_target = {l.target: l for l in a.links}
    assert by_target["甲朝"].text == "甲朝與"
    assert by_target["乙國"].kind == "wiki"
    assert by_target["丙州 (甲朝)"].text == "丙州"
    for link in a.links:
        assert src[link.span.start:link.span.end] == link.text
        assert a.text[link.plain.start:link.plain.end] == link.text


def test_categories_figures_footnotes_templates(war):
    _, a = war
    assert a.categories == ("虛構戰役", "测试")
    assert [f.target.rsplit("/", 1)[-1] for f in a.figures] == ["File:圖.jpg"]
    assert a.footnote_refs and a.footnote_refs[0][0] == 1
    assert "\\[1\\]" not in a.text and "[1]" not in a.text
    assert a.footnotes[0].number == 1 and a.footnotes[0].text == "虛構的注釋，見 某書"
    assert a.templates == ("{{lang|zh|模板}}",)
    assert "模板" not in a.text and "<references" not in a.text


def test_conversion_markup(war):
    _, a = war
    variants = [c for c in a.conversions if c.variants]
    protected = [c for c in a.conversions if c.protected]
    assert dict(variants[0].variants) == {"zh-hans": "后土", "zh-hant": "後土"}
    assert a.text[variants[0].plain.start:variants[0].plain.end] == "後土"
    assert a.text[protected[0].plain.start:protected[0].plain.end] == "后"


def test_tables_become_cells(war):
    _, a = war
    assert a.tables[0].rows == (("年號", "公元"), ("元年", "1120年"))
    assert [s.text for s in a.sentences if s.kind == "table"] == ["年號", "公元", "元年", "1120年"]


def test_sentence_spans_point_at_their_text(war):
    src, a = war
    for s in a.sentences:
        assert src[s.span.start] == s.text[0]
        assert src[s.span.end - 1] == s.text[-1]


def test_page_title_forms():
    assert page_title("../Page/大定府_\\(辽朝\\).md") == "大定府 (辽朝)"
    assert page_title("https://zh.wikipedia.org/wiki/%E9%87%91%E6%9C%9D") == "金朝"
    assert page_title("http://example.com/x") is None


@pytest.mark.parametrize("text", ["", " \n\n", "[" * 5000, "-{" * 300 + "}-", "**", "\\", "<", "<!--",
                                  "{{" * 100, "](" * 100, "| a | b\n|", "1.  \n    x", "\r\n# \r\n"])
def test_never_raises_on_odd_text(text):
    a = parse_article(text, "odd")
    for s in a.sentences:
        assert s.text.strip()


def test_unclosed_brackets_are_linear():
    import time

    text = "[" * 50_000 + "文" * 10
    started = time.perf_counter()
    a = parse_article(text, "brackets")
    assert time.perf_counter() - started < 2.0  # the naive regex took 14 s
    assert a.text.endswith("文" * 10)


def test_every_real_article_parses_with_exact_offsets():
    need_shared()
    files = sorted(SEEDS.glob("*")) + sorted(CORPUS.glob("*.md"))
    assert len(files) >= 93
    for path in files:
        src = path.read_text(encoding="utf-8")
        a = parse_article(src, path.stem)
        assert a.title and a.sentences, path
        for s in a.sentences:
            assert src[s.span.start] == s.text[0] and src[s.span.end - 1] == s.text[-1], (path, s)
        for link in a.links:
            raw = src[link.span.start:link.span.end]
            if not any(m in raw for m in ("\\", "-{", "**", "<", "{{", "\n")):
                assert src[link.span.start:link.span.end] == link.text, (path, link)
        assert "wikilink" not in a.text, path
        assert "Category:" not in a.text, path


def test_record_is_a_frozen_dataclass_with_a_faster_init():
    import dataclasses

    from shilu.extract.article import record

    @record
    class Pair:
        left: int
        right: str = "x"

    a, b = Pair(1), Pair(left=1, right="x")
    assert a == b and hash(a) == hash(b) and repr(a).endswith("Pair(left=1, right='x')")
    assert dataclasses.astuple(Pair(2, "y")) == (2, "y")
    with pytest.raises(dataclasses.FrozenInstanceError):
        a.left = 3
    with pytest.raises(TypeError):
        Pair()  # a field without default is required

    with pytest.raises(TypeError, match="__post_init__"):
        @record
        class Checked:
            value: int

            def __post_init__(self) -> None:
                pass
