"""The build side of reliability: bad corpora, --strict, a busy store, and builds killed with
SIGKILL. Every bad corpus is made here, in tmp_path; nothing of it is committed."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyoxigraph
import pytest

from shilu.graph.build import BuildAborted, build
from shilu.graph.export import export
from shilu.graph.store import current_path, lock_store, open_store, tidy

from conftest import CORPUS, FIXTURES, ROOT, need_shared

SRC = "https://w3id.org/shilu/source/"
GOOD = (FIXTURES / "mini" / "甲朝.md").read_text(encoding="utf-8")


def cli(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "shilu.graph.cli", *args], capture_output=True,
                          text=True, timeout=timeout, cwd=ROOT)


def graphs(store_dir: Path) -> set[str]:
    return {g.value[len(SRC):] for g in open_store(store_dir).named_graphs()}


def generations(store_dir: Path) -> list[str]:
    return sorted(p.name for p in store_dir.iterdir() if p.name.startswith("gen-"))


def make_bad_corpus(root: Path) -> dict[str, str | None]:
    """Files of every kind of trouble; name -> the words its reason must contain (None: the file
    is odd but good, and must be built)."""
    root.mkdir()
    expect: dict[str, str | None] = {}

    def put(name: str, data: bytes | str, reason: str | None) -> None:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))
        expect[name] = reason

    put("好.md", GOOD, None)
    put("empty.md", b"", "empty file")
    put("blank.md", " \n\t\r\n\u3000\n", "whitespace only")
    put("latin1.md", "**Zürich** est une ville.".encode("latin-1"), "not UTF-8")
    put("utf16.md", "**甲朝**是一個朝代。".encode("utf-16"), "UTF-16")
    put("binary.md", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4, "binary")
    line = "**巨**，[乙朝](../Page/乙朝.md \"wikilink\")攻克[丙州](../Page/丙州.md \"wikilink\")。\n"
    put("huge.md", line * (50 * 1024 * 1024 // len(line.encode()) + 1), "too large")
    put("links.md", "**萬鏈**是一個測試。\n\n" + "".join(
        f"[乙{i}](../Page/乙{i}.md \"wikilink\")" for i in range(20_000)) + "\n", None)
    put("brackets.md", "**括號**[[[未閉合（((的[連結](../Page/甲朝.md 和 ]]]] 與 ))) 還有 [x](y\n\n第二段。\n", None)
    put("odd_links.md", "**怪鏈**見[甲)朝](../Page/甲\\)朝.md \"wikilink\")與[乙\"國](../Page/乙\"國.md \"wiki\"link\")及"
        "[丙](<../Page/丙 (甲朝).md> \"wikilink\")。\n", None)
    put("nested.md", "**嵌套**是-{zh-hans:甲-{乙}-丙;zh-hant:-{-{丁}-}-}-，又-{A|-{zh-cn:戊;zh-tw:己}-}-。\n", None)
    put("untitled.md", "沒有粗體標題的文章，提到[甲朝](../Page/甲朝.md \"wikilink\")。\n", None)
    put("crlf.md", GOOD.replace("\n", "\r\n").replace("甲朝", "庚朝"), None)
    put("a/dup.md", GOOD.replace("甲朝", "辛朝"), None)
    put("b/dup.md", GOOD.replace("甲朝", "壬朝"), "same name as")
    os.symlink(root, root / "a" / "loop")  # a directory loop
    return expect


def test_bad_corpus_builds_the_good_files_and_reports_each_bad_one(tmp_path):
    expect = make_bad_corpus(tmp_path / "corpus")
    store, report_file = tmp_path / "store", tmp_path / "report.json"
    started = time.perf_counter()
    r = cli("build", str(tmp_path / "corpus"), "--store", str(store), "--report", str(report_file))
    assert time.perf_counter() - started < 120
    assert r.returncode == 1, r.stderr  # built and published, but some files failed
    report = json.loads(report_file.read_text(encoding="utf-8"))
    assert report == {**json.loads((store / "last-build.json").read_text(encoding="utf-8")),
                      "finished": report["finished"]}
    assert report["status"] == "partial" and report["exit_code"] == 1
    reasons = {str(Path(e["path"]).relative_to(tmp_path / "corpus")): e["reason"] for e in report["errors"]}
    bad = {name: words for name, words in expect.items() if words is not None}
    assert set(reasons) == set(bad)
    for name, words in bad.items():
        assert words in reasons[name], (name, reasons[name])
        assert "\n" not in reasons[name]
        # ... and the same line in the summary on stderr
        assert any(line.strip().startswith(str(tmp_path / "corpus" / name)) and words in line
                   for line in r.stderr.splitlines()), (name, r.stderr)
    good = {Path(name).stem for name, words in expect.items() if words is None}
    assert graphs(store) == good
    assert report["articles"] == len(good)
    # the CRLF article says what its LF twin says
    facts = open_store(store).query(
        "SELECT DISTINCT ?c WHERE { GRAPH ?g { <https://w3id.org/shilu/resource/庚朝> a ?c } }")
    assert [s[0].value for s in facts] == ["https://w3id.org/shilu/ontology#Dynasty"]


def test_unreadable_file_is_reported(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "好.md").write_text(GOOD, encoding="utf-8")
    locked = corpus / "locked.md"
    locked.write_text(GOOD.replace("甲朝", "癸朝"), encoding="utf-8")
    locked.chmod(0)
    try:
        try:
            locked.read_bytes()
        except PermissionError:
            pass
        else:
            pytest.skip("this process reads files whatever their mode (root, or CAP_DAC_OVERRIDE): "
                        "chmod 000 cannot make a file unreadable here")
        report = build([corpus], tmp_path / "store", jobs=1)
        assert [(Path(e.path).name, e.reason) for e in report.errors] == [("locked.md", "cannot read: Permission denied")]
        assert graphs(tmp_path / "store") == {"好"}
    finally:
        locked.chmod(0o644)


def test_strict_stops_at_the_first_bad_file_and_keeps_the_previous_store(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "好.md").write_text(GOOD, encoding="utf-8")
    store = tmp_path / "store"
    assert cli("build", str(corpus), "--store", str(store), "--strict").returncode == 0
    before, gens = current_path(store), generations(store)
    (corpus / "zz_bad.md").write_bytes(b"\xff\xfe\xfd")
    (corpus / "zzz_good.md").write_text(GOOD.replace("甲朝", "丁朝"), encoding="utf-8")
    r = cli("build", str(corpus), "--store", str(store), "--strict")
    assert r.returncode == 3, r.stderr
    assert "zz_bad.md" in r.stderr and "not UTF-8" in r.stderr
    assert current_path(store) == before and generations(store) == gens
    assert graphs(store) == {"好"}
    report = json.loads((store / "last-build.json").read_text(encoding="utf-8"))
    assert report["status"] == "aborted" and report["exit_code"] == 3
    assert [Path(e["path"]).name for e in report["errors"]] == ["zz_bad.md"]
    with pytest.raises(BuildAborted):
        build([corpus], store, strict=True, jobs=2)
    # --keep-going (the default) builds the rest
    r = cli("build", str(corpus), "--store", str(store), "--keep-going")
    assert r.returncode == 1 and graphs(store) == {"好", "zzz_good"}


def test_a_second_build_of_the_same_store_is_refused(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "好.md").write_text(GOOD, encoding="utf-8")
    store = tmp_path / "store"
    with lock_store(store):
        r = cli("build", str(corpus), "--store", str(store))
    assert r.returncode == 2 and "another build is writing" in r.stderr and r.stderr.count("\n") == 1
    assert cli("build", str(corpus), "--store", str(store)).returncode == 0


def test_an_extractor_crash_is_one_bad_file(tmp_path, monkeypatch):
    """An exception in the extraction of one article does not take the build down, in worker
    processes as in this one."""
    need_shared()
    import shilu.graph.build as b

    real = b.extract_article

    def flaky(article, lexicon, *args):
        if article.source_id == "金世宗":
            raise ValueError("boom\non two lines")
        return real(article, lexicon, *args)

    monkeypatch.setattr(b, "extract_article", flaky)
    for jobs in (1, 2):
        report = build([CORPUS], tmp_path / f"store{jobs}", jobs=jobs)
        assert [(Path(e.path).name, e.reason) for e in report.errors] == [
            ("金世宗.md", "extraction failed: ValueError: boom on two lines")]
        assert report.articles == len(list(CORPUS.glob("*.md"))) - 1


def test_tidy_removes_what_killed_builds_left(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "好.md").write_text(GOOD, encoding="utf-8")
    store = tmp_path / "store"
    build([corpus], store, jobs=1)
    build([corpus], store, jobs=1, full=True)
    current = current_path(store).name
    assert generations(store) == ["gen-000001", "gen-000002"] and current == "gen-000002"
    for junk in ("gen-000003", "gen-000007"):
        (store / junk).mkdir()
        (store / junk / "000001.sst").write_bytes(b"half")
    (store / "manifest.gen-000003.json").write_text("{}")
    (store / ".current.999").symlink_to("gen-000003")
    (store / ".last-build.json.999.tmp").write_text("{")
    with lock_store(store):
        removed = tidy(store)
    assert set(removed) == {"gen-000003", "gen-000007", "manifest.gen-000003.json", ".current.999",
                            ".last-build.json.999.tmp"}
    assert generations(store) == ["gen-000001", "gen-000002"] and current_path(store).name == current


# --- SIGKILL ---------------------------------------------------------------------------------

def _make_corpus(out: Path, n: int) -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_corpus", ROOT / "bench" / "make_corpus.py")
    mod = sys.modules.setdefault("make_corpus", importlib.util.module_from_spec(spec))
    spec.loader.exec_module(mod)
    mod.write_corpus(n, out, [CORPUS])


def _children(pid: int) -> list[int]:
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_sigkill_at_any_point_leaves_the_previous_store(tmp_path):
    need_shared()
    corpus, store = tmp_path / "corpus", tmp_path / "store"
    _make_corpus(corpus, 100)
    args = [sys.executable, "-m", "shilu.graph.cli", "build", str(corpus), "--store", str(store), "-q"]
    started = time.perf_counter()
    subprocess.run(args, check=True, timeout=300, cwd=ROOT)
    took = time.perf_counter() - started
    baseline = export(open_store(store), "nquads")
    published = current_path(store)
    rng = random.Random(20261123)
    # Delays spread over the whole build (start-up, pass 1, lexicon, extraction and loading,
    # counting): --full makes every build do all the work again.
    delays = sorted(rng.uniform(0.05, 0.9) * took for _ in range(4))
    for delay in delays:
        p = subprocess.Popen(args + ["--full"], cwd=ROOT)
        time.sleep(delay)
        workers = _children(p.pid)
        p.send_signal(signal.SIGKILL)
        p.wait(timeout=30)
        if p.returncode == 0:  # it was faster this time and had finished: a complete new store
            published = current_path(store)
        assert current_path(store) == published, f"killed after {delay:.2f} s"
        store_ro = pyoxigraph.Store.read_only(str(current_path(store)))
        assert export(store_ro, "nquads") == baseline, f"killed after {delay:.2f} s"
        del store_ro
        deadline = time.monotonic() + 10
        while any(_alive(w) for w in workers) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not any(_alive(w) for w in workers), "worker processes outlived the killed build"
    # SIGTERM: the build cleans up after itself before it exits (Ctrl-C does the same).
    p = subprocess.Popen(args + ["--full"], cwd=ROOT, stderr=subprocess.PIPE, text=True)
    time.sleep(0.6 * took)
    p.send_signal(signal.SIGTERM)
    _, err = p.communicate(timeout=60)
    if p.returncode == 0:  # it had finished
        published = current_path(store)
    else:
        assert p.returncode == 128 + signal.SIGTERM, err
        assert current_path(store) == published
        assert not [g for g in generations(store) if g > published.name], "SIGTERM left its generation"
        assert json.loads((store / "last-build.json").read_text(encoding="utf-8"))["status"] == "failed"
    # The next build succeeds, and clears what the killed ones left.
    r = subprocess.run(args + ["--full"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert export(open_store(store), "nquads") == baseline
    gens = generations(store)
    assert len(gens) == 2 and current_path(store).name == gens[-1] and published.name in gens
    assert not [p.name for p in store.iterdir() if p.name.startswith(".") and p.name != ".build.lock"]
