"""The Dask build (shilu.graph.distributed) against the local build, on the real articles.

One LocalCluster of two worker processes serves the whole module; the command line is run
against it by its scheduler address, as it would be against a real cluster.
"""

from __future__ import annotations

import gzip
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pyoxigraph as ox
import pytest

pytest.importorskip("dask.distributed")

from dask.distributed import Client, LocalCluster  # noqa: E402

from shilu.graph import distributed  # noqa: E402
from shilu.graph.build import build, find_articles  # noqa: E402
from shilu.graph.store import current_path, new_generation, open_store, publish  # noqa: E402

from conftest import CORPUS, FIXTURES, SEEDS, need_shared  # noqa: E402

TOKEN = "dist-s3cret"


def nquads(store_dir: Path) -> list[str]:
    store = open_store(store_dir)
    return sorted(store.dump(format=ox.RdfFormat.N_QUADS).decode().splitlines())


def part_lines(parts: list[str]) -> list[str]:
    lines: list[str] = []
    for p in parts:
        with gzip.open(p, "rt", encoding="utf-8") as f:
            lines.extend(f.read().splitlines())
    return lines


@pytest.fixture(scope="module")
def client():
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, \
            Client(cluster) as c:
        yield c


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> Path:
    """``shilu build --full --jobs 2`` of the seeds and the history corpus."""
    need_shared()
    path = tmp_path_factory.mktemp("reference") / "store"
    report = build([SEEDS, CORPUS], path, jobs=2, full=True)
    assert report.articles >= 90 and not report.errors
    return path


@pytest.fixture(scope="module")
def dist(client, tmp_path_factory):
    need_shared()
    root = tmp_path_factory.mktemp("dist")
    report = distributed.run([SEEDS, CORPUS], root / "parts", client=client, store=root / "store")
    return report, root


def test_same_quads_as_the_local_build(dist, reference):
    report, root = dist
    assert report.workers == 2 and len(report.parts) >= 2  # the work really was spread
    assert not report.errors
    expected = nquads(reference)
    assert nquads(root / "store") == expected
    # the parts themselves are the build's stream: every quad, each in its article's graph
    lines = part_lines(report.parts)
    assert len(lines) == report.quads
    memory = ox.Store()
    memory.load("\n".join(lines).encode(), format=ox.RdfFormat.N_QUADS)
    assert sorted(memory.dump(format=ox.RdfFormat.N_QUADS).decode().splitlines()) == expected
    graphs = {g.value for g in memory.named_graphs()}
    assert len(graphs) == report.articles == len(find_articles([SEEDS, CORPUS])[0])


def test_published_store_is_a_shilu_store_a_rebuild_finds_up_to_date(dist):
    report, root = dist
    assert current_path(root / "store").name == report.generation
    again = build([SEEDS, CORPUS], root / "store", jobs=1)
    # same code and the same lexicon fingerprint, every article's hash known: nothing to do
    assert again.mode == "unchanged", again.reason
    assert again.quads == report.quads


def test_bad_files_are_reported_like_the_build(client, tmp_path):
    corpus = tmp_path / "corpus"
    shutil.copytree(FIXTURES / "mini", corpus)
    (corpus / "empty.md").write_bytes(b"")
    (corpus / "sub").mkdir()
    (corpus / "sub" / "甲朝.md").write_text("# 甲朝\n\n**甲朝**是一個朝代。\n", encoding="utf-8")  # a second 甲朝
    (corpus / "utf16.md").write_bytes("# 乙\n".encode("utf-16"))
    local = build([corpus], tmp_path / "ref", jobs=1)
    report = distributed.run([corpus], tmp_path / "parts", client=client, store=tmp_path / "store", partition=2)
    assert sorted((Path(e.path).name, e.reason) for e in report.errors) == \
        sorted((Path(e.path).name, e.reason) for e in local.errors)
    assert len(report.errors) >= 3 and report.exit_code == 1
    assert report.articles == local.articles
    assert nquads(tmp_path / "store") == nquads(tmp_path / "ref")


def test_command_line_on_a_scheduler_address(client, tmp_path, capsys):
    code = distributed.main([str(FIXTURES / "mini"), "--out", str(tmp_path / "parts"),
                             "--scheduler", client.scheduler.address, "--partition", "1"])
    out = capsys.readouterr().out
    assert code == 1 and "broken.md: not UTF-8" in out, out  # as `shilu build` says of the mini corpus
    assert "tdb2.tdbloader --loc DB" in out and "rdf_loader_run()" in out and "FORMAT = nq" in out
    parts = sorted((tmp_path / "parts").glob(distributed.PART_GLOB))
    assert len(parts) >= 2 and all(p.stat().st_size > 0 for p in parts)
    assert (tmp_path / "parts" / distributed.SUMMARY).is_file()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture()
def writable_server(tmp_path):
    """``shilu serve --allow-update`` on an empty store, with a token."""
    store_dir = tmp_path / "served"
    gen = new_generation(store_dir)
    s = ox.Store(str(gen))
    s.flush()
    del s
    publish(store_dir, gen)
    port = _free_port()
    env = {**os.environ, "SHILU_UPDATE_TOKEN": TOKEN}
    proc = subprocess.Popen([sys.executable, "-m", "shilu.graph.cli", "serve", "--store", str(store_dir),
                             "--port", str(port), "--allow-update"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                pytest.fail(f"the server did not start: {proc.stderr.read().decode()[-2000:]}")
            time.sleep(0.2)
    try:
        yield f"http://127.0.0.1:{port}/rdf-graphs/service", store_dir, proc
    finally:
        if proc.poll() is None:
            proc.terminate()
            proc.wait(timeout=30)


def test_graph_store_protocol_loads_every_graph_into_shilu_serve(client, writable_server, dist, reference, tmp_path):
    url, store_dir, proc = writable_server
    report, root = dist
    with pytest.raises(Exception, match="HTTP 401|HTTP 403"):
        distributed.load_gsp(report.parts[:1], url, token="wrong")
    sent = distributed.run([SEEDS, CORPUS], tmp_path / "parts", client=client, gsp=url, gsp_token=TOKEN)
    assert sent.gsp_graphs == sent.articles == report.articles
    proc.terminate()
    proc.wait(timeout=30)
    assert nquads(store_dir) == nquads(reference)
