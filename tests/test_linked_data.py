"""Linked data, pages and store switching of the shilu server (shilu.graph.server, pages).

Stores: one built by ``shilu.graph.build.build`` from tests/fixtures/mini; one written by hand
(``EVENT_QUADS``, shaped as docs/model.md describes) with events, evidence and hostile literals;
and, where ../shared is present, one built from the seed articles.
"""

from __future__ import annotations

import http.client
import json
import shutil
import subprocess
import threading
import time
from pathlib import Path
from urllib.parse import quote, unquote

import anyio
import pyoxigraph as ox
import pytest
import rdflib
import rdflib.compare
from starlette.testclient import TestClient

from shilu.graph import pages
from shilu.graph.build import build
from shilu.graph.queries import list_queries
from shilu.graph.server import create_app, path_segments
from shilu.graph.store import current_path, new_generation, publish
from shilu.graph.store_handle import StoreHandle

from conftest import SEEDS, need_shared, serving

RES = "https://w3id.org/shilu/resource/"
SRC = "https://w3id.org/shilu/source/"
SHILU = "https://w3id.org/shilu/ontology#"
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
SKOS = "http://www.w3.org/2004/02/skos/core#"
OA = "http://www.w3.org/ns/oa#"
DCT = "http://purl.org/dc/terms/"
FOAF = "http://xmlns.com/foaf/0.1/"
XSD = "http://www.w3.org/2001/XMLSchema#"
VOID = rdflib.Namespace("http://rdfs.org/ns/void#")

BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,*/*;q=0.8"
XSS = "<script>alert('x')</script>"


# --------------------------------------------------------------------------------------------
# Fixtures


def N(iri: str) -> ox.NamedNode:
    return ox.NamedNode(iri)


def hant(text: str) -> ox.Literal:
    return ox.Literal(text, language="zh-hant")


def hans(text: str) -> ox.Literal:
    return ox.Literal(text, language="zh-hans")


def year(y: str) -> ox.Literal:
    return ox.Literal(y, datatype=N(XSD + "gYear"))


def event_quads() -> list[ox.Quad]:
    """Two articles telling the same capture (one event IRI, two evidence sentences), a
    conquest, a BCE event, and literals that must be escaped."""
    jin, liao, dading = N(RES + "金朝"), N(RES + "辽朝"), N(RES + "大定府")
    capture = N(RES + "event/Capture/金朝/大定府/1122")
    conquest = N(RES + "event/Conquest/金朝/辽朝/1125")
    attack = N(RES + "event/Attack/辽朝/金朝/-0221")
    a1, a2 = N(SRC + "000_a"), N(SRC + "001_b")
    ev1, ev2, ev3 = N(SRC + "000_a#char=10,20"), N(SRC + "001_b#char=5,9"), N(SRC + "001_b#char=30,40")
    typ, label, alt = N(RDF + "type"), N(RDFS + "label"), N(SKOS + "altLabel")
    agent, target, when, evidence = (N(SHILU + "agent"), N(SHILU + "target"), N(SHILU + "year"),
                                      N(SHILU + "evidence"))
    value, source, selector = N(RDF + "value"), N(OA + "hasSource"), N(OA + "hasSelector")
    out = []
    for g in (a1, a2):  # stated by both articles: served once
        out += [ox.Quad(jin, typ, N(SHILU + "Dynasty"), g),
                ox.Quad(jin, label, hant("金朝"), g), ox.Quad(jin, label, hans("金朝"), g),
                ox.Quad(capture, typ, N(SHILU + "Capture"), g),
                ox.Quad(capture, agent, jin, g), ox.Quad(capture, target, dading, g),
                ox.Quad(capture, when, year("1122"), g),
                ox.Quad(jin, N(SHILU + "captured"), dading, g),
                ox.Quad(g, N(SHILU + "mentions"), jin, g)]
    out += [
        ox.Quad(jin, alt, hant("金國"), a1), ox.Quad(jin, alt, hans("金国"), a1),
        ox.Quad(liao, typ, N(SHILU + "Dynasty"), a2),
        ox.Quad(liao, label, hant("遼朝"), a2), ox.Quad(liao, label, hans("辽朝"), a2),
        ox.Quad(liao, N(SHILU + "note"), ox.Literal('<img src=x onerror="alert(1)"> & co'), a2),
        ox.Quad(dading, typ, N(SHILU + "City"), a1),
        ox.Quad(dading, label, hant("大定府"), a1), ox.Quad(dading, label, hans("大定府"), a1),
        ox.Quad(capture, evidence, ev1, a1),
        ox.Quad(ev1, typ, N(OA + "SpecificResource"), a1),
        ox.Quad(ev1, source, a1, a1),
        ox.Quad(ev1, value, ox.Literal("於1122年再攻下大定府" + XSS), a1),
        ox.Quad(ev1, selector, N(SRC + "000_a#char=10,20;selector"), a1),
        ox.Quad(N(SRC + "000_a#char=10,20;selector"), N(OA + "start"),
                ox.Literal("10", datatype=N(XSD + "integer")), a1),
        ox.Quad(capture, evidence, ev2, a2),
        ox.Quad(ev2, source, a2, a2), ox.Quad(ev2, value, ox.Literal("金取大定府"), a2),
        ox.Quad(conquest, typ, N(SHILU + "Conquest"), a2),
        ox.Quad(conquest, agent, jin, a2), ox.Quad(conquest, target, liao, a2),
        ox.Quad(conquest, when, year("1125"), a2),
        ox.Quad(conquest, evidence, ev3, a2),
        ox.Quad(ev3, source, a2, a2), ox.Quad(ev3, value, ox.Literal("金滅遼"), a2),
        ox.Quad(attack, typ, N(SHILU + "Attack"), a2),
        ox.Quad(attack, agent, liao, a2), ox.Quad(attack, target, jin, a2),
        ox.Quad(attack, when, year("-0221"), a2),
        ox.Quad(a1, typ, N(SHILU + "Article"), a1),
        ox.Quad(a1, N(DCT + "title"), ox.Literal("金朝 <b>本紀</b>", language="zh"), a1),
        ox.Quad(a1, N(FOAF + "primaryTopic"), jin, a1),
        ox.Quad(a2, typ, N(SHILU + "Article"), a2),
        ox.Quad(a2, N(DCT + "title"), ox.Literal("遼朝", language="zh"), a2),
        ox.Quad(a2, N(FOAF + "primaryTopic"), liao, a2),
    ]
    return out


def publish_quads(store_dir: Path, quads: list[ox.Quad]) -> Path:
    """Write ``quads`` as the next generation of ``store_dir`` and publish it."""
    gen = new_generation(store_dir)
    store = ox.Store(str(gen))
    store.extend(quads)
    store.flush()
    del store
    publish(store_dir, gen)
    return gen


@pytest.fixture(scope="module")
def mini_store(tmp_path_factory, mini_dir) -> Path:
    path = tmp_path_factory.mktemp("mini") / "store"
    report = build([mini_dir], path)
    assert report.articles == 2
    return path


@pytest.fixture(scope="module")
def event_store(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("events") / "store"
    publish_quads(path, event_quads())
    return path


@pytest.fixture(scope="module")
def mini(mini_store):
    with TestClient(create_app(mini_store)) as c:
        yield c


@pytest.fixture(scope="module")
def events(event_store):
    with TestClient(create_app(event_store)) as c:
        yield c


def turtle(r) -> rdflib.Graph:
    return rdflib.Graph().parse(data=r.text, format="turtle")


# --------------------------------------------------------------------------------------------
# Content negotiation


@pytest.mark.parametrize("accept,content_type,rdflib_format", [
    ("text/turtle", "text/turtle", "turtle"),
    ("application/ld+json", "application/ld+json", "json-ld"),
    ("application/n-triples", "application/n-triples", "nt"),
    ("application/rdf+xml", "application/rdf+xml", "xml"),
    ("", "text/turtle", "turtle"),  # no preference: Turtle
    ("*/*", "text/turtle", "turtle"),
    ("text/turtle;q=0.5, application/ld+json", "application/ld+json", "json-ld"),
])
def test_rdf_formats(mini, accept, content_type, rdflib_format):
    r = mini.get("/resource/甲朝", headers={"Accept": accept})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].split(";")[0] == content_type
    assert r.headers["vary"] == "Accept"
    g = rdflib.Graph().parse(data=r.text, format=rdflib_format)
    jia = rdflib.URIRef(RES + "甲朝")
    assert (jia, rdflib.RDF.type, rdflib.URIRef(SHILU + "Dynasty")) in g
    assert (jia, rdflib.RDFS.label, rdflib.Literal("甲朝", lang="zh-hant")) in g
    assert (jia, rdflib.URIRef(SKOS + "altLabel"), rdflib.Literal("甲國", lang="zh-hant")) in g
    # the description: the resource, its events and their evidence, not the articles
    # (an event is minted under res:event/ or is a named thing such as a war that links to it)
    subjects = {str(s) for s in g.subjects()}
    linking = {str(s) for s in g.subjects(None, jia)}
    assert subjects - {RES + "甲朝"} <= {s for s in subjects
                                         if s.startswith((RES + "event/", SRC + "甲乙之戰#"))
                                         or s in linking}
    assert not {s for s in subjects if s.startswith(SRC) and "#" not in s}


def test_html_for_browsers(mini):
    r = mini.get("/resource/甲朝", headers={"Accept": BROWSER})
    assert r.status_code == 200
    assert r.headers["content-type"] == "text/html; charset=utf-8"
    assert "script-src 'self'" in r.headers["content-security-policy"]
    assert r.headers["content-location"] == "/page/" + quote("甲朝")
    html = r.text
    assert "<h1>" in html and "甲朝" in html
    assert 'lang="zh-hant">甲國' in html and 'lang="zh-hans">甲国' in html  # aliases, both
    assert 'href="/ontology#Dynasty"' in html
    # links to the articles that mention it, as local pages
    assert 'href="/source/甲乙之戰"' in html
    assert 'href="/data/甲朝.ttl"' in html


def test_format_parameter_and_fixed_routes(mini):
    r = mini.get("/resource/甲朝", params={"format": "nt"}, headers={"Accept": BROWSER})
    assert r.headers["content-type"].startswith("application/n-triples")
    r = mini.get("/page/甲朝", headers={"Accept": "text/turtle"})
    assert r.headers["content-type"].startswith("text/html")
    for ext, fmt in (("ttl", "turtle"), ("nt", "nt"), ("jsonld", "json-ld"), ("rdf", "xml")):
        r = mini.get(f"/data/甲朝.{ext}", headers={"Accept": "text/html"})
        assert r.status_code == 200, (ext, r.text)
        g = rdflib.Graph().parse(data=r.text, format=fmt)
        assert (rdflib.URIRef(RES + "甲朝"), None, None) in g
    assert mini.get("/data/甲朝.png").status_code == 404
    assert mini.get("/data/甲朝").status_code == 404


def test_not_acceptable(mini):
    r = mini.get("/resource/甲朝", headers={"Accept": "image/png"})
    assert r.status_code == 406


# --------------------------------------------------------------------------------------------
# Names: scripts, encodings, 404


def test_both_scripts_reach_one_resource(mini):
    bodies = set()
    for name in ("甲乙之戰", "甲乙之战"):
        r = mini.get(f"/resource/{name}", headers={"Accept": "application/n-triples"})
        assert r.status_code == 200
        bodies.add(r.text)
    assert len(bodies) == 1
    assert f"<{RES}甲乙之战>" in bodies.pop()


def test_percent_encoding(mini):
    expected = mini.get("/resource/丙州_(甲朝)", headers={"Accept": "text/turtle"})
    assert expected.status_code == 200
    for path in ("/resource/" + quote("丙州_(甲朝)"),          # fully encoded
                 "/resource/" + quote("丙州 (甲朝)"),          # a space for the underscore
                 "/resource/丙州_%28甲朝%29",                   # encoded parentheses only
                 "/resource/" + quote("丙州_(甲朝)", safe="")):
        r = mini.get(path, headers={"Accept": "text/turtle"})
        assert r.status_code == 200, path
        assert r.text == expected.text


def test_categories_keep_their_script(mini):
    r = mini.get("/resource/Category:虛構朝代", headers={"Accept": "text/turtle"})
    assert r.status_code == 200
    assert (rdflib.URIRef(RES + "Category:虛構朝代"), None, None) in turtle(r)


def test_unknown_resource(mini):
    r = mini.get("/resource/無此物", headers={"Accept": BROWSER})
    assert r.status_code == 404
    assert r.headers["content-type"].startswith("text/html")
    assert "無此物" in unquote(r.text) or "无此物" in r.text
    r = mini.get("/resource/無此物", headers={"Accept": "text/turtle"})
    assert r.status_code == 404
    assert r.headers["content-type"].startswith("text/plain")
    assert mini.get("/resource/").status_code == 404
    assert mini.get("/source/無此文").status_code == 404


def test_unknown_name_suggests_things_called_so(mini):
    # 甲國 is an alias of 甲朝, not a resource of its own
    r = mini.get("/resource/甲國", headers={"Accept": "text/html"})
    assert r.status_code == 404
    assert 'href="/resource/甲朝"' in r.text


def test_article_pages(mini):
    r = mini.get("/source/" + quote("甲乙之戰"), headers={"Accept": "text/html"})
    assert r.status_code == 200
    assert 'href="/resource/甲乙之战"' in r.text  # its primary topic
    r = mini.get("/source/甲乙之戰", headers={"Accept": "text/turtle"})
    g = turtle(r)
    assert (rdflib.URIRef(SRC + "甲乙之戰"), rdflib.RDF.type,
            rdflib.URIRef(SHILU + "Article")) in g


# --------------------------------------------------------------------------------------------
# Events, evidence, escaping


def test_events_on_the_page(events):
    r = events.get("/resource/金朝", headers={"Accept": "text/html"})
    assert r.status_code == 200
    html = r.text
    # the dated list, in year order (BCE first), with classes from the ontology
    assert html.index(">221 BCE<") < html.index(">1122<") < html.index(">1125<")
    assert 'href="/ontology#Capture"' in html and 'href="/ontology#Conquest"' in html
    # roles link to the other participants' pages
    assert 'href="/resource/大定府"' in html and 'href="/resource/辽朝"' in html
    # both sentences of the capture, each with its article
    assert "金取大定府" in html and "於1122年再攻下大定府" in html
    assert 'href="/source/000_a"' in html and 'href="/source/001_b"' in html
    assert "金朝 &lt;b&gt;本紀&lt;/b&gt;" in html  # the article title, escaped
    assert 'href="/resource/event/Capture/金朝/大定府/1122"' in html
    # the shortcut triple is a property
    assert 'href="/ontology#captured"' in html


def test_literals_are_escaped(events):
    for path in ("/resource/金朝", "/resource/event/Capture/金朝/大定府/1122", "/resource/辽朝"):
        html = events.get(path, headers={"Accept": "text/html"}).text
        assert "<script>alert" not in html and "<img" not in html and "<b>" not in html
    html = events.get("/resource/金朝", headers={"Accept": "text/html"}).text
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in html
    html = events.get("/resource/辽朝", headers={"Accept": "text/html"}).text
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt; &amp; co" in html
    # only our own script, never an inline one
    assert html.count("<script") == 0


def test_event_iris_with_slashes(events):
    path = "/resource/event/Capture/金朝/大定府/1122"
    r = events.get(path, headers={"Accept": "text/html"})
    assert r.status_code == 200
    assert "金取大定府" in r.text and 'href="/source/001_b"' in r.text
    # Traditional spelling of a participant, and percent-encoded segments
    for other in ("/resource/event/Conquest/金朝/遼朝/1125",
                  "/resource/" + quote("event/Conquest/金朝/辽朝/1125")):
        r = events.get(other, headers={"Accept": "text/turtle"})
        assert r.status_code == 200, other
        assert (rdflib.URIRef(RES + "event/Conquest/金朝/辽朝/1125"), None, None) in turtle(r)
    # an encoded slash stays inside its name: no such resource
    r = events.get("/resource/" + quote("event/Capture/金朝/大定府/1122", safe=""))
    assert r.status_code == 404


def test_description_has_events_once(events):
    r = events.get("/resource/金朝", headers={"Accept": "application/n-triples"})
    lines = [line for line in r.text.splitlines() if line.strip()]
    assert len(lines) == len(set(lines))  # stated by two graphs, served once
    g = rdflib.Graph().parse(data=r.text, format="nt")
    capture = rdflib.URIRef(RES + "event/Capture/金朝/大定府/1122")
    assert (capture, rdflib.RDF.type, rdflib.URIRef(SHILU + "Capture")) in g
    assert (capture, rdflib.URIRef(SHILU + "year"),
            rdflib.Literal("1122", datatype=rdflib.XSD.gYear)) in g
    sentences = {str(o) for o in g.objects(None, rdflib.RDF.value)}
    assert sentences == {"於1122年再攻下大定府" + XSS, "金取大定府", "金滅遼"}
    assert (rdflib.URIRef(SRC + "000_a#char=10,20;selector"), rdflib.URIRef(OA + "start"),
            None) in g
    # incoming links from other resources are not part of it
    assert not list(g.triples((rdflib.URIRef(SRC + "000_a"), None, None)))


# --------------------------------------------------------------------------------------------
# Traversal


def asgi_get(app, raw_path: bytes, accept: str = "text/html") -> tuple[int, bytes]:
    """GET exactly ``raw_path`` (no client-side normalisation of dot segments)."""
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET",
        "scheme": "http", "server": ("testserver", 80), "client": ("127.0.0.1", 1234),
        "root_path": "", "path": unquote(raw_path.decode("latin-1")), "raw_path": raw_path,
        "query_string": b"", "headers": [(b"host", b"testserver"), (b"accept", accept.encode())],
    }
    status, body = 0, []

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            body.append(message.get("body", b""))

    anyio.run(app, scope, receive, send)
    return status, b"".join(body)


TRAVERSALS = [
    b"/resource/../../etc/passwd",
    b"/resource/%2e%2e/%2e%2e/etc/passwd",
    b"/resource/%2E%2E%2F%2E%2E%2Fetc%2Fpasswd",
    b"/resource/..%2f..%2fetc%2fpasswd",
    b"/resource/event/../../../etc/passwd",
    b"/resource/./%E7%94%B2%E6%9C%9D",
    b"/page/../../etc/passwd",
    b"/data/..%2f..%2fetc%2fpasswd.ttl",
    b"/data/../../etc/passwd.ttl",
    b"/source/../../../../etc/passwd",
    b"/static/../server.py",
    b"/static/..%2fserver.py",
    b"/static/%2e%2e%2f%2e%2e%2fpyproject.toml",
    b"/resource/%00",
    b"/resource/%ff%fe",
]


@pytest.mark.parametrize("raw", TRAVERSALS)
def test_no_path_traversal(mini_store, raw):
    app = create_app(mini_store)
    for accept in ("text/html", "text/turtle"):
        status, body = asgi_get(app, raw, accept)
        assert status in (400, 404), (raw, status)
        assert b"root:" not in body and b"import " not in body and b"[project]" not in body


def test_path_segments_unit():
    def segs(raw: bytes, rest: str) -> list[str] | None:
        return path_segments({"raw_path": raw}, "resource", rest)

    assert segs(b"/resource/AC%2FDC", "AC/DC") == ["AC/DC"]
    assert segs(b"/resource/event/a/b", "event/a/b") == ["event", "a", "b"]
    assert segs("/resource/遼朝".encode(), "遼朝") == ["遼朝"]
    assert segs(b"/resource/%2e%2e", "..") is None
    assert segs(b"/resource/a//b", "a//b") is None
    assert segs(b"/resource/a%0ab", "a\nb") is None
    # a root path in front, or a raw path that does not line up: the decoded path is used
    assert segs(b"/shilu/resource/x", "x") == ["x"]
    assert path_segments({}, "resource", "x/y") == ["x", "y"]


# --------------------------------------------------------------------------------------------
# Ontology, VoID


def test_ontology_turtle(mini):
    r = mini.get("/ontology", headers={"Accept": "text/turtle"})
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/turtle")
    g = turtle(r)
    assert (rdflib.URIRef(SHILU + "Capture"), rdflib.RDF.type, rdflib.OWL.Class) in g
    from shilu.ontology import ONTOLOGY_PATH

    shipped = rdflib.Graph().parse(ONTOLOGY_PATH, format="turtle")
    assert rdflib.compare.isomorphic(g, shipped)
    # other formats are re-serialized (Oxigraph lower-cases language tags)
    r = mini.get("/ontology", params={"format": "nt"})
    _, only_served, only_shipped = rdflib.compare.graph_diff(
        rdflib.Graph().parse(data=r.text, format="nt"), shipped)
    assert not list(only_served) and not list(only_shipped)
    r2 = mini.get("/ontology", headers={"Accept": "text/turtle", "If-None-Match":
                                         mini.get("/ontology").headers["etag"]})
    assert r2.status_code == 304


def test_ontology_page(mini):
    r = mini.get("/ontology", headers={"Accept": BROWSER})
    assert r.headers["content-type"].startswith("text/html")
    html = r.text
    for term in ("Capture", "Dynasty", "agent", "year", "captured"):
        assert f'id="{term}"' in html
    assert "攻取" in html or "朝代" in html  # Chinese labels
    assert "Classes" in html and "Object properties" in html


@pytest.mark.parametrize("path", ["/.well-known/void", "/void"])
def test_void(mini, mini_store, path):
    r = mini.get(path)
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/turtle")
    g = turtle(r)
    dataset = g.value(predicate=rdflib.RDF.type, object=VOID.Dataset)
    assert dataset is not None
    assert g.value(dataset, VOID.sparqlEndpoint) == rdflib.URIRef("http://testserver/sparql")
    assert str(g.value(dataset, VOID.uriSpace)) == RES
    # the number of distinct triples in the union of the article graphs
    store = ox.Store.read_only(str(current_path(mini_store)))
    distinct = {(q.subject, q.predicate, q.object) for q in store}
    assert int(g.value(dataset, VOID.triples)) == len(distinct)
    partitions = {g.value(p, VOID["class"]): int(g.value(p, VOID.entities))
                  for p in g.objects(dataset, VOID.classPartition)}
    assert partitions[rdflib.URIRef(SHILU + "Dynasty")] == 1
    assert partitions[rdflib.URIRef(SHILU + "City")] == 2
    assert int(g.value(dataset, VOID.documents)) == 2
    r = mini.get(path, headers={"Accept": "application/ld+json"})
    rdflib.Graph().parse(data=r.text, format="json-ld")


# --------------------------------------------------------------------------------------------
# Query page and static files


def test_query_page(mini):
    r = mini.get("/", headers={"Accept": BROWSER})
    assert r.status_code == 200
    html = r.text
    assert '<textarea id="query" name="query"' in html
    for prefix in ("shilu", "res", "src", "rdfs", "skos", "xsd", "oa", "foaf", "dcterms"):
        assert f"PREFIX {prefix}: &lt;" in html
    named = list_queries()
    assert named
    for q in named:
        assert pages.esc(q.title) in html and f"<code>{q.name}</code>" in html
    assert '<script src="/static/query.js" defer></script>' in html
    assert "<script>" not in html
    assert 'data-autorun="0"' in html


def test_query_page_with_query_is_escaped(mini):
    hostile = "SELECT * { ?s ?p ?o } # </textarea><script>alert(1)</script>"
    r = mini.get("/", params={"query": hostile})
    assert "</textarea><script>" not in r.text
    assert "&lt;/textarea&gt;&lt;script&gt;" in r.text
    assert 'data-autorun="1"' in r.text


def test_static_files(mini):
    r = mini.get("/static/query.js")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/javascript")
    assert "fetch(" in r.text and "innerHTML" not in r.text
    assert mini.get("/static/shilu.css").headers["content-type"].startswith("text/css")
    assert mini.get("/static/nope.js").status_code == 404
    r2 = mini.get("/static/query.js", headers={"If-None-Match": r.headers["etag"]})
    assert r2.status_code == 304


def test_query_script_parses():
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    result = subprocess.run([node, "--check", "-"], input=pages.SCRIPT, text=True,
                            capture_output=True)
    assert result.returncode == 0, result.stderr


def test_sparql_download_link_for_construct(mini):
    q = f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ BIND(<{RES}甲朝> AS ?s) ?s ?p ?o }}"
    r = mini.get("/sparql", params={"query": q, "format": "turtle"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/turtle")
    assert "download" in pages.SCRIPT.lower() and "format" in pages.SCRIPT


# --------------------------------------------------------------------------------------------
# CORS and HTTP caching


@pytest.mark.parametrize("path", ["/resource/甲朝", "/page/甲朝", "/data/甲朝.ttl", "/void",
                                  "/ontology", "/sparql", "/resource/無此物"])
def test_cors_everywhere(mini, path):
    r = mini.get(path, headers={"Origin": "https://example.org"})
    assert r.headers["access-control-allow-origin"] == "*"
    assert r.headers["x-content-type-options"] == "nosniff"


def test_cors_preflight_on_linked_data(mini):
    r = mini.options("/resource/甲朝", headers={
        "Origin": "https://example.org", "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Headers": "accept"})
    assert r.status_code == 204
    assert r.headers["access-control-allow-origin"] == "*"
    assert "GET" in r.headers["access-control-allow-methods"]


def test_conditional_requests(mini):
    for path, headers in (("/resource/甲朝", {"Accept": "text/html"}),
                          ("/resource/甲朝", {"Accept": "text/turtle"}),
                          ("/void", {}),
                          ("/sparql?query=ASK%20%7B%3Fs%20%3Fp%20%3Fo%7D", {})):
        r = mini.get(path, headers=headers)
        assert r.status_code == 200
        etag, modified = r.headers["etag"], r.headers["last-modified"]
        r2 = mini.get(path, headers={**headers, "If-None-Match": etag})
        assert r2.status_code == 304 and r2.content == b"", path
        assert r2.headers["etag"] == etag
        r3 = mini.get(path, headers={**headers, "If-Modified-Since": modified})
        assert r3.status_code == 304
        r4 = mini.get(path, headers={**headers, "If-None-Match": '"other"'})
        assert r4.status_code == 200 and r4.content == r.content
    # a different representation has a different tag
    a = mini.get("/resource/甲朝", headers={"Accept": "text/html"}).headers["etag"]
    b = mini.get("/resource/甲朝", headers={"Accept": "text/turtle"}).headers["etag"]
    assert a != b


def test_volatile_queries_are_not_cached(mini):
    r = mini.get("/sparql", params={"query": "SELECT (NOW() AS ?t) {}"})
    assert r.status_code == 200 and "etag" not in r.headers
    r = mini.get("/sparql", params={"query": "SELECT (STRUUID() AS ?u) {}"})
    assert "etag" not in r.headers


def test_response_cache_serves_same_bytes(mini_store):
    app = create_app(mini_store)
    with TestClient(app) as c:
        q = {"query": "SELECT ?l WHERE { ?s <http://www.w3.org/2000/01/rdf-schema#label> ?l }"}
        first = c.get("/sparql", params=q)
        second = c.get("/sparql", params=q)
        assert first.content == second.content
        cache = app.state.store.current.responses
        assert cache.hits >= 1
    app = create_app(mini_store, cache_bytes=0)
    with TestClient(app) as c:
        c.get("/sparql", params=q)
        c.get("/sparql", params=q)
        assert len(app.state.store.current.responses) == 0


# --------------------------------------------------------------------------------------------
# Store switching


LABEL_QUERY = "SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE { ?s <%s> ?l }" % (RDFS + "label")


def song_quads() -> list[ox.Quad]:
    song = N(RES + "宋朝")
    g = N(SRC + "宋朝")
    return [ox.Quad(song, N(RDF + "type"), N(SHILU + "Dynasty"), g),
            ox.Quad(song, N(RDFS + "label"), hant("宋朝"), g),
            ox.Quad(song, N(RDFS + "label"), hans("宋朝"), g)]


def test_handle_follows_current(tmp_path, mini_dir):
    store_dir = tmp_path / "store"
    build([mini_dir], store_dir)
    handle = StoreHandle(store_dir, check_interval=3600)
    first = handle.current
    assert handle.following and first.path.name == "gen-000001"
    publish_quads(store_dir, song_quads())
    assert handle.current is first  # not looked at yet
    second = handle.refresh()
    assert second is not first and second.path.name == "gen-000002"
    assert second.generation != first.generation
    assert handle.current is second
    # a plain Oxigraph directory is served as it is
    plain = StoreHandle(current_path(store_dir))
    assert not plain.following and plain.refresh().path == current_path(store_dir)
    # reopen onto another directory
    assert handle.reopen(current_path(store_dir)).path == current_path(store_dir)
    assert not handle.following


def test_handle_background_switch(tmp_path, mini_dir):
    store_dir = tmp_path / "store"
    build([mini_dir], store_dir)
    handle = StoreHandle(store_dir, check_interval=0)
    first = handle.current
    publish_quads(store_dir, song_quads())
    deadline = time.monotonic() + 10
    while handle.current is first:  # the old snapshot answers while the new one opens
        assert time.monotonic() < deadline, "did not switch"
        time.sleep(0.01)
    assert handle.current.path.name == "gen-000002"


def test_handle_keeps_serving_when_new_generation_is_broken(tmp_path, mini_dir, caplog):
    store_dir = tmp_path / "store"
    build([mini_dir], store_dir)
    handle = StoreHandle(store_dir, check_interval=3600)
    first = handle.current
    broken = store_dir / "gen-000009"
    broken.mkdir()
    (store_dir / ".tmp-link").symlink_to(broken.name)
    (store_dir / ".tmp-link").replace(store_dir / "current")
    broken.rmdir()  # current now dangles
    with pytest.raises(OSError):
        handle.refresh()
    assert handle.current is first



def test_switch_generations_under_load(tmp_path, mini_dir):
    """Publish two new generations while clients query: every request answers 200, each
    client sees the generations in order, and the new data is served."""
    store_dir = tmp_path / "store"
    build([mini_dir], store_dir)
    app = create_app(store_dir, check_interval=0.02)
    path = "/sparql?" + "query=" + quote(LABEL_QUERY)
    expected = {}  # count of labelled things -> generation number
    stop = threading.Event()
    seen: list[list[int]] = [[] for _ in range(4)]
    failures: list[str] = []

    def client(i: int, port: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        while not stop.is_set():
            try:
                conn.request("GET", path, headers={"Accept": "application/sparql-results+json"})
                r = conn.getresponse()
                body = r.read()
            except OSError as e:  # a dropped connection is a failure too
                failures.append(repr(e))
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
                continue
            if r.status != 200:
                failures.append(f"{r.status}: {body[:200]!r}")
                continue
            n = int(json.loads(body)["results"]["bindings"][0]["n"]["value"])
            seen[i].append(n)
        conn.close()

    with serving(app) as port:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        conn.request("GET", path)
        expected[int(json.loads(conn.getresponse().read())["results"]["bindings"][0]["n"]["value"])] = 1
        threads = [threading.Thread(target=client, args=(i, port)) for i in range(4)]
        for t in threads:
            t.start()
        try:
            for gen, quads in ((2, event_quads()), (3, song_quads())):
                time.sleep(0.2)
                publish_quads(store_dir, quads)
                want = len({q.subject for q in quads if q.predicate.value == RDFS + "label"})
                expected[want] = gen
                deadline = time.monotonic() + 10
                while not all(s and s[-1] == want for s in seen):
                    assert time.monotonic() < deadline, f"generation {gen} never served"
                    assert not failures, failures[:3]
                    time.sleep(0.02)
            # the new resource pages are there too
            conn.request("GET", "/resource/" + quote("宋朝"), headers={"Accept": "text/turtle"})
            r = conn.getresponse()
            assert r.status == 200 and "宋朝" in r.read().decode()
        finally:
            stop.set()
            for t in threads:
                t.join(timeout=10)
    assert not failures, failures[:3]
    assert len(expected) == 3  # three different answers
    for s in seen:
        generations = [expected[n] for n in s]
        assert generations == sorted(generations)  # never back to an old generation
        assert generations[-1] == 3
    assert sum(len(s) for s in seen) > 20


def test_raw_paths_through_a_real_server(mini_store):
    """uvicorn hands over paths as sent: dot segments and encoded slashes arrive intact."""
    with serving(create_app(mini_store)) as port:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        for raw in TRAVERSALS:
            conn.request("GET", raw.decode("latin-1"), headers={"Accept": "text/html"})
            r = conn.getresponse()
            body = r.read()
            assert r.status in (400, 404), (raw, r.status)
            assert b"root:" not in body
        conn.request("GET", "/resource/" + quote("甲朝"), headers={"Accept": "text/turtle"})
        r = conn.getresponse()
        assert r.status == 200 and "甲朝" in r.read().decode()


# --------------------------------------------------------------------------------------------
# The seed articles


@pytest.fixture(scope="module")
def seeds(tmp_path_factory):
    need_shared()
    path = tmp_path_factory.mktemp("seeds-ld") / "store"
    build([SEEDS], path)
    with TestClient(create_app(path)) as c:
        yield c


def test_seed_resource_in_both_scripts(seeds):
    a = seeds.get("/resource/遼朝", headers={"Accept": "text/turtle"})
    b = seeds.get("/resource/" + quote("辽朝"), headers={"Accept": "text/turtle"})
    assert a.status_code == b.status_code == 200
    assert a.text == b.text
    g = turtle(a)
    liao = rdflib.URIRef(RES + "辽朝")
    assert (liao, rdflib.RDFS.label, rdflib.Literal("遼朝", lang="zh-hant")) in g
    assert (liao, rdflib.RDFS.label, rdflib.Literal("辽朝", lang="zh-hans")) in g


def test_seed_pages_render(seeds):
    r = seeds.get("/resource/金朝", headers={"Accept": BROWSER})
    assert r.status_code == 200
    assert "金朝" in r.text and 'href="/source/' in r.text
    r = seeds.get("/")
    assert r.status_code == 200
    r = seeds.get("/void")
    g = turtle(r)
    dataset = g.value(predicate=rdflib.RDF.type, object=VOID.Dataset)
    assert int(g.value(dataset, VOID.documents)) == 3
