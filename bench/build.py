"""Build throughput at scale, against Oxigraph's own bulk loader on the same quads.

    .venv/bin/python bench/build.py                          # N = 1,000 and 10,000
    .venv/bin/python bench/build.py --sizes 1000 10000 100000 --jobs 2
    .venv/bin/python bench/build.py --sizes 10000 --incremental

For each N it generates (once, kept in ``--workdir``) a corpus of N articles with
``bench/make_corpus.py``, then:

1. runs ``shilu build CORPUS --store STORE --full`` as a subprocess, timing it and sampling the
   resident memory of its whole process tree (parent and workers) every 0.1 s;
2. dumps the store it built to N-Quads (``Store.dump``: exactly the quads the build produced);
3. times ``pyoxigraph.Store.bulk_load`` of that file into an empty store, in a fresh process:
   the floor for getting these quads into Oxigraph at all;

and prints articles/s, MB/s of source text, quads/s, peak memory, the bulk-load time and the
ratio build / bulk load, then how the time per article grows with N. ``--incremental`` also
times a rebuild after one article changed. The figures depend on the machine and on what else
runs on it: the load average is printed with them.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

import make_corpus  # noqa: E402


def tree_pids(pid: int) -> list[int]:
    """``pid`` and all its descendants, following the children of every thread: Dask starts its
    worker processes from its event-loop thread, which ``/proc/PID/task/PID/children`` (the main
    thread's only) does not list."""
    out = []
    todo = [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        try:
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as f:
                    todo.extend(int(c) for c in f.read().split())
        except (OSError, ValueError):
            pass
    return out


def tree_rss(pid: int) -> int:
    """Resident bytes of ``pid`` and all its descendants (0 if it is gone)."""
    total = 0
    for p in tree_pids(pid):
        try:
            with open(f"/proc/{p}/statm") as f:
                total += int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
        except (OSError, ValueError):
            pass
    return total


def tree_pss(pid: int) -> int:
    """Proportional set size of ``pid`` and its descendants, in bytes: each page shared by n
    processes counts 1/n in each, so the sum is the memory the tree really takes. The build's
    forked workers share the parent's lexicon, which the sum of their RSS counts once a process
    (0 where ``smaps_rollup`` is not there)."""
    total = 0
    for p in tree_pids(pid):
        try:
            with open(f"/proc/{p}/smaps_rollup") as f:
                for line in f:
                    if line.startswith("Pss:"):
                        total += int(line.split()[1]) * 1024
                        break
        except (OSError, ValueError):
            pass
    return total


def run(cmd: list[str], **kw) -> dict:
    """Run ``cmd``; wall seconds, peak tree RSS and PSS (sampled; PSS less often, so its peak
    may be missed by a little), largest single-process RSS (wait4)."""
    started = time.perf_counter()
    p = subprocess.Popen(cmd, cwd=ROOT, **kw)
    peak = peak_pss = 0
    done = threading.Event()

    def sample() -> None:
        # smaps_rollup walks every page of a process (0.18 CPU-s for a 5.5 GB one): PSS is read
        # at most 5 % of the time, so that the sampling does not slow the build it measures
        nonlocal peak, peak_pss
        next_pss = 0.0
        while not done.is_set():
            peak = max(peak, tree_rss(p.pid))
            if time.perf_counter() >= next_pss:
                t = time.perf_counter()
                peak_pss = max(peak_pss, tree_pss(p.pid))
                next_pss = time.perf_counter() + 20 * (time.perf_counter() - t)
            done.wait(0.1)

    t = threading.Thread(target=sample, daemon=True)
    t.start()
    _, status, usage = os.wait4(p.pid, 0)
    seconds = time.perf_counter() - started
    done.set()
    t.join()
    p.returncode = os.waitstatus_to_exitcode(status)
    return {"seconds": seconds, "peak_tree": peak, "peak_tree_pss": peak_pss, "max_proc": usage.ru_maxrss * 1024,
            "returncode": p.returncode, "cpu": usage.ru_utime + usage.ru_stime}


def corpus(workdir: Path, n: int, sources: list[Path] | None) -> Path:
    out = workdir / f"corpus-{n}"
    marker = out / ".complete"
    if not marker.exists():
        shutil.rmtree(out, ignore_errors=True)
        started = time.perf_counter()
        size = make_corpus.write_corpus(n, out, sources)
        marker.write_text(f"{n}\n")
        print(f"  generated {n} articles ({size / 1e6:.0f} MB) in {time.perf_counter() - started:.0f} s",
              file=sys.stderr)
    return out


BULK = """
import sys, time, pyoxigraph
store = pyoxigraph.Store(sys.argv[2])
t = time.perf_counter()
store.bulk_load(path=sys.argv[1], format=pyoxigraph.RdfFormat.N_QUADS)
store.flush()
print(time.perf_counter() - t)
"""

DUMP = """
import sys, time, pyoxigraph
from shilu.graph.store import open_store
t = time.perf_counter()
open_store(sys.argv[1]).dump(sys.argv[2], format=pyoxigraph.RdfFormat.N_QUADS)
print(time.perf_counter() - t)
"""


def mb(n: float) -> str:
    return f"{n / 1024 / 1024:,.0f} MB"


def bench(n: int, args: argparse.Namespace) -> dict:
    workdir: Path = args.workdir
    src = corpus(workdir, n, args.source)
    store = workdir / f"store-{n}"
    shutil.rmtree(store, ignore_errors=True)
    load_before = os.getloadavg()[0]
    build_cmd = [sys.executable, "-m", "shilu.graph.cli", "build", str(src), "--store", str(store), "-q",
                 "--full"] + (["--jobs", str(args.jobs)] if args.jobs else [])
    b = run(build_cmd)
    if b["returncode"] not in (0, 1):
        raise SystemExit(f"build of {n} failed with exit code {b['returncode']}")
    report = json.loads((store / "last-build.json").read_text(encoding="utf-8"))
    nq = workdir / f"store-{n}.nq"
    d = subprocess.run([sys.executable, "-c", DUMP, str(store), str(nq)], cwd=ROOT, check=True,
                       capture_output=True, text=True)
    with tempfile.TemporaryDirectory(dir=workdir) as tmp:
        bl = run([sys.executable, "-c", BULK, str(nq), tmp + "/s"], stdout=subprocess.PIPE)
    row = {
        "n": n, "articles": report["articles"], "bytes": report["bytes"], "quads": report["quads"],
        "triples": report["triples"], "build_s": b["seconds"], "build_cpu_s": b["cpu"],
        "peak_tree_rss": b["peak_tree"], "peak_tree_pss": b["peak_tree_pss"], "max_proc_rss": b["max_proc"],
        "phases": report["phases"], "memory_mb": report.get("memory_mb", {}),
        "cpu": report.get("cpu", {}), "bulk_load_cpu_s": None,
        "jobs": report["jobs"], "nquads_bytes": nq.stat().st_size, "dump_s": float(d.stdout.strip() or 0),
        "bulk_load_s": bl["seconds"], "bulk_load_rss": bl["max_proc"],
    }
    row["bulk_load_cpu_s"] = bl["cpu"]
    row["load_average"] = [round(load_before, 1), round(os.getloadavg()[0], 1)]
    if args.incremental:
        files = sorted(src.rglob("*.md"))
        victim = files[len(files) // 2]
        original = victim.read_bytes()
        try:
            victim.write_bytes(original + "\n宋軍攻克汴京。\n".encode())
            inc = run([c for c in build_cmd if c != "--full"])
            rep = json.loads((store / "last-build.json").read_text(encoding="utf-8"))
            row["incremental_s"], row["incremental_mode"] = inc["seconds"], rep["mode"]
        finally:
            victim.write_bytes(original)
    if not args.keep:
        shutil.rmtree(store, ignore_errors=True)
        nq.unlink(missing_ok=True)
    return row


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000], metavar="N")
    p.add_argument("--jobs", type=int, default=0, help="shilu build --jobs (default: all cores)")
    p.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "shilu-bench",
                   help="where corpora (kept for reuse), stores and N-Quads go")
    p.add_argument("--source", type=Path, action="append", help="base articles for make_corpus.py")
    p.add_argument("--keep", action="store_true", help="keep the stores and N-Quads files")
    p.add_argument("--incremental", action="store_true", help="also time a rebuild after one article changed")
    p.add_argument("--json", type=Path, help="write the figures here too")
    args = p.parse_args(argv)
    args.workdir.mkdir(parents=True, exist_ok=True)
    cores = len(os.sched_getaffinity(0))
    print(f"shilu build benchmark: {cores} cores, load average {os.getloadavg()[0]:.1f} at start, "
          f"python {sys.version.split()[0]}", file=sys.stderr)
    rows = []
    head = (f"{'N':>8} {'MB':>6} {'build s':>8} {'art/s':>7} {'MB/s':>6} {'quads':>10} {'quads/s':>8} "
            f"{'peak RSS tree/proc':>19} {'peak PSS':>9} {'bulk_load s':>11} {'quads/s':>8} {'build/bulk':>10}")
    print(head)
    for n in args.sizes:
        r = bench(n, args)
        rows.append(r)
        print(f"{r['articles']:>8} {r['bytes'] / 1e6:>6.1f} {r['build_s']:>8.1f} {r['articles'] / r['build_s']:>7.1f} "
              f"{r['bytes'] / 1e6 / r['build_s']:>6.2f} {r['quads']:>10,} {r['quads'] / r['build_s']:>8,.0f} "
              f"{mb(r['peak_tree_rss']) + ' / ' + mb(r['max_proc_rss']):>19} {mb(r['peak_tree_pss']):>9} "
              f"{r['bulk_load_s']:>11.1f} "
              f"{r['quads'] / r['bulk_load_s']:>8,.0f} {r['build_s'] / r['bulk_load_s']:>10.1f}", flush=True)
    print()
    for r in rows:
        print(f"N={r['n']} (load average {r['load_average'][0]} at the start, {r['load_average'][1]} at the end): phases (s) " + ", ".join(f"{k} {v:.1f}" for k, v in r["phases"].items())
              + "; CPU (s) " + ", ".join(f"{k} {v:.1f}" for k, v in r["cpu"].items())
              + f"; bulk load CPU {r['bulk_load_cpu_s']:.1f} s; parent RSS (MB) after "
              + ", ".join(f"{k} {v:,.0f}" for k, v in r["memory_mb"].items()))
    base = rows[0]
    for r in rows:
        print(f"N={r['n']:>7}: {1000 * r['build_s'] / r['articles']:6.1f} ms/article build "
              f"({r['build_s'] / base['build_s'] * base['articles'] / r['articles']:.2f}x the first), "
              f"{1000 * r['bulk_load_s'] / r['articles']:5.1f} ms/article bulk load; CPU "
              f"{1000 * r['build_cpu_s'] / r['articles']:.1f} ms/article build, "
              f"{1000 * r['bulk_load_cpu_s'] / r['articles']:.1f} ms/article bulk load "
              f"(CPU ratio {r['build_cpu_s'] / r['bulk_load_cpu_s']:.1f}); "
              f"{r['build_cpu_s'] / r['build_s']:.2f} cores busy on average"
              + (f"; incremental rebuild after 1 change: {r['incremental_s']:.1f} s ({r['incremental_mode']})"
                 if "incremental_s" in r else ""))
    print(f"load average {os.getloadavg()[0]:.1f} at the end", file=sys.stderr)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
