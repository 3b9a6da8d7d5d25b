"""Print a random sample of extracted events from the articles the gold does not annotate, for
judging by hand: the gold articles are where the extraction rules were developed, so their
scores flatter it; a sample from the rest says how it does on text it was not tuned on.

    .venv/bin/python bench/sample_events.py                # 40 events, seed 4242
    .venv/bin/python bench/sample_events.py --n 60 --seed 7 ../shared/seeds ../shared/corpus/history

Each line: the article, the event kind, its roles, its year and the start of its sentence.
"""

from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path

from shilu.extract import build_lexicon, extract_article, parse_article
from shilu.graph.build import find_articles, read_article, source_id
from shilu.graph.evaluate import load_gold

HERE = Path(__file__).resolve().parent
SHARED = HERE.parent.parent / "shared"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("corpus", nargs="*", default=[str(SHARED / "seeds"), str(SHARED / "corpus" / "history")],
                    help="article files or folders (default: the seeds and corpus/history beside the project)")
    ap.add_argument("--gold", default=str(SHARED / "gold"), help="gold folder: its articles are left out")
    ap.add_argument("--n", type=int, default=40, help="events to sample (default 40)")
    ap.add_argument("--seed", type=int, default=4242, help="random seed (default 4242)")
    args = ap.parse_args(argv)

    paths, bad = find_articles(args.corpus)
    gold = {g.stem for g in load_gold(args.gold)} if Path(args.gold).exists() else set()
    articles = []
    for p in paths:
        text, err = read_article(p)
        if text is not None:
            articles.append(parse_article(text, source_id(p)))
    lexicon = build_lexicon(articles)
    events = [(a.source_id, e) for a in articles if a.source_id not in gold
              for e in extract_article(a, lexicon).events]
    held_out = len({a.source_id for a in articles} - gold)
    print(f"{len(events)} events in {held_out} articles without gold; {min(args.n, len(events))} sampled "
          f"(seed {args.seed})", file=sys.stderr)
    for i, (sid, e) in enumerate(random.Random(args.seed).sample(events, min(args.n, len(events)))):
        roles = ", ".join(f"{r}={k}" for r, k in e.roles)
        print(f"{i:3d}  {sid}  {e.kind}({roles})  {e.year if e.year is not None else '-'}  | {e.sentence[:90]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
