"""Extraction quality on the gold annotations in ../shared/gold, as `shilu eval` measures it.

The floors sit a little under what the extractor reaches now (see the issue notes), so a change
that makes extraction worse fails here; raise them as the extractor improves.
"""

from __future__ import annotations

from shilu.graph.evaluate import evaluate
from shilu.graph.store import open_store

from conftest import GOLD, need_shared


def test_gold_scores_do_not_regress(corpus_store):
    need_shared()
    report = evaluate(open_store(corpus_store), GOLD)
    ents, facts = report.entities, report.facts
    assert ents.rows > 600 and facts.rows > 300  # the gold is all there
    assert ents.recall >= 0.95, ents.recall  # issue 3: 0.95
    assert ents.type_accuracy >= 0.95, ents.type_accuracy  # issue 3: 0.95
    assert facts.precision >= 0.95, facts.precision  # issue 4: 0.90
    assert facts.recall >= 0.85, facts.recall  # issue 4: 0.85


def test_seed_facts(seed_store):
    """The three seed articles, fact by fact for the ones the brief names."""
    report = evaluate(open_store(seed_store), GOLD)
    seed = report.article("000_905151af9fa92dc5")
    assert seed.facts.precision >= 0.9 and seed.facts.recall >= 0.85
