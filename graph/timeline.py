"""Pictures as SVG text, written by hand (no plotting library): a polity's timeline and the
neighbourhood of a thing in the event graph.

Both take a :class:`~shilu.graph.api.KnowledgeGraph` (``shilu.open`` or ``shilu.remote``) and a
name in either script, and return a complete, standalone SVG document as ``str`` (UTF-8, every
text escaped), to write to a file, show in a notebook (``IPython.display.SVG``) or embed in an
HTML page::

    >>> kg = shilu.open("data/store")                                  # doctest: +SKIP
    >>> open("jin.svg", "w").write(shilu.timeline_svg(kg, "金朝"))     # doctest: +SKIP
    >>> open("jin-n.svg", "w").write(shilu.neighbourhood_svg(kg, "金朝"))  # doctest: +SKIP
"""

from __future__ import annotations

import math
import unicodedata
from collections import defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
import re
from xml.sax.saxutils import escape as _escape
from xml.sax.saxutils import quoteattr

from .api import ROLES, ontology_labels

if TYPE_CHECKING:  # pragma: no cover
    from .api import Entity, KnowledgeGraph

__all__ = ["timeline_svg", "neighbourhood_svg", "TimelineEvent"]

FONT = ("'Noto Sans CJK TC', 'Noto Sans CJK SC', 'Source Han Sans', 'PingFang TC', "
        "'Microsoft JhengHei', sans-serif")


def _svg_head(width: float, height: float, script: str, heading: str, iri: str, x: float, y: float) -> list[str]:
    """The opening of every picture: the SVG element, its title and description, a white
    background and the heading drawn at (x, y)."""
    return [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" xml:lang={quoteattr(script)} font-family={quoteattr(FONT)}>',
        f"<title>{escape(heading)}</title>",
        f"<desc>{escape(iri)}</desc>",
        f'<rect x="0" y="0" width="{width}" height="{height}" fill="#ffffff"/>',
        f'<text x="{x}" y="{y}" font-size="18" font-weight="bold" fill="#222">{escape(heading)}</text>',
    ]


#: Colour of an event by the entity's role in it.
ROLE_COLOURS = {"agent": "#b03a2e", "party": "#1e8449", "participant": "#1e8449",
                "target": "#2e86c1", "recipient": "#2e86c1", "place": "#7d3c98"}
#: Colour of a neighbourhood edge by event kind.
KIND_COLOURS = {"Alliance": "#1e8449", "Treaty": "#1e8449", "Capture": "#b03a2e",
                "Attack": "#c0392b", "Victory": "#922b21", "Conquest": "#641e16",
                "Surrender": "#ca6f1e", "Cession": "#ca6f1e", "Accession": "#7d3c98",
                "Founding": "#7d3c98"}
_ROLE_WORDS = {"zh-Hant": {"agent": "主動", "party": "結盟", "target": "被動", "place": "地點"},
               "zh-Hans": {"agent": "主动", "party": "结盟", "target": "被动", "place": "地点"},
               "en": {"agent": "acting", "party": "allied", "target": "acted upon", "place": "place"}}
_UNDATED = {"zh-Hant": "另有 {n} 件事件年份不詳", "zh-Hans": "另有 {n} 件事件年份不详",
            "en": "{n} more events without a year"}


_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def escape(text: str) -> str:
    """``text`` as SVG character data: escaped, without the characters XML 1.0 forbids."""
    return _escape(_NOT_XML.sub("", text))


def _text_width(s: str, size: float) -> float:
    """Rough rendered width: CJK characters are one em, others about half."""
    return sum(size if unicodedata.east_asian_width(c) in "WF" else size * 0.55 for c in s)


def _script(script: str) -> str:
    return {"zh-hant": "zh-Hant", "zh-hans": "zh-Hans"}.get(script.lower(), script)


def _entity(kg: KnowledgeGraph, name: str) -> Entity:
    return kg.entity(name)


def _label(entity: Entity, script: str) -> str:
    return entity.labels.get(script) or entity.name


# --------------------------------------------------------------------------------------------
# Timeline


@dataclass
class TimelineEvent:
    """One event on a timeline (the rows of :func:`timeline_events`)."""

    year: int | None
    kind: str
    role: str
    others: list[str] = field(default_factory=list)
    sentences: list[str] = field(default_factory=list)
    articles: list[str] = field(default_factory=list)
    iri: str = ""


_TIMELINE_QUERY = """
SELECT DISTINCT ?event ?kind ?role ?year ?other ?sentence ?article WHERE {
  { SELECT DISTINCT ?event ?kind ?role ?year WHERE {
      VALUES ?p { %(roles)s }
      ?event ?p <%(iri)s> ; a ?cls .
      FILTER(STRSTARTS(STR(?cls), STR(shilu:)))
      OPTIONAL { ?event shilu:year ?y }
      BIND(xsd:integer(STR(?y)) AS ?year)
      BIND(STRAFTER(STR(?p), "#") AS ?role)
      BIND(STRAFTER(STR(?cls), "#") AS ?kind) } }
  OPTIONAL { SELECT DISTINCT ?event ?other WHERE {
      VALUES ?p { %(roles)s } ?event ?p <%(iri)s> .
      VALUES ?q { %(roles)s } ?event ?q ?o . FILTER(?o != <%(iri)s>)
      OPTIONAL { SELECT DISTINCT ?o ?ol WHERE { ?o rdfs:label ?ol FILTER(langMatches(lang(?ol), $script)) } }
      BIND(COALESCE(STR(?ol), REPLACE(STR(?o), "^.*/", "")) AS ?other) } }
  OPTIONAL { SELECT DISTINCT ?event ?sentence ?article WHERE {
      ?event shilu:evidence ?ev . ?ev rdf:value ?sentence ; oa:hasSource ?src .
      ?src dcterms:title ?t . BIND(STR(?t) AS ?article) } }
}
"""


def timeline_events(kg: KnowledgeGraph, name: str, *, script: str = "zh-Hant") -> list[TimelineEvent]:
    """The events ``name`` takes part in, one per event (roles, counterparts and evidence merged),
    dated ones by year first."""
    entity = _entity(kg, name)
    roles = " ".join(f"shilu:{r}" for r in ROLES)
    rows = kg.query(_TIMELINE_QUERY % {"roles": roles, "iri": entity.iri}, script=_script(script))
    events: dict[tuple[str, str], TimelineEvent] = {}
    for r in rows:
        ev = events.setdefault((r.event, r.role), TimelineEvent(r.year, r.kind, r.role, iri=r.event))
        for value, bucket in ((r.other, ev.others), (r.sentence, ev.sentences), (r.article, ev.articles)):
            if value and value not in bucket:
                bucket.append(value)
    return sorted(events.values(), key=lambda e: (e.year is None, e.year or 0, e.kind, e.others, e.iri))


def _nice_step(span: int, max_ticks: int = 12) -> int:
    for step in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000):
        if span / step <= max_ticks:
            return step
    return 10000


def _year_text(year: int, script: str) -> str:
    if year < 0:
        return f"{-year} BCE" if script == "en" else f"前{-year}"
    return str(year)


def timeline_svg(kg: KnowledgeGraph, polity: str, *, rows: str = "kind", script: str = "zh-Hant",
                 width: int = 960, title: str | None = None) -> str:
    """An SVG timeline of the dated events ``polity`` (any name, either script) takes part in.

    Years run along the horizontal axis; there is one row per event kind (``rows="kind"``,
    labelled with the ontology's Chinese class names) or per counterpart
    (``rows="counterpart"``). Each event is a dot coloured by the polity's role (acting,
    allied, acted upon), labelled with its counterparts, with a tooltip (``<title>``) giving
    the year, kind, counterparts, sentence and article. Undated events are counted below.

    >>> svg = timeline_svg(kg, "金朝")               # doctest: +SKIP
    >>> svg.startswith("<?xml")                      # doctest: +SKIP
    True

    :raises shilu.EntityNotFound: when nothing is called ``polity``.
    """
    script = _script(script)
    if rows not in ("kind", "counterpart"):
        raise ValueError("rows is 'kind' or 'counterpart'")
    entity = _entity(kg, polity)
    name = _label(entity, script)
    events = timeline_events(kg, entity.iri, script=script)
    dated = [e for e in events if e.year is not None]
    undated = len(events) - len(dated)
    kind_words = ontology_labels(script if script in ("zh-Hant", "zh-Hans", "en") else "zh-Hant")

    # rows
    row_keys: list[str] = []
    placed: list[tuple[str, TimelineEvent]] = []
    if rows == "kind":
        order = ["Capture", "Attack", "Victory", "Conquest", "Surrender", "Cession", "Alliance",
                 "Treaty", "Founding", "Accession", "Death"]
        kinds = sorted({e.kind for e in dated}, key=lambda k: (order.index(k) if k in order else 99, k))
        row_keys = kinds
        placed = [(e.kind, e) for e in dated]
        row_label = {k: kind_words.get(k, k) for k in kinds}
    else:
        counts: dict[str, int] = defaultdict(int)
        for e in dated:
            for o in e.others or ["—"]:
                counts[o] += 1
        row_keys = sorted(counts, key=lambda o: (-counts[o], o))[:20]
        placed = [(o, e) for e in dated for o in (e.others or ["—"]) if o in row_keys]
        row_label = {k: k for k in row_keys}

    size = 13
    label_w = max([_text_width(row_label[k], size) for k in row_keys] + [60]) + 24
    left, right, top, row_h = label_w, 40, 78, 44
    plot_w = max(width - left - right, 200)
    height = top + max(len(row_keys), 1) * row_h + 70

    if dated:
        lo, hi = min(e.year for e in dated), max(e.year for e in dated)  # type: ignore[type-var]
    else:
        lo = hi = 0
    if hi - lo < 10:
        lo, hi = lo - 5, hi + 5
    step = _nice_step(hi - lo)
    lo = math.floor(lo / step) * step
    hi = math.ceil(hi / step) * step

    def x(year: float) -> float:
        return left + (year - lo) / (hi - lo) * plot_w

    heading = title if title is not None else {
        "en": f"{name}: events by year", "zh-Hans": f"{name}大事年表"}.get(script, f"{name}大事年表")
    out: list[str] = _svg_head(width, height, script, heading, entity.iri, left, 28)
    # axis and grid
    axis_y = top - 14
    out.append(f'<line x1="{left}" y1="{axis_y}" x2="{left + plot_w}" y2="{axis_y}" stroke="#555"/>')
    for year in range(int(lo), int(hi) + 1, step):
        xx = x(year)
        out.append(f'<line x1="{xx:.1f}" y1="{axis_y - 4}" x2="{xx:.1f}" y2="{height - 60}" '
                   f'stroke="#ddd" stroke-width="1"/>')
        out.append(f'<text x="{xx:.1f}" y="{axis_y - 8}" font-size="11" text-anchor="middle" '
                   f'fill="#555">{escape(_year_text(year, script))}</text>')
    # rows
    row_y = {k: top + i * row_h + row_h / 2 for i, k in enumerate(row_keys)}
    for i, k in enumerate(row_keys):
        y0 = top + i * row_h
        if i % 2 == 0:
            out.append(f'<rect x="{left}" y="{y0}" width="{plot_w}" height="{row_h}" fill="#f6f6f6"/>')
        out.append(f'<text x="{left - 10}" y="{row_y[k] + 4:.1f}" font-size="{size}" text-anchor="end" '
                   f'fill="#222" class="row">{escape(row_label[k])}</text>')
    # events: dots side by side when they share a row and a year; labels above or below
    stacked: dict[tuple[str, int], int] = defaultdict(int)
    label_end: dict[tuple[str, int], float] = defaultdict(lambda: -1e9)
    role_words = _ROLE_WORDS.get(script, _ROLE_WORDS["zh-Hant"])
    for key, e in placed:
        n = stacked[(key, e.year)]  # type: ignore[index]
        stacked[(key, e.year)] += 1  # type: ignore[index]
        cx = x(e.year) + n * 7  # type: ignore[arg-type]
        cy = row_y[key]
        colour = ROLE_COLOURS.get(e.role, "#777")
        words = [_year_text(e.year, script), kind_words.get(e.kind, e.kind),  # type: ignore[arg-type]
                 role_words.get(e.role, e.role), "、".join(e.others)]
        tip = " ".join(w for w in words if w)
        if e.sentences:
            tip += "\n" + e.sentences[0]
        if e.articles:
            tip += "\n(" + "、".join(e.articles) + ")"
        text = "、".join(e.others) if rows == "kind" else kind_words.get(e.kind, e.kind)
        if len(text) > 12:
            text = text[:11] + "…"
        out.append(f'<g class="event"><title>{escape(tip)}</title>'
                   f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="5" fill="{colour}" stroke="#fff" stroke-width="1"/>')
        if text:  # above the dot, else below it, else only in the tooltip
            lane = next((ln for ln in (0, 1) if label_end[(key, ln)] < cx - 2), None)
            if lane is not None:
                ty = cy - 9 if lane == 0 else cy + 17
                out.append(f'<text x="{cx - 3:.1f}" y="{ty:.1f}" font-size="10" fill="#333">{escape(text)}</text>')
                label_end[(key, lane)] = cx - 3 + _text_width(text, 10)
        out.append("</g>")
    # legend and footnote
    ly = height - 34
    lx = left
    for role in ("agent", "party", "target"):
        out.append(f'<circle cx="{lx + 5}" cy="{ly - 4}" r="5" fill="{ROLE_COLOURS[role]}"/>')
        out.append(f'<text x="{lx + 14}" y="{ly}" font-size="11" fill="#333">{escape(role_words[role])}</text>')
        lx += 28 + _text_width(role_words[role], 11)
    if undated:
        note = _UNDATED.get(script, _UNDATED["zh-Hant"]).format(n=undated)
        out.append(f'<text x="{left}" y="{height - 12}" font-size="11" fill="#777">{escape(note)}</text>')
    if not dated:
        empty = {"en": "no dated events"}.get(script, "沒有標明年份的事件" if script == "zh-Hant" else "没有标明年份的事件")
        out.append(f'<text x="{left + plot_w / 2}" y="{top + row_h / 2}" font-size="13" '
                   f'text-anchor="middle" fill="#777">{escape(empty)}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


# --------------------------------------------------------------------------------------------
# Neighbourhood


_NEIGHBOURHOOD_QUERY = """
SELECT ?other ?name ?kind ?direction (COUNT(DISTINCT ?event) AS ?events) WHERE {
  {
    { SELECT DISTINCT ?event ?other ?direction WHERE {
        { ?event shilu:agent <%(iri)s> ; shilu:target|shilu:recipient|shilu:place ?other . BIND("out" AS ?direction) }
        UNION { ?event shilu:target|shilu:recipient|shilu:place <%(iri)s> ; shilu:agent ?other . BIND("in" AS ?direction) }
        UNION { ?event shilu:party|shilu:participant <%(iri)s> ; shilu:party|shilu:participant ?other . BIND("with" AS ?direction) }
        FILTER(?other != <%(iri)s>) } }
    ?event a ?cls . FILTER(STRSTARTS(STR(?cls), STR(shilu:)))
    BIND(STRAFTER(STR(?cls), "#") AS ?kind)
  }
  OPTIONAL { SELECT DISTINCT ?other ?ol WHERE { ?other rdfs:label ?ol FILTER(langMatches(lang(?ol), $script)) } }
  BIND(COALESCE(STR(?ol), REPLACE(STR(?other), "^.*/", "")) AS ?name)
}
GROUP BY ?other ?name ?kind ?direction
ORDER BY DESC(?events) ?name ?kind
"""


def neighbourhood(kg: KnowledgeGraph, name: str, *, script: str = "zh-Hant") -> list[tuple[str, str, str, str, int]]:
    """(counterpart IRI, counterpart name, event kind, direction, number of events) for every
    thing ``name`` shares an event with; direction ``out`` (``name`` acted), ``in`` (it was
    acted upon) or ``with`` (fellow party)."""
    entity = _entity(kg, name)
    rows = kg.query(_NEIGHBOURHOOD_QUERY % {"iri": entity.iri}, script=_script(script))
    return [(r.other, r.name, r.kind, r.direction, r.events) for r in rows]


def neighbourhood_svg(kg: KnowledgeGraph, name: str, *, script: str = "zh-Hant", limit: int = 24,
                      width: int = 760, kinds: set[str] | None = None, title: str | None = None) -> str:
    """An SVG of ``name`` (any name, either script) in the middle of the things it shares events
    with: allies, enemies, places taken, rulers acceded (at most ``limit``, those with most
    events first; only the event kinds in ``kinds`` when given).

    A radial layout: each counterpart on a circle around the centre, joined to it by an edge
    labelled with the kinds of event and their direction (``→`` the centre acted, ``←`` it was
    acted upon, ``↔`` allied) and count; the edge's colour is its most frequent kind, its
    width grows with the number of events.

    :raises shilu.EntityNotFound: when nothing is called ``name``.
    """
    script = _script(script)
    entity = _entity(kg, name)
    centre = _label(entity, script)
    kind_words = ontology_labels(script if script in ("zh-Hant", "zh-Hans", "en") else "zh-Hant")
    edges: dict[str, dict[str, Any]] = {}
    for other, other_name, kind, direction, count in neighbourhood(kg, entity.iri, script=script):
        if kinds and kind not in kinds:
            continue
        e = edges.setdefault(other, {"name": other_name, "total": 0, "parts": []})
        e["total"] += count
        e["parts"].append((count, kind, direction))
    chosen = sorted(edges.items(), key=lambda kv: (-kv[1]["total"], kv[1]["name"]))[:limit]

    def dominant(e: dict[str, Any]) -> str:
        return max(e["parts"], key=lambda p: (p[0], p[1]))[1]

    # group around the circle by dominant kind, so like edges sit together
    chosen.sort(key=lambda kv: (dominant(kv[1]), -kv[1]["total"], kv[1]["name"]))
    height = width
    cx = cy = width / 2
    radius = width / 2 - 120
    heading = title if title is not None else {"en": f"{centre} and its counterparts",
                                               "zh-Hans": f"{centre}的关系网"}.get(script, f"{centre}的關係網")
    out = _svg_head(width, height, script, heading, entity.iri, 20, 30)
    arrows = {"out": "→", "in": "←", "with": "↔"}
    nodes: list[str] = []
    n = len(chosen)
    for i, (iri, e) in enumerate(chosen):
        angle = -math.pi / 2 + 2 * math.pi * i / max(n, 1)
        nx, ny = cx + radius * math.cos(angle), cy + radius * math.sin(angle)
        colour = KIND_COLOURS.get(dominant(e), "#888")
        stroke = 1.2 + 1.6 * math.log2(1 + e["total"])
        parts = sorted(e["parts"], key=lambda p: (-p[0], p[1], p[2]))
        # arrows point from the side that acted to the side acted upon, as the label reads
        flipped = math.cos(angle) < 0
        shown = {"out": "←", "in": "→", "with": "↔"} if flipped else arrows
        words = [f"{kind_words.get(k, k)}{shown.get(d, '')}" + (f"×{c}" if c > 1 else "")
                 for c, k, d in parts[:3]]
        if len(parts) > 3:
            words.append("…")
        edge_label = "、".join(words)
        tip = f"{centre} — {e['name']}: " + "、".join(
            f"{kind_words.get(k, k)}{arrows.get(d, '')}×{c}" for c, k, d in parts)
        out.append(f'<g class="edge"><title>{escape(tip)}</title>'
                   f'<line x1="{cx:.1f}" y1="{cy:.1f}" x2="{nx:.1f}" y2="{ny:.1f}" stroke="{colour}" '
                   f'stroke-width="{stroke:.1f}" stroke-opacity="0.7"/>')
        # the label runs along its edge (turned to read left to right), staggered in and out
        at = 0.5 if i % 2 else 0.64
        mx, my = cx + (nx - cx) * at, cy + (ny - cy) * at
        degrees = math.degrees(angle) + (180 if flipped else 0)
        out.append(f'<text x="{mx:.1f}" y="{my - 3:.1f}" font-size="10" text-anchor="middle" fill="{colour}" '
                   f'stroke="#fff" stroke-width="3" paint-order="stroke" '
                   f'transform="rotate({degrees:.1f} {mx:.1f} {my:.1f})">{escape(edge_label)}</text></g>')
        anchor = "start" if math.cos(angle) > 0.2 else "end" if math.cos(angle) < -0.2 else "middle"
        lx = nx + (10 if anchor == "start" else -10 if anchor == "end" else 0)
        ly = ny + (4 if anchor != "middle" else (20 if math.sin(angle) > 0 else -12))
        nodes.append(f'<g class="node"><title>{escape(iri)}</title>'
                     f'<circle cx="{nx:.1f}" cy="{ny:.1f}" r="7" fill="#fff" stroke="{colour}" stroke-width="2"/>'
                     f'<text x="{lx:.1f}" y="{ly:.1f}" font-size="12" text-anchor="{anchor}" fill="#222">'
                     f'{escape(e["name"])}</text></g>')
    out.extend(nodes)
    out.append(f'<g class="centre"><title>{escape(entity.iri)}</title>'
               f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="30" fill="#fdf2e9" stroke="#922b21" stroke-width="2"/>'
               f'<text x="{cx:.1f}" y="{cy + 5:.1f}" font-size="15" font-weight="bold" text-anchor="middle" '
               f'fill="#222">{escape(centre)}</text></g>')
    if not chosen:
        empty = {"en": "no events with others"}.get(script, "沒有與他者共同的事件")
        out.append(f'<text x="{cx:.1f}" y="{cy + 60:.1f}" font-size="13" text-anchor="middle" '
                   f'fill="#777">{escape(empty)}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"
