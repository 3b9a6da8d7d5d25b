"""Extraction: Markdown article text in, facts out. Pure; no I/O on articles, no RDF."""

from .article import Article, Span, parse_article
from .entities import Lexicon, LexiconReading
from .facts import ArticleFacts, Entity, Event, Mention
from .pipeline import build_lexicon, extract_article, extract_text, lexicon_from_readings, read_for_lexicon
from .resources import Resources, default_resources

__all__ = [
    "Article", "ArticleFacts", "Entity", "Event", "Lexicon", "LexiconReading", "Mention", "Resources", "Span",
    "build_lexicon", "default_resources", "extract_article", "extract_text", "lexicon_from_readings",
    "parse_article", "read_for_lexicon",
]
