"""The graph as a property graph: Neo4j CSV (``LOAD CSV``) and GraphML (Gephi, yEd, APOC).

``shilu export --format neo4j-csv -o DIR`` and ``--format graphml -o FILE``. The design:

Nodes (``id`` is the RDF IRI, so the two worlds join)

- things: ``labels`` their classes with the superclasses (``Dynasty:Polity``, ``City:Place``);
  ``Thing`` for resources articles mention that have no class yet;
- events: ``Event`` with their kind (``Capture:Event``), ``year`` when dated, and a name built
  from the roles (``金朝 攻佔 大定府 1122``);
- articles: ``Article``, named by their title.

``name_hant`` / ``name_hans`` are the ``rdfs:label`` in each script; ``label`` repeats the
Traditional one for tools that show a ``label`` column (Gephi).

Edges

- the binary shortcuts of the ontology (``CAPTURED``, ``ATTACKED``, ``DEFEATED``,
  ``DESTROYED``, ``CEDED``, ``SURRENDERED_TO``, ``FOUNDED``, ``ACCEDED``, ``ALLIED_WITH`` once
  per pair), derived from the events exactly as ``shilu:shortcutOf`` says, with ``weight`` the
  number of events, ``year`` the earliest and ``years`` all of them (``;``-separated);
- ``RULER_OF`` and ``PART_OF`` as stated;
- the n-ary events themselves: ``AGENT``, ``TARGET``, ``PARTY``, ``RECIPIENT``, ``PARTICIPANT``,
  ``PLACE`` from the event node to the thing in that role;
- provenance: ``TOLD_IN`` from an event to each article stating it (``sentence`` is the
  evidence), ``MENTIONS`` and ``ABOUT`` (``foaf:primaryTopic``) from an article to things.

Output is sorted, so identical stores give byte-identical files.
"""

from __future__ import annotations

import csv
import io
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO
from xml.sax.saxutils import escape, quoteattr

from .api import (KnowledgeGraph, LocalGraph, ROLES, ontology_labels, ontology_shortcuts,
                  ontology_superclasses)
from .rdf import PREFIXES

__all__ = ["Node", "Edge", "PropertyGraph", "property_graph", "write_neo4j_csv", "write_graphml",
           "NODE_COLUMNS", "EDGE_COLUMNS"]

NODE_COLUMNS = ("id", "labels", "name_hant", "name_hans", "label", "year", "wikipedia")
EDGE_COLUMNS = ("source", "target", "type", "label", "weight", "year", "years", "sentence")

_SHILU = PREFIXES["shilu"]
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def xml_text(value: Any) -> str:
    """``value`` as XML character data: escaped, without the characters XML 1.0 forbids."""
    return escape(_NOT_XML.sub("", str(value)))


def relation_type(name: str) -> str:
    """A property's local name as a Neo4j relationship type: ``surrenderedTo`` → ``SURRENDERED_TO``.

    >>> relation_type("alliedWith"), relation_type("agent")
    ('ALLIED_WITH', 'AGENT')
    """
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).upper()


@dataclass
class Node:
    id: str
    labels: tuple[str, ...]
    name_hant: str = ""
    name_hans: str = ""
    year: int | None = None
    wikipedia: str = ""

    def row(self) -> dict[str, Any]:
        return {"id": self.id, "labels": ":".join(self.labels), "name_hant": self.name_hant,
                "name_hans": self.name_hans, "label": self.name_hant or self.name_hans,
                "year": "" if self.year is None else self.year, "wikipedia": self.wikipedia}


@dataclass
class Edge:
    source: str
    target: str
    type: str
    label: str = ""
    weight: int = 1
    years: list[int] = field(default_factory=list)
    sentence: str = ""

    def row(self) -> dict[str, Any]:
        years = sorted(set(self.years))
        return {"source": self.source, "target": self.target, "type": self.type,
                "label": self.label, "weight": self.weight, "year": years[0] if years else "",
                "years": ";".join(map(str, years)), "sentence": self.sentence}


@dataclass
class PropertyGraph:
    nodes: list[Node]
    edges: list[Edge]


def _graph(source: Any) -> KnowledgeGraph:
    if isinstance(source, KnowledgeGraph):
        return source
    return LocalGraph.from_store(source)  # a pyoxigraph.Store


def property_graph(source: Any) -> PropertyGraph:
    """Nodes and edges of the property-graph view of ``source`` (a ``pyoxigraph.Store`` or a
    :class:`~shilu.graph.api.KnowledgeGraph`), sorted."""
    kg = _graph(source)
    words = ontology_labels("zh-Hant")
    words_hans = ontology_labels("zh-Hans")
    supers = ontology_superclasses()
    nodes: dict[str, Node] = {}

    # labels and wikipedia pages of everything that has them
    names: dict[str, dict[str, str]] = defaultdict(dict)
    for lang in ("zh-hant", "zh-hans"):
        for r in kg.query(f'SELECT DISTINCT ?x ?l WHERE {{ ?x rdfs:label ?l FILTER(lang(?l) = "{lang}") }}'):
            n = names[r.x]
            n[lang] = min(n.get(lang, r.l), r.l)  # the same whatever order the store answers in
    wiki = {r.x: r.w for r in kg.query(
        "SELECT ?x (MIN(STR(?p)) AS ?w) WHERE { ?x foaf:isPrimaryTopicOf ?p } GROUP BY ?x")}

    def thing(iri: str, classes: Iterable[str] = ()) -> Node:
        node = nodes.get(iri)
        if node is None:
            n = names.get(iri, {})
            node = nodes[iri] = Node(iri, (), n.get("zh-hant", ""), n.get("zh-hans", ""),
                                     wikipedia=wiki.get(iri, ""))
        labels = list(node.labels)
        for c in classes:
            for label in (c, *supers.get(c, ())):
                if label not in labels:
                    labels.append(label)
        node.labels = tuple(labels)
        return node

    # things with classes (events and articles are handled below)
    events: dict[str, str] = {}
    for r in kg.query("""SELECT DISTINCT ?x ?c WHERE { ?x a ?c . FILTER(STRSTARTS(STR(?c), STR(shilu:))) }"""):
        cls = r.c[len(_SHILU):]
        if cls == "Article":
            continue
        if r.x.startswith(PREFIXES["res"] + "event/"):
            events[r.x] = cls
        else:
            thing(r.x, [cls])

    # events: kind, year, roles
    years: dict[str, int] = {}
    for r in kg.query("SELECT DISTINCT ?e ?y WHERE { ?e shilu:year ?y }"):
        if isinstance(r.y, int):
            years[r.e] = min(r.y, years.get(r.e, r.y))
    roles: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    role_values = " ".join(f"shilu:{x}" for x in ROLES)
    edges: list[Edge] = []
    for r in kg.query(f"""SELECT DISTINCT ?e ?p ?x WHERE {{ VALUES ?p {{ {role_values} }} ?e ?p ?x }}"""):
        role = r.p[len(_SHILU):]
        roles[r.e][role].append(r.x)
        thing(r.x)
        edges.append(Edge(r.e, r.x, relation_type(role), words.get(role, role)))
    for iri, cls in events.items():
        node = thing(iri, [cls])
        node.labels = tuple(dict.fromkeys((*node.labels, "Event")))
        node.year = years.get(iri)
        r = roles.get(iri, {})

        def who(keys: tuple[str, ...], script: str) -> str:
            return "、".join((names.get(x, {}).get(script) or x.rsplit("/", 1)[-1])
                            for k in keys for x in sorted(r.get(k, [])))

        for script, vocab, attr in (("zh-hant", words, "name_hant"), ("zh-hans", words_hans, "name_hans")):
            parts = [who(("agent", "party"), script), vocab.get(cls, cls),
                     who(("target", "recipient", "place"), script),
                     "" if node.year is None else str(node.year)]
            setattr(node, attr, " ".join(p for p in parts if p))

    # shortcuts, derived from the events as the ontology defines them
    shortcuts: dict[tuple[str, str, str], Edge] = {}
    for prop, (cls, subject_roles, object_roles) in ontology_shortcuts().items():
        for iri, kind in events.items():
            if kind != cls:
                continue
            r = roles.get(iri, {})
            for s in sorted({x for k in subject_roles for x in r.get(k, [])}):
                for o in sorted({x for k in object_roles for x in r.get(k, [])}):
                    if s == o or (prop == "alliedWith" and s > o):  # symmetric: once per pair
                        continue
                    key = (s, relation_type(prop), o)
                    edge = shortcuts.get(key)
                    if edge is None:
                        edge = shortcuts[key] = Edge(s, o, key[1], words.get(prop, prop), 0)
                    edge.weight += 1
                    if iri in years:
                        edge.years.append(years[iri])
    edges.extend(shortcuts.values())

    # stated relations between things
    for prop in ("rulerOf", "partOf"):
        for r in kg.query(f"SELECT DISTINCT ?s ?o WHERE {{ ?s shilu:{prop} ?o }}"):
            thing(r.s)
            thing(r.o)
            edges.append(Edge(r.s, r.o, relation_type(prop), words.get(prop, prop)))

    # articles and provenance
    from ..extract.script import to_hans, to_hant

    for r in kg.query("SELECT DISTINCT ?a ?t WHERE { ?a a shilu:Article ; dcterms:title ?t }"):
        nodes[r.a] = Node(r.a, ("Article",), to_hant(r.t), to_hans(r.t))
    told = kg.query("""SELECT DISTINCT ?e ?a ?s WHERE { ?e shilu:evidence ?ev . ?ev oa:hasSource ?a ;
                                                       rdf:value ?s }""")
    for r in told:
        edges.append(Edge(r.e, r.a, "TOLD_IN", "見於", sentence=r.s))
    for prop, rel, label in (("shilu:mentions", "MENTIONS", words.get("mentions", "mentions")),
                             ("foaf:primaryTopic", "ABOUT", "主題")):
        for r in kg.query(f"SELECT DISTINCT ?a ?x WHERE {{ ?a a shilu:Article ; {prop} ?x }}"):
            thing(r.x)
            edges.append(Edge(r.a, r.x, rel, label))

    for node in nodes.values():
        if not node.labels:
            node.labels = ("Thing",)
    known = set(nodes)
    edges = [e for e in edges if e.source in known and e.target in known]
    return PropertyGraph(sorted(nodes.values(), key=lambda n: n.id),
                         sorted(edges, key=lambda e: (e.source, e.type, e.target, e.sentence)))


# --------------------------------------------------------------------------------------------
# Neo4j CSV

IMPORT_CYPHER = """\
// Load shilu's property graph into Neo4j 5 (with the APOC plugin): copy nodes.csv and edges.csv
// into the import folder, then run: cypher-shell -f import.cypher
// Labels and relationship types are data (columns labels and type), so APOC sets them.
CREATE CONSTRAINT shilu_id IF NOT EXISTS FOR (n:Shilu) REQUIRE n.id IS UNIQUE;

LOAD CSV WITH HEADERS FROM 'file:///nodes.csv' AS row
MERGE (n:Shilu {id: row.id})
SET n.name_hant = row.name_hant, n.name_hans = row.name_hans,
    n.year = toInteger(nullIf(row.year, '')), n.wikipedia = nullIf(row.wikipedia, '')
WITH n, row
CALL apoc.create.addLabels(n, split(row.labels, ':')) YIELD node
RETURN count(node) AS nodes;

LOAD CSV WITH HEADERS FROM 'file:///edges.csv' AS row
MATCH (s:Shilu {id: row.source}), (t:Shilu {id: row.target})
CALL apoc.create.relationship(s, row.type,
     {label: row.label, weight: toInteger(row.weight), year: toInteger(nullIf(row.year, '')),
      years: nullIf(row.years, ''), sentence: nullIf(row.sentence, '')}, t) YIELD rel
RETURN count(rel) AS relationships;
"""


def _csv_bytes(columns: tuple[str, ...], rows: Iterable[dict[str, Any]]) -> bytes:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=columns, lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
    return buf.getvalue().encode("utf-8")


def write_neo4j_csv(source: Any, directory: str | Path) -> list[Path]:
    """Write ``nodes.csv``, ``edges.csv`` and ``import.cypher`` into ``directory`` (created if
    needed); returns their paths. UTF-8, a header line, ``\\n`` line ends."""
    pg = property_graph(source)
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    files = {
        "nodes.csv": _csv_bytes(NODE_COLUMNS, (n.row() for n in pg.nodes)),
        "edges.csv": _csv_bytes(EDGE_COLUMNS, (e.row() for e in pg.edges)),
        "import.cypher": IMPORT_CYPHER.encode("utf-8"),
    }
    paths = []
    for name, data in files.items():
        path = out / name
        path.write_bytes(data)
        paths.append(path)
    return paths


# --------------------------------------------------------------------------------------------
# GraphML

_NODE_KEYS = (("labels", "string"), ("name_hant", "string"), ("name_hans", "string"),
              ("label", "string"), ("year", "int"), ("wikipedia", "string"))
_EDGE_KEYS = (("type", "string"), ("label", "string"), ("weight", "double"), ("year", "int"),
              ("years", "string"), ("sentence", "string"))


def graphml_bytes(source: Any) -> bytes:
    """The property graph as GraphML 1.0 (directed; node and edge attributes declared as
    ``<key>``; ``labels`` written ``:Dynasty:Polity`` as APOC's ``apoc.import.graphml`` reads)."""
    pg = property_graph(source)
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<graphml xmlns="http://graphml.graphdrawing.org/xmlns" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        'xsi:schemaLocation="http://graphml.graphdrawing.org/xmlns '
        'http://graphml.graphdrawing.org/xmlns/1.0/graphml.xsd">',
    ]
    for name, kind in _NODE_KEYS:
        lines.append(f'  <key id="n_{name}" for="node" attr.name="{name}" attr.type="{kind}"/>')
    for name, kind in _EDGE_KEYS:
        lines.append(f'  <key id="e_{name}" for="edge" attr.name="{name}" attr.type="{kind}"/>')
    lines.append('  <graph id="shilu" edgedefault="directed">')
    for n in pg.nodes:
        row = n.row()
        row["labels"] = ":" + row["labels"]
        data = "".join(f'<data key="n_{k}">{xml_text(row[k])}</data>'
                       for k, _ in _NODE_KEYS if row[k] != "")
        lines.append(f"    <node id={quoteattr(n.id)}>{data}</node>")
    for i, e in enumerate(pg.edges):
        row = e.row()
        data = "".join(f'<data key="e_{k}">{xml_text(row[k])}</data>'
                       for k, _ in _EDGE_KEYS if row[k] != "")
        lines.append(f'    <edge id="e{i}" source={quoteattr(e.source)} target={quoteattr(e.target)}>'
                     f"{data}</edge>")
    lines += ["  </graph>", "</graphml>", ""]
    return "\n".join(lines).encode("utf-8")


def write_graphml(source: Any, output: str | Path | BinaryIO) -> None:
    """Write :func:`graphml_bytes` to a path or a binary file."""
    data = graphml_bytes(source)
    if isinstance(output, (str, Path)):
        Path(output).write_bytes(data)
    else:
        output.write(data)
