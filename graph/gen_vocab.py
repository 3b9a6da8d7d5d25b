"""Generate ``graph/vocab.py`` (the ``shilu.graph.vocab`` module) from ``ontology/shilu.ttl``.

    python -m shilu.graph.gen_vocab           # rewrite graph/vocab.py
    python -m shilu.graph.gen_vocab --check   # exit 1 if graph/vocab.py is stale

The ontology is the single source of shilu IRIs. The generated module holds

- ``SHILU``: an rdflib ``DefinedNamespace`` with ``_fail = True``, so a misspelt term is an
  error rather than a new IRI (as rdflib's own ``namespace/_FOAF.py``);
- ``N``: the same terms as pyoxigraph ``NamedNode`` constants (``N.Capture``, ``N.agent``);
- ``TERMS``: the term names, in the order they are written.

Terms are the IRIs of the ontology namespace that the ontology declares (typed ``owl:Class``,
``owl:ObjectProperty``, ``owl:DatatypeProperty``, ``owl:AnnotationProperty``, ...), grouped by
kind and sorted by name; each carries its English label as a comment. The output depends only
on the ontology, so it is deterministic. An IRI of the namespace that the ontology uses but does
not declare is an error.
"""

from __future__ import annotations

import argparse
import difflib
import keyword
import pathlib
import sys
from dataclasses import dataclass

from rdflib import OWL, RDF, RDFS, Graph, Literal, URIRef

from shilu.ontology import NS, ONTOLOGY_PATH

__all__ = ["VOCAB_PATH", "Term", "declared_terms", "render", "main"]

#: Where the generated module lives.
VOCAB_PATH = pathlib.Path(__file__).with_name("vocab.py")

ONTOLOGY_IRI = URIRef(NS.rstrip("#"))

# Declaration types, in the order their groups are written.
_KINDS: tuple[tuple[URIRef, str], ...] = (
    (OWL.Class, "Classes"),
    (RDFS.Class, "Classes"),
    (OWL.ObjectProperty, "Object properties"),
    (OWL.DatatypeProperty, "Datatype properties"),
    (OWL.AnnotationProperty, "Annotation properties"),
    (RDF.Property, "Other properties"),
    (OWL.NamedIndividual, "Individuals"),
)
_GROUPS: tuple[str, ...] = tuple(dict.fromkeys(group for _, group in _KINDS))


@dataclass(frozen=True, order=True)
class Term:
    """One declared term of the ontology."""

    group: int  # index into _GROUPS; first so that sorting groups, then names
    name: str
    label: str

    @property
    def iri(self) -> str:
        return NS + self.name


def _english_label(graph: Graph, iri: URIRef) -> str:
    labels = sorted(
        str(o)
        for o in graph.objects(iri, RDFS.label)
        if isinstance(o, Literal) and (o.language or "").lower() == "en"
    )
    if not labels:
        raise ValueError(f"{iri} has no English rdfs:label")
    # One line, no characters that would end the comment or the file early.
    return " ".join(labels[0].split())


def declared_terms(graph: Graph) -> list[Term]:
    """The declared terms of the ontology ``graph``, grouped by kind and sorted by name."""
    found: dict[str, Term] = {}
    for kind, group in _KINDS:
        for subject in graph.subjects(RDF.type, kind):
            if not isinstance(subject, URIRef) or not str(subject).startswith(NS):
                continue
            name = str(subject)[len(NS):]
            if name in found:
                continue  # already in an earlier group (e.g. an ObjectProperty that is Symmetric)
            if not name.isidentifier() or keyword.iskeyword(name) or name.startswith("_"):
                raise ValueError(f"{subject}: {name!r} cannot be a Python attribute name")
            found[name] = Term(_GROUPS.index(group), name, _english_label(graph, subject))

    used = {
        str(node)[len(NS):]
        for triple in graph
        for node in triple
        if isinstance(node, URIRef) and str(node).startswith(NS)
    }
    undeclared = sorted(used - found.keys())
    if undeclared:
        raise ValueError("used in the ontology but not declared: " + ", ".join(undeclared))
    return sorted(found.values())


def _q(text: str) -> str:
    """``text`` as a double-quoted Python string literal."""
    if '"' in text or "\\" in text or "\n" in text:
        raise ValueError(f"unexpected character in {text!r}")
    return f'"{text}"'


def _grouped(terms: list[Term], line) -> list[str]:
    """One ``line(term)`` per term, a comment heading each group of terms."""
    out: list[str] = []
    group = None
    for term in terms:
        if term.group != group:
            group = term.group
            out += ["", f"    # {_GROUPS[group]}"]
        out.append(line(term))
    return out


def render(ontology_path: pathlib.Path | str = ONTOLOGY_PATH) -> str:
    """The text of ``vocab.py`` for the ontology at ``ontology_path``."""
    graph = Graph().parse(ontology_path, format="turtle")
    terms = declared_terms(graph)
    version = graph.value(ONTOLOGY_IRI, OWL.versionInfo)
    version_text = f", version {version}" if version is not None else ""

    out: list[str] = [
        '"""shilu ontology terms, generated from ontology/shilu.ttl: do not edit.',
        "",
        "Change ontology/shilu.ttl and run ``python -m shilu.graph.gen_vocab``; a test fails while",
        "this file is stale.",
        "",
        "- ``SHILU``: rdflib DefinedNamespace (a misspelt term raises AttributeError).",
        "- ``N``: the same terms as pyoxigraph NamedNodes.",
        "- ``TERMS``: the term names.",
        '"""',
        "",
        "from pyoxigraph import NamedNode",
        "from rdflib.namespace import DefinedNamespace, Namespace",
        "from rdflib.term import URIRef",
        "",
        '__all__ = ["SHILU", "N", "TERMS", "NS", "ONTOLOGY_VERSION"]',
        "",
        f"NS = {_q(NS)}",
        f"ONTOLOGY_VERSION = {_q(str(version)) if version is not None else None}",
        "",
        "",
        "class SHILU(DefinedNamespace):",
        f'    """shilu ontology ({NS}){version_text}."""',
        "",
        "    _fail = True",
    ]
    out += _grouped(terms, lambda term: f"    {term.name}: URIRef  # {term.label}")
    out += [
        "",
        f"    _NS = Namespace({_q(NS)})",
        "",
        "",
        "class N:",
        '    """The shilu terms as pyoxigraph NamedNodes (``N.Capture``, ``N.agent``)."""',
        "",
        "    __slots__ = ()",
    ]
    out += _grouped(terms, lambda term: f"    {term.name} = NamedNode({_q(term.iri)})")
    out += ["", "", "TERMS: tuple[str, ...] = ("]
    out += [f"    {_q(term.name)}," for term in terms]
    out += [")", ""]
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m shilu.graph.gen_vocab",
        description="Generate graph/vocab.py from ontology/shilu.ttl.",
    )
    parser.add_argument(
        "--check", action="store_true", help="do not write; exit 1 if the file is stale"
    )
    args = parser.parse_args(argv)

    text = render()
    current = VOCAB_PATH.read_text(encoding="utf-8") if VOCAB_PATH.exists() else None
    if args.check:
        if current == text:
            print(f"{VOCAB_PATH} is up to date")
            return 0
        diff = difflib.unified_diff(
            (current or "").splitlines(keepends=True),
            text.splitlines(keepends=True),
            fromfile=f"{VOCAB_PATH} (current)",
            tofile=f"{VOCAB_PATH} (generated)",
        )
        sys.stderr.writelines(diff)
        print(f"{VOCAB_PATH} is stale: run python -m shilu.graph.gen_vocab", file=sys.stderr)
        return 1
    if current != text:
        VOCAB_PATH.write_text(text, encoding="utf-8", newline="\n")
        print(f"wrote {VOCAB_PATH}")
    else:
        print(f"{VOCAB_PATH} is up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
