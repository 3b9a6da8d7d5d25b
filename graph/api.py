"""The notebook API: the graph as plain Python values.

Open a store built by ``shilu build`` (or any Oxigraph directory) or a running endpoint, and
ask it named queries, SPARQL, or for a thing by any of its names::

    >>> import shilu
    >>> kg = shilu.open("data/store")                       # doctest: +SKIP
    >>> rows = kg.query("rulers", dynasty="西夏")           # a named query in queries/
    >>> rows[0].name, rows[0].acceded                       # doctest: +SKIP
    ('李德明', 1004)
    >>> kg.query("SELECT ?l WHERE { res:金朝 rdfs:label ?l }").column("l")   # doctest: +SKIP
    ['金朝', '金朝']
    >>> jin = kg.entity("金國")           # any script, label or alias  # doctest: +SKIP
    >>> jin.iri, jin.types                                   # doctest: +SKIP
    ('https://w3id.org/shilu/resource/金朝', ['Dynasty'])
    >>> kg.query("captures").to_dataframe()                 # doctest: +SKIP

    >>> remote = shilu.remote("http://127.0.0.1:7878/sparql")   # doctest: +SKIP

Values are plain Python: IRIs and literals are ``str``, integers ``int``, ``xsd:gYear`` the
year as an ``int`` (negative BCE), decimals and doubles ``float``, booleans ``bool``; unbound
variables are ``None``. The default graph is the union of the article graphs (a triple stated
by several articles comes back once per article: write ``SELECT DISTINCT``), and the project's
prefixes (``shilu:``, ``res:``, ``src:``, ``rdfs:``, ``skos:``, ``oa:``, …) are declared for
every query that does not declare them itself.
"""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.parse
import urllib.request
from collections import namedtuple
from collections.abc import Iterable, Iterator, Sequence
from functools import lru_cache
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING, Any, overload

from . import iris
from .queries import NamedQuery, list_queries, load_query
from .rdf import PREFIXES

if TYPE_CHECKING:  # pragma: no cover
    import pandas
    import rdflib

__all__ = [
    "Entity", "EntityNotFound", "KnowledgeGraph", "LocalGraph", "QueryError", "RemoteGraph",
    "Row", "Rows", "open", "remote", "to_python", "with_prefixes", "ontology_labels",
    "ontology_shortcuts", "ontology_superclasses", "ROLES",
]

_XSD = PREFIXES["xsd"]
_INTEGER_TYPES = frozenset(_XSD + t for t in (
    "integer", "int", "long", "short", "byte", "nonNegativeInteger", "positiveInteger",
    "negativeInteger", "nonPositiveInteger", "unsignedLong", "unsignedInt", "unsignedShort",
    "unsignedByte"))
_FLOAT_TYPES = frozenset(_XSD + t for t in ("decimal", "double", "float"))
_GYEAR = _XSD + "gYear"
_BOOLEAN = _XSD + "boolean"
_GYEAR_RE = re.compile(r"^(-?\d{4,})(?:Z|[+-]\d\d:\d\d)?$")
_NAME_RE = re.compile(r"^[\w.-]+$")
_BAD_IRI = re.compile(r'[\s<>"{}|^`\\]')

#: Role properties that tie an event to the things taking part in it.
ROLES = ("agent", "target", "party", "recipient", "participant", "place")


class QueryError(ValueError):
    """A query the store or endpoint refused (malformed SPARQL, unknown query, HTTP error)."""


class EntityNotFound(LookupError):
    """No resource has the name asked for (as key, label or alias, in either script)."""


def to_python(value: str, datatype: str | None = None, *, kind: str = "literal") -> Any:
    """A SPARQL term as a plain Python value.

    >>> to_python("1122", _GYEAR), to_python("-0221", _GYEAR)
    (1122, -221)
    >>> to_python("42", _XSD + "integer"), to_python("true", _BOOLEAN), to_python("金朝")
    (42, True, '金朝')
    >>> to_python("https://w3id.org/shilu/resource/金朝", kind="uri")
    'https://w3id.org/shilu/resource/金朝'
    """
    if kind == "bnode":
        return "_:" + value
    if kind != "literal" or datatype is None:
        return value
    try:
        if datatype in _INTEGER_TYPES:
            return int(value)
        if datatype == _GYEAR:
            m = _GYEAR_RE.match(value.strip())
            return int(m.group(1)) if m else value
        if datatype in _FLOAT_TYPES:
            return float(value)
        if datatype == _BOOLEAN:
            return value.strip() in ("true", "1")
    except ValueError:
        pass
    return value


# --------------------------------------------------------------------------------------------
# Results


class Row(tuple):
    """One solution: a tuple whose items are also reachable by variable name, as attributes
    (``row.year``) or keys (``row["year"]``); :meth:`as_dict` gives a ``dict``."""

    __slots__ = ()
    _fields: tuple[str, ...] = ()
    _columns: tuple[str, ...] = ()

    def __getitem__(self, key):  # type: ignore[override]
        if isinstance(key, str):
            try:
                return tuple.__getitem__(self, self._columns.index(key))
            except ValueError:
                raise KeyError(key) from None
        return tuple.__getitem__(self, key)

    def get(self, key: str, default: Any = None) -> Any:
        try:
            return self[key]
        except KeyError:
            return default

    def keys(self) -> tuple[str, ...]:
        return self._columns

    def as_dict(self) -> dict[str, Any]:
        return dict(zip(self._columns, self))

    _asdict = as_dict

    def __repr__(self) -> str:
        return "Row(" + ", ".join(f"{c}={v!r}" for c, v in zip(self._columns, self)) + ")"


def _row_class(columns: Sequence[str]) -> type[Row]:
    names = namedtuple("_", columns, rename=True)._fields  # valid, unique attribute names
    attrs: dict[str, Any] = {"__slots__": (), "_fields": tuple(names), "_columns": tuple(columns)}
    for i, name in enumerate(names):
        attrs[name] = property(lambda self, i=i: tuple.__getitem__(self, i), doc=f"column {i}")
    return type("Row", (Row,), attrs)


class Rows(Sequence[Row]):
    """The solutions of a SELECT query: a sequence of :class:`Row` with plain Python values.

    >>> rows = Rows(["name", "year"], [("金朝", 1115), ("西夏", 1038)])
    >>> len(rows), rows[0].name, rows[1]["year"], rows.column("name")
    (2, '金朝', 1038, ['金朝', '西夏'])
    >>> rows.dicts()[0]
    {'name': '金朝', 'year': 1115}
    """

    def __init__(self, columns: Sequence[str], rows: Iterable[Sequence[Any]]):
        self.columns: tuple[str, ...] = tuple(columns)
        cls = _row_class(self.columns)
        self._rows: list[Row] = [cls(r) for r in rows]

    @overload
    def __getitem__(self, index: int) -> Row: ...
    @overload
    def __getitem__(self, index: slice) -> Rows: ...

    def __getitem__(self, index):
        if isinstance(index, slice):
            out = Rows(self.columns, [])
            out._rows = self._rows[index]
            return out
        return self._rows[index]

    def __len__(self) -> int:
        return len(self._rows)

    def __iter__(self) -> Iterator[Row]:
        return iter(self._rows)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Rows):
            return self.columns == other.columns and self._rows == other._rows
        if isinstance(other, list):
            return list(self._rows) == other
        return NotImplemented

    def column(self, name: str) -> list[Any]:
        """Every value of one variable, in row order."""
        i = self.columns.index(name)
        return [r[i] for r in self._rows]

    def dicts(self) -> list[dict[str, Any]]:
        """The rows as dictionaries (variable name → value)."""
        return [r.as_dict() for r in self._rows]

    def first(self) -> Row | None:
        return self._rows[0] if self._rows else None

    def to_dataframe(self) -> pandas.DataFrame:
        """The rows as a pandas DataFrame, one column per variable.

        Needs pandas (``pip install 'shilu[notebook]'``).
        """
        try:
            import pandas
        except ImportError:  # pragma: no cover - depends on the environment
            raise ImportError("Rows.to_dataframe() needs pandas: pip install 'shilu[notebook]'") from None
        df = pandas.DataFrame.from_records(self._rows, columns=list(self.columns))
        for i, name in enumerate(self.columns):
            values = [r[i] for r in self._rows if r[i] is not None]
            if values and len(values) < len(self._rows) and all(
                    isinstance(v, int) and not isinstance(v, bool) for v in values):
                df[name] = df[name].astype("Int64")  # years stay integers beside missing ones
        return df

    df = to_dataframe

    def _table(self, limit: int) -> list[list[str]]:
        return [[("" if v is None else str(v)) for v in r] for r in self._rows[:limit]]

    def __repr__(self) -> str:
        from .cli import _pad, _width  # the CLI's width-aware padding (CJK is two columns)

        shown = self._table(20)
        widths = [max([_width(c)] + [_width(r[i][:40]) for r in shown]) for i, c in enumerate(self.columns)]
        lines = ["  ".join(_pad(c, w) for c, w in zip(self.columns, widths)).rstrip()]
        lines += ["  ".join(_pad(v[:40], w) for v, w in zip(r, widths)).rstrip() for r in shown]
        if len(self._rows) > len(shown):
            lines.append(f"… {len(self._rows) - len(shown)} more")
        lines.append(f"({len(self._rows)} row{'s' if len(self._rows) != 1 else ''})")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        head = "".join(f"<th>{escape(c)}</th>" for c in self.columns)
        body = "".join("<tr>" + "".join(f"<td>{escape(v)}</td>" for v in r) + "</tr>"
                       for r in self._table(50))
        more = f"<p>… {len(self._rows) - 50} more rows</p>" if len(self._rows) > 50 else ""
        return (f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>{more}"
                f"<p>{len(self._rows)} rows</p>")


# --------------------------------------------------------------------------------------------
# Entities


class Entity:
    """A view of one resource: its IRI, labels, classes, aliases and the events it takes part in.

    Made by :meth:`KnowledgeGraph.entity`; ``events`` and ``articles`` are asked for when first
    read.
    """

    def __init__(self, kg: KnowledgeGraph, iri: str, labels: dict[str, str], aliases: list[str],
                 types: list[str], wikipedia: str | None):
        self.kg = kg
        self.iri = iri
        self.labels = labels  #: ``{"zh-Hant": …, "zh-Hans": …}``
        self.aliases = aliases  #: ``skos:altLabel`` values, both scripts
        self.types = types  #: class names (``Dynasty``) for shilu classes, IRIs for others
        self.wikipedia = wikipedia
        self._events: Rows | None = None
        self._articles: list[str] | None = None

    @property
    def key(self) -> str:
        """The IRI's local name (the t2s key of the canonical name)."""
        return self.iri[len(iris.RESOURCE):] if self.iri.startswith(iris.RESOURCE) else self.iri

    @property
    def name(self) -> str:
        return self.labels.get("zh-Hant") or self.labels.get("zh-Hans") or self.key

    @property
    def events(self) -> Rows:
        """Every event the entity takes part in: year, kind, role, the other participants, the
        evidence sentence and the article title; dated events first, by year."""
        if self._events is None:
            self._events = self.kg.query(_EVENTS_QUERY.replace("<IRI>", f"<{self.iri}>"))
        return self._events

    @property
    def articles(self) -> list[str]:
        """Titles of the articles that mention the entity."""
        if self._articles is None:
            rows = self.kg.query(
                f"SELECT DISTINCT ?t WHERE {{ ?a shilu:mentions <{self.iri}> ; dcterms:title ?t }} ORDER BY ?t")
            self._articles = [r[0] for r in rows]
        return self._articles

    def timeline_svg(self, **options: Any) -> str:
        """An SVG timeline of the entity's dated events (see :func:`shilu.graph.timeline.timeline_svg`)."""
        from .timeline import timeline_svg

        return timeline_svg(self.kg, self.iri, **options)

    def __repr__(self) -> str:
        return f"Entity({self.iri!r}, name={self.name!r}, types={self.types!r})"

    def _repr_html_(self) -> str:
        labels = " / ".join(escape(v) for v in dict.fromkeys(self.labels.values()))
        return (f"<p><b>{labels}</b> <code>{escape(self.iri)}</code><br>"
                f"types: {escape(', '.join(self.types))}; aliases: {escape('、'.join(self.aliases))}</p>"
                + self.events[:20]._repr_html_())


_ROLE_VALUES = " ".join(f"shilu:{r}" for r in ROLES)

_EVENTS_QUERY = f"""
SELECT DISTINCT ?year ?kind ?role ?others ?sentence ?article ?event
WHERE {{
  {{ SELECT DISTINCT ?event ?role ?kind ?year WHERE {{
      VALUES ?p {{ {_ROLE_VALUES} }}
      ?event ?p <IRI> ; a ?cls .
      FILTER(STRSTARTS(STR(?cls), STR(shilu:)))
      OPTIONAL {{ ?event shilu:year ?y }}
      BIND(xsd:integer(STR(?y)) AS ?year)
      BIND(STRAFTER(STR(?p), "#") AS ?role)
      BIND(STRAFTER(STR(?cls), "#") AS ?kind) }} }}
  OPTIONAL {{ SELECT ?event (GROUP_CONCAT(DISTINCT ?on; separator="、") AS ?others) WHERE {{
      {{ SELECT DISTINCT ?event ?o WHERE {{
          VALUES ?p {{ {_ROLE_VALUES} }}
          ?event ?p <IRI> .
          VALUES ?q {{ {_ROLE_VALUES} }}
          ?event ?q ?o . FILTER(?o != <IRI>) }} }}
      OPTIONAL {{ SELECT DISTINCT ?o ?ol WHERE {{ ?o rdfs:label ?ol FILTER(langMatches(lang(?ol), "zh-Hant")) }} }}
      BIND(COALESCE(STR(?ol), REPLACE(STR(?o), "^.*/", "")) AS ?on) }} GROUP BY ?event }}
  OPTIONAL {{ SELECT DISTINCT ?event ?sentence ?article WHERE {{
      ?event shilu:evidence ?ev . ?ev rdf:value ?sentence ; oa:hasSource ?src .
      ?src dcterms:title ?t . BIND(STR(?t) AS ?article) }} }}
}}
ORDER BY (!BOUND(?year)) ?year ?kind ?role ?article
"""


# --------------------------------------------------------------------------------------------
# The graph


def _declared_prefixes(text: str) -> set[str]:
    return {m.group(1) for m in re.finditer(r"(?im)^\s*PREFIX\s+([\w.-]*):", text)}


def with_prefixes(text: str) -> str:
    """``text`` with a PREFIX line for each project prefix it uses but does not declare."""
    declared = _declared_prefixes(text)
    missing = [p for p in PREFIXES if p not in declared and re.search(rf"(?<![\w.-]){p}:", text)]
    return "".join(f"PREFIX {p}: <{PREFIXES[p]}>\n" for p in missing) + text


class KnowledgeGraph:
    """What :func:`open` and :func:`remote` return: one API over a local store or an endpoint."""

    def query(self, sparql_or_name: str, /, **params: Any) -> Any:
        """Run a named query (``"alliances"``, see :meth:`queries`), a ``.rq`` file or SPARQL text.

        ``params`` bind the query's ``$name`` placeholders as string literals (numbers are
        turned into their decimal text). A SELECT gives :class:`Rows`, an ASK a ``bool``, a
        CONSTRUCT or DESCRIBE an ``rdflib.Graph``.

        >>> kg.query("polity-timeline", polity="金國")          # doctest: +SKIP
        >>> kg.query("SELECT * WHERE { ?s a shilu:Dynasty }")   # doctest: +SKIP

        :raises QueryError: malformed SPARQL, an unknown parameter, or the endpoint's refusal.
        """
        text = self.render(sparql_or_name, **params)
        return self._run(with_prefixes(text))

    @staticmethod
    def render(sparql_or_name: str, /, **params: Any) -> str:
        """The SPARQL text :meth:`query` would run (without the added PREFIX lines)."""
        values = {k: str(v) for k, v in params.items()}
        named = _named(sparql_or_name)
        try:
            if named is None:
                named = NamedQuery("query", sparql_or_name, params={k: "" for k in values})
            return named.render(**values)
        except KeyError as e:
            raise QueryError(str(e).strip('"')) from None

    @staticmethod
    def queries() -> list[NamedQuery]:
        """The named queries shipped in ``shilu.queries`` (name, title, answers, params)."""
        return list_queries()

    def entity(self, name: str) -> Entity:
        """The resource called ``name``: an IRI, a key, a label or an alias in either script.

        The t2s key is tried first (``遼朝`` → ``res:辽朝``), then labels, then aliases; among
        several things with that name the one most articles mention wins.

        :raises EntityNotFound: when nothing has that name.
        """
        iri = self._resolve(name.strip())
        if iri is None:
            raise EntityNotFound(f"nothing is called {name!r} (as key, label or alias, in either script)")
        rows = self.query(f"""SELECT DISTINCT ?p ?o ?lang WHERE {{
            VALUES ?p {{ rdf:type rdfs:label skos:altLabel foaf:isPrimaryTopicOf }}
            <{iri}> ?p ?o . BIND(LCASE(LANG(?o)) AS ?lang) }} ORDER BY ?p ?lang ?o""")
        labels: dict[str, str] = {}
        aliases: list[str] = []
        types: list[str] = []
        wikipedia = None
        for p, o, lang in rows:
            if p.endswith("#label"):
                key = {"zh-hant": "zh-Hant", "zh-hans": "zh-Hans"}.get(lang, lang or "")
                labels.setdefault(key, o)
            elif p.endswith("#altLabel"):
                if o not in aliases:
                    aliases.append(o)
            elif p.endswith("#type"):
                types.append(o[len(PREFIXES["shilu"]):] if o.startswith(PREFIXES["shilu"]) else o)
            else:
                wikipedia = o
        return Entity(self, iri, labels, aliases, types, wikipedia)

    def _resolve(self, name: str) -> str | None:
        if not name:
            return None
        if name.startswith(("http://", "https://")):
            if _BAD_IRI.search(name):
                raise EntityNotFound(f"not an IRI: {name!r}")
            return name if self._exists(name) else None
        for prefix in ("res:", "src:"):
            if name.startswith(prefix):
                return self._resolve(PREFIXES[prefix[:-1]] + name[len(prefix):])
        from ..extract.script import key, to_hans

        candidate = iris.resource(key(name))
        if self._exists(candidate):
            return candidate
        hans = to_hans(name)
        rows = self.query("""
            SELECT ?thing (MAX(?how) AS ?score) (COUNT(DISTINCT ?a) AS ?articles) WHERE {
              { ?thing rdfs:label ?l BIND(2 AS ?how) } UNION { ?thing skos:altLabel ?l BIND(1 AS ?how) }
              FILTER(STR(?l) = $name || STR(?l) = $hans)
              OPTIONAL { ?a shilu:mentions ?thing }
            } GROUP BY ?thing ORDER BY DESC(?score) DESC(?articles) ?thing LIMIT 1""",
                          name=name, hans=hans)
        return rows[0][0] if rows else None

    def _exists(self, iri: str) -> bool:
        return bool(self._run(f"ASK {{ {{ <{iri}> ?p ?o }} UNION {{ ?s ?p <{iri}> }} }}"))

    def timeline_svg(self, polity: str, **options: Any) -> str:
        """An SVG timeline of a polity's events (see :func:`shilu.graph.timeline.timeline_svg`)."""
        from .timeline import timeline_svg

        return timeline_svg(self, polity, **options)

    def neighbourhood_svg(self, name: str, **options: Any) -> str:
        """An SVG of a thing and its counterparts (see :func:`shilu.graph.timeline.neighbourhood_svg`)."""
        from .timeline import neighbourhood_svg

        return neighbourhood_svg(self, name, **options)

    def rdflib_graph(self) -> rdflib.Dataset:  # pragma: no cover - abstract
        raise NotImplementedError

    def _run(self, text: str) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    def close(self) -> None:
        pass

    def __enter__(self) -> KnowledgeGraph:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _named(sparql_or_name: str) -> NamedQuery | None:
    s = sparql_or_name.strip()
    if s.endswith(".rq") and "\n" not in s:
        try:
            return load_query(s)
        except FileNotFoundError as e:
            raise QueryError(str(e)) from None
    if _NAME_RE.match(s):
        try:
            return load_query(s)
        except FileNotFoundError as e:
            raise QueryError(str(e).strip('"')) from None
    return None


class LocalGraph(KnowledgeGraph):
    """A store directory opened read-only in this process (see :func:`open`)."""

    def __init__(self, path: str | Path | None = None, *, store: Any = None):
        from .store import current_path, open_store

        if store is not None:  # an open pyoxigraph.Store
            self.path = self.location = Path(path) if path else None
            self.store = store
            return
        if path is None:
            raise TypeError("give a store directory or store=")
        self.path = Path(path)
        self.location = current_path(path)
        self.store = open_store(path)

    @classmethod
    def from_store(cls, store: Any) -> LocalGraph:
        """The API over a ``pyoxigraph.Store`` already open in this process."""
        return cls(store=store)

    def _run(self, text: str) -> Any:
        import pyoxigraph as ox

        try:
            result = self.store.query(text, use_default_graph_as_union=True)
        except SyntaxError as e:
            raise QueryError(f"malformed SPARQL: {e}") from None
        except OSError as e:
            raise QueryError(str(e)) from None
        if isinstance(result, ox.QueryBoolean):
            return bool(result)
        if isinstance(result, ox.QuerySolutions):
            columns = [v.value for v in result.variables]
            return Rows(columns, ([_ox_value(t) for t in solution] for solution in result))
        import rdflib

        g = rdflib.Graph()
        data = ox.serialize(result, format=ox.RdfFormat.N_TRIPLES)
        if data:
            g.parse(data=data.decode("utf-8"), format="nt")
        return g

    def rdflib_graph(self) -> rdflib.Dataset:
        """The store as an ``rdflib.Dataset`` (default graph: the union of the article graphs).

        With oxrdflib installed (``pip install 'shilu[notebook]'``) the Dataset reads the store
        itself, read-only; otherwise every quad is copied into an in-memory Dataset.
        """
        import rdflib

        try:
            from oxrdflib import OxigraphStore
        except ImportError:
            from .export import export

            ds = rdflib.Dataset(default_union=True)
            ds.parse(data=export(self.store, "nquads").decode("utf-8"), format="nquads")
            return ds
        return rdflib.Dataset(store=OxigraphStore(store=self.store), default_union=True)

    def __repr__(self) -> str:
        return f"shilu.open({str(self.path)!r})" if self.path else "LocalGraph(store=…)"


def _ox_value(term: Any) -> Any:
    if term is None:
        return None
    import pyoxigraph as ox

    if isinstance(term, ox.NamedNode):
        return term.value
    if isinstance(term, ox.BlankNode):
        return "_:" + term.value
    if isinstance(term, ox.Literal):
        return to_python(term.value, term.datatype.value if term.datatype else None)
    return str(term)


class RemoteGraph(KnowledgeGraph):
    """A SPARQL endpoint, such as ``shilu serve`` (see :func:`remote`)."""

    def __init__(self, url: str, *, timeout: float = 60.0, headers: dict[str, str] | None = None):
        parts = urllib.parse.urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"not an http(s) URL: {url!r}")
        if parts.path in ("", "/"):
            url = urllib.parse.urlunsplit(parts._replace(path="/sparql"))
        self.url = url
        self.timeout = timeout
        self.headers = dict(headers or {})

    def _post(self, text: str, accept: str) -> tuple[str, bytes]:
        body = urllib.parse.urlencode({"query": text}).encode("utf-8")
        request = urllib.request.Request(self.url, data=body, method="POST", headers={
            **self.headers, "Accept": accept,
            "Content-Type": "application/x-www-form-urlencoded; charset=utf-8"})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return response.headers.get("Content-Type", ""), response.read()
        except urllib.error.HTTPError as e:
            detail = e.read().decode("utf-8", "replace").strip().splitlines()
            raise QueryError(f"{self.url}: HTTP {e.code}: {detail[0] if detail else e.reason}") from None
        except urllib.error.URLError as e:
            raise QueryError(f"{self.url}: {e.reason}") from None

    def _run(self, text: str) -> Any:
        content_type, body = self._post(
            text, "application/sparql-results+json, application/n-triples;q=0.9")
        if "json" in content_type:
            data = json.loads(body)
            if "boolean" in data:
                return bool(data["boolean"])
            columns = data.get("head", {}).get("vars", [])
            return Rows(columns, ([_json_value(b.get(c)) for c in columns]
                                 for b in data.get("results", {}).get("bindings", [])))
        import rdflib

        g = rdflib.Graph()
        if body.strip():
            g.parse(data=body.decode("utf-8"), format="nt")
        return g

    def rdflib_graph(self) -> rdflib.Dataset:
        """An ``rdflib.Dataset`` whose reads are SPARQL queries to the endpoint (read-only)."""
        import rdflib
        from rdflib.plugins.stores.sparqlstore import SPARQLStore

        return rdflib.Dataset(store=SPARQLStore(query_endpoint=self.url, returnFormat="json"),
                              default_union=True)

    def __repr__(self) -> str:
        return f"shilu.remote({self.url!r})"


def _json_value(binding: dict[str, Any] | None) -> Any:
    if binding is None:
        return None
    kind = binding.get("type", "literal")
    if kind == "typed-literal":  # SPARQL 1.0 JSON
        kind = "literal"
    return to_python(binding.get("value", ""), binding.get("datatype"), kind=kind)


def open(path: str | Path = "data/store") -> LocalGraph:  # noqa: A001 - shilu.open reads well
    """Open a store read-only: a ``shilu build`` directory (with ``current``) or a plain
    Oxigraph directory.

    >>> kg = shilu.open("data/store")      # doctest: +SKIP

    :raises FileNotFoundError: when there is no store at ``path``.
    """
    return LocalGraph(path)


def remote(url: str, *, timeout: float = 60.0, headers: dict[str, str] | None = None) -> RemoteGraph:
    """The same API over a SPARQL endpoint (``http://host:port`` or ``…/sparql``), JSON results.

    >>> kg = shilu.remote("http://127.0.0.1:7878/sparql")   # doctest: +SKIP
    """
    return RemoteGraph(url, timeout=timeout, headers=headers)



# --------------------------------------------------------------------------------------------
# The ontology's own words, for pictures and exports


@lru_cache(maxsize=1)
def _ontology_quads() -> tuple:
    import pyoxigraph as ox

    from ..ontology import ONTOLOGY_PATH

    return tuple(ox.parse(path=str(ONTOLOGY_PATH), format=ox.RdfFormat.TURTLE))


@lru_cache(maxsize=8)
def ontology_labels(script: str = "zh-Hant") -> dict[str, str]:
    """The label of every shilu class and property in ``script`` (``zh-Hant``, ``zh-Hans`` or
    ``en``), by local name.

    >>> ontology_labels()["Capture"], ontology_labels("zh-Hans")["Conquest"], ontology_labels("en")["Victory"]
    ('攻佔', '灭国', 'Victory')
    """
    ns, label = PREFIXES["shilu"], PREFIXES["rdfs"] + "label"
    out: dict[str, str] = {}
    for q in _ontology_quads():
        if (q.predicate.value == label and q.subject.value.startswith(ns)
                and (q.object.language or "").lower() == script.lower()):
            out[q.subject.value[len(ns):]] = q.object.value
    return out


@lru_cache(maxsize=1)
def ontology_superclasses() -> dict[str, tuple[str, ...]]:
    """Each shilu class with its shilu superclasses, nearest first: ``City`` → ``("Place",)``.

    >>> ontology_superclasses()["Dynasty"], ontology_superclasses()["Capture"]
    (('Polity',), ('Event',))
    """
    ns, sub = PREFIXES["shilu"], PREFIXES["rdfs"] + "subClassOf"
    parents: dict[str, list[str]] = {}
    for q in _ontology_quads():
        if q.predicate.value == sub and q.subject.value.startswith(ns) and q.object.value.startswith(ns):
            parents.setdefault(q.subject.value[len(ns):], []).append(q.object.value[len(ns):])
    out: dict[str, tuple[str, ...]] = {}
    for cls in parents:
        seen: list[str] = []
        todo = list(parents[cls])
        while todo:
            c = todo.pop(0)
            if c not in seen:
                seen.append(c)
                todo.extend(parents.get(c, []))
        out[cls] = tuple(seen)
    return out


@lru_cache(maxsize=1)
def ontology_shortcuts() -> dict[str, tuple[str, tuple[str, ...], tuple[str, ...]]]:
    """Each shortcut property with the event class it abbreviates and the roles of its subject
    and object, from the ontology's ``shilu:shortcutOf`` annotations.

    >>> ontology_shortcuts()["captured"]
    ('Capture', ('agent',), ('target',))
    """
    ns = PREFIXES["shilu"]
    of, subj, obj = ns + "shortcutOf", ns + "shortcutSubject", ns + "shortcutObject"
    parts: dict[str, dict[str, list[str]]] = {}
    for q in _ontology_quads():
        if q.predicate.value in (of, subj, obj) and q.subject.value.startswith(ns):
            parts.setdefault(q.subject.value[len(ns):], {}).setdefault(q.predicate.value, []).append(
                q.object.value[len(ns):])
    return {p: (v[of][0], tuple(sorted(v.get(subj, []))), tuple(sorted(v.get(obj, []))))
            for p, v in sorted(parts.items()) if of in v}
