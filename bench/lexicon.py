"""The corpus lexicon: how long the build's parent takes to join it, and how much memory it holds.

    .venv/bin/python bench/lexicon.py PATH...               # e.g. a corpus of bench/make_corpus.py
    PYTHONPATH=OTHER .venv/bin/python bench/lexicon.py PATH  # the same for another checkout
    .venv/bin/python bench/lexicon.py --trace-join PATH      # also the join's own peak of memory

Between its two passes `shilu build` joins the lexicon from what its workers read of each
article (with workers, in a process of its own that sends it back pickled), then holds it (in
the parent, and shared with the forked pass-2 workers) for the rest of the build: at 100,000 articles it is the largest thing the build keeps. This does the same
steps in one process: read every article for the lexicon (`read_for_lexicon`; timed, but done in
parallel by the build's pass 1), keep the readings pickled, join them
(`lexicon_from_readings`), move the lexicon to fresh memory as the build does (a pickle round
trip), and make its name automaton.

It prints the CPU seconds of each step and the memory of the Python objects the lexicon and the
automaton hold (``tracemalloc``: exact, unlike RSS, which also counts freed memory the allocator
keeps), then the same for each field of the lexicon alone (a field's figure counts the strings
it shares with others again).
"""

from __future__ import annotations

import argparse
import gc
import pickle
import time
import tracemalloc


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("paths", nargs="+", help="folders or files of articles")
    ap.add_argument("--fields", action="store_true", help="also the memory of each field alone")
    ap.add_argument("--trace-join", action="store_true",
                    help="trace the join's memory too (its peak of Python objects; the join takes about 4x longer)")
    args = ap.parse_args(argv)

    from shilu.extract import default_resources, lexicon_from_readings, parse_article, read_for_lexicon
    from shilu.graph.build import _Unpickled, clear_caches, find_articles, read_article, source_id

    files, _ = find_articles(args.paths)
    resources = default_resources()
    t0 = time.process_time()
    pickled = []
    for path in files:
        text = read_article(path)[0]
        if text:
            pickled.append(pickle.dumps(read_for_lexicon(parse_article(text, source_id(path)), resources),
                                        protocol=pickle.HIGHEST_PROTOCOL))
    gc.collect()
    if args.trace_join:
        tracemalloc.start()
    t1 = time.process_time()
    lexicon = lexicon_from_readings(_Unpickled(pickled), resources)
    t2 = time.process_time()
    join_peak = tracemalloc.get_traced_memory()[1] if args.trace_join else None
    tracemalloc.stop()
    blob = pickle.dumps(lexicon, protocol=pickle.HIGHEST_PROTOCOL)
    del lexicon, pickled
    clear_caches()
    gc.collect()
    tracemalloc.start()
    t3 = time.process_time()
    lexicon = pickle.loads(blob)
    t4 = time.process_time()
    held = tracemalloc.get_traced_memory()[0]
    lexicon.matcher(resources.class_rules)
    t5 = time.process_time()
    automaton = tracemalloc.get_traced_memory()[0] - held
    tracemalloc.stop()
    print(f"{len(files)} articles: read {t1 - t0:.1f} CPU-s (in the build: pass 1, parallel), "
          f"join {t2 - t1:.1f}, fresh copy {t4 - t3:.1f} (+ pickling), automaton {t5 - t4:.1f}")
    if join_peak is not None:
        print(f"the join's peak of Python objects (the readings kept pickled, as the build keeps them, "
              f"not counted): {join_peak / 1e6:.1f} MB (its CPU time is traced time)")
    print(f"Python objects: lexicon {held / 1e6:.1f} MB, automaton's values {automaton / 1e6:.1f} MB "
          f"(its nodes are C memory, not counted); pickled lexicon {len(blob) / 1e6:.1f} MB")
    if args.fields:
        lexicon._matcher = None
        tracemalloc.start()
        for name in ("pages", "canonical", "spellings", "names", "votes", "stated", "_classes", "_names_of",
                     "_person_names"):
            value = getattr(lexicon, name)
            data = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
            gc.collect()
            before = tracemalloc.get_traced_memory()[0]
            copy = pickle.loads(data)
            single = (f" ({sum(type(v) is str for v in value.values()):,} of one item)"
                      if name in ("names", "votes", "stated") else "")
            print(f"  {name:10} {len(value) if value is not None else 0:>10,} entries "
                  f"{(tracemalloc.get_traced_memory()[0] - before) / 1e6:8.1f} MB{single}")
            del copy
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
