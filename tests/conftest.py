"""Shared fixtures: the hand-written mini corpus, and the real articles in ../shared."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"
SHARED = ROOT.parent / "shared"
SEEDS = SHARED / "seeds"
CORPUS = SHARED / "corpus" / "history"
GOLD = SHARED / "gold"


def need_shared() -> None:
    if not SEEDS.is_dir():
        pytest.skip(f"../shared is not beside the project ({SEEDS} missing)")


@pytest.fixture(scope="session")
def mini_dir() -> Path:
    return FIXTURES / "mini"


@pytest.fixture(scope="session")
def seed_store(tmp_path_factory) -> Path:
    """A store built once from the three seed articles."""
    need_shared()
    from shilu.graph.build import build

    path = tmp_path_factory.mktemp("seed-store")
    report = build([SEEDS], path)
    assert report.articles == 3 and not report.errors
    return path


@pytest.fixture(scope="session")
def corpus_store(tmp_path_factory) -> Path:
    """A store built once from the seeds and the history corpus."""
    need_shared()
    from shilu.graph.build import build

    path = tmp_path_factory.mktemp("corpus-store")
    report = build([SEEDS, CORPUS], path)
    assert report.articles >= 90 and not report.errors
    return path
