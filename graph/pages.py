"""HTML pages of the shilu server: resource pages, the ontology, the query page, errors.

Everything here is pure rendering: plain view objects (built by :mod:`shilu.graph.server` from
the store) in, UTF-8 HTML out.  Two rules hold throughout:

* every piece of data (literal, IRI, label, query text) goes through :func:`esc` before it
  reaches the page, so an article containing ``<script>`` shows as text; and
* links to things of the graph point at this server (:class:`Links` maps
  ``https://w3id.org/shilu/resource/X`` to ``/resource/X``), other ``http(s)`` IRIs link out,
  and nothing else becomes a link (no ``javascript:`` or ``data:`` URLs from data).

The pages use one style sheet and one script, served by the app from :data:`STATIC` (no CDN:
the pages work offline), and are sent with a ``Content-Security-Policy`` that forbids inline
scripts (:data:`CSP`).
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from urllib.parse import urlencode

import pyoxigraph as ox

from . import iris

__all__ = [
    "CSP", "STATIC", "Evidence", "EventView", "Links", "OntologyTerm", "ResourceView",
    "error_page", "esc", "not_found_page", "ontology_page", "query_page", "resource_page",
]

#: Content-Security-Policy of every HTML page: no inline script, nothing from other origins.
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'")

_XSD = "http://www.w3.org/2001/XMLSchema#"
_RDF_LANG_STRING = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"

#: Prefixes used to abbreviate IRIs on the pages (and offered in the query editor).
PAGE_PREFIXES: dict[str, str] = {
    "shilu": iris.ONTOLOGY,
    "res": iris.RESOURCE,
    "src": iris.SOURCE,
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "xsd": _XSD,
    "oa": "http://www.w3.org/ns/oa#",
    "foaf": "http://xmlns.com/foaf/0.1/",
    "dcterms": "http://purl.org/dc/terms/",
    "prov": "http://www.w3.org/ns/prov#",
    "owl": "http://www.w3.org/2002/07/owl#",
    "wiki": iris.WIKIPEDIA,
}

#: The PREFIX lines the query editor starts with.
EDITOR_PREFIXES = ("shilu", "res", "src", "rdfs", "skos", "xsd", "oa", "foaf", "dcterms")

EXAMPLE_QUERY = """\
# Dynasties with their names in both scripts
SELECT ?dynasty ?hant ?hans WHERE {
  ?dynasty a shilu:Dynasty ;
           rdfs:label ?hant , ?hans .
  FILTER(langMatches(lang(?hant), "zh-Hant") && langMatches(lang(?hans), "zh-Hans"))
}
ORDER BY ?hans
LIMIT 100
"""


def esc(text: object) -> str:
    """HTML-escape ``text`` for element content and quoted attribute values."""
    return html.escape(str(text), quote=True)


# --------------------------------------------------------------------------------------------
# Links and terms


class Links:
    """Maps graph IRIs to paths on this server (mounted at ``root``, e.g. ``""``)."""

    def __init__(self, root: str = "") -> None:
        self.root = root.rstrip("/")

    def href(self, iri: str) -> str | None:
        """The URL to link ``iri`` to, or None when it should not be a link."""
        for namespace, path in ((iris.RESOURCE, "/resource/"), (iris.SOURCE, "/source/")):
            if iri.startswith(namespace) and len(iri) > len(namespace):
                return self.root + path + _url_path(iri[len(namespace):])
        if iri.startswith(iris.ONTOLOGY):
            return f"{self.root}/ontology#{_url_path(iri[len(iris.ONTOLOGY):])}"
        if iri == iris.ONTOLOGY.rstrip("#"):
            return f"{self.root}/ontology"
        if iri.startswith(("http://", "https://")):
            return iri
        return None

    def page(self, path: str, **params: str) -> str:
        """A URL of this server: ``page("/sparql", query=q)``."""
        url = self.root + path
        return url + "?" + urlencode(params) if params else url


def _url_path(rest: str) -> str:
    # A valid IRI's characters are all fine in an HTML href (the browser percent-encodes the
    # non-ASCII ones as UTF-8); keeping them makes the links readable.
    return rest


def compact(iri: str) -> str:
    """``res:金朝`` for ``https://w3id.org/shilu/resource/金朝``; the IRI when no prefix fits."""
    for prefix, namespace in PAGE_PREFIXES.items():
        if iri.startswith(namespace) and len(iri) > len(namespace):
            return f"{prefix}:{iri[len(namespace):]}"
    return iri


def iri_link(iri: str, links: Links, labels: Mapping[str, str], *, cls: str = "") -> str:
    """An ``<a>`` for ``iri`` showing its label (the compact IRI when it has none)."""
    text = labels.get(iri) or compact(iri)
    attrs = f' class="{esc(cls)}"' if cls else ""
    href = links.href(iri)
    if href is None:
        return f'<span{attrs} title="{esc(iri)}">{esc(text)}</span>'
    external = "" if href.startswith(links.root + "/") or not href.startswith("http") \
        else ' rel="nofollow noopener"'
    return f'<a{attrs} href="{esc(href)}" title="{esc(iri)}"{external}>{esc(text)}</a>'


def literal_html(lit: ox.Literal) -> str:
    """A literal with its language tag or (non-string) datatype."""
    if lit.language:
        return (f'<span class="lit" lang="{esc(lit.language)}">{esc(lit.value)}</span>'
                f'<span class="tag">@{esc(lit.language)}</span>')
    datatype = lit.datatype.value
    if datatype in (_XSD + "string", _RDF_LANG_STRING):
        return f'<span class="lit">{esc(lit.value)}</span>'
    return (f'<span class="lit">{esc(lit.value)}</span>'
            f'<span class="tag">^^{esc(compact(datatype))}</span>')


def term_html(term: object, links: Links, labels: Mapping[str, str]) -> str:
    if isinstance(term, ox.NamedNode):
        return iri_link(term.value, links, labels)
    if isinstance(term, ox.Literal):
        return literal_html(term)
    if isinstance(term, ox.BlankNode):
        return f'<span class="bnode">_:{esc(term.value)}</span>'
    return f"<code>{esc(term)}</code>"


def _lang_span(lit: ox.Literal) -> str:
    lang = f' lang="{esc(lit.language)}"' if lit.language else ""
    return f"<span{lang}>{esc(lit.value)}</span>"


# --------------------------------------------------------------------------------------------
# Page frame


STYLE = """\
:root { --fg: #1d1d1f; --muted: #6b6b70; --line: #dedee3; --accent: #8a1c1c; --bg: #fff;
        --soft: #f6f5f2; font-family: system-ui, -apple-system, "Segoe UI", "Noto Sans CJK SC",
        "PingFang SC", "Microsoft YaHei", sans-serif; }
body { margin: 0; color: var(--fg); background: var(--bg); line-height: 1.55; }
header { background: var(--accent); color: #fff; padding: .5rem 1rem; }
header a { color: #fff; margin-right: 1.2rem; text-decoration: none; }
header a.brand { font-weight: 600; }
main { max-width: 72rem; margin: 0 auto; padding: 1rem 1.25rem 3rem; }
h1 { font-size: 1.8rem; margin: .6rem 0 .2rem; }
h1 .sep { color: var(--muted); font-weight: 300; margin: 0 .4rem; }
h2 { font-size: 1.15rem; border-bottom: 1px solid var(--line); padding-bottom: .2rem;
     margin-top: 2rem; }
a { color: var(--accent); }
code, pre, textarea { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace; }
.iri { color: var(--muted); font-size: .9rem; word-break: break-all; }
.tag { color: var(--muted); font-size: .75rem; margin-left: .15rem; }
.types a, .chip { display: inline-block; background: var(--soft); border: 1px solid var(--line);
                  border-radius: 1rem; padding: 0 .6rem; margin: 0 .3rem .3rem 0;
                  text-decoration: none; }
.formats a { margin-right: .8rem; font-size: .9rem; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; vertical-align: top; padding: .3rem .5rem;
         border-bottom: 1px solid var(--line); }
th { font-weight: 600; white-space: nowrap; }
td .v { display: block; }
ol.events { padding-left: 0; list-style: none; }
ol.events > li { border-left: 3px solid var(--accent); padding: .3rem .8rem; margin: .8rem 0;
                 background: var(--soft); }
.year { font-weight: 700; margin-right: .5rem; font-variant-numeric: tabular-nums; }
.role { color: var(--muted); font-size: .85rem; margin-left: .6rem; }
.role.self { font-weight: 600; }
.detail { color: var(--muted); font-size: .8rem; margin-left: .6rem; }
blockquote { margin: .4rem 0 .2rem; padding-left: .8rem; border-left: 2px solid var(--line); }
.source { font-size: .85rem; color: var(--muted); }
.more { color: var(--muted); font-size: .9rem; }
textarea { width: 100%; box-sizing: border-box; font-size: .9rem; padding: .5rem;
           border: 1px solid var(--line); border-radius: 4px; }
button { background: var(--accent); color: #fff; border: 0; border-radius: 4px;
         padding: .4rem 1.2rem; font-size: 1rem; cursor: pointer; }
.controls { margin: .5rem 0; display: flex; gap: 1rem; align-items: center; flex-wrap: wrap; }
#status { color: var(--muted); }
#status.error { color: #b00020; }
pre { background: var(--soft); padding: .6rem; overflow: auto; max-height: 40rem; }
.examples li { margin: .6rem 0; }
.examples details pre { font-size: .8rem; }
dl.term dt { font-weight: 600; margin-top: .2rem; }
dl.term dd { margin-left: 1.2rem; }
section.term { border-top: 1px solid var(--line); padding-top: .3rem; }
section.term h3 { margin: .6rem 0 .2rem; font-size: 1.05rem; }
"""

SCRIPT = r"""
(function () {
  'use strict';
  const body = document.body;
  const root = body.dataset.root || '';
  const NS = {res: 'https://w3id.org/shilu/resource/', src: 'https://w3id.org/shilu/source/',
              shilu: 'https://w3id.org/shilu/ontology#'};
  const PREFIXES = JSON.parse(body.dataset.prefixes || '{}');
  const form = document.getElementById('query-form');
  if (!form) return;
  const editor = document.getElementById('query');
  const format = document.getElementById('format');
  const status = document.getElementById('status');
  const out = document.getElementById('results');

  function href(iri) {
    if (iri.startsWith(NS.res)) return root + '/resource/' + iri.slice(NS.res.length);
    if (iri.startsWith(NS.src)) return root + '/source/' + iri.slice(NS.src.length);
    if (iri.startsWith(NS.shilu)) return root + '/ontology#' + iri.slice(NS.shilu.length);
    if (/^https?:\/\//i.test(iri)) return iri;
    return null;
  }
  function compact(iri) {
    for (const [p, ns] of Object.entries(PREFIXES)) {
      if (iri.startsWith(ns) && iri.length > ns.length) return p + ':' + iri.slice(ns.length);
    }
    return iri;
  }
  function el(tag, text, cls) {
    const e = document.createElement(tag);
    if (text !== undefined) e.textContent = text;
    if (cls) e.className = cls;
    return e;
  }
  function cell(term) {
    const td = el('td');
    if (!term) return td;
    if (term.type === 'uri') {
      const url = href(term.value);
      const a = el(url ? 'a' : 'span', compact(term.value));
      if (url) a.href = url;
      a.title = term.value;
      td.append(a);
    } else if (term.type === 'literal') {
      const span = el('span', term.value, 'lit');
      if (term['xml:lang']) span.lang = term['xml:lang'];
      td.append(span);
      if (term['xml:lang']) td.append(el('span', '@' + term['xml:lang'], 'tag'));
      else if (term.datatype) td.append(el('span', '^^' + compact(term.datatype), 'tag'));
    } else if (term.type === 'bnode') {
      td.append(el('span', '_:' + term.value, 'bnode'));
    } else {
      td.append(el('code', JSON.stringify(term.value)));
    }
    return td;
  }
  function sparqlUrl(query, fmt) {
    const params = new URLSearchParams({query: query});
    if (fmt) params.set('format', fmt);
    return root + '/sparql?' + params.toString();
  }
  function downloads(query, formats) {
    const p = el('p', 'Download: ', 'formats');
    for (const [fmt, label] of formats) {
      const a = el('a', label);
      a.href = sparqlUrl(query, fmt);
      p.append(a);
    }
    return p;
  }
  function table(data, query) {
    const vars = data.head.vars;
    const rows = data.results.bindings;
    const t = el('table');
    const head = el('tr');
    for (const v of vars) head.append(el('th', '?' + v));
    t.append(el('thead'));
    t.tHead.append(head);
    const tb = el('tbody');
    for (const row of rows) {
      const tr = el('tr');
      for (const v of vars) tr.append(cell(row[v]));
      tb.append(tr);
    }
    t.append(tb);
    out.append(downloads(query, [['json', 'JSON'], ['csv', 'CSV'], ['tsv', 'TSV'], ['xml', 'XML']]));
    out.append(t);
    return rows.length + (rows.length === 1 ? ' row' : ' rows');
  }
  async function run(query) {
    status.className = '';
    status.textContent = 'Running…';
    out.replaceChildren();
    const url = new URL(window.location.href);
    url.searchParams.set('query', query);
    if (url.toString().length < 8000) history.replaceState(null, '', url);
    const t0 = performance.now();
    const headers = {'Accept': 'application/sparql-results+json, text/turtle;q=0.9'};
    let response;
    try {
      const get = sparqlUrl(query);
      response = get.length < 6000 ? await fetch(get, {headers: headers})
        : await fetch(root + '/sparql', {method: 'POST', headers: Object.assign(
            {'Content-Type': 'application/x-www-form-urlencoded'}, headers),
            body: new URLSearchParams({query: query})});
    } catch (e) {
      status.className = 'error';
      status.textContent = 'Request failed: ' + e;
      return;
    }
    const ms = Math.round(performance.now() - t0);
    const type = response.headers.get('content-type') || '';
    if (!response.ok) {
      status.className = 'error';
      status.textContent = 'Error ' + response.status;
      out.append(el('pre', await response.text()));
      return;
    }
    let summary;
    if (type.startsWith('application/sparql-results+json')) {
      const data = await response.json();
      if ('boolean' in data) {
        out.append(el('p', String(data.boolean), 'boolean'));
        summary = 'ASK';
      } else {
        summary = table(data, query);
      }
    } else {
      const text = await response.text();
      out.append(downloads(query, [['turtle', 'Turtle'], ['nt', 'N-Triples'],
                                   ['jsonld', 'JSON-LD'], ['rdfxml', 'RDF/XML']]));
      out.append(el('pre', text));
      summary = 'graph';
    }
    status.textContent = summary + ' in ' + ms + ' ms';
  }
  form.addEventListener('submit', function (ev) {
    if (format && format.value) return;  // a plain request for a download format
    ev.preventDefault();
    run(editor.value);
  });
  editor.addEventListener('keydown', function (ev) {
    if (ev.key === 'Enter' && (ev.ctrlKey || ev.metaKey)) {
      ev.preventDefault();
      form.requestSubmit();
    }
  });
  if (body.dataset.autorun === '1') run(editor.value);
})();
"""

#: Static files served under ``/static/``: name -> (body, content type).  A fixed table, so
#: nothing on disk is ever reached through a URL.
STATIC: dict[str, tuple[bytes, str]] = {
    "shilu.css": (STYLE.encode(), "text/css; charset=utf-8"),
    "query.js": (SCRIPT.encode(), "text/javascript; charset=utf-8"),
}


def page(title: str, content: str, links: Links, *, data: Mapping[str, str] | None = None,
         scripts: Sequence[str] = (), alternates: Sequence[tuple[str, str]] = ()) -> bytes:
    """A complete HTML document.  ``content`` is trusted HTML built with :func:`esc`."""
    attrs = "".join(f' data-{esc(k)}="{esc(v)}"' for k, v in (data or {}).items())
    head_links = "".join(f'<link rel="alternate" type="{esc(t)}" href="{esc(h)}">'
                         for t, h in alternates)
    script_tags = "".join(f'<script src="{esc(links.page("/static/" + s))}" defer></script>'
                          for s in scripts)
    nav = (f'<a class="brand" href="{esc(links.page("/"))}">shilu 實錄</a>'
           f'<a href="{esc(links.page("/"))}">Query</a>'
           f'<a href="{esc(links.page("/ontology"))}">Ontology</a>'
           f'<a href="{esc(links.page("/void"))}">VoID</a>'
           f'<a href="{esc(links.page("/sparql"))}">Endpoint</a>')
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{esc(title)} · shilu</title>"
        f'<link rel="stylesheet" href="{esc(links.page("/static/shilu.css"))}">'
        f"{head_links}{script_tags}</head>"
        f"<body{attrs}><header><nav>{nav}</nav></header><main>{content}</main></body></html>\n"
    ).encode()


# --------------------------------------------------------------------------------------------
# Resource pages


@dataclass(frozen=True, slots=True)
class Evidence:
    """One sentence an event was read from."""

    iri: str
    sentence: str
    article: str | None  #: the article (source) IRI
    article_title: str | None = None


@dataclass(slots=True)
class EventView:
    """An event a resource takes part in (or the resource itself, when it is an event)."""

    iri: str
    classes: list[str] = field(default_factory=list)
    years: list[ox.Literal] = field(default_factory=list)
    #: (role property, participant): shilu:agent, shilu:target, shilu:party, ...
    roles: list[tuple[str, ox.NamedNode | ox.BlankNode]] = field(default_factory=list)
    #: (property, literal) other than the year: the date as written, its precision, ...
    details: list[tuple[str, ox.Literal]] = field(default_factory=list)
    evidence: list[Evidence] = field(default_factory=list)

    def sort_key(self) -> tuple[int, int, str]:
        """Dated events by year (BCE years are negative), then undated ones."""
        for y in self.years:
            m = re.match(r"^(-?\d+)", y.value)
            if m:
                return (0, int(m.group(1)), self.iri)
        return (1, 0, self.iri)


@dataclass(slots=True)
class ResourceView:
    """What a resource page shows; built by the server from the union of all graphs."""

    iri: str
    labels: list[ox.Literal] = field(default_factory=list)
    aliases: list[ox.Literal] = field(default_factory=list)
    titles: list[ox.Literal] = field(default_factory=list)
    types: list[str] = field(default_factory=list)
    #: other outgoing statements: (predicate, object), deduplicated, in a stable order
    outgoing: list[tuple[str, object]] = field(default_factory=list)
    #: incoming statements: predicate -> subjects (events excluded: they are in ``events``)
    incoming: dict[str, list[object]] = field(default_factory=dict)
    #: how many subjects each incoming predicate had beyond those listed
    incoming_more: dict[str, int] = field(default_factory=dict)
    events: list[EventView] = field(default_factory=list)
    #: when the resource is itself an event: the sentences it was read from
    evidence: list[Evidence] = field(default_factory=list)
    #: display labels of every IRI the page links to
    labels_of: dict[str, str] = field(default_factory=dict)


def year_text(value: str) -> str:
    """A gYear for people: ``"-0221"`` is 221 BCE (no year zero, see the ontology)."""
    m = re.fullmatch(r"(-?)0*(\d+)(.*)", value)
    if not m:
        return value
    sign, digits, rest = m.groups()
    return f"{digits} BCE{rest}" if sign else f"{digits}{rest}"


def resource_title(view: ResourceView) -> str:
    """Plain-text title: the labels in both scripts (distinct), else the title, else the IRI."""
    texts = list(dict.fromkeys(lit.value for lit in _ordered_labels(view.labels)))
    if not texts:
        texts = [lit.value for lit in view.titles[:1]]
    return " · ".join(texts) if texts else compact(view.iri)


def _ordered_labels(labels: Iterable[ox.Literal]) -> list[ox.Literal]:
    order = {"zh-hant": 0, "zh-hans": 1}
    return sorted(labels, key=lambda lit: (order.get((lit.language or "").lower(), 2),
                                           lit.language or "", lit.value))


def _evidence_html(ev: Evidence, links: Links, labels: Mapping[str, str]) -> str:
    source = ""
    if ev.article:
        title = ev.article_title or labels.get(ev.article) or compact(ev.article)
        href = links.href(ev.article)
        source = (f' <span class="source">— <a href="{esc(href)}">{esc(title)}</a></span>'
                  if href else f' <span class="source">— {esc(title)}</span>')
    return f'<blockquote lang="zh">{esc(ev.sentence)}</blockquote>{source}'


def resource_page(view: ResourceView, links: Links,
                  data_links: Sequence[tuple[str, str, str]] = ()) -> bytes:
    """The HTML page of one resource; ``data_links`` are its RDF downloads as
    (label, media type, URL)."""
    labels = view.labels_of
    title = resource_title(view)
    parts = []
    heading = _ordered_labels(view.labels) or view.titles[:1]
    if heading:
        shown = list({lit.value: lit for lit in heading}.values())
        parts.append("<h1>" + '<span class="sep">·</span>'.join(_lang_span(l) for l in shown)
                     + "</h1>")
    else:
        parts.append(f"<h1>{esc(compact(view.iri))}</h1>")
    if len(view.labels) > 1:
        parts.append('<p class="names">' + " · ".join(
            f'{_lang_span(l)}<span class="tag">@{esc(l.language or "")}</span>'
            for l in _ordered_labels(view.labels)) + "</p>")
    parts.append(f'<p class="iri"><code>{esc(view.iri)}</code></p>')
    if view.types:
        parts.append('<p class="types">' + "".join(iri_link(t, links, labels)
                                                   for t in view.types) + "</p>")
    if view.aliases:
        parts.append('<p class="aliases">Also called: ' + "、".join(
            _lang_span(a) for a in _ordered_labels(view.aliases)) + "</p>")
    if data_links:
        parts.append('<p class="formats">Data: ' + "".join(
            f'<a href="{esc(href)}" type="{esc(mime)}">{esc(label)}</a>'
            for label, mime, href in data_links) + "</p>")

    if view.evidence:
        parts.append("<h2>Evidence</h2><ul class=\"evidence\">" + "".join(
            f"<li>{_evidence_html(ev, links, labels)}</li>" for ev in view.evidence) + "</ul>")

    if view.events:
        items = []
        for event in sorted(view.events, key=EventView.sort_key):
            year = (f'<span class="year" title="{esc(event.years[0].value)}">'
                    f"{esc(year_text(event.years[0].value))}</span>" if event.years
                    else '<span class="year">undated</span>')
            classes = "".join(iri_link(c, links, labels, cls="chip") for c in event.classes)
            roles = "".join(
                f'<span class="role{" self" if getattr(v, "value", None) == view.iri else ""}">'
                f"{iri_link(p, links, labels)}: {term_html(v, links, labels)}</span>"
                for p, v in event.roles)
            details = "".join(
                f'<span class="detail" title="{esc(labels.get(p) or compact(p))}">'
                f"{esc(v.value)}</span>" for p, v in event.details)
            evidence = "".join(_evidence_html(ev, links, labels) for ev in event.evidence)
            event_link = links.href(event.iri)
            more = (f' <a class="more" href="{esc(event_link)}" title="{esc(event.iri)}">event</a>'
                    if event_link else "")
            items.append(f"<li>{year}{classes}{roles}{details}{more}{evidence}</li>")
        parts.append(f"<h2>Events ({len(view.events)})</h2><ol class=\"events\">"
                     + "".join(items) + "</ol>")

    if view.outgoing:
        rows: dict[str, list[str]] = {}
        for p, o in view.outgoing:
            rows.setdefault(p, []).append(term_html(o, links, labels))
        parts.append("<h2>Properties</h2><table>" + "".join(
            f"<tr><th>{iri_link(p, links, labels)}</th><td>"
            + "".join(f'<span class="v">{v}</span>' for v in values) + "</td></tr>"
            for p, values in rows.items()) + "</table>")

    if view.incoming:
        rows_html = []
        for p, subjects in view.incoming.items():
            values = "".join(f'<span class="v">{term_html(s, links, labels)}</span>'
                             for s in subjects)
            extra = view.incoming_more.get(p, 0)
            if extra:
                query = f"SELECT DISTINCT ?s WHERE {{ ?s <{p}> <{view.iri}> }} ORDER BY ?s"
                values += (f'<span class="v more">and {extra} more: '
                           f'<a href="{esc(links.page("/", query=query))}">query</a></span>')
            rows_html.append(f"<tr><th>{iri_link(p, links, labels)}</th><td>{values}</td></tr>")
        parts.append("<h2>Links to here</h2><table>" + "".join(rows_html) + "</table>")

    return page(title, "".join(parts), links,
                alternates=[(mime, href) for _, mime, href in data_links])


def not_found_page(iri: str | None, path: str, links: Links,
                   candidates: Sequence[tuple[str, str]] = ()) -> bytes:
    """404: nothing is known about ``iri`` (None: the path names no resource at all)."""
    parts = ["<h1>Not found</h1>"]
    if iri is not None:
        parts.append(f"<p>The graph says nothing about <code>{esc(iri)}</code>.</p>")
    else:
        parts.append(f"<p>No resource at <code>{esc(path)}</code>.</p>")
    if candidates:
        parts.append("<p>Things with that name:</p><ul>" + "".join(
            f'<li>{iri_link(c, links, {c: label})} <span class="iri">{esc(c)}</span></li>'
            for c, label in candidates) + "</ul>")
    parts.append(f'<p><a href="{esc(links.page("/"))}">Search with a SPARQL query</a></p>')
    return page("Not found", "".join(parts), links)


def error_page(status: int, message: str, links: Links) -> bytes:
    return page(f"Error {status}", f"<h1>Error {status}</h1><p>{esc(message)}</p>", links)


# --------------------------------------------------------------------------------------------
# The ontology


@dataclass(slots=True)
class OntologyTerm:
    """A class or property of the ontology, as the ontology page lists it."""

    iri: str
    kinds: list[str] = field(default_factory=list)
    labels: list[ox.Literal] = field(default_factory=list)
    comments: list[ox.Literal] = field(default_factory=list)
    #: (compact predicate, values): ``rdfs:subClassOf``, ``rdfs:domain``, ...
    relations: list[tuple[str, list[object]]] = field(default_factory=list)

    @property
    def local(self) -> str:
        return self.iri[len(iris.ONTOLOGY):] if self.iri.startswith(iris.ONTOLOGY) else self.iri


def ontology_page(header: Sequence[tuple[str, list[object]]],
                  sections: Sequence[tuple[str, Sequence[OntologyTerm]]],
                  labels: Mapping[str, str], links: Links) -> bytes:
    """The ontology: its header statements, then one section per kind of term."""
    parts = ["<h1>shilu ontology</h1>",
             f'<p class="iri"><code>{esc(iris.ONTOLOGY)}</code></p>',
             f'<p class="formats">Download: <a href="{esc(links.page("/ontology", format="turtle"))}">'
             f'Turtle</a><a href="{esc(links.page("/ontology", format="nt"))}">N-Triples</a>'
             f'<a href="{esc(links.page("/ontology", format="jsonld"))}">JSON-LD</a>'
             f'<a href="{esc(links.page("/ontology", format="rdfxml"))}">RDF/XML</a></p>']
    if header:
        parts.append("<table>" + "".join(
            f"<tr><th>{esc(compact(p))}</th><td>"
            + "".join(f'<span class="v">{term_html(v, links, labels)}</span>' for v in values)
            + "</td></tr>" for p, values in header) + "</table>")
    parts.append("<p>" + " · ".join(f'<a href="#{esc(_slug(title))}">{esc(title)}</a>'
                                     for title, _ in sections) + "</p>")
    for title, terms in sections:
        parts.append(f'<h2 id="{esc(_slug(title))}">{esc(title)} ({len(terms)})</h2>')
        for term in terms:
            labels_html = " · ".join(_lang_span(l) for l in _ordered_terms(term.labels))
            dl = []
            for comment in _ordered_terms(term.comments):
                dl.append(f"<dd>{_lang_span(comment)}</dd>")
            for name, targets in term.relations:
                dl.append(f"<dt>{esc(name)}</dt><dd>"
                          + ", ".join(term_html(t, links, labels) for t in targets) + "</dd>")
            kinds = "".join(f'<span class="chip">{esc(compact(k))}</span>' for k in term.kinds)
            parts.append(
                f'<section class="term" id="{esc(term.local)}"><h3>'
                f'<a href="#{esc(term.local)}">{esc(compact(term.iri))}</a> {labels_html}</h3>'
                f'{kinds}<dl class="term">{"".join(dl)}</dl></section>')
    return page("Ontology", "".join(parts), links,
                alternates=[("text/turtle", links.page("/ontology", format="turtle"))])


def _ordered_terms(literals: Iterable[ox.Literal]) -> list[ox.Literal]:
    order = {"en": 0, "zh-hant": 1, "zh-hans": 2}
    return sorted(literals, key=lambda l: (order.get((l.language or "").lower(), 3), l.value))


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


# --------------------------------------------------------------------------------------------
# The query page


@dataclass(frozen=True, slots=True)
class Example:
    """A named query offered on the query page."""

    name: str
    title: str
    answers: str
    text: str


def editor_prefixes() -> str:
    return "".join(f"PREFIX {p}: <{PAGE_PREFIXES[p]}>\n" for p in EDITOR_PREFIXES)


def query_page(links: Links, examples: Sequence[Example], *, query: str | None = None,
               stats: Sequence[tuple[str, str]] = ()) -> bytes:
    """The SPARQL editor.  With ``query`` the editor holds it and runs it on load."""
    import json

    text = query if query is not None else editor_prefixes() + "\n" + EXAMPLE_QUERY
    items = []
    for ex in examples:
        run = links.page("/", query=ex.text)
        raw = links.page("/sparql", query=ex.text)
        answers = f' <span class="more">— {esc(ex.answers)}</span>' if ex.answers else ""
        items.append(
            f'<li><a href="{esc(run)}"><strong>{esc(ex.title or ex.name)}</strong></a>'
            f" <code>{esc(ex.name)}</code>{answers}"
            f'<details><summary>SPARQL</summary><pre>{esc(ex.text)}</pre>'
            f'<p class="formats"><a href="{esc(raw)}">raw results</a></p></details></li>')
    formats = "".join(f'<option value="{esc(v)}">{esc(label)}</option>' for v, label in (
        ("", "table"), ("json", "SPARQL JSON"), ("csv", "CSV"), ("tsv", "TSV"), ("xml", "XML"),
        ("turtle", "Turtle (CONSTRUCT)"), ("nt", "N-Triples (CONSTRUCT)"),
        ("jsonld", "JSON-LD (CONSTRUCT)")))
    stat_html = ("<p class=\"more\">" + " · ".join(f"{esc(k)}: {esc(v)}" for k, v in stats)
                 + "</p>") if stats else ""
    curl = ("curl -G " + links.page("/sparql") + " -H 'Accept: text/csv' --data-urlencode \\\n"
            "  'query=SELECT ?label WHERE { <https://w3id.org/shilu/resource/金朝> "
            "<http://www.w3.org/2000/01/rdf-schema#label> ?label }'")
    content = f"""<h1>Query the shilu graph</h1>
{stat_html}
<form id="query-form" action="{esc(links.page('/sparql'))}" method="get">
<textarea id="query" name="query" rows="18" spellcheck="false" autocapitalize="off"
 aria-label="SPARQL query">{esc(text)}</textarea>
<div class="controls"><button type="submit">Run</button>
<label>Results as <select id="format" name="format">{formats}</select></label>
<span class="more">Ctrl+Enter runs. The default graph is the union of all article graphs:
use <code>SELECT DISTINCT</code>.</span></div>
</form>
<p id="status" role="status"></p>
<div id="results"></div>
<h2>Examples</h2>
<ul class="examples">{''.join(items)}</ul>
<h2>For programs</h2>
<p>SPARQL 1.1 Protocol at <a href="{esc(links.page('/sparql'))}"><code>/sparql</code></a>
(GET or POST; results as JSON, XML, CSV, TSV, Turtle, N-Triples, JSON-LD, RDF/XML).
Every resource <code>https://w3id.org/shilu/resource/<var>name</var></code> is served at
<code>/resource/<var>name</var></code> (HTML or RDF by <code>Accept</code>), the ontology at
<a href="{esc(links.page('/ontology'))}"><code>/ontology</code></a>, the dataset description at
<a href="{esc(links.page('/.well-known/void'))}"><code>/.well-known/void</code></a>.</p>
<pre>{esc(curl)}</pre>
"""
    data = {"root": links.root, "prefixes": json.dumps(PAGE_PREFIXES, ensure_ascii=False),
            "autorun": "1" if query is not None else "0"}
    return page("Query", content, links, data=data, scripts=("query.js",))
