"""Entities: who and what an article names, one key per real thing, typed from evidence.

Two passes, as in the DBpedia framework's redirect handling: `Lexicon.from_readings` reads the
whole corpus once (what `LexiconReading.of` takes of each article: its page's title, categories,
lead sentence and bold names; every link target, how it is spelt and the words around it), then
`extract_entities` types and resolves each article's names against it. Typing rules and aliases
are data (`ontology/class_rules.tsv`, `aliases.tsv`).
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from .article import Article, Span
from .facts import Entity, Mention
from .mentions import NameMatcher, PolityTable, shared_short_preferences
from .script import key, labels_for, to_hans, to_hant

__all__ = ["ClassRules", "Lexicon", "LexiconReading", "PageInfo", "extract_entities", "page_title_of", "base_name"]

_DISAMBIGUATION_PAGE = re.compile(r"[(（](消歧义|消歧義)[)）]$")
_DISAMBIGUATION = re.compile(r"\s*[(（][^()（）]{1,40}[)）]$")
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
# Link texts that run on past the name cannot be aliases of it.
_NOT_A_NAME = re.compile(r"[的是在於于與与和及，。、；：「」“”《》\s]")
# Links to pages that are not things in the world of the ontology (dates, calendar terms).
_NOT_A_THING = re.compile(r"^(?:[^\u3400-\u9fff]*|\d{1,4}年(?:代)?|\d{1,2}月(?:\d{1,2}日)?|\d{1,2}世纪|\d{1,2}世紀|公元.*|干支.*|年號|年号|ISBN|[甲乙丙丁戊己庚辛壬癸][子丑寅卯辰巳午未申酉戌亥])$")


@lru_cache(maxsize=1 << 15)
def base_name(title: str) -> str:
    """A title without its disambiguation: ``base_name("大定府 (辽朝)") == "大定府"``."""
    return _DISAMBIGUATION.sub("", title).strip() or title


@lru_cache(maxsize=1 << 15)
def link_alias(text: str, target: str) -> str | None:
    """The link text as another name of the target, when it is one.

    pandoc often runs the text on past the name (``[金朝攻擊黃龍府](…/金朝)``): a text that
    starts with the target's name, or that reads like a phrase, is no alias.
    """
    base = key(base_name(target))
    shown = key(text)
    if not shown or shown.startswith(base) or _NOT_A_NAME.search(text) or len(shown) > len(base) + 4:
        return None
    if any(ch in _ACTION and ch not in base for ch in shown):
        return None  # [進攻西夏](…/蒙古滅西夏之戰) describes an action, it does not name
    return text.strip()


_ACTION = frozenset("攻伐灭败降征侵围占夺杀死战击破克陷取援救逃")


@lru_cache(maxsize=1 << 15)
def is_descriptive(title: str) -> bool:
    """A title that tells what happened (木華黎攻佔京兆府長安之戰) rather than naming a thing
    one would find in running text."""
    base = to_hans(base_name(title))
    return len(base) > 6 and any(ch in _ACTION for ch in base[:-2])


def page_title_of(article: Article) -> str:
    """The Wikipedia title of an article: its file name, unless that is not a title at all
    (the seeds are named by hash), then its bold title term."""
    stem = article.source_id.replace("_", " ").strip()
    return stem if _CJK.search(stem) else article.title


@dataclass(frozen=True, slots=True)
class PageInfo:
    """What the corpus says about a thing in the thing's own article."""

    key: str
    title: str
    categories: tuple[str, ...]
    lead: str
    names: tuple[str, ...]  # its title and bold alternative names


@dataclass(frozen=True)
class ClassRules:
    """Ordered typing rules: ``(evidence, compiled pattern, class, row label)``."""

    rules: tuple[tuple[str, re.Pattern[str], str, str], ...]
    known: tuple[tuple[str, str], ...] = ()  # (name, class) of the "known" rows
    # the rules of each kind of evidence, in order, made once: (pattern, class, label)
    _by: dict[str, tuple[tuple[re.Pattern[str], str, str], ...]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        by: dict[str, list[tuple[re.Pattern[str], str, str]]] = {}
        for evidence, pattern, klass, label in self.rules:
            by.setdefault(evidence, []).append((pattern, klass, label))
        object.__setattr__(self, "_by", {e: tuple(v) for e, v in by.items()})
        # before/after rules in their common order: (is a "before" rule, pattern, class)
        object.__setattr__(self, "_context", tuple((e == "before", p, k) for e, p, k, _ in self.rules
                                                    if e in ("before", "after")))

    @classmethod
    def from_rows(cls, rows: Iterable[list[str]]) -> ClassRules:
        out = []
        names: list[tuple[str, str]] = []
        for n, row in enumerate(rows, 1):
            evidence, pattern, klass = row[0], row[1], row[2]
            if evidence not in ("category", "lead", "name", "known", "likely", "before", "after", "gloss", "cue"):
                raise ValueError(f"class rule {n}: unknown evidence {evidence!r}")
            if evidence == "known":  # a list of names: typed like a name rule, and names of the lexicon
                out.append(("name", re.compile("^(?:" + pattern + ")$"), klass, f"known:{klass}"))
                names.extend((name, klass) for name in pattern.split("|"))
                continue
            out.append((evidence, re.compile(pattern), klass, f"{evidence}:{pattern}"))  # "-": no class
        return cls(tuple(out), tuple(names))

    def context_class(self, before: str, after: str) -> str | None:
        """The class the words around a mention vote for (Simplified text), if any."""
        for is_before, pattern, klass in self._context:
            if pattern.search(before if is_before else after):
                return klass
        return None

    def glossed(self, text: str) -> Iterator[tuple[str, str]]:
        """(name, class) for each place a parenthesised gloss names (隨州（今湖北棗陽）: 棗陽),
        in Simplified script."""
        if "（" not in text and "(" not in text:
            return
        for evidence, pattern, klass, _ in self.rules:
            if evidence == "gloss":
                for m in pattern.finditer(text):
                    yield m.group("name"), klass

    def cued(self, hans: str) -> Iterator[tuple[str, str]]:
        """(name, class) for each name a cue word introduces (宋將張師: 張師, a person), in
        Simplified script."""
        for evidence, pattern, klass, _ in self.rules:
            if evidence == "cue":
                for m in pattern.finditer(hans):
                    yield m.group("name"), klass

    def classify(self, name: str, page: PageInfo | None, other_names: Iterable[str] = (),
                 votes: Mapping[str, int] | None = None,
                 stated: Mapping[str, int] | None = None) -> tuple[str | None, str | None]:
        """The class of a thing named ``name`` (also known as ``other_names``) and the rule that
        decided it, or (None, None). A rule of class ``-`` decides that it has none."""
        klass, rule = self._classify(name, page, other_names, votes, stated)
        return (None, rule) if klass == "-" else (klass, rule)

    def _classify(self, name: str, page: PageInfo | None, other_names: Iterable[str],
                  votes: Mapping[str, int] | None, stated: Mapping[str, int] | None = None) -> tuple[str | None, str | None]:
        by = self._by
        if page is not None:
            categories = page.categories
            for pattern, klass, label in by.get("category", ()):
                search = pattern.search
                for c in categories:
                    if search(c):
                        return klass, label
            for pattern, klass, label in by.get("lead", ()):
                if pattern.search(page.lead):
                    return klass, label

        own = {name, to_hans(name), base_name(name)}
        others = set(other_names) - own
        for pattern, klass, label in by.get("name", ()):
            search = pattern.search
            for f in own:
                if search(f):
                    return klass, label
            # its other names count too (完顏阿骨打 is 金太祖: a Ruler), but only its own name
            # can say it is no thing at all
            if klass != "-":
                for f in others:
                    if search(f):
                        return klass, label
        if stated:
            # what the text states outright (a gloss: 岳州（今湖南岳陽）) beats what a name merely
            # may be (岳 is also a surname); of a place called a city and a place, the city
            klass, n = min(stated.items(), key=lambda kv: (-kv[1], kv[0] != "City", kv[0]))
            return klass, f"stated:{n} time(s)"
        for pattern, klass, label in by.get("likely", ()):
            if any(pattern.search(f) for f in own):
                return klass, label
        if votes:
            klass, n = min(votes.items(), key=lambda kv: (-kv[1], kv[0]))
            return klass, f"context:{n} vote(s)"
        return None, None


@dataclass(frozen=True, slots=True)
class LexiconReading:
    """What the lexicon reads of one article: its page, its links to things and what the words
    around them say, the names its glosses and cues state. It depends on the article and the
    class rules alone, so the build's workers make it in parallel, and the process that builds
    the lexicon never holds an article's text."""

    page: str  # the article's Wikipedia title (`page_title_of`)
    title: str  # its bold title term
    categories: tuple[str, ...]
    lead: str  # the first sentence of running text
    names: tuple[str, ...]  # the title, the bold title term and the bold names of the lead
    links: tuple[tuple[str, str | None, str | None], ...]  # (target, alias, context class) of each link to a thing
    stated: tuple[tuple[str, str], ...]  # (name, class) of each name a gloss or cue states (Simplified)

    @classmethod
    def of(cls, article: Article, rules: ClassRules | None = None) -> LexiconReading:
        """Read ``article``; without ``rules``, no context votes and no stated names."""
        title = page_title_of(article)
        lead = next((s.text for s in article.sentences if s.kind == "text"), "")
        names = tuple(dict.fromkeys([title, article.title] + [b.strip() for b, span in article.bold
                                                              if span.start < 400 and b.strip()]))
        text = article.text
        links = []
        for link in article.links:
            if link.kind != "wiki" or _NOT_A_THING.match(link.target):
                continue
            alias = link_alias(link.text, link.target)
            vote = None
            if rules is not None:
                base = key(base_name(link.target))
                named = key(link.text).startswith(base)
                if named or alias:
                    start = link.plain.start
                    end = start + len(base) if named else link.plain.end
                    vote = rules.context_class(to_hans(text[max(0, start - 6):start]), to_hans(text[end:end + 6]))
            links.append((link.target, alias, vote))
        stated: list[tuple[str, str]] = []
        if rules is not None:
            # Modern places the glosses name, and people named by their office, are names too,
            # even where nothing links them.
            stated = [found for start in _GLOSS_OPEN.finditer(text)
                      for found in rules.glossed(to_hans(_unlinked(text[max(0, start.start() - 3):start.start() + 400])[:30]))]
            stated += rules.cued(to_hans(_unlinked(text)))
        return cls(title, article.title, article.categories, lead, names, tuple(links), tuple(stated))


@dataclass
class Lexicon:
    """Corpus-wide knowledge gathered in the first pass."""

    pages: dict[str, PageInfo] = field(default_factory=dict)
    canonical: dict[str, str] = field(default_factory=dict)  # alias key -> canonical key
    # key -> written forms and their counts (`_count`: a form seen once is the string alone;
    # once built, `compact`: key -> its display name)
    spellings: dict[str, Counter[str] | str] = field(default_factory=dict)
    # t2s name -> keys it may denote: one key as the string alone, a set from the second (once
    # built, `compact`: the one key still, a sorted tuple of several); read through `_each`
    names: dict[str, set[str] | str] = field(default_factory=dict)
    polities: PolityTable | None = None
    _matcher: NameMatcher | None = field(default=None, repr=False)
    _names_of: dict[str, tuple[str, ...] | str] | None = field(default=None, repr=False)  # a thing's one name: the string
    # Once every thing is classified (`classify_all`), the names of people and rulers are all
    # that extraction asks of a thing's names: `compact` keeps these instead of `_names_of`.
    _classified: bool = field(default=False, repr=False, compare=False)
    _person_names: dict[str, tuple[str, ...]] = field(default_factory=dict, repr=False, compare=False)
    _classes: dict[str, tuple[str | None, str | None]] = field(default_factory=dict, repr=False)
    # what `_entity` makes of each key, whatever the article (emptied whenever the lexicon grows)
    _parts: dict = field(default_factory=dict, repr=False, compare=False)
    votes: dict[str, Counter[str] | str] = field(default_factory=dict)  # key -> context class votes (`_count`)
    stated: dict[str, Counter[str] | str] = field(default_factory=dict)  # key -> classes glosses and cues state (`_count`)
    dynasty_of: dict[str, str] = field(default_factory=dict)  # ruler key -> his temple name's dynasty (金, 夏)
    ruler_polities: dict[str, str] = field(default_factory=dict)  # ruler key -> the polity of his eras
    clans: tuple[tuple[str, str], ...] = ()  # (clan name in t2s, polity key), longest first
    era_names: frozenset[str] = frozenset()  # reign eras (t2s): names of years, not of things
    # key -> the names (t2s) every article that names the thing states: those the alias table
    # gives it, and a ruler's temple name without its dynasty (哀宗); its other names only the
    # articles that write them
    standing: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @classmethod
    def from_readings(cls, readings: Sequence[LexiconReading], alias_rows: Iterable[list[str]] = (),
                      polities: PolityTable | None = None, rules: ClassRules | None = None,
                      clans: Iterable[Sequence[str]] = (), era_names: Iterable[str] = (),
                      era_rows: Iterable[tuple[str, str, str]] = ()) -> Lexicon:
        """The lexicon of a corpus from what was read of each article (`LexiconReading.of`, made
        with the same ``rules``), in corpus order."""
        lex = cls(polities=polities)
        lex.era_names = frozenset(to_hans(n) for n in era_names)
        lex.clans = tuple(sorted(((to_hans(c), key(p)) for c, p, *_ in clans), key=lambda cp: -len(cp[0])))
        for row in alias_rows:
            canonical, alias = key(row[0]), key(row[1])
            if alias != canonical:
                lex.canonical[alias] = canonical
                lex.spell(canonical, row[0])
        for row in alias_rows:
            lex.name(row[0], key(row[0]))
            lex.name(row[1], key(row[0]))
        for name, _ in (rules.known if rules is not None else ()):
            lex.name(name, lex.resolve(name))  # 華北, 江陵: names worth finding though no article links them
        for reading in readings:
            lex.add_article(reading)
        lex.merge_disambiguated()
        lex.merge_eras(era_rows)
        if rules is not None:
            for reading in readings:
                lex.add_context(reading)
            lex.add_temple_names(rules)
            lex.classify_all(rules)
        for row in alias_rows:
            lex._stand(lex.resolve(row[0]), [key(base_name(n)) for n in row[:2]])
        lex.compact()
        return lex

    def compact(self) -> None:
        """Pack the built lexicon for reading: each thing's spellings become its display name,
        each name's things a sorted tuple (one thing stays a string), equal strings one object.
        It answers every question as before (`display`, `names_of`, `resolve`, `owned_elsewhere`,
        `classify`) in 40 % of the memory (`bench/lexicon.py`); nothing may be added to it
        afterwards (`spell` and `name` write to the sets and counters this replaces)."""
        pool: dict[str, str] = {}
        one = pool.setdefault
        self.spellings = {one(k, k): one(d := self.display(k), d) for k in self.spellings}  # type: ignore[misc]
        self.names = {one(n, n): one(ks, ks) if type(ks) is str else tuple(sorted(one(k, k) for k in ks))
                      for n, ks in self.names.items()}  # type: ignore[misc]
        self.canonical = {one(a, a): one(k, k) for a, k in self.canonical.items()}
        self.pages = {one(k, k): p for k, p in self.pages.items()}
        self.votes = {one(k, k): c for k, c in self.votes.items()}
        self.stated = {one(k, k): c for k, c in self.stated.items()}
        self._classes = {one(k, k): v for k, v in self._classes.items()}
        self.standing = {one(k, k): tuple(one(n, n) for n in ns) for k, ns in self.standing.items()}
        self._person_names = {one(k, k): tuple(one(n, n) for n in ns) for k, ns in self._person_names.items()}
        self._names_of = None  # every name's things, turned round: see `classify_all`
        self._parts.clear()

    def classify_all(self, rules: ClassRules) -> None:
        """Classify every thing a name may denote now, and keep the names of the people and
        rulers among them: afterwards no question extraction asks needs the index from each
        thing to all its names (at 100,000 articles, 2 million entries, 359 MB of objects
        counting the strings it shares with the rest of the lexicon, which the build's parent and
        every worker held)."""
        for keys in list(self.names.values()):
            for k in _each(keys):
                self.classify(k, rules)
        self._person_names = {k: self.names_of(k) for k, (cls, _) in self._classes.items()
                              if cls in ("Ruler", "Person")}
        self._classified = True

    def person_names(self, k: str) -> tuple[str, ...]:
        """`names_of` a person or ruler (what `_polity_named` reads)."""
        return self._person_names.get(k, ()) if self._classified else self.names_of(k)

    def _stand(self, k: str, names: Iterable[str]) -> None:
        self.standing[k] = tuple(sorted({*self.standing.get(k, ()), *names}))

    def add_temple_names(self, rules: ClassRules) -> None:
        """金哀宗 is 哀宗 in any article about 金: a ruler's temple name without its dynasty is a
        name of his (shared: 仁宗 is 夏仁宗 and 宋仁宗; the article decides, see `_choose`)."""
        for k in list(set(self.spellings) | set(self.pages)):
            if self.canonical.get(k, k) != k or self.classify(k, rules)[0] != "Ruler":
                continue
            for n in (to_hans(base_name(self.display(k))), *self.names_of(k)):
                m = _TEMPLE_NAME.match(n)
                if m:
                    self.name(m.group(1), k)
                    self._stand(k, [m.group(1)])
                    self.dynasty_of.setdefault(k, n[:1])  # 夏末帝 (李睍): of 夏
        self._names_of = None

    def merge_disambiguated(self) -> None:
        """One thing, two titles: a bare name (唐州) with no article of its own in the corpus and
        exactly one disambiguated title (唐州 (唐朝)) are the same thing here; so is a
        disambiguation page (東京 (消歧義)) and its bare name. Two disambiguated titles of one
        name (大同 (遼朝), 大同 (蒲鮮萬奴)) are different things and stay apart."""
        self._parts.clear()
        variants: dict[str, list[str]] = {}
        for k in set(self.spellings) | set(self.pages):
            b = base_name(k)
            if b != k:
                variants.setdefault(b, []).append(k)
        merges: dict[str, str] = {}
        for bare, vs in variants.items():
            real = [v for v in vs if not _DISAMBIGUATION_PAGE.search(v)]
            for v in vs:
                if _DISAMBIGUATION_PAGE.search(v):
                    merges[v] = bare  # 東京 (消歧義) is no thing of its own
            if len(real) == 1 and bare not in self.pages:
                merges[bare] = real[0]
                for v in vs:
                    if v in merges:
                        merges[v] = real[0]
        self._apply_merges(merges)

    def merge_eras(self, eras: Iterable[tuple[str, str, str]]) -> None:
        """One reign era, several titles: 嘉定, 嘉定 (宋寧宗) and 嘉定 (年號) name the era of
        南宋 the era table has under 嘉定, so they are one thing. ``eras`` holds (name, polity,
        rulers) rows of the era table; a qualifier names the polity (遼, 遼朝), a ruler (金哀宗,
        or another name of him: 忽必烈 for 元世祖) or nothing in particular (年號). Titles whose
        qualifiers point at different rows (至元 of 元世祖, 至元 of 元惠宗), or at no row
        (天福 (四條天皇), a Japanese era), stay apart; the bare name joins only when the table
        has one era of that name."""
        rows: dict[str, list[tuple[str, frozenset[str]]]] = {}
        reigned: dict[str, set[str]] = {}
        for name, polity, rulers in eras:
            ruler_keys = frozenset(self.resolve(r) for r in re.split(r"[、,，]", rulers) if r.strip())
            rows.setdefault(to_hans(name), []).append((key(polity), ruler_keys))
            for r in ruler_keys:
                reigned.setdefault(r, set()).add(key(polity))
        # the polity each ruler proclaimed his eras in (宋高宗: 南宋), where it is one
        self.ruler_polities = {r: next(iter(ps)) for r, ps in reigned.items() if len(ps) == 1}
        variants: dict[str, list[str]] = {}
        for k in set(self.spellings) | set(self.pages):
            b = to_hans(base_name(k))
            if b in rows and self.canonical.get(k, k) == k:
                variants.setdefault(b, []).append(k)
        merges: dict[str, str] = {}
        for bare, ks in variants.items():
            if len(ks) < 2:
                continue
            eras_here = rows[bare]
            groups: dict[int, list[str]] = {}
            for k in sorted(ks):
                q = k[len(base_name(k)):].strip(" ()（）_")
                if not q:
                    row = 0 if len(eras_here) == 1 else None
                elif q in ("年号", "年號"):
                    row = 0 if len(eras_here) == 1 else -1
                else:
                    qk = self.resolve(q)
                    hits = [i for i, (polity, rulers) in enumerate(eras_here)
                            if qk == polity or polity.startswith(to_hans(q)) or qk in rulers]
                    row = hits[0] if len(hits) == 1 else None
                if row is not None:
                    groups.setdefault(row, []).append(k)
            generic = groups.pop(-1, [])
            if len(groups) == 1:  # 泰和 (年號) joins 泰和 (金章宗) when nothing else claims the name
                groups[next(iter(groups))] += generic
            for members in groups.values():
                if len(members) > 1:
                    target = bare if bare in members else members[0]
                    for m in members:
                        if m != target:
                            merges[m] = target
        self._apply_merges(merges)

    def _apply_merges(self, merges: dict[str, str]) -> None:
        if not merges:
            return
        for old, new in merges.items():
            self.canonical[old] = new
        for alias, target in list(self.canonical.items()):
            self.canonical[alias] = merges.get(target, target)
        for name, keys in self.names.items():
            if type(keys) is str:
                self.names[name] = merges.get(keys, keys)
            else:
                moved = {merges.get(k, k) for k in keys}
                self.names[name] = next(iter(moved)) if len(moved) == 1 else moved
        for old, new in merges.items():
            if old in self.spellings and old != new:
                self.spellings.setdefault(new, Counter())  # the thing has spellings, if none of these
                for w, c in _counted(self.spellings.pop(old)).items():
                    if key(w) == new:
                        _count(self.spellings, new, w, c)
        self._names_of = None

    def add_context(self, reading: LexiconReading) -> None:
        """Count the classes the words around each link vote for (攻陷X: a place), and the
        names glosses and cues state, with their classes."""
        self._parts.clear()
        for target, _alias, vote in reading.links:
            if vote:
                _count(self.votes, self.resolve(target), vote)
        for name, klass in reading.stated:
            k = self.resolve(name)
            self.name(name, k)
            self.spell(k, name)
            _count(self.stated, k, klass)
            self._names_of = None

    def names_of(self, k: str) -> tuple[str, ...]:
        """Every name (t2s) recorded for the thing ``k``."""
        if self._names_of is None:
            rev: dict[str, set[str] | str] = {}  # most things have one name: `_put`
            for name, keys in self.names.items():
                for kk in _each(keys):
                    _put(rev, kk, name)
            for kk, v in rev.items():
                if type(v) is not str:
                    rev[kk] = tuple(sorted(v))  # type: ignore[assignment]
            self._names_of = rev  # type: ignore[assignment]
        names = self._names_of.get(k, ())
        return (names,) if type(names) is str else names

    def classify(self, k: str, rules: ClassRules) -> tuple[str | None, str | None]:
        """The class of the thing ``k`` from all the evidence the corpus has (cached)."""
        if k not in self._classes and to_hans(base_name(self.display(k))) in self.era_names and k not in self.pages:
            self._classes[k] = (None, None)  # 收國, 太平興國: an era, whatever its name ends in
        if k not in self._classes:
            # once all are classified, a thing not yet classified is in no name's things
            names = () if self._classified else self.names_of(k)
            verdict = rules.classify(self.display(k), self.pages.get(k), names, _counted(self.votes.get(k)),
                                     _counted(self.stated.get(k)))
            self._classes[k] = _VERDICTS.setdefault(verdict, verdict)  # a few hundred verdicts for millions of keys
        return self._classes[k]

    def name(self, name: str, k: str) -> None:
        """Record that ``name`` (any script) may denote the thing ``k``."""
        self._parts.clear()
        self._classified = False
        _put(self.names, key(base_name(name)), self.canonical.get(k, k))

    def matcher(self, rules: ClassRules) -> NameMatcher:
        """The automaton over the names of every typed thing (built on first use, after the
        first pass). Untyped pages (自縊, 正月) are linked words, not names to look for."""
        if self._matcher is None:
            self._matcher = NameMatcher(self.names, self.polities,
                                        keep=lambda k: self.classify(k, rules)[0] is not None)
        return self._matcher

    def spell(self, k: str, written: str) -> None:
        """Count a written form of the thing ``k`` (only forms of its own name, not aliases)."""
        self._parts.clear()
        if key(written) == k:
            _count(self.spellings, k, written)

    def add_article(self, reading: LexiconReading) -> None:
        self._parts.clear()
        title = reading.page
        k = self.resolve(title)
        self.pages[k] = PageInfo(k, title, reading.categories, reading.lead, reading.names)
        self.spell(k, title)
        for n in reading.names:
            if not _NOT_A_NAME.search(n):
                self.name(n, k)
        # The bold title term of a page is another name of its thing (襄樊之战 opens 襄阳之战).
        nk = key(reading.title)
        if nk != k and nk not in self.canonical and nk not in self.pages:
            self.canonical[nk] = k
        for target, alias, _vote in reading.links:
            lk = self.resolve(target)
            self.spell(lk, target)
            if not is_descriptive(target):
                self.name(target, lk)
            if alias:
                self.name(alias, lk)

    def owned_elsewhere(self, name: str, k: str) -> bool:
        """Is ``name`` the own name of a thing other than ``k`` (a page, or a link target)?"""
        other = self.resolve(name)
        return other != k and (other in self.pages or other in self.spellings)

    def resolve(self, name: str) -> str:
        k = key(name)
        return self.canonical.get(k, k)

    def display(self, k: str) -> str:
        """The commonest spelling of a thing's name in the corpus (ties: smallest)."""
        counts = self.spellings.get(k)
        if not counts:
            return k
        if type(counts) is str:  # one spelling seen once, or compacted: the display name
            return counts
        return min(counts.items(), key=lambda kv: (-kv[1], kv[0]))[0]


def _count(table: dict[str, Counter[str] | str], k: str, item: str, n: int = 1) -> None:
    """``table[k][item] += n`` for the lexicon's tallies (a thing's spellings, its context
    votes, the classes stated of it), where most things have one item, seen once: such an entry
    is the item alone, and a counter is made at the second sighting (with the same done for the
    names' sets and `names_of`'s lists, the join's peak fell by a third: `bench/lexicon.py
    --trace-join`). Read an entry through `_counted`."""
    counts = table.get(k)
    if counts is None and n == 1:
        table[k] = item
        return
    if type(counts) is str:
        counts = table[k] = Counter({counts: 1})
    elif counts is None:
        counts = table[k] = Counter()
    counts[item] += n


def _counted(counts: Counter[str] | str | None) -> Counter[str] | dict[str, int] | None:
    """A tally's entry (`_count`) as counts."""
    return {counts: 1} if type(counts) is str else counts


def _put(table: dict[str, set[str] | str], k: str, item: str) -> None:
    """Add ``item`` to the set ``table[k]``, which holds one item as the string alone (a set is
    made for the second): the names' things and `names_of`'s names, one each for most."""
    had = table.get(k)
    if had is None:
        table[k] = item
    elif type(had) is str:
        if had != item:
            table[k] = {had, item}
    else:
        had.add(item)


def _each(keys: set[str] | tuple[str, ...] | str) -> Iterable[str]:
    """A names entry as its keys."""
    return (keys,) if type(keys) is str else keys


_VERDICTS: dict[tuple[str | None, str | None], tuple[str | None, str | None]] = {}  # each (class, rule) once
_PARTS_KEPT = 20_000  # keys whose parts a process keeps (then it starts again: memory stays bounded)


def _entity(k: str, lexicon: Lexicon, rules: ClassRules, aliases: set[tuple[str, str]],
            listed: str | None = None) -> Entity:
    # What does not depend on the article is the same in every article that names k: made once.
    parts = lexicon._parts
    if parts.get("rules") is not rules or len(parts) > _PARTS_KEPT:
        parts.clear()
        parts["rules"] = rules
    done = parts.get(k)
    if done is None:
        done = parts[k] = _entity_parts(k, lexicon, rules)
    labels, own, cls, wiki, rule, ruler_of, affiliation = done
    if cls is None and rule is None and listed is not None:
        cls, rule = listed, "list: named beside names of this class"  # this article's lists say so
    # this article's link texts too may be another thing's own name ([大名府](…/北京市))
    # (the label itself, what most links and names found say, needs no asking: it goes anyway)
    names = {n for n in aliases if n != labels and (not lexicon.owned_elsewhere(n[1], k) or _CAPITAL_TITLE.match(n[1]))}
    names.update(own)
    names.discard(labels)
    return Entity(k, labels, tuple(sorted(names)), cls, wiki, rule, ruler_of, affiliation)


def _entity_parts(k: str, lexicon: Lexicon, rules: ClassRules) -> tuple:
    """An entity's labels, names, class, page and polity: all but the aliases of one article."""
    display = lexicon.display(k)
    page = lexicon.pages.get(k)
    base = base_name(display)
    labels = (to_hant(base), to_hans(base))
    names = set()
    if base != display:
        names.add((to_hant(display), to_hans(display)))
    # The names every article that names it states (`Lexicon.standing`: the alias table's, a
    # ruler's bare temple name). The corpus's other names for it are stated by the articles that
    # write them (`extract_entities`), so what an article's graph says is in the article, and does
    # not grow with the corpus.
    for n in lexicon.standing.get(k, ()):
        names.add((to_hant(n), n))
    # A name that is another thing's own name is no alias of this one, whatever one article's
    # link said ([大名府](…/北京市), [光定](…/夏神宗)): the graph keeps one owner per name.
    # A capital's title (上京, 南京) is the exception: it names a different city in each dynasty.
    names = {n for n in names if not lexicon.owned_elsewhere(n[1], k) or _CAPITAL_TITLE.match(n[1])}
    cls, rule = lexicon.classify(k, rules)
    wiki = page.title if page is not None else display
    ruler_of = affiliation = None
    if cls in ("Ruler", "Person"):
        polity = _polity_named(page, [display, *(n for n in (page.names if page else ())), *lexicon.person_names(k)], lexicon)
        if cls == "Ruler" and k in lexicon.ruler_polities:
            polity = lexicon.ruler_polities[k]  # 宋高宗 proclaimed 建炎 as emperor of 南宋 (eras.tsv)
        if polity is None:
            hans = to_hans(display)
            polity = next((p for clan, p in lexicon.clans if hans.startswith(clan) and len(hans) > len(clan)), None)
        if cls == "Ruler":
            ruler_of = polity
        else:
            affiliation = polity
    return labels, frozenset(names), cls, wiki, rule, ruler_of, affiliation


def _polity_named(page: PageInfo | None, names: list[str], lexicon: Lexicon) -> str | None:
    """The polity a person belongs to: named by his article's categories (南宋皇帝, 金朝軍事人物),
    else by the start of his name (金哀宗 → 金朝)."""
    table = lexicon.polities
    if table is None:
        return None
    full, by_length = _polity_names(table)
    # Each test below takes the longest polity name that fits. Of the names of one length only
    # one can end (or start) a given string, so the names are looked up by the string's own
    # ends, longest first: the same answer as trying every name, longest first, in far fewer steps.
    longest = len(by_length[0]) if by_length else 0
    if page is not None and page.lead:
        # 是北遼開國皇帝: the polity his own lead says he ruled beats a broader category (遼國皇帝)
        lead = to_hans(page.lead)
        for m in _LEAD_RULER.finditer(lead):
            head = lead[:m.start()]
            for n in range(min(len(head), longest), 1, -1):  # names of two characters or more
                if head[-n:] in full:
                    return full[head[-n:]][0]
    if page is not None:
        for category in page.categories:
            c = to_hans(category)
            for n in range(min(len(c), longest), 1, -1):
                if c[:n] in full:
                    return full[c[:n]][0]
    for name in names:
        h = to_hans(name)
        for n in range(min(len(h) - 1, longest), -1, -1):  # a temple name must follow
            if h[:n] in full and rules_temple(h[n:]):
                return full[h[:n]][0]
    return None


_POLITY_NAMES: dict[int, tuple[PolityTable, dict[str, tuple[str, ...]], list[str]]] = {}


def _polity_names(table: PolityTable) -> tuple[dict[str, tuple[str, ...]], list[str]]:
    """Every short and full polity name of ``table`` with the polities it names, and the names
    longest first (made once per table; the table is frozen)."""
    cached = _POLITY_NAMES.get(id(table))
    if cached is not None and cached[0] is table:
        return cached[1], cached[2]
    full: dict[str, tuple[str, ...]] = {}
    for short, keys in table.shorts.items():
        full.setdefault(short, keys)
    for keys in table.shorts.values():
        for k in keys:
            full[k] = (k,)
    by_length = sorted(full, key=len, reverse=True)
    if len(_POLITY_NAMES) > 16:
        _POLITY_NAMES.clear()
    _POLITY_NAMES[id(table)] = (table, full, by_length)  # the table itself kept: ids are not reused
    return full, by_length


_TEMPLE = re.compile(r"^[太高世中仁英神哲徽钦宁理度端恭光孝睿圣道兴穆景章宣卫哀末昭惠崇献宪襄桓毅顺定熙真少废天][宗祖帝]$|^(天祚帝|末帝|少帝|废帝|恭帝|主)$")


def rules_temple(rest: str) -> bool:
    """Is ``rest`` a temple or posthumous name (the 哀宗 of 金哀宗)?"""
    return bool(_TEMPLE.match(rest))


_TEXT_KINDS = ("text", "list", "footnote", "table")


def _choose(candidates: tuple[str, ...], local: dict[str, int], own: str | None = None,
            dynasty_of: dict[str, str] | None = None, topic: str | None = None) -> str:
    """Of the things a shared name may denote, the one this article links first (local
    holds each linked key's first position), else the thing whose own name it is (大名府, not
    the 北京市 one article's link gave that text), else the first listed."""
    if len(candidates) == 1:
        return candidates[0]
    if topic in candidates and own and _BARE_TEMPLE.match(own):
        return topic  # 太宗 in 金太宗's own article is he
    linked = [c for c in candidates if c in local]
    if linked:
        return min(linked, key=lambda c: local[c])
    if own in candidates:
        return own
    # 哀宗 in an article that links 金朝: 金哀宗, of the dynasty the article names first
    dynasty_of = dynasty_of or {}
    ranked = sorted((pos, c) for c in candidates
                    for pos in [min((local[p] for p in _DYNASTY_OF_TEMPLE.get(dynasty_of.get(c, c[:1]), ())
                                     if p in local), default=None)]
                    if pos is not None)
    return ranked[0][1] if ranked else candidates[0]


def extract_entities(article: Article, lexicon: Lexicon, rules: ClassRules) -> tuple[str, list[Entity], list[Mention]]:
    """The article's topic key, the entities it names and every place it names them.

    Links come first; then known names in running text (a second pass over every sentence with
    the lexicon's automaton), which may not overlap a link.
    """
    mentions: list[Mention] = []
    aliases: dict[str, set[tuple[str, str]]] = {}
    local_classes: dict[str, str] = {}  # classes this article's lists give names the corpus does not type

    def _class_here(k: str) -> str | None:
        return lexicon.classify(k, rules)[0] or local_classes.get(k)

    title = page_title_of(article)
    topic = lexicon.resolve(title)
    own_names = aliases.setdefault(topic, set())
    page = lexicon.pages.get(topic)
    if page is not None and page.title == title:  # the thing's own page: the names it gives itself
        for n in page.names:
            own_names.add(_both_scripts(base_name(n)))
    taken: list[tuple[int, int]] = []
    for term, plain in article.bold:
        if article.lead and plain.start <= article.lead[-1].plain.end and not _NOT_A_NAME.search(term.strip()):
            # bold names in the lead are the topic's own names (**鐵木真**…**成吉思汗**)
            aliases[topic].add(labels_for(article, plain))
            via = "title" if term.strip() == article.title else "bold"
            mentions.append(Mention(topic, term, article.source_span(plain), via, plain))
            taken.append((plain.start, plain.end))
    local: dict[str, int] = {}
    for link in article.links:
        if link.kind != "wiki" or _NOT_A_THING.match(link.target) or not link.text.strip():
            continue
        k = lexicon.resolve(link.target)
        local.setdefault(k, link.plain.start)
        names = aliases.setdefault(k, set())
        if not is_descriptive(link.target):  # the page it links to: a name of the thing
            names.add(_both_scripts(base_name(link.target)))
        base = key(base_name(link.target))
        if key(link.text).startswith(base):
            plain = Span(link.plain.start, link.plain.start + len(base))
        elif link_alias(link.text, link.target):
            plain = link.plain
            names.add(labels_for(article, plain))
        else:
            # The shown words are a phrase, not the name ([進攻西夏](…/蒙古滅西夏之戰)): the
            # thing is mentioned, but the words stay open to the name matcher.
            mentions.append(Mention(k, link.text, link.span, "phrase", link.plain))
            continue
        if is_descriptive(link.target) and lexicon.classify(k, rules)[0] in ("Battle", "War"):
            # A descriptive title (木華黎攻佔京兆府長安之戰) names a battle and states its facts:
            # the words inside stay open to the name matcher and to event extraction.
            mentions.append(Mention(k, article.text[plain.start:plain.end], article.source_span(plain), "descriptive", plain))
            continue
        mentions.append(Mention(k, article.text[plain.start:plain.end], article.source_span(plain), "link", plain))
        taken.append((plain.start, plain.end))
    if lexicon.polities is not None:
        for target in shared_short_preferences(article.links, lexicon.polities, lexicon.resolve):
            local[target] = -1  # ranked before every other link
    # Known names in running text, outside links.
    taken.sort()
    starts = [t[0] for t in taken]
    matcher = lexicon.matcher(rules)
    # The mentions found so far (bold names, links; none found in running text), by start, to
    # take those of each sentence without scanning them all for every sentence.
    pre = sorted((m for m in mentions if m.via not in ("phrase", "descriptive")), key=lambda m: (m.plain.start, m.plain.end))
    before = [(m.plain.start, m.plain.end) for m in pre]
    before_starts = [b[0] for b in before]
    seen_end = -1  # where the running-text mentions of the sentences done so far may reach
    for sentence in article.sentences:
        if sentence.kind not in _TEXT_KINDS:
            continue
        hans = to_hans(sentence.text)
        if len(hans) != len(sentence.text):
            continue  # a phrase conversion changed the length: offsets would not hold
        base_off = sentence.plain.start
        first_new = len(mentions)
        for hit_start, hit_end, hit_kind, hit_candidates, hit_commander in matcher.find_tuples(hans):
            if hit_kind == "army" and hans[hit_end - 1:hit_end + 1] == "主力":
                # 金國主力: 金國's main force (主力), not 金國主 (its ruler); a short name alone
                # (金主力) is no mention
                if hit_end - 1 - hit_start < 2:
                    continue
                hit_end -= 1
            ps, pe = base_off + hit_start, base_off + hit_end
            i = bisect_left(starts, pe) - 1  # the last mention starting before this hit ends
            if i >= 0 and taken[i][1] > ps:
                continue  # overlaps a link or bold name
            plain = Span(ps, pe)
            surface = article.text[ps:pe]
            span = article.source_span(plain)
            via = "text" if hit_kind == "name" else ("commander" if hit_commander else "army")
            if hit_kind == "name" and hit_start and hans[hit_start - 1] in _DYNASTY_OF_TEMPLE \
                    and _BARE_TEMPLE.match(hans[hit_start:hit_end]):
                # 遼太祖 written out: the dynasty before the temple name decides, and if no ruler of
                # that dynasty bears it in the corpus, it is none of the others either
                hinted = hans[hit_start - 1]
                kept = tuple(tuple(c for c in cs if lexicon.dynasty_of.get(c, c[:1]) == hinted) for cs in hit_candidates)
                if not any(kept):
                    continue
                hit_candidates = tuple(cs for cs in kept if cs)
            for candidates in hit_candidates:
                k = _choose(candidates, local, key(surface), lexicon.dynasty_of, topic)
                mentions.append(Mention(k, surface, span, via, plain))
                names = aliases.setdefault(k, set())
                if hit_kind == "name":  # the name found here is one of its names (its main one: the label)
                    name = hans[hit_start:hit_end]
                    if name != k:
                        names.add((to_hant(name), name))
        # Settlements the corpus never links, found by their suffix: 天德州, 建寧寨, 東勝城.
        if base_off >= seen_end:
            # The usual case: the sentences met so far end before this one starts, so of the
            # mentions of running text only this sentence's own can lie in it (or be removed).
            lo = bisect_left(before_starts, base_off)
            hi = bisect_left(before_starts, sentence.plain.end)
            new = [m for m in mentions[first_new:]
                   if base_off <= m.plain.start < sentence.plain.end and m.via not in ("phrase", "descriptive")]
            occupied = sorted([(a - base_off, b - base_off) for a, b in before[lo:hi]]
                              + [(m.plain.start - base_off, m.plain.end - base_off) for m in new])
            extendable = {m.plain.end - base_off: m.plain.start - base_off for m in new if m.via == "text"}
            keep = first_new
        else:
            here = [m for m in mentions if base_off <= m.plain.start < sentence.plain.end and m.via not in ("phrase", "descriptive")]
            occupied = sorted((m.plain.start - base_off, m.plain.end - base_off) for m in here)
            # a name found in running text may be the head of a longer one: 襄陽 + 府
            extendable = {m.plain.end - base_off: m.plain.start - base_off for m in here if m.via == "text"}
            keep = 0
        lo = bisect_left(before_starts, base_off)
        hi = bisect_left(before_starts, sentence.plain.end)
        seen_end = max(seen_end, base_off + len(hans))
        for ds, de in discover_settlements(hans, occupied, lexicon.polities, extendable):
            plain = Span(base_off + ds, base_off + de)
            # (before ``keep``: bold names and links, or mentions of text outside this sentence)
            mentions[keep:] = [m for m in mentions[keep:] if not (plain.start <= m.plain.start and m.plain.end <= plain.end
                                                                  and m.via == "text")]
            labels = labels_for(article, plain)
            k = lexicon.resolve(labels[1])
            mentions.append(Mention(k, article.text[plain.start:plain.end], article.source_span(plain), "text", plain))
            aliases.setdefault(k, set())
        if "京" in hans:
            _join_capital_titles(mentions, keep, hans, base_off, sentence.plain.end, article, aliases)
        if "、" not in hans:
            continue
        # Names in a list beside names of one kind: 懷萊、紫陽關、涿郡 (places), 孟璟、孟璋 (brothers)
        here = pre[lo:hi] + [m for m in mentions[keep:] if base_off <= m.plain.start < sentence.plain.end
                             and m.via not in ("phrase", "descriptive")]
        for ds, de, cls in discover_in_lists(hans, [(m.plain.start - base_off, m.plain.end - base_off, _class_here(m.key))
                                                    for m in here],
                                             lambda name: key(name) in lexicon.names):
            plain = Span(base_off + ds, base_off + de)
            same = next((m for m in here if m.plain == plain), None)
            k = same.key if same is not None else lexicon.resolve(labels_for(article, plain)[1])
            if _class_here(k) is None:
                local_classes[k] = cls
            if same is None:
                mentions.append(Mention(k, article.text[plain.start:plain.end], article.source_span(plain), "text", plain))
                aliases.setdefault(k, set())
    entities = [_entity(k, lexicon, rules, names, local_classes.get(k)) for k, names in aliases.items()]
    entities.sort(key=lambda e: e.key)
    mentions.sort(key=lambda m: (m.plain.start, m.plain.end))
    return topic, entities, mentions


def _both_scripts(name: str) -> tuple[str, str]:
    """(zh-Hant, zh-Hans) of a name the article gives outside its text (a link target, a title),
    each form made from the Simplified one, as the lexicon keeps names (a title may mix scripts)."""
    hans = to_hans(name)
    return to_hant(hans), hans


_GLOSS_OPEN = re.compile(r"[（(]")
_LEAD_RULER = re.compile(r"的?(?:开国|末代|第一位|最后一位)?(?:皇帝|君主|国君|可汗)")
_BARE_TEMPLE = re.compile(r"^(?:.[宗祖]|末帝|少帝|废帝|恭帝)$")
_TEMPLE_NAME = re.compile(r"^(?:宋|辽|金|夏|西夏|元|蒙古)(.[宗祖]|末帝|少帝|废帝|恭帝)$")
_DYNASTY_OF_TEMPLE = {"宋": ("宋朝", "北宋", "南宋"), "辽": ("辽朝",), "金": ("金朝",), "夏": ("西夏",),
                      "西": ("西夏",), "元": ("元朝",), "蒙": ("蒙古帝国",)}
_LINK_MARKUP = re.compile(r"\]\([^)\s]*(?:\s\"[^\"]*\")?\)|\[")


def _unlinked(source: str) -> str:
    """Markdown text with link markup dropped ([肇源西南](…) → 肇源西南), for the first pass's
    word patterns (offsets do not matter there)."""
    return _LINK_MARKUP.sub("", source)


_CAPITAL_TITLE = re.compile(r"^[东西南北中上]京$")


def _join_capital_titles(mentions: list[Mention], first: int, hans: str, base_off: int, end: int, article: Article,
                         aliases: dict[str, set[tuple[str, str]]]) -> None:
    """北京大定府, 南京開封府: a capital's title written before its prefecture is part of one
    name, the prefecture's (北京 alone is another thing). Only ``mentions[first:]`` can be this
    sentence's names of running text."""
    here = sorted((m for m in mentions[first:] if base_off <= m.plain.start < end and m.via == "text"),
                  key=lambda m: m.plain.start)
    for a, b in zip(here, here[1:]):
        if a.plain.end != b.plain.start or not hans[b.plain.end - base_off - 1:b.plain.end - base_off] == "府":
            continue
        if not _CAPITAL_TITLE.match(hans[a.plain.start - base_off:a.plain.end - base_off]):
            continue
        plain = Span(a.plain.start, b.plain.end)
        del mentions[mentions.index(a, first)]
        mentions[mentions.index(b, first)] = Mention(b.key, article.text[plain.start:plain.end], article.source_span(plain),
                                              b.via, plain)
        aliases.setdefault(b.key, set()).add(labels_for(article, plain))


# Suffixes of settlement names that may be found without a link, and what may not precede
# them in a name (numbers, quantifiers, verbs, prepositions, punctuation).
_SETTLEMENT_SUFFIX = frozenset("州府城寨砦堡关县镇路郡市省")
_SUFFIX_AT = re.compile("[" + "".join(sorted(_SETTLEMENT_SUFFIX)) + "]")
_NOT_IN_NAME = frozenset("，。、；：（）()「」“”《》 \t·•馀余打击擊赴奔抵的之于於在至到往入和与及并或等被把将向从自由以为是了又也各诸数两此该本其每另诸攻取破陷下克拔占据围领经过抵退回奔逃迁移设置改升降称号名该原旧新今故即乃遂亦再复兵士登"
                         "年月日初旬底一二三四五六七八九十百千万0123456789封窃遥遙典国任兼知举偿有就命沿着缘出进屯守驻镇治")
_GENERIC_AFTER = {"路": frozenset("线上过途径程人口边旁费面灯军兵"), "市": frozenset("场民井集面值价镇舶易"),
                  "省": frozenset("略钱力事份去悟亲视察城"), "郡": frozenset("县主王守国"), "城": frozenset("池墙门内外中下破陷守楼头墙郭邑市镇"), "府": frozenset("库兵军中内"), "州": frozenset("县郡府城"), "关": frozenset("系键口心注闭于联切连押"), "镇": frozenset("守压抚静国住"), "县": frozenset("令丞尉城")}
# 路 is also a road: what a circuit's name never contains (派环庆路 is 派 + 环庆路, not a name)
_NOT_IN_CIRCUIT = frozenset("分使责派但这条所率需要别构筑走马馬辟言几非坡径海小大兵军軍经經由沿")
_GENERIC_NAMES = frozenset({"重镇", "都市", "城市", "街市", "夜市", "互市", "闹市", "门市", "上市", "集市", "股市", "开市", "罢市", "市",
                            "行省", "本省", "各省", "该省", "全省", "外省", "节省", "反省", "自省", "内省", "省",
                            "诸郡", "各郡", "本郡", "该郡", "全郡", "郡", "道路", "水路", "陆路", "去路", "归路", "后路", "来路", "前路", "大路", "小路", "山路", "马路", "公路", "铁路", "正路", "思路", "门路", "生路", "死路", "活路", "此路", "该路", "各路", "诸路", "分路", "本路", "全路", "同路", "迷路", "带路", "引路", "让路", "开路", "绕路", "中路", "东路", "西路", "南路", "北路", "左路", "右路", "两路", "三路", "他路", "别路", "旁路", "岔路", "险路", "要路", "粮路", "运路", "兵路", "军路", "路路", "政府", "幕府", "官府", "王府", "知府", "首府", "神州", "九州", "中州", "外州", "京城", "都城", "坚城", "孤城", "全城", "满城", "攻城", "守城", "出城", "入城", "屠城", "围城", "空城", "边城", "长城", "筑城", "城关", "海关", "雄关", "边关", "过关", "险关", "入关", "出关", "难关", "通关", "有关", "相关", "机关", "知州", "知府", "进城", "出城", "州府", "本州", "该州", "州县", "郡县", "诸县", "各县", "数县", "乡镇", "城镇", "重镇", "市镇", "军镇", "边镇", "藩镇", "坐镇", "镇守", "镇压"})


def discover_settlements(hans: str, occupied: list[tuple[int, int]], polities: PolityTable | None,
                         extendable: dict[int, int] | None = None) -> list[tuple[int, int]]:
    """Spans of settlement names ending in 州/府/城/寨/堡/關 that no mention covers yet.

    Walks left from the suffix over at most three characters, stopping at a character that
    cannot be part of a name, at a mention, or at a one-character polity name once the name
    has two characters (金臨洮府 → 臨洮府, but 平夏城 keeps its 夏).
    """
    suffixes = [m.start() for m in _SUFFIX_AT.finditer(hans)]  # only these can end a name
    natures = [m.start() for m in _NATURE_AT.finditer(hans)]
    if not suffixes and not natures and not extendable:
        return []
    n = len(hans)
    taken = bytearray(n)
    for a, b in occupied:
        a, b = max(a, 0), min(b, n)
        if b > a:
            taken[a:b] = b"\x01" * (b - a)
    shorts = polities.shorts if polities is not None else {}
    out: list[tuple[int, int]] = []

    def take(a: int, b: int) -> None:
        out.append((a, b))
        taken[a:b] = b"\x01" * (b - a)

    for i in suffixes:
        ch = hans[i]
        if taken[i]:
            continue
        nxt = hans[i + 1] if i + 1 < len(hans) else ""
        if nxt and nxt in _GENERIC_AFTER.get(ch, ()):
            continue
        if ch == "路" and extendable:
            # 河北 + 東路, 大名府 + 路: a circuit named after a known region or prefecture
            e = i if i in extendable else (i - 1 if i - 1 in extendable and hans[i - 1] in "东西南北" else None)
            if e is not None:
                take(extendable[e], i + 1)
                continue
        if (extendable and i in extendable and hans[i - 1] not in _SETTLEMENT_SUFFIX
                and hans[extendable[i]:i + 1] not in _GENERIC_NAMES):
            take(extendable[i], i + 1)  # 襄陽 (known) + 府
            continue
        j = i
        while j > 0 and i - j < 3:
            c = hans[j - 1]
            if taken[j - 1] or c in _NOT_IN_NAME or c in _SETTLEMENT_SUFFIX:
                break
            if c in shorts and len(c) == 1 and i - j + 1 >= 2:
                break
            j -= 1
        if i - j < 1 or hans[j:i + 1] in _GENERIC_NAMES or hans[i - 1:i + 1] == "重镇":
            continue  # 川東重鎮: "a key town of eastern Sichuan", not a name
        if ch == "路" and (i - j < 2 or any(c in _NOT_IN_CIRCUIT for c in hans[j:i])):
            continue  # circuits have names of two characters or more: 鄜延路, 河东南路
        if ch == "省":
            continue  # a province only after a known name (吉林 + 省): 尚書省 is a department
        take(j, i + 1)
    # Mountains, rivers and lakes (馬鐙山, 白溝河, 斡鄰濼): stricter, as these characters are
    # common words too: a body of two or three characters right after a word that introduces a
    # place (攻破馬鐙山, 敗…于銀胡蘆山, 至斡鄰濼), the longest such body.
    for i in natures:
        if taken[i]:
            continue
        end = i + 2 if hans[i:i + 2] in _NATURE_TWO else i + 1
        if end < len(hans) and hans[end] in _NATURE_GENERIC_AFTER:
            continue
        j = next((i - k for k in (3, 2) if i - k > 0 and hans[i - k - 1] in _PLACE_INTRO
                  and not any(taken[t] or hans[t] in _NOT_IN_NAME or hans[t] in _PLACE_INTRO
                              for t in range(i - k, i))), None)
        if j is None or hans[j:end] in _GENERIC_NAMES or any(c in _SETTLEMENT_SUFFIX for c in hans[j:i]):
            continue
        take(j, end)
    # 華北 + 平原, 四川 + 盆地: a known region's plain or basin
    for e, start in (extendable or {}).items():
        if hans[e:e + 2] in _NATURE_TWO and not any(taken[e:e + 2]):
            take(start, e + 2)
    return out


_PLACE_INTRO = frozenset("于於至到在抵经过破克越渡往入出自从屯驻守围、，。（和及与的")
# offices and honours come in lists too (贈太師、上柱國): never a place or a person
_GENERIC_IN_LISTS = ("州县", "州縣", "郡县", "郡縣", "诸州", "诸郡")
_NOT_LISTED = frozenset("太师尉柱赠傅保徒空卿丞然而没者")
_LIST_END = frozenset("、，。；：（()）「」“”《》的和及与并 \t")


def discover_in_lists(hans: str, known: list[tuple[int, int, str | None]],
                      is_name: Callable[[str], bool] = lambda _: False) -> list[tuple[int, int, str]]:
    """(start, end, class) of unnamed items of 、-lists whose neighbour item is a known place or
    person: 攻佔中都路的懷萊、紫陽關 (懷萊 is a place), 孟珙和孟璟、孟璋 (孟璋 shares a known
    person's surname). Items are two or three characters, not numbers."""
    if "、" not in hans:
        return []
    exact = {(a, b): cls for a, b, cls in known}
    covered = [False] * len(hans)
    for a, b, _ in known:
        for t in range(max(a, 0), min(b, len(hans))):
            covered[t] = True
    items: list[list[tuple[int, int]]] = []  # chains of (start, end) items joined by 、
    chain: list[tuple[int, int]] = []
    following = hans.find("、")
    while following >= 0:  # each 、 in turn
        p, following = following, hans.find("、", following + 1)
        e = p
        if e > 0 and hans[e - 1] in "）)":  # 宣德州（今河北宣化）、: the item before its gloss
            depth, e = 0, e - 1
            while e >= 0:
                depth += hans[e] in "）)"
                depth -= hans[e] in "（("
                if depth == 0:
                    break
                e -= 1
        s0 = e
        while s0 > 0 and hans[s0 - 1] not in _LIST_END and hans[s0 - 1] not in _NOT_IN_NAME and e - s0 < 6:
            s0 -= 1  # 進至岐溝、涿州: the first item starts after the verb
        left = (s0, e)
        n = p + 1
        while n < len(hans) and hans[n] not in _LIST_END and n - p - 1 < 6:
            n += 1
        right = (p + 1, n)
        if chain and chain[-1] == left:
            chain.append(right)
            continue
        if chain:
            items.append(chain)
        chain = [left, right]
        if s0 >= 1 and hans[s0 - 1] in "和及与":  # 孟珙和孟璟、孟璋: the first of the list before 和
            before = [(a, b) for a, b, _ in known if b == s0 - 1]
            if before:
                chain.insert(0, before[0])
    if chain:
        items.append(chain)
    for chain in items:  # the last item runs on into the sentence: 孟瑛一起 → 孟瑛
        a, b = chain[-1]
        cut = next((t for t in range(a, b) if hans[t] in _NOT_IN_NAME), b)
        pa, pb = chain[-2]
        if cut - a > 3 and hans[pa] == hans[a] and pb - pa <= 3:
            cut = a + (pb - pa)  # 孟璋、孟瑛兄弟: a brother's name as long as the one before
        chain[-1] = (a, cut)
    out: list[tuple[int, int, str]] = []
    changed = True
    while changed:  # a found item is a known neighbour of the next: 孟璟、孟璋、孟瑛
        changed = False
        for chain in items:
            for i, (a, b) in enumerate(chain):
                # 术赤、察合台、窩闊台: names the corpus links, untyped, beside a known person
                untyped = ((a, b) in exact and exact[(a, b)] is None) or ((a, b) not in exact and is_name(hans[a:b]))
                if any(g in hans[a:b] for g in _GENERIC_IN_LISTS):
                    continue  # 河東、北州縣: "the prefectures and counties of the north", no name
                if ((a, b) in exact and not untyped) or not 2 <= b - a <= 4 or (any(covered[a:b]) and not untyped) \
                        or not all("\u4e00" <= c <= "\u9fff" and c not in _NOT_IN_NAME and c not in _NOT_LISTED
                                   for c in hans[a:b]):
                    continue
                for j in (i - 1, i + 1):
                    cls = exact.get(chain[j]) if 0 <= j < len(chain) else None
                    found = "Place" if cls in ("Place", "City") else \
                        "Person" if cls in ("Person", "Ruler") and (untyped or hans[chain[j][0]] == hans[a]) else None
                    if found:
                        out.append((a, b, found))
                        exact[(a, b)] = found
                        changed = True
                        break
    return sorted(out)


_NATURE_SUFFIX = frozenset("山河泊泺泡沟堤岭冈")
_NATURE_AT = re.compile("[" + "".join(sorted(_NATURE_SUFFIX)) + "]")
_NATURE_TWO = frozenset({"山脉", "平原", "盆地", "草原", "高原", "地区"})
_NATURE_GENERIC_AFTER = frozenset("上下中里内外顶头脚腰坡区势林水流域岸边谷道公王侯寺庙前后之的间")
