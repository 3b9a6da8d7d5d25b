"""A bounded load test of ``shilu serve`` while ``shilu build`` swaps the store under it.

Builds a store from ``../shared/seeds`` and ``../shared/corpus/history`` (or takes ``--store``),
starts ``shilu serve --store STORE`` as a subprocess on a free 127.0.0.1 port, and for
``--duration`` seconds keeps exactly ``--connections`` keep-alive HTTP/1.1 connections busy
(one request at a time each, closed loop) with a mix of

* ``select``    — a small SELECT: the labels of one resource (picked from all of them);
* ``describe``  — ``DESCRIBE`` of one resource, as N-Triples;
* ``page``      — the HTML resource page ``/page/NAME`` of one resource;
* ``aggregate`` — a GROUP BY over the whole union graph (every triple: count, distinct subjects
  and objects per property); each one carries a unique comment, so none is a cache hit;
* ``health``    — ``/health``, which names the store generation that answered,

while ``shilu build SOURCES --store STORE --full`` runs ``--rebuilds`` times (at evenly spaced
times, or at ``--rebuild-at`` seconds), each publishing a new generation that the server must
switch to without dropping a request.

What is recorded: per kind requests, req/s, p50 / p99 / max latency and status counts, with
5xx answers split into the server's deliberate time-limit answers (``503`` "query exceeded the
time limit …") and everything else; connection errors (a refused, reset or closed connection,
an incomplete response, no answer within ``--request-timeout``, a ``Connection: close``); the
resident memory of the server (its whole process tree, sampled every 0.25 s); and which
generation answered each request: ``/health`` says its name, every SPARQL result and resource
description carries an ETag that starts with a token of the generation it came from.

The run breaks the rules (exit status 1) when there is any 5xx other than a time-limit answer,
any connection error, a rebuild that failed, a published generation the server never answered
from, a *stale* answer (a request sent after the client had already received an answer from a
newer generation, and answered from an older one), or when, 5 s after the load, the server
still holds files of a generation other than the current one open (``/proc/PID/fd``): an old
store it never closed.  Memory is reported, not judged: RSS at the start, after a short warm-up,
its maximum and at the end.  With ``--workers`` above 1 each worker process switches on its own
(within about a second of the others), so stale answers across connections are expected there.

The run lasts ``--duration`` seconds, and past that until every rebuild has been published and
answered from for ``--settle`` seconds (at most ``--max-extra`` more seconds).

    .venv/bin/python bench/load.py                    # 60 s, 8 connections, 2 rebuilds
    .venv/bin/python bench/load.py --duration 10 --rebuild-at 1 --json /tmp/load.json
    .venv/bin/python bench/load.py --store /tmp/scratch-store \
        --sources ../shared/seeds ../shared/corpus/history

``--store`` is rebuilt in place (from ``--sources``): use a scratch copy, not a store you need.
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent))
from build import tree_rss  # noqa: E402  (bench/build.py)

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
SOURCES = [SHARED / "seeds", SHARED / "corpus" / "history"]

RES = "https://w3id.org/shilu/resource/"
PREFIXES = """PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
"""

#: the resources requests are about: every typed resource that is not an event
POOL_QUERY = f"""SELECT DISTINCT ?s WHERE {{
  ?s a ?class .
  FILTER(STRSTARTS(STR(?s), "{RES}") && !CONTAINS(STR(?s), "/event/"))
}} ORDER BY ?s"""

AGGREGATE = """SELECT ?p (COUNT(*) AS ?n) (COUNT(DISTINCT ?s) AS ?subjects)
       (COUNT(DISTINCT ?o) AS ?objects)
WHERE { ?s ?p ?o } GROUP BY ?p ORDER BY DESC(?n) ?p"""

#: kind -> share of the requests
MIX = {"select": 0.55, "describe": 0.2, "page": 0.1, "aggregate": 0.05, "health": 0.1}

SPARQL_JSON = "application/sparql-results+json"
TIME_LIMIT_TEXT = b"exceeded the time limit"


# --------------------------------------------------------------------------------------------
# The server, the builds, memory


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def shilu(*args: str) -> list[str]:
    return [sys.executable, "-m", "shilu.graph.cli", *args]


def build_command(sources: list[Path], store: Path, full: bool = True) -> list[str]:
    return shilu("build", *map(str, sources), "--store", str(store), "-q",
                 *(["--full"] if full else []))


def current_generation(store: Path) -> str:
    return os.readlink(store / "current")


def tree_rss_kb(pid: int) -> int:
    """Resident memory of ``pid`` and its descendants, in KiB (0 if it is gone)."""
    return tree_rss(pid) // 1024


def open_generations(pid: int, store: Path) -> dict[str, int]:
    """Files of each store generation that ``pid`` (and its descendants) hold open, by
    generation name: a generation the server has left should have none."""
    counts: dict[str, int] = {}
    root = str(store.resolve()) + "/"
    todo = [pid]
    while todo:
        p = todo.pop()
        try:
            for fd in os.listdir(f"/proc/{p}/fd"):
                try:
                    target = os.readlink(f"/proc/{p}/fd/{fd}")
                except OSError:
                    continue
                if target.startswith(root):
                    name = target[len(root):].split("/", 1)[0]
                    if name.startswith("gen-"):
                        counts[name] = counts.get(name, 0) + 1
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as f:
                    todo.extend(int(c) for c in f.read().split())
        except (OSError, ValueError):
            pass
    return dict(sorted(counts.items()))


def left_open(pid: int, store: Path, port: int, wait: float = 5.0) -> dict[str, int]:
    """:func:`open_generations` once the server holds nothing but the current generation open,
    or after ``wait`` seconds (asking /health meanwhile, so the server is not idle)."""
    deadline = time.monotonic() + wait
    while True:
        counts = open_generations(pid, store)
        if set(counts) <= {current_generation(store)} or time.monotonic() > deadline:
            return counts
        try:
            http_get(port, "/health", timeout=2)
        except OSError:
            pass
        time.sleep(0.25)


def http_get(port: int, path: str, accept: str = SPARQL_JSON,
             timeout: float = 30) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path, headers={"Accept": accept})
        r = conn.getresponse()
        return r.status, r.read()
    finally:
        conn.close()


def wait_ready(process: subprocess.Popen, port: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"shilu serve exited with {process.returncode}")
        try:
            if http_get(port, "/health", timeout=2)[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"shilu serve did not answer on port {port} within {timeout:g} s")


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def resource_pool(port: int) -> list[str]:
    status, body = http_get(port, "/sparql?" + urlencode({"query": POOL_QUERY}))
    if status != 200:
        raise RuntimeError(f"the resource list query answered {status}: {body[:200]!r}")
    names = [b["s"]["value"] for b in json.loads(body)["results"]["bindings"]]
    if not names:
        raise RuntimeError("the store has no resources")
    return names


# --------------------------------------------------------------------------------------------
# A minimal HTTP/1.1 client: one request at a time on one connection, everything observed


class Dropped(Exception):
    """The connection failed while a request was outstanding."""


async def read_response(reader: asyncio.StreamReader) -> tuple[int, dict[str, str], bytes]:
    line = await reader.readline()
    if not line:
        raise Dropped("connection closed before a response")
    if not line.endswith(b"\r\n"):
        raise Dropped(f"incomplete status line {line[:80]!r}")
    parts = line.split(None, 2)
    if len(parts) < 2 or not parts[0].startswith(b"HTTP/1."):
        raise Dropped(f"bad status line {line[:80]!r}")
    status = int(parts[1])
    headers: dict[str, str] = {}
    while True:
        line = await reader.readline()
        if not line.endswith(b"\r\n"):
            raise Dropped("connection closed in the headers")
        if line == b"\r\n":
            break
        name, _, value = line.decode("latin-1").partition(":")
        headers[name.strip().lower()] = value.strip()
    if headers.get("transfer-encoding", "").lower() == "chunked":
        chunks = []
        while True:
            size = int((await reader.readline()).split(b";")[0], 16)
            if size == 0:
                while (await reader.readline()) not in (b"\r\n", b""):
                    pass
                break
            chunks.append(await reader.readexactly(size))
            await reader.readexactly(2)
        body = b"".join(chunks)
    elif "content-length" in headers:
        body = await reader.readexactly(int(headers["content-length"]))
    elif status in (204, 304) or 100 <= status < 200:
        body = b""
    else:  # delimited by the end of the connection
        body = await reader.read()
        headers["connection"] = "close"
    return status, headers, body


@dataclass
class Answer:
    conn: int
    kind: str
    sent: float  # seconds since the start of the run
    received: float
    status: int
    generation: str  # "health:gen-000002", "etag:1a2b3c4d5e6f" or ""
    time_limit: bool = False


@dataclass
class Run:
    port: int
    pool: list[str]
    mix: dict[str, float]
    request_timeout: float
    seed: int
    t0: float = 0.0
    stopping: bool = False
    answers: list[Answer] = field(default_factory=list)
    drops: list[dict] = field(default_factory=list)
    unexpected: list[dict] = field(default_factory=list)  # 5xx other than time-limit answers
    connects: int = 0
    latest_health: str = ""
    latest_health_since: float = 0.0
    aggregates: int = 0
    open_at_end: dict[str, int] = field(default_factory=dict)

    def now(self) -> float:
        return time.monotonic() - self.t0


def make_request(run: Run, kind: str, rng: random.Random) -> tuple[str, str]:
    """(path, Accept) of one request of ``kind``."""
    iri = rng.choice(run.pool)
    if kind == "select":
        query = PREFIXES + f"SELECT ?label WHERE {{ <{iri}> rdfs:label ?label }}"
        return "/sparql?" + urlencode({"query": query}), SPARQL_JSON
    if kind == "describe":
        return "/sparql?" + urlencode({"query": f"DESCRIBE <{iri}>"}), "application/n-triples"
    if kind == "page":
        return "/page/" + quote(iri[len(RES):], safe=""), "text/html"
    if kind == "aggregate":
        run.aggregates += 1  # a unique comment: never answered from the response cache
        query = f"# load {run.seed} {run.aggregates}\n" + AGGREGATE
        return "/sparql?" + urlencode({"query": query}), SPARQL_JSON
    if kind == "health":
        return "/health", "application/json"
    raise ValueError(kind)


def generation_of(kind: str, status: int, headers: dict[str, str], body: bytes) -> str:
    if kind == "health" and status == 200:
        return "health:" + json.loads(body)["generation"]
    etag = headers.get("etag", "").strip('"')
    token, dash, _ = etag.partition("-")
    return "etag:" + token if dash and token else ""


async def connection(run: Run, index: int) -> None:
    """One keep-alive connection sending requests one after the other until the run stops."""
    rng = random.Random(run.seed * 1000 + index)
    kinds, weights = list(run.mix), list(run.mix.values())
    reader = writer = None
    host = f"127.0.0.1:{run.port}"
    while not run.stopping:
        if writer is None:
            try:
                reader, writer = await asyncio.open_connection("127.0.0.1", run.port)
                run.connects += 1
            except OSError as e:
                run.drops.append({"conn": index, "at": round(run.now(), 3), "kind": "connect",
                                  "error": f"{type(e).__name__}: {e}"})
                await asyncio.sleep(0.1)
                continue
        kind = rng.choices(kinds, weights)[0]
        path, accept = make_request(run, kind, rng)
        sent = run.now()
        try:
            writer.write(f"GET {path} HTTP/1.1\r\nHost: {host}\r\nAccept: {accept}\r\n"
                         "User-Agent: shilu-load\r\n\r\n".encode("ascii"))
            status, headers, body = await asyncio.wait_for(read_response(reader),
                                                           run.request_timeout)
        except (OSError, asyncio.IncompleteReadError, asyncio.TimeoutError, Dropped,
                ValueError) as e:
            run.drops.append({"conn": index, "at": round(sent, 3), "kind": kind,
                              "error": f"{type(e).__name__}: {e}"})
            writer.close()
            reader = writer = None
            continue
        received = run.now()
        time_limit = status == 503 and TIME_LIMIT_TEXT in body
        if status >= 500 and not time_limit:
            run.unexpected.append({"conn": index, "at": round(sent, 3), "kind": kind,
                                   "status": status, "body": body[:300].decode("utf-8", "replace")})
        try:
            generation = generation_of(kind, status, headers, body)
        except (ValueError, KeyError):
            generation = ""
        if generation.startswith("health:") and generation != run.latest_health:
            if generation > run.latest_health:
                run.latest_health, run.latest_health_since = generation, received
        run.answers.append(Answer(index, kind, sent, received, status, generation, time_limit))
        if headers.get("connection", "").lower() == "close":
            run.drops.append({"conn": index, "at": round(sent, 3), "kind": kind,
                              "error": f"the server closed the connection (status {status})"})
            writer.close()
            reader = writer = None
    if writer is not None:
        writer.close()


async def sample_memory(run: Run, pid: int, samples: list[tuple[float, int]],
                        loads: list[tuple[float, float]]) -> None:
    while not run.stopping:
        samples.append((round(run.now(), 2), tree_rss_kb(pid)))
        if not loads or run.now() - loads[-1][0] >= 1:
            loads.append((round(run.now(), 2), os.getloadavg()[0]))
        await asyncio.sleep(0.25)


async def rebuilds(run: Run, times: list[float], command: list[str], store: Path,
                   out: list[dict]) -> None:
    for at in times:
        await asyncio.sleep(max(0.0, at - run.now()))
        started = run.now()
        process = await asyncio.create_subprocess_exec(
            *command, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
            cwd=ROOT)
        _, err = await process.communicate()
        out.append({"started_s": round(started, 3), "finished_s": round(run.now(), 3),
                    "returncode": process.returncode, "generation": current_generation(store),
                    "stderr": err.decode("utf-8", "replace")[-500:]})


async def drive(run: Run, *, pid: int, duration: float, rebuild_times: list[float],
                command: list[str], store: Path, settle: float, max_extra: float,
                connections: int) -> tuple[float, list, list, list]:
    samples: list[tuple[float, int]] = []
    loads: list[tuple[float, float]] = []
    built: list[dict] = []
    run.t0 = time.monotonic()
    sampler = asyncio.create_task(sample_memory(run, pid, samples, loads))
    builder = asyncio.create_task(rebuilds(run, rebuild_times, command, store, built))
    workers = [asyncio.create_task(connection(run, i)) for i in range(connections)]
    await asyncio.sleep(duration)
    limit = duration + max_extra
    while run.now() < limit:  # until the last published generation has served for `settle` s
        if builder.done() and (not built or (
                run.latest_health == "health:" + built[-1]["generation"]
                and run.now() - run.latest_health_since >= settle)):
            break
        await asyncio.sleep(0.05)
    run.stopping = True
    elapsed = run.now()
    await asyncio.wait(workers, timeout=run.request_timeout + 5)
    for w in workers:
        w.cancel()
    if not builder.done():  # a build still running past --max-extra: wait for it to publish
        await builder
    await sampler
    samples.append((round(run.now(), 2), tree_rss_kb(pid)))
    return elapsed, samples, loads, built


# --------------------------------------------------------------------------------------------
# Figures and rules


def percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


def latency_figures(answers: list[Answer], seconds: float) -> dict:
    lat = [(a.received - a.sent) * 1000 for a in answers]
    statuses: dict[str, int] = {}
    for a in answers:
        statuses[str(a.status)] = statuses.get(str(a.status), 0) + 1
    return {
        "requests": len(answers),
        "req_per_s": round(len(answers) / seconds, 1) if seconds else 0.0,
        "p50_ms": round(percentile(lat, 0.5), 2),
        "p99_ms": round(percentile(lat, 0.99), 2),
        "max_ms": round(max(lat, default=0.0), 2),
        "status": dict(sorted(statuses.items())),
        "time_limit": sum(a.time_limit for a in answers),
        "unexpected_5xx": sum(a.status >= 500 and not a.time_limit for a in answers),
    }


def generation_figures(answers: list[Answer], domain: str) -> tuple[list[dict], int, list[dict]]:
    """Generations seen in ``domain`` ("health" or "etag") in order, the number of stale
    answers, and the first few of them.

    Order: by name for health (gen-NNNNNN), by first answer for ETag tokens.  An answer is stale
    when its request was sent after an answer from a newer generation had been received."""
    mine = [a for a in answers if a.generation.startswith(domain + ":")]
    seen: dict[str, dict] = {}
    for a in sorted(mine, key=lambda a: a.received):
        g = a.generation.split(":", 1)[1]
        info = seen.setdefault(g, {"name": g, "first_s": round(a.received, 3), "answers": 0})
        info["answers"] += 1
        info["last_s"] = round(a.received, 3)
    names = sorted(seen) if domain == "health" else list(seen)
    rank = {g: i for i, g in enumerate(names)}
    by_received = sorted(mine, key=lambda a: a.received)
    newest, j, stale = -1, 0, []
    for a in sorted(mine, key=lambda a: a.sent):
        while j < len(by_received) and by_received[j].received < a.sent:
            newest = max(newest, rank[by_received[j].generation.split(":", 1)[1]])
            j += 1
        if rank[a.generation.split(":", 1)[1]] < newest:
            stale.append({"conn": a.conn, "kind": a.kind, "sent_s": round(a.sent, 3),
                          "generation": a.generation, "newest_seen": names[newest]})
    return [seen[g] for g in names], len(stale), stale[:10]


def figures(run: Run, elapsed: float, samples: list, loads: list, built: list[dict],
            store: Path, config: dict) -> dict:
    kinds = {k: latency_figures([a for a in run.answers if a.kind == k], elapsed)
             for k in run.mix}
    total = latency_figures(run.answers, elapsed)
    windows = [(b["started_s"], b["finished_s"]) for b in built]
    during = [a for a in run.answers if any(s <= a.sent < e for s, e in windows)]
    building = sum(e - s for s, e in windows)
    health, health_stale, health_examples = generation_figures(run.answers, "health")
    etag, etag_stale, etag_examples = generation_figures(run.answers, "etag")
    rss = [kb for _, kb in samples]
    warm_at = min(5.0, elapsed / 4)  # after the warm-up: the response cache has filled a bit
    warm = next((kb for t, kb in samples if t >= warm_at), rss[-1])
    final = current_generation(store)

    rules: list[str] = []
    if total["unexpected_5xx"]:
        rules.append(f"{total['unexpected_5xx']} 5xx answers other than time-limit answers")
    if run.drops:
        rules.append(f"{len(run.drops)} connection errors")
    for b in built:
        if b["returncode"] != 0:
            rules.append(f"the rebuild started at {b['started_s']} s exited {b['returncode']}")
    served = {g["name"] for g in health}
    for b in built:
        if b["returncode"] == 0 and b["generation"] not in served:
            rules.append(f"generation {b['generation']} (rebuild at {b['started_s']} s) was "
                         "never answered from")
    if built and health and health[-1]["name"] != final:
        rules.append(f"the last generation answered from is {health[-1]['name']}, not {final}")
    if built and len(etag) != len(health):
        rules.append(f"{len(health)} generations by /health but {len(etag)} by ETag")
    if health_stale or etag_stale:
        rules.append(f"{health_stale + etag_stale} stale answers (an older generation after a "
                     "newer one had answered)")
    if not run.answers:
        rules.append("no answer at all")
    old = sorted(set(run.open_at_end) - {final})
    if old:
        rules.append(f"the server still holds files of {', '.join(old)} open after the run")

    def rss_at(t: float) -> float:
        return round(next((kb for s, kb in samples if s >= t), rss[-1]) / 1024, 1)

    swaps = []
    for b in built:
        g = next((h for h in health if h["name"] == b["generation"]), None)
        swaps.append({**{k: v for k, v in b.items() if k != "stderr" or b["returncode"]},
                      "rss_mb_at_start": rss_at(b["started_s"]),
                      "rss_mb_1s_after_swap": rss_at(g["first_s"] + 1) if g else None,
                      "first_answer_s": g["first_s"] if g else None,
                      "publish_to_first_answer_s":
                          round(g["first_s"] - b["finished_s"], 3) if g else None})
    return {
        "config": config,
        "machine": {"cpus": os.cpu_count(),
                    "loadavg_1min_max": max((l for _, l in loads), default=None),
                    "loadavg_at_start": loads[0][1] if loads else None,
                    "loadavg_at_end": os.getloadavg()[0]},
        "seconds": round(elapsed, 2),
        "kinds": kinds,
        "total": total,
        "during_rebuilds": {"seconds": round(building, 2),
                            **{k: v for k, v in latency_figures(during, building or 1).items()
                               if k in ("requests", "req_per_s", "p50_ms", "p99_ms", "max_ms")}},
        "connections": {"wanted": config["connections"], "opened": run.connects,
                        "errors": len(run.drops), "first_errors": run.drops[:10]},
        "unexpected_5xx_first": run.unexpected[:10],
        "slowest": [{"conn": a.conn, "kind": a.kind, "sent_s": round(a.sent, 3),
                     "ms": round((a.received - a.sent) * 1000, 1), "generation": a.generation}
                    for a in sorted(run.answers, key=lambda a: a.sent - a.received)[:10]],
        "rss_mb": {"start": round(rss[0] / 1024, 1), "max": round(max(rss) / 1024, 1),
                   "end": round(rss[-1] / 1024, 1),
                   "growth": round((rss[-1] - rss[0]) / 1024, 1),
                   "warm_at_s": round(warm_at, 2), "warm": round(warm / 1024, 1),
                   "growth_after_warm": round((rss[-1] - warm) / 1024, 1),
                   "samples": [(t, round(kb / 1024, 1)) for t, kb in samples]},
        "rebuilds": swaps,
        "generations": {"health": health, "etag": etag, "stale": health_stale + etag_stale,
                        "stale_first": health_examples + etag_examples,
                        "current_at_end": final,
                        "files_open_at_end": run.open_at_end},
        "broken_rules": rules,
        "ok": not rules,
    }


def print_table(f: dict) -> None:
    c = f["config"]
    print(f"\n{c['connections']} connections, {f['seconds']:.1f} s, {len(f['rebuilds'])} rebuilds; "
          f"load average {f['machine']['loadavg_at_start']} at the start, max "
          f"{f['machine']['loadavg_1min_max']} ({f['machine']['cpus']} CPUs)\n")
    print("| kind | requests | req/s | p50 ms | p99 ms | max ms | statuses | time-limit 503 "
          "| other 5xx |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name, k in [*f["kinds"].items(), ("all", f["total"])]:
        statuses = " ".join(f"{s}×{n}" for s, n in k["status"].items())
        print(f"| {name} | {k['requests']} | {k['req_per_s']} | {k['p50_ms']} | {k['p99_ms']} "
              f"| {k['max_ms']} | {statuses} | {k['time_limit']} | {k['unexpected_5xx']} |")
    d = f["during_rebuilds"]
    print(f"\nwhile a rebuild ran ({d['seconds']} s): {d['requests']} requests, {d['req_per_s']} "
          f"req/s, p50 {d['p50_ms']} ms, p99 {d['p99_ms']} ms, max {d['max_ms']} ms")
    cn = f["connections"]
    print(f"connections: {cn['opened']} opened for {cn['wanted']} wanted, {cn['errors']} errors")
    r = f["rss_mb"]
    print(f"server RSS: {r['start']} MB at the start, {r['warm']} MB at {r['warm_at_s']:g} s, "
          f"max {r['max']} MB, {r['end']} MB at the end ({r['growth']:+.1f} MB from the start, "
          f"{r['growth_after_warm']:+.1f} MB from {r['warm_at_s']:g} s)")
    for b in f["rebuilds"]:
        print(f"rebuild {b['started_s']}–{b['finished_s']} s (exit {b['returncode']}) published "
              f"{b['generation']}; first answer from it at {b['first_answer_s']} s "
              f"({b['publish_to_first_answer_s']} s after the build ended); server RSS "
              f"{b['rss_mb_at_start']} MB when it started, {b['rss_mb_1s_after_swap']} MB 1 s "
              "after the swap")
    g = f["generations"]
    print("answered from (health): " + ", ".join(
        f"{h['name']} {h['first_s']}–{h['last_s']} s ({h['answers']})" for h in g["health"]))
    print("answered from (ETag tokens): " + ", ".join(
        f"{h['name']} {h['first_s']}–{h['last_s']} s ({h['answers']})" for h in g["etag"]))
    print(f"stale answers: {g['stale']}; current at the end: {g['current_at_end']}; files the "
          "server holds open per generation at the end: " + (", ".join(
              f"{n} {c}" for n, c in g["files_open_at_end"].items()) or "none"))
    if f["broken_rules"]:
        print("\nBROKEN: " + "; ".join(f["broken_rules"]))
        for e in f["connections"]["first_errors"] + f["unexpected_5xx_first"] + g["stale_first"]:
            print("  ", e)
    else:
        print("\nOK: no 5xx other than time-limit answers, no connection error, every "
              "generation served, no stale answer")


# --------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--store", type=Path, help="a store to serve and rebuild in place "
                   "(default: build one from --sources in a temporary directory)")
    p.add_argument("--sources", type=Path, nargs="+", default=SOURCES,
                   help="article folders of the builds (default: ../shared seeds and history)")
    p.add_argument("--duration", type=float, default=60.0, help="seconds of load (default 60)")
    p.add_argument("--connections", type=int, default=8,
                   help="keep-alive connections, one request at a time each (default 8)")
    p.add_argument("--rebuilds", type=int, default=2,
                   help="full rebuilds during the run, evenly spaced (default 2)")
    p.add_argument("--rebuild-at", type=float, nargs="+", metavar="S",
                   help="start rebuilds at these seconds instead (one after the other)")
    p.add_argument("--timeout", type=float, default=30.0, help="the server's --timeout")
    p.add_argument("--cache-mb", type=int, default=64, help="the server's --cache-mb")
    p.add_argument("--workers", type=int, default=1, help="the server's --workers")
    p.add_argument("--request-timeout", type=float, default=60.0,
                   help="a request unanswered this long counts as a dropped connection")
    p.add_argument("--settle", type=float, default=1.0,
                   help="seconds the last generation must serve before the run may end")
    p.add_argument("--max-extra", type=float, default=120.0,
                   help="most seconds the run may go past --duration waiting for that")
    p.add_argument("--seed", type=int, default=1, help="of the request mix (default 1)")
    p.add_argument("--json", type=Path, metavar="PATH", help="write the figures here")
    args = p.parse_args(argv)

    rebuild_times = args.rebuild_at or [args.duration * (i + 1) / (args.rebuilds + 1)
                                        for i in range(args.rebuilds)]
    scratch = None
    if args.store is None:
        scratch = Path(tempfile.mkdtemp(prefix="shilu-load-"))
        store = scratch / "store"
        print(f"building {store} from {', '.join(map(str, args.sources))} …", flush=True)
        subprocess.run(build_command(args.sources, store, full=False), check=True, cwd=ROOT)
    else:
        store = args.store
    port = free_port()
    log_path = (scratch or Path(tempfile.gettempdir())) / f"shilu-load-serve-{port}.log"
    with open(log_path, "wb") as log:
        server = subprocess.Popen(
            shilu("serve", "--store", str(store), "--port", str(port), "--quiet",
                  "--timeout", str(args.timeout), "--cache-mb", str(args.cache_mb),
                  "--workers", str(args.workers)),
            stdout=log, stderr=subprocess.STDOUT, cwd=ROOT)
    try:
        wait_ready(server, port)
        pool = resource_pool(port)
        run = Run(port=port, pool=pool, mix=dict(MIX), request_timeout=args.request_timeout,
                  seed=args.seed)
        config = {"connections": args.connections, "duration": args.duration,
                  "rebuild_at": rebuild_times, "timeout": args.timeout,
                  "cache_mb": args.cache_mb, "workers": args.workers, "mix": run.mix,
                  "resources": len(pool), "sources": [str(s) for s in args.sources],
                  "store": str(store), "generation_at_start": current_generation(store)}
        print(f"serving {store} ({config['generation_at_start']}, {len(pool)} resources) on "
              f"127.0.0.1:{port}; {args.connections} connections for {args.duration:g} s, "
              f"rebuilds at {', '.join(f'{t:g}' for t in rebuild_times)} s", flush=True)
        elapsed, samples, loads, built = asyncio.run(drive(
            run, pid=server.pid, duration=args.duration, rebuild_times=rebuild_times,
            command=build_command(args.sources, store), store=store, settle=args.settle,
            max_extra=args.max_extra, connections=args.connections))
        server_alive = server.poll() is None
        if server_alive:
            run.open_at_end = left_open(server.pid, store, port)
        f = figures(run, elapsed, samples, loads, built, store, config)
        if not server_alive:
            f["broken_rules"].append(f"the server exited ({server.returncode})")
            f["ok"] = False
    finally:
        stop(server)
    log_text = log_path.read_text(errors="replace")
    f["server_log_tail"] = log_text[-2000:]
    print_table(f)
    if not f["ok"] and log_text.strip():
        print("\nserver log (tail):\n" + log_text[-2000:])
    if args.json:
        args.json.write_text(json.dumps(f, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    if scratch is not None:
        shutil.rmtree(scratch, ignore_errors=True)
    else:
        log_path.unlink(missing_ok=True)
    return 0 if f["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
