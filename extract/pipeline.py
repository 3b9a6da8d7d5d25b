"""The extraction pipeline: `Article` in, `ArticleFacts` out.

Each step is a small pure function registered in `EXTRACTORS` in the order it runs, in the
manner of spaCy's pipeline components; none does I/O or touches a store.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace

from .article import Article, parse_article
from .entities import Lexicon, LexiconReading, extract_entities, page_title_of
from .events import conflict_facts, extract_events
from .facts import ArticleFacts
from .resources import Resources, default_resources

__all__ = ["build_lexicon", "extract_article", "extract_text", "lexicon_from_readings", "read_for_lexicon"]


def build_lexicon(articles: Iterable[Article], resources: Resources | None = None) -> Lexicon:
    """First pass over the whole corpus: titles, categories, lead sentences, link spellings."""
    resources = resources or default_resources()
    return lexicon_from_readings([read_for_lexicon(a, resources) for a in articles], resources)


def read_for_lexicon(article: Article, resources: Resources | None = None) -> LexiconReading:
    """What the first pass needs of one article (`build_lexicon` is `lexicon_from_readings` over
    these, in corpus order): parallel workers make them, one process joins them."""
    return LexiconReading.of(article, (resources or default_resources()).class_rules)


def lexicon_from_readings(readings: Sequence[LexiconReading], resources: Resources | None = None) -> Lexicon:
    """The corpus lexicon from the `read_for_lexicon` of each article, in corpus order."""
    resources = resources or default_resources()
    return Lexicon.from_readings(readings, resources.aliases, resources.polities, resources.class_rules,
                                 resources.clans,
                                 (n for era in resources.eras for n in (era.name, *era.aliases)),
                                 ((n, era.polity, era.ruler) for era in resources.eras for n in (era.name, *era.aliases)))


def extract_article(article: Article, lexicon: Lexicon, resources: Resources | None = None) -> ArticleFacts:
    """Second pass: the entities, mentions and events of one article."""
    resources = resources or default_resources()
    topic, entities, mentions = extract_entities(article, lexicon, resources.class_rules)
    events = extract_events(article, mentions, entities, topic, resources.triggers, resources.eras,
                            resources.polities, resources.periods)
    conflict = conflict_facts(article, mentions, entities, topic, resources.eras)
    if conflict:
        entities = [replace(e, **conflict) if e.key == topic else e for e in entities]
    return ArticleFacts(
        source_id=article.source_id,
        title=article.title,
        topic=topic,
        categories=article.categories,
        entities=tuple(entities),
        mentions=tuple(mentions),
        events=_one_telling_each(events),
        wiki_title=page_title_of(article),
    )


def extract_text(text: str, source_id: str, resources: Resources | None = None) -> ArticleFacts:
    """Parse and extract a single article on its own (its lexicon is just itself)."""
    article = parse_article(text, source_id)
    return extract_article(article, build_lexicon([article], resources), resources)


def _one_telling_each(events):
    """One event per (kind, roles, year, sentence): two verbs of one sentence telling the same
    deed (攻…圍) are one telling, dated by the first."""
    seen: dict[tuple, object] = {}
    for e in events:
        seen.setdefault((e.kind, e.roles, e.year, e.evidence), e)
    return tuple(seen.values())
