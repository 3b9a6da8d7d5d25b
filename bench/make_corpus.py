"""Generate a large synthetic corpus in the real article format, deterministically.

    .venv/bin/python bench/make_corpus.py 10000 /tmp/corpus-10k
    .venv/bin/python bench/make_corpus.py 1000000 /data/corpus-1m --source ../shared/corpus/history

Article ``i`` is built from base article ``t = i % T`` (T base articles, the templates) in
*variant* ``v = i // T``:

* its head (the conversion note and the lead with the bold title) and its tail (categories and
  footnotes) are the template's own; each body paragraph (headings, text, tables) is the
  template's with probability 0.6, else a paragraph drawn from the body of any base article
  (a seeded ``random.Random`` per article, so the output never depends on what ran before);
* every name the base corpus knows (link targets, titles, bold terms; both scripts) is renamed
  for the variant, everywhere in the text, link URLs and the file name included, by inserting a
  tag after its first character (variant 1: 临安府 → 临a安府, variant 27: 临aa安府). Each variant
  is thus a copy of the corpus about other things, so the lexicon, the resources and the graph
  really grow with N, while the first and last characters that the typing rules look at (…朝,
  …州, …之战) stay. Variant 0 keeps the real names.
* Names the ontology's tables hold (polities, eras, curated aliases) and the 60 most-linked pages
  that have no article of their own are *hubs*: never renamed, so every variant links to
  金朝 and 南宋 as real articles do and hub resources gather mentions from the whole corpus. The
  text of a link to a hub is not renamed either (its words are the hub's alias, and a real
  corpus has a bounded number of those), and a base article whose file name a variant would not
  change is no template.

Files go to ``OUT/0000/…``, ``OUT/0001/…`` (1,000 a folder). Same N, same sources: the same bytes.
Memory stays flat whatever N (one article at a time); the article text is Wikipedia's (CC BY-SA),
so never commit the output.
"""

from __future__ import annotations

import argparse
import random
import re
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SOURCE = ROOT.parent / "shared" / "corpus" / "history"
PER_DIR = 1000
HUBS = 60
KEEP = 0.6

_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_DISAMBIGUATION = re.compile(r"\s*[(（]([^()（）]{1,40})[)）]$")
# A Markdown link: its text, and its URL up to the first unescaped space or parenthesis (the two
# alternatives of the URL cannot both match one character: no backtracking).
_LINK = re.compile(r"\[([^\[\]\n]*)\]\(((?:\\.|[^()\s\\])*)")


def tag(variant: int) -> str:
    """Bijective base-26 in lower-case Latin letters: 1 → a, 26 → z, 27 → aa (0 → no tag)."""
    out = []
    while variant > 0:
        variant, r = divmod(variant - 1, 26)
        out.append(chr(ord("a") + r))
    return "".join(reversed(out))


@dataclass
class Base:
    stem: str
    head: list[str]
    body: list[str]
    tail: list[str]


def _split(text: str) -> tuple[list[str], list[str], list[str]]:
    paras = [p for p in re.split(r"\n[ \t]*\n", text.strip("\n")) if p.strip()]
    head_end = 0
    for k, p in enumerate(paras):
        if "**" in p or k >= 2:
            head_end = k + 1
            break
    tail_start = next((k for k in range(head_end, len(paras)) if "Category:" in paras[k]
                       or "分类:" in paras[k] or "分類:" in paras[k]), len(paras))
    return paras[:head_end], paras[head_end:tail_start], paras[tail_start:]


class Generator:
    """The base corpus, its renaming automaton and the body-paragraph pool."""

    def __init__(self, sources: list[Path], seed: str = "shilu"):
        import ahocorasick

        from shilu.extract import default_resources, parse_article
        from shilu.extract.entities import base_name
        from shilu.extract.script import to_hans, to_hant

        self.seed = seed
        files = sorted(p for src in sources for p in (src.rglob("*") if src.is_dir() else [src])
                       if p.suffix in (".md", ".txt") and p.is_file())
        if not files:
            raise SystemExit(f"no *.md or *.txt articles under {' '.join(map(str, sources))}")
        res = default_resources()
        protected: set[str] = set()
        for row in res.aliases:
            protected.update(row[:2])
        for short_keys in res.polities.shorts.values():
            protected.update(short_keys)
        protected.update(res.polities.shorts)
        for era in _era_names():
            protected.add(era)
        protected |= {to_hans(p) for p in protected} | {to_hant(p) for p in protected}

        names: set[str] = set()
        titles: set[str] = set()
        linked: Counter[str] = Counter()
        bases: list[Base] = []
        for path in files:
            text = path.read_text(encoding="utf-8", errors="replace")
            stem = path.stem
            article = parse_article(text, stem)
            title = stem.replace("_", " ")
            for piece in _pieces(title, base_name):
                titles.add(piece)
                names.add(piece)
            for term, span in article.bold:
                if span.start < 400 and 2 <= len(term.strip()) <= 12:
                    names.add(term.strip())
            for link in article.links:
                if link.kind == "wiki":
                    for piece in _pieces(link.target, base_name):
                        names.add(piece)
                        linked[piece] += 1
            bases.append(Base(stem, *_split(text)))
        hubs = [n for n, _ in sorted(linked.items(), key=lambda kv: (-kv[1], kv[0]))
                if n not in titles and n not in protected][:HUBS]
        keep = protected | set(hubs)
        keep |= {to_hans(p) for p in hubs} | {to_hant(p) for p in hubs}
        renamed = set()
        for n in names:
            if n in keep or len(n) < 2 or not _CJK.match(n) or any(c.isspace() for c in n):
                continue
            renamed |= {n, to_hans(n), to_hant(n)}
        # Kept names are in the automaton too, so that leftmost-longest matching leaves them whole
        # (李元昊 stays, though 元昊 alone is renamed).
        self.auto = ahocorasick.Automaton()
        for n in sorted(keep):
            if len(n) >= 2:
                self.auto.add_word(n, (len(n), False))
        for n in sorted(renamed - keep):
            if len(n) >= 2:
                self.auto.add_word(n, (len(n), True))
        self.auto.make_automaton()
        self.hubs = hubs
        self.keep = keep
        self._base_name = base_name
        # Templates whose file name a variant leaves as it is (a hub's, or one of protected
        # names only: 建福_(北辽)) cannot be copied: every variant would have the same file name.
        self.templates = [b for b in bases if self.rename(b.stem, 1) != b.stem]
        self.pool = [p for b in bases for p in b.body]

    def _hub_link_texts(self, text: str) -> list[tuple[int, int]]:
        """The spans of the texts of links to kept pages. A link to a hub keeps its text: renamed,
        ``[上京](…/临潢府)`` would give the hub a new alias in every variant (上a京, 上b京…), which
        no real corpus does, and every article naming the hub would restate them all."""
        spans = []
        for m in _LINK.finditer(text):
            page = m.group(2).rsplit("/", 1)[-1].replace("\\", "").removesuffix(".md").replace("_", " ")
            if any(piece in self.keep for piece in _pieces(page, self._base_name)):
                spans.append(m.span(1))
        return spans

    def rename(self, text: str, variant: int) -> str:
        if variant == 0:
            return text
        t = tag(variant)
        out = []
        pos = 0
        kept = self._hub_link_texts(text)
        k = 0
        for end, (length, rename) in self.auto.iter_long(text):
            if not rename:
                continue
            start = end + 1 - length
            while k < len(kept) and kept[k][1] <= start:
                k += 1
            if k < len(kept) and kept[k][0] <= start:
                continue  # inside the text of a link to a hub
            out.append(text[pos:start + 1])
            out.append(t)
            pos = start + 1
        out.append(text[pos:])
        return "".join(out)

    def article(self, i: int) -> tuple[str, str]:
        """(relative path, text) of article ``i``."""
        base = self.templates[i % len(self.templates)]
        variant = i // len(self.templates)
        rng = random.Random(f"{self.seed}:{i}")
        body = [p if rng.random() < KEEP else rng.choice(self.pool) for p in base.body]
        text = "\n\n".join(base.head + body + base.tail) + "\n"
        stem = self.rename(base.stem, variant)
        return f"{i // PER_DIR:04d}/{stem}.md", self.rename(text, variant)

    def articles(self, n: int) -> Iterator[tuple[str, str]]:
        for i in range(n):
            yield self.article(i)


def _pieces(title: str, base_name) -> list[str]:
    """A page title and the name inside its disambiguation: 临安府 (浙江) → 临安府, 浙江."""
    out = [base_name(title)]
    m = _DISAMBIGUATION.search(title)
    if m:
        out.append(m.group(1).strip())
    return [p for p in out if p]


def _era_names() -> list[str]:
    from importlib.resources import files

    from shilu.extract.resources import read_table

    rows = read_table(files("shilu.ontology").joinpath("eras.tsv").read_text(encoding="utf-8"))
    out = []
    for row in rows:
        out.extend(n.strip() for n in row[0].split("|") if n.strip())
    return out


def write_corpus(n: int, out: Path, sources: list[Path] | None = None, *, seed: str = "shilu",
                 progress: bool = False) -> int:
    """Write ``n`` articles under ``out``; returns the number of bytes written."""
    gen = Generator(sources or [DEFAULT_SOURCE], seed)
    out.mkdir(parents=True, exist_ok=True)
    total = 0
    made: set[str] = set()
    started = time.perf_counter()
    for i, (rel, text) in enumerate(gen.articles(n)):
        folder = rel.split("/", 1)[0]
        if folder not in made:
            (out / folder).mkdir(exist_ok=True)
            made = {folder}
        data = text.encode("utf-8")
        (out / rel).write_bytes(data)
        total += len(data)
        if progress and (i + 1) % 10000 == 0:
            rate = (i + 1) / (time.perf_counter() - started)
            print(f"  {i + 1} articles, {total / 1e6:.0f} MB, {rate:.0f} articles/s", file=sys.stderr)
    return total


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("n", type=int, help="number of articles (up to 1,000,000 and beyond)")
    p.add_argument("out", type=Path, help="output folder (created; same-named files overwritten)")
    p.add_argument("--source", type=Path, action="append",
                   help=f"base articles (repeatable; default {DEFAULT_SOURCE})")
    p.add_argument("--seed", default="shilu", help="seed of the paragraph shuffling")
    args = p.parse_args(argv)
    started = time.perf_counter()
    total = write_corpus(args.n, args.out, args.source, seed=args.seed, progress=True)
    print(f"wrote {args.n} articles, {total / 1e6:.1f} MB to {args.out} "
          f"in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
