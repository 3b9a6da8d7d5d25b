"""Beyond one machine: `shilu build` as a Dask job (see docs/scale.md).

    python -m shilu.graph.distributed CORPUS... --out PARTS [--scheduler tcp://HOST:8786]
                                      [--store DIR] [--gsp URL --gsp-token TOKEN]

The same two passes as `shilu build` (graph/build.py), with `dask.distributed` doing the
scheduling, so one program runs unchanged on a `LocalCluster` (no ``--scheduler``: worker
processes on this machine) and on a real cluster (``--scheduler``: the address of a running
``dask scheduler``, whose workers see the corpus and ``--out`` at the same paths, i.e. a shared
file system):

1. **Map, pass 1.** The sorted article files (`build.find_articles`) are cut into partitions of
   ``--partition`` files; a task per partition reads, hashes and parses its files and reads
   each for the lexicon (`build._pass1`, the very function the local build's workers run). The
   readings stay on the workers.
2. **Reduce.** One task, on a worker, takes every partition's readings in file order, drops the
   files the build would drop (unreadable, a second file of one name), and builds the
   corpus-wide `Lexicon` exactly as the local build does (`extract.lexicon_from_readings`): same
   input, same order, same lexicon. The client only ever holds
   the per-file verdicts (a digest or a reason), never article text.
3. **Broadcast.** The lexicon is replicated to every worker once (`Client.replicate`); each
   worker builds the name automaton once, on its first partition, and keeps it.
4. **Map, pass 2.** A task per partition extracts its articles (`build._pass2`: parse, extract,
   N-Quads) and writes them, in file order, to ``OUT/part-NNNNN.nq.gz`` (written to a temporary
   name and renamed, so a retried task never leaves half a part). One named graph per article,
   as in the local build.
5. **Load** (optional): ``--store DIR`` bulk-loads the parts, in order, into a new generation of
   a shilu store (streamed: each part as soon as it and those before it are written, while the
   workers go on extracting) and publishes it (graph/store.py: lock, generation, atomic ``current`` switch),
   with a build manifest, so ``shilu serve --store DIR`` serves it and a later ``shilu build`` of
   the same corpus finds it up to date. ``--gsp URL`` sends each article graph with an HTTP
   ``PUT URL?graph=IRI`` (SPARQL 1.1 Graph Store Protocol; a task per part, from the workers),
   e.g. to ``shilu serve --allow-update`` or to Fuseki's ``/DATASET/data``. Without either, it
   prints how to bulk-load the parts into Oxigraph, QLever, Virtuoso or Fuseki.

The parts concatenated in order are byte for byte the N-Quads stream the local build loads; the
store holds the same quads as ``shilu build --full`` of the same files (tests/test_distributed.py).
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import pickle
import shutil
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph

from ..extract import default_resources, lexicon_from_readings
from . import build as _build
from .build import (DEFAULT_MAX_FILE_BYTES, MANIFEST_FORMAT, FileError, code_fingerprint,
                    find_articles, lexicon_fingerprint, source_id)
from .store import generation_manifest, lock_store, new_generation, publish, tidy

__all__ = ["DistributedReport", "run", "load_store", "load_gsp", "loader_commands", "main"]

PART_GLOB = "part-*.nq.gz"
DEFAULT_PARTITION = 200
SUMMARY = "distributed.json"


@dataclass
class DistributedReport:
    files: int = 0
    articles: int = 0
    quads: int = 0
    events: int = 0
    bytes: int = 0
    parts: list[str] = field(default_factory=list)
    part_bytes: int = 0
    errors: list[FileError] = field(default_factory=list)
    workers: int = 0
    scheduler: str = ""
    phases: dict[str, float] = field(default_factory=dict)
    seconds: float = 0.0
    store: str = ""
    generation: str = ""
    triples: int = 0
    resources: int = 0
    gsp_graphs: int = 0
    lexicon_bytes: int = 0  # pickled, as broadcast
    reduce_rss: int = 0  # peak RSS of the worker that built the lexicon

    @property
    def exit_code(self) -> int:
        return 1 if self.errors else 0

    def summary(self) -> str:
        lines = [f"extracted {self.articles} articles ({self.quads} quads, {self.events} events) into "
                 f"{len(self.parts)} parts ({self.part_bytes / 1e6:.1f} MB gzip) on {self.workers} workers "
                 f"({self.scheduler}) in {self.seconds:.1f} s"]
        lines.append("phases: " + ", ".join(f"{k} {v:.1f} s" for k, v in self.phases.items()))
        if self.store:
            lines.append(f"loaded into {self.store} ({self.generation}): {self.triples} distinct triples, "
                         f"{self.resources} resources")
        if self.gsp_graphs:
            lines.append(f"sent {self.gsp_graphs} graphs by the Graph Store Protocol")
        if self.errors:
            lines.append(f"{len(self.errors)} file(s) could not be built:")
            lines.extend(f"  {e}" for e in self.errors)
        return "\n".join(lines)

    def to_json(self) -> dict:
        return {
            "files": self.files, "articles": self.articles, "quads": self.quads, "events": self.events,
            "bytes": self.bytes, "parts": self.parts, "part_bytes": self.part_bytes,
            "workers": self.workers, "scheduler": self.scheduler, "seconds": round(self.seconds, 3),
            "phases": {k: round(v, 3) for k, v in self.phases.items()},
            "store": self.store, "generation": self.generation, "triples": self.triples,
            "resources": self.resources, "gsp_graphs": self.gsp_graphs,
            "lexicon_bytes": self.lexicon_bytes, "reduce_rss": self.reduce_rss,
            "errors": [{"path": e.path, "reason": e.reason} for e in self.errors],
        }


# --- tasks (run on the workers) ---------------------------------------------------------------

def _readings(batch: list[tuple[int, str, int]]) -> list[tuple]:
    """Pass 1 of one partition: `build._pass1`'s (index, digest | None, payload) per file."""
    return _build._pass1(batch)


def _verdicts(results: list[tuple]) -> list[tuple]:
    """What the client needs of a partition's pass 1: (index, digest | None, reason | size)."""
    return [(i, d, p if d is None else p[2]) for i, d, p in results]


class SharedLexicon:
    """The lexicon as it travels between workers: pickled without its name automaton (large,
    and rebuilt from the lexicon in a second), built once per worker process on first use."""

    def __init__(self, lexicon, fingerprint: str):
        self.lexicon = lexicon
        self.fingerprint = fingerprint

    def __getstate__(self) -> dict:
        import copy

        light = copy.copy(self.lexicon)
        light._matcher = None
        return {"lexicon": light, "fingerprint": self.fingerprint}

    def ready(self):
        if self.lexicon._matcher is None:
            self.lexicon.matcher(default_resources().class_rules)
        return self.lexicon


def _reduce(keep: list[int], *partitions: list[tuple]) -> SharedLexicon:
    """The corpus lexicon from the readings of the files in ``keep``, in file order: what
    `build._build` does between its two passes."""
    wanted = set(keep)
    readings = [pickle.loads(payload[0]) for part in partitions  # readings come pickled
                for index, digest, payload in part if digest is not None and index in wanted]
    lexicon = lexicon_from_readings(readings, default_resources())
    del readings
    return SharedLexicon(lexicon, lexicon_fingerprint(lexicon))


def _about(shared: SharedLexicon) -> tuple[str, int, int]:
    """The lexicon's fingerprint, its pickled size, and the peak RSS of the reducing worker."""
    import pickle
    import resource

    size = len(pickle.dumps(shared, protocol=pickle.HIGHEST_PROTOCOL))
    return shared.fingerprint, size, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _extract_part(number: int, batch: list[tuple[int, str, str, int]], shared: SharedLexicon,
                  out_dir: str) -> list[tuple]:
    """Pass 2 of one partition into ``out_dir/part-NNNNN.nq.gz``; (index, quads, events) or
    (index, None, reason) per file."""
    lexicon = shared.ready()
    _build._WORKER["lexicon"] = lexicon  # what build._pass2 reads (the same object on every call)
    results = _build._pass2(batch)
    final = Path(out_dir) / f"part-{number:05d}.nq.gz"
    tmp = final.with_name(f".{final.name}.{os.getpid()}.{id(batch)}.tmp")
    with open(tmp, "wb") as raw:
        # mtime=0: the same input gives the same bytes
        with gzip.GzipFile(filename="", mode="wb", fileobj=raw, compresslevel=1, mtime=0) as gz:
            for _index, data, _payload in results:
                if data is not None:
                    gz.write(data)
        raw.flush()
        os.fsync(raw.fileno())
    os.replace(tmp, final)
    return [(i, None, p) if data is None else (i, p[0], p[1]) for i, data, p in results]


def _put_graphs(part: str, url: str, token: str | None, timeout: float) -> int:
    """Send each named graph of one part with ``PUT url?graph=IRI`` (N-Triples); the count."""
    graphs: dict[str, list[pyoxigraph.Triple]] = {}
    with gzip.open(part, "rb") as f:
        for q in pyoxigraph.parse(f, format=pyoxigraph.RdfFormat.N_QUADS):
            if isinstance(q.graph_name, pyoxigraph.NamedNode):
                graphs.setdefault(q.graph_name.value, []).append(q.triple)
            else:
                raise ValueError(f"{part}: a quad outside a named graph")
    sep = "&" if "?" in url else "?"
    for iri, triples in graphs.items():
        body = pyoxigraph.serialize(triples, format=pyoxigraph.RdfFormat.N_TRIPLES)
        req = urllib.request.Request(f"{url}{sep}graph={urllib.parse.quote(iri, safe='')}", data=body,
                                     method="PUT", headers={"Content-Type": "application/n-triples"})
        if token:
            req.add_header("Authorization", f"Bearer {token}")
        try:
            with urllib.request.urlopen(req, timeout=timeout) as r:
                r.read()
        except urllib.error.HTTPError as e:
            raise RuntimeError(f"PUT <{iri}> to {url}: HTTP {e.code} {e.read()[:200]!r}") from None
    return len(graphs)


# --- the job ----------------------------------------------------------------------------------

def _client(scheduler: str | None, workers: int, threads: int, memory_limit: str | None):
    from dask.distributed import Client, LocalCluster

    if scheduler:
        return Client(scheduler), None
    cluster = LocalCluster(n_workers=workers, threads_per_worker=threads, processes=True,
                           dashboard_address=None, memory_limit=memory_limit)
    return Client(cluster), cluster


def _log(quiet: bool, msg: str) -> None:
    if not quiet:
        print(f"shilu.distributed: {msg}", file=sys.stderr, flush=True)


def run(paths: Iterable[str | Path], out_dir: str | Path, *, client=None, scheduler: str | None = None,
        workers: int = 2, threads: int = 1, memory_limit: str | None = "auto",
        partition: int | None = None, store: str | Path | None = None, gsp: str | None = None,
        gsp_token: str | None = None, gsp_timeout: float = 120.0,
        max_file_bytes: int = DEFAULT_MAX_FILE_BYTES, quiet: bool = True) -> DistributedReport:
    """Extract the articles under ``paths`` into N-Quads parts in ``out_dir`` on a Dask cluster,
    then optionally load them into the shilu store ``store`` and/or send them to the Graph Store
    Protocol endpoint ``gsp``. ``client``: a `dask.distributed.Client` to use; else one on
    ``scheduler`` (an address), else on a new `LocalCluster` of ``workers`` processes of
    ``threads`` threads (closed at the end). Raises `BuildError` when no article could be built.
    """
    started = time.perf_counter()
    out = Path(out_dir).resolve()
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob(PART_GLOB):  # parts of an earlier run would be loaded with these
        old.unlink()
    report = DistributedReport()
    own = client is None
    cluster = None
    if own:
        client, cluster = _client(scheduler, workers, threads, memory_limit)
    try:
        report.scheduler = client.scheduler_info()["address"]
        report.workers = len(client.scheduler_info()["workers"])
        report.phases["cluster"] = time.perf_counter() - started

        t0 = time.perf_counter()
        files, errors = find_articles(paths)
        files = [f.absolute() for f in files]  # the workers' working directory may differ
        report.files = len(files)
        report.errors.extend(errors)
        items = [(i, str(p), max_file_bytes) for i, p in enumerate(files)]
        if not partition:  # a few partitions per worker, for balance; at most DEFAULT_PARTITION files
            partition = max(1, min(DEFAULT_PARTITION, -(-len(items) // (4 * max(1, report.workers)))))
        batches = [items[i:i + partition] for i in range(0, len(items), partition)]
        report.phases["scan"] = time.perf_counter() - t0
        _log(quiet, f"{len(files)} files in {len(batches)} partitions on {report.workers} workers")

        # 1. map: lexicon readings, kept on the workers; only the verdicts come back
        t0 = time.perf_counter()
        readings = client.map(_readings, batches, pure=False)
        verdicts = client.gather(client.map(_verdicts, readings, pure=False))
        seen: dict[str, str] = {}
        keep: list[int] = []
        digests: dict[int, str] = {}
        for part in verdicts:
            for index, digest, extra in part:
                path = str(files[index])
                if digest is None:
                    report.errors.append(FileError(path, extra))
                    continue
                sid = source_id(files[index])
                if sid in seen:
                    report.errors.append(FileError(path, f"same name as {seen[sid]}: one named graph per file name"))
                    continue
                seen[sid] = path
                keep.append(index)
                digests[index] = digest
                report.bytes += extra
        report.phases["pass 1 (map)"] = time.perf_counter() - t0
        if not keep:
            raise _build.BuildError("no article could be built" + (
                f": {len(report.errors)} file(s) failed, the first {report.errors[0]}" if report.errors else
                " (no *.md or *.txt files)"))

        # 2. reduce on a worker, 3. broadcast
        t0 = time.perf_counter()
        lexicon = client.submit(_reduce, keep, *readings, pure=False)
        lexicon_fp, report.lexicon_bytes, report.reduce_rss = client.submit(_about, lexicon, pure=False).result()
        del readings
        report.phases["lexicon (reduce)"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        client.replicate([lexicon])
        report.phases["broadcast"] = time.perf_counter() - t0
        _log(quiet, "lexicon built and broadcast")

        # 4. map: extraction into parts; with ``store``, each part is bulk-loaded (in order) as
        # soon as it and those before it are written, while the workers go on extracting
        t0 = time.perf_counter()
        todo = [[(i, p, digests[i], m) for i, p, m in b if i in digests] for b in batches]
        numbers = [n for n, b in enumerate(todo) if b]
        futures = client.map(_extract_part, numbers, [todo[n] for n in numbers], shared=lexicon,
                             out_dir=str(out), pure=False)
        entries: dict[str, dict] = {}
        manifest: dict = {}

        def finished() -> Iterator[str]:
            """Each part, in order, once written; its verdicts into ``entries``."""
            for n, future in zip(numbers, futures):
                part = future.result()
                report.parts.append(str(out / f"part-{n:05d}.nq.gz"))
                for index, quads, extra in part:
                    path = str(files[index])
                    if quads is None:
                        report.errors.append(FileError(path, extra))
                        continue
                    entries[source_id(files[index])] = {"path": path, "sha256": digests[index],
                                                        "quads": quads, "events": extra}
                yield report.parts[-1]

        def outcome() -> dict:
            report.articles = len(entries)
            report.quads = sum(e["quads"] for e in entries.values())
            report.events = sum(e["events"] for e in entries.values())
            report.part_bytes = sum(os.path.getsize(p) for p in report.parts)
            _log(quiet, f"{report.articles} articles, {report.quads} quads in {len(report.parts)} parts")
            if not entries:
                raise _build.BuildError(f"no article could be built: {len(report.errors)} file(s) failed, "
                                        f"the first {report.errors[0]}")
            manifest.update({"format": MANIFEST_FORMAT, "code": code_fingerprint(), "lexicon": lexicon_fp,
                             "articles": report.articles, "quads": report.quads, "events": report.events,
                             "files": dict(sorted(entries.items()))})
            return manifest

        if store:
            load_store(finished(), store, manifest=outcome, report=report)
            report.phases["pass 2 (map) + bulk_load"] = time.perf_counter() - t0
        else:
            for _ in finished():
                pass
            outcome()
            report.phases["pass 2 (map)"] = time.perf_counter() - t0
        del lexicon, futures

        # 5. the Graph Store Protocol, from the workers
        if gsp:
            t0 = time.perf_counter()
            counts = client.gather(client.map(_put_graphs, report.parts, url=gsp, token=gsp_token,
                                              timeout=gsp_timeout, pure=False))
            report.gsp_graphs = sum(counts)
            report.phases["gsp"] = time.perf_counter() - t0
    finally:
        if own:
            client.close()
            if cluster is not None:
                cluster.close()
    report.seconds = time.perf_counter() - started
    data = report.to_json()
    data["manifest"] = {k: v for k, v in manifest.items() if k != "files"}
    (out / SUMMARY).write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return report


def _chunks(parts: Iterable[str | Path], size: int = 1 << 20) -> Iterator[bytes]:
    for p in parts:
        with (gzip.open(p, "rb") if str(p).endswith(".gz") else open(p, "rb")) as f:
            while chunk := f.read(size):
                yield chunk


def load_store(parts: Iterable[str | Path], store_dir: str | Path, *,
               manifest: dict | Callable[[], dict] | None = None,
               report: DistributedReport | None = None) -> Path:
    """Bulk-load the N-Quads ``parts`` (gzipped or not; in order, as one stream; ``parts`` may be
    a generator that yields each part when it is ready) into a new generation of the shilu store
    ``store_dir`` and publish it. ``manifest`` (a build manifest, or a function called once the
    parts are loaded that returns one) lets a later ``shilu build`` of the same corpus reuse the
    generation. Nothing is published if anything fails. Returns the generation."""
    store_dir = Path(store_dir)
    with lock_store(store_dir):
        tidy(store_dir)
        generation = new_generation(store_dir)
        try:
            store = pyoxigraph.Store(str(generation))
            feeder = _build._Feeder(_chunks(parts))
            stream = _build._NQuadsStream(feeder)
            feeder.start()
            try:
                store.bulk_load(stream, format=pyoxigraph.RdfFormat.N_QUADS, lenient=True)
            except BaseException:
                real = feeder.error or stream.error  # bulk_load reports it as a mere I/O error
                if real is not None:
                    raise real from None
                raise
            finally:
                feeder.stop()
            store.flush()
            if callable(manifest):
                manifest = manifest()
            triples = _build._count(store, "SELECT (COUNT(*) AS ?n) WHERE { SELECT DISTINCT ?s ?p ?o WHERE "
                                           "{ GRAPH ?g { ?s ?p ?o } } }")
            resources = _build._count(store, "SELECT (COUNT(DISTINCT ?r) AS ?n) WHERE { GRAPH ?g { ?d "
                                             "<https://w3id.org/shilu/ontology#mentions> ?r } }")
            del store
            if manifest is not None:
                manifest.update(triples=triples, resources=resources)
                _build._write_json(generation_manifest(store_dir, generation.name), manifest)
        except BaseException:
            shutil.rmtree(generation, ignore_errors=True)
            generation_manifest(store_dir, generation.name).unlink(missing_ok=True)
            raise
        publish(store_dir, generation)
    if report is not None:
        report.store, report.generation = str(store_dir), generation.name
        report.triples, report.resources = triples, resources
    return generation


def load_gsp(parts: list[str | Path], url: str, token: str | None = None, timeout: float = 120.0) -> int:
    """`_put_graphs` over ``parts`` in this process (no cluster); the number of graphs sent."""
    return sum(_put_graphs(str(p), url, token, timeout) for p in parts)


def loader_commands(out_dir: str | Path) -> str:
    """How to bulk-load the parts into other stores (see docs/scale.md for more)."""
    out = Path(out_dir).resolve()
    return f"""The parts are gzipped N-Quads, one named graph per article: {out}/{PART_GLOB}
  Oxigraph:           oxigraph load --location DB --lenient --file {out}/{PART_GLOB}
                      (or this tool's --store DIR, a shilu store for `shilu serve`)
  QLever (Qleverfile): FORMAT = nq, INPUT_FILES = {out}/{PART_GLOB},
                       CAT_INPUT_FILES = zcat ${{INPUT_FILES}}; then `qlever index` and `qlever start`
  Virtuoso (isql):    ld_dir('{out}', '{PART_GLOB}', 'urn:shilu:default'); rdf_loader_run(); checkpoint;
                      (the folder must be in DirsAllowed of virtuoso.ini)
  Fuseki (TDB2):      tdb2.tdbloader --loc DB {out}/{PART_GLOB}   (or tdb2.xloader --loc DB ... into an empty DB)
                      then fuseki-server --loc=DB /shilu
  Any SPARQL 1.1 Graph Store Protocol endpoint: this tool's --gsp URL"""


# --- command line -----------------------------------------------------------------------------

def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m shilu.graph.distributed",
        description="Extract articles to N-Quads parts as a Dask job (a LocalCluster, or the cluster at "
                    "--scheduler), then optionally bulk-load them into a shilu store or send them to a "
                    "SPARQL 1.1 Graph Store Protocol endpoint. See docs/scale.md.")
    p.add_argument("corpus", nargs="+", metavar="CORPUS_DIR", help="folders or files of articles")
    p.add_argument("--out", required=True, metavar="DIR",
                   help="where the N-Quads parts go (on a cluster: a path every worker can write)")
    p.add_argument("--scheduler", metavar="ADDR", help="a running Dask scheduler, e.g. tcp://host:8786 "
                                                        "(default: a LocalCluster on this machine)")
    p.add_argument("--workers", type=int, default=2, metavar="N", help="LocalCluster worker processes (default 2)")
    p.add_argument("--threads", type=int, default=1, metavar="N", help="LocalCluster threads per worker (default 1)")
    p.add_argument("--memory-limit", default="auto", metavar="SIZE",
                   help="LocalCluster memory limit per worker, e.g. 4GB; 0 for none (default: auto)")
    p.add_argument("--partition", type=int, default=0, metavar="N",
                   help=f"articles per task and per part file (default: 4 tasks a worker, at most "
                        f"{DEFAULT_PARTITION} articles each)")
    p.add_argument("--store", metavar="DIR", help="bulk-load the parts into this shilu store (a new generation)")
    p.add_argument("--gsp", metavar="URL", help="PUT each article graph to this Graph Store Protocol "
                                                 "endpoint, e.g. http://127.0.0.1:7878/rdf-graphs/service")
    p.add_argument("--gsp-token", metavar="TOKEN",
                   help="bearer token for --gsp (default: the environment variable SHILU_UPDATE_TOKEN)")
    p.add_argument("--max-file-mb", type=float, default=DEFAULT_MAX_FILE_BYTES / 1024 / 1024, metavar="MB")
    p.add_argument("-q", "--quiet", action="store_true", help="print nothing but the summary")
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    limit = None if args.memory_limit in ("0", "none") else args.memory_limit
    try:
        report = run(args.corpus, args.out, scheduler=args.scheduler, workers=args.workers,
                     threads=args.threads, memory_limit=limit, partition=max(0, args.partition),
                     store=args.store, gsp=args.gsp,
                     gsp_token=args.gsp_token or os.environ.get("SHILU_UPDATE_TOKEN"),
                     max_file_bytes=int(args.max_file_mb * 1024 * 1024), quiet=args.quiet)
    except (_build.BuildError, _build.StoreBusy, OSError, RuntimeError) as e:
        print(f"shilu.distributed: {e}", file=sys.stderr)
        return 2
    print(report.summary())
    if not args.store and not args.gsp:
        print(loader_commands(args.out))
    return report.exit_code


if __name__ == "__main__":
    # run as the imported module, so tasks and classes pickle by reference (shilu.graph.distributed.X),
    # not by value from __main__
    from shilu.graph.distributed import main as _main

    sys.exit(_main())
