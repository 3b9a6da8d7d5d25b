"""A swappable handle on a read-only Oxigraph store.

The SPARQL server never keeps a bare :class:`pyoxigraph.Store` around: it asks a
:class:`StoreHandle` for the current :class:`Snapshot` once per request and uses that snapshot
for the whole request.  :meth:`StoreHandle.reopen` opens a store directory and replaces the
snapshot with a single reference assignment, so a rebuilt store can later be swapped in without
restarting the server: requests already running keep the snapshot they started with (and so the
old store stays open until they finish and the last reference is dropped), new requests see the
new one.

Opening read-only while another process writes the same directory is undefined behaviour in
Oxigraph; build a new store in a fresh directory and :meth:`~StoreHandle.reopen` onto it instead.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph

__all__ = ["Snapshot", "StoreHandle"]


@dataclass(frozen=True, slots=True)
class Snapshot:
    """One opened store and facts about it that do not change while it is open."""

    store: pyoxigraph.Store
    path: Path
    #: The store's named graph names (IRIs first, sorted), read once when the store was opened.
    graphs: tuple[pyoxigraph.NamedNode | pyoxigraph.BlankNode, ...]
    #: ``time.time()`` when the store was opened.
    opened_at: float

    @classmethod
    def open(cls, path: str | Path) -> Snapshot:
        """Open the store directory ``path`` read-only.

        :raises FileNotFoundError: if ``path`` is not a directory.
        :raises OSError: if Oxigraph cannot open it.
        """
        path = Path(path)
        if not path.is_dir():
            raise FileNotFoundError(f"no Oxigraph store directory at {path}")
        store = pyoxigraph.Store.read_only(str(path))
        graphs = tuple(
            sorted(
                store.named_graphs(),
                key=lambda g: (isinstance(g, pyoxigraph.BlankNode), g.value),
            )
        )
        return cls(store=store, path=path, graphs=graphs, opened_at=time.time())


class StoreHandle:
    """Holds the current :class:`Snapshot`; :meth:`reopen` swaps it atomically."""

    def __init__(self, path: str | Path) -> None:
        self._lock = threading.Lock()
        self._snapshot = Snapshot.open(path)

    @property
    def current(self) -> Snapshot:
        """The snapshot to use for one request (read once, then hold on to it)."""
        return self._snapshot

    def reopen(self, path: str | Path | None = None) -> Snapshot:
        """Open ``path`` (by default the current store's directory) and make it current.

        The new store is fully opened before it replaces the old one; if opening fails the
        old snapshot stays current and the error propagates.
        """
        with self._lock:
            new = Snapshot.open(self._snapshot.path if path is None else path)
            self._snapshot = new
            return new
