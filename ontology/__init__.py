"""The shilu ontology and the data files shipped beside it.

``shilu.ttl`` (classes and properties), ``shapes.ttl`` (SHACL shapes the graph must satisfy) and
any other data file of this package are reached through :func:`data_path`, which works from a
source checkout and from an installed package alike.

>>> ONTOLOGY_PATH.name, SHAPES_PATH.name
('shilu.ttl', 'shapes.ttl')
>>> NS + "Capture"
'https://w3id.org/shilu/ontology#Capture'
"""

from __future__ import annotations

import pathlib
from importlib.resources import files

__all__ = ["NS", "RESOURCE", "SOURCE", "ONTOLOGY_PATH", "SHAPES_PATH", "data_path"]

#: Namespace of shilu classes and properties (prefix ``shilu:``).
NS = "https://w3id.org/shilu/ontology#"
#: Namespace of things: polities, people, places, events, categories (prefix ``res:``).
RESOURCE = "https://w3id.org/shilu/resource/"
#: Namespace of source articles, each also the name of its named graph (prefix ``src:``).
SOURCE = "https://w3id.org/shilu/source/"


def data_path(name: str) -> pathlib.Path:
    """The path of the data file ``name`` shipped in this package (``"shilu.ttl"``).

    Raises ``ValueError`` for a name that is not a plain file name, so nothing outside the
    package can be reached through it. The file need not exist.
    """
    if not name or name in (".", "..") or "/" in name or "\\" in name:
        raise ValueError(f"not a data file name: {name!r}")
    return pathlib.Path(str(files(__name__).joinpath(name)))


#: The OWL ontology (Turtle).
ONTOLOGY_PATH = data_path("shilu.ttl")
#: The SHACL shapes (Turtle).
SHAPES_PATH = data_path("shapes.ttl")
