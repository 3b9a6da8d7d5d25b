"""Score a built store against hand-made gold annotations (``shilu eval GOLD_DIR --store DIR``).

A gold file ``GOLD_DIR/<stem>.tsv`` (or ``GOLD_DIR/corpus/<stem>.tsv``) annotates the article whose
named graph is ``src:<stem>`` with two kinds of tab-separated row (``../shared/gold/README.md``)::

    entity  LABEL  CLASS
    fact    RELATION  SUBJECT  OBJECT  YEAR

Names match a resource when their OpenCC t2s forms equal one of its ``rdfs:label`` /
``skos:altLabel`` values (also t2s-normalised). A name is resolved against the resources of the
article's own named graph first (a resource is "in" a graph when it is the subject of a triple
there), then against the whole store; it may resolve to several resources, and a row counts as
matched when any of them satisfies it.

Scores, per article and micro-averaged over all articles:

- entities: *recall* = rows whose name resolves / rows; *type accuracy* = of those, rows with a
  resource of the gold class or a subclass; *precision* = entity-typed resources of the graph
  whose labels match some gold entity row / all entity-typed resources of the graph. The per-class
  table scores typing: R = rows with a correctly typed resource / rows of the class (by gold
  class), P = resources asserted the class whose label matches a gold row accepting that class /
  resources asserted the class (by most specific asserted class).
- facts: an event of the relation's class in the article's graph matches a gold row when its role
  fillers match the gold names (``allied``: either order) and, if the gold YEAR is given, its
  ``shilu:year`` equals it. P = events matching some row / events in the graph (of the ten event
  kinds), R = rows matched / rows.

All data is read with a handful of SPARQL queries up front; matching happens in Python.
"""

from __future__ import annotations

import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote

import pyoxigraph

from ..extract.script import key as _norm
from . import iris

__all__ = [
    "ENTITY_CLASSES",
    "RELATIONS",
    "GoldError",
    "GoldEntity",
    "GoldFact",
    "GoldArticle",
    "EntityCounts",
    "FactCounts",
    "Miss",
    "Wrong",
    "ArticleScore",
    "EvalReport",
    "read_gold",
    "load_gold",
    "evaluate",
    "format_report",
]

NS = iris.ONTOLOGY
_RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
_RDFS = "http://www.w3.org/2000/01/rdf-schema#"
_SKOS = "http://www.w3.org/2004/02/skos/core#"
_CONCEPT = _SKOS + "Concept"

# Entity classes of the core ontology and their superclass (within the core).
_PARENT: dict[str, str | None] = {
    "Polity": None,
    "Dynasty": "Polity",
    "Person": None,
    "Ruler": "Person",
    "Place": None,
    "City": "Place",
    "Event": None,
    "War": "Event",
    "Battle": "Event",
    "Alliance": "Event",
    "Treaty": "Event",
}
ENTITY_CLASSES: tuple[str, ...] = tuple(_PARENT)

# Gold relation -> (event class, subject role, object role or None).
RELATIONS: dict[str, tuple[str, str, str | None]] = {
    "captured": ("Capture", "agent", "target"),
    "attacked": ("Attack", "agent", "target"),
    "defeated": ("Victory", "agent", "target"),
    "destroyed": ("Conquest", "agent", "target"),
    "allied": ("Alliance", "party", "party"),
    "ceded": ("Cession", "agent", "recipient"),
    "surrendered": ("Surrender", "agent", "target"),
    "accession": ("Accession", "agent", "target"),
    "died": ("Death", "agent", None),
    "founded": ("Founding", "agent", "target"),
}
_RELATION_OF = {cls: rel for rel, (cls, _, _) in RELATIONS.items()}
EVENT_CLASSES: tuple[str, ...] = tuple(cls for cls, _, _ in RELATIONS.values())
# Event kinds that are never entities (Alliance is both: an Alliance with parties is an event).
_EVENT_ONLY = frozenset(EVENT_CLASSES) - {"Alliance"}
_ROLES = ("agent", "target", "party", "recipient")


def _ancestors(cls: str) -> Iterator[str]:
    c: str | None = cls
    while c is not None:
        yield c
        c = _PARENT.get(c)


def _accepts(gold_cls: str, types: Iterable[str]) -> bool:
    """A resource of ``types`` is of ``gold_cls`` (or a subclass)."""
    return any(gold_cls in _ancestors(t) for t in types if t in _PARENT)


# --------------------------------------------------------------------------------------------
# Gold files


class GoldError(ValueError):
    """A malformed gold row; the message names file and line."""


@dataclass(frozen=True)
class GoldEntity:
    label: str
    cls: str
    line: int = 0

    def __str__(self) -> str:
        return f"entity {self.label} {self.cls}"


@dataclass(frozen=True)
class GoldFact:
    relation: str
    subject: str
    object: str
    year: int | None
    line: int = 0

    def __str__(self) -> str:
        year = str(self.year) if self.year is not None else "undated"
        return f"fact {self.relation} {self.subject} {self.object or '-'} {year}"


@dataclass(frozen=True)
class GoldArticle:
    id: str  # the gold file's path under GOLD_DIR without .tsv: "000_…", "corpus/武仙"
    stem: str  # the article's source id: its file name without extension
    path: Path
    entities: tuple[GoldEntity, ...]
    facts: tuple[GoldFact, ...]


def read_gold(path: str | Path, *, gold_id: str | None = None) -> GoldArticle:
    """Parse one gold TSV file; duplicate rows are dropped (the first is kept)."""
    path = Path(path)
    entities: dict[tuple, GoldEntity] = {}
    facts: dict[tuple, GoldFact] = {}
    for n, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not raw.strip() or raw.lstrip().startswith("#"):
            continue
        cells = [c.strip() for c in raw.split("\t")]
        kind = cells[0]
        where = f"{path}:{n}"
        if kind == "entity":
            cells += [""] * (3 - len(cells))
            label, cls = cells[1], cells[2]
            if not label or cls not in _PARENT:
                raise GoldError(f"{where}: expected `entity LABEL CLASS` with CLASS in {', '.join(_PARENT)}: {raw!r}")
            entities.setdefault((_norm(label), cls), GoldEntity(label, cls, n))
        elif kind == "fact":
            cells += [""] * (5 - len(cells))
            rel, subj, obj, year = cells[1:5]
            if rel not in RELATIONS or not subj:
                raise GoldError(
                    f"{where}: expected `fact RELATION SUBJECT OBJECT YEAR` with RELATION in {', '.join(RELATIONS)}: {raw!r}"
                )
            try:
                y = int(year) if year else None
            except ValueError:
                raise GoldError(f"{where}: YEAR must be an integer or empty: {year!r}") from None
            facts.setdefault((rel, _norm(subj), _norm(obj), y), GoldFact(rel, subj, obj, y, n))
        else:
            raise GoldError(f"{where}: a row starts with `entity` or `fact`, not {kind!r}")
    return GoldArticle(gold_id or path.stem, path.stem, path, tuple(entities.values()), tuple(facts.values()))


def load_gold(gold_dir: str | Path) -> list[GoldArticle]:
    """Every ``*.tsv`` under ``gold_dir`` (``corpus/`` included), in path order."""
    gold_dir = Path(gold_dir)
    if not gold_dir.is_dir():
        raise FileNotFoundError(f"no gold directory at {gold_dir}")
    paths = sorted(gold_dir.rglob("*.tsv"), key=lambda p: (len(p.relative_to(gold_dir).parts), str(p)))
    return [read_gold(p, gold_id=p.relative_to(gold_dir).with_suffix("").as_posix()) for p in paths]


# --------------------------------------------------------------------------------------------
# Scores


def _ratio(num: int, den: int) -> float | None:
    return num / den if den else None


def _f1(p: float | None, r: float | None) -> float | None:
    """Harmonic mean; 0 when either side is 0, undefined (None) when either side is undefined."""
    if p == 0 or r == 0:
        return 0.0
    if p is None or r is None:
        return None
    return 2 * p * r / (p + r)


@dataclass
class EntityCounts:
    rows: int = 0  # gold entity rows
    found: int = 0  # rows whose name resolves to a resource
    typed: int = 0  # rows resolving to a resource of the gold class (or a subclass)
    predicted: int = 0  # entity-typed resources in the article graph
    labelled: int = 0  # ... whose labels match some gold entity row
    correct: int = 0  # ... whose labels match a gold row that accepts their type

    @property
    def recall(self) -> float | None:
        return _ratio(self.found, self.rows)

    @property
    def type_accuracy(self) -> float | None:
        return _ratio(self.typed, self.found)

    @property
    def precision(self) -> float | None:
        return _ratio(self.labelled, self.predicted)

    @property
    def typed_recall(self) -> float | None:
        return _ratio(self.typed, self.rows)

    @property
    def typed_precision(self) -> float | None:
        return _ratio(self.correct, self.predicted)

    @property
    def typed_f1(self) -> float | None:
        return _f1(self.typed_precision, self.typed_recall)

    def add(self, other: EntityCounts) -> None:
        for name in ("rows", "found", "typed", "predicted", "labelled", "correct"):
            setattr(self, name, getattr(self, name) + getattr(other, name))


@dataclass
class FactCounts:
    rows: int = 0  # gold fact rows
    matched: int = 0  # rows some event of the graph matches
    predicted: int = 0  # events in the article graph
    correct: int = 0  # events matching some gold row

    @property
    def recall(self) -> float | None:
        return _ratio(self.matched, self.rows)

    @property
    def precision(self) -> float | None:
        return _ratio(self.correct, self.predicted)

    @property
    def f1(self) -> float | None:
        return _f1(self.precision, self.recall)

    def add(self, other: FactCounts) -> None:
        for name in ("rows", "matched", "predicted", "correct"):
            setattr(self, name, getattr(self, name) + getattr(other, name))


@dataclass(frozen=True)
class Miss:
    """A gold row the store does not satisfy."""

    article: str
    row: GoldEntity | GoldFact
    reason: str  # "no resource named X", "wrong type: got Place", "no event", "year differs: got 1123"

    def __str__(self) -> str:
        return f"{self.row}: {self.reason}"


@dataclass(frozen=True)
class Wrong:
    """A typed resource or event of the article graph that no gold row matches."""

    article: str
    kind: str  # "entity" or "event"
    iri: str
    text: str  # "宋軍 (Polity)" or "Capture 金朝 → 大定府 1123"
    evidence: tuple[str, ...] = ()

    def __str__(self) -> str:
        ev = "".join(f" 「{s}」" for s in self.evidence)
        return f"{self.kind} {self.text}{ev}"


@dataclass
class ArticleScore:
    id: str
    graph: str
    in_store: bool
    entities: EntityCounts = field(default_factory=EntityCounts)
    facts: FactCounts = field(default_factory=FactCounts)
    by_class: dict[str, EntityCounts] = field(default_factory=dict)
    by_relation: dict[str, FactCounts] = field(default_factory=dict)
    misses: list[Miss] = field(default_factory=list)
    wrong: list[Wrong] = field(default_factory=list)


@dataclass
class EvalReport:
    gold_dir: Path
    articles: list[ArticleScore]
    entities: EntityCounts
    facts: FactCounts
    by_class: dict[str, EntityCounts]
    by_relation: dict[str, FactCounts]

    @property
    def misses(self) -> list[Miss]:
        return [m for a in self.articles for m in a.misses]

    @property
    def wrong(self) -> list[Wrong]:
        return [w for a in self.articles for w in a.wrong]

    def article(self, id_or_stem: str) -> ArticleScore:
        for a in self.articles:
            if id_or_stem in (a.id, a.id.rsplit("/", 1)[-1]):
                return a
        raise KeyError(id_or_stem)


# --------------------------------------------------------------------------------------------
# Reading the store


def _select(store: pyoxigraph.Store, query: str) -> Iterator[pyoxigraph.QuerySolution]:
    return iter(store.query(query, use_default_graph_as_union=True))


@dataclass
class _Store:
    """What the evaluation needs of the store, fetched once."""

    names: dict[str, set[str]]  # normalised label -> resources
    labels: dict[str, list[tuple[str, str]]]  # resource -> [(rdfs:label, lang)]
    alt_labels: dict[str, list[str]]  # resource -> skos:altLabel values
    types: dict[str, set[str]]  # resource -> local names of shilu classes (+ "Concept")
    roles: dict[str, dict[str, set[str]]]  # event -> role -> fillers
    years: dict[str, set[int]]  # event -> years

    @classmethod
    def read(cls, store: pyoxigraph.Store) -> _Store:
        names: dict[str, set[str]] = defaultdict(set)
        labels: dict[str, list[tuple[str, str]]] = defaultdict(list)
        alt_labels: dict[str, list[str]] = defaultdict(list)
        for s in _select(
            store,
            f"SELECT DISTINCT ?s ?p ?l WHERE {{ VALUES ?p {{ <{_RDFS}label> <{_SKOS}altLabel> }} ?s ?p ?l }}",
        ):
            node, lit = s["s"], s["l"]
            if not isinstance(lit, pyoxigraph.Literal):
                continue
            if s["p"].value == _RDFS + "label":
                labels[node.value].append((lit.value, (lit.language or "").lower()))
            else:
                alt_labels[node.value].append(lit.value)
            names[_norm(lit.value)].add(node.value)
        types: dict[str, set[str]] = defaultdict(set)
        for s in _select(store, f"SELECT DISTINCT ?s ?t WHERE {{ ?s <{_RDF}type> ?t }}"):
            t = s["t"].value
            if t.startswith(NS):
                types[s["s"].value].add(t[len(NS):])
            elif t == _CONCEPT:
                types[s["s"].value].add("Concept")
        roles: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
        years: dict[str, set[int]] = defaultdict(set)
        values = " ".join(f"<{NS}{p}>" for p in (*_ROLES, "year"))
        for s in _select(store, f"SELECT DISTINCT ?e ?p ?o WHERE {{ VALUES ?p {{ {values} }} ?e ?p ?o }}"):
            p = s["p"].value[len(NS):]
            o = s["o"]
            if p == "year":
                y = _year(o.value)
                if y is not None:
                    years[s["e"].value].add(y)
            else:
                roles[s["e"].value][p].add(o.value)
        return cls(dict(names), dict(labels), dict(alt_labels), dict(types), roles, dict(years))

    def is_event(self, node: str) -> bool:
        t = self.types.get(node, ())
        return bool(_EVENT_ONLY.intersection(t)) or ("Alliance" in t and bool(self.roles.get(node, {}).get("party")))

    def event_classes(self, node: str) -> list[str]:
        t = self.types.get(node, set())
        out = [c for c in EVENT_CLASSES if c in t and c != "Alliance"]
        if "Alliance" in t and self.roles.get(node, {}).get("party"):
            out.append("Alliance")
        return out

    def entity_classes(self, node: str) -> set[str]:
        """Most specific asserted entity classes of a resource that is no event or article."""
        t = self.types.get(node, set())
        if "Article" in t or self.is_event(node):
            return set()
        classes = {c for c in t if c in _PARENT}
        return {c for c in classes if not any(c != d and c in _ancestors(d) for d in classes)}

    def nameable(self, node: str) -> bool:
        t = self.types.get(node, ())
        return "Concept" not in t and "Article" not in t

    def display(self, node: str) -> str:
        labs = self.labels.get(node)
        if labs:
            for want in ("zh-hans", "zh-cn", "zh", ""):
                for value, lang in labs:
                    if lang == want:
                        return value
            return sorted(labs)[0][0]
        if self.alt_labels.get(node):
            return sorted(self.alt_labels[node])[0]
        tail = node.rsplit("/", 1)[-1] if node.startswith(iris.RESOURCE) else node
        return unquote(tail).replace("_", " ")


def _year(lexical: str) -> int | None:
    """The year of an xsd:gYear lexical form ("1122", "-0221", "1122Z", "1122+08:00")."""
    s = lexical.strip()
    sign = -1 if s.startswith("-") else 1
    digits = s.lstrip("-")
    end = 0
    while end < len(digits) and digits[end].isdigit():
        end += 1
    return sign * int(digits[:end]) if end else None


def _graph_subjects(store: pyoxigraph.Store, graph: str) -> set[str]:
    q = f"SELECT DISTINCT ?s WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}"
    return {s["s"].value for s in store.query(q)}


def _graph_evidence(store: pyoxigraph.Store, graph: str) -> dict[str, list[str]]:
    q = (
        f"SELECT DISTINCT ?e ?v WHERE {{ GRAPH <{graph}> {{ ?e <{NS}evidence> ?ev }} "
        f"?ev <{_RDF}value> ?v }} ORDER BY ?e ?v"
    )
    out: dict[str, list[str]] = defaultdict(list)
    for s in store.query(q, use_default_graph_as_union=True):
        out[s["e"].value].append(s["v"].value)
    return out


# --------------------------------------------------------------------------------------------
# Scoring one article


def _score_article(store: pyoxigraph.Store, data: _Store, gold: GoldArticle, source_id: str) -> ArticleScore:
    graph = iris.source(source_id)
    local = _graph_subjects(store, graph)
    score = ArticleScore(gold.id, graph, in_store=bool(local))

    def resolve(name: str) -> set[str]:
        every = {r for r in data.names.get(_norm(name), ()) if data.nameable(r)}
        return (every & local) or every

    # Entities ------------------------------------------------------------------------------
    by_class: dict[str, EntityCounts] = {c: EntityCounts() for c in ENTITY_CLASSES}
    for row in gold.entities:
        counts = by_class[row.cls]
        counts.rows += 1
        found = resolve(row.label)
        if not found:
            score.misses.append(Miss(gold.id, row, f"no resource named {row.label}"))
            continue
        counts.found += 1
        if any(_accepts(row.cls, data.types.get(r, ())) for r in found):
            counts.typed += 1
        else:
            got = sorted({t for r in found for t in data.types.get(r, ()) if t != "Concept"})
            score.misses.append(Miss(gold.id, row, f"wrong type: got {', '.join(got) or 'untyped'}"))
    gold_classes: dict[str, set[str]] = defaultdict(set)  # normalised label -> gold classes
    for row in gold.entities:
        gold_classes[_norm(row.label)].add(row.cls)
    for node in sorted(local):
        classes = data.entity_classes(node)
        if not classes:
            continue
        names = {_norm(v) for v, _ in data.labels.get(node, ())} | {_norm(v) for v in data.alt_labels.get(node, ())}
        accepted = {c for n in names for c in gold_classes.get(n, ())}
        for c in classes:
            by_class[c].predicted += 1
            if accepted:
                by_class[c].labelled += 1
            if any(g in _ancestors(c) for g in accepted):
                by_class[c].correct += 1
        # The whole-article count takes each resource once.
        score.entities.predicted += 1
        if accepted:
            score.entities.labelled += 1
        else:
            text = f"{data.display(node)} ({', '.join(sorted(classes))})"
            score.wrong.append(Wrong(gold.id, "entity", node, text))
        if any(g in _ancestors(c) for g in accepted for c in classes):
            score.entities.correct += 1
    for c in by_class.values():
        score.entities.rows += c.rows
        score.entities.found += c.found
        score.entities.typed += c.typed
    score.by_class = by_class

    # Facts ---------------------------------------------------------------------------------
    events: dict[str, list[str]] = defaultdict(list)  # event class -> events of the graph
    for node in sorted(local):
        for c in data.event_classes(node):
            events[c].append(node)

    def roles_match(row: GoldFact, node: str, subj: set[str], obj: set[str]) -> bool:
        _, s_role, o_role = RELATIONS[row.relation]
        roles = data.roles.get(node, {})
        if row.relation == "allied":
            parties = roles.get("party", set())
            if not (parties & subj):
                return False
            if not row.object:
                return True
            return any(a != b for a in parties & subj for b in parties & obj)
        if not (roles.get(s_role, set()) & subj):
            return False
        if o_role is None or not row.object:
            return True
        return bool(roles.get(o_role, set()) & obj)

    def year_match(row: GoldFact, node: str) -> bool:
        return row.year is None or row.year in data.years.get(node, ())

    by_relation: dict[str, FactCounts] = {r: FactCounts() for r in RELATIONS}
    matched_events: set[str] = set()
    for row in gold.facts:
        counts = by_relation[row.relation]
        counts.rows += 1
        subj = resolve(row.subject)
        obj = resolve(row.object) if row.object else set()
        unknown = [n for n, cands in ((row.subject, subj), (row.object, obj)) if n and not cands]
        cls = RELATIONS[row.relation][0]
        role_ok = [e for e in events.get(cls, ()) if roles_match(row, e, subj, obj)]
        hits = [e for e in role_ok if year_match(row, e)]
        if hits:
            counts.matched += 1
            matched_events.update(hits)
        elif unknown:
            score.misses.append(Miss(gold.id, row, "; ".join(f"no resource named {n}" for n in unknown)))
        elif role_ok:
            got = sorted({y for e in role_ok for y in data.years.get(e, ())})
            undated = any(not data.years.get(e) for e in role_ok)
            shown = [str(y) for y in got] + (["undated"] if undated else [])
            score.misses.append(Miss(gold.id, row, f"year differs: got {', '.join(shown)}"))
        else:
            score.misses.append(Miss(gold.id, row, "no event"))
    evidence: dict[str, list[str]] | None = None
    for cls in EVENT_CLASSES:
        rel = _RELATION_OF[cls]
        for node in events.get(cls, ()):
            by_relation[rel].predicted += 1
            if node in matched_events:
                by_relation[rel].correct += 1
    for node in sorted({e for es in events.values() for e in es}):
        score.facts.predicted += 1
        if node in matched_events:
            score.facts.correct += 1
            continue
        if evidence is None:
            evidence = _graph_evidence(store, graph)
        score.wrong.append(Wrong(gold.id, "event", node, _event_text(data, node), tuple(evidence.get(node, ()))))
    for c in by_relation.values():
        score.facts.rows += c.rows
        score.facts.matched += c.matched
    score.by_relation = by_relation
    return score


def _event_text(data: _Store, node: str) -> str:
    roles = data.roles.get(node, {})
    classes = data.event_classes(node)
    names = lambda role: "、".join(sorted(data.display(r) for r in roles.get(role, ())))  # noqa: E731
    if "Alliance" in classes:
        body = names("party")
    else:
        body = names("agent") or "?"
        other = names("target") or names("recipient")
        if other:
            body += f" → {other}"
    years = sorted(data.years.get(node, ()))
    when = ", ".join(map(str, years)) if years else "undated"
    return f"{'/'.join(classes)} {body} {when}"


# --------------------------------------------------------------------------------------------
# Public entry points


def evaluate(
    store: pyoxigraph.Store,
    gold_dir: str | Path,
    *,
    articles: dict[str, str] | None = None,
) -> EvalReport:
    """Score ``store`` against every gold file under ``gold_dir``.

    Each gold file is scored against the named graph ``iris.source(stem)``; ``articles`` maps a
    gold file (its stem, or its id such as ``corpus/武仙``) to another source id where the two
    differ.
    """
    gold_dir = Path(gold_dir)
    golds = load_gold(gold_dir)
    data = _Store.read(store)
    articles = articles or {}
    scores = []
    for gold in golds:
        source_id = articles.get(gold.id, articles.get(gold.stem, gold.stem))
        scores.append(_score_article(store, data, gold, source_id))
    entities, facts = EntityCounts(), FactCounts()
    by_class = {c: EntityCounts() for c in ENTITY_CLASSES}
    by_relation = {r: FactCounts() for r in RELATIONS}
    for s in scores:
        entities.add(s.entities)
        facts.add(s.facts)
        for c, counts in s.by_class.items():
            by_class[c].add(counts)
        for r, counts in s.by_relation.items():
            by_relation[r].add(counts)
    return EvalReport(gold_dir, scores, entities, facts, by_class, by_relation)


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _ljust(text: str, width: int) -> str:
    return text + " " * max(0, width - _width(text))


def _num(x: float | None) -> str:
    return "-" if x is None else f"{x:.3f}"


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    widths = [max([5 if i else 0, *(_width(r[i]) for r in [header, *rows])]) for i in range(len(header))]
    out = []
    for r in [header, *rows]:
        cells = [_ljust(r[0], widths[0])] + [" " * (widths[i] - _width(c)) + c for i, c in enumerate(r) if i]
        out.append("  ".join(cells).rstrip())
    return out


def format_report(report: EvalReport, misses: bool = False) -> str:
    """A plain-text report: per-article scores, the overall line, per-class and per-relation
    tables; with ``misses``, every missed gold row and wrong answer grouped by article."""
    lines = [f"gold: {report.gold_dir} ({len(report.articles)} articles)", ""]
    header = ["article", "ent", "recall", "type", "prec", "facts", "P", "R", "F1"]
    rows = []
    for a in [*report.articles, None]:
        e, f = (a.entities, a.facts) if a else (report.entities, report.facts)
        name = (a.id + ("" if a.in_store else " (not in store)")) if a else "overall (micro)"
        rows.append(
            [
                name,
                str(e.rows),
                _num(e.recall),
                _num(e.type_accuracy),
                _num(e.precision),
                str(f.rows),
                _num(f.precision),
                _num(f.recall),
                _num(f.f1),
            ]
        )
    table = _table(header, rows)
    rule = "-" * max(_width(t) for t in table)
    lines += [table[0], rule, *table[1:-1], rule, table[-1], ""]
    lines.append(
        "entities: recall = gold names found, type = found with the gold class, prec = graph entities named in gold"
    )
    lines.append("")

    rows = []
    for c, e in report.by_class.items():
        if e.rows or e.predicted:
            rows.append(
                [c, str(e.rows), str(e.found), str(e.typed), str(e.predicted), str(e.correct),
                 _num(e.typed_precision), _num(e.typed_recall), _num(e.typed_f1)]
            )
    lines += _table(["class", "gold", "found", "typed", "pred", "correct", "P", "R", "F1"], rows)
    lines.append("")
    rows = []
    for r, f in report.by_relation.items():
        if f.rows or f.predicted:
            rows.append(
                [r, str(f.rows), str(f.matched), str(f.predicted), str(f.correct),
                 _num(f.precision), _num(f.recall), _num(f.f1)]
            )
    lines += _table(["relation", "gold", "matched", "pred", "correct", "P", "R", "F1"], rows)

    if misses:
        for a in report.articles:
            if not a.misses and not a.wrong:
                continue
            lines += ["", f"== {a.id}  <{a.graph}>"]
            for m in a.misses:
                lines.append(f"  miss   {m}")
            for w in a.wrong:
                lines.append(f"  wrong  {w}")
    return "\n".join(lines) + "\n"
