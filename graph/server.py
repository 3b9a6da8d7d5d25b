"""A read-only SPARQL 1.1 Protocol endpoint over an Oxigraph store directory.

Routes
------

``/sparql`` (GET, POST, OPTIONS)
    SPARQL 1.1 Protocol query operation: ``GET ?query=``, ``POST`` with
    ``application/x-www-form-urlencoded`` (``query=``) or ``POST`` with
    ``application/sparql-query`` (the body is the query).  ``default-graph-uri`` /
    ``named-graph-uri`` select the dataset; when neither is given and the query has no
    ``FROM`` / ``FROM NAMED`` clause, the default graph is the union of all graphs
    (``use_default_graph_as_union=True``).  ``GET /sparql`` without ``query`` returns the
    SPARQL 1.1 Service Description of the endpoint.  Every response carries
    ``Access-Control-Allow-Origin: *``; ``OPTIONS`` answers CORS preflights.

``/health`` (GET)
    ``{"status": "ok", "graphs": N}``.

Result formats are chosen by the ``format=`` parameter if given (a short name such as
``json``, ``xml``, ``csv``, ``tsv``, ``turtle``, ``nt``, ``rdfxml``, ``jsonld``, ``trig``,
``nquads``, ``n3``, or a media type), otherwise by the ``Accept`` header (q-values and
wildcards honoured; no or empty header means the default).  ``SELECT`` / ``ASK``: SPARQL
results JSON (default), XML, CSV, TSV.  ``CONSTRUCT`` / ``DESCRIBE``: Turtle (default),
N-Triples, RDF/XML, JSON-LD, TriG, N-Quads, N3 (the dataset formats put the triples in the
default graph).

Status codes
------------

====  ==========================================================================
200   success
400   malformed query (the parser's message), missing ``query`` on POST, repeated
      ``query``, bad ``default-graph-uri`` / ``named-graph-uri``, undecodable body
403   SPARQL Update of any kind (``update=``, ``application/sparql-update``, or update
      syntax sent as a query): this endpoint is read-only; also ``SERVICE`` (federated
      query) unless the app was created with ``allow_service=True``
406   no result format satisfies ``Accept`` / ``format=`` for this query form
413   request body (or query text) larger than ``max_body``; or a result with more than
      ``max_rows`` solutions / triples ("result exceeds N rows; add LIMIT") — results are
      never silently truncated
415   POST with a content type other than the three above
503   the query ran longer than ``query_timeout`` seconds
500   any other error while evaluating the query
====  ==========================================================================

Execution
---------

Pyoxigraph has no query timeout, so each query runs (and its results are serialized) in a
worker thread that materialises the solutions one at a time, checking the row cap and a
wall-clock deadline after each; pyoxigraph releases the GIL while evaluating, so several
readers run in parallel.  A single step of evaluation that takes longer than the deadline
(for example sorting a huge intermediate result before the first row) cannot be interrupted:
the request still answers 503 shortly after the deadline, but the worker thread runs on until
that step finishes and then stops at its next check.

Pyoxigraph exposes no SPARQL parser, so three decisions look at the query text (with strings,
IRIs and comments blanked out): whether it has ``FROM`` / ``FROM NAMED`` (then the union
default graph is not imposed, because pyoxigraph would ignore the clauses), whether it uses
``SERVICE``, and — only for text that failed to parse as a query — whether it is an update.

The store is held by a :class:`~shilu.graph.store_handle.StoreHandle` (``app.state.store``);
each request takes its snapshot once, so :meth:`StoreHandle.reopen` can swap in a rebuilt
store without disturbing running queries.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import re
import time
import traceback
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any
from urllib.parse import parse_qsl

import anyio
import anyio.to_thread
import pyoxigraph as ox
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from .store_handle import Snapshot, StoreHandle

__all__ = ["create_app", "serve", "StoreHandle"]

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


# --------------------------------------------------------------------------------------------
# Running a query (in a worker thread)


@dataclass(frozen=True, slots=True)
class _QueryRequest:
    query: str
    default_graphs: tuple[str, ...]
    named_graphs: tuple[str, ...]
    format_param: str | None
    accept: str | None


def _dataset_arguments(req: _QueryRequest, blanked: str) -> dict[str, Any]:
    if req.default_graphs or req.named_graphs:
        try:
            return {"default_graph": [ox.NamedNode(g) for g in req.default_graphs],
                    "named_graphs": [ox.NamedNode(g) for g in req.named_graphs]}
        except ValueError as e:
            raise HTTPError(400, f"invalid default-graph-uri / named-graph-uri: {e}") from e
    if _DATASET_CLAUSE.search(blanked):
        return {}  # the query's own FROM / FROM NAMED clauses define the dataset
    return {"use_default_graph_as_union": True}


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


def _execute(snapshot: Snapshot, req: _QueryRequest, *, deadline: float, limit: float,
             max_rows: int, allow_service: bool) -> tuple[bytes, _Format]:
    """Evaluate and serialize one query in the calling (worker) thread.

    Returns the body and its format; every failure is raised as a fresh :class:`HTTPError`
    without traceback or context.  Pyoxigraph's result iterators must be dropped on the thread
    that created them, and an exception escaping with its traceback would keep them alive (in
    the frames) until the event loop thread dropped it.
    """
    try:
        return _evaluate(snapshot, req, deadline=deadline, limit=limit, max_rows=max_rows,
                         allow_service=allow_service)
    except HTTPError as e:
        status, message = e.status, e.message
    except Exception as e:  # evaluation errors from Oxigraph (OSError, ValueError, ...)
        # Formatted here, not log.exception: a LogRecord kept by a handler would hold the frames.
        log.error("query failed: %s\n%s", req.query, traceback.format_exc())
        status, message = 500, f"query evaluation failed: {e}"
    # Outside the handler: the original exception, its frames and their locals are gone.
    raise HTTPError(status, message)


def _evaluate(snapshot: Snapshot, req: _QueryRequest, *, deadline: float, limit: float,
              max_rows: int, allow_service: bool) -> tuple[bytes, _Format]:
    blanked = _blank_lexical(req.query)
    if not allow_service and _SERVICE_CLAUSE.search(blanked):
        raise HTTPError(403, "SERVICE (federated query) is disabled on this endpoint")
    kwargs = _dataset_arguments(req, blanked)
    try:
        result = snapshot.store.query(req.query, **kwargs)
    except SyntaxError as e:
        if looks_like_update(req.query):
            raise HTTPError(403, "SPARQL Update is not allowed: this endpoint is read-only") from e
        raise HTTPError(400, f"malformed query: {e}") from e

    if isinstance(result, ox.QueryBoolean):
        fmt = negotiate(RESULT_FORMATS, req.accept, req.format_param, "ASK results")
        return result.serialize(format=fmt.results), fmt
    if isinstance(result, ox.QuerySolutions):
        fmt = negotiate(RESULT_FORMATS, req.accept, req.format_param, "SELECT results")
        variables = [v.value for v in result.variables]
        rows = _collect((tuple(s) for s in result), deadline, limit, max_rows, "rows")
        return _SELECT_WRITERS[fmt.name](variables, rows), fmt
    fmt = negotiate(GRAPH_FORMATS, req.accept, req.format_param, "CONSTRUCT/DESCRIBE results")
    triples = _collect(result, deadline, limit, max_rows, "triples")
    return _serialize_graph(triples, fmt), fmt


def _service_description(snapshot: Snapshot, endpoint: str, fmt: _Format) -> bytes:
    """The SPARQL 1.1 Service Description of this endpoint, in ``fmt``."""

    def sd(local: str) -> ox.NamedNode:
        return ox.NamedNode(_SD + local)

    service, dataset, default_graph = ox.BlankNode(), ox.BlankNode(), ox.BlankNode()
    triples = [
        ox.Triple(service, _RDF_TYPE, sd("Service")),
        ox.Triple(service, sd("endpoint"), ox.NamedNode(endpoint)),
        ox.Triple(service, sd("supportedLanguage"), sd("SPARQL11Query")),
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
# HTTP


_CORS_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Expose-Headers": "Content-Type",
}
_PREFLIGHT_HEADERS = {
    **_CORS_HEADERS,
    "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
    "Access-Control-Max-Age": "86400",
}
_FORM = "application/x-www-form-urlencoded"
_SPARQL_QUERY = "application/sparql-query"
_SPARQL_UPDATE = "application/sparql-update"


def _single(params: list[tuple[str, str]], key: str) -> str | None:
    values = [v for k, v in params if k == key]
    if len(values) > 1:
        raise HTTPError(400, f"more than one '{key}' parameter")
    return values[0] if values else None


class SparqlEndpoint:
    """The route handlers, bound to a store handle and the request limits."""

    def __init__(self, handle: StoreHandle, *, query_timeout: float, max_rows: int,
                 max_body: int, allow_service: bool) -> None:
        self.handle = handle
        self.query_timeout = query_timeout
        self.max_rows = max_rows
        self.max_body = max_body
        self.allow_service = allow_service

    async def health(self, request: Request) -> Response:
        return JSONResponse({"status": "ok", "graphs": len(self.handle.current.graphs)})

    async def sparql(self, request: Request) -> Response:
        if request.method == "OPTIONS":
            headers = dict(_PREFLIGHT_HEADERS)
            headers["Access-Control-Allow-Headers"] = request.headers.get(
                "access-control-request-headers", "Accept, Content-Type")
            return Response(status_code=204, headers=headers)
        try:
            response = await self._sparql(request)
        except HTTPError as e:
            if e.status >= 500:
                log.warning("SPARQL request failed (%d): %s", e.status, e.message)
            response = PlainTextResponse(e.message + "\n", status_code=e.status)
        response.headers.update(_CORS_HEADERS)
        response.headers["Vary"] = "Accept"
        return response

    async def _sparql(self, request: Request) -> Response:
        deadline = time.monotonic() + self.query_timeout
        params = await self._read_params(request)
        if _single(params, "update") is not None:
            raise HTTPError(403, "SPARQL Update is not allowed: this endpoint is read-only")
        query = _single(params, "query")
        format_param = _single(params, "format")
        accept = request.headers.get("accept")
        snapshot = self.handle.current  # one snapshot for the whole request

        if query is None:
            if request.method == "POST":
                raise HTTPError(400, "missing 'query' parameter")
            fmt = negotiate(GRAPH_FORMATS, accept, format_param, "the service description")
            endpoint = str(request.url.replace(query="", fragment=""))
            body = await anyio.to_thread.run_sync(_service_description, snapshot, endpoint, fmt)
            return Response(body, media_type=fmt.content_type)

        if len(query.encode()) > self.max_body:
            raise HTTPError(413, f"query longer than {self.max_body} bytes")
        req = _QueryRequest(
            query=query,
            default_graphs=tuple(v for k, v in params if k == "default-graph-uri"),
            named_graphs=tuple(v for k, v in params if k == "named-graph-uri"),
            format_param=format_param,
            accept=accept,
        )

        def work() -> tuple[bytes, _Format]:
            return _execute(snapshot, req, deadline=deadline, limit=self.query_timeout,
                            max_rows=self.max_rows, allow_service=self.allow_service)

        try:
            with anyio.fail_after(max(deadline - time.monotonic(), 0) + _DEADLINE_GRACE):
                body, fmt = await anyio.to_thread.run_sync(work, abandon_on_cancel=True)
        except TimeoutError:
            raise _timeout_error(self.query_timeout) from None
        return Response(body, media_type=fmt.content_type)

    async def _read_params(self, request: Request) -> list[tuple[str, str]]:
        """The request's protocol parameters, as (name, value) pairs in order."""
        params = list(request.query_params.multi_items())
        if request.method != "POST":
            return params
        content_type, *ct_params = request.headers.get("content-type", "").split(";")
        content_type = content_type.strip().lower()
        if content_type == _SPARQL_UPDATE:
            raise HTTPError(403, "SPARQL Update is not allowed: this endpoint is read-only")
        if content_type not in (_FORM, _SPARQL_QUERY):
            raise HTTPError(415, f"unsupported content type '{content_type}'; "
                                 f"use {_FORM} or {_SPARQL_QUERY}")
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
        if content_type == _SPARQL_QUERY:
            # The query is the body; the dataset and format stay in the URL.
            if any(k == "query" for k, _ in params):
                raise HTTPError(400, "'query' given both in the URL and as the request body")
            return [*params, ("query", text)]
        try:
            form = parse_qsl(text, keep_blank_values=True, encoding="utf-8", errors="strict")
        except (UnicodeDecodeError, ValueError) as e:
            raise HTTPError(400, f"malformed form body: {e}") from None
        return [*form, *params]

    async def _read_body(self, request: Request) -> bytes:
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


def create_app(
    store_path: str | Path,
    *,
    query_timeout: float = 30.0,
    max_rows: int = 100_000,
    max_body: int = 1_000_000,
    allow_service: bool = False,
) -> Starlette:
    """A Starlette app serving the Oxigraph store directory ``store_path`` read-only.

    :param query_timeout: wall-clock seconds a query may take (503 beyond).
    :param max_rows: most solutions / triples a result may have (413 beyond).
    :param max_body: most bytes a POST body or a query may have (413 beyond).
    :param allow_service: allow ``SERVICE`` (federated queries make the server fetch
        arbitrary URLs, outside the time limit), refused with 403 by default.
    """
    handle = StoreHandle(store_path)
    endpoint = SparqlEndpoint(handle, query_timeout=query_timeout, max_rows=max_rows,
                              max_body=max_body, allow_service=allow_service)
    app = Starlette(routes=[
        Route("/sparql", endpoint.sparql, methods=["GET", "POST", "OPTIONS"]),
        Route("/health", endpoint.health, methods=["GET"]),
    ])
    app.state.store = handle
    return app


def serve(
    store_path: str | Path,
    *,
    host: str = "127.0.0.1",
    port: int = 7878,
    log_level: str = "info",
    **limits: Any,
) -> None:
    """Serve ``store_path`` at ``http://host:port/sparql`` until interrupted.

    ``limits`` are passed to :func:`create_app` (``query_timeout``, ``max_rows``,
    ``max_body``, ``allow_service``).
    """
    import uvicorn

    uvicorn.run(create_app(store_path, **limits), host=host, port=port, log_level=log_level)
