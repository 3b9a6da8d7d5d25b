"""The `shilu` command: a thin layer where each verb calls one library function.

Exit codes: 0 success; 1 the command ran but some input failed (files that could not be read
during a build); 2 bad usage or input (unknown query, missing store, malformed SPARQL, a file
that cannot be read or written); 3 ``build --strict`` stopped at a bad file; 130 interrupted.
Errors are one line on stderr, ``shilu COMMAND: error: …``, naming the file concerned;
``--verbose`` adds the traceback of unexpected errors and more detail on what was done.
"""

from __future__ import annotations

import argparse
import os
import sys
import unicodedata
from pathlib import Path

EXIT_OK, EXIT_PARTIAL, EXIT_USAGE = 0, 1, 2

EPILOG = """\
examples:
  shilu build ../shared/seeds ../shared/corpus/history --store data/store
  shilu query --list
  shilu query alliances --store data/store
  shilu query my-question.rq --format csv
  shilu query polity-timeline --param polity=金朝 --format csv
  shilu export --store data/store --format turtle -o shilu.ttl
  shilu export --store data/store --format neo4j-csv -o neo4j/
  shilu timeline 金朝 --store data/store -o jin.svg
  shilu neighbourhood 西夏 --store data/store -o xixia.svg
  shilu eval ../shared/gold --store data/store --misses
  shilu serve --store data/store --port 7878

every command takes -q/--quiet (only results and errors) and -v/--verbose (more detail,
tracebacks of unexpected errors).

exit codes:
  0    ok
  1    the build finished and was published, but some input files failed (listed)
  2    usage or input error: bad option, unknown query or name, no store, malformed SPARQL,
       a file that cannot be read or written (one line on stderr, naming the file)
  3    build --strict stopped at a bad file (nothing published)
  130  interrupted
"""


class CliError(Exception):
    """A one-line error for the user; no traceback."""


def _width(s: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in s)


def _pad(s: str, width: int) -> str:
    return s + " " * (width - _width(s))


def _term_text(term) -> str:
    if term is None:
        return ""
    from pyoxigraph import Literal, NamedNode

    if isinstance(term, NamedNode):
        from .rdf import PREFIXES

        v = term.value
        for prefix in ("res", "shilu", "src"):
            if v.startswith(PREFIXES[prefix]):
                return f"{prefix}:{v[len(PREFIXES[prefix]):]}"
        return v
    if isinstance(term, Literal):
        return term.value
    return str(term)


EXIT_ABORTED = 3  # `build --strict` stopped at a bad file; nothing published


def cmd_build(args: argparse.Namespace) -> int:
    from .build import BuildAborted, BuildError, StoreBusy, build

    import signal

    def terminate(signum, frame):  # SIGTERM: clean up like Ctrl-C (the previous store stays)
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, terminate)
    progress = not args.quiet and sys.stderr.isatty()
    try:
        report = build(args.corpus, args.store, progress=progress, jobs=args.jobs, strict=args.strict,
                       full=args.full, report_path=args.report,
                       max_file_bytes=int(args.max_file_mb * 1024 * 1024))
    except BuildAborted as e:
        if not args.quiet and e.report is not None:
            print(e.report.summary(), file=sys.stderr)
        print(f"shilu build: {e}", file=sys.stderr)
        return EXIT_ABORTED
    except BuildError as e:
        if not args.quiet and e.report is not None and e.report.errors:
            print(e.report.summary(), file=sys.stderr)
        raise CliError(f"{e} (under {' '.join(map(str, args.corpus))})") from None
    except StoreBusy as e:
        raise CliError(str(e)) from None
    except OSError as e:
        raise CliError(f"cannot build {args.store}: {e.strerror or e}") from None
    if not args.quiet:
        print(report.summary(), file=sys.stderr)
    return report.exit_code


def _open(store: str, opener=None):
    """``opener(store)`` (default: the Oxigraph store), with a missing or unreadable store as one
    line for the user."""
    from .store import StoreNotFound, open_store

    try:
        return (opener or open_store)(store)
    except StoreNotFound as e:
        raise CliError(str(e)) from None
    except OSError as e:
        raise CliError(f"cannot open store {store}: {e}") from None


def cmd_query(args: argparse.Namespace) -> int:
    from pyoxigraph import QueryBoolean, QueryResultsFormat, QuerySolutions, RdfFormat

    from .queries import list_queries, load_query, prefix_block

    if args.list:
        for q in list_queries():
            params = " ".join(f"--param {k}={v or '…'}" for k, v in q.params.items())
            print(f"{q.name:28} {q.title}" + (f"  [{params}]" if params else ""))
        return EXIT_OK
    if not args.query:
        raise CliError("give a query name or .rq file (shilu query --list shows the names)")
    if args.query.endswith(".rq") and not Path(args.query).is_file():
        raise CliError(f"{args.query}: no such query file")
    try:
        named = load_query(args.query)
        params = dict(p.split("=", 1) for p in args.param)
        text = named.render(**params)
    except (FileNotFoundError, KeyError) as e:
        raise CliError(str(e).strip('"')) from None
    except ValueError:
        raise CliError("--param takes NAME=VALUE") from None
    if "PREFIX" not in text.upper():
        text = prefix_block() + text
    if getattr(args, "verbose", False):
        print(text, file=sys.stderr)
    store = _open(args.store)
    try:
        result = store.query(text, use_default_graph_as_union=True)
    except SyntaxError as e:
        raise CliError(f"{args.query}: malformed SPARQL: {e}") from None
    out = sys.stdout
    if isinstance(result, QueryBoolean):
        print("true" if bool(result) else "false")
        return EXIT_OK
    if not isinstance(result, QuerySolutions):  # CONSTRUCT / DESCRIBE
        fmt = {"table": RdfFormat.TURTLE, "json": RdfFormat.JSON_LD, "csv": RdfFormat.N_TRIPLES,
               "tsv": RdfFormat.N_TRIPLES}[args.format]
        from .rdf import PREFIXES

        out.buffer.write(result.serialize(format=fmt, prefixes=PREFIXES if fmt is RdfFormat.TURTLE else None)
                         if hasattr(result, "serialize") else b"")
        return EXIT_OK
    if args.format in ("json", "csv", "tsv"):
        fmt = {"json": QueryResultsFormat.JSON, "csv": QueryResultsFormat.CSV,
               "tsv": QueryResultsFormat.TSV}[args.format]
        out.buffer.write(result.serialize(format=fmt))
        out.flush()
        return EXIT_OK
    names = [v.value for v in result.variables]
    rows = [[_term_text(sol[n]) for n in names] for sol in result]
    widths = [max([_width(n)] + [_width(r[i]) for r in rows]) for i, n in enumerate(names)]
    print("  ".join(_pad(n, w) for n, w in zip(names, widths)).rstrip())
    print("  ".join("-" * w for w in widths))
    for r in rows:
        print("  ".join(_pad(c, w) for c, w in zip(r, widths)).rstrip())
    if not args.quiet:
        print(f"({len(rows)} row{'s' if len(rows) != 1 else ''})", file=sys.stderr)
    return EXIT_OK


def _output_error(path: str, e: OSError) -> CliError:
    return CliError(f"{path}: cannot write: {e.strerror or e}")


def cmd_export(args: argparse.Namespace) -> int:
    from .export import export

    store = _open(args.store)
    to_file = bool(args.output and args.output != "-")
    if args.format == "neo4j-csv":
        from .propgraph import write_neo4j_csv

        if not to_file:
            raise CliError("--format neo4j-csv writes a folder: give -o DIR")
        if Path(args.output).exists() and not Path(args.output).is_dir():
            raise CliError(f"{args.output}: not a directory (neo4j-csv writes nodes.csv, edges.csv, import.cypher)")
        try:
            paths = write_neo4j_csv(store, args.output)
        except OSError as e:
            raise _output_error(e.filename or args.output, e) from None
        if args.verbose:
            for path in paths:
                print(f"shilu export: wrote {path}", file=sys.stderr)
        return EXIT_OK
    if args.format == "graphml":
        from .propgraph import graphml_bytes

        data = graphml_bytes(store)
    else:
        data = export(store, args.format)
    if to_file:
        try:
            with open(args.output, "wb") as f:
                f.write(data)
        except OSError as e:
            raise _output_error(args.output, e) from None
        if args.verbose:
            print(f"shilu export: wrote {len(data)} bytes to {args.output}", file=sys.stderr)
    else:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
    return EXIT_OK


def _graph(store: str):
    """The notebook API over ``store`` (for the picture commands)."""
    from .api import LocalGraph

    return _open(store, LocalGraph)


def _write_text(args: argparse.Namespace, text: str, what: str) -> None:
    if args.output and args.output != "-":
        try:
            Path(args.output).write_text(text, encoding="utf-8")
        except OSError as e:
            raise _output_error(args.output, e) from None
        if not args.quiet:
            print(f"shilu {args.command}: wrote {what} to {args.output}", file=sys.stderr)
    else:
        sys.stdout.write(text)
        sys.stdout.flush()


def cmd_timeline(args: argparse.Namespace) -> int:
    from .api import EntityNotFound
    from .timeline import timeline_svg

    kg = _graph(args.store)
    try:
        svg = timeline_svg(kg, args.name, rows=args.rows, script=args.script, width=args.width)
    except EntityNotFound as e:
        raise CliError(str(e)) from None
    _write_text(args, svg, f"the timeline of {args.name}")
    return EXIT_OK


def cmd_neighbourhood(args: argparse.Namespace) -> int:
    from .api import EntityNotFound
    from .timeline import neighbourhood_svg

    kg = _graph(args.store)
    kinds = set(args.kind) if args.kind else None
    try:
        svg = neighbourhood_svg(kg, args.name, script=args.script, limit=args.limit,
                                width=args.width, kinds=kinds)
    except EntityNotFound as e:
        raise CliError(str(e)) from None
    _write_text(args, svg, f"the neighbourhood of {args.name}")
    return EXIT_OK


def cmd_eval(args: argparse.Namespace) -> int:
    from .evaluate import GoldError, evaluate, format_report

    store = _open(args.store)
    try:
        report = evaluate(store, Path(args.gold_dir))
    except (GoldError, FileNotFoundError) as e:
        raise CliError(str(e)) from None
    print(format_report(report, misses=args.misses), end="")
    return EXIT_OK


def cmd_serve(args: argparse.Namespace) -> int:
    import os

    from .server import serve
    from .store import StoreNotFound, current_path

    try:
        current_path(args.store)
    except StoreNotFound as e:
        raise CliError(str(e)) from None
    update: dict[str, object] = {}
    if args.allow_update:
        token = args.update_token or os.environ.get("SHILU_UPDATE_TOKEN", "")
        if not token:
            raise CliError("--allow-update needs a token: give --update-token TOKEN or set "
                           "SHILU_UPDATE_TOKEN")
        if args.workers > 1:
            raise CliError("--allow-update needs --workers 1 (the store is opened read-write "
                           "by one process)")
        update = {"allow_update": True, "update_token": token}
    if not args.quiet:
        print(f"shilu: query page http://{args.host}:{args.port}/ , SPARQL endpoint "
              f"http://{args.host}:{args.port}/sparql (store {args.store})", file=sys.stderr)
        if update:
            print("shilu: SPARQL Update and Graph Store writes are ON (bearer token); they "
                  "write into the current generation (the next build rebuilds article graphs)",
                  file=sys.stderr)
    # the store directory itself, not its current generation: the server follows rebuilds
    serve(args.store, host=args.host, port=args.port, query_timeout=args.timeout, workers=args.workers,
          cache_bytes=args.cache_mb << 20, access_log=not args.quiet, **update)
    return EXIT_OK


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="shilu",
        description="實錄 shilu: build a knowledge graph of Chinese history from Chinese Wikipedia "
                    "articles (Markdown) and answer SPARQL over it.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--version", action="version", version=f"shilu {_version()}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    def add(name: str, help: str, epilog: str = "") -> argparse.ArgumentParser:
        sp = sub.add_parser(name, help=help, description=help, epilog=epilog,
                            formatter_class=argparse.RawDescriptionHelpFormatter)
        chatter = sp.add_mutually_exclusive_group()
        chatter.add_argument("-q", "--quiet", action="store_true", help="print nothing but results and errors")
        chatter.add_argument("-v", "--verbose", action="store_true",
                             help="say more about what is done; show tracebacks of unexpected errors")
        return sp

    b = add("build", "Extract every article under CORPUS_DIR… and publish a new store.",
            "Article files are *.md and *.txt in UTF-8 (UTF-16 is refused, with a hint), searched\n"
            "recursively. The new store replaces the old one atomically (DIR/current), so\n"
            "readers never see a half-built store; a killed build leaves the old one in place and\n"
            "the next build clears what it left. When the previous build's manifest shows that only\n"
            "some articles changed and the corpus lexicon did not, only those are extracted again.\n"
            "Every build writes its report to DIR/last-build.json (and to --report FILE).\n"
            "exit codes: 0 every file built; 1 built and published, but some files failed (listed);\n"
            "            2 usage error, no readable article, or another build holds DIR;\n"
            "            3 --strict stopped at a bad file (nothing published)\n"
            "example: shilu build ../shared/seeds ../shared/corpus/history --store data/store")
    b.add_argument("corpus", nargs="+", metavar="CORPUS_DIR", help="folders or files of articles")
    b.add_argument("--store", default="data/store", metavar="DIR", help="store directory (default: data/store)")
    b.add_argument("-j", "--jobs", type=int, default=0, metavar="N",
                   help="worker processes (default: all cores; 1: none); the output is the same for any N")
    mode = b.add_mutually_exclusive_group()
    mode.add_argument("--keep-going", dest="strict", action="store_false",
                      help="skip bad files, build the rest and list them (the default)")
    mode.add_argument("--strict", dest="strict", action="store_true",
                      help="stop at the first bad file, exit 3, publish nothing")
    b.set_defaults(strict=False)
    b.add_argument("--full", action="store_true", help="extract every article, even when an incremental build would do")
    b.add_argument("--report", metavar="FILE.json", help="also write the build report (JSON) here")
    b.add_argument("--max-file-mb", type=float, default=8.0, metavar="MB",
                   help="skip article files larger than this (default: 8)")
    b.set_defaults(func=cmd_build)

    q = add("query", "Run a named query or a SPARQL file against the store.",
            "The default graph is the union of all article graphs.\n"
            "examples:\n  shilu query --list\n  shilu query alliances\n  shilu query q.rq --format json")
    q.add_argument("query", nargs="?", metavar="NAME_OR_FILE", help="a name from --list, or a .rq file")
    q.add_argument("--store", default="data/store", metavar="DIR")
    q.add_argument("--format", choices=("table", "csv", "tsv", "json"), default="table")
    q.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                   help="bind a query parameter (repeatable)")
    q.add_argument("--list", action="store_true", help="list the named queries")
    q.set_defaults(func=cmd_query)

    e = add("export", "Write the whole graph in an RDF format, or as a property graph.",
            "turtle, ntriples and rdfxml hold the union of all graphs; trig, nquads and jsonld\n"
            "keep one named graph per article (ontology/context.jsonld is a JSON-LD context for\n"
            "the shilu terms). neo4j-csv writes nodes.csv, edges.csv and import.cypher into the\n"
            "folder -o DIR (Neo4j LOAD CSV); graphml one GraphML file (Gephi, yEd, APOC): things,\n"
            "events and articles as nodes, shortcut relations (CAPTURED, ALLIED_WITH…), event\n"
            "roles (AGENT, TARGET…) and provenance (TOLD_IN, MENTIONS) as edges; see docs/exports.md.\n"
            "Output is byte-identical for identical input.\n"
            "examples:\n  shilu export --store data/store --format trig -o shilu.trig\n"
            "  shilu export --store data/store --format neo4j-csv -o neo4j/\n"
            "  shilu export --store data/store --format graphml -o shilu.graphml")
    e.add_argument("--store", default="data/store", metavar="DIR")
    e.add_argument("--format", choices=("turtle", "trig", "nquads", "ntriples", "jsonld", "rdfxml",
                                        "neo4j-csv", "graphml"), default="turtle")
    e.add_argument("-o", "--output", metavar="FILE_OR_DIR",
                   help="write here instead of standard output (a folder for neo4j-csv)")
    e.set_defaults(func=cmd_export)

    t = add("timeline", "Draw the events of a polity (or any thing) on a time axis, as SVG.",
            "One row per event kind (or per counterpart with --rows counterpart), years along the\n"
            "axis, each event a dot coloured by the thing's role, labelled in Chinese, with the\n"
            "evidence sentence as its tooltip. NAME is any label or alias, in either script.\n"
            "example: shilu timeline 金朝 --store data/store -o jin.svg")
    t.add_argument("name", metavar="NAME", help="a polity (or any thing) by any of its names")
    t.add_argument("--store", default="data/store", metavar="DIR")
    t.add_argument("-o", "--output", metavar="FILE.svg", help="write here instead of standard output")
    t.add_argument("--rows", choices=("kind", "counterpart"), default="kind",
                   help="one row per event kind (default) or per counterpart")
    t.add_argument("--script", choices=("zh-Hant", "zh-Hans", "en"), default="zh-Hant",
                   help="script of names and kinds (default zh-Hant)")
    t.add_argument("--width", type=int, default=960, help="picture width in pixels")
    t.set_defaults(func=cmd_timeline)

    n = add("neighbourhood", "Draw a thing and what it shares events with (allies, enemies, places), as SVG.",
            "A radial picture: NAME in the middle, each counterpart on a circle around it, the\n"
            "edges labelled with the kinds of event (→ NAME acted, ← NAME was acted upon, ↔ allied)\n"
            "and their number. NAME is any label or alias, in either script.\n"
            "example: shilu neighbourhood 西夏 --store data/store -o xixia.svg")
    n.add_argument("name", metavar="NAME", help="a polity, person or place by any of its names")
    n.add_argument("--store", default="data/store", metavar="DIR")
    n.add_argument("-o", "--output", metavar="FILE.svg", help="write here instead of standard output")
    n.add_argument("--limit", type=int, default=24, help="most counterparts shown (default 24)")
    n.add_argument("--kind", action="append", metavar="KIND",
                   help="only events of this class, e.g. Alliance or Attack (repeatable)")
    n.add_argument("--script", choices=("zh-Hant", "zh-Hans", "en"), default="zh-Hant")
    n.add_argument("--width", type=int, default=760, help="picture width in pixels")
    n.set_defaults(func=cmd_neighbourhood)

    v = add("eval", "Score a store against gold annotations (entities and facts).",
            "Gold files are TSV in the format of ../shared/gold/README.md, named after the article\n"
            "they annotate. Prints precision, recall and F1 per article, class and relation.\n"
            "example: shilu eval ../shared/gold --store data/store --misses")
    v.add_argument("gold_dir", metavar="GOLD_DIR")
    v.add_argument("--store", default="data/store", metavar="DIR")
    v.add_argument("--misses", action="store_true", help="list every miss and every wrong answer")
    v.set_defaults(func=cmd_eval)

    s = add("serve", "Serve SPARQL 1.1 (and the store's resources) over HTTP.",
            "example: shilu serve --store data/store --port 7878\n"
            "then: curl 'http://127.0.0.1:7878/sparql?query=SELECT…'")
    s.add_argument("--store", default="data/store", metavar="DIR")
    s.add_argument("--host", default="127.0.0.1", help="interface to bind (default: loopback only)")
    s.add_argument("--port", type=int, default=7878)
    s.add_argument("--timeout", type=float, default=30.0, help="per-query time limit in seconds")
    s.add_argument("--workers", type=int, default=1,
                   help="server processes (default 1); 2 or more (up to the CPU count) serve "
                        "many concurrent clients faster, but each process follows rebuilds, "
                        "keeps its response cache and opens the store on its own, so two "
                        "connections may briefly see different generations after a build")
    s.add_argument("--cache-mb", type=int, default=64, help="response cache per store generation in MB (0: off)")
    s.add_argument("--allow-update", action="store_true",
                   help="accept SPARQL Update and Graph Store Protocol writes (off by default); "
                        "they need 'Authorization: Bearer TOKEN' and write into the current "
                        "generation (the next build rebuilds the article graphs)")
    s.add_argument("--update-token", metavar="TOKEN",
                   help="the bearer token writes must send (default: $SHILU_UPDATE_TOKEN)")
    s.set_defaults(func=cmd_serve)
    return p


def _version() -> str:
    from .. import __version__

    return __version__


def main(argv: list[str] | None = None) -> int:
    p = parser()
    args = p.parse_args(argv)
    if not getattr(args, "func", None):
        p.print_help()
        return EXIT_USAGE
    try:
        return args.func(args)
    except CliError as e:
        message = " ".join(str(e).split())  # one line, even for the parser's long messages
        if len(message) > 400 and not getattr(args, "verbose", False):
            message = message[:399] + "…"
        print(f"shilu {args.command}: error: {message}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("shilu: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `shilu query … | head`: the reader left; not an error
        try:
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - silence the flush at exit
        except OSError:
            pass
        return EXIT_OK
    except OSError as e:  # a file the command could not read or write: one line, naming it
        if getattr(args, "verbose", False):
            raise
        where = f"{e.filename}: " if e.filename else ""
        print(f"shilu {args.command}: error: {where}{e.strerror or e}", file=sys.stderr)
        return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
