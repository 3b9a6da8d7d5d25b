"""The language knowledge extraction runs on, read from the data files in `ontology/`.

Extraction functions take a `Resources` argument instead of reading files themselves, so they
stay pure and tests can hand them small tables of their own.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from importlib.resources import files

from .entities import ClassRules
from .dates import EraTable, load_eras
from .events import TriggerTable
from .mentions import PolityTable

__all__ = ["Resources", "read_table", "default_resources"]


def read_table(text: str) -> list[list[str]]:
    """Rows of a TSV data file: ``#`` lines and blank lines skipped, cells stripped."""
    rows = []
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        rows.append([cell.strip() for cell in line.split("\t")])
    return rows


@dataclass(frozen=True)
class Resources:
    class_rules: ClassRules
    aliases: tuple[tuple[str, ...], ...]
    polities: PolityTable
    triggers: TriggerTable
    eras: EraTable
    clans: tuple[tuple[str, ...], ...] = ()
    periods: tuple[tuple[str, str, int, int, str], ...] = ()  # polities.tsv: see periods_of


def periods_of(rows: list[list[str]]) -> tuple[tuple[str, str, int, int, str], ...]:
    """The polities of polities.tsv that have a period: (polity, shared short name or "", first
    year, last year, predecessor or ""): one row per short name it shares, and one for what it
    was before its first year (元朝 before 1271: 蒙古帝國)."""
    out = []
    for r in rows:
        if len(r) >= 4 and r[2] and r[3]:
            shared = [s for s in r[1].split("|") if sum(s in (o[1].split("|") if len(o) > 1 else ()) for o in rows) > 1]
            out += [(r[0], s, int(r[2]), int(r[3]), "") for s in shared]
            if len(r) >= 5 and r[4]:
                out.append((r[0], "", int(r[2]), int(r[3]), r[4]))
    return tuple(out)


def _table(name: str) -> list[list[str]]:
    return read_table(files("shilu.ontology").joinpath(name).read_text(encoding="utf-8"))


@lru_cache(maxsize=1)
def default_resources() -> Resources:
    """The tables shipped in `shilu.ontology` (read once per process)."""
    return Resources(
        class_rules=ClassRules.from_rows(_table("class_rules.tsv")),
        aliases=tuple(tuple(r) for r in _table("aliases.tsv")),
        polities=PolityTable.from_rows(_table("polities.tsv"), _table("armies.tsv")),
        periods=periods_of(_table("polities.tsv")),
        triggers=TriggerTable(_table("triggers.tsv")),
        eras=load_eras(_table("eras.tsv")),
        clans=tuple(tuple(r) for r in _table("clans.tsv")),
    )
