"""The notebook API (`import shilu`): local stores, remote endpoints, entities, pictures, the
example notebook."""

from __future__ import annotations

import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

import shilu
from shilu.graph.api import Rows, to_python

from conftest import ROOT, SEEDS, serving

JIN = "https://w3id.org/shilu/resource/金朝"
LIAO = "https://w3id.org/shilu/resource/辽朝"
SVG_NS = "{http://www.w3.org/2000/svg}"


@pytest.fixture(scope="module")
def kg(corpus_store: Path):
    graph = shilu.open(corpus_store)
    yield graph
    graph.close()


@pytest.fixture(scope="module")
def endpoint(corpus_store: Path):
    """``shilu serve`` (the Starlette app under uvicorn) on a free port, for ``shilu.remote``."""
    from shilu.graph.server import create_app

    with serving(create_app(corpus_store), start_timeout=20) as port:
        yield f"http://127.0.0.1:{port}"


# --------------------------------------------------------------------------------------------
# The package


def test_import_shilu_is_light():
    code = "import sys, shilu; print(shilu.__version__, 'pyoxigraph' in sys.modules, 'rdflib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    version, oxigraph, rdflib = out.split()
    assert version == shilu.__version__ and oxigraph == "False" and rdflib == "False"


def test_the_api_names():
    for name in ("open", "remote", "Rows", "Row", "Entity", "EntityNotFound", "QueryError",
                 "KnowledgeGraph", "timeline_svg", "neighbourhood_svg"):
        assert getattr(shilu, name).__doc__, name
        assert name in dir(shilu)
    with pytest.raises(AttributeError):
        shilu.no_such_thing  # noqa: B018


def test_open_needs_a_store(tmp_path):
    with pytest.raises(FileNotFoundError):
        shilu.open(tmp_path / "nothing")


# --------------------------------------------------------------------------------------------
# Values and rows


def test_values_are_plain_python():
    xsd = "http://www.w3.org/2001/XMLSchema#"
    assert to_python("1122", xsd + "gYear") == 1122
    assert to_python("-0221", xsd + "gYear") == -221
    assert to_python("0916", xsd + "gYear") == 916
    assert to_python("7", xsd + "nonNegativeInteger") == 7
    assert to_python("2.5", xsd + "decimal") == 2.5
    assert to_python("false", xsd + "boolean") is False
    assert to_python("1127-03-20", xsd + "date") == "1127-03-20"
    assert to_python("b0", kind="bnode") == "_:b0"


def test_rows():
    rows = Rows(["name", "year", "class"], [("金朝", 1115, "Dynasty"), ("西夏", None, "Dynasty")])
    assert len(rows) == 2 and rows[0].name == "金朝" and rows[0]["year"] == 1115
    assert rows[1].get("year") is None and rows[0].keys() == ("name", "year", "class")
    assert rows[0]["class"] == "Dynasty" and rows[0].as_dict() == {"name": "金朝", "year": 1115, "class": "Dynasty"}
    assert rows[0] == ("金朝", 1115, "Dynasty")  # still a tuple
    assert isinstance(rows[:1], Rows) and len(rows[:1]) == 1
    assert rows.column("name") == ["金朝", "西夏"] and rows.first() == rows[0]
    assert "(2 rows)" in repr(rows) and "<table>" in rows._repr_html_()
    with pytest.raises(KeyError):
        rows[0]["nope"]


def test_to_dataframe():
    pd = pytest.importorskip("pandas")
    df = Rows(["name", "year"], [("金朝", 1115), ("西夏", None)]).to_dataframe()
    assert list(df.columns) == ["name", "year"] and len(df) == 2
    assert str(df["year"].dtype) == "Int64" and df["year"][0] == 1115 and df["year"].isna()[1]
    assert isinstance(df, pd.DataFrame)


# --------------------------------------------------------------------------------------------
# A local store


def test_query_by_name_text_and_file(kg, tmp_path):
    named = kg.query("captures")
    assert any(r.captor == "金朝" and r.place == "大定府" and r.year == 1122 for r in named)
    text = kg.query("""SELECT DISTINCT ?y WHERE {
        ?e a shilu:Capture ; shilu:agent res:金朝 ; shilu:target/rdfs:label "大定府"@zh-Hant ; shilu:year ?y }""")
    assert 1122 in text.column("y") and all(isinstance(y, int) for y in text.column("y"))
    rq = tmp_path / "mine.rq"
    rq.write_text("# title: mine\n# answers: a test\n# param: who = 金朝 (a name)\n"
                  "SELECT DISTINCT ?thing WHERE { ?thing rdfs:label ?l FILTER(STR(?l) = $who) }\n",
                  encoding="utf-8")
    assert kg.query(str(rq)).column("thing") == [JIN]
    assert kg.query(str(rq), who="遼朝").column("thing") == [LIAO]


def test_query_parameters_and_forms(kg):
    assert kg.query("rulers", dynasty="西夏")[0].acceded is not None
    assert kg.query("year", year=1122) == kg.query("year", year="1122")
    assert kg.query("ASK { res:金朝 a shilu:Dynasty }") is True
    assert kg.query("ASK { res:金朝 a shilu:City }") is False
    g = kg.query("CONSTRUCT { res:金朝 rdfs:label ?l } WHERE { res:金朝 rdfs:label ?l }")
    import rdflib

    assert isinstance(g, rdflib.Graph) and len(g) == 2  # one label per script
    # a raw query with a parameter of its own
    rows = kg.query("SELECT DISTINCT ?x WHERE { ?x rdfs:label ?l FILTER(STR(?l) = $n) }", n="遼朝")
    assert rows.column("x") == [LIAO]


def test_query_errors(kg):
    with pytest.raises(shilu.QueryError, match="no named query"):
        kg.query("no-such-query")
    with pytest.raises(shilu.QueryError, match="has no parameter"):
        kg.query("rulers", king="x")
    with pytest.raises(shilu.QueryError, match="malformed"):
        kg.query("SELECT ?x WHERE { ?x ")
    with pytest.raises(shilu.QueryError):
        kg.query("missing.rq")


def test_queries_listed(kg):
    names = {q.name for q in kg.queries()}
    assert {"alliances", "polity-timeline", "rulers"} <= names


def test_entity_by_any_name(kg):
    jin = kg.entity("金朝")
    assert jin.iri == JIN and jin.key == "金朝" and "Dynasty" in jin.types
    assert jin.labels == {"zh-Hant": "金朝", "zh-Hans": "金朝"}
    assert {"金國", "金国"} <= set(jin.aliases)
    assert jin.wikipedia == "https://zh.wikipedia.org/wiki/金朝"
    for name in ("金國", "金国", "res:金朝", JIN, " 金朝 "):
        assert kg.entity(name).iri == JIN, name
    liao = kg.entity("遼朝")
    assert liao.iri == LIAO and kg.entity("辽朝").iri == LIAO and liao.name == "遼朝"
    assert "金朝" in repr(jin) and "<code>" in jin._repr_html_()
    with pytest.raises(shilu.EntityNotFound):
        kg.entity("並無此物")
    with pytest.raises(shilu.EntityNotFound):
        kg.entity("https://w3id.org/shilu/resource/並無此物")


def test_entity_events_and_articles(kg):
    jin = kg.entity("金國")
    hit = [r for r in jin.events if r.kind == "Capture" and r.role == "agent" and r.year == 1122
           and "大定府" in (r.others or "")]
    assert hit and all("大定府" in r.sentence and r.article for r in hit)
    years = [r.year for r in jin.events if r.year is not None]
    assert years == sorted(years)
    assert "金滅遼之戰" in jin.articles and len(jin.articles) >= 10


def test_rdflib_graph_over_the_store(kg):
    import rdflib

    ds = kg.rdflib_graph()
    labels = set(ds.objects(rdflib.URIRef(JIN), rdflib.RDFS.label))
    assert {str(l) for l in labels} == {"金朝"}
    assert (rdflib.URIRef(JIN), rdflib.RDF.type, rdflib.URIRef("https://w3id.org/shilu/ontology#Dynasty")) in ds


def test_rdflib_graph_without_oxrdflib(seed_store, monkeypatch):
    import rdflib

    monkeypatch.setitem(sys.modules, "oxrdflib", None)  # as if it were not installed
    kg = shilu.open(seed_store)
    ds = kg.rdflib_graph()
    assert isinstance(ds, rdflib.Dataset)
    count = kg.query("SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }")[0].n
    assert len(list(ds.quads((None, None, None, None)))) == count
    assert (rdflib.URIRef(JIN), rdflib.RDF.type, rdflib.URIRef("https://w3id.org/shilu/ontology#Dynasty")) in ds


# --------------------------------------------------------------------------------------------
# A remote endpoint: the same answers


def test_remote_gives_the_same_answers(kg, endpoint):
    remote = shilu.remote(endpoint)  # the base URL: /sparql is added
    assert remote.url.endswith("/sparql")
    for name, params in (("captures", {}), ("rulers", {"dynasty": "西夏"}), ("alliances", {}),
                         ("polity-timeline", {"polity": "金國"})):
        assert remote.query(name, **params) == kg.query(name, **params), name
    assert remote.query("ASK { res:金朝 a shilu:Dynasty }") is True
    assert len(remote.query("CONSTRUCT { res:金朝 rdfs:label ?l } WHERE { res:金朝 rdfs:label ?l }")) == 2
    jin = remote.entity("金國")
    assert jin.iri == JIN and jin.types == kg.entity("金朝").types
    assert remote.entity("金國").events == kg.entity("金國").events


def test_remote_errors(endpoint):
    remote = shilu.remote(endpoint + "/sparql")
    with pytest.raises(shilu.QueryError, match="400"):
        remote.query("SELECT ?x WHERE { ?x ")
    with pytest.raises(shilu.QueryError):
        shilu.remote("http://127.0.0.1:9/sparql", timeout=2).query("ASK {}")
    with pytest.raises(ValueError):
        shilu.remote("file:///etc/passwd")


def test_remote_rdflib_graph(endpoint):
    import rdflib

    ds = shilu.remote(endpoint).rdflib_graph()
    labels = {str(o) for o in ds.objects(rdflib.URIRef(JIN), rdflib.RDFS.label)}
    assert labels == {"金朝"}


# --------------------------------------------------------------------------------------------
# Pictures


def _svg(text: str) -> ET.Element:
    root = ET.fromstring(text.encode("utf-8"))
    assert root.tag == SVG_NS + "svg"
    return root


def _texts(root: ET.Element) -> list[str]:
    return ["".join(t.itertext()) for t in root.iter() if t.tag in (SVG_NS + "text", SVG_NS + "title")]


def test_timeline_svg(kg):
    svg = shilu.timeline_svg(kg, "金國")
    texts = _texts(_svg(svg))
    assert "金朝大事年表" in texts
    assert {"攻佔", "滅國"} <= set(texts)  # rows: the ontology's names of the event kinds
    assert "1120" in texts  # the year axis
    tips = [t for t in texts if t.startswith("1122 攻佔")]
    assert any("大定府" in t for t in tips)  # each event's tooltip: year, kind, counterpart, sentence
    by_counterpart = _texts(_svg(kg.timeline_svg("金朝", rows="counterpart", script="zh-Hans")))
    assert "遼朝" not in by_counterpart and "辽朝" in by_counterpart
    assert kg.entity("金朝").timeline_svg() == svg


def test_svg_text_is_escaped(kg, monkeypatch):
    from shilu.graph import timeline

    jin = kg.entity("金朝")
    jin.labels = {"zh-Hant": "<金&朝>"}
    monkeypatch.setattr(timeline, "_entity", lambda _kg, _name: jin)
    for svg in (timeline.timeline_svg(kg, "x"), timeline.neighbourhood_svg(kg, "x")):
        assert any("<金&朝>" in t for t in _texts(_svg(svg)))


def test_neighbourhood_svg(kg):
    root = _svg(shilu.neighbourhood_svg(kg, "金朝"))
    texts = _texts(root)
    assert "金朝" in texts and "遼朝" in texts
    assert any("滅國" in t for t in texts)  # edge labels name the event kinds
    nodes = [g for g in root.iter(SVG_NS + "g") if g.get("class") == "node"]
    assert 1 <= len(nodes) <= 24
    only = _svg(shilu.neighbourhood_svg(kg, "金朝", kinds={"Alliance"}))
    assert all("攻佔" not in t for t in _texts(only))
    with pytest.raises(shilu.EntityNotFound):
        shilu.neighbourhood_svg(kg, "並無此物")


# --------------------------------------------------------------------------------------------
# The example notebook, run top to bottom


def test_the_notebook_runs():
    try:
        import ipykernel  # noqa: F401
        import nbformat
        from nbclient import NotebookClient
    except ImportError as e:
        pytest.skip(f"running docs/notebook.ipynb needs nbclient, nbformat and ipykernel "
                    f"(pip install -e '.[test]'): {e}")
    if not SEEDS.is_dir():
        pytest.skip(f"the notebook builds from {SEEDS}, which is missing")
    path = ROOT / "docs" / "notebook.ipynb"
    nb = nbformat.read(path, as_version=4)
    env = {"SHILU_SEEDS": str(SEEDS)}
    old = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        NotebookClient(nb, timeout=600, kernel_name="python3",
                       resources={"metadata": {"path": str(path.parent)}}).execute()
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    assert not [o for o in outputs if o.output_type == "error"]
    text = "\n".join(str(o.get("text", "")) + str(o.get("data", {}).get("text/plain", "")) for o in outputs)
    assert "captures" in text and "金朝" in text
    assert any("image/svg+xml" in o.get("data", {}) for o in outputs)
