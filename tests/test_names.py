"""Names the corpus never links, found by what the text states (glosses, cues, lists, suffixes),
and one resource per thing (eras under several titles, aliases one article's link invented).
Hand-written fixture articles in tests/fixtures/names."""

from __future__ import annotations

import pytest

from shilu.extract.entities import discover_in_lists

from conftest import CORPUS, FIXTURES, SEEDS, extract_fixtures, need_shared

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


def test_an_article_states_the_names_it_contains_and_the_corpus_keeps_them_all():
    """Each article's graph names a thing by the names the article itself contains (its text,
    its links' targets, its own title and bold names) and by the few every article restates (the
    alias table's, a ruler's temple name, the thing's display title): not by every name the
    rest of the corpus gives it, which would make each graph grow with the corpus."""
    need_shared()
    from shilu.extract import build_lexicon, default_resources, extract_article, parse_article
    from shilu.extract.entities import base_name
    from shilu.extract.script import key, to_hans

    resources = default_resources()
    texts = [p.read_text(encoding="utf-8") for folder in (SEEDS, CORPUS) for p in sorted(folder.iterdir())
             if p.suffix in (".md", ".txt")]
    articles = [parse_article(text, f"a{i}") for i, text in enumerate(texts)]
    lexicon = build_lexicon(articles, resources)
    stated: dict[str, set[str]] = {}  # thing -> the names (t2s) the graphs give it, all articles
    restated = 0
    for text, article in zip(texts, articles):
        written = (key(text), key(article.text))  # the Markdown (link targets), the plain text
        for e in extract_article(article, lexicon, resources).entities:
            for _, hans in e.aliases:
                stated.setdefault(e.key, set()).add(hans)
                if any(form in w for w in written for form in (hans, hans.replace(" ", "_"))):
                    continue
                restated += 1
                everywhere = {*lexicon.standing.get(e.key, ()), to_hans(lexicon.display(e.key))}
                assert hans in everywhere, (article.source_id, e.key, hans)
    assert restated  # the alias table's names are restated (宋 names 宋朝 in every article)
    # and nothing the corpus knows a thing by is lost: each name of the lexicon that the graph
    # may state (not another thing's own name, not the label) is stated by some article
    missing = [(k, n) for k, names in stated.items() for n in lexicon.names_of(k)
               if n not in names and not lexicon.owned_elsewhere(n, k) and n != to_hans(base_name(lexicon.display(k)))]
    assert not missing, missing[:10]


def test_the_lexicon_counts_every_sighting_of_a_spelling_and_keeps_every_thing_of_a_name():
    """The join keeps a thing's spelling seen once, and a name's one thing, as a bare string (most
    are): the second sighting must carry the first one's count, and a second thing must join the
    first. Hand-written articles: 乙國 is linked once, then 乙国 twice, then 乙國 twice more (3
    to 2: the label is 乙國; had the first sighting been dropped it would be a 2-2 tie, which the
    smaller 乙国 wins); 庚京 is the link text of two places."""
    from shilu.extract import build_lexicon, parse_article
    from shilu.extract.script import key

    def link(text, target):
        return f'[{text}](../Page/{target}.md "wikilink")'

    texts = [f"**甲戰**是一場戰役。{link('乙國', '乙國')}出兵，進至{link('庚京', '庚京城')}。",
             f"**丙戰**是一場戰役。{link('乙国', '乙国')}與{link('乙国', '乙国')}。",
             f"**丁戰**是一場戰役。{link('乙國', '乙國')}攻{link('庚京', '庚京府')}，{link('乙國', '乙國')}勝。"]
    lexicon = build_lexicon([parse_article(t, f"t{i}") for i, t in enumerate(texts)])
    assert lexicon.display(key("乙國")) == "乙國"
    assert lexicon.display(key("乙国")) == "乙國"  # one thing, whatever the script
    two = build_lexicon([parse_article(t, f"t{i}") for i, t in enumerate(texts[:2])])
    assert two.display(key("乙國")) == "乙国"  # 1 to 2
    assert {key("庚京城"), key("庚京府")} <= set(lexicon.names[key("庚京")])
    assert key("庚京") in lexicon.names_of(key("庚京城"))
