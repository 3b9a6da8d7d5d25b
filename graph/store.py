"""The on-disk store layout: generations behind an atomically swapped ``current`` link.

``shilu build --store DIR`` writes a complete new Oxigraph store in ``DIR/gen-<n>`` and only then
points the symbolic link ``DIR/current`` at it (``os.replace`` of a link is atomic on POSIX), so
a build that fails or is killed never leaves a half-written store where readers look, and a
running server can reopen ``current`` to switch to the new generation. Older generations are
removed once the link has moved, keeping the one before as a fallback.

Beside each generation lies its manifest, ``DIR/manifest.gen-<n>.json`` (what it was built from,
for incremental builds), and the report of the last build, ``DIR/last-build.json``. A build
holds a lock on ``DIR/.build.lock`` while it runs, so two builds never write the
same store; under that lock it first removes what killed builds left behind (`tidy`): every
generation numbered above ``current``'s, every one but the newest below it, stray manifests and
temporary files.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pyoxigraph

__all__ = ["StoreBusy", "StoreNotFound", "current_path", "generation_manifest", "lock_store",
           "new_generation", "open_store", "publish", "tidy"]

_GEN = re.compile(r"^gen-(\d{6})$")
_MANIFEST = re.compile(r"^manifest\.(gen-\d{6})\.json$")
CURRENT = "current"
LOCK = ".build.lock"


class StoreNotFound(FileNotFoundError):
    pass


class StoreBusy(RuntimeError):
    """Another build is writing this store."""


def current_path(store_dir: str | Path) -> Path:
    """The Oxigraph directory readers should open for ``store_dir``.

    ``store_dir`` may be a shilu store (with ``current``) or a plain Oxigraph directory.
    """
    store_dir = Path(store_dir)
    link = store_dir / CURRENT
    if link.exists():
        return link.resolve()
    if store_dir.is_dir() and any(store_dir.iterdir()) and not any(
            _GEN.match(p.name) or p.name in (LOCK, "last-build.json") for p in store_dir.iterdir()):
        return store_dir  # a plain Oxigraph store directory
    raise StoreNotFound(f"no store at {store_dir}: build one with `shilu build CORPUS_DIR --store {store_dir}`")


def open_store(store_dir: str | Path, *, read_only: bool = True) -> pyoxigraph.Store:
    path = current_path(store_dir)
    return pyoxigraph.Store.read_only(str(path)) if read_only else pyoxigraph.Store(str(path))


def generation_manifest(store_dir: str | Path, generation: str) -> Path:
    """Where the manifest of ``generation`` (a ``gen-<n>`` name) lives."""
    return Path(store_dir) / f"manifest.{generation}.json"


def _number(name: str) -> int | None:
    m = _GEN.match(name)
    return int(m.group(1)) if m else None


def _current_name(store_dir: Path) -> str | None:
    link = store_dir / CURRENT
    if not link.is_symlink():
        return None
    return os.path.basename(os.readlink(link).rstrip("/"))


@contextlib.contextmanager
def lock_store(store_dir: str | Path) -> Iterator[None]:
    """Hold the store's build lock; raise `StoreBusy` at once if another process has it.

    The lock is a POSIX record lock (``lockf``) on ``DIR/.build.lock``: the kernel drops it when
    its holder dies, so a killed build never leaves the store locked, and unlike ``flock`` it is
    not shared with forked worker processes, which could outlive a killed build.
    """
    store_dir = Path(store_dir)
    store_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(store_dir / LOCK, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as e:
            if e.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                try:
                    holder = os.pread(fd, 32, 0).decode().strip()
                except OSError:
                    holder = ""
                raise StoreBusy(f"another build is writing {store_dir}"
                                + (f" (process {holder})" if holder else "")) from None
            raise
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        yield
    finally:
        os.close(fd)  # releases the lock


def tidy(store_dir: str | Path) -> list[str]:
    """Remove what interrupted builds left in ``store_dir``; returns the names removed.

    Keeps the generation ``current`` points at and the newest one below it (the fallback).
    Call only under `lock_store`: an unpublished generation may be a running build's.
    """
    store_dir = Path(store_dir)
    if not store_dir.is_dir():
        return []
    current = _current_name(store_dir)
    gens = sorted((n, p) for p in store_dir.iterdir() if (n := _number(p.name)) is not None)
    keep: set[str] = set()
    if current is not None and _number(current) is not None:
        keep.add(current)
        below = [p.name for n, p in gens if n < _number(current)]
        if below:
            keep.add(below[-1])
    elif gens:
        return []  # no current link: nothing to judge by, leave everything
    removed = []
    for n, p in gens:
        if p.name not in keep:
            shutil.rmtree(p, ignore_errors=True)
            removed.append(p.name)
    for p in store_dir.iterdir():
        m = _MANIFEST.match(p.name)
        stray_manifest = m is not None and m.group(1) not in keep
        temporary = p.name.startswith(f".{CURRENT}.") or (p.name.startswith(".") and p.name.endswith(".tmp"))
        if stray_manifest or temporary:
            with contextlib.suppress(OSError):
                p.unlink()
            removed.append(p.name)
    return removed


def new_generation(store_dir: str | Path, *, create: bool = True) -> Path:
    """The directory for the next generation of ``store_dir``: created empty, or (``create=False``)
    absent, for `pyoxigraph.Store.backup` to create."""
    store_dir = Path(store_dir)
    store_dir.mkdir(parents=True, exist_ok=True)
    numbers = [n for p in store_dir.iterdir() if (n := _number(p.name)) is not None]
    path = store_dir / f"gen-{max(numbers, default=0) + 1:06d}"
    if path.exists():  # left by a killed build that got no further
        shutil.rmtree(path)
    if create:
        path.mkdir()
    return path


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def publish(store_dir: str | Path, generation: Path) -> None:
    """Point ``current`` at ``generation`` atomically, then remove every other generation but
    the one ``current`` pointed at before (kept as a fallback), with their manifests."""
    store_dir = Path(store_dir)
    link = store_dir / CURRENT
    previous = _current_name(store_dir)
    _fsync_dir(generation)
    tmp = store_dir / f".{CURRENT}.{os.getpid()}"
    if tmp.is_symlink() or tmp.exists():
        tmp.unlink()
    os.symlink(generation.name, tmp)
    os.replace(tmp, link)
    _fsync_dir(store_dir)
    for p in store_dir.iterdir():
        if _GEN.match(p.name) and p.name not in (generation.name, previous):
            shutil.rmtree(p, ignore_errors=True)
        m = _MANIFEST.match(p.name)
        if m and m.group(1) not in (generation.name, previous):
            with contextlib.suppress(OSError):
                p.unlink()
