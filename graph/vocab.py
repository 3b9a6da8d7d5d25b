"""shilu ontology terms, generated from ontology/shilu.ttl: do not edit.

Change ontology/shilu.ttl and run ``python -m shilu.graph.gen_vocab``; a test fails while
this file is stale.

- ``SHILU``: rdflib DefinedNamespace (a misspelt term raises AttributeError).
- ``N``: the same terms as pyoxigraph NamedNodes.
- ``TERMS``: the term names.
"""

from pyoxigraph import NamedNode
from rdflib.namespace import DefinedNamespace, Namespace
from rdflib.term import URIRef

__all__ = ["SHILU", "N", "TERMS", "NS", "ONTOLOGY_VERSION"]

NS = "https://w3id.org/shilu/ontology#"
ONTOLOGY_VERSION = "0.1.0"


class SHILU(DefinedNamespace):
    """shilu ontology (https://w3id.org/shilu/ontology#), version 0.1.0."""

    _fail = True

    # Classes
    Accession: URIRef  # Accession
    Alliance: URIRef  # Alliance
    Article: URIRef  # Article
    Attack: URIRef  # Attack
    Battle: URIRef  # Battle
    Capture: URIRef  # Capture
    Cession: URIRef  # Cession
    City: URIRef  # City
    Conquest: URIRef  # Conquest
    Death: URIRef  # Death
    Dynasty: URIRef  # Dynasty
    Event: URIRef  # Event
    Founding: URIRef  # Founding
    Person: URIRef  # Person
    Place: URIRef  # Place
    Polity: URIRef  # Polity
    Ruler: URIRef  # Ruler
    Surrender: URIRef  # Surrender
    Treaty: URIRef  # Treaty
    Victory: URIRef  # Victory
    War: URIRef  # War

    # Object properties
    acceded: URIRef  # acceded to the throne of
    agent: URIRef  # agent
    alliedWith: URIRef  # allied with
    attacked: URIRef  # attacked
    captured: URIRef  # captured
    ceded: URIRef  # ceded territory to
    defeated: URIRef  # defeated
    destroyed: URIRef  # destroyed
    evidence: URIRef  # evidence
    founded: URIRef  # founded
    mentions: URIRef  # mentions
    partOf: URIRef  # part of
    participant: URIRef  # participant
    party: URIRef  # party
    place: URIRef  # place
    recipient: URIRef  # recipient
    rulerOf: URIRef  # ruler of
    surrenderedTo: URIRef  # surrendered to
    target: URIRef  # target

    # Datatype properties
    date: URIRef  # date
    datePrecision: URIRef  # date precision
    dateText: URIRef  # date as written
    endYear: URIRef  # end year
    lunarMonth: URIRef  # lunar month
    startYear: URIRef  # start year
    year: URIRef  # year

    # Annotation properties
    shortcutObject: URIRef  # shortcut object role
    shortcutOf: URIRef  # shortcut of
    shortcutSubject: URIRef  # shortcut subject role

    _NS = Namespace("https://w3id.org/shilu/ontology#")


class N:
    """The shilu terms as pyoxigraph NamedNodes (``N.Capture``, ``N.agent``)."""

    __slots__ = ()

    # Classes
    Accession = NamedNode("https://w3id.org/shilu/ontology#Accession")
    Alliance = NamedNode("https://w3id.org/shilu/ontology#Alliance")
    Article = NamedNode("https://w3id.org/shilu/ontology#Article")
    Attack = NamedNode("https://w3id.org/shilu/ontology#Attack")
    Battle = NamedNode("https://w3id.org/shilu/ontology#Battle")
    Capture = NamedNode("https://w3id.org/shilu/ontology#Capture")
    Cession = NamedNode("https://w3id.org/shilu/ontology#Cession")
    City = NamedNode("https://w3id.org/shilu/ontology#City")
    Conquest = NamedNode("https://w3id.org/shilu/ontology#Conquest")
    Death = NamedNode("https://w3id.org/shilu/ontology#Death")
    Dynasty = NamedNode("https://w3id.org/shilu/ontology#Dynasty")
    Event = NamedNode("https://w3id.org/shilu/ontology#Event")
    Founding = NamedNode("https://w3id.org/shilu/ontology#Founding")
    Person = NamedNode("https://w3id.org/shilu/ontology#Person")
    Place = NamedNode("https://w3id.org/shilu/ontology#Place")
    Polity = NamedNode("https://w3id.org/shilu/ontology#Polity")
    Ruler = NamedNode("https://w3id.org/shilu/ontology#Ruler")
    Surrender = NamedNode("https://w3id.org/shilu/ontology#Surrender")
    Treaty = NamedNode("https://w3id.org/shilu/ontology#Treaty")
    Victory = NamedNode("https://w3id.org/shilu/ontology#Victory")
    War = NamedNode("https://w3id.org/shilu/ontology#War")

    # Object properties
    acceded = NamedNode("https://w3id.org/shilu/ontology#acceded")
    agent = NamedNode("https://w3id.org/shilu/ontology#agent")
    alliedWith = NamedNode("https://w3id.org/shilu/ontology#alliedWith")
    attacked = NamedNode("https://w3id.org/shilu/ontology#attacked")
    captured = NamedNode("https://w3id.org/shilu/ontology#captured")
    ceded = NamedNode("https://w3id.org/shilu/ontology#ceded")
    defeated = NamedNode("https://w3id.org/shilu/ontology#defeated")
    destroyed = NamedNode("https://w3id.org/shilu/ontology#destroyed")
    evidence = NamedNode("https://w3id.org/shilu/ontology#evidence")
    founded = NamedNode("https://w3id.org/shilu/ontology#founded")
    mentions = NamedNode("https://w3id.org/shilu/ontology#mentions")
    partOf = NamedNode("https://w3id.org/shilu/ontology#partOf")
    participant = NamedNode("https://w3id.org/shilu/ontology#participant")
    party = NamedNode("https://w3id.org/shilu/ontology#party")
    place = NamedNode("https://w3id.org/shilu/ontology#place")
    recipient = NamedNode("https://w3id.org/shilu/ontology#recipient")
    rulerOf = NamedNode("https://w3id.org/shilu/ontology#rulerOf")
    surrenderedTo = NamedNode("https://w3id.org/shilu/ontology#surrenderedTo")
    target = NamedNode("https://w3id.org/shilu/ontology#target")

    # Datatype properties
    date = NamedNode("https://w3id.org/shilu/ontology#date")
    datePrecision = NamedNode("https://w3id.org/shilu/ontology#datePrecision")
    dateText = NamedNode("https://w3id.org/shilu/ontology#dateText")
    endYear = NamedNode("https://w3id.org/shilu/ontology#endYear")
    lunarMonth = NamedNode("https://w3id.org/shilu/ontology#lunarMonth")
    startYear = NamedNode("https://w3id.org/shilu/ontology#startYear")
    year = NamedNode("https://w3id.org/shilu/ontology#year")

    # Annotation properties
    shortcutObject = NamedNode("https://w3id.org/shilu/ontology#shortcutObject")
    shortcutOf = NamedNode("https://w3id.org/shilu/ontology#shortcutOf")
    shortcutSubject = NamedNode("https://w3id.org/shilu/ontology#shortcutSubject")


TERMS: tuple[str, ...] = (
    "Accession",
    "Alliance",
    "Article",
    "Attack",
    "Battle",
    "Capture",
    "Cession",
    "City",
    "Conquest",
    "Death",
    "Dynasty",
    "Event",
    "Founding",
    "Person",
    "Place",
    "Polity",
    "Ruler",
    "Surrender",
    "Treaty",
    "Victory",
    "War",
    "acceded",
    "agent",
    "alliedWith",
    "attacked",
    "captured",
    "ceded",
    "defeated",
    "destroyed",
    "evidence",
    "founded",
    "mentions",
    "partOf",
    "participant",
    "party",
    "place",
    "recipient",
    "rulerOf",
    "surrenderedTo",
    "target",
    "date",
    "datePrecision",
    "dateText",
    "endYear",
    "lunarMonth",
    "startYear",
    "year",
    "shortcutObject",
    "shortcutOf",
    "shortcutSubject",
)
