"""Find names in running text: one Aho–Corasick automaton over every name the corpus knows.

The automaton holds, in their Simplified (t2s) form:
- every name of the lexicon (link targets, titles, bold names, curated aliases), and
- army and people compounds of polities (金兵, 蒙軍, 夏人, 宋將 → the polity), and coalitions
  (宋蒙聯軍 → both polities), generated from `ontology/polities.tsv` and `armies.tsv`.

Matching is leftmost-longest and non-overlapping (`iter_long`), so 金朝 wins over 金 and
上京臨潢府 over 上京. One pass per sentence, linear in its length.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass

import ahocorasick

from .article import record
from .script import key, to_hans

__all__ = ["Hit", "NameMatcher", "PolityTable", "shared_short_preferences"]


@record
class Hit:
    """A name found at ``[start, end)`` of the searched text.

    kind: ``name`` (a thing's name), ``army`` (a polity through its army, people or
    commanders), ``coalition`` (several polities). ``candidates`` holds, for each polity or thing
    named, the keys it may be (more than one when a short name such as 宋 is shared).
    ``commander`` is true when the compound ends in a commander word (宋將), so the person who
    follows serves that polity.
    """

    start: int
    end: int
    kind: str
    candidates: tuple[tuple[str, ...], ...]
    commander: bool = False


@dataclass(frozen=True)
class PolityTable:
    shorts: dict[str, tuple[str, ...]]  # t2s short name -> polity keys
    army_suffixes: tuple[str, ...]
    commander_suffixes: tuple[str, ...]
    coalition_suffixes: tuple[str, ...]

    @classmethod
    def from_rows(cls, polity_rows: Iterable[list[str]], army_rows: Iterable[list[str]]) -> PolityTable:
        shorts: dict[str, list[str]] = {}
        for row in polity_rows:
            polity = key(row[0])
            for short in (row[1].split("|") if len(row) > 1 and row[1] else []):
                keys = shorts.setdefault(to_hans(short.strip()), [])
                if polity not in keys:
                    keys.append(polity)
        army, commander, coalition = [], [], []
        for role, suffix, *_ in army_rows:
            {"army": army, "commander": commander, "coalition": coalition}[role].append(to_hans(suffix))
        return cls({k: tuple(v) for k, v in shorts.items()}, tuple(army), tuple(commander), tuple(coalition))


class NameMatcher:
    """Leftmost-longest name search over Simplified text."""

    def __init__(self, names: Mapping[str, Collection[str] | str], polities: PolityTable | None = None,
                 keep: Callable[[str], bool] | None = None):
        """``names``: each name (t2s) and the keys of the things it may denote (one key: the
        string alone, as a lexicon keeps it); ``keep``: which of those things to find (default:
        all)."""
        auto = ahocorasick.Automaton()

        def add(word: str, kind: str, candidates: tuple[tuple[str, ...], ...], commander: bool = False) -> None:
            # the automaton reports only where a match ends, so the value carries its length
            auto.add_word(word, (len(word), kind, candidates, commander))

        # A name's value is the name itself where ``names`` already holds its things as the
        # sorted tuple a hit gives, or its one thing (a lexicon's names, once compacted): the
        # automaton then holds no object of its own for the millions of names of a large corpus
        # (435 MB at 100,000 articles), only references to the lexicon's strings; the rest,
        # (name, things).
        self._names = names
        for name, keys in names.items():
            if len(name) < 2:  # a single character is too often part of another word
                continue
            if type(keys) is str:  # a lexicon keeps a name's one thing as the string alone
                if keep is None or keep(keys):
                    auto.add_word(name, name)
                continue
            kept = tuple(k for k in keys if keep(k)) if keep is not None else tuple(keys)
            if not kept:
                continue
            if type(keys) is tuple and len(kept) == len(keys) and (len(kept) == 1 or list(kept) == sorted(kept)):
                auto.add_word(name, name)
            else:
                auto.add_word(name, (name, tuple(sorted(kept))))
        # Polity compounds come last and so win over a page of the same name: 蒙古 in running
        # text is the Mongol polity, whatever else a page called 蒙古 is about.
        if polities is not None:
            commanders = set(polities.commander_suffixes)
            own = {k for keys in polities.shorts.values() for k in keys}  # 宋朝 is itself, not 宋+朝
            for short, keys in polities.shorts.items():
                for suffix in polities.army_suffixes + polities.commander_suffixes:
                    if short + suffix not in own:
                        add(short + suffix, "army", (keys,), suffix in commanders)
                if len(short) >= 2:
                    add(short, "army", (keys,))
            for k in own:
                add(k, "army", ((k,),))
            singles = [s for s in polities.shorts if len(s) == 1]
            for a in singles:
                for b in singles:
                    if a != b:
                        for suffix in polities.coalition_suffixes:
                            add(a + b + suffix, "coalition", (polities.shorts[a], polities.shorts[b]))
        self._auto = auto
        self._empty = len(auto) == 0
        if not self._empty:
            auto.make_automaton()

    def find(self, hans: str) -> list[Hit]:
        """Names in ``hans`` (text already in Simplified form), left to right."""
        return [Hit(*hit) for hit in self.find_tuples(hans)]

    def find_tuples(self, hans: str) -> list[tuple[int, int, str, tuple[tuple[str, ...], ...], bool]]:
        """`find` as plain ``(start, end, kind, candidates, commander)`` tuples (cheaper to make)."""
        if self._empty:
            return []
        names = self._names
        out = []
        for end, value in self._auto.iter_long(hans):
            if type(value) is str:  # a name whose things are names[name] (one thing: a string)
                things = names[value]
                out.append((end + 1 - len(value), end + 1, "name", ((things,) if type(things) is str else things,),
                            False))
            elif len(value) == 2:  # (name, its things to find)
                out.append((end + 1 - len(value[0]), end + 1, "name", (value[1],), False))
            else:  # (length, kind, candidates, commander): a polity's compound
                length, kind, candidates, commander = value
                out.append((end + 1 - length, end + 1, kind, candidates, commander))
        return out


def shared_short_preferences(links, polities: PolityTable, resolve) -> set[str]:
    """The polities an article's own links give a shared short name: [宋](…/北宋) makes every bare
    宋 of the article 北宋 (but [宋朝…](…/宋朝) names 宋朝 itself, not 宋). ``resolve`` maps a
    link target to its key."""
    preferred: set[str] = set()
    for link in links:
        if link.kind == "wiki" and link.text[:1]:
            shared = polities.shorts.get(to_hans(link.text[:1]), ())
            if len(shared) > 1:
                target = resolve(link.target)
                if target in shared and not key(link.text).startswith(target):
                    preferred.add(target)
    return preferred
