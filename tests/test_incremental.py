"""Parallel and incremental builds give the same store as a plain full build.

- ``jobs`` never changes the output (TriG exports compared byte for byte);
- the lexicon the parent joins from the workers' lexicon readings is the one the full articles give;
- a rebuild after a change extracts only what it must, and its store exports byte-identical to a
  full build of the changed corpus; the published generation is never touched.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from shilu.extract import build_lexicon, lexicon_from_readings, parse_article
from shilu.graph.build import (DEFAULT_MAX_FILE_BYTES, _pass1, _Unpickled, build, find_articles, lexicon_fingerprint,
                               read_article, source_id)
from shilu.graph.export import export
from shilu.graph.store import current_path, open_store

from conftest import CORPUS, FIXTURES, ROOT, SEEDS, need_shared


def trig(store_dir: Path) -> bytes:
    return export(open_store(store_dir), "trig")


def gens(store_dir: Path) -> list[str]:
    return sorted(p.name for p in store_dir.iterdir() if p.name.startswith("gen-"))


def test_jobs_do_not_change_the_output(tmp_path):
    need_shared()
    one = build([SEEDS, CORPUS], tmp_path / "one", jobs=1)
    two = build([SEEDS, CORPUS], tmp_path / "two", jobs=2)
    assert one.articles == two.articles >= 90 and not one.errors and not two.errors
    assert (one.quads, one.triples, one.resources, one.events) == (two.quads, two.triples, two.resources, two.events)
    assert trig(tmp_path / "one") == trig(tmp_path / "two")


@pytest.mark.skipif(sys.platform != "linux", reason="the workers are forked")
def test_the_parent_loads_without_the_lexicon_while_the_workers_extract(tmp_path, monkeypatch):
    """With workers, the parent's part of pass 2 is loading: the workers have the lexicon, and
    the parent must not hold its own copy beside Oxigraph's loader (at 100,000 articles 1.3 GB
    of a 2.8 GB process). Checked on the lexicon object itself: no reference to it is left in the
    parent once the load reads its first bytes."""
    import weakref

    from shilu.graph import build as build_mod

    need_shared()
    made: list[weakref.ref] = []
    joined = build_mod._joined

    def remembered(*args, **kwargs):
        lexicon = joined(*args, **kwargs)
        made.append(weakref.ref(lexicon))
        return lexicon

    alive_at_load: list[bool] = []

    class Watched(build_mod._NQuadsStream):
        def readinto(self, b):
            if not alive_at_load:
                alive_at_load.append(made[-1]() is not None)
            return super().readinto(b)

    monkeypatch.setattr(build_mod, "_joined", remembered)
    monkeypatch.setattr(build_mod, "_NQuadsStream", Watched)
    report = build([SEEDS, CORPUS], tmp_path / "two", jobs=2)
    assert report.articles >= 90 and not report.errors and report.quads > 40_000
    assert made and alive_at_load == [False]


def test_the_lexicon_the_build_joins_is_the_lexicon_of_the_articles():
    """The build's parent joins the lexicon from what its pass-1 workers send (`_pass1`: each
    file's `read_for_lexicon`, pickled): it must be the lexicon `build_lexicon` makes from the
    parsed articles. When this fails, `Lexicon` reads something of an article that
    `LexiconReading` does not carry: add it there."""
    dirs = [FIXTURES / "mini"] + ([SEEDS, CORPUS] if SEEDS.is_dir() else [])
    files, _ = find_articles(dirs)
    sent = [(i, payload) for i, digest, payload in _pass1([(i, str(p), DEFAULT_MAX_FILE_BYTES)
                                                           for i, p in enumerate(files)]) if digest]
    assert len(sent) > 90
    joined = lexicon_from_readings(_Unpickled([payload[0] for _, payload in sent]))
    articles = [parse_article(read_article(files[i])[0], source_id(files[i])) for i, _ in sent]
    assert lexicon_fingerprint(joined) == lexicon_fingerprint(build_lexicon(articles))
    assert joined.pages and joined.votes and joined.stated  # what the comparison covers is there


def test_lexicon_fingerprint_does_not_follow_the_hash_seed():
    code = ("from shilu.extract import build_lexicon, parse_article\n"
            "from shilu.graph.build import find_articles, read_article, source_id, lexicon_fingerprint\n"
            f"files, _ = find_articles([{str(FIXTURES / 'mini')!r}, {str(SEEDS)!r}])\n"
            "print(lexicon_fingerprint(build_lexicon(parse_article(t, source_id(p)) for p in files "
            "if (t := read_article(p)[0]))))\n")
    prints = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT,
                             env={"PYTHONHASHSEED": seed, "PATH": "/usr/bin:/bin"}).stdout for seed in ("1", "2", "3")}
    assert len(prints) == 1


@pytest.fixture
def corpus(tmp_path) -> Path:
    """A writable copy of the seeds and 40 corpus articles."""
    need_shared()
    out = tmp_path / "corpus"
    out.mkdir()
    for p in sorted(SEEDS.iterdir()):
        shutil.copy(p, out / p.name)
    for p in sorted(CORPUS.glob("*.md"))[:40]:
        shutil.copy(p, out / p.name)
    return out


def test_incremental_rebuild_equals_a_full_build(corpus, tmp_path):
    store = tmp_path / "store"
    first = build([corpus], store)
    assert first.mode == "full" and first.extracted == first.articles
    published, before = current_path(store), trig(store)

    # Nothing changed: nothing is written, current stays.
    again = build([corpus], store)
    assert again.mode == "unchanged" and again.extracted == 0 and current_path(store) == published
    assert (again.articles, again.quads, again.triples, again.resources, again.events) == (
        first.articles, first.quads, first.triples, first.resources, first.events)

    # Text that feeds no lexicon entry (a new last paragraph, no link): one article redone.
    target = sorted(corpus.glob("*.md"))[5]
    target.write_text(target.read_text(encoding="utf-8") + "\n宋軍攻克汴京，金兵敗走。\n", encoding="utf-8")
    inc = build([corpus], store)
    assert inc.mode == "incremental" and inc.extracted == 1, inc.reason
    assert current_path(store) != published
    full = build([corpus], tmp_path / "full")
    assert trig(store) == trig(tmp_path / "full")
    assert (inc.articles, inc.quads, inc.triples, inc.resources, inc.events) == (
        full.articles, full.quads, full.triples, full.resources, full.events)
    assert {g.value for g in open_store(store).named_graphs()} == {g.value for g in open_store(tmp_path / "full").named_graphs()}
    # the generation that was published before is untouched (a server may still be reading it)
    from pyoxigraph import Store

    assert export(Store.read_only(str(published)), "trig") == before
    assert gens(store) == sorted([published.name, current_path(store).name])

    # One more link to a thing already known by that name changes no answer of the lexicon (only
    # a count of how 金朝 is spelt, which its display name does not follow): only that article
    # is redone, and the store is still the full build's.
    target.write_text(target.read_text(encoding="utf-8") + "\n見[金朝](../Page/金朝.md \"wikilink\")。\n", encoding="utf-8")
    same = build([corpus], store, jobs=1)
    assert same.mode == "incremental" and same.extracted == 1, same.reason
    build([corpus], tmp_path / "full2", jobs=2)
    assert trig(store) == trig(tmp_path / "full2")

    # A new name for a thing (北金國, made up) changes the lexicon: everything is redone.
    target.write_text(target.read_text(encoding="utf-8") + "\n見[北金國](../Page/金朝.md \"wikilink\")。\n", encoding="utf-8")
    changed = build([corpus], store, jobs=1)
    assert changed.mode == "full" and changed.reason == "the corpus lexicon changed"
    build([corpus], tmp_path / "full3", jobs=2)
    assert trig(store) == trig(tmp_path / "full3")

    # A removed article (its page leaves the lexicon) and a bad file: the same as a fresh build.
    sorted(corpus.glob("*.md"))[0].unlink()
    (corpus / "bad.md").write_bytes(b"\xff\xff")
    removed = build([corpus], store)
    assert removed.mode == "full" and [Path(e.path).name for e in removed.errors] == ["bad.md"]
    build([corpus], tmp_path / "full3")
    assert trig(store) == trig(tmp_path / "full3")
    report = json.loads((store / "last-build.json").read_text(encoding="utf-8"))
    assert report["mode"] == "full" and report["exit_code"] == 1


def test_changed_code_means_a_full_build(corpus, tmp_path, monkeypatch):
    store = tmp_path / "store"
    build([corpus], store, jobs=1)
    import shilu.graph.build as b

    monkeypatch.setattr(b, "code_fingerprint", lambda: "another extractor")
    report = build([corpus], store, jobs=1)
    assert report.mode == "full" and report.reason == "the extraction code or data changed"
    assert build([corpus], store, full=True, jobs=1).reason == "--full"
