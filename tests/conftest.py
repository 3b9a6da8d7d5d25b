"""Shared fixtures: the hand-written mini corpus, and the real articles in ../shared."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"
SHARED = ROOT.parent / "shared"
SEEDS = SHARED / "seeds"
CORPUS = SHARED / "corpus" / "history"
GOLD = SHARED / "gold"


def extract_fixtures(folder: Path):
    """The hand-written articles of ``folder`` extracted together, with the fixture polities
    (甲, 乙 of fixtures/events/polities.tsv) added to the shipped table: (ArticleFacts by
    source id, the lexicon)."""
    from dataclasses import replace

    from shilu.extract import build_lexicon, default_resources, extract_article, parse_article
    from shilu.extract.mentions import PolityTable
    from shilu.extract.resources import read_table

    rows = read_table((FIXTURES / "events" / "polities.tsv").read_text(encoding="utf-8"))
    rows += read_table((ROOT / "ontology" / "polities.tsv").read_text(encoding="utf-8"))
    armies = read_table((ROOT / "ontology" / "armies.tsv").read_text(encoding="utf-8"))
    resources = replace(default_resources(), polities=PolityTable.from_rows(rows, armies))
    articles = [parse_article(p.read_text(encoding="utf-8"), p.stem) for p in sorted(folder.glob("*.md"))]
    lexicon = build_lexicon(articles, resources)
    return {a.source_id: extract_article(a, lexicon, resources) for a in articles}, lexicon


@contextlib.contextmanager
def serving(app, *, start_timeout: float = 10, check_shutdown: bool = False) -> Iterator[int]:
    """``app`` under a real uvicorn on a free loopback port, in a daemon thread; yields the port.

    uvicorn speaks HTTP through the protocol ``shilu serve`` gives it (``server._http_option``),
    so the tests see the responses users get.
    """
    import uvicorn

    from shilu.graph.server import _http_option

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off",
                                           http=_http_option()))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + start_timeout
        while not server.started:
            assert time.monotonic() < deadline, "uvicorn did not start"
            assert thread.is_alive(), "uvicorn exited"
            time.sleep(0.02)
        yield port
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
    if check_shutdown:
        assert not thread.is_alive(), "uvicorn did not shut down"


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
