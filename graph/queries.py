"""Named SPARQL queries: the `.rq` files shipped in `shilu.queries`, run by name.

Each file starts with a comment header::

    # title: Every alliance with its parties and year
    # answers: which polities allied with whom, when
    # param: polity = 金朝   (a name in either script; the default if not given)

A parameter ``$name`` in the query text is replaced by the value given with ``--param name=…``
(as a SPARQL string literal), so queries stay valid SPARQL-with-placeholders and values are
never spliced in unquoted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path

from .rdf import PREFIXES

__all__ = ["NamedQuery", "list_queries", "load_query"]

_HEADER = re.compile(r"^#\s*(title|answers|param)\s*:\s*(.*)$")
_PARAM = re.compile(r"^(\w+)\s*(=\s*([^()]*?))?\s*(?:\((.*)\))?\s*$")


@dataclass(frozen=True)
class NamedQuery:
    name: str
    text: str
    title: str = ""
    answers: str = ""
    params: dict[str, str | None] = field(default_factory=dict)  # name -> default (None: required)
    param_help: dict[str, str] = field(default_factory=dict)

    def render(self, **values: str) -> str:
        """The query with ``$param`` placeholders bound to string literals."""
        unknown = set(values) - set(self.params)
        if unknown:
            raise KeyError(f"query {self.name!r} has no parameter {', '.join(sorted(unknown))} "
                           f"(it takes: {', '.join(self.params) or 'none'})")
        merged = {**self.params, **values}
        missing = [k for k, v in merged.items() if v is None]
        if missing:
            raise KeyError(f"query {self.name!r} needs --param {missing[0]}=…")
        text = self.text
        for k in sorted(merged, key=len, reverse=True):
            literal = '"' + merged[k].replace("\\", "\\\\").replace('"', '\\"') + '"'
            text = re.sub(r"\$" + k + r"\b", lambda _m: literal, text)
        return text


def parse_query(name: str, text: str) -> NamedQuery:
    title = answers = ""
    params: dict[str, str | None] = {}
    helps: dict[str, str] = {}
    for line in text.splitlines():
        m = _HEADER.match(line.strip())
        if not m:
            if line.strip() and not line.lstrip().startswith("#"):
                break
            continue
        what, value = m.groups()
        if what == "title":
            title = value.strip()
        elif what == "answers":
            answers = value.strip()
        else:
            pm = _PARAM.match(value.strip())
            if pm:
                # "name = " gives an empty default; a bare "name" is required
                params[pm.group(1)] = (pm.group(3) or "").strip() if pm.group(2) else None
                helps[pm.group(1)] = (pm.group(4) or "").strip()
    return NamedQuery(name, text, title, answers, params, helps)


def _query_dir():
    return files("shilu.queries")


def list_queries() -> list[NamedQuery]:
    return sorted((parse_query(p.name[:-3], p.read_text(encoding="utf-8"))
                   for p in _query_dir().iterdir() if p.name.endswith(".rq")), key=lambda q: q.name)


def load_query(name_or_path: str) -> NamedQuery:
    """A named query (``captures``) or a query file (``my.rq``)."""
    path = Path(name_or_path)
    if path.suffix == ".rq" or path.exists():
        if not path.is_file():
            raise FileNotFoundError(f"no query file {path}")
        return parse_query(path.stem, path.read_text(encoding="utf-8"))
    candidate = _query_dir().joinpath(name_or_path + ".rq")
    if not candidate.is_file():
        names = ", ".join(q.name for q in list_queries())
        raise FileNotFoundError(f"no named query {name_or_path!r}; known: {names}")
    return parse_query(name_or_path, candidate.read_text(encoding="utf-8"))


def prefix_block() -> str:
    return "".join(f"PREFIX {p}: <{iri}>\n" for p, iri in PREFIXES.items())
