"""A swappable handle on a read-only Oxigraph store that follows ``shilu build``.

The server never keeps a bare :class:`pyoxigraph.Store` around: it asks a :class:`StoreHandle`
for the current :class:`Snapshot` once per request and uses that snapshot for the whole request.
A new snapshot replaces the old one with a single reference assignment, so requests already
running keep the snapshot they started with (the old store stays open until they finish and the
last reference is dropped) while new requests see the new one.

A handle is created on either

* a **shilu store directory** (``DIR`` with ``DIR/current -> gen-NNNNNN``, see
  :mod:`shilu.graph.store`): the handle opens what ``current`` points at and *follows* it.  At
  most once every ``check_interval`` seconds, on a request, it reads the link (one ``readlink``
  system call); when ``shilu build`` has published a new generation, a background thread opens it
  and swaps it in once it is open, and requests are answered from the old generation meanwhile,
  so no request waits for the (tens of milliseconds) open or fails during the switch; or
* a **plain Oxigraph directory**: opened once and never re-checked.

A handle created with ``writable=True`` (the server's ``--allow-update``) opens each
generation read-write (``pyoxigraph.Store(path)``, which locks the directory: one process
only) instead of read-only.  Writes (SPARQL Update, Graph Store Protocol) go into the current
generation; the next ``shilu build`` rebuilds every article graph in a new one (changes
to them are lost).  After each write
the server calls :meth:`StoreHandle.written`, which swaps in a new :class:`Snapshot` of the same
store (fresh response cache, new generation token for ETags), so no stale response is served.

:meth:`StoreHandle.refresh` does the same check synchronously; :meth:`StoreHandle.reopen` points
the handle at another directory.

Opening read-only while another process writes the same directory is undefined behaviour in
Oxigraph; ``shilu build`` always writes a fresh ``gen-*`` directory and only then moves
``current``, which is what makes following it safe.  ``publish`` deletes generations older than
the previous one; a snapshot still open on a deleted generation keeps answering (its files stay
readable while open, on POSIX systems) until its last request finishes.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import pyoxigraph

from .store import CURRENT, current_path

__all__ = ["ResponseCache", "Snapshot", "StoreHandle"]

log = logging.getLogger(__name__)

T = TypeVar("T")


class ResponseCache:
    """A byte-bounded LRU cache of ``(body, info)`` pairs, owned by one :class:`Snapshot`.

    ``info`` is what the caller needs besides the body (a content type, a resolved IRI).

    The store is immutable while a generation is current, so a response computed once is valid
    until the snapshot is replaced, and dropping the snapshot drops its cache.  Thread-safe.
    """

    def __init__(self, max_bytes: int, max_entry: int | None = None) -> None:
        self.max_bytes = max_bytes
        self.max_entry = max_bytes // 8 if max_entry is None else max_entry
        self._entries: OrderedDict[Hashable, tuple[bytes, str]] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def get(self, key: Hashable) -> tuple[bytes, str] | None:
        """``(body, info)`` for ``key``, or None."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                self.misses += 1
                return None
            self._entries.move_to_end(key)
            self.hits += 1
            return entry

    def put(self, key: Hashable, body: bytes, info: str) -> None:
        if len(body) > self.max_entry or self.max_bytes <= 0:
            return
        with self._lock:
            old = self._entries.pop(key, None)
            if old is not None:
                self._size -= len(old[0])
            self._entries[key] = (body, info)
            self._size += len(body)
            while self._size > self.max_bytes and self._entries:
                _, (evicted, _) = self._entries.popitem(last=False)
                self._size -= len(evicted)

    def __len__(self) -> int:
        return len(self._entries)


@dataclass(frozen=True, slots=True, eq=False)
class Snapshot:
    """One opened store and facts about it that do not change while it is open."""

    store: pyoxigraph.Store
    path: Path
    #: The store's named graph names (IRIs first, sorted), read once when the store was opened.
    graphs: tuple[pyoxigraph.NamedNode | pyoxigraph.BlankNode, ...]
    #: ``time.time()`` when the store was opened.
    opened_at: float
    #: A short token naming this generation (directory name, inode and mtime hashed): part of
    #: every ETag, so a response cached by a client is revalidated after a rebuild.
    generation: str = ""
    #: The directory's modification time (seconds since the epoch): ``Last-Modified``.
    modified: float = 0.0
    #: Response bodies computed from this snapshot (see :class:`ResponseCache`).
    responses: ResponseCache = field(default_factory=lambda: ResponseCache(0))
    #: Facts derived from this generation once (VoID counts, ...), see :meth:`memo`.
    _memo: dict[str, Any] = field(default_factory=dict)
    _memo_lock: threading.Lock = field(default_factory=threading.Lock)

    #: True when the store was opened read-write.
    writable: bool = False
    #: How many writes this process made to the store before this snapshot was taken.
    revision: int = 0

    @classmethod
    def open(cls, path: str | Path, *, cache_bytes: int = 0, writable: bool = False) -> Snapshot:
        """Open the Oxigraph directory ``path`` read-only (read-write if ``writable``).

        :raises FileNotFoundError: if ``path`` is not a directory.
        :raises OSError: if Oxigraph cannot open it.
        """
        path = Path(path)
        if not path.is_dir():
            raise FileNotFoundError(f"no Oxigraph store directory at {path}")
        store = (pyoxigraph.Store(str(path)) if writable
                 else pyoxigraph.Store.read_only(str(path)))
        return cls._of(store, path, cache_bytes=cache_bytes, writable=writable, revision=0)

    @classmethod
    def _of(cls, store: pyoxigraph.Store, path: Path, *, cache_bytes: int, writable: bool,
            revision: int) -> Snapshot:
        st = path.stat()
        graphs = tuple(
            sorted(
                store.named_graphs(),
                key=lambda g: (isinstance(g, pyoxigraph.BlankNode), g.value),
            )
        )
        token = f"{path.resolve()}\0{st.st_ino}\0{st.st_mtime_ns}\0{revision}".encode()
        now = time.time()
        return cls(store=store, path=path, graphs=graphs, opened_at=now,
                   generation=hashlib.blake2b(token, digest_size=6).hexdigest(),
                   modified=now if revision else st.st_mtime,
                   responses=ResponseCache(cache_bytes), writable=writable, revision=revision)

    def after_write(self) -> Snapshot:
        """A new snapshot of the same (just written) store: graphs re-read, empty cache."""
        return Snapshot._of(self.store, self.path, cache_bytes=self.responses.max_bytes,
                            writable=self.writable, revision=self.revision + 1)

    def memo(self, key: str, compute: Callable[[], T]) -> T:
        """``compute()`` once per snapshot (concurrent first callers wait for one computation)."""
        try:
            return self._memo[key]
        except KeyError:
            pass
        with self._memo_lock:
            if key not in self._memo:
                self._memo[key] = compute()
            return self._memo[key]


class StoreHandle:
    """Holds the current :class:`Snapshot` of a store directory and follows its ``current`` link.

    :param path: a shilu store directory (with ``current``) or a plain Oxigraph directory.
    :param check_interval: seconds between two looks at ``current`` (0: on every request).
    :param cache_bytes: size of each snapshot's :class:`ResponseCache` (0 disables it).
    :param writable: open every generation read-write (for SPARQL Update); see the module doc.
    :raises FileNotFoundError: (:class:`~shilu.graph.store.StoreNotFound`) if there is no store.
    """

    def __init__(self, path: str | Path, *, check_interval: float = 1.0,
                 cache_bytes: int = 0, writable: bool = False) -> None:
        self.check_interval = check_interval
        self.cache_bytes = cache_bytes
        self.writable = writable
        #: Held by writers: one write at a time, and :meth:`written` after each.
        self.write_lock = threading.Lock()
        self._lock = threading.Lock()  # guards the fields below
        self._opening = False  # a background open is under way
        self._next_check = 0.0
        self._root, self._link, self._target, self._snapshot = self._open_root(Path(path))
        self._next_check = time.monotonic() + check_interval

    # -- public ---------------------------------------------------------------------------

    @property
    def current(self) -> Snapshot:
        """The snapshot to use for one request (read once, then hold on to it).

        Cheap: at most once per ``check_interval`` it reads the ``current`` link and, if it
        moved, starts opening the new generation in the background.
        """
        if self._link is not None and time.monotonic() >= self._next_check:
            self._check(background=True)
        return self._snapshot

    @property
    def root(self) -> Path:
        """The directory the handle was given (store directory or plain Oxigraph directory)."""
        return self._root

    @property
    def following(self) -> bool:
        """True when the handle follows a ``current`` link."""
        return self._link is not None

    def refresh(self) -> Snapshot:
        """Look at ``current`` now and, if it moved, open the new generation before returning.

        :raises OSError: if the new generation cannot be opened (the old one stays current).
        """
        if self._link is not None:
            self._check(background=False)
        return self._snapshot

    def reopen(self, path: str | Path | None = None) -> Snapshot:
        """Open ``path`` (by default the handle's own directory again) and make it current.

        ``path`` may be a store directory (which the handle then follows) or a plain Oxigraph
        directory.  The new store is fully opened before it replaces the old one; if opening
        fails the old snapshot stays current and the error propagates.
        """
        root, link, target, snapshot = self._open_root(self._root if path is None else Path(path))
        with self._lock:
            self._root, self._link, self._target, self._snapshot = root, link, target, snapshot
            self._next_check = time.monotonic() + self.check_interval
        return snapshot

    def written(self, snapshot: Snapshot) -> Snapshot:
        """Record that ``snapshot``'s store was written: make a fresh snapshot of it current
        (if it still is the current one), so cached responses and ETags of the old one end."""
        fresh = snapshot.after_write()
        with self._lock:
            if self._snapshot is snapshot:
                self._snapshot = fresh
        return fresh

    # -- internals ------------------------------------------------------------------------

    def _open_root(self, root: Path) -> tuple[Path, Path | None, str | None, Snapshot]:
        link = root / CURRENT
        if link.is_symlink():
            target = os.readlink(link)
            snapshot = Snapshot.open(current_path(root), cache_bytes=self.cache_bytes,
                                     writable=self.writable)
            return root, link, target, snapshot
        # A plain Oxigraph directory (current_path raises StoreNotFound when there is none).
        return root, None, None, Snapshot.open(current_path(root), cache_bytes=self.cache_bytes,
                                     writable=self.writable)

    def _check(self, *, background: bool) -> None:
        with self._lock:
            link = self._link
            self._next_check = time.monotonic() + self.check_interval
            if link is None or self._opening:
                return
            try:
                target = os.readlink(link)
            except OSError as e:  # the link is being replaced, or the store was removed
                log.warning("cannot read %s: %s; still serving %s", link, e, self._snapshot.path)
                return
            if target == self._target:
                return
            self._opening = True
        if background:
            threading.Thread(target=self._switch, args=(link, target), daemon=True,
                             name="shilu-store-switch").start()
        else:
            self._switch(link, target, raise_errors=True)

    def _switch(self, link: Path, target: str, raise_errors: bool = False) -> None:
        try:
            path = link.parent / target  # relative links are relative to the store directory
            snapshot = Snapshot.open(path, cache_bytes=self.cache_bytes,
                                     writable=self.writable)
        except Exception as e:  # noqa: BLE001 - logged; the old snapshot keeps serving
            log.warning("cannot open new store generation %s: %s", target, e)
            with self._lock:
                self._opening = False
            if raise_errors:
                raise
            return
        with self._lock:
            self._opening = False
            if self._link == link:  # not re-pointed by reopen() meanwhile
                self._snapshot, self._target = snapshot, target
                log.info("now serving store generation %s", snapshot.path)
