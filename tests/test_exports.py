"""`shilu export`: every RDF format read back by rdflib and by an independent parser (raptor's
`rapper`) gives exactly the store's content; the JSON-LD context; the property-graph exports."""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import xml.etree.ElementTree as ET
from collections import defaultdict
from pathlib import Path

import pytest
import rdflib
from rdflib.compare import isomorphic

from shilu.graph.export import export
from shilu.graph.store import open_store

XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
LANG_STRING = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"
RES = "https://w3id.org/shilu/resource/"

#: format → (rdflib parser, holds named graphs, raptor parser name or None, raptor output)
FORMATS = {
    "turtle": ("turtle", False, "turtle", "ntriples"),
    "ntriples": ("nt", False, "ntriples", "ntriples"),
    "rdfxml": ("xml", False, "rdfxml", "ntriples"),
    "trig": ("trig", True, "trig", "nquads"),
    "nquads": ("nquads", True, "nquads", "nquads"),
    "jsonld": ("json-ld", True, None, None),  # raptor has no JSON-LD parser
}


def _term(t):
    import pyoxigraph as ox

    if isinstance(t, ox.NamedNode):
        return rdflib.URIRef(t.value)
    if isinstance(t, ox.BlankNode):
        return rdflib.BNode(t.value)
    if isinstance(t, ox.Literal):
        if t.language:
            return rdflib.Literal(t.value, lang=t.language)
        dt = t.datatype.value if t.datatype else None
        return rdflib.Literal(t.value, datatype=None if dt in (XSD_STRING, LANG_STRING) else rdflib.URIRef(dt))
    raise TypeError(t)


@pytest.fixture(scope="module")
def store(corpus_store: Path):
    s = open_store(corpus_store)
    yield s
    del s


def _content(store) -> tuple[set, dict[str, set]]:
    """The store's content as rdflib terms: the union's triples, and each named graph's."""
    union: set = set()
    graphs: dict[str, set] = defaultdict(set)
    for q in store:
        triple = (_term(q.subject), _term(q.predicate), _term(q.object))
        union.add(triple)
        graphs[q.graph_name.value].add(triple)
    return union, dict(graphs)


@pytest.fixture(scope="module")
def expected(store):
    union, graphs = _content(store)
    assert not any(isinstance(t, rdflib.BNode) for triple in union for t in triple)
    return union, graphs


def _parsed(parsed, datasets: bool) -> tuple[set, dict[str, set]]:
    if not datasets:
        return set(parsed), {}
    graphs: dict[str, set] = defaultdict(set)
    for s, p, o, g in parsed.quads((None, None, None, None)):
        name = g.identifier if isinstance(g, rdflib.Graph) else g
        graphs[str(name)].add((s, p, o))
    return set().union(*graphs.values()), dict(graphs)


def _compare(parsed, datasets: bool, expected, *, iso: bool = False) -> None:
    """Equal content. The graphs have no blank nodes, so equal triple sets are isomorphic
    graphs; with ``iso`` rdflib.compare.isomorphic checks it too (slow on the whole corpus)."""
    union, graphs = expected
    got_union, got_graphs = _parsed(parsed, datasets)
    assert got_union == union
    if datasets:
        assert set(got_graphs) == set(graphs)
        for name, triples in graphs.items():
            assert got_graphs[name] == triples, name
    if iso:
        def graph(triples):
            g = rdflib.Graph()
            for t in triples:
                g.add(t)
            return g

        assert isomorphic(graph(got_union), graph(union))
        for name, triples in graphs.items() if datasets else ():
            assert isomorphic(graph(got_graphs[name]), graph(triples)), name


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_export_reparsed_by_rdflib(store, expected, fmt):
    parser, datasets, _, _ = FORMATS[fmt]
    data = export(store, fmt)
    assert data == export(store, fmt), "byte-identical for identical input"
    parsed = rdflib.Dataset() if datasets else rdflib.Graph()
    parsed.parse(data=data.decode("utf-8"), format=parser)
    _compare(parsed, datasets, expected)


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_export_isomorphic_on_the_seeds(seed_store, fmt):
    """rdflib.compare.isomorphic, graph by graph, on the smaller seed store."""
    parser, datasets, _, _ = FORMATS[fmt]
    seeds = open_store(seed_store)
    parsed = rdflib.Dataset() if datasets else rdflib.Graph()
    parsed.parse(data=export(seeds, fmt).decode("utf-8"), format=parser)
    _compare(parsed, datasets, _content(seeds), iso=True)


@pytest.fixture(scope="session")
def rapper() -> str:
    """raptor2's command-line parser: installed by apt-get when missing and we are root."""
    found = shutil.which("rapper")
    if found:
        return found
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        pytest.skip("rapper (Debian package raptor2-utils) is not installed, and apt-get cannot "
                    "install it here (not root): apt-get install raptor2-utils")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for cmd in (["apt-get", "install", "-y", "-q", "raptor2-utils"],
                ["apt-get", "update", "-q"], ["apt-get", "install", "-y", "-q", "raptor2-utils"]):
        try:
            subprocess.run(cmd, capture_output=True, env=env, timeout=600)
        except (OSError, subprocess.TimeoutExpired):
            pass
        found = shutil.which("rapper")
        if found:
            return found
    pytest.skip("rapper (raptor2-utils) is missing and apt-get could not install it")


@pytest.mark.parametrize("fmt", sorted(f for f, v in FORMATS.items() if v[2]))
def test_export_reparsed_by_rapper(store, expected, rapper, tmp_path, fmt):
    _, datasets, raptor_in, raptor_out = FORMATS[fmt]
    path = tmp_path / f"export.{fmt}"
    path.write_bytes(export(store, fmt))
    run = subprocess.run([rapper, "-q", "-i", raptor_in, "-o", raptor_out, str(path),
                          "https://w3id.org/shilu/"], capture_output=True, timeout=600)
    assert run.returncode == 0, run.stderr.decode("utf-8", "replace")[:2000]
    parsed = rdflib.Dataset() if datasets else rdflib.Graph()
    parsed.parse(data=run.stdout.decode("utf-8"), format="nquads" if datasets else "nt")
    _compare(parsed, datasets, expected)


# --------------------------------------------------------------------------------------------
# The JSON-LD context


@pytest.fixture(scope="module")
def context() -> dict:
    from shilu.ontology import data_path

    return json.loads(data_path("context.jsonld").read_text(encoding="utf-8"))


def test_context_names_every_ontology_term(context):
    from shilu.graph.vocab import TERMS

    ctx = context["@context"]
    missing = [t for t in TERMS if ctx.get(t) not in (f"shilu:{t}",) and
               (not isinstance(ctx.get(t), dict) or ctx[t].get("@id") != f"shilu:{t}")]
    assert not missing, f"ontology/context.jsonld lacks {missing}"
    assert ctx["label"]["@container"] == "@language"


def test_context_reads_a_document_as_the_store_says(store, context):
    """A compact JSON-LD document about the 1122 capture, written with the context, expands to the
    very triples the store holds for it."""
    doc = {
        "@context": context["@context"],
        "id": "res:event/Capture/金朝/大定府_(辽朝)/1122",
        "type": "Capture",
        "agent": "res:金朝",
        "target": "res:大定府_(辽朝)",
        "year": "1122",
    }
    g = rdflib.Graph().parse(data=json.dumps(doc, ensure_ascii=False), format="json-ld")
    for triple in g:
        q = store.query(f"ASK {{ {triple[0].n3()} {triple[1].n3()} {triple[2].n3()} }}",
                        use_default_graph_as_union=True)
        assert bool(q), triple
    assert len(g) == 4


def test_context_compacts_the_export(store, context, expected):
    union, _ = expected
    jin = rdflib.URIRef(RES + "金朝")
    sub = rdflib.Graph()
    for t in union:
        if t[0] == jin:
            sub.add(t)
    text = sub.serialize(format="json-ld", context=context["@context"])
    data = json.loads(text)
    flat = json.dumps(data, ensure_ascii=False)
    assert '"label"' in flat and '"zh-hant"' in flat.lower() and "Dynasty" in flat
    assert isomorphic(rdflib.Graph().parse(data=text, format="json-ld"), sub)


# --------------------------------------------------------------------------------------------
# Property graphs


@pytest.fixture(scope="module")
def neo4j(store, tmp_path_factory):
    from shilu.graph.propgraph import write_neo4j_csv

    out = tmp_path_factory.mktemp("neo4j")
    paths = write_neo4j_csv(store, out)
    return out, paths


def _csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def test_neo4j_csv(neo4j, store, tmp_path):
    from shilu.graph.propgraph import EDGE_COLUMNS, NODE_COLUMNS, write_neo4j_csv

    out, paths = neo4j
    assert sorted(p.name for p in paths) == ["edges.csv", "import.cypher", "nodes.csv"]
    nodes, edges = _csv(out / "nodes.csv"), _csv(out / "edges.csv")
    assert tuple(nodes[0]) == NODE_COLUMNS and tuple(edges[0]) == EDGE_COLUMNS
    ids = {n["id"] for n in nodes}
    assert len(ids) == len(nodes), "node ids are unique"
    assert all(e["source"] in ids and e["target"] in ids for e in edges)
    by_id = {n["id"]: n for n in nodes}
    assert by_id[RES + "金朝"]["labels"] == "Dynasty:Polity"
    assert by_id[RES + "金朝"]["name_hant"] == "金朝"
    assert by_id[RES + "辽朝"]["name_hant"] == "遼朝" and by_id[RES + "辽朝"]["name_hans"] == "辽朝"
    event = RES + "event/Capture/金朝/大定府_(辽朝)/1122"
    assert by_id[event]["labels"] == "Capture:Event" and by_id[event]["year"] == "1122"
    captured = [e for e in edges if e["source"] == RES + "金朝" and e["type"] == "CAPTURED"
                and e["target"] == RES + "大定府_(辽朝)"]
    assert captured and "1122" in captured[0]["years"].split(";")
    assert {"AGENT", "TARGET", "TOLD_IN", "MENTIONS", "ALLIED_WITH", "RULER_OF"} <= {e["type"] for e in edges}
    assert all(t == t.upper() for t in {e["type"] for e in edges})
    roles = {(e["type"], e["target"]) for e in edges if e["source"] == event}
    assert ("AGENT", RES + "金朝") in roles and ("TARGET", RES + "大定府_(辽朝)") in roles
    told = [e for e in edges if e["source"] == event and e["type"] == "TOLD_IN"]
    assert told and all("大定府" in e["sentence"] for e in told)
    # the shortcut edges are the store's shortcut triples (ALLIED_WITH once per pair)
    n = store.query("""SELECT (COUNT(*) AS ?n) WHERE { SELECT DISTINCT ?s ?o WHERE {
        ?s <https://w3id.org/shilu/ontology#captured> ?o } }""", use_default_graph_as_union=True)
    assert int(next(iter(n))["n"].value) == sum(e["type"] == "CAPTURED" for e in edges)
    assert "LOAD CSV WITH HEADERS" in (out / "import.cypher").read_text(encoding="utf-8")
    again = write_neo4j_csv(store, tmp_path / "again")
    assert [p.read_bytes() for p in again] == [p.read_bytes() for p in paths], "byte-identical"


def test_graphml(neo4j, store):
    from shilu.graph.propgraph import graphml_bytes

    data = graphml_bytes(store)
    assert data == graphml_bytes(store)
    ns = "{http://graphml.graphdrawing.org/xmlns}"
    root = ET.fromstring(data)
    keys = {k.get("id"): k for k in root.iter(ns + "key")}
    assert keys["n_labels"].get("for") == "node" and keys["e_type"].get("for") == "edge"
    graph = root.find(ns + "graph")
    assert graph.get("edgedefault") == "directed"
    nodes = {n.get("id"): {d.get("key"): d.text for d in n} for n in graph.iter(ns + "node")}
    edges = [(e.get("source"), e.get("target"), {d.get("key"): d.text for d in e}) for e in graph.iter(ns + "edge")]
    out, _ = neo4j
    assert len(nodes) == len(_csv(out / "nodes.csv")) and len(edges) == len(_csv(out / "edges.csv"))
    assert nodes[RES + "金朝"]["n_labels"] == ":Dynasty:Polity"
    assert all(s in nodes and t in nodes for s, t, _ in edges)
    assert any(s == RES + "金朝" and t == RES + "大定府_(辽朝)" and d["e_type"] == "CAPTURED" for s, t, d in edges)

