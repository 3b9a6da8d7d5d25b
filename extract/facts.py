"""What extraction produces: plain frozen dataclasses, with character offsets into the source.

The graph layer turns these into RDF; nothing here knows about RDF.
"""

from __future__ import annotations

from .article import Span, record

__all__ = ["Mention", "Entity", "Event", "ArticleFacts"]


@record
class Mention:
    """A place in the article where an entity is named.

    ``via`` says how it was found: ``link``, ``title`` (the bold title term), ``bold``, ``text``
    (a known name in running text), ``army`` (an army, people or coalition standing for its
    polity: 金兵) or ``commander`` (宋將 before a person's name).
    """

    key: str
    surface: str
    span: Span  # in the source file
    via: str
    plain: Span = Span(0, 0)  # in `Article.text`


@record
class Entity:
    """One real thing, keyed by the t2s form of its canonical name.

    ``labels`` is the (zh-Hant, zh-Hans) pair of its preferred name; ``aliases`` further
    (zh-Hant, zh-Hans) pairs. ``cls`` is a class local name of the ontology or None (untyped).
    ``rule`` names the evidence that typed it (for curators).
    """

    key: str
    labels: tuple[str, str]
    aliases: tuple[tuple[str, str], ...] = ()
    cls: str | None = None
    wiki_title: str | None = None
    rule: str | None = None
    ruler_of: str | None = None  # key of the polity a ruler ruled
    affiliation: str | None = None  # key of the polity a person served
    start_year: int | None = None  # wars and battles: from the lead of their own article
    end_year: int | None = None
    participants: tuple[str, ...] = ()
    place: str | None = None


@record
class Event:
    """An n-ary fact: ``kind`` is an event class (Capture, Attack, …), ``roles`` its fillers as
    (role, entity key) pairs in a canonical order, with the sentence that states it."""

    kind: str
    roles: tuple[tuple[str, str], ...]
    evidence: Span
    sentence: str
    trigger: str = ""
    year: int | None = None
    date: str | None = None  # ISO xsd:date when the day is known (Gregorian)
    date_text: str | None = None  # the date words as the article writes them
    precision: str | None = None  # "year", "month", "day"
    lunar_month: int | None = None  # a month of the Chinese calendar (正月 = 1), not Gregorian

    def role(self, name: str) -> tuple[str, ...]:
        return tuple(k for r, k in self.roles if r == name)


@record
class ArticleFacts:
    """Everything extracted from one article."""

    source_id: str
    title: str
    topic: str | None  # key of the thing the article is about
    categories: tuple[str, ...]
    entities: tuple[Entity, ...]
    mentions: tuple[Mention, ...]
    events: tuple[Event, ...] = ()
    wiki_title: str | None = None
