"""`shilu export`: the store as an RDF file, byte-identical for identical input.

Quads are sorted before serialising (the store's own order follows internal ids), and Turtle,
TriG and JSON-LD are written with the project's prefixes.
"""

from __future__ import annotations

from typing import BinaryIO

import pyoxigraph
from pyoxigraph import RdfFormat

from .rdf import PREFIXES

__all__ = ["FORMATS", "export"]

FORMATS: dict[str, RdfFormat] = {
    "turtle": RdfFormat.TURTLE,
    "trig": RdfFormat.TRIG,
    "nquads": RdfFormat.N_QUADS,
    "ntriples": RdfFormat.N_TRIPLES,
    "jsonld": RdfFormat.JSON_LD,
    "rdfxml": RdfFormat.RDF_XML,
}


def _term_key(term) -> tuple:
    if isinstance(term, pyoxigraph.Literal):
        return (2, term.value, term.language or "", term.datatype.value if term.datatype else "")
    return (0 if isinstance(term, pyoxigraph.NamedNode) else 1, term.value)


def export(store: pyoxigraph.Store, fmt: str, output: BinaryIO | str | None = None) -> bytes | None:
    """Serialise ``store``: datasets (trig, nquads, jsonld) keep the named graphs; the triple
    formats (turtle, ntriples, rdfxml) write their union, each triple once."""
    rdf_format = FORMATS[fmt]
    if rdf_format.supports_datasets:
        quads = sorted(store, key=lambda q: (_term_key(q.graph_name), _term_key(q.subject),
                                             _term_key(q.predicate), _term_key(q.object)))
        data = quads
    else:
        triples = {q.triple for q in store}
        data = sorted(triples, key=lambda t: (_term_key(t.subject), _term_key(t.predicate), _term_key(t.object)))
    prefixes = PREFIXES if fmt in ("turtle", "trig", "rdfxml", "jsonld") else None
    return pyoxigraph.serialize(data, output, rdf_format, prefixes=prefixes)
