"""Tests for the read-only SPARQL endpoint (shilu.graph.server)."""

from __future__ import annotations

import csv
import io
import json
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pyoxigraph as ox
import pytest
import rdflib
import rdflib.compare
from starlette.testclient import TestClient

from shilu.graph import server
from shilu.graph.server import create_app, looks_like_update, negotiate

from conftest import serving

RES = "https://w3id.org/shilu/resource/"
SRC = "https://w3id.org/shilu/source/"
SHILU = "https://w3id.org/shilu/ontology#"
RDFS_LABEL = ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#label")
RDF_TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
G1 = SRC + "000_905151af9fa92dc5"
G2 = SRC + "001_0123456789abcdef"
SD = "http://www.w3.org/ns/sparql-service-description#"

LABELS = "SELECT ?s ?label WHERE { ?s <http://www.w3.org/2000/01/rdf-schema#label> ?label }"


# --------------------------------------------------------------------------------------------
# Fixtures


def _quads() -> list[ox.Quad]:
    jin, liao = ox.NamedNode(RES + "金朝"), ox.NamedNode(RES + "辽朝")
    dading = ox.NamedNode(RES + "大定府")
    event = ox.NamedNode(RES + "event/Capture/金朝/大定府/1122")
    dynasty = ox.NamedNode(SHILU + "Dynasty")
    g1, g2 = ox.NamedNode(G1), ox.NamedNode(G2)
    return [
        ox.Quad(jin, RDF_TYPE, dynasty, g1),
        ox.Quad(jin, RDFS_LABEL, ox.Literal("金朝", language="zh-hant"), g1),
        ox.Quad(jin, RDFS_LABEL, ox.Literal("金朝", language="zh-hans"), g1),
        ox.Quad(event, RDF_TYPE, ox.NamedNode(SHILU + "Capture"), g1),
        ox.Quad(event, ox.NamedNode(SHILU + "agent"), jin, g1),
        ox.Quad(event, ox.NamedNode(SHILU + "target"), dading, g1),
        ox.Quad(event, ox.NamedNode(SHILU + "year"),
                ox.Literal("1122", datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#gYear")),
                g1),
        ox.Quad(liao, RDF_TYPE, dynasty, g2),
        ox.Quad(liao, RDFS_LABEL, ox.Literal("遼朝", language="zh-hant"), g2),
        ox.Quad(jin, RDFS_LABEL, ox.Literal("金國", language="zh-hant"), g2),
        # a value that needs escaping in every results format
        ox.Quad(liao, ox.NamedNode(SHILU + "note"),
                ox.Literal('a "quoted",\ttabbed\nline & <tag>'), g2),
    ]


def _build_store(path: Path, quads: list[ox.Quad]) -> Path:
    store = ox.Store(str(path))
    store.extend(quads)
    store.flush()
    del store  # closes the store
    return path


@pytest.fixture(scope="module")
def store_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _build_store(tmp_path_factory.mktemp("store") / "oxigraph", _quads())


@pytest.fixture(scope="module")
def client(store_path: Path):
    with TestClient(create_app(store_path)) as c:
        yield c


def _bindings(response) -> list[dict]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/sparql-results+json")
    return response.json()["results"]["bindings"]


def _labels(response) -> set[str]:
    return {b["label"]["value"] for b in _bindings(response)}


ALL_LABELS = {"金朝", "遼朝", "金國"}


# --------------------------------------------------------------------------------------------
# Protocol operations and datasets


def test_health(client):
    r = client.get("/health")
    assert r.status_code == 200
    assert r.json() == {"status": "ok", "graphs": 2, "generation": "oxigraph"}


def test_get_query(client):
    r = client.get("/sparql", params={"query": LABELS})
    assert _labels(r) == ALL_LABELS
    langs = {b["label"]["value"] + "@" + b["label"]["xml:lang"] for b in _bindings(r)}
    assert "金朝@zh-hant" in langs and "金朝@zh-hans" in langs


def test_post_form(client):
    r = client.post("/sparql", data={"query": LABELS})
    assert _labels(r) == ALL_LABELS


def test_post_direct(client):
    r = client.post("/sparql", content=LABELS.encode(),
                    headers={"Content-Type": "application/sparql-query; charset=utf-8"})
    assert _labels(r) == ALL_LABELS


def test_post_direct_with_dataset_in_url(client):
    r = client.post("/sparql", params={"default-graph-uri": G2}, content=LABELS.encode(),
                    headers={"Content-Type": "application/sparql-query"})
    assert _labels(r) == {"遼朝", "金國"}


def test_default_graph_is_union_of_named_graphs(client):
    r = client.get("/sparql", params={"query": "SELECT (COUNT(*) AS ?n) { ?s ?p ?o }"})
    assert int(_bindings(r)[0]["n"]["value"]) == len(_quads())


def test_default_graph_uri_restricts(client):
    r = client.get("/sparql", params={"query": LABELS, "default-graph-uri": G1})
    assert _labels(r) == {"金朝"}
    r = client.get("/sparql", params={"query": LABELS, "default-graph-uri": [G1, G2]})
    assert _labels(r) == ALL_LABELS
    # with a dataset in the request, GRAPH sees only the named-graph-uri graphs
    q = "SELECT DISTINCT ?g { GRAPH ?g { ?s ?p ?o } }"
    r = client.get("/sparql", params={"query": q, "default-graph-uri": G1, "named-graph-uri": G2})
    assert [b["g"]["value"] for b in _bindings(r)] == [G2]
    r = client.post("/sparql", data={"query": q, "default-graph-uri": G1})
    assert _bindings(r) == []


def test_graph_clause_sees_all_graphs(client):
    r = client.get("/sparql", params={"query": "SELECT DISTINCT ?g { GRAPH ?g { ?s ?p ?o } }"})
    assert {b["g"]["value"] for b in _bindings(r)} == {G1, G2}


def test_from_clause_defines_dataset(client):
    q = LABELS.replace(" WHERE", f" FROM <{G2}> WHERE")
    assert _labels(client.get("/sparql", params={"query": q})) == {"遼朝", "金國"}
    # the protocol's default-graph-uri overrides FROM
    r = client.get("/sparql", params={"query": q, "default-graph-uri": G1})
    assert _labels(r) == {"金朝"}


def test_head_request(client):
    r = client.head("/sparql", params={"query": LABELS})
    assert r.status_code == 200


# --------------------------------------------------------------------------------------------
# Result formats

RESULT_FORMATS = [
    # (Accept, format=, content type, pyoxigraph format)
    ("application/sparql-results+json", "json", "application/sparql-results+json",
     ox.QueryResultsFormat.JSON),
    ("application/sparql-results+xml", "xml", "application/sparql-results+xml",
     ox.QueryResultsFormat.XML),
    ("text/csv", "csv", "text/csv", ox.QueryResultsFormat.CSV),
    ("text/tab-separated-values", "tsv", "text/tab-separated-values", ox.QueryResultsFormat.TSV),
]

ALL_SOLUTIONS = "SELECT ?s ?p ?o ?unbound { ?s ?p ?o OPTIONAL { ?s <urn:x:none> ?unbound } }"


def _reference(store_path: Path, query: str, fmt: ox.QueryResultsFormat) -> bytes:
    """What pyoxigraph itself writes for ``query`` (a read-only store may be opened twice)."""
    store = ox.Store.read_only(str(store_path))
    return store.query(query, use_default_graph_as_union=True).serialize(format=fmt)


@pytest.mark.parametrize("accept,name,content_type,oxformat", RESULT_FORMATS)
def test_select_formats_by_accept_and_param(client, store_path, accept, name, content_type,
                                            oxformat):
    by_accept = client.get("/sparql", params={"query": ALL_SOLUTIONS}, headers={"Accept": accept})
    by_param = client.get("/sparql", params={"query": ALL_SOLUTIONS, "format": name})
    for r in (by_accept, by_param):
        assert r.status_code == 200, r.text
        assert r.headers["content-type"].split(";")[0] == content_type
        # the body is exactly what pyoxigraph's own serializer writes for the same results
        assert r.content == _reference(store_path, ALL_SOLUTIONS, oxformat)
        if oxformat == ox.QueryResultsFormat.CSV:  # lossy: pyoxigraph does not parse it
            rows = list(csv.reader(io.StringIO(r.content.decode(), newline="")))
            assert rows[0] == ["s", "p", "o", "unbound"]
            assert len(rows) == 1 + len(_quads())
            continue
        parsed = ox.parse_query_results(r.content, format=oxformat)
        assert [v.value for v in parsed.variables] == ["s", "p", "o", "unbound"]
        assert len(list(parsed)) == len(_quads())


def test_select_formats_parse_with_standard_tools(client):
    q = {"query": LABELS}
    root = ET.fromstring(client.get("/sparql", params={**q, "format": "xml"}).content)
    ns = {"r": "http://www.w3.org/2005/sparql-results#"}
    literals = root.iterfind(".//r:binding[@name='label']/r:literal", ns)
    assert {e.text for e in literals} == ALL_LABELS
    text = client.get("/sparql", params={**q, "format": "csv"}).text
    rows = list(csv.DictReader(io.StringIO(text)))
    assert {row["label"] for row in rows} == ALL_LABELS
    tsv = client.get("/sparql", params={**q, "format": "tsv"}).text.splitlines()
    assert tsv[0] == "?s\t?label" and '"金朝"@zh-hant' in "\n".join(tsv)


def test_tricky_terms_match_pyoxigraph(tmp_path):
    """The SELECT writers agree with pyoxigraph's on unusual terms and round-trip them."""
    store = ox.Store()
    g = ox.NamedNode("urn:x:g")
    s, p = ox.NamedNode("urn:x:s"), ox.NamedNode("urn:x:p")
    for o in [ox.BlankNode("b1"), ox.Literal("x", language="ar", direction=ox.BaseDirection.RTL),
              ox.Literal("3", datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#integer")),
              ox.Literal('comma, "quote"\r\nCRLF\ttab'), ox.Literal("")]:
        store.add(ox.Quad(s, p, o, g))
    query = ("SELECT ?s ?o ?none ?t { GRAPH ?g { ?s ?p ?o } "
             "BIND(<<( ?s ?p ?o )>> AS ?t) } ORDER BY STR(?o)")
    for name, fmt in [("json", ox.QueryResultsFormat.JSON), ("xml", ox.QueryResultsFormat.XML),
                      ("csv", ox.QueryResultsFormat.CSV), ("tsv", ox.QueryResultsFormat.TSV)]:
        if name == "csv":  # pyoxigraph writes a triple term's literal in CSV quoted twice
            query = query.replace(" ?t {", " {")
        results = store.query(query)
        variables = [v.value for v in results.variables]
        rows = [tuple(sol) for sol in results]
        ours = server._SELECT_WRITERS[name](variables, rows)
        theirs = store.query(query).serialize(format=fmt)
        if name == "xml":
            # we write CR as &#13; so that it survives XML end-of-line normalisation
            assert ours == theirs.replace(b"\r", b"&#13;")
        elif name == "tsv":
            # pyoxigraph abbreviates numbers Turtle-style (even xsd:int, which then reads back
            # as xsd:integer); we always write the exact N-Triples form
            integer = b'"3"^^<http://www.w3.org/2001/XMLSchema#integer>'
            assert ours.replace(integer, b"3") == theirs
        else:
            assert ours == theirs, name
        if name != "csv":  # and they read back as the very same terms
            parsed = ox.parse_query_results(ours, format=fmt)
            assert [tuple(s) for s in parsed] == rows, name


def test_accept_q_values(client):
    def content_type(accept: str) -> str:
        r = client.get("/sparql", params={"query": LABELS}, headers={"Accept": accept})
        assert r.status_code == 200, r.text
        return r.headers["content-type"].split(";")[0]

    assert content_type("text/csv;q=0.5, application/sparql-results+xml") == \
        "application/sparql-results+xml"
    assert content_type("text/csv, application/sparql-results+xml;q=0.9") == "text/csv"
    assert content_type("*/*") == "application/sparql-results+json"
    assert content_type("text/*") == "text/csv"
    assert content_type("text/html,application/xhtml+xml,*/*;q=0.8") == \
        "application/sparql-results+json"
    assert content_type("application/json") == "application/sparql-results+json"
    assert content_type("text/*;q=0.9, text/tab-separated-values;q=1") == \
        "text/tab-separated-values"
    # a media type in format= behaves like Accept and wins over the header
    r = client.get("/sparql", params={"query": LABELS, "format": "text/csv"},
                   headers={"Accept": "application/sparql-results+xml"})
    assert r.headers["content-type"].startswith("text/csv")


def test_negotiate_unit():
    fmts = server.RESULT_FORMATS
    assert negotiate(fmts, None, None, "x").name == "json"
    assert negotiate(fmts, "", None, "x").name == "json"
    assert negotiate(fmts, "text/csv;q=0, */*;q=0.1", None, "x").name == "json"
    assert negotiate(fmts, "application/*;q=0.2, text/csv;q=0.1", None, "x").name == "json"
    assert negotiate(fmts, "garbage, text/tab-separated-values", None, "x").name == "tsv"
    with pytest.raises(server.HTTPError) as e:
        negotiate(fmts, "text/csv;q=0", None, "x")
    assert e.value.status == 406


def test_ask(client):
    r = client.get("/sparql", params={"query": f"ASK {{ <{RES}金朝> ?p ?o }}"})
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/sparql-results+json")
    assert r.json() == {"head": {}, "boolean": True}
    r = client.get("/sparql", params={"query": "ASK { <urn:x:nothing> ?p ?o }", "format": "xml"})
    assert r.headers["content-type"].startswith("application/sparql-results+xml")
    assert bool(ox.parse_query_results(r.content, format=ox.QueryResultsFormat.XML)) is False


CONSTRUCT = f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{G1}> {{ ?s ?p ?o }} }}"


def _expected_graph() -> rdflib.Graph:
    g = rdflib.Graph()
    g.parse(data=ox.serialize([q.triple for q in _quads() if q.graph_name.value == G1],
                              format=ox.RdfFormat.N_TRIPLES), format="nt")
    return g


def test_construct_turtle(client):
    r = client.get("/sparql", params={"query": CONSTRUCT})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/turtle")
    g = rdflib.Graph().parse(data=r.text, format="turtle")
    assert rdflib.compare.isomorphic(g, _expected_graph())
    assert (rdflib.URIRef(RES + "金朝"), rdflib.RDFS.label,
            rdflib.Literal("金朝", lang="zh-hant")) in g


@pytest.mark.parametrize("accept,content_type,rdflib_format", [
    ("application/n-triples", "application/n-triples", "nt"),
    ("application/rdf+xml", "application/rdf+xml", "xml"),
    ("application/ld+json", "application/ld+json", "json-ld"),
    ("text/n3", "text/n3", "n3"),
    ("application/trig", "application/trig", "trig"),
    ("application/n-quads", "application/n-quads", "nquads"),
])
def test_construct_formats(client, accept, content_type, rdflib_format):
    r = client.get("/sparql", params={"query": CONSTRUCT}, headers={"Accept": accept})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].split(";")[0] == content_type
    if rdflib_format in ("trig", "nquads"):
        ds = rdflib.Dataset().parse(data=r.text, format=rdflib_format)
        g = rdflib.Graph()
        for s, p, o, _ in ds.quads((None, None, None, None)):
            g.add((s, p, o))
    else:
        g = rdflib.Graph().parse(data=r.text, format=rdflib_format)
    assert rdflib.compare.isomorphic(g, _expected_graph())


def test_describe(client):
    r = client.get("/sparql", params={"query": f"DESCRIBE <{RES}辽朝>", "format": "nt"})
    assert r.status_code == 200, r.text
    g = rdflib.Graph().parse(data=r.text, format="nt")
    label = rdflib.Literal("遼朝", lang="zh-hant")
    assert (rdflib.URIRef(RES + "辽朝"), rdflib.RDFS.label, label) in g


# --------------------------------------------------------------------------------------------
# Errors


def test_malformed_query(client):
    r = client.get("/sparql", params={"query": "SELECT ?x WHERE { ?x"})
    assert r.status_code == 400
    assert r.headers["content-type"].startswith("text/plain")
    assert "malformed query" in r.text and "1:" in r.text  # the parser's position


def test_missing_query_on_post(client):
    assert client.post("/sparql", data={"foo": "bar"}).status_code == 400
    r = client.post("/sparql", content=b"", headers={"Content-Type": "application/sparql-query"})
    assert r.status_code == 400  # an empty query does not parse


def test_repeated_query_parameter(client):
    r = client.get("/sparql", params={"query": [LABELS, LABELS]})
    assert r.status_code == 400


def test_bad_graph_iri(client):
    r = client.get("/sparql", params={"query": LABELS, "default-graph-uri": "not an iri"})
    assert r.status_code == 400


@pytest.mark.parametrize("update", [
    "INSERT DATA { <urn:x:a> <urn:x:b> <urn:x:c> }",
    "PREFIX ex: <http://example.org/#> # comment\n DELETE WHERE { ?s ex:p ?o }",
    "BASE <http://e/> LOAD <http://example.org/data.ttl>",
    "clear all",
    "DROP GRAPH <urn:x:g>",
    "CREATE GRAPH <urn:x:g>",
    "WITH <urn:x:g> DELETE { ?s ?p ?o } WHERE { ?s ?p ?o }",
])
def test_update_refused(client, update):
    r = client.get("/sparql", params={"query": update})
    assert r.status_code == 403, r.text
    assert "read-only" in r.text


def test_update_refused_every_way(client):
    update = "INSERT DATA { <urn:x:a> <urn:x:b> <urn:x:c> }"
    assert client.post("/sparql", data={"update": update}).status_code == 403
    assert client.get("/sparql", params={"update": update}).status_code == 403
    r = client.post("/sparql", content=update.encode(),
                    headers={"Content-Type": "application/sparql-update"})
    assert r.status_code == 403
    # and nothing changed
    r = client.get("/sparql", params={"query": "ASK { <urn:x:a> ?p ?o }"})
    assert r.json()["boolean"] is False


def test_looks_like_update_unit():
    assert looks_like_update("insert data {}")
    assert looks_like_update("PREFIX : <http://x/> PREFIX a: <urn:a>\nADD :g TO :h")
    assert not looks_like_update("SELECT ?insert { ?insert ?p 'DELETE' }")
    assert not looks_like_update("# INSERT\nSELECT * {}")
    assert not looks_like_update("PREFIX ex: <http://x/LOAD> SELECT * {}")


def test_unsupported_content_type(client):
    r = client.post("/sparql", content=b"{}", headers={"Content-Type": "application/json"})
    assert r.status_code == 415
    r = client.post("/sparql", content=LABELS.encode(), headers={"Content-Type": "text/plain"})
    assert r.status_code == 415


def test_not_acceptable(client):
    r = client.get("/sparql", params={"query": LABELS}, headers={"Accept": "image/png"})
    assert r.status_code == 406
    assert "application/sparql-results+json" in r.text  # lists what is available
    r = client.get("/sparql", params={"query": LABELS}, headers={"Accept": "text/turtle"})
    assert r.status_code == 406  # a graph format for SELECT
    r = client.get("/sparql", params={"query": CONSTRUCT}, headers={"Accept": "text/csv"})
    assert r.status_code == 406  # a results format for CONSTRUCT
    r = client.get("/sparql", params={"query": LABELS, "format": "yaml"})
    assert r.status_code == 406


def test_service_refused(client):
    q = "SELECT * { SERVICE <http://127.0.0.1:9/sparql> { ?s ?p ?o } }"
    r = client.get("/sparql", params={"query": q})
    assert r.status_code == 403
    assert "SERVICE" in r.text


def test_body_too_large(store_path):
    with TestClient(create_app(store_path, max_body=200)) as c:
        big = LABELS + " #" + "x" * 300
        assert c.post("/sparql", data={"query": big}).status_code == 413
        r = c.post("/sparql", content=big.encode(),
                   headers={"Content-Type": "application/sparql-query"})
        assert r.status_code == 413
        assert c.get("/sparql", params={"query": big}).status_code == 413
        assert c.get("/sparql", params={"query": LABELS}).status_code == 200


def test_row_cap(store_path):
    with TestClient(create_app(store_path, max_rows=3)) as c:
        r = c.get("/sparql", params={"query": LABELS})  # 4 rows
        assert r.status_code == 413
        assert "result exceeds 3 rows; add LIMIT" in r.text
        r = c.get("/sparql", params={"query": LABELS + " LIMIT 3"})
        assert len(_bindings(r)) == 3  # exactly the cap is fine
        r = c.get("/sparql", params={"query": CONSTRUCT})
        assert r.status_code == 413 and "triples" in r.text
        # every format counts the same rows (JSON and CSV are counted in pyoxigraph's output)
        for fmt in ("json", "csv", "xml", "tsv"):
            r = c.get("/sparql", params={"query": LABELS, "format": fmt})
            assert r.status_code == 413, fmt
            r = c.get("/sparql", params={"query": LABELS + " LIMIT 3", "format": fmt})
            assert r.status_code == 200, fmt
        # rows with no bound variable are rows too
        r = c.get("/sparql", params={"query": "SELECT * { VALUES ?x { 1 2 3 4 } } "})
        assert r.status_code == 413
        r = c.get("/sparql", params={"query": "SELECT ?y { VALUES ?x { 1 2 3 4 } } "})
        assert r.status_code == 413


def test_result_byte_cap(store_path):
    with TestClient(create_app(store_path, max_result_bytes=300)) as c:
        r = c.get("/sparql", params={"query": LABELS})
        assert r.status_code == 413 and "larger than 300 bytes" in r.text
        r = c.get("/sparql", params={"query": LABELS + " LIMIT 1"})
        assert r.status_code == 200
        r = c.get("/sparql", params={"query": CONSTRUCT, "format": "turtle"})
        assert r.status_code == 413


# 25**4 = 390,625 solutions, whatever the store
HEAVY = "SELECT * { %s }" % " ".join(
    f"VALUES ?{v} {{ {' '.join(map(str, range(25)))} }}" for v in "abcd")


def test_time_limit_while_reading_rows(store_path):
    with TestClient(create_app(store_path, query_timeout=0.05, max_rows=10**7)) as c:
        t0 = time.monotonic()
        r = c.get("/sparql", params={"query": HEAVY})
        assert r.status_code == 503
        assert "time limit of 0.05 s" in r.text
        assert time.monotonic() - t0 < 5


def test_time_limit_during_one_long_step(store_path):
    # ORDER BY evaluates everything before the first row: only the request side can give up.
    # ~390k rows to sort take a couple of seconds; the answer comes back at ~0.55 s.
    with TestClient(create_app(store_path, query_timeout=0.05)) as c:
        t0 = time.monotonic()
        r = c.get("/sparql", params={"query": HEAVY + " ORDER BY DESC(?a * ?b + ?c - ?d) LIMIT 1"})
        assert r.status_code == 503
        assert time.monotonic() - t0 < 1.5


# --------------------------------------------------------------------------------------------
# Service description, CORS, store handle


def test_service_description(client):
    r = client.get("/sparql")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/turtle")
    g = rdflib.Graph().parse(data=r.text, format="turtle")
    sd = rdflib.Namespace(SD)
    service = g.value(predicate=rdflib.RDF.type, object=sd.Service)
    assert service is not None
    assert g.value(service, sd.endpoint) == rdflib.URIRef("http://testserver/sparql")
    assert (service, sd.supportedLanguage, sd.SPARQL11Query) in g
    assert (service, sd.resultFormat,
            rdflib.URIRef("http://www.w3.org/ns/formats/SPARQL_Results_JSON")) in g
    assert (service, sd.resultFormat, rdflib.URIRef("http://www.w3.org/ns/formats/Turtle")) in g
    dataset = g.value(service, sd.defaultDataset)
    assert g.value(dataset, sd.defaultGraph) is not None
    names = {g.value(n, sd.name) for n in g.objects(dataset, sd.namedGraph)}
    assert names == {rdflib.URIRef(G1), rdflib.URIRef(G2)}


def test_service_description_negotiated(client):
    r = client.get("/sparql", headers={"Accept": "application/n-triples"})
    assert r.headers["content-type"].startswith("application/n-triples")
    rdflib.Graph().parse(data=r.text, format="nt")
    r = client.get("/sparql", headers={"Accept": "application/ld+json"})
    assert r.headers["content-type"].startswith("application/ld+json")
    json.loads(r.text)
    assert client.get("/sparql", headers={"Accept": "image/png"}).status_code == 406


def test_cors(client):
    r = client.get("/sparql", params={"query": LABELS}, headers={"Origin": "https://example.org"})
    assert r.headers["access-control-allow-origin"] == "*"
    r = client.get("/sparql", params={"query": "SELECT"})  # errors carry it too
    assert r.status_code == 400 and r.headers["access-control-allow-origin"] == "*"
    r = client.options("/sparql", headers={
        "Origin": "https://example.org",
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type",
    })
    assert r.status_code == 204
    assert r.headers["access-control-allow-origin"] == "*"
    assert "POST" in r.headers["access-control-allow-methods"]
    assert "content-type" in r.headers["access-control-allow-headers"].lower()


def test_store_handle_reopen(store_path, tmp_path):
    app = create_app(store_path)
    with TestClient(app) as c:
        assert c.get("/health").json()["graphs"] == 2
        other = _build_store(tmp_path / "other", [
            ox.Quad(ox.NamedNode("urn:x:s"), RDFS_LABEL, ox.Literal("宋朝", language="zh-hant"),
                    ox.NamedNode(f"urn:x:g{i}")) for i in range(3)])
        app.state.store.reopen(other)
        assert c.get("/health").json()["graphs"] == 3
        assert _labels(c.get("/sparql", params={"query": LABELS})) == {"宋朝"}


def test_missing_store_directory(tmp_path):
    with pytest.raises(FileNotFoundError):
        create_app(tmp_path / "nope")


# --------------------------------------------------------------------------------------------
# A real server


def test_real_uvicorn_with_sparqlwrapper(store_path):
    from SPARQLWrapper import JSON, SPARQLWrapper

    with serving(create_app(store_path), check_shutdown=True) as port:
        endpoint = SPARQLWrapper(f"http://127.0.0.1:{port}/sparql")
        endpoint.setQuery(LABELS)
        endpoint.setReturnFormat(JSON)
        result = endpoint.query().convert()
        assert {b["label"]["value"] for b in result["results"]["bindings"]} == ALL_LABELS
        endpoint.setMethod("POST")
        result = endpoint.query().convert()
        assert {b["label"]["value"] for b in result["results"]["bindings"]} == ALL_LABELS


# A GET /sparql the endpoint can answer at once (a 304, a cached response, a query known to be
# quick) is written by the HTTP protocol without an ASGI request (server._http_protocol).  It
# must be the same response the ASGI path gives, byte for byte but for the Date header.


def _http_exchange(port: int, *requests: bytes, pipelined: bool = False,
                   ) -> tuple[list[tuple[str, dict[str, str], bytes]], bool]:
    """Send ``requests`` on one connection, each after the previous answer (``pipelined``: all
    in one write); the responses, and whether the server closed the connection afterwards."""
    import socket

    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        stream = sock.makefile("rb")

        def response() -> tuple[str, dict[str, str], bytes]:
            status = stream.readline().decode("latin-1").rstrip("\r\n")
            headers: dict[str, str] = {}
            while (line := stream.readline()) not in (b"\r\n", b""):
                name, _, value = line.decode("latin-1").partition(":")
                assert name.lower() not in headers, f"header {name} sent twice"
                headers[name.lower()] = value.strip()
            return status, headers, stream.read(int(headers.get("content-length", "0")))

        if pipelined:
            sock.sendall(b"".join(requests))
            responses = [response() for _ in requests]
        else:
            responses = []
            for request in requests:
                sock.sendall(request)
                responses.append(response())
        sock.settimeout(0.5)
        try:
            closed = stream.read(1) == b""
        except TimeoutError:
            closed = False
    return responses, closed


def _get(query: str, *headers: str, version: str = "1.1") -> bytes:
    from urllib.parse import urlencode

    lines = [f"GET /sparql?{urlencode({'query': query})} HTTP/{version}", "Host: localhost",
             "Accept: application/sparql-results+json", *headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


@pytest.fixture()
def asgi_calls(monkeypatch):
    """How many /sparql requests reached the endpoint's ASGI handler."""
    calls: list[str] = []
    original = server.SparqlEndpoint.__call__

    async def counted(self, scope, receive, send):
        calls.append(scope["method"])
        await original(self, scope, receive, send)

    monkeypatch.setattr(server.SparqlEndpoint, "__call__", counted)
    return calls


@pytest.mark.parametrize("cache_bytes", [None, 0], ids=["cached", "uncached"])
def test_answered_at_once_same_as_asgi(store_path, asgi_calls, monkeypatch, cache_bytes):
    monkeypatch.setattr(server, "_INLINE_BELOW", 60.0)  # every query counts as quick
    options = {} if cache_bytes is None else {"cache_bytes": cache_bytes}
    with serving(create_app(store_path, **options)) as port:
        (first, second), closed = _http_exchange(port, _get(LABELS), _get(LABELS))
        # the first one is evaluated in a worker thread; the second is answered from the
        # cache (cached) or evaluated inline (uncached), without an ASGI request
        assert asgi_calls == ["GET"]
        assert not closed
        assert first[0] == second[0] == "HTTP/1.1 200 OK"
        assert first[2] == second[2]
        assert {b["label"]["value"] for b in json.loads(second[2])["results"]["bindings"]} \
            == ALL_LABELS
        first[1].pop("date"), second[1].pop("date")
        assert first[1] == second[1]
        assert second[1]["access-control-allow-origin"] == "*"
        assert second[1]["server"] == "uvicorn"

        # a conditional request with the ETag: 304, still without an ASGI request
        (revalidated,), _ = _http_exchange(port, _get(LABELS, f"If-None-Match: {first[1]['etag']}"))
        assert revalidated[0] == "HTTP/1.1 304 Not Modified" and revalidated[2] == b""
        assert revalidated[1]["etag"] == first[1]["etag"]
        assert asgi_calls == ["GET"]


def test_answered_at_once_keeps_connection_semantics(store_path, asgi_calls):
    with serving(create_app(store_path)) as port:
        _http_exchange(port, _get(LABELS))  # now in the response cache
        assert asgi_calls == ["GET"]
        # several requests in one write (pipelined): each answered, in order
        other = "SELECT ?s WHERE { ?s a <https://w3id.org/shilu/ontology#Dynasty> }"
        responses, closed = _http_exchange(port, _get(LABELS), _get(other), _get(LABELS),
                                           pipelined=True)
        assert [r[0] for r in responses] == ["HTTP/1.1 200 OK"] * 3
        assert responses[0][2] == responses[2][2] != responses[1][2]
        assert len(json.loads(responses[1][2])["results"]["bindings"]) == 2
        assert not closed
        # Connection: close and HTTP/1.0 end the connection after the answer
        (answer,), closed = _http_exchange(port, _get(LABELS, "Connection: close"))
        assert answer[0] == "HTTP/1.1 200 OK" and answer[1]["connection"] == "close" and closed
        (answer,), closed = _http_exchange(port, _get(LABELS, version="1.0"))
        assert answer[0] == "HTTP/1.1 200 OK" and closed
        answered_at_once = len(asgi_calls)
        # a request through a proxy takes the ASGI path (its access log names the real client)
        (answer,), _ = _http_exchange(port, _get(LABELS, "X-Forwarded-For: 10.1.2.3"))
        assert answer[0] == "HTTP/1.1 200 OK"
        assert len(asgi_calls) == answered_at_once + 1
        # errors are the ASGI path's too
        (answer,), _ = _http_exchange(port, _get("SELECT ?s WHERE {"))
        assert answer[0] == "HTTP/1.1 400 Bad Request"
        assert b"malformed query" in answer[2]


@pytest.mark.parametrize("cache_bytes", [None, 0], ids=["cached", "uncached"])
def test_known_request_follows_the_store(tmp_path, monkeypatch, cache_bytes):
    """A request answered at once is kept with its parameters and ETag worked out (server._Known,
    per store snapshot) and answered from that the next times; a write to the store or a new
    generation must not leave its old answer or ETag in use, and another Accept header is
    another request."""
    from urllib.parse import urlencode

    monkeypatch.setattr(server, "_INLINE_BELOW", 60.0)  # every query counts as quick
    path = _build_store(tmp_path / "oxigraph", _quads())
    options = {} if cache_bytes is None else {"cache_bytes": cache_bytes}
    app = create_app(path, allow_update=True, update_token=TOKEN, **options)
    planned: list[str] = []
    plan = server.SparqlEndpoint._plan

    def counted(self, request, params, query, deadline):
        planned.append(query)
        return plan(self, request, params, query, deadline)

    monkeypatch.setattr(server.SparqlEndpoint, "_plan", counted)
    with serving(app) as port:
        before, _ = _http_exchange(port, _get(LABELS), _get(LABELS), _get(LABELS))
        assert [r[0] for r in before] == ["HTTP/1.1 200 OK"] * 3
        assert before[0][2] == before[1][2] == before[2][2]
        assert before[0][1]["etag"] == before[2][1]["etag"]
        if cache_bytes == 0:  # (cached, the second and third come from the response cache)
            # the first one twice (looked at by the protocol, then by the ASGI path), the
            # second once; the third was answered from what the second kept
            assert len(planned) == 3
        assert {b["label"]["value"] for b in json.loads(before[2][2])["results"]["bindings"]} \
            == ALL_LABELS

        # the same URL asking for CSV gets CSV
        csv_get = _get(LABELS).replace(b"application/sparql-results+json", b"text/csv")
        answers, _ = _http_exchange(port, csv_get, csv_get)
        assert [a[1]["content-type"] for a in answers] == ["text/csv; charset=utf-8"] * 2
        assert answers[1][2].startswith(b"s,label\r\n")

        body = urlencode({"update": INSERT}).encode()
        post = (f"POST /sparql HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {TOKEN}\r\n"
                "Content-Type: application/x-www-form-urlencoded\r\n"
                f"Content-Length: {len(body)}\r\n\r\n").encode() + body
        (written,), _ = _http_exchange(port, post)
        assert written[0] == "HTTP/1.1 204 No Content", written
        after, _ = _http_exchange(port, _get(LABELS), _get(LABELS))
        for status, headers, content in after:
            assert status == "HTTP/1.1 200 OK"
            assert headers["etag"] != before[0][1]["etag"]
            labels = {b["label"]["value"] for b in json.loads(content)["results"]["bindings"]}
            assert labels == ALL_LABELS | {"新"}

        # another store: its answer, not the one kept for the last
        other = _build_store(tmp_path / "other", [ox.Quad(
            ox.NamedNode(RES + "宋朝"), RDFS_LABEL, ox.Literal("宋朝"), ox.NamedNode(G1))])
        app.state.store.reopen(other)
        swapped, _ = _http_exchange(port, _get(LABELS), _get(LABELS))
        for status, headers, content in swapped:
            assert status == "HTTP/1.1 200 OK"
            assert headers["etag"] not in (before[0][1]["etag"], after[0][1]["etag"])
            assert {b["label"]["value"] for b in json.loads(content)["results"]["bindings"]} \
                == {"宋朝"}


def test_answered_at_once_date_is_current(store_path, monkeypatch):
    """The protocol encodes uvicorn's default headers once per list uvicorn makes of them (a
    new one each second, for the Date): a later answer must not carry an old Date."""
    import email.utils

    monkeypatch.setattr(server, "_INLINE_BELOW", 60.0)
    with serving(create_app(store_path, cache_bytes=0)) as port:
        _http_exchange(port, _get(LABELS), _get(LABELS))  # known, then answered at once
        (early,), _ = _http_exchange(port, _get(LABELS))
        time.sleep(2.2)  # uvicorn renews its Date header about once a second
        (late,), _ = _http_exchange(port, _get(LABELS))
    early_date = email.utils.parsedate_to_datetime(early[1]["date"])
    late_date = email.utils.parsedate_to_datetime(late[1]["date"])
    assert (late_date - early_date).total_seconds() >= 1, (early[1]["date"], late[1]["date"])


def test_answered_at_once_is_logged(store_path):
    import logging

    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    with serving(create_app(store_path)) as port:
        access = logging.getLogger("uvicorn.access")
        handler, level = Keep(), access.level
        access.addHandler(handler)
        access.setLevel(logging.INFO)
        try:
            _http_exchange(port, _get(LABELS), _get(LABELS))
        finally:
            access.removeHandler(handler)
            access.setLevel(level)
    lines = [r.getMessage() for r in records]
    assert len(lines) == 2 and lines[0] == lines[1], lines
    assert lines[1].startswith("127.0.0.1:") and lines[1].endswith('"GET /sparql?query=SELECT+%3Fs'
                                                                     '+%3Flabel+WHERE+%7B+%3Fs+%3C'
                                                                     'http%3A%2F%2Fwww.w3.org%2F2000'
                                                                     '%2F01%2Frdf-schema%23label%3E'
                                                                     '+%3Flabel+%7D HTTP/1.1" 200')


# --------------------------------------------------------------------------------------------
# SPARQL Update and the Graph Store Protocol (off by default; bearer token when on)

TOKEN = "s3cret-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
INSERT = f"INSERT DATA {{ GRAPH <{G1}> {{ <{RES}新> <http://www.w3.org/2000/01/rdf-schema#label> '新'@zh-hans }} }}"


@pytest.fixture()
def writable(tmp_path: Path):
    path = _build_store(tmp_path / "oxigraph", _quads())
    with TestClient(create_app(path, allow_update=True, update_token=TOKEN)) as c:
        yield c


def test_allow_update_needs_a_token(store_path):
    with pytest.raises(ValueError, match="token"):
        create_app(store_path, allow_update=True)


def test_writes_refused_without_allow_update(client):
    r = client.post("/sparql", data={"update": INSERT}, headers=AUTH)
    assert r.status_code == 403, r.text
    r = client.post("/sparql", content=INSERT.encode(), headers={
        "Content-Type": "application/sparql-update", **AUTH})
    assert r.status_code == 403
    r = client.put("/rdf-graphs/service", params={"graph": "urn:x:g"}, content=b"<urn:x:a> <urn:x:b> <urn:x:c> .",
                   headers={"Content-Type": "text/turtle", **AUTH})
    assert r.status_code == 403
    assert client.delete("/rdf-graphs/service", params={"graph": G1}, headers=AUTH).status_code == 403
    # reading through the Graph Store Protocol is always allowed
    r = client.get("/rdf-graphs/service", params={"graph": G2})
    assert r.status_code == 200 and "遼朝" in r.text


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong"},
                                     {"Authorization": f"Basic {TOKEN}"}])
def test_update_needs_the_token(writable, headers):
    r = writable.post("/sparql", data={"update": INSERT}, headers=headers)
    assert r.status_code == 401, r.text
    assert r.headers["www-authenticate"].startswith("Bearer")
    r = writable.post("/sparql", content=INSERT.encode(),
                      headers={"Content-Type": "application/sparql-update", **headers})
    assert r.status_code == 401
    r = writable.put("/rdf-graphs/service", params={"graph": "urn:x:g"},
                     content=b"<urn:x:a> <urn:x:b> <urn:x:c> .",
                     headers={"Content-Type": "text/turtle", **headers})
    assert r.status_code == 401
    assert writable.get("/sparql", params={"query": LABELS}).json()["results"]["bindings"]
    assert "新" not in _labels(writable.get("/sparql", params={"query": LABELS}))


def test_update_with_token_changes_the_data(writable):
    before = writable.get("/sparql", params={"query": LABELS})
    assert "新" not in _labels(before)
    etag = before.headers["etag"]
    r = writable.post("/sparql", data={"update": INSERT}, headers=AUTH)
    assert r.status_code == 204, r.text
    after = writable.get("/sparql", params={"query": LABELS}, headers={"If-None-Match": etag})
    assert after.status_code == 200  # the cached answer of before the write is gone
    assert _labels(after) == ALL_LABELS | {"新"}
    delete = f"DELETE WHERE {{ GRAPH ?g {{ <{RES}新> ?p ?o }} }}"
    r = writable.post("/sparql", content=delete.encode(),
                      headers={"Content-Type": "application/sparql-update", **AUTH})
    assert r.status_code == 204, r.text
    assert _labels(writable.get("/sparql", params={"query": LABELS})) == ALL_LABELS
    # malformed updates are 400, updates by GET 405; the service description says Update
    assert writable.post("/sparql", data={"update": "INSERT nonsense"},
                         headers=AUTH).status_code == 400
    assert writable.get("/sparql", params={"update": INSERT}, headers=AUTH).status_code == 405
    sd = writable.get("/sparql", headers={"Accept": "application/n-triples"}).text
    assert SD + "SPARQL11Update" in sd


def test_graph_store_round_trip(writable):
    graph = "https://example.org/graph/新"
    turtle = f"<{RES}丙> <http://www.w3.org/2000/01/rdf-schema#label> \"丙\"@zh-hans .\n"
    url = "/rdf-graphs/service"
    assert writable.get(url, params={"graph": graph}).status_code == 404
    r = writable.put(url, params={"graph": graph}, content=turtle.encode(),
                     headers={"Content-Type": "text/turtle", **AUTH})
    assert r.status_code == 201, r.text
    r = writable.get(url, params={"graph": graph}, headers={"Accept": "application/n-triples"})
    assert r.status_code == 200
    got = set(ox.parse(r.content, format=ox.RdfFormat.N_TRIPLES))
    assert got == set(ox.parse(turtle.encode(), format=ox.RdfFormat.TURTLE))
    # the endpoint sees it too
    assert "丙" in _labels(writable.get("/sparql", params={"query": LABELS}))
    # PUT replaces, POST merges
    other = f"<{RES}丁> <http://www.w3.org/2000/01/rdf-schema#label> \"丁\"@zh-hans .\n"
    r = writable.put(url, params={"graph": graph}, content=other.encode(),
                     headers={"Content-Type": "text/turtle", **AUTH})
    assert r.status_code == 204
    r = writable.post(url, params={"graph": graph}, content=turtle.encode(),
                      headers={"Content-Type": "text/turtle", **AUTH})
    assert r.status_code == 204
    labels = _labels(writable.get("/sparql", params={"query": LABELS}))
    assert {"丙", "丁"} <= labels
    # errors: no graph named, bad body, unsupported media type
    assert writable.get(url).status_code == 400
    assert writable.put(url, params={"graph": graph}, content=b"not turtle <",
                        headers={"Content-Type": "text/turtle", **AUTH}).status_code == 400
    assert writable.put(url, params={"graph": graph}, content=b"x",
                        headers={"Content-Type": "text/plain-ish", **AUTH}).status_code == 415
    # DELETE drops it
    assert writable.delete(url, params={"graph": graph}, headers=AUTH).status_code == 204
    assert writable.get(url, params={"graph": graph}).status_code == 404
    assert writable.delete(url, params={"graph": graph}, headers=AUTH).status_code == 404
    # the default graph
    r = writable.put(url, params={"default": ""}, content=turtle.encode(),
                     headers={"Content-Type": "text/turtle", **AUTH})
    assert r.status_code == 204
    assert "丙" in writable.get(url, params={"default": ""}).text


def test_cli_allow_update_needs_a_token(store_path, monkeypatch, capsys):
    from shilu.graph import cli

    monkeypatch.delenv("SHILU_UPDATE_TOKEN", raising=False)
    code = cli.main(["serve", "--store", str(store_path), "--allow-update"])
    assert code == 2
    assert "token" in capsys.readouterr().err


def test_a_repeated_quick_query_skips_the_thread_hand_off(store_path, monkeypatch):
    """What the uncached throughput rests on (bench/README, "Endpoint"): a query that ran quickly
    in a worker thread is evaluated on the event loop the next times it comes, within one store
    generation; a volatile query (NOW()) always goes to a thread, as a new one does, so the time
    limit can always stop a query that runs long."""
    submitted: list[object] = []
    submit = server._QueryThreads.submit

    def counting(self, loop, fn):
        submitted.append(fn)
        return submit(self, loop, fn)

    monkeypatch.setattr(server._QueryThreads, "submit", counting)
    monkeypatch.setattr(server, "_INLINE_BELOW", 10.0)  # on a loaded machine every query counts as quick
    with TestClient(create_app(store_path, cache_bytes=0)) as c:
        query = "SELECT ?s WHERE { ?s ?p ?o } ORDER BY ?s LIMIT 1"
        answers = [c.get("/sparql", params={"query": query}) for _ in range(3)]
        assert [r.status_code for r in answers] == [200, 200, 200]
        assert answers[0].content == answers[1].content == answers[2].content
        assert len(submitted) == 1  # the first time only
        volatile = "SELECT (NOW() AS ?t) WHERE {}"
        assert all(c.get("/sparql", params={"query": volatile}).status_code == 200 for _ in range(2))
        assert len(submitted) == 3  # both times


def test_answered_at_once_failure_is_an_http_error(store_path, monkeypatch):
    """A known-quick query that fails when evaluated in the protocol gets the endpoint's error
    answer (not httptools' 400 for a callback that raised)."""
    monkeypatch.setattr(server, "_INLINE_BELOW", 60.0)
    with serving(create_app(store_path, cache_bytes=0)) as port:
        (first,), _ = _http_exchange(port, _get(LABELS))
        assert first[0] == "HTTP/1.1 200 OK"

        def fail(*args, **kwargs):
            raise server.HTTPError(503, "query time limit of 30 s exceeded")

        monkeypatch.setattr(server, "_execute", fail)
        (second,), closed = _http_exchange(port, _get(LABELS))
        assert second[0] == "HTTP/1.1 503 Service Unavailable", second
        assert b"time limit" in second[2] and not closed
