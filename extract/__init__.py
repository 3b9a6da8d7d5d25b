"""Extraction: Markdown article text in, facts out. Pure; no I/O on articles, no RDF."""

from .article import Article, Span, parse_article
from .entities import Lexicon
from .facts import ArticleFacts, Entity, Event, Mention
from .pipeline import build_lexicon, extract_article, extract_text
from .resources import Resources, default_resources

__all__ = [
    "Article", "ArticleFacts", "Entity", "Event", "Lexicon", "Mention", "Resources", "Span",
    "build_lexicon", "default_resources", "extract_article", "extract_text", "parse_article",
]
