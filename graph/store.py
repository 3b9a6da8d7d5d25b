"""The on-disk store layout: generations behind an atomically swapped ``current`` link.

``shilu build --store DIR`` writes a complete new Oxigraph store in ``DIR/gen-<n>`` and only then
points the symbolic link ``DIR/current`` at it (``os.replace`` of a link is atomic on POSIX), so
a build that fails or is killed never leaves a half-written store where readers look, and a
running server can reopen ``current`` to switch to the new generation. Older generations are
removed once the link has moved, keeping the one before as a fallback.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pyoxigraph

__all__ = ["StoreNotFound", "current_path", "open_store", "new_generation", "publish"]

_GEN = re.compile(r"^gen-(\d{6})$")
CURRENT = "current"


class StoreNotFound(FileNotFoundError):
    pass


def current_path(store_dir: str | Path) -> Path:
    """The Oxigraph directory readers should open for ``store_dir``.

    ``store_dir`` may be a shilu store (with ``current``) or a plain Oxigraph directory.
    """
    store_dir = Path(store_dir)
    link = store_dir / CURRENT
    if link.exists():
        return link.resolve()
    if store_dir.is_dir() and any(store_dir.iterdir()) and not any(_GEN.match(p.name) for p in store_dir.iterdir()):
        return store_dir  # a plain Oxigraph store directory
    raise StoreNotFound(f"no store at {store_dir}: build one with `shilu build CORPUS_DIR --store {store_dir}`")


def open_store(store_dir: str | Path, *, read_only: bool = True) -> pyoxigraph.Store:
    path = current_path(store_dir)
    return pyoxigraph.Store.read_only(str(path)) if read_only else pyoxigraph.Store(str(path))


def new_generation(store_dir: str | Path) -> Path:
    """A fresh, empty directory for the next generation of ``store_dir``."""
    store_dir = Path(store_dir)
    store_dir.mkdir(parents=True, exist_ok=True)
    numbers = [int(m.group(1)) for p in store_dir.iterdir() if (m := _GEN.match(p.name))]
    path = store_dir / f"gen-{max(numbers, default=0) + 1:06d}"
    if path.exists():  # left by a killed build that got no further
        shutil.rmtree(path)
    path.mkdir()
    return path


def publish(store_dir: str | Path, generation: Path) -> None:
    """Point ``current`` at ``generation`` atomically, then remove every other generation but
    the one ``current`` pointed at before (kept as a fallback)."""
    store_dir = Path(store_dir)
    link = store_dir / CURRENT
    previous = os.readlink(link) if link.is_symlink() else None
    tmp = store_dir / f".{CURRENT}.{os.getpid()}"
    if tmp.is_symlink() or tmp.exists():
        tmp.unlink()
    os.symlink(generation.name, tmp)
    os.replace(tmp, link)
    for p in store_dir.iterdir():
        if _GEN.match(p.name) and p.name not in (generation.name, previous):
            shutil.rmtree(p, ignore_errors=True)
