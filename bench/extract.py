"""Extraction throughput in one process, stage by stage, on the real corpus.

    .venv/bin/python bench/extract.py                       # ../shared/seeds + ../shared/corpus/history
    .venv/bin/python bench/extract.py --repeat 5 PATH...    # other folders, more rounds
    .venv/bin/python bench/extract.py --repeat 2 --limit 3000 /tmp/shilu-bench2/corpus-10000
                                                            # a large corpus's lexicon, 3,000 articles

What one build worker does for each article, without the build around it (no file reading, no
processes, no store): parse the Markdown, extract entities and mentions, dates and events, make
the article's quads and serialise them as N-Quads. The corpus lexicon is prepared first (parse
every article, `build_lexicon`, its name automaton), as the build's parent does before pass 2,
and its time is printed separately (per article of the corpus, since it is paid once per build).

Each round starts as a build worker does: a new lexicon, and the per-process caches of the
extraction and RDF modules emptied (script conversion, IRIs, terms), so names are not already
converted from the previous round. ``--warm`` keeps them, which shows what the caches buy.
The first round also warms the interpreter (imports, regular expressions); the table gives the
best and the median round.

Times are CPU time of the process (``--wall``: wall-clock time), so that a shared machine
changes them less; the goal is stated per core anyway.

Stages (ms per article):
- ``parse``: `parse_article`;
- ``mentions``: `extract_entities` (links, bold names, the name automaton over every sentence,
  settlements found by their suffix, the entities' labels and classes);
- ``dates``: `find_dates` (called by event extraction; timed through a wrapper);
- ``events``: the rest of `extract_article` (`extract_events`, `conflict_facts`), less the dates;
- ``rdf``: the article's N-Quads (`article_nquads`, as the build makes them);
- ``lexicon``: `build_lexicon` and the name automaton, divided by the number of articles.

``extract`` (the throughput figure) is parse + mentions + dates + events + rdf: everything a
worker spends on an article in pass 2. The stage timers cost a little; the ``total`` column is
a second, untimed pass over the same articles, from the same start (a new lexicon, caches
emptied first).
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PATHS = [ROOT.parent / "shared" / "seeds", ROOT.parent / "shared" / "corpus" / "history"]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("paths", nargs="*", default=[str(p) for p in DEFAULT_PATHS])
    ap.add_argument("--repeat", type=int, default=5, help="rounds over the corpus (default 5)")
    ap.add_argument("--warm", action="store_true", help="keep the caches between rounds")
    ap.add_argument("--wall", action="store_true", help="wall-clock time instead of CPU time")
    ap.add_argument("--limit", type=int, metavar="N",
                    help="extract only the first N articles (the lexicon is still made of all): the "
                         "cost an article at a large corpus's scale without extracting all of it")
    args = ap.parse_args(argv)

    import pyoxigraph

    from shilu.extract import build_lexicon, default_resources, parse_article
    from shilu.extract import events as events_mod
    from shilu.extract import pipeline
    from shilu.graph.build import clear_caches, find_articles, read_article, source_id
    try:
        from shilu.graph.rdf import article_nquads
    except ImportError:  # an older shilu: what its build did
        from shilu.graph.rdf import article_quads

        def article_nquads(facts, text):
            quads = article_quads(facts, text)
            return pyoxigraph.serialize(quads, format=pyoxigraph.RdfFormat.N_QUADS), len(quads)

    files, errors = find_articles(args.paths)
    texts = []
    for p in files:
        text, err = read_article(p)
        if text is not None:
            texts.append((source_id(p), text))
    if not texts:
        print("no articles", file=sys.stderr)
        return 2
    n = len(texts)
    mb = sum(len(t.encode()) for _, t in texts) / 1e6
    timed = texts[:args.limit] if args.limit else texts  # the articles extracted
    resources = default_resources()

    # Stage timers: wrap the functions `extract_article` calls (in this process only), so the
    # timed pass runs exactly what a build worker runs.
    # CPU time of this process: what an article costs a core, whatever else the machine runs
    clock = time.process_time if not args.wall else time.perf_counter
    acc = {"dates": 0.0, "mentions": 0.0}

    def timer(fn, slot):
        def timed(*a, **kw):
            t = clock()
            try:
                return fn(*a, **kw)
            finally:
                acc[slot] += clock() - t
        return timed

    patches = [(events_mod, "find_dates", timer(events_mod.find_dates, "dates")),
               (pipeline, "extract_entities", timer(pipeline.extract_entities, "mentions"))]
    stages = ("parse", "mentions", "dates", "events", "rdf")
    rounds: list[dict[str, float]] = []
    quads_total = 0
    perf = clock
    for r in range(args.repeat):
        if not args.warm:
            clear_caches()
        gc.collect()
        t = perf()
        articles = [parse_article(text, sid) for sid, text in texts]
        lexicon = build_lexicon(articles, resources)
        lexicon.matcher(resources.class_rules)
        lex_s = perf() - t
        del articles
        gc.collect()
        times = dict.fromkeys(stages, 0.0)
        acc.update(dates=0.0, mentions=0.0)
        saved = [(mod, name, getattr(mod, name)) for mod, name, _ in patches]
        for mod, name, fn in patches:
            setattr(mod, name, fn)
        quads_total = 0
        extract_s = 0.0
        try:
            for sid, text in timed:
                t0 = perf()
                article = parse_article(text, sid)
                t1 = perf()
                facts = pipeline.extract_article(article, lexicon, resources)
                t2 = perf()
                data, quads = article_nquads(facts, text)  # as the build does
                t3 = perf()
                times["parse"] += t1 - t0
                extract_s += t2 - t1
                times["rdf"] += t3 - t2
                quads_total += quads
                assert data
        finally:
            for mod, name, fn in saved:
                setattr(mod, name, fn)
        times["mentions"] = acc["mentions"]
        # events: the rest of `extract_article` (events, the conflict's facts, assembling them)
        times["events"] = extract_s - acc["mentions"] - acc["dates"]
        times["dates"] = acc["dates"]
        # untimed pass: the whole of what a worker does, once more, from the same start
        if not args.warm:
            clear_caches()
        lexicon = build_lexicon([parse_article(text, sid) for sid, text in texts], resources)
        lexicon.matcher(resources.class_rules)
        gc.collect()
        t = perf()
        for sid, text in timed:
            facts = pipeline.extract_article(parse_article(text, sid), lexicon, resources)
            article_nquads(facts, text)
        times["total"] = perf() - t
        times["lexicon"] = lex_s
        times["extract"] = sum(times[s] for s in stages)
        rounds.append(times)

    load = os.getloadavg()
    print(f"{n} articles, {mb:.2f} MB of text, {quads_total} quads"
          f"{f' (of the first {len(timed)}, the ones extracted)' if len(timed) < n else ''}; {args.repeat} rounds"
          f"{' (warm caches)' if args.warm else ''}; {'wall' if args.wall else 'CPU'} time; "
          f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    cols = ("parse", "mentions", "dates", "events", "rdf", "extract", "total", "lexicon")
    print("ms/article    " + " ".join(f"{c:>9}" for c in cols) + "   articles/s (extract, total)")
    best = {c: min(r[c] for r in rounds) for c in cols}
    med = {c: statistics.median(r[c] for r in rounds) for c in cols}
    first = rounds[0]
    for name, row in (("first round", first), ("best", best), ("median", med)):
        print(f"{name:<13} " + " ".join(f"{row[c] / (n if c == 'lexicon' else len(timed)) * 1e3:9.2f}" for c in cols)
              + f"   {len(timed) / row['extract']:8.0f} {len(timed) / row['total']:8.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
