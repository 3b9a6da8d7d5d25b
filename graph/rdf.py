"""Facts to RDF: `ArticleFacts` in, pyoxigraph quads (in the article's named graph) out.

This module never parses Chinese: labels and keys arrive ready-made from extraction.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache

from pyoxigraph import Literal, NamedNode, Quad

from ..extract.facts import ArticleFacts, Entity, Event
from . import iris
from .vocab import N

__all__ = ["article_nquads", "article_quads", "PREFIXES"]

PREFIXES = {
    "shilu": iris.ONTOLOGY,
    "res": iris.RESOURCE,
    "src": iris.SOURCE,
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "owl": "http://www.w3.org/2002/07/owl#",
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "foaf": "http://xmlns.com/foaf/0.1/",
    "dcterms": "http://purl.org/dc/terms/",
    "prov": "http://www.w3.org/ns/prov#",
    "oa": "http://www.w3.org/ns/oa#",
    "wiki": iris.WIKIPEDIA,
}

_RDF = PREFIXES["rdf"]
_RDFS = PREFIXES["rdfs"]
_XSD = PREFIXES["xsd"]
_SKOS = PREFIXES["skos"]
_FOAF = PREFIXES["foaf"]
_DCT = PREFIXES["dcterms"]
_PROV = PREFIXES["prov"]
_OA = PREFIXES["oa"]

TYPE = NamedNode(_RDF + "type")
VALUE = NamedNode(_RDF + "value")
LABEL = NamedNode(_RDFS + "label")
ALT_LABEL = NamedNode(_SKOS + "altLabel")
CONCEPT = NamedNode(_SKOS + "Concept")
PRIMARY_TOPIC_OF = NamedNode(_FOAF + "isPrimaryTopicOf")
PRIMARY_TOPIC = NamedNode(_FOAF + "primaryTopic")
TITLE = NamedNode(_DCT + "title")
SUBJECT = NamedNode(_DCT + "subject")
DCT_SOURCE = NamedNode(_DCT + "source")
DERIVED_FROM = NamedNode(_PROV + "wasDerivedFrom")
SPECIFIC_RESOURCE = NamedNode(_OA + "SpecificResource")
HAS_SOURCE = NamedNode(_OA + "hasSource")
HAS_SELECTOR = NamedNode(_OA + "hasSelector")
POSITION_SELECTOR = NamedNode(_OA + "TextPositionSelector")
QUOTE_SELECTOR = NamedNode(_OA + "TextQuoteSelector")
OA_START = NamedNode(_OA + "start")
OA_END = NamedNode(_OA + "end")
OA_EXACT = NamedNode(_OA + "exact")
G_YEAR = NamedNode(_XSD + "gYear")
DATE = NamedNode(_XSD + "date")
NON_NEGATIVE = NamedNode(_XSD + "nonNegativeInteger")
INTEGER = NamedNode(_XSD + "integer")

# Shortcut triples derived from events: event class -> (property, subject role, object role).
SHORTCUTS: dict[str, tuple[NamedNode, str, str]] = {
    "Capture": (N.captured, "agent", "target"),
    "Attack": (N.attacked, "agent", "target"),
    "Victory": (N.defeated, "agent", "target"),
    "Conquest": (N.destroyed, "agent", "target"),
    "Cession": (N.ceded, "agent", "recipient"),
    "Surrender": (N.surrenderedTo, "agent", "target"),
    "Accession": (N.acceded, "agent", "target"),
    "Founding": (N.founded, "agent", "target"),
}


# Terms are made once each per process (minting an IRI and checking it cost a fifth of the whole
# extraction): the same things and labels recur through the corpus. pyoxigraph terms are
# immutable, so sharing them is safe.
_CACHE = 1 << 16


@lru_cache(maxsize=_CACHE)
def _res(key: str) -> NamedNode:
    return NamedNode(iris.resource(key))


@lru_cache(maxsize=_CACHE)
def _wiki(title: str) -> NamedNode:
    return NamedNode(iris.wikipedia(title))


@lru_cache(maxsize=_CACHE)
def _category(name: str) -> NamedNode:
    return NamedNode(iris.category(name))


@lru_cache(maxsize=_CACHE)
def _lit(text: str, language: str | None = None) -> Literal:
    return Literal(text, language=language)


def g_year(year: int) -> Literal:
    """xsd:gYear lexical form: at least four digits, a minus sign for BCE (no year 0 here)."""
    return Literal(f"-{abs(year):04d}" if year < 0 else f"{year:04d}", datatype=G_YEAR)


# Each kind of thing says what it says once, as (subject, predicate, object) triples of terms;
# `article_quads` puts them in the article's graph as quads, `article_nquads` writes them as text
# straight away (a quad made only to be written costs some 4 times more than its line).
Triple = tuple[NamedNode, NamedNode, NamedNode | Literal]


def _labels(subject: NamedNode, labels: tuple[str, str], predicate: NamedNode) -> Iterator[Triple]:
    hant, hans = labels
    yield subject, predicate, _lit(hant, "zh-Hant")
    yield subject, predicate, _lit(hans, "zh-Hans")


def _entity_terms(entity: Entity) -> Iterator[Triple]:
    node = _res(entity.key)
    if entity.cls:
        yield node, TYPE, getattr(N, entity.cls)
    yield from _labels(node, entity.labels, LABEL)
    for alias in entity.aliases:
        yield from _labels(node, alias, ALT_LABEL)
    if entity.wiki_title:
        yield node, PRIMARY_TOPIC_OF, _wiki(entity.wiki_title)
    if entity.ruler_of:
        yield node, N.rulerOf, _res(entity.ruler_of)
    if entity.start_year is not None:
        yield node, N.startYear, g_year(entity.start_year)
    if entity.end_year is not None:
        yield node, N.endYear, g_year(entity.end_year)
    for participant in entity.participants:
        yield node, N.participant, _res(participant)
    if entity.place:
        yield node, N.place, _res(entity.place)


def entity_quads(entity: Entity, graph: NamedNode) -> Iterator[Quad]:
    for s, p, o in _entity_terms(entity):
        yield Quad(s, p, o, graph)


def _event_terms(event: Event, source_id: str, source_text: str | None) -> Iterator[Triple]:
    event_iri = iris.event(event.kind, event.roles, event.year)
    node = NamedNode(event_iri)
    yield node, TYPE, getattr(N, event.kind)
    for role, k in event.roles:
        yield node, getattr(N, role), _res(k)
    if event.year is not None:
        yield node, N.year, g_year(event.year)
    start, end = event.evidence.start, event.evidence.end
    ev = NamedNode(iris.evidence(source_id, start, end, event_iri))
    selector = NamedNode(iris.evidence(source_id, start, end) + ";selector")  # the sentence, shared
    yield node, N.evidence, ev
    yield ev, TYPE, SPECIFIC_RESOURCE
    yield ev, HAS_SOURCE, NamedNode(iris.source(source_id))
    yield ev, VALUE, Literal(event.sentence)
    # how this telling dates the event: one event may be told with different date words
    if event.date:
        yield ev, N.date, Literal(event.date, datatype=DATE)
    if event.date_text:
        yield ev, N.dateText, Literal(event.date_text)
    if event.precision:
        yield ev, N.datePrecision, Literal(event.precision)
    if event.lunar_month is not None:
        yield ev, N.lunarMonth, Literal(str(event.lunar_month), datatype=INTEGER)
    yield ev, HAS_SELECTOR, selector
    yield selector, TYPE, POSITION_SELECTOR
    yield selector, OA_START, Literal(str(start), datatype=NON_NEGATIVE)
    yield selector, OA_END, Literal(str(end), datatype=NON_NEGATIVE)
    if source_text is not None:
        yield selector, TYPE, QUOTE_SELECTOR
        yield selector, OA_EXACT, Literal(source_text[start:end])
    shortcut = SHORTCUTS.get(event.kind)
    if shortcut:
        prop, subject_role, object_role = shortcut
        for s in event.role(subject_role):
            for o in event.role(object_role):
                yield _res(s), prop, _res(o)
    if event.kind == "Alliance":
        parties = event.role("party")
        for a in parties:
            for b in parties:
                if a != b:
                    yield _res(a), N.alliedWith, _res(b)


def event_quads(event: Event, source_id: str, graph: NamedNode, source_text: str | None) -> Iterator[Quad]:
    for s, p, o in _event_terms(event, source_id, source_text):
        yield Quad(s, p, o, graph)


def _head_terms(facts: ArticleFacts, graph: NamedNode) -> list[Triple]:
    """The triples about the article itself (its graph's IRI names it): type, title, source,
    page, topic and categories."""
    triples: list[Triple] = [
        (graph, TYPE, N.Article),
        (graph, TITLE, Literal(facts.title, language="zh")),
        (graph, DCT_SOURCE, Literal(facts.source_id)),
    ]
    if facts.wiki_title:
        triples.append((graph, DERIVED_FROM, _wiki(facts.wiki_title)))
    if facts.topic:
        triples.append((graph, PRIMARY_TOPIC, _res(facts.topic)))
    for name in facts.categories:
        cat = _category(name)
        triples.append((graph, SUBJECT, cat))
        triples.append((cat, TYPE, CONCEPT))
        triples.append((cat, LABEL, _lit(name, "zh")))
    return triples


def _article_head(facts: ArticleFacts, graph: NamedNode) -> list[Quad]:
    """The quads about the article itself, in its graph."""
    return [Quad(s, p, o, graph) for s, p, o in _head_terms(facts, graph)]


def article_quads(facts: ArticleFacts, source_text: str | None = None) -> list[Quad]:
    """All quads of one article, in its own named graph; duplicates removed, order stable."""
    graph = NamedNode(iris.source(facts.source_id))
    doc = graph  # the named graph's IRI also names the article it holds
    quads = _article_head(facts, graph)
    for entity in facts.entities:
        quads.append(Quad(doc, N.mentions, _res(entity.key), graph))
        quads.extend(entity_quads(entity, graph))
    for event in facts.events:
        quads.extend(event_quads(event, facts.source_id, graph, source_text))
    return list(dict.fromkeys(quads))


# --- straight to N-Quads ------------------------------------------------------------------------
# The build wants bytes, not quads. Each line is written from its terms' own text (a term's
# `str` is its N-Triples form, by pyoxigraph: "s p o g ." is the N-Quads line of the quad). An
# entity's lines differ from one article to the next only by the graph, and most entities recur,
# unchanged, in many articles: their triples are written once per process and each article only
# appends its graph. The result is the N-Quads serialisation of `article_quads`, byte for byte,
# line for line.


@lru_cache(maxsize=_CACHE)
def _res_text(key: str) -> str:
    return str(_res(key))


@lru_cache(maxsize=1 << 14)  # each holds every triple of an entity: fewer than the terms
def _entity_triples(entity: Entity) -> tuple[str, ...]:
    return tuple([f"{s} {p} {o}" for s, p, o in _entity_terms(entity)])


def article_nquads(facts: ArticleFacts, source_text: str | None = None) -> tuple[bytes, int]:
    """``article_quads(facts, source_text)`` as N-Quads bytes, and how many quads: the same
    bytes ``pyoxigraph.serialize(article_quads(...), format=RdfFormat.N_QUADS)`` gives."""
    graph = NamedNode(iris.source(facts.source_id))
    tail = f" {graph} .\n"
    lines = [f"{s} {p} {o}{tail}" for s, p, o in _head_terms(facts, graph)]
    mentions = f"{graph} {N.mentions} "
    for entity in facts.entities:
        lines.append(mentions + _res_text(entity.key) + tail)
        lines.extend([t + tail for t in _entity_triples(entity)])
    for event in facts.events:
        lines.extend([f"{s} {p} {o}{tail}" for s, p, o in _event_terms(event, facts.source_id, source_text)])
    unique = dict.fromkeys(lines)
    return "".join(unique).encode(), len(unique)
