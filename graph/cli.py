"""The `shilu` command: a thin layer where each verb calls one library function.

Exit codes: 0 success; 1 the command ran but some input failed (files that could not be read
during a build); 2 bad usage or input (unknown query, missing store, malformed SPARQL).
"""

from __future__ import annotations

import argparse
import csv
import io
import json
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
  shilu export --store data/store --format turtle -o shilu.ttl
  shilu eval ../shared/gold --store data/store --misses
  shilu serve --store data/store --port 7878

exit codes: 0 ok; 1 some input files failed (the rest was built); 2 usage or input error
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


def cmd_build(args: argparse.Namespace) -> int:
    from .build import build

    progress = not args.quiet and sys.stderr.isatty()
    report = build(args.corpus, args.store, progress=progress)
    if not args.quiet:
        print(report.summary(), file=sys.stderr)
    if report.articles == 0:
        raise CliError(f"no readable articles (*.md, *.txt) under {' '.join(map(str, args.corpus))}")
    return EXIT_PARTIAL if report.errors else EXIT_OK


def _open(store: str):
    from .store import StoreNotFound, open_store

    try:
        return open_store(store)
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
    store = _open(args.store)
    try:
        result = store.query(text, use_default_graph_as_union=True)
    except SyntaxError as e:
        raise CliError(f"{named.name}: malformed SPARQL: {e}") from None
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
    print(f"({len(rows)} row{'s' if len(rows) != 1 else ''})", file=sys.stderr)
    return EXIT_OK


def cmd_export(args: argparse.Namespace) -> int:
    from .export import export

    store = _open(args.store)
    if args.output and args.output != "-":
        with open(args.output, "wb") as f:
            export(store, args.format, f)
    else:
        sys.stdout.buffer.write(export(store, args.format))
        sys.stdout.flush()
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
    from .server import serve
    from .store import StoreNotFound, current_path

    try:
        current_path(args.store)
    except StoreNotFound as e:
        raise CliError(str(e)) from None
    if not args.quiet:
        print(f"shilu: SPARQL endpoint on http://{args.host}:{args.port}/sparql (store {args.store})",
              file=sys.stderr)
    serve(current_path(args.store), host=args.host, port=args.port, query_timeout=args.timeout)
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
        sp.add_argument("-q", "--quiet", action="store_true", help="print nothing but results and errors")
        return sp

    b = add("build", "Extract every article under CORPUS_DIR… and publish a new store.",
            "Article files are *.md and *.txt, searched recursively. The new store replaces the\n"
            "old one atomically (DIR/current), so readers never see a half-built store.\n"
            "example: shilu build ../shared/seeds ../shared/corpus/history --store data/store")
    b.add_argument("corpus", nargs="+", metavar="CORPUS_DIR", help="folders or files of articles")
    b.add_argument("--store", default="data/store", metavar="DIR", help="store directory (default: data/store)")
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

    e = add("export", "Write the whole graph in an RDF format.",
            "turtle, ntriples and rdfxml hold the union of all graphs; trig, nquads and jsonld\n"
            "keep one named graph per article. Output is byte-identical for identical input.\n"
            "example: shilu export --store data/store --format trig -o shilu.trig")
    e.add_argument("--store", default="data/store", metavar="DIR")
    e.add_argument("--format", choices=("turtle", "trig", "nquads", "ntriples", "jsonld", "rdfxml"), default="turtle")
    e.add_argument("-o", "--output", metavar="FILE", help="write here instead of standard output")
    e.set_defaults(func=cmd_export)

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
        print(f"shilu {args.command}: error: {e}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("shilu: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
