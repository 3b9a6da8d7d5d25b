"""Throughput and latency of the shilu SPARQL endpoint against Oxigraph's own server.

Builds the seeds + corpus store (or takes one with ``--store``), starts on free loopback ports

* ``shilu``          — :func:`shilu.graph.server.serve` on the store directory, as ``shilu serve``
  runs it (response cache on, the default; access log off);
* ``shilu-nocache``  — the same with ``cache_bytes=0``: every request is evaluated;
* ``oxigraph``       — ``oxigraph serve-read-only --union-default-graph`` on the current
  generation directory (``pip install oxigraph`` provides the command),

checks that the servers give the same answers, then for each query and number of concurrent
clients (keep-alive HTTP/1.1 connections, spread over a few client processes) sends requests for
``--duration`` seconds and prints requests per second, p50 and p99 latency, the server's CPU
time per request (user + system time of its processes and threads during the cell, from
/proc: a figure that other load on the machine changes far less than throughput), and the
shilu / oxigraph throughput ratio.

    .venv/bin/python bench/endpoint.py                       # build, then measure (5 s a cell)
    .venv/bin/python bench/endpoint.py --store data/store --duration 2 --clients 1 4
    .venv/bin/python bench/endpoint.py --queries select select-new --repeat 3 --workers 2

Every request of a cell is the same query, so the cached ``shilu`` server answers all but the
first from memory (the store is immutable between builds); ``shilu-nocache`` evaluates each one
(on the event loop thread once it has seen that the query is quick, see
:mod:`shilu.graph.server`).  ``select-new`` sends the small SELECT with a numbered comment, so
that every request is a query text neither server has seen.  ``--repeat N`` measures each cell
N times, the servers in turn, and reports the median run (the machine's load changes under a
run; the load average is printed at the start and the end).
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing as mp
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"

PREFIXES = """PREFIX shilu: <https://w3id.org/shilu/ontology#>
PREFIX res: <https://w3id.org/shilu/resource/>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX foaf: <http://xmlns.com/foaf/0.1/>
"""

#: name -> (query, Accept)
QUERIES: dict[str, tuple[str, str]] = {
    "select": (PREFIXES + "SELECT ?label WHERE { res:金朝 rdfs:label ?label }",
               "application/sparql-results+json"),
    # article -> its primary topic -> the topic's labels (ORDER BY keeps answers comparable)
    "2-hop": (PREFIXES + """SELECT DISTINCT ?article ?topic ?label WHERE {
  ?article shilu:mentions res:金朝 ; foaf:primaryTopic ?topic .
  ?topic rdfs:label ?label .
} ORDER BY ?topic ?label ?article""", "application/sparql-results+json"),
    "aggregate": (PREFIXES + """SELECT ?class (COUNT(DISTINCT ?thing) AS ?n) WHERE {
  ?thing a ?class
} GROUP BY ?class ORDER BY DESC(?n) ?class""", "application/sparql-results+json"),
    "describe": (PREFIXES + "DESCRIBE res:金朝", "application/n-triples"),
    # "select" with a comment numbering each request: every request is a query text the
    # server has not seen (no response cache hit, no shortcut for a query known to be quick)
    "select-new": (PREFIXES + "SELECT ?label WHERE { res:金朝 rdfs:label ?label }",
                   "application/sparql-results+json"),
}
#: Queries sent with a different text (a trailing ``# N`` comment) on every request.
NEW_EACH_TIME = frozenset({"select-new"})


# --------------------------------------------------------------------------------------------
# Servers


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Server:
    name: str
    port: int
    process: subprocess.Popen

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def wait_ready(server: Server, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    path = "/sparql?" + urlencode({"query": "ASK {}"})
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"{server.name} exited with {server.process.returncode}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=2)
            conn.request("GET", path, headers={"Accept": "application/sparql-results+json"})
            if conn.getresponse().status == 200:
                conn.close()
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{server.name} did not start on port {server.port}")


def start_shilu(store: Path, name: str, cache_bytes: int | None, workers: int) -> Server:
    port = free_port()
    options = "" if cache_bytes is None else f", cache_bytes={cache_bytes}"
    options += f", workers={workers}"
    code = ("from shilu.graph.server import serve; "
            f"serve({str(store)!r}, port={port}, log_level='warning', access_log=False{options})")
    process = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    return Server(name, port, process)


def start_oxigraph(binary: str, generation: Path) -> Server:
    port = free_port()
    process = subprocess.Popen(
        [binary, "serve-read-only", "--location", str(generation), "--bind",
         f"127.0.0.1:{port}", "--union-default-graph"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return Server("oxigraph", port, process)


# --------------------------------------------------------------------------------------------
# Clients


def request_path(query: str) -> str:
    return "/sparql?" + urlencode({"query": query})


def fetch(port: int, query: str, accept: str) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    conn.request("GET", request_path(query), headers={"Accept": accept})
    r = conn.getresponse()
    body = r.read()
    conn.close()
    return r.status, body


def _client_process(port: int, path: str, accept: str, threads: int, start: float,
                    duration: float, out: mp.Queue, numbered: str | None = None) -> None:
    """``threads`` clients, each on its own keep-alive connection, from ``start`` for
    ``duration`` seconds; puts (latencies in seconds, errors) on ``out``.  With ``numbered``
    (a query) each request sends that query followed by a comment naming the request."""
    import itertools
    import threading

    counter = itertools.count()
    tag = f"{os.getpid()}-"

    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()

    def client() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        mine, failed = [], 0
        headers = {"Accept": accept}
        while time.time() < start:
            time.sleep(0.001)
        end = start + duration
        while True:
            t0 = time.perf_counter()
            if time.time() >= end:
                break
            try:
                conn.request("GET", path if numbered is None else request_path(
                    f"{numbered}\n# {tag}{next(counter)}"), headers=headers)
                r = conn.getresponse()
                r.read()
                ok = r.status == 200
            except OSError:
                ok = False
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            if ok:
                mine.append(time.perf_counter() - t0)
            else:
                failed += 1
        conn.close()
        with lock:
            latencies.extend(mine)
            errors[0] += failed

    workers = [threading.Thread(target=client) for _ in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    out.put((latencies, errors[0]))


@dataclass
class Cell:
    requests: int
    errors: int
    seconds: float
    p50_ms: float
    p99_ms: float
    cpu_us: float = float("nan")  #: the server's CPU time (all processes) per answered request

    @property
    def rps(self) -> float:
        return self.requests / self.seconds


def tree_cpu_seconds(pid: int) -> float:
    """CPU time (user + system, all threads) of process ``pid`` and its live descendants.

    A figure the load of other processes changes much less than throughput: what the server
    spends per request, whoever else shares the CPUs (Linux /proc; NaN elsewhere).
    """
    try:
        stats = {}
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    with open(f"/proc/{entry}/stat", "rb") as f:
                        fields = f.read().rsplit(b")", 1)[1].split()
                except OSError:
                    continue
                stats[int(entry)] = (int(fields[1]), int(fields[11]) + int(fields[12]))
    except OSError:
        return float("nan")
    tree = {pid}
    for _ in range(3):  # children of children (uvicorn's workers under its supervisor)
        tree |= {p for p, (ppid, _) in stats.items() if ppid in tree}
    return sum(stats[p][1] for p in tree if p in stats) / os.sysconf("SC_CLK_TCK")


def measure(port: int, query: str, accept: str, clients: int, duration: float,
            processes: int, numbered: bool = False, server_pid: int | None = None) -> Cell:
    processes = max(1, min(processes, clients))
    shares = [clients // processes + (1 if i < clients % processes else 0)
              for i in range(processes)]
    out: mp.Queue = mp.Queue()
    start = time.time() + 0.5  # every client starts together
    procs = [mp.Process(target=_client_process,
                        args=(port, request_path(query), accept, n, start, duration, out,
                              query if numbered else None))
             for n in shares]
    cpu_before = tree_cpu_seconds(server_pid) if server_pid else float("nan")
    for p in procs:
        p.start()
    latencies: list[float] = []
    errors = 0
    for _ in procs:
        lat, err = out.get()
        latencies.extend(lat)
        errors += err
    for p in procs:
        p.join()
    cpu = (tree_cpu_seconds(server_pid) - cpu_before) if server_pid else float("nan")
    latencies.sort()
    if not latencies:
        return Cell(0, errors, duration, float("nan"), float("nan"))
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    return Cell(len(latencies), errors, duration, statistics.median(latencies) * 1000,
                p99 * 1000, cpu * 1e6 / len(latencies))


# --------------------------------------------------------------------------------------------
# Answers must agree before timing them


def answer_size(body: bytes, accept: str) -> int:
    if accept.endswith("json"):
        return len(json.loads(body)["results"]["bindings"])
    return len({line for line in body.decode().splitlines() if line.strip()})


def check_answers(servers: list[Server]) -> None:
    for name, (query, accept) in QUERIES.items():
        sizes = {}
        for server in servers:
            status, body = fetch(server.port, query, accept)
            if status != 200:
                raise RuntimeError(f"{server.name} answered {status} to {name}: {body[:300]!r}")
            sizes[server.name] = answer_size(body, accept)
        if len(set(sizes.values())) != 1:
            raise RuntimeError(f"servers disagree on {name}: {sizes}")
        print(f"  {name:10} {next(iter(sizes.values()))} rows/triples from every server",
              file=sys.stderr)


# --------------------------------------------------------------------------------------------


def build_store(target: Path) -> Path:
    corpus = [p for p in (SHARED / "seeds", SHARED / "corpus" / "history") if p.is_dir()]
    if not corpus:
        raise SystemExit(f"no corpus under {SHARED}; give --store")
    print(f"building {' '.join(map(str, corpus))} -> {target}", file=sys.stderr)
    subprocess.run([sys.executable, "-m", "shilu.graph.cli", "build", *map(str, corpus),
                    "--store", str(target), "-q"], check=True)
    return target


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--store", type=Path, help="store directory (default: build seeds+corpus)")
    ap.add_argument("--duration", type=float, default=5.0, help="seconds per cell (default 5)")
    ap.add_argument("--clients", type=int, nargs="+", default=[1, 4, 16])
    ap.add_argument("--queries", nargs="+", choices=list(QUERIES), default=list(QUERIES))
    ap.add_argument("--repeat", type=int, default=1,
                    help="measure every cell this many times (servers in turn) and report the "
                         "median run of each")
    ap.add_argument("--processes", type=int, default=max(2, os.cpu_count() or 2),
                    help="client processes the clients are spread over")
    ap.add_argument("--servers", nargs="+", default=["shilu", "shilu-nocache", "oxigraph"],
                    choices=["shilu", "shilu-nocache", "oxigraph"])
    ap.add_argument("--workers", type=int, default=1,
                    help="server processes of each shilu server (serve(workers=N))")
    ap.add_argument("--oxigraph", default=shutil.which("oxigraph")
                    or str(Path(sys.executable).parent / "oxigraph"),
                    help="the oxigraph command (pip install oxigraph)")
    args = ap.parse_args(argv)

    from shilu.graph.store import current_path

    tmp = None
    store = args.store
    if store is None:
        tmp = tempfile.TemporaryDirectory(prefix="shilu-bench-")
        store = build_store(Path(tmp.name) / "store")
    generation = current_path(store)

    servers: list[Server] = []
    try:
        for name in args.servers:
            if name == "oxigraph":
                if not Path(args.oxigraph).exists() and not shutil.which(args.oxigraph):
                    print("oxigraph not found (pip install oxigraph): skipped", file=sys.stderr)
                    continue
                servers.append(start_oxigraph(args.oxigraph, generation))
            else:
                servers.append(start_shilu(store, name, 0 if name == "shilu-nocache" else None,
                                           args.workers))
        for server in servers:
            wait_ready(server)
        print(f"store {generation} ({os.cpu_count()} CPUs, shilu workers: {args.workers}); "
              "checking answers", file=sys.stderr)
        load_start = os.getloadavg()
        check_answers(servers)

        results: dict[tuple[str, str, int], Cell] = {}
        for qname in args.queries:
            query, accept = QUERIES[qname]
            for clients in args.clients:
                runs: dict[str, list[Cell]] = {server.name: [] for server in servers}
                for _ in range(args.repeat):  # the servers in turn, so load changes hit all
                    for server in servers:
                        cell = measure(server.port, query, accept, clients, args.duration,
                                       args.processes, numbered=qname in NEW_EACH_TIME,
                                       server_pid=server.process.pid)
                        runs[server.name].append(cell)
                        print(f"  {qname:10} {clients:3} clients {server.name:14} "
                              f"{cell.rps:9.0f} req/s  p50 {cell.p50_ms:7.2f} ms  "
                              f"p99 {cell.p99_ms:7.2f} ms  CPU {cell.cpu_us:6.0f} µs/req  "
                              f"errors {cell.errors}",
                              file=sys.stderr)
                for name, cells in runs.items():
                    cells.sort(key=lambda c: c.rps)
                    median = cells[len(cells) // 2]
                    median.errors = sum(c.errors for c in cells)
                    results[(name, qname, clients)] = median
        print_table(results, [s.name for s in servers], args)
        print("load average %.2f %.2f %.2f at the start, %.2f %.2f %.2f at the end"
              % (*load_start, *os.getloadavg()), file=sys.stderr)
    finally:
        for server in servers:
            server.stop()
        if tmp is not None:
            tmp.cleanup()
    return 0


def print_table(results: dict[tuple[str, str, int], Cell], names: list[str],
                args: argparse.Namespace) -> None:
    header = ["query", "clients"]
    for name in names:
        header += [f"{name} req/s", "p50 ms", "p99 ms", "CPU µs/req"]
    shilu_names = [n for n in names if n != "oxigraph"]
    if "oxigraph" in names:
        header += [f"{n} / oxigraph" for n in shilu_names]
    rows = []
    for qname in args.queries:
        for clients in args.clients:
            row = [qname, str(clients)]
            for name in names:
                c = results[(name, qname, clients)]
                row += [f"{c.rps:.0f}", f"{c.p50_ms:.2f}", f"{c.p99_ms:.2f}", f"{c.cpu_us:.0f}"]
            if "oxigraph" in names:
                ox_rps = results[("oxigraph", qname, clients)].rps
                row += [f"{results[(n, qname, clients)].rps / ox_rps:.2f}" if ox_rps else "-"
                        for n in shilu_names]
            rows.append(row)
    print("| " + " | ".join(header) + " |")
    print("|" + "|".join("---" for _ in header) + "|")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    errors = sum(c.errors for c in results.values())
    runs = f", median of {args.repeat} runs" if args.repeat > 1 else ""
    print(f"\n{args.duration:g} s per cell{runs}; {errors} failed requests", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
