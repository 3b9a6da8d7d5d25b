"""The shilu HTTP server: a read-only SPARQL 1.1 endpoint and a linked-data view of the graph.

Routes
------

``/`` (GET)
    The query page for people: a SPARQL editor (PREFIX lines and an example filled in), the
    named queries of ``shilu.queries`` as examples, results as a table whose resources link to
    their pages; CONSTRUCT / DESCRIBE results shown as Turtle with download links.  Plain HTML
    and one small script (``/static/query.js``, no CDN); ``?query=`` fills the editor and runs.

``/sparql`` (GET, POST, OPTIONS)
    SPARQL 1.1 Protocol query operation: ``GET ?query=``, ``POST`` with
    ``application/x-www-form-urlencoded`` (``query=``) or ``POST`` with
    ``application/sparql-query`` (the body is the query).  ``default-graph-uri`` /
    ``named-graph-uri`` select the dataset; when neither is given and the query has no
    ``FROM`` / ``FROM NAMED`` clause, the default graph is the union of all graphs
    (``use_default_graph_as_union=True``).  ``GET /sparql`` without ``query`` returns the
    SPARQL 1.1 Service Description of the endpoint.

``/resource/NAME`` (GET)
    The thing ``https://w3id.org/shilu/resource/NAME``, content-negotiated: HTML for browsers
    (labels in both scripts, types, aliases, its events as a dated list with roles and the
    evidence sentence and article of each, its other statements, the statements that link to
    it), RDF for programs (Turtle when ``Accept`` states no preference; also N-Triples,
    JSON-LD, RDF/XML, TriG, N-Quads, N3; ``?format=`` overrides ``Accept``).  The RDF is the
    resource's concise bounded description: its own statements, those of the events it takes
    part in and of their evidence (selectors included), each triple once however many article
    graphs state it.  ``NAME`` may be percent-encoded or not, in either script (the key is its
    OpenCC t2s form, so ``/resource/遼朝`` is ``res:辽朝``; names that are not keys, such as
    categories, are also tried as written); event IRIs have slashes
    (``/resource/event/Capture/金朝/大定府/1122``) and an encoded slash (``%2F``) stays inside
    its name.  Unknown names answer 404 (an HTML page listing things labelled so, for
    browsers).  Answers are 200 at this URL (``Vary: Accept``) with a ``Content-Location``
    naming the fixed-format URL below; there is no 303 step, because the served IRIs live at
    w3id.org, not here, and every client gets its representation in one request.

``/page/NAME``, ``/data/NAME.EXT`` (GET)
    The same without negotiation (DBpedia style): ``/page/`` is always HTML, ``/data/`` is the
    RDF in the format of the extension (``ttl``, ``nt``, ``jsonld``, ``rdf``, ``trig``,
    ``nq``, ``n3``), for clients that cannot send ``Accept``.

``/source/ID`` (GET)
    An article (``https://w3id.org/shilu/source/ID``, also the name of its graph), negotiated
    as ``/resource/``.

``/ontology`` (GET)
    ``ontology/shilu.ttl`` (package data): for browsers a page listing classes and properties
    with their labels and comments (``#Capture`` anchors, which resource pages link to); Turtle
    (the file as written) and the other RDF formats for programs.

``/.well-known/void``, ``/void`` (GET)
    VoID description: ``void:Dataset`` with the SPARQL endpoint, ``void:uriSpace``,
    vocabularies, distinct triple / subject / object counts, class and property partitions,
    computed once per store generation.

``/rdf-graphs/service?graph=IRI`` or ``?default`` (GET, HEAD, PUT, POST, DELETE)
    SPARQL 1.1 Graph Store HTTP Protocol: GET a graph (Turtle by default, negotiated as
    CONSTRUCT results; 404 for an unknown graph); PUT replaces it, POST merges into it (the
    body in a triple format named by ``Content-Type``; 201 when the graph is new, else 204),
    DELETE drops it (204, or 404).  ``default`` is the store's own default graph, not the
    union.  Writes are refused with 403 unless the server runs with ``--allow-update``
    (``allow_update=True``), and then need ``Authorization: Bearer <token>`` (401 otherwise).

SPARQL Update and writes
    Off by default.  With ``allow_update`` the ``/sparql`` endpoint also takes the SPARQL 1.1
    Protocol update operation (``POST`` with ``application/sparql-update``, or a form with
    ``update=``), each with the bearer token.  The current store generation is then opened
    read-write (so one server process only); updates write into that generation and are
    not part of the corpus: the next ``shilu build`` publishes a new generation (which the
    server then follows) whose article graphs are rebuilt from the articles, so changes to
    them are lost (an incremental build starts from a copy of the previous generation, so
    graphs of their own may survive it; do not rely on that).  After each write the response cache of the generation is dropped and its
    ETags change.

``/health`` (GET)
    ``{"status": "ok", "graphs": N, "generation": "gen-NNNNNN"}``.

``/static/NAME``
    The style sheet and the script of the pages, from a fixed table (nothing on disk is read).

Linked-data paths are split on the raw request path and every segment is checked (no empty,
``.`` or ``..`` segment, no control characters, UTF-8): a name is only ever a key looked up in
the store, never a file path.  Every literal on every page is HTML-escaped, and pages are sent
with a Content-Security-Policy that allows no inline script.  Links on pages point at this
server (``/resource/…``, ``/source/…``, ``/ontology#…``), not at the w3id.org IRIs.

Every response carries ``Access-Control-Allow-Origin: *`` and ``X-Content-Type-Options:
nosniff``; CORS preflights (``OPTIONS`` with ``Access-Control-Request-Method``) are answered
for every route (:class:`CommonHeaders`).

SPARQL result formats are chosen by the ``format=`` parameter if given (a short name such as
``json``, ``xml``, ``csv``, ``tsv``, ``turtle``, ``nt``, ``rdfxml``, ``jsonld``, ``trig``,
``nquads``, ``n3``, or a media type), otherwise by the ``Accept`` header (q-values and
wildcards honoured; no or empty header means the default).  ``SELECT`` / ``ASK``: SPARQL
results JSON (default), XML, CSV, TSV.  ``CONSTRUCT`` / ``DESCRIBE``: Turtle (default),
N-Triples, RDF/XML, JSON-LD, TriG, N-Quads, N3 (the dataset formats put the triples in the
default graph).

Status codes of ``/sparql``
---------------------------

====  ==========================================================================
200   success
304   a conditional GET (``If-None-Match`` / ``If-Modified-Since``) for a result the client
      already has from the current store generation
204   an update succeeded (only with ``allow_update``)
400   malformed query or update (the parser's message), missing ``query`` on POST, repeated
      ``query``, bad ``default-graph-uri`` / ``named-graph-uri``, undecodable body
401   an update without ``Authorization: Bearer <token>`` or with the wrong token
403   SPARQL Update of any kind (``update=``, ``application/sparql-update``) when the app
      was not created with ``allow_update=True`` (the default: read-only), and update syntax
      sent as a query; also ``SERVICE`` (federated query) unless the app was created with
      ``allow_service=True``
405   an update sent with GET
406   no result format satisfies ``Accept`` / ``format=`` for this query form
413   request body (or query text) larger than ``max_body``; or a result with more than
      ``max_rows`` solutions / triples ("result exceeds N rows; add LIMIT") or larger than
      ``max_result_bytes`` — results are never silently truncated
415   POST with a content type other than the three above
503   the query ran longer than ``query_timeout`` seconds
500   any other error while evaluating the query
====  ==========================================================================

Execution
---------

``/sparql`` is answered by a plain ASGI handler (:class:`SparqlEndpoint`) that the app calls
before Starlette's middleware and routing, which cost more per request than evaluating a small
query; it sets the CORS and ``nosniff`` headers itself.  Percent-decoding the URL, scanning the
query text and negotiating the format are remembered for the texts clients repeat.  Under
uvicorn (:func:`serve`) each response's head and body leave in one write (:func:`_http_protocol`).

Pyoxigraph has no query timeout, so a query runs (and its results are serialized) in a
worker thread with a wall-clock deadline; pyoxigraph releases the GIL while evaluating, so
several readers run in parallel.  The exception: a request whose evaluation already took less
than 2 ms in a worker thread, on the same store generation (same ETag), is evaluated on the
event loop thread the next times, because the hand-off to a thread and back costs about as
much as evaluating it and the store does not change within a generation.  Every other query —
the first of its kind, a slow one, a volatile or federated one — runs in a thread with the
deadline.  SELECT as JSON or CSV and all graph results are written by
pyoxigraph's own serializer in one call into a sink that checks the deadline and a byte cap
every 8 KiB, and the rows are counted in the output afterwards (one crossing between Python and
Rust per 8 KiB, not per solution: that is what keeps concurrent queries from queueing on the
GIL); SELECT as XML or TSV reads the solutions one at a time, checking after each.  A single
step of evaluation that takes longer than the deadline (for example sorting a huge
intermediate result before the first row) cannot be interrupted: the request still answers 503
shortly after the deadline, but the worker thread runs on until that step finishes and then
stops at its next check.

Pyoxigraph exposes no SPARQL parser, so a few decisions look at the query text (with strings,
IRIs and comments blanked out): whether it has ``FROM`` / ``FROM NAMED`` (then the union
default graph is not imposed, because pyoxigraph would ignore the clauses), whether it uses
``SERVICE``, whether it calls a function whose value changes between evaluations (``NOW``,
``RAND``, ``UUID``, ``STRUUID``, ``BNODE``: then it is not cached), and — only for text that
failed to parse as a query — whether it is an update.

Store generations and caching
-----------------------------

The store is held by a :class:`~shilu.graph.store_handle.StoreHandle` (``app.state.store``)
given either a shilu store directory (``DIR/current -> gen-NNNNNN``) or a plain Oxigraph
directory.  For a store directory it follows ``current``: at most once a second it reads the
link, and when ``shilu build`` has published a new generation it opens it in the background and
swaps it in; each request takes its snapshot once, so requests in flight finish on the
generation they started with and none fails during the switch.

The store does not change within a generation, so responses (SPARQL results, resource pages and
descriptions, VoID) are cached per generation (``cache_bytes``, LRU) and carry an ``ETag`` (the
generation and the request) and ``Last-Modified`` (when the generation was built), with
``Cache-Control: no-cache``: clients revalidate and get ``304 Not Modified`` until the next
build.
"""

from __future__ import annotations

import asyncio
import collections
import csv
import datetime
import email.utils
import functools
import hashlib
import hmac
import io
import json
import logging
import os
import queue
import re
import threading
import time
import traceback
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from types import MappingProxyType
from typing import Any
from urllib.parse import parse_qsl, quote, unquote_to_bytes

import anyio
import anyio.to_thread
import pyoxigraph as ox
from starlette.applications import Starlette
from starlette.datastructures import URL, Headers, MutableHeaders
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from ..extract.script import key as name_key
from ..extract.script import to_hans, to_hant
from . import iris, pages
from .queries import list_queries
from .store_handle import Snapshot, StoreHandle

__all__ = ["create_app", "serve", "StoreHandle", "LINKED_DATA_FORMATS", "Reader", "load_ontology"]

log = logging.getLogger(__name__)

#: Prefixes declared in Turtle / TriG / N3 output (see docs/model.md).
PREFIXES = MappingProxyType(
    {
        "shilu": "https://w3id.org/shilu/ontology#",
        "res": "https://w3id.org/shilu/resource/",
        "src": "https://w3id.org/shilu/source/",
        "oa": "http://www.w3.org/ns/oa#",
        "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
        "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
        "xsd": "http://www.w3.org/2001/XMLSchema#",
        "skos": "http://www.w3.org/2004/02/skos/core#",
        "foaf": "http://xmlns.com/foaf/0.1/",
        "dcterms": "http://purl.org/dc/terms/",
        "prov": "http://www.w3.org/ns/prov#",
        "sd": "http://www.w3.org/ns/sparql-service-description#",
    }
)

_SD = "http://www.w3.org/ns/sparql-service-description#"
_RDF_TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
_XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
_ITS = "http://www.w3.org/2005/11/its"

# Seconds the request waits past the deadline for the worker to notice it before answering 503
# on its own (the worker is then abandoned; see the module docstring).
_DEADLINE_GRACE = 0.5


# --------------------------------------------------------------------------------------------
# Errors


class HTTPError(Exception):
    """An error answered as ``status`` with ``message`` as a text/plain body."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def _timeout_error(limit: float) -> HTTPError:
    return HTTPError(503, f"query exceeded the time limit of {limit:g} s; simplify it or add LIMIT")


# --------------------------------------------------------------------------------------------
# Formats and content negotiation


@dataclass(frozen=True, slots=True)
class _Format:
    name: str  #: short name, for ``format=``
    content_type: str  #: the Content-Type answered
    media_types: tuple[str, ...]  #: media types it satisfies in ``Accept``, best first
    aliases: tuple[str, ...] = ()  #: other ``format=`` names
    rdf: ox.RdfFormat | None = None
    results: ox.QueryResultsFormat | None = None

    @property
    def iri(self) -> str:
        fmt = self.rdf if self.rdf is not None else self.results
        assert fmt is not None
        return fmt.iri


_JSON = _Format("json", "application/sparql-results+json",
                ("application/sparql-results+json", "application/json"),
                results=ox.QueryResultsFormat.JSON)
_XML = _Format("xml", "application/sparql-results+xml",
               ("application/sparql-results+xml", "application/xml", "text/xml"),
               results=ox.QueryResultsFormat.XML)
_CSV = _Format("csv", "text/csv; charset=utf-8", ("text/csv",),
               results=ox.QueryResultsFormat.CSV)
_TSV = _Format("tsv", "text/tab-separated-values; charset=utf-8",
               ("text/tab-separated-values",), results=ox.QueryResultsFormat.TSV)

#: Formats for SELECT and ASK, in server preference order (the first is the default).
RESULT_FORMATS: tuple[_Format, ...] = (_JSON, _XML, _CSV, _TSV)

#: Formats for CONSTRUCT, DESCRIBE and the service description, in server preference order.
GRAPH_FORMATS: tuple[_Format, ...] = (
    _Format("turtle", "text/turtle; charset=utf-8", ("text/turtle", "application/x-turtle"),
            ("ttl",), rdf=ox.RdfFormat.TURTLE),
    _Format("ntriples", "application/n-triples; charset=utf-8",
            ("application/n-triples", "text/plain"), ("nt", "n-triples"),
            rdf=ox.RdfFormat.N_TRIPLES),
    _Format("rdfxml", "application/rdf+xml", ("application/rdf+xml", "application/xml", "text/xml"),
            ("xml", "rdf", "rdf+xml"), rdf=ox.RdfFormat.RDF_XML),
    _Format("jsonld", "application/ld+json", ("application/ld+json", "application/json"),
            ("json-ld", "json"), rdf=ox.RdfFormat.JSON_LD),
    _Format("trig", "application/trig; charset=utf-8", ("application/trig",),
            rdf=ox.RdfFormat.TRIG),
    _Format("nquads", "application/n-quads; charset=utf-8", ("application/n-quads",),
            ("nq", "n-quads"), rdf=ox.RdfFormat.N_QUADS),
    _Format("n3", "text/n3; charset=utf-8", ("text/n3",), rdf=ox.RdfFormat.N3),
)


def _parse_accept(header: str) -> list[tuple[str, str, float, int]]:
    """``Accept`` as (type, subtype, q, position) media ranges; malformed ranges are skipped."""
    ranges = []
    for position, part in enumerate(header.split(",")):
        media, *params = (p.strip() for p in part.split(";"))
        type_, _, subtype = media.lower().partition("/")
        if not type_ or not subtype or (type_ == "*" and subtype != "*"):
            continue
        q = 1.0
        for param in params:
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    q = min(max(float(value), 0.0), 1.0)
                except ValueError:
                    q = 0.0
        ranges.append((type_, subtype, q, position))
    return ranges


def negotiate(
    formats: Sequence[_Format], accept: str | None, format_param: str | None, what: str
) -> _Format:
    """Pick the format for a response of kind ``what`` (used in the 406 message).

    ``format_param`` (a short name or a media type) wins over ``accept``; without either the
    first of ``formats`` is used.  Among the formats ``Accept`` allows, the highest q wins,
    then the most specific matching range, then the client's order, then a match on a
    format's own media type over one on an alias (``text/*`` means CSV, not XML as
    ``text/xml``), then our order.

    :raises HTTPError: 406 when nothing acceptable is available.
    """
    if format_param:
        wanted = format_param.strip().lower()
        if "/" not in wanted:
            for fmt in formats:
                if wanted == fmt.name or wanted in fmt.aliases:
                    return fmt
            raise HTTPError(406, f"format={format_param} is not available for {what}; "
                                 f"use one of {', '.join(f.name for f in formats)}")
        accept = wanted
    if not accept or not accept.strip():
        return formats[0]
    ranges = _parse_accept(accept)
    best: tuple[Any, ...] | None = None
    chosen: _Format | None = None
    for server_rank, fmt in enumerate(formats):
        for alias_rank, media in enumerate(fmt.media_types):
            type_, _, subtype = media.partition("/")
            # The most specific range matching this media type sets its quality.
            match = None
            for r_type, r_sub, q, position in ranges:
                specificity = (2 if (r_type, r_sub) == (type_, subtype)
                               else 1 if (r_type, r_sub) == (type_, "*")
                               else 0 if (r_type, r_sub) == ("*", "*") else -1)
                if specificity >= 0 and (match is None or specificity > match[1]):
                    match = (q, specificity, -position)
            if match is None or match[0] <= 0:
                continue
            key = (*match, alias_rank == 0, -server_rank)
            if best is None or key > best:
                best, chosen = key, fmt
    if chosen is None:
        offered = ", ".join(dict.fromkeys(m for f in formats for m in f.media_types))
        raise HTTPError(406, f"cannot answer {what} in any format acceptable to "
                             f"'Accept: {accept}'; available: {offered}")
    return chosen


@functools.lru_cache(maxsize=256)
def _negotiate_cached(graph: bool, accept: str | None, format_param: str | None,
                      what: str) -> _Format:
    return negotiate(GRAPH_FORMATS if graph else RESULT_FORMATS, accept, format_param, what)


def _negotiate_query(graph: bool, accept: str | None, format_param: str | None,
                     what: str) -> _Format:
    """:func:`negotiate` for query results (graph results if ``graph``), remembered for the
    few ``Accept`` headers clients actually send."""
    if len(accept or "") + len(format_param or "") > 512:
        return negotiate(GRAPH_FORMATS if graph else RESULT_FORMATS, accept, format_param, what)
    return _negotiate_cached(graph, accept, format_param, what)


# --------------------------------------------------------------------------------------------
# Serializing SELECT results.  The solutions are materialised (so that the row cap and the
# deadline can be checked while reading them), and pyoxigraph can only serialize its own lazy
# iterator, so these write the four W3C formats the way pyoxigraph does.

Row = tuple[Any, ...]  # one solution: a term or None per variable


def _json_term(term: Any) -> dict[str, Any]:
    if isinstance(term, ox.NamedNode):
        return {"type": "uri", "value": term.value}
    if isinstance(term, ox.BlankNode):
        return {"type": "bnode", "value": term.value}
    if isinstance(term, ox.Literal):
        out: dict[str, Any] = {"type": "literal", "value": term.value}
        if term.language:
            out["xml:lang"] = term.language
            if term.direction is not None:
                out["its:dir"] = str(term.direction)
        elif term.datatype.value != _XSD_STRING:
            out["datatype"] = term.datatype.value
        return out
    if isinstance(term, ox.Triple):
        return {"type": "triple", "value": {"subject": _json_term(term.subject),
                                            "predicate": _json_term(term.predicate),
                                            "object": _json_term(term.object)}}
    raise TypeError(f"unexpected term {term!r}")


def _results_json(variables: list[str], rows: list[Row]) -> bytes:
    bindings = [{v: _json_term(t) for v, t in zip(variables, row) if t is not None}
                for row in rows]
    doc = {"head": {"vars": variables}, "results": {"bindings": bindings}}
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode()


_XML_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;",
                              "'": "&apos;", "\r": "&#13;"})


def _xml_text(text: str) -> str:
    # As pyoxigraph escapes, plus CR (which an XML parser would otherwise turn into LF).
    return text.translate(_XML_ESCAPES)


def _xml_quoted(text: str) -> str:
    return f'"{_xml_text(text)}"'


def _xml_term(term: Any) -> str:
    if isinstance(term, ox.NamedNode):
        return f"<uri>{_xml_text(term.value)}</uri>"
    if isinstance(term, ox.BlankNode):
        return f"<bnode>{_xml_text(term.value)}</bnode>"
    if isinstance(term, ox.Literal):
        if term.language:
            attrs = f" xml:lang={_xml_quoted(term.language)}"
            if term.direction is not None:
                attrs += (f' its:dir="{term.direction}" xmlns:its="{_ITS}" its:version="2.0"')
        elif term.datatype.value != _XSD_STRING:
            attrs = f" datatype={_xml_quoted(term.datatype.value)}"
        else:
            attrs = ""
        return f"<literal{attrs}>{_xml_text(term.value)}</literal>"
    if isinstance(term, ox.Triple):
        return (f"<triple><subject>{_xml_term(term.subject)}</subject>"
                f"<predicate>{_xml_term(term.predicate)}</predicate>"
                f"<object>{_xml_term(term.object)}</object></triple>")
    raise TypeError(f"unexpected term {term!r}")


def _results_xml(variables: list[str], rows: list[Row]) -> bytes:
    out = ['<?xml version="1.0"?><sparql xmlns="http://www.w3.org/2005/sparql-results#"><head>']
    out.extend(f"<variable name={_xml_quoted(v)}/>" for v in variables)
    out.append("</head><results>")
    for row in rows:
        out.append("<result>")
        out.extend(f"<binding name={_xml_quoted(v)}>{_xml_term(t)}</binding>"
                   for v, t in zip(variables, row) if t is not None)
        out.append("</result>")
    out.append("</results></sparql>")
    return "".join(out).encode()


def _csv_term(term: Any) -> str:
    if term is None:
        return ""
    if isinstance(term, ox.BlankNode):
        return f"_:{term.value}"
    if isinstance(term, ox.Triple):
        return " ".join(_csv_term(t) for t in (term.subject, term.predicate, term.object))
    return term.value


def _results_csv(variables: list[str], rows: list[Row]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(variables)
    writer.writerows([_csv_term(t) for t in row] for row in rows)
    return buffer.getvalue().encode()


def _results_tsv(variables: list[str], rows: list[Row]) -> bytes:
    # str() of a pyoxigraph term is its N-Triples / SPARQL form, tabs and newlines escaped.
    lines = ["\t".join(f"?{v}" for v in variables)]
    lines.extend("\t".join("" if t is None else str(t) for t in row) for row in rows)
    return ("\n".join(lines) + "\n").encode()


_SELECT_WRITERS: Mapping[str, Callable[[list[str], list[Row]], bytes]] = MappingProxyType({
    "json": _results_json, "xml": _results_xml, "csv": _results_csv, "tsv": _results_tsv,
})


def _serialize_graph(triples: Iterable[ox.Triple], fmt: _Format) -> bytes:
    assert fmt.rdf is not None
    items: Iterable[Any] = triples
    if fmt.rdf.supports_datasets:
        items = [ox.Quad(t.subject, t.predicate, t.object, ox.DefaultGraph()) for t in triples]
    prefixes = dict(PREFIXES) if fmt.rdf in (ox.RdfFormat.TURTLE, ox.RdfFormat.TRIG,
                                             ox.RdfFormat.N3) else None
    return ox.serialize(items, format=fmt.rdf, prefixes=prefixes)


# --------------------------------------------------------------------------------------------
# Query text checks.  Pyoxigraph exposes no parser, so the few decisions that must be taken
# before evaluation look at the query text with strings, IRIs and comments blanked out.

_LEXICAL = re.compile(
    r"""(?P<string>'''(?:[^'\\]|\\.|'(?!''))*'''|\"\"\"(?:[^"\\]|\\.|"(?!""))*\"\"\"
                   |'(?:[^'\\\n\r]|\\.)*'|"(?:[^"\\\n\r]|\\.)*")
       |(?P<iri><[^<>"{}|^`\\\x00-\x20]*>)
       |(?P<comment>\#[^\n\r]*)""",
    re.VERBOSE,
)
_NOT_AFTER = r"(?<![\w?$:.\-])"
_UPDATE_START = re.compile(
    r"\s*(?:(?:BASE\s*<>|PREFIX\s*[^\s:]*:\s*<>)\s*)*"
    r"(?:INSERT|DELETE|LOAD|CLEAR|DROP|CREATE|ADD|MOVE|COPY|WITH)\b",
    re.IGNORECASE,
)
_DATASET_CLAUSE = re.compile(_NOT_AFTER + r"FROM\s+(?:NAMED\s+)?(?:<>|[^\s:<>{}()]*:)",
                             re.IGNORECASE)
_SERVICE_CLAUSE = re.compile(
    _NOT_AFTER + r"SERVICE\s+(?:SILENT\s+)?(?:<>|[?$]|[^\s:<>{}()]*:)", re.IGNORECASE)


def _blank_lexical(query: str) -> str:
    def blank(match: re.Match[str]) -> str:
        return '""' if match["string"] else "<>" if match["iri"] else " "

    return _LEXICAL.sub(blank, query)


def looks_like_update(text: str) -> bool:
    """True if ``text`` starts (after its prologue) with a SPARQL Update keyword."""
    return _UPDATE_START.match(_blank_lexical(text)) is not None


# Functions whose results differ between two evaluations: such queries are never cached.
_VOLATILE = re.compile(_NOT_AFTER + r"(?:NOW|RAND|UUID|STRUUID|BNODE)\s*\(", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class _QueryText:
    """What the server needs to know about a query's text before evaluating it."""

    service: bool  #: it has a ``SERVICE`` clause
    dataset: bool  #: it has ``FROM`` / ``FROM NAMED`` clauses
    volatile: bool  #: it calls ``NOW``, ``RAND``, ``UUID``, ``STRUUID`` or ``BNODE``


def _scan(query: str) -> _QueryText:
    blanked = _blank_lexical(query)
    return _QueryText(service=_SERVICE_CLAUSE.search(blanked) is not None,
                      dataset=_DATASET_CLAUSE.search(blanked) is not None,
                      volatile=_VOLATILE.search(blanked) is not None)


_scan_cached = functools.lru_cache(maxsize=1024)(_scan)


def query_text(query: str) -> _QueryText:
    """:func:`_scan` of ``query``, remembered for the last 1024 short queries (the same query
    text is typically sent again and again; scanning costs tens of microseconds)."""
    return _scan_cached(query) if len(query) <= 8192 else _scan(query)


# --------------------------------------------------------------------------------------------
# Running a query (in a worker thread)


@dataclass(frozen=True, slots=True)
class _QueryRequest:
    query: str
    default_graphs: tuple[str, ...]
    named_graphs: tuple[str, ...]
    format_param: str | None
    accept: str | None


_UNION = MappingProxyType({"use_default_graph_as_union": True})


def _dataset_arguments(req: _QueryRequest, text: _QueryText) -> Mapping[str, Any]:
    if req.default_graphs or req.named_graphs:
        try:
            return {"default_graph": [ox.NamedNode(g) for g in req.default_graphs],
                    "named_graphs": [ox.NamedNode(g) for g in req.named_graphs]}
        except ValueError as e:
            raise HTTPError(400, f"invalid default-graph-uri / named-graph-uri: {e}") from e
    if text.dataset:
        return {}  # the query's own FROM / FROM NAMED clauses define the dataset
    return _UNION


def _collect(items: Iterable[Any], deadline: float, limit: float, max_rows: int,
             what: str) -> list[Any]:
    out = []
    for item in items:
        if time.monotonic() > deadline:
            raise _timeout_error(limit)
        if len(out) >= max_rows:
            raise HTTPError(413, f"result exceeds {max_rows} {what}; add LIMIT")
        out.append(item)
    if time.monotonic() > deadline:
        raise _timeout_error(limit)
    return out


class _CappedSink:
    """A binary file for pyoxigraph's serializers that gives up past a size or a deadline.

    Pyoxigraph writes through an 8 KiB buffer, so the checks run once per 8 KiB of output (and
    once at the end); raising here stops the serialization (and the evaluation feeding it).
    """

    __slots__ = ("chunks", "size", "max_bytes", "deadline", "limit")

    def __init__(self, max_bytes: int, deadline: float, limit: float) -> None:
        self.chunks: list[bytes] = []
        self.size = 0
        self.max_bytes = max_bytes
        self.deadline = deadline
        self.limit = limit

    def write(self, data: bytes) -> int:
        self.size += len(data)
        if self.size > self.max_bytes:
            raise HTTPError(413, f"result larger than {self.max_bytes} bytes; add LIMIT")
        if time.monotonic() > self.deadline:
            raise _timeout_error(self.limit)
        self.chunks.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        pass

    def getvalue(self) -> bytes:
        return b"".join(self.chunks)


def _count_json_rows(body: bytes) -> int:
    return len(json.loads(body)["results"]["bindings"])


def _count_csv_rows(body: bytes) -> int:
    return sum(1 for _ in csv.reader(io.StringIO(body.decode(), newline=""))) - 1


# SELECT formats pyoxigraph writes exactly as ours would (see the tests): name -> (the fewest
# bytes a row takes, a C-speed way to count the rows of the output).  A JSON row is at least
# "{}," and a CSV row at least CRLF, so a body shorter than that many bytes per row cannot hold
# too many rows and is not counted.  Pyoxigraph's XML loses CR characters and its TSV
# abbreviates numbers whatever their datatype, so those two stay with the writers above.
_NATIVE_SELECT: Mapping[str, tuple[int, Callable[[bytes], int]]] = MappingProxyType({
    "json": (3, _count_json_rows), "csv": (2, _count_csv_rows),
})


def _execute(snapshot: Snapshot, req: _QueryRequest, *, deadline: float, limit: float,
             max_rows: int, allow_service: bool, max_bytes: int = 128 << 20,
             known_quick: bool = False) -> tuple[bytes, _Format]:
    """Evaluate and serialize one query in the calling (worker) thread.

    Returns the body and its format; every failure is raised as a fresh :class:`HTTPError`
    without traceback or context.  Pyoxigraph's result iterators must be dropped on the thread
    that created them, and an exception escaping with its traceback would keep them alive (in
    the frames) until the event loop thread dropped it.
    """
    try:
        return _evaluate(snapshot, req, deadline=deadline, limit=limit, max_rows=max_rows,
                         allow_service=allow_service, max_bytes=max_bytes,
                         known_quick=known_quick)
    except HTTPError as e:
        status, message = e.status, e.message
    except Exception as e:  # evaluation errors from Oxigraph (OSError, ValueError, ...)
        # Formatted here, not log.exception: a LogRecord kept by a handler would hold the frames.
        log.error("query failed: %s\n%s", req.query, traceback.format_exc())
        status, message = 500, f"query evaluation failed: {e}"
    # Outside the handler: the original exception, its frames and their locals are gone.
    raise HTTPError(status, message)


def _serialize_into(result: Any, fmt: Any, max_bytes: int, deadline: float, limit: float,
                    known_quick: bool) -> bytes:
    if known_quick:
        # This very request already ran to completion, quickly, on this unchanging store:
        # the result is the same small one, so pyoxigraph writes it straight to bytes.
        body = result.serialize(format=fmt)
        if len(body) > max_bytes:
            raise HTTPError(413, f"result larger than {max_bytes} bytes; add LIMIT")
        if time.monotonic() > deadline:
            raise _timeout_error(limit)
        return body
    sink = _CappedSink(max_bytes, deadline, limit)
    result.serialize(sink, format=fmt)
    return sink.getvalue()


def _evaluate(snapshot: Snapshot, req: _QueryRequest, *, deadline: float, limit: float,
              max_rows: int, allow_service: bool, max_bytes: int,
              known_quick: bool = False) -> tuple[bytes, _Format]:
    """Evaluate and serialize.

    Where pyoxigraph's own serializer is exact (SELECT as JSON or CSV; graphs as N-Triples) it
    writes the whole result in one call into a :class:`_CappedSink`, and the rows are counted
    in the output afterwards: one crossing between Python and Rust per 8 KiB instead of one per
    solution, which is what lets several queries run in parallel (the GIL is released while
    Oxigraph evaluates).  Other formats read the solutions one at a time (:func:`_collect`).
    """
    text = query_text(req.query)
    if not allow_service and text.service:
        raise HTTPError(403, "SERVICE (federated query) is disabled on this endpoint")
    kwargs = _dataset_arguments(req, text)
    try:
        result = snapshot.store.query(req.query, **kwargs)
    except SyntaxError as e:
        if looks_like_update(req.query):
            raise HTTPError(403, "SPARQL Update is not allowed: this endpoint is read-only") from e
        raise HTTPError(400, f"malformed query: {e}") from e

    if isinstance(result, ox.QueryBoolean):
        fmt = _negotiate_query(False, req.accept, req.format_param, "ASK results")
        return result.serialize(format=fmt.results), fmt
    if isinstance(result, ox.QuerySolutions):
        fmt = _negotiate_query(False, req.accept, req.format_param, "SELECT results")
        native = _NATIVE_SELECT.get(fmt.name)
        if native is not None:
            body = _serialize_into(result, fmt.results, max_bytes, deadline, limit, known_quick)
            row_bytes, count = native
            if len(body) > row_bytes * max_rows and count(body) > max_rows:
                raise HTTPError(413, f"result exceeds {max_rows} rows; add LIMIT")
            return body, fmt
        variables = [v.value for v in result.variables]
        rows = _collect((tuple(s) for s in result), deadline, limit, max_rows, "rows")
        return _SELECT_WRITERS[fmt.name](variables, rows), fmt
    fmt = _negotiate_query(True, req.accept, req.format_param,
                           "CONSTRUCT/DESCRIBE results")
    body = _serialize_into(result, ox.RdfFormat.N_TRIPLES, max_bytes, deadline, limit,
                           known_quick)
    if body.count(b"\n") > max_rows:  # one triple a line
        raise HTTPError(413, f"result exceeds {max_rows} triples; add LIMIT")
    if fmt.rdf == ox.RdfFormat.N_TRIPLES:
        return body, fmt
    return _serialize_graph(ox.parse(body, format=ox.RdfFormat.N_TRIPLES), fmt), fmt


def _service_description(snapshot: Snapshot, endpoint: str, fmt: _Format,
                         update: bool = False) -> bytes:
    """The SPARQL 1.1 Service Description of this endpoint, in ``fmt``."""

    def sd(local: str) -> ox.NamedNode:
        return ox.NamedNode(_SD + local)

    service, dataset, default_graph = ox.BlankNode(), ox.BlankNode(), ox.BlankNode()
    triples = [
        ox.Triple(service, _RDF_TYPE, sd("Service")),
        ox.Triple(service, sd("endpoint"), ox.NamedNode(endpoint)),
        ox.Triple(service, sd("supportedLanguage"), sd("SPARQL11Query")),
        *([ox.Triple(service, sd("supportedLanguage"), sd("SPARQL11Update"))] if update else []),
        # Without a dataset in the request, the default graph is the union of all graphs.
        ox.Triple(service, sd("feature"), sd("UnionDefaultGraph")),
        ox.Triple(service, sd("defaultDataset"), dataset),
        ox.Triple(dataset, _RDF_TYPE, sd("Dataset")),
        ox.Triple(dataset, sd("defaultGraph"), default_graph),
        ox.Triple(default_graph, _RDF_TYPE, sd("Graph")),
    ]
    triples.extend(ox.Triple(service, sd("resultFormat"), ox.NamedNode(f.iri))
                   for f in (*RESULT_FORMATS, *GRAPH_FORMATS))
    for name in snapshot.graphs:
        if isinstance(name, ox.NamedNode):
            named = ox.BlankNode()
            triples += [ox.Triple(dataset, sd("namedGraph"), named),
                        ox.Triple(named, _RDF_TYPE, sd("NamedGraph")),
                        ox.Triple(named, sd("name"), name)]
    return _serialize_graph(triples, fmt)



# --------------------------------------------------------------------------------------------
# Vocabulary used by the linked-data pages

_RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
_RDFS = "http://www.w3.org/2000/01/rdf-schema#"
_OWL = "http://www.w3.org/2002/07/owl#"
_SKOS = "http://www.w3.org/2004/02/skos/core#"
_DCT = "http://purl.org/dc/terms/"
_OA = "http://www.w3.org/ns/oa#"
_FOAF = "http://xmlns.com/foaf/0.1/"
_VOID = "http://rdfs.org/ns/void#"
_XSD = "http://www.w3.org/2001/XMLSchema#"

_TYPE = _RDF + "type"
_VALUE = _RDF + "value"
_LABEL = _RDFS + "label"
_COMMENT = _RDFS + "comment"
_ALT_LABEL = _SKOS + "altLabel"
_TITLE = _DCT + "title"
_HAS_SOURCE = _OA + "hasSource"
_HAS_SELECTOR = _OA + "hasSelector"
_EVIDENCE = iris.ONTOLOGY + "evidence"
_YEAR = iris.ONTOLOGY + "year"
_START_YEAR = iris.ONTOLOGY + "startYear"
_DATE_PRECISION = iris.ONTOLOGY + "datePrecision"
_EVENT_CLASS = iris.ONTOLOGY + "Event"
_EVENT_NS = iris.RESOURCE + "event/"

#: Subjects listed per predicate under "Links to here" (the rest are counted).
INCOMING_LIMIT = 100


# --------------------------------------------------------------------------------------------
# The ontology, as served at /ontology and used to label pages (read once per process)


class Ontology:
    """``ontology/shilu.ttl``: its text, its triples, and what the pages need from it."""

    def __init__(self, turtle: bytes) -> None:
        self.turtle = turtle
        #: the triples in the order the file states them
        self.triples: list[ox.Triple] = list(ox.parse(turtle, format=ox.RdfFormat.TURTLE))
        self.store = ox.Store()  # in memory
        self.store.extend(ox.Quad(t.subject, t.predicate, t.object) for t in self.triples)
        #: position of each subject's first statement: terms are listed in the file's order
        self.order: dict[Any, int] = {}
        for t in self.triples:
            self.order.setdefault(t.subject, len(self.order))
        #: display label of every term: English, else zh-Hans, else any
        self.labels: dict[str, str] = {}
        ranked: dict[str, tuple[int, str]] = {}
        for q in self.store.quads_for_pattern(None, ox.NamedNode(_LABEL), None, None):
            if isinstance(q.subject, ox.NamedNode) and isinstance(q.object, ox.Literal):
                rank = {"en": 0, "zh-hans": 1}.get((q.object.language or "").lower(), 2)
                if q.subject.value not in ranked or rank < ranked[q.subject.value][0]:
                    ranked[q.subject.value] = (rank, q.object.value)
        self.labels = {iri: label for iri, (_, label) in ranked.items()}
        #: shilu:Event and its subclasses, transitively
        self.event_classes = frozenset(self._subclasses(_EVENT_CLASS))

    def _subclasses(self, root: str) -> set[str]:
        found, todo = {root}, [root]
        sub = ox.NamedNode(_RDFS + "subClassOf")
        while todo:
            for q in self.store.quads_for_pattern(None, sub, ox.NamedNode(todo.pop()), None):
                if isinstance(q.subject, ox.NamedNode) and q.subject.value not in found:
                    found.add(q.subject.value)
                    todo.append(q.subject.value)
        return found

    def page_model(self) -> tuple[list[tuple[str, list[object]]],
                                  list[tuple[str, list[pages.OntologyTerm]]]]:
        """(header statements, sections of terms) for :func:`pages.ontology_page`."""
        header: dict[str, list[object]] = {}
        for q in self.store.quads_for_pattern(ox.NamedNode(iris.ONTOLOGY.rstrip("#")),
                                              None, None, None):
            header.setdefault(q.predicate.value, []).append(q.object)
        sections = []
        for title, kind in (("Classes", "Class"), ("Object properties", "ObjectProperty"),
                            ("Datatype properties", "DatatypeProperty"),
                            ("Annotation properties", "AnnotationProperty")):
            terms = []
            for q in self.store.quads_for_pattern(None, ox.NamedNode(_TYPE),
                                                  ox.NamedNode(_OWL + kind), None):
                if isinstance(q.subject, ox.NamedNode):
                    terms.append(q.subject)
            terms.sort(key=lambda t: self.order.get(t, len(self.order)))
            sections.append((title, [self._term(t) for t in terms]))
        return list(header.items()), sections

    def _term(self, iri: ox.NamedNode) -> pages.OntologyTerm:
        term = pages.OntologyTerm(iri.value)
        relations: dict[str, list[object]] = {}
        skip = {_LABEL, _RDFS + "isDefinedBy"}
        for q in self.store.quads_for_pattern(iri, None, None, None):
            p = q.predicate.value
            if p == _TYPE:
                term.kinds.append(q.object.value)
            elif p == _LABEL and isinstance(q.object, ox.Literal):
                term.labels.append(q.object)
            elif p == _COMMENT and isinstance(q.object, ox.Literal):
                term.comments.append(q.object)
            elif p not in skip:
                relations.setdefault(pages.compact(p), []).append(q.object)
        term.relations = list(relations.items())
        return term


@functools.lru_cache(maxsize=1)
def load_ontology() -> Ontology:
    """The ontology shipped as ``shilu.ontology/shilu.ttl`` (package data)."""
    return Ontology(files("shilu.ontology").joinpath("shilu.ttl").read_bytes())


# --------------------------------------------------------------------------------------------
# Linked data: from a request path to an IRI, and from an IRI to its description


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def path_segments(scope: Mapping[str, Any], prefix: str, rest: str) -> list[str] | None:
    """The percent-decoded segments of the path after ``/prefix/``.

    The split is made on the raw path (``scope["raw_path"]``) when the server gives it, so an
    encoded slash (``%2F``) stays inside its segment (``/resource/AC%2FDC`` is one name, while
    ``/resource/event/Capture/…`` is several).  ``rest`` is the already-decoded remainder the
    router matched, used when the raw path does not line up with it.  None when the path names
    nothing: an empty, ``.`` or ``..`` segment (so no traversal whatever the encoding), a
    control character, or bytes that are not UTF-8.
    """
    parts = rest.split("/")
    raw = scope.get("raw_path")
    if raw:
        pieces = bytes(raw).split(b"?", 1)[0].split(b"/")
        try:
            decoded = [unquote_to_bytes(p).decode("utf-8") for p in pieces]
        except UnicodeDecodeError:
            return None
        for i, piece in enumerate(decoded):
            if piece == prefix and "/".join(decoded[i + 1:]) == rest:
                parts = decoded[i + 1:]
                break
    if not parts or any(p in ("", ".", "..") or _CONTROL.search(p) for p in parts):
        return None
    return parts


def candidate_iris(namespace: str, parts: Sequence[str]) -> list[str]:
    """The IRIs a path may name, best first.

    Things are keyed by the OpenCC t2s form of their name, so ``遼朝`` and ``辽朝`` both give
    ``res:辽朝`` (each segment of an event path likewise).  The name as written comes second, for
    IRIs minted from names that are not keys (categories, ``res:Category:虛構朝代``).  Source
    (article) IRIs are file names: only as written.
    """
    plain = namespace + "/".join(iris.segment(p) for p in parts)
    if namespace != iris.RESOURCE:
        return [plain]
    keyed = namespace + "/".join(iris.segment(name_key(p)) for p in parts)
    return list(dict.fromkeys([keyed, plain]))


class Reader:
    """Reads descriptions of resources from one store, over the union of all its graphs.

    A statement made by several articles is stored once per article graph; every method here
    returns it once.
    """

    def __init__(self, store: ox.Store, ontology: Ontology) -> None:
        self.store = store
        self.ontology = ontology
        self._events: dict[ox.NamedNode, bool] = {}

    def outgoing(self, subject: ox.NamedNode | ox.BlankNode) -> list[tuple[ox.NamedNode, Any]]:
        """(predicate, object) of ``subject``, once each, in store order."""
        return list(dict.fromkeys((q.predicate, q.object)
                                  for q in self.store.quads_for_pattern(subject, None, None, None)))

    def exists(self, iri: ox.NamedNode) -> bool:
        """True if ``iri`` is the subject or the object of any statement."""
        for pattern in ((iri, None, None, None), (None, None, iri, None)):
            for _ in self.store.quads_for_pattern(*pattern):
                return True
        return False

    def resolve(self, candidates: Iterable[str]) -> ox.NamedNode | None:
        """The first candidate IRI the store knows."""
        for candidate in candidates:
            try:
                node = ox.NamedNode(candidate)
            except ValueError:
                continue
            if self.exists(node):
                return node
        return None

    def is_event(self, node: Any) -> bool:
        """An event: minted under ``res:event/``, or typed with shilu:Event or a subclass."""
        if not isinstance(node, ox.NamedNode):
            return False
        known = self._events.get(node)
        if known is None:
            known = node.value.startswith(_EVENT_NS) or any(
                q.object.value in self.ontology.event_classes
                for q in self.store.quads_for_pattern(node, ox.NamedNode(_TYPE), None, None))
            self._events[node] = known
        return known

    def events_of(self, node: ox.NamedNode) -> list[ox.NamedNode]:
        """The events ``node`` takes part in (a subject linking to it that is an event)."""
        return list(dict.fromkeys(
            q.subject for q in self.store.quads_for_pattern(None, None, node, None)
            if q.subject != node and self.is_event(q.subject)))

    def label(self, iri: str) -> str | None:
        """How a page names ``iri``: ontology label, else rdfs:label (zh-Hans first), else title."""
        if iri in self.ontology.labels:
            return self.ontology.labels[iri]
        node = ox.NamedNode(iri)
        best: tuple[int, str] | None = None
        for q in self.store.quads_for_pattern(node, ox.NamedNode(_LABEL), None, None):
            if isinstance(q.object, ox.Literal):
                rank = {"zh-hans": 0, "zh": 1, "zh-hant": 2}.get(
                    (q.object.language or "").lower(), 3)
                if best is None or rank < best[0]:
                    best = (rank, q.object.value)
        if best is not None:
            return best[1]
        for q in self.store.quads_for_pattern(node, ox.NamedNode(_TITLE), None, None):
            if isinstance(q.object, ox.Literal):
                return q.object.value
        return None

    def describe(self, node: ox.NamedNode) -> list[ox.Triple]:
        """The concise bounded description served as RDF for a resource.

        The statements with ``node`` as subject, those of the events it takes part in, and of
        what hangs off them: evidence (``shilu:evidence``), its selectors (``oa:hasSelector``)
        and blank nodes.  Each triple once (across article graphs), the resource's own first.
        """
        out: dict[ox.Triple, None] = {}
        todo = collections.deque([node, *self.events_of(node)])
        seen: set[Any] = set()
        while todo:
            subject = todo.popleft()
            if subject in seen:
                continue
            seen.add(subject)
            for p, o in self.outgoing(subject):
                out[ox.Triple(subject, p, o)] = None
                if isinstance(o, ox.BlankNode) or (
                        isinstance(o, ox.NamedNode) and p.value in (_EVIDENCE, _HAS_SELECTOR)):
                    todo.append(o)
        return sorted(out, key=lambda t: (t.subject != node, str(t.subject), str(t.predicate),
                                          str(t.object)))

    def evidence(self, node: Any) -> pages.Evidence:
        sentence, article = "", None
        if isinstance(node, (ox.NamedNode, ox.BlankNode)):
            for p, o in self.outgoing(node):
                if p.value == _VALUE and isinstance(o, ox.Literal) and not sentence:
                    sentence = o.value
                elif p.value == _HAS_SOURCE and isinstance(o, ox.NamedNode) and article is None:
                    article = o.value
        title = self.label(article) if article else None
        return pages.Evidence(getattr(node, "value", str(node)), sentence, article, title)

    def view(self, node: ox.NamedNode, incoming_limit: int = INCOMING_LIMIT) -> pages.ResourceView:
        """Everything the HTML page of ``node`` shows."""
        view = pages.ResourceView(node.value)
        for p, o in self.outgoing(node):
            pv = p.value
            if pv == _LABEL and isinstance(o, ox.Literal):
                view.labels.append(o)
            elif pv == _ALT_LABEL and isinstance(o, ox.Literal):
                view.aliases.append(o)
            elif pv == _TYPE and isinstance(o, ox.NamedNode):
                view.types.append(o.value)
            elif pv == _TITLE and isinstance(o, ox.Literal):
                view.titles.append(o)
            elif pv == _EVIDENCE:
                view.evidence.append(self.evidence(o))
            else:
                view.outgoing.append((pv, o))
        view.outgoing.sort(key=lambda po: (pages.compact(po[0]), str(po[1])))

        incoming: dict[str, dict[Any, None]] = {}
        events: dict[ox.NamedNode, None] = {}
        for q in self.store.quads_for_pattern(None, None, node, None):
            s = q.subject
            if s == node:
                continue
            if self.is_event(s):
                events[s] = None
            else:
                incoming.setdefault(q.predicate.value, {})[s] = None
        for p in sorted(incoming, key=pages.compact):
            subjects = sorted(incoming[p], key=str)
            view.incoming[p] = subjects[:incoming_limit]
            if len(subjects) > incoming_limit:
                view.incoming_more[p] = len(subjects) - incoming_limit
        for e in events:
            view.events.append(self._event(e))

        view.labels_of = self._labels_for(view)
        return view

    def _event(self, node: ox.NamedNode) -> pages.EventView:
        event = pages.EventView(node.value)
        start_years = []
        for p, o in self.outgoing(node):
            pv = p.value
            if pv == _TYPE and isinstance(o, ox.NamedNode):
                event.classes.append(o.value)
            elif pv == _YEAR and isinstance(o, ox.Literal):
                event.years.append(o)
            elif pv == _START_YEAR and isinstance(o, ox.Literal):
                start_years.append(o)
            elif pv == _EVIDENCE:
                event.evidence.append(self.evidence(o))
            elif pv in (_LABEL, _ALT_LABEL, _DATE_PRECISION):
                continue  # (the precision shows in how the date is written)
            elif isinstance(o, ox.Literal):
                event.details.append((pv, o))
            else:
                event.roles.append((pv, o))
        event.years = event.years or start_years
        # The most specific class first (shilu:Capture before shilu:Event).
        event.classes.sort(key=lambda c: (c == _EVENT_CLASS, c))
        return event

    def _labels_for(self, view: pages.ResourceView) -> dict[str, str]:
        wanted: set[str] = set(view.types)
        wanted.update(p for p, _ in view.outgoing)
        wanted.update(o.value for _, o in view.outgoing if isinstance(o, ox.NamedNode))
        for p, subjects in view.incoming.items():
            wanted.add(p)
            wanted.update(s.value for s in subjects if isinstance(s, ox.NamedNode))
        for event in view.events:
            wanted.update(event.classes)
            wanted.update(p for p, _ in event.details)
            for p, o in event.roles:
                wanted.add(p)
                if isinstance(o, ox.NamedNode):
                    wanted.add(o.value)
        labels = {}
        for iri in wanted:
            label = self.label(iri)
            if label:
                labels[iri] = label
        return labels

    def named(self, name: str, limit: int = 20) -> list[tuple[str, str]]:
        """Things labelled or aliased ``name`` (either script): (IRI, label) pairs."""
        found: dict[str, str] = {}
        for text in dict.fromkeys((name, to_hans(name), to_hant(name))):
            for lang in ("zh-hans", "zh-hant", "zh"):
                literal = ox.Literal(text, language=lang)
                for predicate in (_LABEL, _ALT_LABEL):
                    for q in self.store.quads_for_pattern(None, ox.NamedNode(predicate),
                                                          literal, None):
                        if isinstance(q.subject, ox.NamedNode) and len(found) < limit:
                            found.setdefault(q.subject.value,
                                             self.label(q.subject.value) or text)
        return list(found.items())


# --------------------------------------------------------------------------------------------
# VoID


@dataclass(frozen=True, slots=True)
class VoidCounts:
    """Statistics of one store generation (computed once per generation)."""

    triples: int
    subjects: int
    objects: int
    graphs: int
    classes: tuple[tuple[str, int], ...]  #: (class IRI, distinct instances)
    properties: tuple[tuple[str, int], ...]  #: (property IRI, distinct triples)
    examples: tuple[str, ...]


_ALL_TRIPLES = "{ SELECT DISTINCT ?s ?p ?o WHERE { { ?s ?p ?o } UNION { GRAPH ?g { ?s ?p ?o } } } }"


def void_counts(snapshot: Snapshot) -> VoidCounts:
    """Count distinct triples, subjects, objects, instances per class, triples per property."""
    store = snapshot.store

    def one(query: str) -> int:
        for solution in store.query(query):
            return int(solution[0].value)
        return 0

    def pairs(query: str) -> tuple[tuple[str, int], ...]:
        return tuple((s[0].value, int(s[1].value)) for s in store.query(query)
                     if isinstance(s[0], ox.NamedNode))

    examples = []
    for q in store.quads_for_pattern(None, ox.NamedNode(_FOAF + "primaryTopic"), None, None):
        if isinstance(q.object, ox.NamedNode) and q.object.value not in examples:
            examples.append(q.object.value)
            if len(examples) == 3:
                break
    return VoidCounts(
        triples=one(f"SELECT (COUNT(*) AS ?n) WHERE {_ALL_TRIPLES}"),
        subjects=one(f"SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE {_ALL_TRIPLES}"),
        objects=one(f"SELECT (COUNT(DISTINCT ?o) AS ?n) WHERE {_ALL_TRIPLES}"),
        graphs=len(snapshot.graphs),
        classes=pairs("SELECT ?c (COUNT(DISTINCT ?s) AS ?n) WHERE { { ?s a ?c } UNION "
                      "{ GRAPH ?g { ?s a ?c } } } GROUP BY ?c ORDER BY DESC(?n) ?c"),
        properties=pairs(f"SELECT ?p (COUNT(*) AS ?n) WHERE {_ALL_TRIPLES} "
                         "GROUP BY ?p ORDER BY DESC(?n) ?p"),
        examples=tuple(examples),
    )


def void_triples(counts: VoidCounts, base: str, modified: float) -> list[ox.Triple]:
    """The VoID description of the dataset served at ``base`` (``http://host:port``)."""

    def n(iri: str) -> ox.NamedNode:
        return ox.NamedNode(iri)

    def integer(value: int) -> ox.Literal:
        return ox.Literal(str(value), datatype=n(_XSD + "integer"))

    dataset = n(base + "/.well-known/void#shilu")
    modified_at = datetime.datetime.fromtimestamp(modified, datetime.timezone.utc)
    out = [
        (n(_TYPE), n(_VOID + "Dataset")),
        (n(_DCT + "title"), ox.Literal("shilu 實錄", language="zh-hant")),
        (n(_DCT + "title"), ox.Literal("shilu 实录", language="zh-hans")),
        (n(_DCT + "description"), ox.Literal(
            "A knowledge graph of Chinese history built from Chinese Wikipedia articles: "
            "polities, people, places and the dated events that connect them, each event tied "
            "to the sentence it was read from.", language="en")),
        (n(_DCT + "license"), n("https://creativecommons.org/licenses/by-sa/4.0/")),
        (n(_DCT + "source"), n("https://zh.wikipedia.org/")),
        (n(_DCT + "modified"), ox.Literal(modified_at.isoformat(timespec="seconds"),
                                           datatype=n(_XSD + "dateTime"))),
        (n(_VOID + "sparqlEndpoint"), n(base + "/sparql")),
        (n(_VOID + "uriSpace"), ox.Literal(iris.RESOURCE)),
        (n(_VOID + "uriRegexPattern"), ox.Literal("^" + re.escape(iris.RESOURCE))),
        (n(_VOID + "triples"), integer(counts.triples)),
        (n(_VOID + "distinctSubjects"), integer(counts.subjects)),
        (n(_VOID + "distinctObjects"), integer(counts.objects)),
        (n(_VOID + "classes"), integer(len(counts.classes))),
        (n(_VOID + "properties"), integer(len(counts.properties))),
        (n(_VOID + "documents"), integer(counts.graphs)),
    ]
    out += [(n(_VOID + "vocabulary"), n(v)) for v in (
        iris.ONTOLOGY, _RDF, _RDFS, _SKOS, _FOAF, _DCT, _OA, "http://www.w3.org/ns/prov#")]
    out += [(n(_VOID + "feature"), n(fmt.iri)) for fmt in GRAPH_FORMATS]
    out += [(n(_VOID + "exampleResource"), n(e)) for e in counts.examples]
    triples = [ox.Triple(dataset, p, o) for p, o in out]
    for cls, entities in counts.classes:
        part = ox.BlankNode()
        triples += [ox.Triple(dataset, n(_VOID + "classPartition"), part),
                    ox.Triple(part, n(_VOID + "class"), n(cls)),
                    ox.Triple(part, n(_VOID + "entities"), integer(entities))]
    for prop, count in counts.properties:
        part = ox.BlankNode()
        triples += [ox.Triple(dataset, n(_VOID + "propertyPartition"), part),
                    ox.Triple(part, n(_VOID + "property"), n(prop)),
                    ox.Triple(part, n(_VOID + "triples"), integer(count))]
    return triples


# --------------------------------------------------------------------------------------------
# HTTP: shared pieces


_CORS_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Expose-Headers": "Content-Type, Content-Location, ETag, Last-Modified",
}
_FORM = "application/x-www-form-urlencoded"
_SPARQL_QUERY = "application/sparql-query"
_SPARQL_UPDATE = "application/sparql-update"
_GSP_PATH = "/rdf-graphs/service"
_READ_ONLY = ("SPARQL Update and Graph Store writes are not allowed: this endpoint is read-only "
              "(start the server with --allow-update)")

#: HTML, for browsers, among the RDF formats of the linked-data routes.
_HTML = _Format("html", "text/html; charset=utf-8", ("text/html", "application/xhtml+xml"))
#: Formats of ``/resource/``, ``/source/`` and ``/ontology``: Turtle when the client states no
#: preference (``*/*`` or no ``Accept``), HTML when it asks for it (every browser does).
LINKED_DATA_FORMATS: tuple[_Format, ...] = (GRAPH_FORMATS[0], _HTML, *GRAPH_FORMATS[1:])
#: File extension of each RDF format in ``/data/NAME.EXT``.
_EXTENSIONS = {"turtle": "ttl", "ntriples": "nt", "jsonld": "jsonld", "rdfxml": "rdf",
               "trig": "trig", "nquads": "nq", "n3": "n3"}

def _single(params: list[tuple[str, str]], key: str) -> str | None:
    values = [v for k, v in params if k == key]
    if len(values) > 1:
        raise HTTPError(400, f"more than one '{key}' parameter")
    return values[0] if values else None


@functools.lru_cache(maxsize=64)
def _http_date(timestamp: float) -> str:
    return email.utils.formatdate(timestamp, usegmt=True)


def _etag(snapshot: Snapshot, key: Hashable) -> str:
    """A strong ETag for the response to ``key`` from ``snapshot``'s generation."""
    digest = hashlib.blake2b(repr(key).encode(), digest_size=8).hexdigest()
    return f'"{snapshot.generation}-{digest}"'


def _validators(etag: str, modified: float) -> dict[str, str]:
    # no-cache: clients may keep the response but must revalidate it (a rebuild changes it).
    return {"ETag": etag, "Last-Modified": _http_date(modified), "Cache-Control": "no-cache"}


def _not_modified(request: Request, etag: str, modified: float) -> bool:
    """True if a conditional GET / HEAD already has this representation (answer 304)."""
    if request.method not in ("GET", "HEAD"):
        return False
    if_none_match = request.headers.get("if-none-match")
    if if_none_match is not None:
        tags = [t.strip() for t in if_none_match.split(",")]
        return "*" in tags or any(t.removeprefix("W/") == etag for t in tags)
    since = request.headers.get("if-modified-since")
    if since:
        try:
            return int(modified) <= email.utils.parsedate_to_datetime(since).timestamp()
        except (TypeError, ValueError, IndexError, OverflowError):
            return False
    return False


def _isolated(fn: Callable[..., Any], *args: Any) -> Any:
    """Call ``fn`` (in a worker thread); any failure comes out as a fresh :class:`HTTPError`.

    As in :func:`_execute`: no traceback (holding pyoxigraph iterators) leaves the thread.
    """
    try:
        return fn(*args)
    except HTTPError as e:
        status, message = e.status, e.message
    except Exception as e:  # noqa: BLE001
        log.error("request failed\n%s", traceback.format_exc())
        status, message = 500, f"internal error: {e}"
    raise HTTPError(status, message)


def _html(body: bytes, status: int = 200, headers: Mapping[str, str] | None = None) -> Response:
    return Response(body, status_code=status, media_type=_HTML.content_type,
                    headers={"Content-Security-Policy": pages.CSP, **(headers or {})})


def _links(request: Request) -> pages.Links:
    return pages.Links(request.scope.get("root_path", ""))


def _base_url(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def _header_path(path: str) -> str:
    """A path for a response header (Latin-1 only): non-ASCII percent-encoded."""
    return quote(path, safe="/%:@!$&'()*+,;=-._~?")


class CommonHeaders:
    """ASGI middleware: CORS for every route, and CORS preflights answered in one place.

    The data is public and read-only, so every response carries
    ``Access-Control-Allow-Origin: *`` and any origin may send any headers.  Also sets
    ``X-Content-Type-Options: nosniff`` (no browser guesses HTML out of a Turtle answer).
    """

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["method"] == "OPTIONS":
            request_headers = Headers(scope=scope)
            if "access-control-request-method" in request_headers:
                methods = ("GET, POST, OPTIONS" if scope["path"].endswith("/sparql")
                           else "GET, HEAD, PUT, POST, DELETE, OPTIONS"
                           if scope["path"].endswith(_GSP_PATH) else "GET, HEAD, OPTIONS")
                response = Response(status_code=204, headers={
                    **_CORS_HEADERS,
                    "Access-Control-Allow-Methods": methods,
                    "Access-Control-Allow-Headers": request_headers.get(
                        "access-control-request-headers", "Accept, Content-Type"),
                    "Access-Control-Max-Age": "86400",
                })
                await response(scope, receive, send)
                return

        async def send_with_headers(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in _CORS_HEADERS.items():
                    headers.setdefault(name, value)
                headers.setdefault("X-Content-Type-Options", "nosniff")
            await send(message)

        await self.app(scope, receive, send_with_headers)


# --------------------------------------------------------------------------------------------
# /sparql


@functools.lru_cache(maxsize=1024)
def _parse_query_string(query_string: bytes) -> Any:
    # Percent-decoding a query in pure Python (urllib) costs more than the rest of answering
    # it from the cache; clients send the same URLs again and again.
    return tuple(parse_qsl(query_string.decode("latin-1"), keep_blank_values=True))


def _params_of(query_string: bytes) -> list[tuple[str, str]]:
    """A URL's query parameters (remembered for short URLs: see ``_parse_query_string``)."""
    if len(query_string) <= 8192:
        return list(_parse_query_string(query_string))
    return list(_parse_query_string.__wrapped__(query_string))


class _RawRequest:
    """What the ``/sparql`` handler reads of a request, straight from the ASGI scope.

    It offers the few things of Starlette's ``Request`` the handler uses (``method``,
    ``headers.get``, ``stream()``, ``url``), without Starlette's routing and middleware on the
    way in and out: for a small query those cost more than evaluating it.
    """

    __slots__ = ("scope", "_receive", "method", "headers")

    def __init__(self, scope: dict[str, Any], receive: Any) -> None:
        self.scope = scope
        self._receive = receive
        self.method: str = scope["method"]
        headers: dict[str, str] = {}
        for name, value in scope["headers"]:
            headers.setdefault(name.decode("latin-1").lower(), value.decode("latin-1"))
        self.headers = headers  # the first value of each header, as Starlette's .get gives

    def params(self) -> list[tuple[str, str]]:
        """The URL's query parameters, decoded as Starlette's ``query_params`` does."""
        return _params_of(self.scope.get("query_string", b""))

    @property
    def url(self) -> URL:
        return URL(scope=self.scope)

    async def stream(self) -> Any:
        while True:
            message = await self._receive()
            if message["type"] == "http.request":
                chunk = message.get("body", b"")
                if chunk:
                    yield chunk
                if not message.get("more_body", False):
                    return
            elif message["type"] == "http.disconnect":
                raise _ClientGone()


#: A query whose evaluation and serialization took less than this many seconds (in its worker
#: thread) is evaluated on the event loop thread the next times the same request (same ETag)
#: is made of the same store generation: the store does not change within a generation, so it
#: does the same work again.  Every other query runs in a worker thread with the deadline.
_INLINE_BELOW = 0.002
_QUICK_MAX = 4096  # ETags remembered per generation (forgotten all at once beyond)


def _quick_queries(snapshot: Snapshot) -> dict[str, None]:
    """The ETags of the requests known to be quick on ``snapshot`` (see ``_INLINE_BELOW``)."""
    return snapshot.memo("quick-queries", dict)


class _ClientGone(Exception):
    """The client disconnected before its request body arrived: nothing to answer."""


def _settle(future: asyncio.Future[Any], result: Any, error: BaseException | None) -> None:
    if future.done():  # timed out (or the request was cancelled) meanwhile
        return
    if error is None:
        future.set_result(result)
    else:
        future.set_exception(error)


def _expire(future: asyncio.Future[Any], limit: float) -> None:
    if not future.done():
        future.set_exception(_timeout_error(limit))


class _QueryThreads:
    """Daemon threads that evaluate queries for the event loop.

    A hand-off is one queue put, one semaphore try and one ``call_soon_threadsafe`` back (with
    a ``call_later`` for the deadline); ``anyio.to_thread.run_sync`` inside ``fail_after`` did
    several times that work per request.  Threads are started on demand up to
    ``max_threads`` and kept; a thread whose request timed out finishes (or stops at its
    next deadline check) on its own and then takes the next job.
    """

    def __init__(self, max_threads: int = 40) -> None:
        self.max_threads = max_threads
        self._jobs: queue.SimpleQueue[tuple[Any, asyncio.Future[Any], Callable[[], Any]]] = (
            queue.SimpleQueue())
        self._idle = threading.Semaphore(0)
        self._lock = threading.Lock()
        self._threads = 0

    def submit(self, loop: asyncio.AbstractEventLoop,
               fn: Callable[[], Any]) -> asyncio.Future[Any]:
        future = loop.create_future()
        self._jobs.put((loop, future, fn))
        if not self._idle.acquire(blocking=False):
            with self._lock:
                if self._threads < self.max_threads:
                    self._threads += 1
                    threading.Thread(target=self._run, daemon=True,
                                     name=f"shilu-query-{self._threads}").start()
        return future

    def _run(self) -> None:
        while True:
            loop, future, fn = self._jobs.get()
            error: BaseException | None = None
            result: Any = None
            try:
                result = fn()
            except BaseException as e:  # noqa: BLE001 - handed to the waiting request
                error = e
            # Idle from now on: a request the answer wakes up finds this thread available.
            self._idle.release()
            try:
                loop.call_soon_threadsafe(_settle, future, result, error)
            except RuntimeError:  # the loop is closed
                pass
            del loop, future, fn, result, error


#: Headers of every /sparql response (CommonHeaders adds the same to the other routes).
_SPARQL_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    *((k.lower().encode(), v.encode()) for k, v in _CORS_HEADERS.items()),
    (b"x-content-type-options", b"nosniff"),
    (b"vary", b"Accept"),
)


def _raw_headers(headers: Mapping[str, str] | None) -> list[tuple[bytes, bytes]]:
    return [(k.lower().encode("latin-1"), v.encode("latin-1"))
            for k, v in (headers or {}).items()]


def _error_answer(e: HTTPError) -> _Answer:
    if e.status >= 500:
        log.warning("SPARQL request failed (%d): %s", e.status, e.message)
    return _Answer(e.status, (e.message + "\n").encode(), "text/plain; charset=utf-8",
                   {"WWW-Authenticate": 'Bearer realm="shilu"'} if e.status == 401 else None)


def _fixed_headers(answer: _Answer) -> list[tuple[bytes, bytes]]:
    """The response headers of ``answer`` but its ``content-length`` (see
    :func:`_answer_headers`)."""
    headers = _raw_headers(answer.headers)
    if answer.content_type is not None:
        headers.append((b"content-type", answer.content_type.encode("latin-1")))
    headers.extend(_SPARQL_HEADERS)
    return headers


def _answer_headers(answer: _Answer) -> list[tuple[bytes, bytes]]:
    """The response headers of ``answer`` (uvicorn adds ``server`` and ``date``), its
    ``content-length`` last."""
    headers = _fixed_headers(answer)
    if answer.status not in (204, 304):
        headers.append((b"content-length", b"%d" % len(answer.body)))
    return headers


def _header_lines(answer: _Answer) -> bytes:
    """The lines of :func:`_fixed_headers` as sent, each ending with CRLF."""
    return b"".join([b"%s: %s\r\n" % header for header in _fixed_headers(answer)])


@dataclass(frozen=True, slots=True)
class _Answer:
    """A ``/sparql`` response before it is sent."""

    status: int
    body: bytes = b""
    content_type: str | None = None
    headers: Mapping[str, str] | None = None
    #: :func:`_header_lines` of this answer, when worked out beforehand (see :class:`_Known`).
    head: bytes | None = None


class _Head:
    """A request's method and headers, for a request answered before its ASGI scope exists."""

    __slots__ = ("method", "headers")

    def __init__(self, method: str, headers: Mapping[str, str]) -> None:
        self.method = method
        self.headers = headers


class _Pending:
    """A query to evaluate (in a worker thread, or inline when known to be quick), and what is
    done with its result: remembered as quick, cached, answered with its validators."""

    __slots__ = ("endpoint", "snapshot", "req", "deadline", "etag", "headers", "known_quick")

    def __init__(self, endpoint: SparqlEndpoint, snapshot: Snapshot, req: _QueryRequest,
                 deadline: float, etag: str | None,
                 headers: Mapping[str, str] | None, known_quick: bool = False) -> None:
        self.known_quick = known_quick
        self.endpoint = endpoint
        self.snapshot = snapshot
        self.req = req
        self.deadline = deadline
        self.etag = etag  # None: not cacheable (volatile or federated)
        self.headers = headers

    def work(self, known_quick: bool = False) -> tuple[bytes, _Format, float]:
        endpoint = self.endpoint
        start = time.perf_counter()
        body, fmt = _execute(self.snapshot, self.req, deadline=self.deadline,
                             limit=endpoint.query_timeout, max_rows=endpoint.max_rows,
                             allow_service=endpoint.allow_service,
                             max_bytes=endpoint.max_result_bytes, known_quick=known_quick)
        return body, fmt, time.perf_counter() - start

    def inline(self, known: _Known | None = None) -> _Answer:
        """Evaluate a request known to be quick here, in the calling (event loop) thread."""
        body, fmt, _ = self.work(known_quick=True)
        return self.finish(body, fmt, None, known)

    def finish(self, body: bytes, fmt: _Format, took: float | None,
               known: _Known | None = None) -> _Answer:
        """The answer, after remembering a cacheable request (and, given the time ``took`` in
        a worker thread, whether it is quick enough to run inline next time)."""
        if self.etag is not None:
            if took is not None and took < _INLINE_BELOW:
                quick = _quick_queries(self.snapshot)
                if len(quick) >= _QUICK_MAX:
                    quick.clear()
                quick[self.etag] = None
            self.snapshot.responses.put(self.req, body, fmt.content_type)
        return _Answer(200, body, fmt.content_type, self.headers,
                       None if known is None else known.head(fmt.content_type))


def _known_requests(snapshot: Snapshot) -> dict[tuple[bytes, str | None], _Known]:
    """The ``GET /sparql`` requests known to be quick on ``snapshot`` (see :class:`_Known`),
    by query string and ``Accept`` header."""
    return snapshot.memo("known-requests", dict)


class _Known:
    """A ``GET /sparql`` request known to be quick on one store generation, and what answering
    it again takes besides evaluating it, worked out the first time: its parameters, ETag and
    validators, and its response's header lines.

    Kept per :class:`Snapshot` (:func:`_known_requests`; short requests, up to ``_QUICK_MAX``),
    by the raw query string and the ``Accept`` header (all of a request that changes its answer
    but the conditional headers, which :meth:`SparqlEndpoint.answer_now` looks at before), so a
    new generation or a write (a new snapshot) starts with none.  Parsing the URL, the ETag and
    the headers again took about a tenth of the server's time for a small query (uncached).
    """

    __slots__ = ("req", "etag", "headers", "_heads")

    def __init__(self, req: _QueryRequest, etag: str, headers: Mapping[str, str]) -> None:
        self.req = req
        self.etag = etag
        self.headers = headers
        self._heads: dict[str, bytes] = {}

    def head(self, content_type: str) -> bytes:
        """:func:`_header_lines` of this request's answer in ``content_type``."""
        head = self._heads.get(content_type)
        if head is None:
            head = self._heads[content_type] = _header_lines(
                _Answer(200, content_type=content_type, headers=self.headers))
        return head

    def answer(self, endpoint: SparqlEndpoint, snapshot: Snapshot) -> _Answer:
        """The answer (from ``snapshot``'s cache, else evaluated here), as :meth:`_plan` and
        :meth:`_Pending.inline` give it."""
        hit = snapshot.responses.get(self.req)
        if hit is not None:
            return _Answer(200, hit[0], hit[1], self.headers, self.head(hit[1]))
        pending = _Pending(endpoint, snapshot, self.req,
                           time.monotonic() + endpoint.query_timeout, self.etag, self.headers,
                           known_quick=True)
        try:
            return pending.inline(self)
        except HTTPError as e:
            return _error_answer(e)


class SparqlEndpoint:
    """The ``/sparql`` and ``/health`` handlers, bound to a store handle and the limits.

    ``/sparql`` is a plain ASGI app (:meth:`__call__`) that the app calls before Starlette's
    routing: see :class:`_RawRequest`.
    """

    def __init__(self, handle: StoreHandle, *, query_timeout: float, max_rows: int,
                 max_body: int, allow_service: bool, max_result_bytes: int,
                 allow_update: bool = False, update_token: str | None = None) -> None:
        self.handle = handle
        self.allow_update = allow_update
        self.update_token = update_token
        self.query_timeout = query_timeout
        self.max_rows = max_rows
        self.max_result_bytes = max_result_bytes
        self.max_body = max_body
        self.allow_service = allow_service
        self.threads = _QueryThreads()

    async def health(self, request: Request) -> Response:
        snapshot = self.handle.current
        return JSONResponse({"status": "ok", "graphs": len(snapshot.graphs),
                             "generation": snapshot.path.name})

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        """ASGI: answer one HTTP request to ``/sparql``."""
        method = scope["method"]
        request = _RawRequest(scope, receive)
        if method == "OPTIONS":
            answer = self._options(request)
        elif method not in ("GET", "HEAD", "POST"):
            answer = _Answer(405, b"Method Not Allowed", "text/plain; charset=utf-8",
                             {"Allow": "GET, HEAD, POST, OPTIONS"})
        else:
            try:
                answer = await self._sparql(request)
            except HTTPError as e:
                answer = _error_answer(e)
            except _ClientGone:
                return
            except Exception:
                log.exception("SPARQL request failed")
                answer = _Answer(500, b"Internal Server Error\n", "text/plain; charset=utf-8")
        await send({"type": "http.response.start", "status": answer.status,
                    "headers": _answer_headers(answer)})
        await send({"type": "http.response.body", "body": answer.body})

    @staticmethod
    def _options(request: _RawRequest) -> _Answer:
        if "access-control-request-method" in request.headers:  # a CORS preflight
            return _Answer(204, headers={
                "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
                "Access-Control-Allow-Headers": request.headers.get(
                    "access-control-request-headers", "Accept, Content-Type"),
                "Access-Control-Max-Age": "86400",
            })
        return _Answer(204, headers={"Allow": "GET, POST, OPTIONS"})

    async def _sparql(self, request: _RawRequest) -> _Answer:
        deadline = time.monotonic() + self.query_timeout
        params = await self._read_params(request)
        update = _single(params, "update")
        if update is not None:
            await self._update(request, update, params)
            return _Answer(204)
        query = _single(params, "query")
        if query is None:
            if request.method == "POST":
                raise HTTPError(400, "missing 'query' parameter")
            fmt = negotiate(GRAPH_FORMATS, request.headers.get("accept"),
                            _single(params, "format"), "the service description")
            endpoint = str(request.url.replace(query="", fragment=""))
            body = await anyio.to_thread.run_sync(_service_description, self.handle.current,
                                                  endpoint, fmt, self.allow_update)
            return _Answer(200, body, fmt.content_type)
        plan = self._plan(request, params, query, deadline)
        if isinstance(plan, _Answer):
            return plan
        if plan.known_quick:
            return plan.inline()
        loop = asyncio.get_running_loop()
        future = self.threads.submit(loop, plan.work)
        timer = loop.call_later(max(deadline - time.monotonic(), 0) + _DEADLINE_GRACE,
                                _expire, future, self.query_timeout)
        try:
            body, fmt, took = await future
        finally:
            timer.cancel()
        return plan.finish(body, fmt, took)

    def answer_now(self, query_string: bytes, headers: Mapping[str, str]) -> _Answer | None:
        """The answer to ``GET /sparql?query_string``, if it can be given without waiting.

        That is a 304, a response from the cache, or a request known to be quick on this
        generation (evaluated here, see ``_INLINE_BELOW``; if that fails, its error answer).
        None for everything else (a query to evaluate in a worker thread, an update, the service
        description, a bad request): the request then takes the ASGI path (:meth:`__call__`),
        which answers it in full.  Called by the HTTP protocol (:func:`_http_protocol`) before
        it makes an ASGI request.
        """
        accept = headers.get("accept")
        if "if-none-match" not in headers and "if-modified-since" not in headers:
            snapshot = self.handle.current
            known = _known_requests(snapshot).get((query_string, accept))
            if known is not None:
                return known.answer(self, snapshot)
        try:
            params = _params_of(query_string)
            query = _single(params, "query")
            if query is None or _single(params, "update") is not None:
                return None
            plan = self._plan(_Head("GET", headers), params, query,
                              time.monotonic() + self.query_timeout)
        except HTTPError:
            return None
        if isinstance(plan, _Answer):
            return plan
        if not plan.known_quick:
            return None
        known = None
        if (plan.etag is not None and plan.headers is not None  # (always, when known quick)
                and len(query_string) + len(accept or "") <= 8192):
            # The next time, it is answered from what is kept here (see _Known).
            known = _Known(plan.req, plan.etag, plan.headers)
            memo = _known_requests(plan.snapshot)
            if len(memo) >= _QUICK_MAX:
                memo.clear()
            memo[query_string, accept] = known
        try:
            return plan.inline(known)
        except HTTPError as e:  # answered as the ASGI path would (__call__)
            return _error_answer(e)

    def _plan(self, request: _RawRequest | _Head, params: list[tuple[str, str]], query: str,
              deadline: float) -> _Answer | _Pending:
        """What answering ``query`` takes: the answer itself when no worker thread is needed
        (a 304, a cached response, a request known to be quick), else the work to hand to one.
        """
        if len(query.encode()) > self.max_body:
            raise HTTPError(413, f"query longer than {self.max_body} bytes")
        snapshot = self.handle.current  # one snapshot for the whole request
        req = _QueryRequest(
            query=query,
            default_graphs=tuple(v for k, v in params if k == "default-graph-uri"),
            named_graphs=tuple(v for k, v in params if k == "named-graph-uri"),
            format_param=_single(params, "format"),
            accept=request.headers.get("accept"),
        )
        # The store does not change within a generation, so the same request gets the same
        # bytes: answer 304 to a client that has them, and keep them for the next client.
        text = query_text(query)
        cacheable = not (text.volatile or text.service)
        etag: str | None = None
        headers: Mapping[str, str] | None = None
        if cacheable:
            etag = _etag(snapshot, req)
            headers = _validators(etag, snapshot.modified)
            if _not_modified(request, etag, snapshot.modified):
                return _Answer(304, headers=headers)
            hit = snapshot.responses.get(req)
            if hit is not None:
                return _Answer(200, hit[0], hit[1], headers)
        # Evaluated before, from this very generation, in well under a millisecond or two: it
        # may be evaluated on the event loop thread rather than pay for the hand-off.
        return _Pending(self, snapshot, req, deadline, etag, headers,
                        known_quick=etag is not None and etag in _quick_queries(snapshot))

    async def _read_params(self, request: _RawRequest) -> list[tuple[str, str]]:
        """The request's protocol parameters, as (name, value) pairs in order."""
        params = request.params()
        if request.method != "POST":
            return params
        content_type, *ct_params = request.headers.get("content-type", "").split(";")
        content_type = content_type.strip().lower()
        if content_type == _SPARQL_UPDATE:
            self.authorize(request)  # before reading the body
        if content_type not in (_FORM, _SPARQL_QUERY, _SPARQL_UPDATE):
            raise HTTPError(415, f"unsupported content type '{content_type}'; "
                                 f"use {_FORM}, {_SPARQL_QUERY} or {_SPARQL_UPDATE}")
        charset = "utf-8"
        for p in ct_params:
            key, _, value = p.partition("=")
            if key.strip().lower() == "charset":
                charset = value.strip().strip('"') or charset
        body = await self._read_body(request)
        try:
            text = body.decode(charset)
        except LookupError:
            raise HTTPError(415, f"unsupported charset '{charset}'") from None
        except UnicodeDecodeError as e:
            raise HTTPError(400, f"request body is not valid {charset}: {e}") from None
        if content_type in (_SPARQL_QUERY, _SPARQL_UPDATE):
            # The query / update is the body; the dataset and format stay in the URL.
            name = "query" if content_type == _SPARQL_QUERY else "update"
            if any(k in ("query", "update") for k, _ in params):
                raise HTTPError(400, f"'query' or 'update' in the URL as well as a {name} "
                                     "as the request body")
            return [*params, (name, text)]
        try:
            form = parse_qsl(text, keep_blank_values=True, encoding="utf-8", errors="strict")
        except (UnicodeDecodeError, ValueError) as e:
            raise HTTPError(400, f"malformed form body: {e}") from None
        return [*form, *params]

    def authorize(self, request: Request | _RawRequest) -> None:
        """Let a write through only when updates are on and the bearer token matches.

        :raises HTTPError: 403 when the server is read-only, 401 without the right token.
        """
        if not self.allow_update:
            raise HTTPError(403, _READ_ONLY)
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if (scheme.lower() != "bearer" or not self.update_token
                or not hmac.compare_digest(token.strip().encode(), self.update_token.encode())):
            raise HTTPError(401, "this write needs 'Authorization: Bearer <token>' with the "
                                 "server's update token")

    async def _update(self, request: _RawRequest, update: str,
                      params: list[tuple[str, str]]) -> None:
        """SPARQL 1.1 Protocol update operation (POST only), into the current generation."""
        self.authorize(request)
        if request.method != "POST":
            raise HTTPError(405, "send updates with POST (update= in a form, or "
                                 f"{_SPARQL_UPDATE})")
        if any(k == "query" for k, _ in params):
            raise HTTPError(400, "both 'query' and 'update' given")
        if any(k in ("using-graph-uri", "using-named-graph-uri") for k, _ in params):
            raise HTTPError(400, "using-graph-uri / using-named-graph-uri are not supported; "
                                 "use USING / WITH in the update")
        if len(update.encode()) > self.max_body:
            raise HTTPError(413, f"update longer than {self.max_body} bytes")
        await _write(self.handle, lambda store: store.update(update))

    async def _read_body(self, request: Request | _RawRequest) -> bytes:
        length = request.headers.get("content-length")
        if length is not None:
            try:
                too_long = int(length) > self.max_body
            except ValueError:
                raise HTTPError(400, "invalid Content-Length") from None
            if too_long:
                raise HTTPError(413, f"request body larger than {self.max_body} bytes")
        chunks, size = [], 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > self.max_body:
                raise HTTPError(413, f"request body larger than {self.max_body} bytes")
            chunks.append(chunk)
        return b"".join(chunks)


async def _write(handle: StoreHandle, fn: Callable[[ox.Store], Any]) -> Any:
    """Run ``fn(store)`` on the current generation in a worker thread, one write at a time,
    then flush and make a fresh snapshot current (so no cached response outlives the write)."""
    def work() -> Any:
        with handle.write_lock:
            snapshot = handle.current
            if not snapshot.writable:
                raise HTTPError(403, _READ_ONLY)
            try:
                return fn(snapshot.store)
            except SyntaxError as e:
                raise HTTPError(400, f"malformed update: {e}") from None
            finally:
                snapshot.store.flush()
                handle.written(snapshot)

    return await anyio.to_thread.run_sync(_isolated, work)


# --------------------------------------------------------------------------------------------
# SPARQL 1.1 Graph Store HTTP Protocol (/rdf-graphs/service)


class GraphStore:
    """``/rdf-graphs/service?graph=IRI`` or ``?default``: GET (always), PUT / POST / DELETE
    (only with ``allow_update`` and the bearer token, as SPARQL Update).

    ``?default`` is the store's own default graph (empty after ``shilu build``: every article
    is a named graph), not the union the query endpoint uses as its default graph.
    """

    def __init__(self, endpoint: SparqlEndpoint) -> None:
        self.endpoint = endpoint
        self.handle = endpoint.handle

    async def service(self, request: Request) -> Response:
        try:
            response = await self._service(request)
        except HTTPError as e:
            headers = ({"WWW-Authenticate": 'Bearer realm="shilu"'} if e.status == 401 else {})
            response = PlainTextResponse(e.message + "\n", status_code=e.status, headers=headers)
        return response

    @staticmethod
    def _graph(request: Request) -> ox.NamedNode | ox.DefaultGraph:
        params = list(request.query_params.multi_items())
        graph = _single(params, "graph")
        default = any(k == "default" for k, _ in params)
        if (graph is None) == (not default):
            raise HTTPError(400, "give exactly one of 'graph=IRI' and 'default'")
        if graph is None:
            return ox.DefaultGraph()
        try:
            return ox.NamedNode(graph)
        except ValueError as e:
            raise HTTPError(400, f"'graph' is not an absolute IRI: {e}") from None

    async def _service(self, request: Request) -> Response:
        if request.method == "OPTIONS":
            return Response(status_code=204,
                            headers={"Allow": "GET, HEAD, PUT, POST, DELETE, OPTIONS"})
        graph = self._graph(request)
        if request.method in ("GET", "HEAD"):
            return await self._get(request, graph)
        self.endpoint.authorize(request)
        if request.method == "DELETE":
            def delete(store: ox.Store) -> bool:
                if isinstance(graph, ox.NamedNode):
                    if not store.contains_named_graph(graph):
                        return False
                    store.remove_graph(graph)
                else:
                    store.clear_graph(graph)
                return True

            if not await _write(self.handle, delete):
                raise HTTPError(404, f"no graph <{graph.value}>")
            return Response(status_code=204)
        # PUT (replace) and POST (merge): parse the whole body first, then write.
        content_type = request.headers.get("content-type", "")
        rdf = ox.RdfFormat.from_media_type(content_type) if content_type else None
        if rdf is None or rdf.supports_datasets:
            raise HTTPError(415, f"unsupported content type '{content_type}'; send a graph as "
                                 "text/turtle, application/n-triples, application/rdf+xml, "
                                 "application/ld+json or text/n3")
        body = await self.endpoint._read_body(request)
        base = graph.value if isinstance(graph, ox.NamedNode) else None

        def parse() -> list[ox.Quad]:
            try:
                return [ox.Quad(t.subject, t.predicate, t.object, graph)
                        for t in ox.parse(body, format=rdf, base_iri=base)]
            except SyntaxError as e:
                raise HTTPError(400, f"malformed {rdf.name}: {e}") from None

        quads = await anyio.to_thread.run_sync(_isolated, parse)
        replace = request.method == "PUT"

        def write(store: ox.Store) -> bool:
            created = isinstance(graph, ox.NamedNode) and not store.contains_named_graph(graph)
            if replace and not created:
                store.clear_graph(graph)
            if isinstance(graph, ox.NamedNode):
                store.add_graph(graph)
            store.extend(quads)
            return created

        created = await _write(self.handle, write)
        return Response(status_code=201 if created else 204)

    async def _get(self, request: Request, graph: ox.NamedNode | ox.DefaultGraph) -> Response:
        fmt = negotiate(GRAPH_FORMATS, request.headers.get("accept"),
                        request.query_params.get("format"), "a graph")
        snapshot = self.handle.current
        max_rows, limit = self.endpoint.max_rows, self.endpoint.query_timeout

        def work() -> bytes | None:
            store = snapshot.store
            if isinstance(graph, ox.NamedNode) and not store.contains_named_graph(graph):
                return None
            deadline = time.monotonic() + limit
            triples = [q.triple for q in _collect(
                store.quads_for_pattern(None, None, None, graph), deadline, limit, max_rows,
                "triples")]
            return _serialize_graph(triples, fmt)

        body = await anyio.to_thread.run_sync(_isolated, work)
        if body is None:
            raise HTTPError(404, f"no graph <{graph.value}>")
        return Response(body, media_type=fmt.content_type, headers={"Vary": "Accept"})


# --------------------------------------------------------------------------------------------
# Linked data, ontology, VoID, query page


class LinkedData:
    """The handlers of the pages and linked-data routes (see the module docstring)."""

    def __init__(self, handle: StoreHandle, *, max_body: int) -> None:
        self.handle = handle
        self.max_body = max_body
        self.ontology = load_ontology()
        self.examples = _examples()
        self._fixed: dict[Hashable, tuple[bytes, str, str]] = {}  # body, type, etag

    # -- resources ------------------------------------------------------------------------

    async def resource(self, request: Request) -> Response:
        """``/resource/NAME``: the resource, as HTML or RDF by ``Accept`` / ``format=``."""
        return await self._describe(request, iris.RESOURCE, "resource")

    async def source(self, request: Request) -> Response:
        """``/source/ID``: an article (also the name of its graph), as HTML or RDF."""
        return await self._describe(request, iris.SOURCE, "source")

    async def page(self, request: Request) -> Response:
        """``/page/NAME``: the HTML page of ``/resource/NAME``, whatever ``Accept`` says."""
        return await self._describe(request, iris.RESOURCE, "page", fixed=_HTML)

    async def data(self, request: Request) -> Response:
        """``/data/NAME.EXT``: the RDF of ``/resource/NAME`` in the format named by ``EXT``."""
        rest = request.path_params["rest"]
        _, dot, ext = rest.rpartition(".")
        fmt = None
        if dot:
            try:
                fmt = negotiate(GRAPH_FORMATS, None, ext, "data")
            except HTTPError:
                pass
        if fmt is None:
            return PlainTextResponse(
                "name the format with an extension: " + ", ".join(
                    f"/data/NAME.{e}" for e in _EXTENSIONS.values()) + "\n", status_code=404)
        return await self._describe(request, iris.RESOURCE, "data", fixed=fmt,
                                    suffix="." + ext)

    async def _describe(self, request: Request, namespace: str, prefix: str, *,
                        fixed: _Format | None = None, suffix: str = "") -> Response:
        links = _links(request)
        try:
            fmt = fixed or negotiate(LINKED_DATA_FORMATS, request.headers.get("accept"),
                                     request.query_params.get("format"), "this resource")
        except HTTPError as e:
            return PlainTextResponse(e.message + "\n", status_code=e.status)
        vary = {} if fixed else {"Vary": "Accept"}
        parts = path_segments(request.scope, prefix, request.path_params["rest"])
        if parts is not None and suffix:
            parts[-1] = parts[-1][:-len(suffix)]
            if not parts[-1]:
                parts = None
        if parts is None:
            return self._not_found(fmt, links, None, request.url.path, [], vary)

        snapshot = self.handle.current
        candidates = candidate_iris(namespace, parts)
        key = ("describe", tuple(candidates), fmt.name, links.root)
        etag = _etag(snapshot, key)
        headers = {**vary, **_validators(etag, snapshot.modified)}
        if _not_modified(request, etag, snapshot.modified):
            return Response(status_code=304, headers=headers)
        hit = snapshot.responses.get(key)
        if hit is None:
            ontology = self.ontology

            def work() -> tuple[bytes | None, str | None, list[tuple[str, str]]]:
                reader = Reader(snapshot.store, ontology)
                node = reader.resolve(candidates)
                if node is None:
                    return None, None, reader.named(parts[-1]) if len(parts) == 1 else []
                if fmt is _HTML:
                    body = pages.resource_page(reader.view(node), links,
                                               self._data_links(links, node.value))
                else:
                    body = _serialize_graph(reader.describe(node), fmt)
                return body, node.value, []

            try:
                body, iri, similar = await anyio.to_thread.run_sync(_isolated, work)
            except HTTPError as e:
                return self._error(fmt, links, e)
            if body is None:
                return self._not_found(fmt, links, candidates[0], request.url.path, similar, vary)
            snapshot.responses.put(key, body, iri or "")
        else:
            body, iri = hit
        headers["Content-Location"] = _header_path(self._location(links, iri, fmt))
        if fmt is _HTML:
            return _html(body, headers=headers)
        return Response(body, media_type=fmt.content_type, headers=headers)

    @staticmethod
    def _data_links(links: pages.Links, iri: str) -> list[tuple[str, str, str]]:
        """(label, media type, URL) of the RDF downloads of a resource page."""
        out = []
        for name, label in (("turtle", "Turtle"), ("ntriples", "N-Triples"),
                            ("jsonld", "JSON-LD"), ("rdfxml", "RDF/XML")):
            fmt = next(f for f in GRAPH_FORMATS if f.name == name)
            mime = fmt.content_type.split(";")[0]
            if iri.startswith(iris.RESOURCE):
                url = links.page(f"/data/{iri[len(iris.RESOURCE):]}.{_EXTENSIONS[name]}")
            else:
                url = (links.href(iri) or "") + "?format=" + name
            out.append((label, mime, url))
        return out

    @staticmethod
    def _location(links: pages.Links, iri: str, fmt: _Format) -> str:
        """The URL of this very representation (``Content-Location``)."""
        if iri.startswith(iris.RESOURCE):
            local = iri[len(iris.RESOURCE):]
            if fmt is _HTML:
                return links.page(f"/page/{local}")
            return links.page(f"/data/{local}.{_EXTENSIONS.get(fmt.name, fmt.name)}")
        return (links.href(iri) or "") + f"?format={fmt.name}"

    @staticmethod
    def _not_found(fmt: _Format, links: pages.Links, iri: str | None, path: str,
                   similar: Sequence[tuple[str, str]], headers: Mapping[str, str]) -> Response:
        if fmt is _HTML:
            return _html(pages.not_found_page(iri, path, links, similar), 404, headers)
        text = f"nothing is known about <{iri}>\n" if iri else f"no resource at {path}\n"
        return PlainTextResponse(text, status_code=404, headers=dict(headers))

    @staticmethod
    def _error(fmt: _Format, links: pages.Links, e: HTTPError) -> Response:
        if fmt is _HTML:
            return _html(pages.error_page(e.status, e.message, links), e.status)
        return PlainTextResponse(e.message + "\n", status_code=e.status)

    # -- ontology, VoID, static files, query page -----------------------------------------

    async def ontology_route(self, request: Request) -> Response:
        """``/ontology``: ``ontology/shilu.ttl`` (as written for Turtle), or its HTML page."""
        links = _links(request)
        try:
            fmt = negotiate(LINKED_DATA_FORMATS, request.headers.get("accept"),
                            request.query_params.get("format"), "the ontology")
        except HTTPError as e:
            return PlainTextResponse(e.message + "\n", status_code=e.status)

        def render() -> bytes:
            if fmt is _HTML:
                header, sections = self.ontology.page_model()
                return pages.ontology_page(header, sections, self.ontology.labels, links)
            if fmt.name == "turtle":
                return self.ontology.turtle
            return _serialize_graph(self.ontology.triples, fmt)

        return self._fixed_response(request, ("ontology", fmt.name, links.root), render, fmt,
                                    vary=True)

    async def static(self, request: Request) -> Response:
        """``/static/NAME``: the style sheet and script of the pages (a fixed table)."""
        item = pages.STATIC.get(request.path_params["name"])
        if item is None:
            return PlainTextResponse("not found\n", status_code=404)
        body, content_type = item
        fmt = _Format("static", content_type, ())
        return self._fixed_response(request, ("static", request.path_params["name"]),
                                    lambda: body, fmt, max_age=3600)

    def _fixed_response(self, request: Request, key: Hashable, render: Callable[[], bytes],
                        fmt: _Format, *, vary: bool = False, max_age: int = 0) -> Response:
        """A response that depends on nothing but ``key`` for the process's lifetime."""
        cached = self._fixed.get(key)
        if cached is None:
            body = render()
            etag = '"' + hashlib.blake2b(body, digest_size=8).hexdigest() + '"'
            cached = self._fixed[key] = (body, fmt.content_type, etag)
        body, content_type, etag = cached
        headers = {"ETag": etag,
                   "Cache-Control": f"public, max-age={max_age}" if max_age else "no-cache"}
        if vary:
            headers["Vary"] = "Accept"
        if _not_modified(request, etag, 0) and request.headers.get("if-none-match"):
            return Response(status_code=304, headers=headers)
        if fmt is _HTML:
            return _html(body, headers=headers)
        return Response(body, media_type=content_type, headers=headers)

    async def void(self, request: Request) -> Response:
        """``/.well-known/void`` and ``/void``: the VoID description of the dataset."""
        try:
            fmt = negotiate(GRAPH_FORMATS, request.headers.get("accept"),
                            request.query_params.get("format"), "the VoID description")
        except HTTPError as e:
            return PlainTextResponse(e.message + "\n", status_code=e.status)
        snapshot = self.handle.current
        base = _base_url(request)
        key = ("void", fmt.name, base)
        etag = _etag(snapshot, key)
        headers = {"Vary": "Accept", **_validators(etag, snapshot.modified)}
        if _not_modified(request, etag, snapshot.modified):
            return Response(status_code=304, headers=headers)
        hit = snapshot.responses.get(key)
        if hit is None:
            def work() -> bytes:
                counts = snapshot.memo("void", lambda: void_counts(snapshot))
                return _serialize_graph(void_triples(counts, base, snapshot.modified), fmt)

            try:
                body = await anyio.to_thread.run_sync(_isolated, work)
            except HTTPError as e:
                return PlainTextResponse(e.message + "\n", status_code=e.status)
            snapshot.responses.put(key, body, fmt.content_type)
        else:
            body = hit[0]
        return Response(body, media_type=fmt.content_type, headers=headers)

    async def home(self, request: Request) -> Response:
        """``/``: the query page (``?query=`` fills the editor and runs it)."""
        links = _links(request)
        query = request.query_params.get("query")
        if query is not None and len(query.encode()) > self.max_body:
            return _html(pages.error_page(413, f"query longer than {self.max_body} bytes",
                                          links), 413)
        snapshot = self.handle.current
        stats = [("articles", str(len(snapshot.graphs))),
                 ("store built", time.strftime("%Y-%m-%d %H:%M",
                                               time.localtime(snapshot.modified)))]
        return _html(pages.query_page(links, self.examples, query=query, stats=stats))


def _examples() -> list[pages.Example]:
    """The named queries (``shilu query --list``), with their parameters at their defaults."""
    out = []
    for q in list_queries():
        try:
            text = q.render()
        except KeyError:  # a parameter without a default: show the placeholder
            text = q.text
        out.append(pages.Example(q.name, q.title, q.answers, text))
    return out


# --------------------------------------------------------------------------------------------
# The app


def create_app(
    store_path: str | Path,
    *,
    query_timeout: float = 30.0,
    max_rows: int = 100_000,
    max_body: int = 1_000_000,
    max_result_bytes: int = 128 << 20,
    allow_service: bool = False,
    check_interval: float = 1.0,
    cache_bytes: int = 64 * 1024 * 1024,
    allow_update: bool = False,
    update_token: str | None = None,
) -> Starlette:
    """A Starlette app serving the store at ``store_path`` (read-only unless ``allow_update``).

    :param store_path: a shilu store directory (``DIR`` with ``DIR/current``: the app follows
        ``current`` to each new generation ``shilu build`` publishes) or a plain Oxigraph
        directory (served as it is).
    :param query_timeout: wall-clock seconds a query may take (503 beyond).
    :param max_rows: most solutions / triples a result may have (413 beyond).
    :param max_body: most bytes a POST body or a query may have (413 beyond).
    :param max_result_bytes: most bytes a serialized result may have (413 beyond).
    :param allow_service: allow ``SERVICE`` (federated queries make the server fetch
        arbitrary URLs, outside the time limit), refused with 403 by default.
    :param check_interval: seconds between two looks at ``DIR/current``.
    :param cache_bytes: memory for responses kept per store generation (0: no cache).
    :param allow_update: accept SPARQL Update and Graph Store Protocol writes (each needs
        ``Authorization: Bearer <update_token>``).  The current generation is then opened
        read-write (one process only), and what is written is lost at the next ``shilu build``.
    :param update_token: the bearer token writes must present (required with ``allow_update``).
    :raises FileNotFoundError: when there is no store at ``store_path``.
    :raises ValueError: ``allow_update`` without an ``update_token``.
    """
    if allow_update and not update_token:
        raise ValueError("updates are allowed but no update token is set: give --update-token "
                         "or SHILU_UPDATE_TOKEN")
    handle = StoreHandle(store_path, check_interval=check_interval, cache_bytes=cache_bytes,
                         writable=allow_update)
    endpoint = SparqlEndpoint(handle, query_timeout=query_timeout, max_rows=max_rows,
                              max_body=max_body, allow_service=allow_service,
                              max_result_bytes=max_result_bytes, allow_update=allow_update,
                              update_token=update_token)
    gsp = GraphStore(endpoint)
    ld = LinkedData(handle, max_body=max_body)
    app = _App(endpoint, routes=[
        Route("/", ld.home, methods=["GET"]),
        Route("/health", endpoint.health, methods=["GET"]),
        Route(_GSP_PATH, gsp.service, methods=["GET", "PUT", "POST", "DELETE", "OPTIONS"]),
        Route("/resource/{rest:path}", ld.resource, methods=["GET"]),
        Route("/page/{rest:path}", ld.page, methods=["GET"]),
        Route("/data/{rest:path}", ld.data, methods=["GET"]),
        Route("/source/{rest:path}", ld.source, methods=["GET"]),
        Route("/ontology", ld.ontology_route, methods=["GET"]),
        Route("/.well-known/void", ld.void, methods=["GET"]),
        Route("/void", ld.void, methods=["GET"]),
        Route("/static/{name}", ld.static, methods=["GET"]),
    ], middleware=[Middleware(CommonHeaders)])
    app.state.store = handle
    return app


class _App(Starlette):
    """Starlette, with ``/sparql`` answered before its routing and middleware.

    A small query is evaluated in a fraction of a millisecond; Starlette's middleware stack,
    router, request and response objects took longer than that per request, so ``/sparql``
    (every method) goes to :class:`SparqlEndpoint` as a plain ASGI app, which sets the headers
    :class:`CommonHeaders` sets elsewhere itself.
    """

    def __init__(self, sparql: SparqlEndpoint, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.sparql = sparql

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            path = scope["path"]
            root = scope.get("root_path", "")
            if root and path.startswith(root + "/"):
                path = path[len(root):]
            if path == "/sparql":
                await self.sparql(scope, receive, send)
                return
        await super().__call__(scope, receive, send)


class _Collected:
    """Stands in for a transport while uvicorn writes one response: keeps what it writes."""

    def __init__(self, transport: Any) -> None:
        self.transport = transport
        self.chunks: list[bytes] = []
        self.closed = False

    def write(self, data: bytes) -> None:
        self.chunks.append(data)

    def close(self) -> None:
        self.closed = True

    def __getattr__(self, name: str) -> Any:
        return getattr(self.transport, name)


@functools.lru_cache(maxsize=1)
def _http_protocol() -> Any:
    """uvicorn's httptools protocol, writing each response's head and body in one piece.

    uvicorn writes the status line and headers when the app sends ``http.response.start`` and
    the body when it sends ``http.response.body``: two ``send`` system calls, two TCP segments
    and two wake-ups of the client per response, which on a loaded machine cost more than
    answering a small query.  This keeps the start message until the body that completes the
    response arrives and writes both at once (uvicorn still formats and checks them).
    ``"auto"`` when httptools (or the uvicorn classes this builds on) is not there.
    """
    try:
        import httptools
        from uvicorn.protocols.http.httptools_impl import (STATUS_LINE, HttpToolsProtocol,
                                                           RequestResponseCycle)
    except ImportError:
        return "auto"
    if not (hasattr(HttpToolsProtocol, "on_headers_complete")
            and hasattr(RequestResponseCycle, "send")):
        return "auto"

    class OneWriteCycle(RequestResponseCycle):  # type: ignore[misc, valid-type]
        _held: Any = None

        async def send(self, message: Any) -> None:
            held = self._held
            if message["type"] == "http.response.start" and not self.response_started:
                self._held = message  # (a second start, uvicorn's 500, replaces an unsent one)
                return
            if held is None:
                await super().send(message)
                return
            self._held = None
            if message["type"] != "http.response.body" or message.get("more_body", False):
                await super().send(held)  # a streamed body: as uvicorn does
                await super().send(message)
                return
            transport = self.transport
            collected = self.transport = _Collected(transport)
            try:
                await super().send(held)
                await super().send(message)
            finally:
                self.transport = transport
            if collected.chunks:
                transport.write(b"".join(collected.chunks))
            if collected.closed:
                transport.close()

    @functools.lru_cache(maxsize=1024)
    def sparql_query_string(url: bytes) -> bytes | None:
        """The query string of ``url``, a request target starting with ``/sparql?``, if its
        path is ``/sparql`` and it has no fragment; else None.  Remembered: parsing the URL
        again took a few microseconds of each request, and clients repeat their URLs."""
        parsed = httptools.parse_url(url)
        if parsed.path != b"/sparql" or parsed.fragment:
            return None
        return parsed.query or b""

    class OneWriteProtocol(HttpToolsProtocol):  # type: ignore[misc, valid-type]
        #: :func:`_endpoint_of` the app, once per connection (``False``: not worked out yet)
        _endpoint: SparqlEndpoint | None | bool = False
        #: uvicorn's default headers (server_state.default_headers) and their lines
        _default_lines: tuple[Any, bytes] = (None, b"")

        def on_headers_complete(self) -> None:
            if self._answer_now():
                return
            super().on_headers_complete()
            if type(self.cycle) is RequestResponseCycle:
                self.cycle.__class__ = OneWriteCycle

        def _answer_now(self) -> bool:
            """Answer a ``GET /sparql`` that needs no waiting here, without an ASGI request.

            For a small query the ASGI request (scope, cycle, task, three awaits, uvicorn's
            checks of every header) cost about as much as evaluating it; a request the endpoint
            can answer at once (:meth:`SparqlEndpoint.answer_now`) is written from here.  The
            response is the one the ASGI path would send, uvicorn's default headers included.
            Everything else (other paths and methods, pipelined requests, requests through a
            proxy, errors) goes the ASGI way.
            """
            endpoint = self._endpoint
            if endpoint is False:
                endpoint = self._endpoint = _endpoint_of(self.app)
            if endpoint is None or self.root_path:
                return False
            cycle = self.cycle
            parser = self.parser
            if ((cycle is not None and not cycle.response_complete)
                    or parser.get_method() != b"GET" or parser.should_upgrade()):
                return False
            url = self.url
            if not url.startswith(b"/sparql?"):
                return False
            headers: dict[str, str] = {}
            for name, value in self.headers:
                if name in _PROXY_HEADERS:  # the access log would need the proxied client
                    return False
                headers.setdefault(name.decode("latin-1"), value.decode("latin-1"))
            query_string = (sparql_query_string(url) if len(url) <= 8192
                            else sparql_query_string.__wrapped__(url))
            if query_string is None:
                return False
            answer = endpoint.answer_now(query_string, headers)
            if answer is None:
                return False
            http_version = parser.get_http_version()
            keep_alive = http_version == "1.1" and parser.should_keep_alive()
            self.cycle = _ANSWERED  # for the parser's later callbacks: nothing left to do
            self._respond(answer, url, http_version, keep_alive)
            return True

        def _respond(self, answer: _Answer, url: bytes, http_version: str,
                     keep_alive: bool) -> None:
            if self.access_log:
                client = self.client
                self.access_logger.info('%s - "%s %s HTTP/%s" %d',
                                        f"{client[0]}:{client[1]}" if client else "",
                                        "GET", url.decode("latin-1"), http_version,
                                        answer.status)
            default = self.server_state.default_headers  # a new list each second (date)
            encoded = OneWriteProtocol._default_lines
            if encoded[0] is not default:
                encoded = OneWriteProtocol._default_lines = (
                    default, b"".join([b"%s: %s\r\n" % header for header in default]))
            head = [STATUS_LINE[answer.status], encoded[1],
                    _header_lines(answer) if answer.head is None else answer.head]
            if answer.status not in (204, 304):  # as _answer_headers gives it, last
                head.append(b"content-length: %d\r\n" % len(answer.body))
            if not keep_alive:
                head.append(b"connection: close\r\n")
            head.append(b"\r\n")
            head.append(answer.body)
            self.transport.write(b"".join(head))
            if not keep_alive:
                self.transport.close()
            self.on_response_complete()

    return OneWriteProtocol


class _Answered:
    """Stands in for uvicorn's request cycle after :meth:`OneWriteProtocol._answer_now`."""

    __slots__ = ()
    response_complete = True
    disconnected = False
    more_body = False

    class message_event:  # noqa: N801 - the attribute uvicorn sets on disconnection
        @staticmethod
        def set() -> None:
            pass


_ANSWERED = _Answered()

#: Request headers that make uvicorn's proxy middleware rewrite the client (for the log).
_PROXY_HEADERS = frozenset({b"x-forwarded-for", b"x-forwarded-proto", b"forwarded"})


def _endpoint_of(app: Any) -> SparqlEndpoint | None:
    """The :class:`SparqlEndpoint` of ``app`` as uvicorn loaded it: our app, directly or
    behind uvicorn's proxy-headers middleware only; None for anything else."""
    for _ in range(3):
        if isinstance(app, _App):
            return app.sparql
        if type(app).__name__ != "ProxyHeadersMiddleware":
            return None
        app = getattr(app, "app", None)
    return None


def __getattr__(name: str) -> Any:
    # "shilu.graph.server:OneWriteProtocol" names the protocol for uvicorn's worker processes
    # (a class made on demand, so that importing this module does not import uvicorn).
    if name == "OneWriteProtocol":
        return _http_protocol()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _http_option() -> str:
    """uvicorn's ``http`` option: the one-write protocol when it can be made."""
    return "auto" if isinstance(_http_protocol(), str) else f"{__name__}:OneWriteProtocol"


_CONFIG_ENV = "SHILU_SERVE_CONFIG"


def _app_from_environment() -> Starlette:
    """The app of one worker process of ``serve(workers=N)`` (an import-string factory)."""
    _cap_malloc_arenas()
    config = json.loads(os.environ[_CONFIG_ENV])
    return create_app(config.pop("store"), **config)


def _cap_malloc_arenas(arenas: int = 2) -> None:
    """Keep glibc from giving every new thread an arena of its own.

    Each store swap opens the new generation in a fresh thread, and glibc's default (8 arenas
    per core) let the server's memory grow by a few MB per swap that it never gave back
    (bench/load.py measured it; with two arenas it stays flat). mallopt(M_ARENA_MAX) is the
    run-time form of MALLOC_ARENA_MAX; elsewhere than glibc this does nothing.
    """
    try:
        import ctypes
        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt(-8, arenas)  # M_ARENA_MAX
    except (OSError, AttributeError):
        pass


def serve(
    store_path: str | Path,
    *,
    host: str = "127.0.0.1",
    port: int = 7878,
    log_level: str = "info",
    access_log: bool = True,
    workers: int = 1,
    **options: Any,
) -> None:
    """Serve ``store_path`` (a store directory, followed across rebuilds, or a plain Oxigraph
    directory) at ``http://host:port/`` until interrupted.

    ``options`` are passed to :func:`create_app` (``query_timeout``, ``max_rows``,
    ``max_body``, ``max_result_bytes``, ``allow_service``, ``check_interval``,
    ``cache_bytes``, ``allow_update``, ``update_token``).  uvicorn runs on uvloop with
    httptools, through :func:`_http_protocol` (one write per response).

    :param workers: server processes sharing the port.  Each one opens the store read-only,
        follows ``current`` and keeps its own response cache; more than one lets the Python
        side of request handling use several cores (Oxigraph itself already does), but after
        a rebuild the processes switch generations independently (within about a second).
    :raises FileNotFoundError: when there is no store at ``store_path``.
    """
    import uvicorn

    _cap_malloc_arenas()
    if workers <= 1:
        uvicorn.run(create_app(store_path, **options), host=host, port=port,
                    log_level=log_level, access_log=access_log, http=_http_option())
        return
    if options.get("allow_update"):
        raise ValueError("--allow-update needs a single worker (the store is opened "
                         "read-write by one process)")
    StoreHandle(store_path)  # fail here, once, if there is no store
    os.environ[_CONFIG_ENV] = json.dumps({"store": str(store_path), **options})
    uvicorn.run(f"{__name__}:_app_from_environment", factory=True, workers=workers,
                host=host, port=port, log_level=log_level, access_log=access_log,
                http=_http_option())
