"""shilu (實錄): a knowledge graph and SPARQL endpoint for Chinese history.

The installed package maps the repository's folders onto subpackages:
``shilu.extract`` (text in, facts out), ``shilu.graph`` (facts to RDF, store, endpoint, CLI),
``shilu.ontology`` and ``shilu.queries`` (data shipped with the package).

For notebooks, the graph as plain Python values (``shilu.graph.api``)::

    import shilu
    kg = shilu.open("data/store")               # or shilu.remote("http://127.0.0.1:7878/sparql")
    kg.query("alliances").to_dataframe()        # a named query (kg.queries() lists them)
    kg.query("rulers", dynasty="西夏")          # with parameters
    kg.entity("遼朝").events                    # a thing by any name, in either script
    svg = shilu.timeline_svg(kg, "金朝")        # pictures as SVG text

Nothing heavy is imported by ``import shilu``: the names below load ``shilu.graph.api`` (and
pyoxigraph) on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:  # pragma: no cover
    from .graph.api import (Entity, EntityNotFound, KnowledgeGraph, QueryError, Row, Rows,
                            open, remote)
    from .graph.timeline import neighbourhood_svg, timeline_svg

_API = {
    "open": "api", "remote": "api", "Rows": "api", "Row": "api", "Entity": "api",
    "EntityNotFound": "api", "KnowledgeGraph": "api", "QueryError": "api",
    "timeline_svg": "timeline", "neighbourhood_svg": "timeline",
}

__all__ = ["__version__", *_API]


def __getattr__(name: str) -> Any:
    module = _API.get(name)
    if module is None:
        raise AttributeError(f"module 'shilu' has no attribute {name!r}")
    from importlib import import_module

    value = getattr(import_module(f".graph.{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_API))
