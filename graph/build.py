"""`shilu build`: article files in, a published Oxigraph store out.

Pass 1 reads and parses every article and gathers the corpus lexicon; pass 2 extracts facts and
hands the quads to Oxigraph's bulk loader in one stream. Files that cannot be read are reported,
one line each, and the build goes on.
"""

from __future__ import annotations

import os
import shutil
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph

from ..extract import Article, ArticleFacts, build_lexicon, extract_article, parse_article
from .rdf import article_quads
from .store import new_generation, publish

__all__ = ["ARTICLE_SUFFIXES", "BuildReport", "FileError", "build", "find_articles", "read_article"]

ARTICLE_SUFFIXES = (".md", ".txt")


@dataclass(frozen=True, slots=True)
class FileError:
    path: str
    reason: str

    def __str__(self) -> str:
        return f"{self.path}: {self.reason}"


@dataclass
class BuildReport:
    articles: int = 0
    quads: int = 0
    triples: int = 0
    resources: int = 0
    events: int = 0
    errors: list[FileError] = field(default_factory=list)
    seconds: float = 0.0
    store: str = ""

    def summary(self) -> str:
        lines = [
            f"built {self.store}: {self.articles} articles, {self.quads} quads "
            f"({self.triples} distinct triples), {self.resources} resources, {self.events} events "
            f"in {self.seconds:.1f} s",
        ]
        if self.errors:
            lines.append(f"{len(self.errors)} file(s) could not be read:")
            lines.extend(f"  {e}" for e in self.errors)
        return "\n".join(lines)


def find_articles(paths: Iterable[str | Path]) -> tuple[list[Path], list[FileError]]:
    """Article files (``*.md``, ``*.txt``) under ``paths``, sorted; each real file once.

    Directory loops through symbolic links are followed once only.
    """
    found: dict[Path, Path] = {}
    errors: list[FileError] = []
    seen_dirs: set[tuple[int, int]] = set()
    for root in paths:
        root = Path(root)
        if root.is_file():
            found.setdefault(root.resolve(), root)
            continue
        if not root.is_dir():
            errors.append(FileError(str(root), "no such file or directory"))
            continue
        for dirpath, dirnames, filenames in os.walk(root, followlinks=True, onerror=lambda e: errors.append(
                FileError(str(e.filename), e.strerror or str(e)))):
            st = os.stat(dirpath)
            ident = (st.st_dev, st.st_ino)
            if ident in seen_dirs:
                dirnames[:] = []
                continue
            seen_dirs.add(ident)
            dirnames.sort()
            for name in sorted(filenames):
                if name.endswith(ARTICLE_SUFFIXES) and not name.startswith("."):
                    p = Path(dirpath) / name
                    try:
                        found.setdefault(p.resolve(), p)
                    except OSError as e:
                        errors.append(FileError(str(p), e.strerror or str(e)))
    return sorted(found.values(), key=lambda p: (p.name, str(p))), errors


def read_article(path: Path) -> tuple[str | None, FileError | None]:
    """The UTF-8 text of an article file, or a one-line reason it cannot be read."""
    try:
        data = path.read_bytes()
    except OSError as e:
        return None, FileError(str(path), f"cannot read: {e.strerror or e}")
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        return None, FileError(str(path), f"not UTF-8: undecodable byte 0x{data[e.start]:02x} at offset {e.start}")
    if "\x00" in text:
        return None, FileError(str(path), "binary file (contains NUL bytes)")
    return text, None


def source_id(path: Path) -> str:
    """A file's name without its extension: the name of its named graph."""
    return path.name.rsplit(".", 1)[0]


def _progress(items: list, desc: str, enabled: bool) -> Iterable:
    if not enabled:
        return items
    from tqdm import tqdm

    return tqdm(items, desc=desc, unit="article", file=sys.stderr, leave=False, dynamic_ncols=True)


def extract_corpus(paths: Iterable[str | Path], *, progress: bool = False,
                   on_error: Callable[[FileError], None] | None = None,
                   report: BuildReport | None = None) -> Iterator[tuple[ArticleFacts, str]]:
    """Both passes over a corpus, yielding each article's facts and its source text."""
    report = report if report is not None else BuildReport()
    files, errors = find_articles(paths)
    for e in errors:
        report.errors.append(e)
        if on_error:
            on_error(e)
    parsed: list[tuple[Article, str]] = []
    seen_ids: dict[str, Path] = {}
    for path in _progress(files, "reading", progress):
        text, error = read_article(path)
        if error is None:
            sid = source_id(path)
            if sid in seen_ids:
                error = FileError(str(path), f"same name as {seen_ids[sid]}: one named graph per file name")
            else:
                seen_ids[sid] = path
        if error is not None:
            report.errors.append(error)
            if on_error:
                on_error(error)
            continue
        parsed.append((parse_article(text, sid), text))
    lexicon = build_lexicon(a for a, _ in parsed)
    for article, text in _progress(parsed, "extracting", progress):
        report.articles += 1
        yield extract_article(article, lexicon), text


def build(paths: Iterable[str | Path], store_dir: str | Path, *, progress: bool = False,
          on_error: Callable[[FileError], None] | None = None) -> BuildReport:
    """Build a store from the article files under ``paths`` and publish it in ``store_dir``."""
    started = time.perf_counter()
    report = BuildReport(store=str(store_dir))
    generation = new_generation(store_dir)
    try:
        store = pyoxigraph.Store(str(generation))
        resources: set[str] = set()

        def quads() -> Iterator[pyoxigraph.Quad]:
            for facts, text in extract_corpus(paths, progress=progress, on_error=on_error, report=report):
                qs = article_quads(facts, text)
                report.quads += len(qs)
                report.events += len(facts.events)
                resources.update(e.key for e in facts.entities)
                yield from qs

        store.bulk_extend(quads())
        store.flush()
        report.triples = sum(1 for _ in store.query(
            "SELECT DISTINCT ?s ?p ?o WHERE { GRAPH ?g { ?s ?p ?o } }"))
        report.resources = len(resources)
        del store
    except BaseException:
        shutil.rmtree(generation, ignore_errors=True)
        raise
    publish(store_dir, generation)
    report.seconds = time.perf_counter() - started
    return report
