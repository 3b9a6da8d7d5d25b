"""The evaluation instrument: small gold files (tests/fixtures/gold) against hand-built stores."""

from __future__ import annotations

from pathlib import Path

import pyoxigraph
import pytest
from pyoxigraph import Literal, NamedNode, Quad

from shilu.graph import iris
from shilu.graph.evaluate import GoldError, evaluate, format_report, load_gold, read_gold

GOLD = Path(__file__).resolve().parent / "fixtures" / "gold"
SHARED_GOLD = Path(__file__).resolve().parent.parent.parent / "shared" / "gold"

NS = iris.ONTOLOGY
RDF_TYPE = NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
RDF_VALUE = NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#value")
LABEL = NamedNode("http://www.w3.org/2000/01/rdf-schema#label")
ALT = NamedNode("http://www.w3.org/2004/02/skos/core#altLabel")
CONCEPT = NamedNode("http://www.w3.org/2004/02/skos/core#Concept")
G_YEAR = NamedNode("http://www.w3.org/2001/XMLSchema#gYear")

JIA = "甲"
XIA = "夏神宗"


def S(term: str) -> NamedNode:
    return NamedNode(NS + term)


def R(key: str) -> NamedNode:
    return NamedNode(iris.resource(key))


class Builder:
    """Quads for a test store, written the way graph/rdf.py writes them."""

    def __init__(self) -> None:
        self.quads: list[Quad] = []
        self.events = 0

    def article(self, source_id: str) -> None:
        g = NamedNode(iris.source(source_id))
        self.quads.append(Quad(g, RDF_TYPE, S("Article"), g))

    def entity(self, source_id: str, key: str, cls: str | None, labels=(), alts=()) -> None:
        g = NamedNode(iris.source(source_id))
        node = R(key)
        if cls:
            self.quads.append(Quad(node, RDF_TYPE, S(cls), g))
        for value in labels or (key,):
            self.quads.append(Quad(node, LABEL, Literal(value, language="zh-Hans"), g))
        for value in alts:
            self.quads.append(Quad(node, ALT, Literal(value, language="zh-Hans"), g))

    def event(self, source_id: str, kind: str, roles: list[tuple[str, str]], year: int | None, sentence: str = "") -> None:
        g = NamedNode(iris.source(source_id))
        node = NamedNode(iris.event(kind, tuple(roles), year))
        self.quads.append(Quad(node, RDF_TYPE, S(kind), g))
        for role, key in roles:
            self.quads.append(Quad(node, S(role), R(key), g))
        if year is not None:
            lexical = f"-{abs(year):04d}" if year < 0 else f"{year:04d}"
            self.quads.append(Quad(node, S("year"), Literal(lexical, datatype=G_YEAR), g))
        self.events += 1
        ev = NamedNode(iris.evidence(source_id, self.events * 10, self.events * 10 + 5))
        self.quads.append(Quad(node, S("evidence"), ev, g))
        self.quads.append(Quad(ev, RDF_VALUE, Literal(sentence or f"sentence {self.events}"), g))

    def store(self) -> pyoxigraph.Store:
        store = pyoxigraph.Store()
        store.extend(self.quads)
        return store


def build(*, flawed: bool = False) -> pyoxigraph.Store:
    b = Builder()
    b.article(JIA)
    # A category labelled like a polity is no entity and resolves no name.
    cat = NamedNode(iris.category("金朝"))
    b.quads += [Quad(cat, RDF_TYPE, CONCEPT, NamedNode(iris.source(JIA))),
                Quad(cat, LABEL, Literal("金朝", language="zh"), NamedNode(iris.source(JIA)))]
    b.entity(JIA, "辽朝", "Dynasty")  # gold 遼朝: matched through t2s
    b.entity(JIA, "金朝", "Dynasty", alts=("金国",))  # gold 金國 (Polity): altLabel + subclass
    b.entity(JIA, "宋朝", "Dynasty")
    b.entity(JIA, "海上之盟", "Alliance")  # an Alliance without parties is an entity
    b.entity(JIA, "完颜阿骨打", "Person" if flawed else "Ruler", labels=("完顏阿骨打",))
    if not flawed:
        b.entity(JIA, "黄龙府", "City")
        b.event(JIA, "Capture", [("agent", "金朝"), ("target", "黄龙府")], 1119)
        b.event(JIA, "Death", [("agent", "完颜阿骨打")], 1123)
    b.event(JIA, "Founding", [("agent", "完颜阿骨打"), ("target", "金朝")], 1116 if flawed else 1115)
    b.event(JIA, "Alliance", [("party", "金朝"), ("party", "宋朝")], 1120)
    b.event(JIA, "Attack", [("agent", "金朝"), ("target", "辽朝")], 1117)
    if flawed:
        b.entity(JIA, "宋军", "Polity", labels=("宋軍",))
        b.event(JIA, "Capture", [("agent", "金朝"), ("target", "辽朝")], 1125, "金軍攻下遼朝")

    b.article(XIA)
    b.entity(XIA, "夏神宗", "Ruler")
    b.entity(XIA, "西夏", "Polity")
    b.event(XIA, "Accession", [("agent", "夏神宗"), ("target", "西夏")], 1211)
    return b.store()


def test_gold_files_parse():
    golds = load_gold(GOLD)
    assert [g.id for g in golds] == [JIA, "corpus/夏神宗"]
    jia = golds[0]
    assert len(jia.entities) == 6 and len(jia.facts) == 5
    died = next(f for f in jia.facts if f.relation == "died")
    assert (died.subject, died.object, died.year) == ("完顏阿骨打", "", 1123)
    attacked = next(f for f in jia.facts if f.relation == "attacked")
    assert attacked.year is None


def test_perfect_store_scores_one():
    report = evaluate(build(), GOLD)
    for score in (*report.articles, report):
        e, f = score.entities, score.facts
        assert (e.recall, e.type_accuracy, e.precision) == (1.0, 1.0, 1.0)
        assert (f.precision, f.recall, f.f1) == (1.0, 1.0, 1.0)
    assert report.misses == [] and report.wrong == []
    assert (report.entities.rows, report.entities.predicted) == (9, 8)
    assert (report.facts.rows, report.facts.predicted) == (6, 6)
    assert all(a.in_store for a in report.articles)
    # subclass matching by class: 金國 (Polity) is res:金朝 (Dynasty)
    assert report.by_class["Polity"].typed == 2
    assert report.by_class["Dynasty"].predicted == 3 and report.by_class["Dynasty"].correct == 3


def test_flawed_store_exact_scores_and_misses():
    report = evaluate(build(flawed=True), GOLD)
    jia = report.article(JIA)
    e, f = jia.entities, jia.facts
    assert (e.rows, e.found, e.typed, e.predicted, e.labelled) == (6, 5, 4, 6, 5)
    assert e.recall == pytest.approx(5 / 6)
    assert e.type_accuracy == pytest.approx(4 / 5)
    assert e.precision == pytest.approx(5 / 6)
    assert (f.rows, f.matched, f.predicted, f.correct) == (5, 2, 4, 2)
    assert (f.precision, f.recall) == (0.5, 0.4)
    assert f.f1 == pytest.approx(4 / 9)

    assert sorted((str(m.row), m.reason) for m in jia.misses) == sorted([
        ("entity 黃龍府 City", "no resource named 黃龍府"),
        ("entity 完顏阿骨打 Ruler", "wrong type: got Person"),
        ("fact captured 金朝 黃龍府 1119", "no resource named 黃龍府"),
        ("fact founded 完顏阿骨打 金國 1115", "year differs: got 1116"),
        ("fact died 完顏阿骨打 - 1123", "no event"),
    ])
    wrong = {(w.kind, w.text): w.evidence for w in jia.wrong}
    assert wrong == {
        ("entity", "宋軍 (Polity)"): (),
        ("event", "Founding 完顏阿骨打 → 金朝 1116"): ("sentence 1",),
        ("event", "Capture 金朝 → 辽朝 1125"): ("金軍攻下遼朝",),
    }

    xia = report.article("corpus/夏神宗")
    assert xia.misses == [] and xia.wrong == []
    o = report.entities
    assert (o.rows, o.found, o.typed, o.predicted, o.labelled) == (9, 8, 7, 8, 7)
    assert (report.facts.rows, report.facts.matched, report.facts.predicted, report.facts.correct) == (6, 3, 5, 3)

    ruler, person = report.by_class["Ruler"], report.by_class["Person"]
    assert (ruler.rows, ruler.found, ruler.typed, ruler.predicted, ruler.correct) == (2, 2, 1, 1, 1)
    assert (person.rows, person.predicted, person.correct) == (0, 1, 0)
    polity = report.by_class["Polity"]
    assert (polity.rows, polity.typed, polity.predicted, polity.correct) == (2, 2, 2, 1)
    founded = report.by_relation["founded"]
    assert (founded.rows, founded.matched, founded.predicted, founded.correct) == (1, 0, 1, 0)
    captured = report.by_relation["captured"]
    assert (captured.rows, captured.matched, captured.predicted, captured.correct) == (1, 0, 1, 0)


def test_script_variants_and_alt_labels(tmp_path):
    (tmp_path / "甲.tsv").write_text("entity\t遼朝\tDynasty\nentity\t金國\tDynasty\nentity\t金朝\tDynasty\n", encoding="utf-8")
    report = evaluate(build(), tmp_path)
    assert report.entities.found == 3 and report.entities.typed == 3 and report.misses == []


def test_allied_either_order(tmp_path):
    (tmp_path / "甲.tsv").write_text(
        "fact\tallied\t金朝\t宋朝\t1120\nfact\tallied\t宋朝\t金國\t\nfact\tallied\t金朝\t遼朝\t\n", encoding="utf-8"
    )
    report = evaluate(build(), tmp_path)
    assert report.by_relation["allied"].matched == 2
    assert [(m.row.object, m.reason) for m in report.misses] == [("遼朝", "no event")]
    # the Alliance event is no entity; the 海上之盟 Alliance entity is
    assert "海上之盟 (Alliance)" in {w.text for w in report.wrong if w.kind == "entity"}
    assert not any("同盟" in w.text or "Alliance 宋朝" in w.text for w in report.wrong if w.kind == "entity")


def test_negative_year_and_article_missing_from_store(tmp_path):
    b = Builder()
    b.article("秦滅六國")
    b.entity("秦滅六國", "秦朝", "Dynasty")
    b.entity("秦滅六國", "齐国", "Polity", labels=("齊國",))
    b.event("秦滅六國", "Conquest", [("agent", "秦朝"), ("target", "齐国")], -221)
    (tmp_path / "秦滅六國.tsv").write_text("fact\tdestroyed\t秦朝\t齊國\t-221\n", encoding="utf-8")
    (tmp_path / "corpus").mkdir()
    (tmp_path / "corpus" / "不在.tsv").write_text("entity\t秦朝\tDynasty\nfact\tdied\t秦始皇\t\t-210\n", encoding="utf-8")
    report = evaluate(b.store(), tmp_path)
    qin = report.article("秦滅六國")
    assert qin.facts.matched == 1 and qin.facts.correct == 1
    absent = report.article("corpus/不在")
    assert not absent.in_store and absent.graph == iris.source("不在")
    # names fall back to the whole store; the event is looked for in the article's own graph
    assert absent.entities.found == 1
    assert [m.reason for m in absent.misses] == ["no resource named 秦始皇"]
    assert "corpus/不在 (not in store)" in format_report(report)


def test_articles_maps_gold_to_another_source(tmp_path):
    (tmp_path / "other.tsv").write_text("entity\t西夏\tPolity\nfact\taccession\t夏神宗\t西夏\t1211\n", encoding="utf-8")
    report = evaluate(build(), tmp_path, articles={"other": XIA})
    a = report.article("other")
    assert a.graph == iris.source(XIA)
    assert (a.facts.precision, a.facts.recall) == (1.0, 1.0)


def test_bad_rows_raise(tmp_path):
    p = tmp_path / "x.tsv"
    p.write_text("entity\t金朝\tKingdom\n", encoding="utf-8")
    with pytest.raises(GoldError, match="x.tsv:1"):
        read_gold(p)
    p.write_text("fact\tconquered\t金朝\t辽朝\t\n", encoding="utf-8")
    with pytest.raises(GoldError):
        read_gold(p)
    p.write_text("fact\tdied\t金朝\t\t十年\n", encoding="utf-8")
    with pytest.raises(GoldError):
        read_gold(p)


def test_format_report():
    report = evaluate(build(flawed=True), GOLD)
    text = format_report(report)
    assert "overall (micro)" in text
    lines = text.splitlines()
    jia = next(line for line in lines if line.startswith(JIA + " "))
    assert jia.split() == [JIA, "6", "0.833", "0.800", "0.833", "5", "0.500", "0.400", "0.444"]
    assert any(line.split()[:1] == ["founded"] for line in lines)
    assert any(line.split()[:1] == ["Ruler"] for line in lines)
    assert "miss" not in text
    full = format_report(report, misses=True)
    assert "  miss   fact founded 完顏阿骨打 金國 1115: year differs: got 1116" in full
    assert "  wrong  event Capture 金朝 → 辽朝 1125 「金軍攻下遼朝」" in full
    assert "== corpus/夏神宗" not in full  # nothing to list for a perfect article


@pytest.mark.skipif(not SHARED_GOLD.is_dir(), reason="../shared/gold missing")
def test_shared_gold_files_parse():
    golds = load_gold(SHARED_GOLD)
    assert len(golds) >= 3
    assert any(g.id.startswith("corpus/") for g in golds)
    assert all(g.entities or g.facts for g in golds)


def test_rows_equal_after_t2s_are_one_row(tmp_path):
    p = tmp_path / "x.tsv"
    p.write_text("# comment\n\nentity\t金國\tDynasty\nentity\t金国\tDynasty\nfact\tdied\t金國\t\t\nfact\tdied\t金国\n", encoding="utf-8")
    gold = read_gold(p)
    assert len(gold.entities) == 1 and len(gold.facts) == 1


def test_categories_resolve_no_name(tmp_path):
    b = Builder()
    b.article(JIA)
    cat = NamedNode(iris.category("金朝"))
    g = NamedNode(iris.source(JIA))
    b.quads += [Quad(cat, RDF_TYPE, CONCEPT, g), Quad(cat, LABEL, Literal("金朝", language="zh"), g)]
    (tmp_path / "甲.tsv").write_text("entity\t金朝\tDynasty\n", encoding="utf-8")
    report = evaluate(b.store(), tmp_path)
    assert [m.reason for m in report.misses] == ["no resource named 金朝"]
    assert report.entities.predicted == 0 and report.entities.precision is None
