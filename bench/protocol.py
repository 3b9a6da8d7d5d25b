"""The server's own Python work for one small `GET /sparql`, without sockets or the engine.

    .venv/bin/python bench/protocol.py --store S                 # S: a built store
    PYTHONPATH=OTHER .venv/bin/python bench/protocol.py --store S  # another checkout

`bench/endpoint.py` measures whole requests over loopback, where the kernel, the clients and the
engine share the two cores with the server and other load moves every figure. This feeds the
bytes of one request straight into the HTTP protocol `shilu serve` runs (a fake transport that
keeps what is written), with the evaluation replaced by its result, and prints the CPU time a
request takes (best and median of ``--rounds`` rounds of ``--requests``): what the server's
Python (and uvicorn's parser) costs for a query already known to be quick, with the response
cache off, as in the bench's ``shilu-nocache``. It also prints what evaluating and serialising
the query costs pyoxigraph alone, for scale.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from urllib.parse import urlencode

QUERY = """PREFIX res: <https://w3id.org/shilu/resource/>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
SELECT ?label WHERE { res:金朝 rdfs:label ?label }"""


class _Transport:
    """What the protocol needs of an asyncio transport; keeps the last write."""

    def __init__(self) -> None:
        self.writes = 0
        self.last = b""

    def write(self, data: bytes) -> None:
        self.writes += 1
        self.last = data

    def get_extra_info(self, name: str, default=None):
        return {"sockname": ("127.0.0.1", 8000), "peername": ("127.0.0.1", 50000)}.get(name, default)

    def is_closing(self) -> bool:
        return False

    def pause_reading(self) -> None: ...

    def resume_reading(self) -> None: ...

    def close(self) -> None: ...


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--store", required=True, help="a store directory made by shilu build")
    ap.add_argument("--requests", type=int, default=20_000, help="requests a round (default 20,000)")
    ap.add_argument("--rounds", type=int, default=5, help="rounds (default 5)")
    args = ap.parse_args(argv)

    import pyoxigraph
    import uvloop
    from uvicorn.config import Config
    from uvicorn.server import ServerState

    from shilu.graph import server

    loop = uvloop.new_event_loop()
    asyncio.set_event_loop(loop)
    server._INLINE_BELOW = 60.0  # the first evaluation counts as quick however loaded the machine
    app = server.create_app(args.store, cache_bytes=0)
    protocol_class = server._http_protocol()
    config = Config(app=app, http=protocol_class, log_level="warning", access_log=False)
    config.load()
    state = ServerState()
    state.default_headers = [(b"date", b"Mon, 23 Nov 2026 23:00:00 GMT"), (b"server", b"uvicorn")]
    protocol = protocol_class(config=config, server_state=state, app_state={}, _loop=loop)
    transport = _Transport()
    protocol.connection_made(transport)
    request = (f"GET /sparql?{urlencode({'query': QUERY})} HTTP/1.1\r\nHost: 127.0.0.1:8000\r\n"
               "Accept: application/sparql-results+json\r\n\r\n").encode()

    protocol.data_received(request)  # the first time: evaluated in a worker thread, timed
    loop.run_until_complete(asyncio.sleep(0.5))
    protocol.data_received(request)  # now known to be quick: answered by the protocol itself
    if transport.writes != 2:
        raise SystemExit(f"the second request was not answered at once ({transport.writes} writes)")
    answer = transport.last
    if not answer.startswith(b"HTTP/1.1 200"):
        raise SystemExit(answer[:200].decode(errors="replace"))

    store = app.sparql.handle.current.store
    evaluate = lambda: store.query(QUERY, use_default_graph_as_union=True).serialize(  # noqa: E731
        format=pyoxigraph.QueryResultsFormat.JSON)
    body = evaluate()
    real = server._execute
    fmt = server._negotiate_query(False, "application/sparql-results+json", None, "SELECT results")

    def rounds(fn) -> list[float]:
        out = []
        for _ in range(args.rounds):
            t0 = time.process_time()
            for _ in range(args.requests):
                fn()
            out.append((time.process_time() - t0) / args.requests * 1e6)
        return out

    server._execute = lambda *a, **k: (body, fmt)  # the engine's part replaced by its answer
    try:
        python = rounds(lambda: protocol.data_received(request))
    finally:
        server._execute = real
    if transport.last[transport.last.index(b"\r\n\r\n"):] != answer[answer.index(b"\r\n\r\n"):]:
        raise SystemExit("the stubbed answer differs from the real one")
    engine = rounds(evaluate)
    print(f"{len(request)}-byte request, {len(answer)}-byte answer; CPU µs a request, best / median of "
          f"{args.rounds} × {args.requests:,}:")
    print(f"  server's Python (protocol, endpoint, headers; evaluation stubbed) "
          f"{min(python):6.1f} / {statistics.median(python):6.1f}")
    print(f"  pyoxigraph alone (query + JSON serialisation)                   "
          f"{min(engine):6.1f} / {statistics.median(engine):6.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
