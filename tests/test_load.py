"""The load test of the server, short form: ``bench/load.py`` for 6 s (longer if the swap comes
later) with 8 keep-alive connections (small SELECTs, a heavy GROUP BY over the whole union graph,
DESCRIBEs, resource pages, /health) against ``shilu serve`` on a copy of the seeds + corpus
store, while a full ``shilu build`` publishes a new generation mid-run. The 60 s form and its
figures are in bench/README.md ("Load"). Nothing here asserts a timing."""

from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess
import sys

import pytest

from conftest import CORPUS, ROOT, SEEDS

SCRIPT = ROOT / "bench" / "load.py"


def load_module():
    spec = importlib.util.spec_from_file_location("shilu_bench_load", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def run(corpus_store, tmp_path_factory):
    """Figures of one short run; the store is a copy, so the session's store is not rebuilt."""
    work = tmp_path_factory.mktemp("load")
    store = work / "store"
    shutil.copytree(corpus_store, store, symlinks=True)
    out = work / "load.json"
    p = subprocess.run(
        [sys.executable, str(SCRIPT), "--store", str(store), "--sources", str(SEEDS), str(CORPUS),
         "--duration", "6", "--connections", "8", "--rebuild-at", "0.5", "--max-extra", "90",
         "--json", str(out)],
        capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert out.exists(), p.stdout + p.stderr
    return p, json.loads(out.read_text(encoding="utf-8"))


def test_no_error_under_load_across_a_swap(run):
    p, f = run
    assert f["broken_rules"] == [], p.stdout
    assert p.returncode == 0 and "OK:" in p.stdout, p.stdout + p.stderr
    # every kind was exercised and answered 200 (the time limit is 30 s: no 503 expected here)
    for kind, k in f["kinds"].items():
        assert k["requests"] > 0, kind
        assert k["status"] == {"200": k["requests"]}, (kind, k["status"])
    assert f["total"]["unexpected_5xx"] == 0
    # exactly 8 connections, each kept open for the whole run
    assert f["connections"] == {"wanted": 8, "opened": 8, "errors": 0, "first_errors": []}
    # requests were answered while the rebuild ran, not only before and after it
    assert f["during_rebuilds"]["requests"] > 0


def test_the_swap_is_observed_and_later_answers_are_new(run):
    _, f = run
    start = f["config"]["generation_at_start"]
    [rebuild] = f["rebuilds"]
    assert rebuild["returncode"] == 0
    new = rebuild["generation"]
    assert new != start and f["generations"]["current_at_end"] == new
    health = f["generations"]["health"]
    assert [g["name"] for g in health] == [start, new]
    assert health[0]["answers"] > 0 and health[1]["answers"] > 0
    assert rebuild["first_answer_s"] > rebuild["started_s"]
    # SPARQL results and resource descriptions carry the generation in their ETag: two tokens,
    # one per generation, and no request sent after a new-generation answer got an old one
    etag = f["generations"]["etag"]
    assert len(etag) == 2 and all(g["answers"] > 0 for g in etag)
    assert f["generations"]["stale"] == 0
    # after the run the server holds only the new generation open: the old store was closed
    assert list(f["generations"]["files_open_at_end"]) == [new]


def test_server_memory_bounded(run):
    _, f = run
    rss = f["rss_mb"]
    assert rss["start"] > 0 and len(rss["samples"]) > 10
    # generous: a 64 MB response cache per generation plus a second open generation
    assert rss["max"] - rss["start"] < 400, rss
    assert rss["end"] < 1500, rss


def test_stale_answers_are_caught():
    """The rule the swap is judged by: an answer from an older generation to a request sent
    after a newer one had answered is stale; overlapping requests are not."""
    load = load_module()
    A = load.Answer
    answers = [
        A(0, "health", 0.0, 0.1, 200, "health:gen-000001"),
        A(1, "health", 0.9, 1.2, 200, "health:gen-000001"),  # in flight at the swap: fine
        A(0, "health", 1.0, 1.1, 200, "health:gen-000002"),
        A(2, "health", 1.3, 1.4, 200, "health:gen-000001"),  # sent after gen 2 answered: stale
        A(0, "select", 0.0, 0.1, 200, "etag:aaaa"),
        A(0, "select", 1.0, 1.1, 200, "etag:bbbb"),
        A(1, "select", 1.05, 1.2, 200, "etag:aaaa"),  # overlaps: fine
    ]
    gens, stale, examples = load.generation_figures(answers, "health")
    assert [g["name"] for g in gens] == ["gen-000001", "gen-000002"]
    assert stale == 1 and examples[0]["conn"] == 2
    gens, stale, _ = load.generation_figures(answers, "etag")
    assert [g["name"] for g in gens] == ["aaaa", "bbbb"] and stale == 0
    answers.append(A(3, "describe", 1.5, 1.6, 200, "etag:aaaa"))
    assert load.generation_figures(answers, "etag")[1] == 1
