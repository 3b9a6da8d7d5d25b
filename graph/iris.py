"""The one place that mints IRIs.

A resource IRI is the resource namespace plus the thing's key (its t2s name) with spaces as
``_``; only characters an IRI path segment cannot carry are percent-encoded, so IRIs stay
readable Chinese (as DBpedia's do) and distinct keys always give distinct IRIs.
"""

from __future__ import annotations

import hashlib
import re
from urllib.parse import quote

RESOURCE = "https://w3id.org/shilu/resource/"
SOURCE = "https://w3id.org/shilu/source/"
ONTOLOGY = "https://w3id.org/shilu/ontology#"
WIKIPEDIA = "https://zh.wikipedia.org/wiki/"

# Everything outside this set is percent-encoded (RFC 3987 ipchar minus the delimiters that
# would change the IRI's structure). Non-ASCII letters pass through unencoded.
_SAFE = "!$&'()*+,;=:@-._~"
_UNSAFE = re.compile(r"[^A-Za-z0-9!$&'()*+,;=:@\-._~\u0080-\U0010ffff]")


def segment(name: str) -> str:
    """An IRI path segment for a name: spaces become ``_``, delimiters are percent-encoded.

    >>> segment("大定府 (辽朝)")
    '大定府_(辽朝)'
    >>> segment("AC/DC 50%")
    'AC%2FDC_50%25'
    """
    name = "_".join(name.split())
    if name.isprintable() and _UNSAFE.search(name) is None:
        return name  # the common case: nothing to encode (one scan in C, not one call a character)
    out = []
    for ch in name:
        if ord(ch) > 0x7F and ch.isprintable():
            out.append(ch)
        else:
            out.append(quote(ch, safe=_SAFE))
    return "".join(out)


def resource(key: str) -> str:
    """``resource("金朝") == "https://w3id.org/shilu/resource/金朝"``."""
    return RESOURCE + segment(key)


def category(name: str) -> str:
    return RESOURCE + "Category:" + segment(name)


def source(source_id: str) -> str:
    """The named graph (and article) IRI of a source file, from its name without extension."""
    return SOURCE + segment(source_id)


def event(kind: str, roles: tuple[tuple[str, str], ...], year: int | None) -> str:
    """One IRI per (kind, role fillers, year): the same event told twice is one resource.

    >>> event("Capture", (("agent", "金朝"), ("target", "大定府 (辽朝)")), 1122)
    'https://w3id.org/shilu/resource/event/Capture/金朝/大定府_(辽朝)/1122'
    """
    parts = [segment(k) for _, k in roles]
    return "/".join([RESOURCE + "event", kind, *parts, str(year) if year is not None else "undated"])


def evidence(source_id: str, start: int, end: int, event_iri: str | None = None) -> str:
    """RFC 5147 character range within the source file, as NIF and Web Annotation use; with
    ``event_iri``, the telling of that one event by that sentence (a sentence may tell several
    events, each dated its own way), distinguished by a short digest of the event's IRI."""
    base = f"{source(source_id)}#char={start},{end}"
    if event_iri is None:
        return base
    return f"{base};event={hashlib.sha1(event_iri.encode('utf-8')).hexdigest()[:12]}"


def wikipedia(title: str) -> str:
    return WIKIPEDIA + segment(title)
