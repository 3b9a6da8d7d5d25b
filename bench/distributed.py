"""The Dask build (shilu.graph.distributed on a LocalCluster) against `shilu build`, same corpus.

    .venv/bin/python bench/distributed.py                         # N = 1,000 and 10,000
    .venv/bin/python bench/distributed.py --sizes 1000 --workers 2 --jobs 2 --json figures.json

For each N it takes (or generates, once, with bench/make_corpus.py, in ``--workdir``, shared with
bench/build.py) a corpus of N articles, then runs, one after the other, as subprocesses:

1. ``shilu build CORPUS --store A --full --jobs J``;
2. ``python -m shilu.graph.distributed CORPUS --out PARTS --store B --workers W`` (a LocalCluster
   of W worker processes, one thread each);

timing each, sampling the resident memory of its whole process tree (Dask's scheduler, nannies
and workers included) every 0.1 s, and taking its CPU time (parent and waited-for children).
It checks that the two stores agree (quads, distinct triples, the lexicon fingerprint of the
manifests; ``--compare`` also compares the sorted N-Quads dumps) and prints the phases of the
Dask run, the size of the parts and of each store on disk. The machine's load average is printed
with the figures: on a shared machine compare CPU seconds rather than wall time.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

import build as bench_build  # noqa: E402  (bench/build.py: run(), corpus(), tree_rss())


COMPARE = """
import sys, pyoxigraph
from shilu.graph.store import open_store
a, b = (sorted(open_store(p).dump(format=pyoxigraph.RdfFormat.N_QUADS).splitlines()) for p in sys.argv[1:3])
print(int(a == b), len(a))
"""


def du(path: Path) -> int:
    total = 0
    for dirpath, _dirs, files in os.walk(path):
        for f in files:
            try:
                total += os.lstat(os.path.join(dirpath, f)).st_size
            except OSError:
                pass
    return total


def manifest(store: Path) -> dict:
    gen = (store / "current").resolve().name
    return json.loads((store / f"manifest.{gen}.json").read_text(encoding="utf-8"))


def mb(n: float) -> str:
    return f"{n / 1024 / 1024:,.0f} MB"


def bench(n: int, args: argparse.Namespace) -> dict:
    src = bench_build.corpus(args.workdir, n, args.source)
    a, b, parts = (args.workdir / f"{k}-{n}" for k in ("store", "dist-store", "dist-parts"))
    for p in (a, b, parts):
        shutil.rmtree(p, ignore_errors=True)
    load0 = os.getloadavg()[0]
    local = bench_build.run([sys.executable, "-m", "shilu.graph.cli", "build", str(src), "--store", str(a),
                             "-q", "--full", "--jobs", str(args.jobs)])
    if local["returncode"] not in (0, 1):
        raise SystemExit(f"shilu build of {n} failed ({local['returncode']})")
    dist = bench_build.run([sys.executable, "-m", "shilu.graph.distributed", str(src), "--out", str(parts),
                            "--store", str(b), "--workers", str(args.workers), "-q"], stdout=subprocess.DEVNULL)
    if dist["returncode"] not in (0, 1):
        raise SystemExit(f"distributed build of {n} failed ({dist['returncode']})")
    load1 = os.getloadavg()[0]
    ma, mbb = manifest(a), manifest(b)
    summary = json.loads((parts / "distributed.json").read_text(encoding="utf-8"))
    report = json.loads((a / "last-build.json").read_text(encoding="utf-8"))
    row = {
        "n": n, "articles": ma["articles"], "bytes": report["bytes"], "quads": ma["quads"],
        "triples": ma["triples"], "same": ma["quads"] == mbb["quads"] and ma["triples"] == mbb["triples"]
        and ma["lexicon"] == mbb["lexicon"] and ma["files"].keys() == mbb["files"].keys(),
        "build": local, "build_phases": report["phases"], "dist": dist, "dist_phases": summary["phases"],
        "parts": len(summary["parts"]), "parts_bytes": summary["part_bytes"],
        "lexicon_bytes": summary["lexicon_bytes"], "reduce_rss": summary["reduce_rss"],
        "store_bytes": du((a / "current").resolve()), "dist_store_bytes": du((b / "current").resolve()),
        "load_average": [load0, load1],
    }
    if args.compare:
        c = subprocess.run([sys.executable, "-c", COMPARE, str(a), str(b)], cwd=ROOT, check=True,
                           capture_output=True, text=True)
        row["same_dump"] = c.stdout.split()[0] == "1"
    if not args.keep:
        for p in (a, b, parts):
            shutil.rmtree(p, ignore_errors=True)
    return row


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000], metavar="N")
    p.add_argument("--jobs", type=int, default=2, help="shilu build --jobs (default 2)")
    p.add_argument("--workers", type=int, default=2, help="LocalCluster workers (default 2)")
    p.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "shilu-bench",
                   help="where corpora (kept for reuse, shared with bench/build.py), stores and parts go")
    p.add_argument("--source", type=Path, action="append", help="base articles for make_corpus.py")
    p.add_argument("--compare", action="store_true", help="also compare the sorted N-Quads of both stores")
    p.add_argument("--keep", action="store_true", help="keep the stores and parts")
    p.add_argument("--json", type=Path, help="write the figures here too")
    args = p.parse_args(argv)
    args.workdir.mkdir(parents=True, exist_ok=True)
    print(f"shilu distributed benchmark: {len(os.sched_getaffinity(0))} cores, load average "
          f"{os.getloadavg()[0]:.1f} at start, build --jobs {args.jobs}, LocalCluster of {args.workers} "
          f"workers", file=sys.stderr)
    rows = []
    print(f"{'N':>7} {'MB':>6} {'quads':>10} | {'build s':>7} {'CPU s':>6} {'art/s':>6} {'peak RSS':>9} | "
          f"{'dask s':>7} {'CPU s':>6} {'art/s':>6} {'peak RSS':>9} | {'parts':>9} {'store':>8} {'same':>4} {'load':>9}")
    for n in args.sizes:
        r = bench(n, args)
        rows.append(r)
        bl, d = r["build"], r["dist"]
        print(f"{r['articles']:>7} {r['bytes'] / 1e6:>6.1f} {r['quads']:>10,} | {bl['seconds']:>7.1f} {bl['cpu']:>6.1f} "
              f"{r['articles'] / bl['seconds']:>6.1f} {mb(bl['peak_tree']):>9} | {d['seconds']:>7.1f} {d['cpu']:>6.1f} "
              f"{r['articles'] / d['seconds']:>6.1f} {mb(d['peak_tree']):>9} | {mb(r['parts_bytes']):>9} "
              f"{mb(r['store_bytes']):>8} {'yes' if r['same'] and r.get('same_dump', True) else 'NO':>4} "
              f"{r['load_average'][0]:>4.1f}-{r['load_average'][1]:.1f}", flush=True)
    print()
    for r in rows:
        print(f"N={r['n']}: build phases (s) " + ", ".join(f"{k} {v:.1f}" for k, v in r["build_phases"].items()))
        print(f"N={r['n']}: dask phases (s) " + ", ".join(f"{k} {v:.1f}" for k, v in r["dist_phases"].items())
              + f"; {r['parts']} parts; lexicon {mb(r['lexicon_bytes'])} pickled, the reducing worker's "
                f"peak RSS {mb(r['reduce_rss'])}; largest process {mb(r['dist']['max_proc'])} "
                f"(build: {mb(r['build']['max_proc'])}); stores on disk {mb(r['store_bytes'])} / "
                f"{mb(r['dist_store_bytes'])}")
    print(f"load average {os.getloadavg()[0]:.1f} at the end", file=sys.stderr)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1) + "\n")
    return 0 if all(r["same"] and r.get("same_dump", True) for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
