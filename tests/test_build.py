"""Build stores from the fixture corpus and the real articles, and ask them real questions."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pyoxigraph
import pytest

from shilu.graph.build import build, find_articles, read_article
from shilu.graph.store import current_path, open_store

from conftest import CORPUS, ROOT, SEEDS, need_shared

RES = "https://w3id.org/shilu/resource/"
SRC = "https://w3id.org/shilu/source/"


def ask(store_dir: Path, query: str) -> list[dict[str, str]]:
    store = open_store(store_dir)
    prefixes = ("PREFIX shilu: <https://w3id.org/shilu/ontology#>\n"
                "PREFIX res: <https://w3id.org/shilu/resource/>\n"
                "PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>\n"
                "PREFIX skos: <http://www.w3.org/2004/02/skos/core#>\n"
                "PREFIX foaf: <http://xmlns.com/foaf/0.1/>\n")
    result = store.query(prefixes + query, use_default_graph_as_union=True)
    names = [v.value for v in result.variables]
    return [{n: sol[n].value for n in names if sol[n] is not None} for sol in result]


def test_mini_corpus_build_reports_bad_file_and_keeps_going(tmp_path, mini_dir):
    report = build([mini_dir], tmp_path / "store")
    assert report.articles == 2
    assert [Path(e.path).name for e in report.errors] == ["broken.md"]
    assert "not UTF-8" in report.errors[0].reason
    rows = ask(tmp_path / "store", "SELECT DISTINCT ?c WHERE { res:甲朝 a ?c }")
    assert rows == [{"c": "https://w3id.org/shilu/ontology#Dynasty"}]  # from its own lead sentence
    # the bold alternative name in its lead is an alias, in both scripts
    alts = {r["a"] for r in ask(tmp_path / "store", "SELECT ?a WHERE { res:甲朝 skos:altLabel ?a }")}
    assert {"甲國", "甲国"} <= alts
    # disambiguated link target: one resource, labelled without the disambiguation
    rows = ask(tmp_path / "store", 'SELECT ?l WHERE { <https://w3id.org/shilu/resource/丙州_(甲朝)> rdfs:label ?l }')
    assert {r["l"] for r in rows} == {"丙州"}


def test_rebuild_replaces_store_atomically(tmp_path, mini_dir):
    store_dir = tmp_path / "store"
    build([mini_dir / "甲朝.md"], store_dir)
    first = current_path(store_dir)
    build([mini_dir], store_dir)
    second = current_path(store_dir)
    assert first != second and second.is_dir()
    graphs = {g.value for g in open_store(store_dir).named_graphs()}
    assert graphs == {SRC + "甲朝", SRC + "甲乙之戰"}


def test_failed_build_leaves_previous_store(tmp_path, mini_dir, monkeypatch):
    store_dir = tmp_path / "store"
    build([mini_dir / "甲朝.md"], store_dir)
    before = current_path(store_dir)

    import shilu.graph.build as b

    def explode(*args, **kwargs):
        raise RuntimeError("extractor failed")

    monkeypatch.setattr(b, "article_quads", explode)
    with pytest.raises(RuntimeError):
        build([mini_dir], store_dir)
    assert current_path(store_dir) == before
    assert sorted(p.name for p in store_dir.iterdir() if p.name.startswith("gen-")) == [before.name]


def test_read_article_errors(tmp_path):
    (tmp_path / "bin.md").write_bytes(b"abc\x00def")
    (tmp_path / "bom.md").write_bytes("\ufeff**甲**".encode())
    assert "binary" in read_article(tmp_path / "bin.md")[1].reason
    assert read_article(tmp_path / "bom.md")[0] == "**甲**"


def test_find_articles_survives_symlink_loop(tmp_path, mini_dir):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "x.md").write_text("**x**", encoding="utf-8")
    os.symlink(tmp_path, tmp_path / "a" / "loop")
    files, errors = find_articles([tmp_path])
    assert [f.name for f in files] == ["x.md"] and not errors


# --- the seeds -------------------------------------------------------------------------------

def test_seed_alliance_and_dynasty_labels(seed_store):
    rows = ask(seed_store, "SELECT DISTINCT ?x WHERE { ?x a shilu:Alliance ; rdfs:label ?l . FILTER(STR(?l) = '金夏同盟') }")
    assert rows == [{"x": RES + "金夏同盟"}]
    labels = ask(seed_store, "SELECT DISTINCT ?l (LANG(?l) AS ?lang) WHERE { res:金朝 a shilu:Dynasty ; rdfs:label ?l }")
    assert {(r["l"], r["lang"]) for r in labels} == {("金朝", "zh-hant"), ("金朝", "zh-hans")}


def test_seed_named_graphs_and_script_variants_merge(seed_store):
    graphs = {g.value for g in open_store(seed_store).named_graphs()}
    assert graphs == {SRC + p.stem for p in SEEDS.iterdir()}
    # 遼朝 (Traditional, seed 000) and 辽朝 (Simplified, seed 002) are one resource
    rows = ask(seed_store, "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?a shilu:mentions res:辽朝 } }")
    assert {r["g"] for r in rows} >= {SRC + "000_905151af9fa92dc5", SRC + "002_7e20e3252799ec8b"}
    hant = ask(seed_store, "SELECT DISTINCT ?l WHERE { res:辽朝 rdfs:label ?l FILTER(langMatches(LANG(?l), 'zh-Hant')) }")
    assert hant == [{"l": "遼朝"}]


def test_every_resource_is_labelled_in_both_scripts(seed_store):
    rows = ask(seed_store, """
        SELECT ?x WHERE {
          ?x rdfs:label ?any . FILTER(STRSTARTS(STR(?x), STR(res:)) && !CONTAINS(STR(?x), "/Category:"))
          FILTER NOT EXISTS { ?x rdfs:label ?h FILTER(langMatches(LANG(?h), 'zh-Hans')) }
        }""")
    assert rows == []


def test_seed_store_conforms_to_shapes(seed_store):
    pyshacl = pytest.importorskip("pyshacl")
    import rdflib

    from shilu.graph.export import export

    data = rdflib.Dataset()
    data.parse(data=export(open_store(seed_store), "nquads"), format="nquads")
    union = rdflib.Graph()
    for s, p, o, _ in data.quads((None, None, None, None)):
        union.add((s, p, o))
    shapes = rdflib.Graph().parse(ROOT / "ontology" / "shapes.ttl")
    conforms, _, text = pyshacl.validate(union, shacl_graph=shapes)
    assert conforms, text


def test_corpus_build_answers(corpus_store):
    rows = ask(corpus_store, "SELECT (COUNT(DISTINCT ?g) AS ?n) WHERE { GRAPH ?g { ?a a shilu:Article } }")
    assert int(rows[0]["n"]) == 93
    # an article of the corpus types its own topic from its categories (Category:金代皇帝)
    rows = ask(corpus_store, "SELECT DISTINCT ?c WHERE { ?x rdfs:label '金哀宗'@zh-hant ; a ?c }")
    assert {"https://w3id.org/shilu/ontology#Ruler"} == {r["c"] for r in rows}


def test_the_build_counts_each_distinct_triple_once(corpus_store):
    """The manifest's ``triples``, counted in parts (a predicate at a time),
    is the count of the union's distinct triples, which the articles restate (fewer than quads)."""
    from shilu.graph.build import _read_manifest

    manifest = _read_manifest(corpus_store)
    rows = ask(corpus_store, "SELECT (COUNT(*) AS ?n) WHERE { SELECT DISTINCT ?s ?p ?o WHERE { GRAPH ?g { ?s ?p ?o } } }")
    assert manifest["triples"] == int(rows[0]["n"])
    assert manifest["triples"] < manifest["quads"]


# --- the command line ------------------------------------------------------------------------

def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "shilu.graph.cli", *args], capture_output=True, text=True)


def test_cli_build_query_export(tmp_path):
    need_shared()
    store = str(tmp_path / "s")
    r = run("build", str(SEEDS), "--store", store)
    assert r.returncode == 0, r.stderr
    assert "3 articles" in r.stderr
    r = run("query", "entity", "--param", "name=遼朝", "--store", store, "--format", "csv")
    assert r.returncode == 0, r.stderr
    assert "https://w3id.org/shilu/resource/辽朝" in r.stdout
    r = run("query", "entities-by-class", "--store", store)
    assert "shilu:Dynasty" in r.stdout
    a = run("export", "--store", store, "--format", "turtle")
    b = run("export", "--store", store, "--format", "turtle")
    assert a.returncode == 0 and a.stdout == b.stdout and a.stdout.startswith("@prefix")
    for fmt in ("trig", "nquads", "ntriples", "jsonld", "rdfxml"):
        r = run("export", "--store", store, "--format", fmt)
        assert r.returncode == 0 and r.stdout, fmt


def test_cli_errors_are_one_line(tmp_path, mini_dir):
    r = run("query", "entity", "--store", str(tmp_path / "nothing"))
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "no store" in r.stderr
    r = run("query", "no-such-query", "--store", str(tmp_path))
    assert r.returncode == 2 and "no named query" in r.stderr
    r = run("build", str(mini_dir), "--store", str(tmp_path / "m"))
    assert r.returncode == 1 and "broken.md" in r.stderr  # partial success: 1


def test_every_entry_point_has_help():
    for verb in ("build", "query", "export", "eval", "serve"):
        r = run(verb, "--help")
        assert r.returncode == 0 and "example" in r.stdout.lower(), verb


def test_the_nquads_writer_gives_the_serialisation_of_the_quads():
    """The build writes N-Quads text directly (entity triples written once per process); it must
    be byte for byte what serialising ``article_quads`` gives, for every seed article."""
    need_shared()
    from shilu.extract import build_lexicon, extract_article, parse_article
    from shilu.graph.rdf import article_nquads, article_quads

    paths = sorted(SEEDS.iterdir())
    texts = [p.read_text(encoding="utf-8") for p in paths]
    articles = [parse_article(t, p.stem) for t, p in zip(texts, paths)]
    lexicon = build_lexicon(articles)
    for article, text in zip(articles, texts):
        facts = extract_article(article, lexicon)
        quads = article_quads(facts, text)
        body, count = article_nquads(facts, text)
        assert body == pyoxigraph.serialize(quads, format=pyoxigraph.RdfFormat.N_QUADS)
        assert count == len(quads)
