"""Events: who did what to whom, when, with the sentence that says so.

A rule-based extractor in the manner of trigger/frame systems: each trigger verb of
`ontology/triggers.tsv` has a frame that says where its arguments stand around it (agent
before, target after; the passive 被/為…所 reverses that; 敗於 names the victim first…). The
arguments are the entity mentions found by `entities` (links, known names, armies standing for
polities). The subject of a clause that names none continues from the clause before, as Chinese
prose leaves it implied; a polity's end (西夏滅亡) takes the last military agent as its agent.

Filters keep non-facts out: quoted speech, negations (宋朝不許), intentions (欲, 準備, 意圖),
words that merely contain a trigger (天下, 逃亡), and arguments of the wrong class.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from .article import Article, Span, record
from .dates import DateContext, EraTable, find_dates
from .facts import Entity, Event, Mention
from .mentions import PolityTable, shared_short_preferences
from .script import key, to_hans

__all__ = ["TriggerTable", "EntityInfo", "extract_events", "conflict_facts"]

AGENTIVE = frozenset({"Polity", "Dynasty", "Person", "Ruler"})
POLITY = frozenset({"Polity", "Dynasty"})
PERSON = frozenset({"Person", "Ruler"})
PLACE = frozenset({"Place", "City"})
SUPER = {"Dynasty": "Polity", "Ruler": "Person", "City": "Place", "War": "Event", "Battle": "Event",
         "Alliance": "Event", "Treaty": "Event"}
MILITARY = frozenset({"Capture", "Attack", "Victory", "Conquest"})

_CLAUSE = re.compile(r"[，,；;：:。！？!?]")
_FORT = frozenset("寨砦堡城关關")
_GLOSS = re.compile(r"^[（(][^（）()]{1,12}[）)][、及和与與]?$")
_QUOTES = {"「": "」", "“": "”", "『": "』", "《": "》"}
# Words before a trigger, inside its clause, that make it no fact. Every alternative starts with
# a character (a look-behind is written after the character it guards: 令(?<![县…]令), not
# (?<![县…])令), so the regex engine skips ahead to those characters instead of trying every
# alternative at every position: the same matches, in half the time.
_INTENT = re.compile(r"欲|想|走向|策略|应当|應當|应该|應該|商议|商議|大计|大計|会发起|會發起|将会|將會|战略|戰略|方法|[愿願](?<![遗遺心志][愿願])|约|能够|得以|提议|提議|目标|目的|逼迫|迫使|准备|企图|意图|打算|计划|谋(?<![阴陰计計参參]谋)(?!略)|试图|拟|将要|要求|请求|建议|劝|命令|令(?<![县縣阳陽州城府山江]令)|下令|诏|如果|若|假如|倘")
_PLAN = re.compile(r"(?:约定|议定|约|盟约|目标|计划)[：:]")
_LATER = re.compile(r"之后|之後|以后|以後|日后|日後|后来|後來|其后|其後|此后|此後|不久|随后|隨後|及后|及後")
_ROUTED = frozenset({"大败", "败", "大溃", "溃"})
# 接受西夏的請求，把…割給夏國: a request granted is no longer a plan
_GRANTED = re.compile(r"接受|应允|應允|准其|允其")
_AGREE = re.compile(r"同意|答应|答應|允许|允許|许诺|許諾")
_PURPOSE = re.compile(r"^[^，。]{0,6}?的?(?:策略|计划|計劃|目的|战略|戰略|政策|意图|意圖|口号|口號|主张|主張|方针|方針|野心|企图)")
_NEGATION = ("不", "未", "没", "無", "无", "非", "莫", "勿", "未能", "不能", "无法", "無法", "不敢", "不得", "无力", "無力")
_PREPOSITIONS = frozenset("与與和同向对對在于於从從至到自及跟替给給把将將被为為随隨")
_COORDINATION = re.compile(r"^(?:、|及|和|与|與|并|並|以及|跟|,|，)$")


@dataclass(frozen=True, slots=True)
class Trigger:
    kind: str
    word: str
    frame: str
    targets: frozenset[str]  # allowed target classes; "*" admits untyped
    polity: str | None = None  # the polity the verb itself implies (繼承大汗位: the Mongols)


class TriggerTable:
    """The rows of `triggers.tsv` compiled into one longest-first alternation."""

    def __init__(self, rows: Iterable[list[str]]):
        self.by_word: dict[str, Trigger] = {}
        self.not_in: list[str] = []
        for n, row in enumerate(rows, 1):
            if len(row) < 4:
                raise ValueError(f"trigger row {n}: needs kind, triggers, frame, targets")
            kind, words, frame, targets = row[:4]
            allowed = frozenset(t.strip() for t in targets.split("|") if t.strip())
            polity = to_hans(row[5]) if len(row) > 5 and row[5] else None
            for word in words.split("|"):
                word = to_hans(word.strip())
                if word and word not in self.by_word:
                    self.by_word[word] = Trigger(kind, word, frame, allowed, polity)
            if len(row) > 4 and row[4]:
                self.not_in.extend(to_hans(w.strip()) for w in row[4].split("|") if w.strip())
        words = sorted(self.by_word, key=len, reverse=True)
        self.pattern = re.compile("|".join(map(re.escape, words))) if words else re.compile(r"(?!)")
        blockers = sorted(set(self.not_in), key=len, reverse=True)
        self.blockers = re.compile("|".join(map(re.escape, blockers))) if blockers else re.compile(r"(?!)")

    def find(self, hans: str) -> list[tuple[int, int, Trigger]]:
        blocked = [m.span() for m in self.blockers.finditer(hans)]
        out = []
        for m in self.pattern.finditer(hans):
            s, e = m.span()
            if blocked and any(bs <= s and e <= be and (bs, be) != (s, e) for bs, be in blocked):
                continue  # inside a longer word that is not this trigger (天下, 逃亡)
            out.append((s, e, self.by_word[m.group()]))
        return out


@record
class EntityInfo:
    cls: str | None
    ruler_of: str | None
    affiliation: str | None


@dataclass(slots=True)
class _M:
    """A mention inside one sentence (offsets relative to the sentence)."""

    start: int
    end: int
    key: str
    cls: str | None
    via: str
    serves: str | None = None  # polity of a 宋將-style commander prefix


def _is(cls: str | None, allowed: frozenset[str]) -> bool:
    while cls is not None:
        if cls in allowed:
            return True
        cls = SUPER.get(cls)
    return False


def _quoted(text: str) -> list[tuple[int, int]]:
    """Spans of quoted speech (「」, “”, 『』; not 《》 titles), an unclosed one to the end."""
    spans = []
    for m in _QUOTE_OPEN.finditer(text):
        i = m.start()
        if spans and i < spans[-1][1]:
            continue  # inside the quote before
        j = text.find(_QUOTES[text[i]], i + 1)
        spans.append((i, (j if j >= 0 else len(text)) + 1))
    return spans


def _parenthesised(text: str) -> list[tuple[int, int]]:
    if "（" not in text and "(" not in text:
        return []
    spans, stack = [], []
    for m in _PARENS.finditer(text):
        i, ch = m.start(), m.group()
        if ch in "（(":
            stack.append(i)
        elif stack:
            spans.append((stack.pop(), i))
    return spans


def _titled(text: str) -> list[tuple[int, int]]:
    """Spans of the titles of works: 《金史·列傳》."""
    if "《" not in text:
        return []
    return [m.span() for m in _TITLE.finditer(text)]


_TITLE = re.compile(r"《[^《》]*》")
_QUOTE_OPEN = re.compile("[「“『]")
_PARENS = re.compile(r"[（()）]")


class _ArticleState:
    def __init__(self, topic: str | None, info: dict[str, EntityInfo], polities: PolityTable | None = None,
                 linked: dict[str, int] | None = None):
        self.topic = topic
        self.info = info
        self.polities = polities
        self.linked = linked or {}
        self.triggers: TriggerTable | None = None
        # In an article about a war, the side its lead names first: the side of commanders
        # whose allegiance nothing else tells (蒙金戰爭: 大蒙古國).
        self.side: str | None = None
        # The polity the article follows: its topic, or the topic person's polity.
        self.home: str | None = None
        self.subject: str | None = None
        self.military_agents: tuple[str, ...] = ()
        self.last_side: str | None = None  # the polity the text last had fighting
        self.last_city: str | None = None  # the place this sentence or the one before last named
        self.sentence_city: str | None = None
        self.section_city: str | None = None  # the last place the text named: what 城內 is inside
        self.prev_polities: tuple[str, ...] = ()  # the polities the sentence before named
        self.sentence_polities: tuple[str, ...] = ()
        self.besieger: dict[str, str] = {}  # place -> the polity the text last had attacking it
        self.passive_from: str | None = None  # the subject before a 被 clause handed it to the actor
        self.reset()

    def short_polity(self, ch: str) -> str | None:
        """The polity a one-character short name (金, 宋) means in this article."""
        if self.polities is None:
            return None
        keys = self.polities.shorts.get(ch)
        if not keys:
            return None
        linked = [k for k in keys if k in self.linked]
        return min(linked, key=lambda k: self.linked[k]) if linked else keys[0]

    def prefer(self, polity: str) -> str:
        """Of polities that share a short name (宋朝, 北宋, 南宋), the one this article means."""
        if self.polities is None:
            return polity
        for keys in self.polities.shorts.values():
            if len(keys) > 1 and polity in keys:
                linked = [k for k in keys if k in self.linked]
                return min(linked, key=lambda k: self.linked[k]) if linked else polity
        return polity

    def cls_of(self, key: str | None) -> str | None:
        i = self.info.get(key) if key else None
        return i.cls if i is not None else None

    def carried_subject(self) -> str | None:
        """The subject a clause that names none carries on. In a biography (its topic a person,
        not a ruler) a ruler the text last named acted on the article's man, not for him: the
        clause after is about the man (宣宗將他封為恆山公。八月，在真定向蒙古軍投降; 韓琦's 病死)."""
        s = self.subject
        if s and s != self.topic and self.cls_of(self.topic) == "Person" and self.cls_of(s) == "Ruler":
            return self.topic
        return s

    def reset(self) -> None:
        t = self.info.get(self.topic) if self.topic else None
        self.subject = self.topic if t and _is(t.cls, AGENTIVE) else None


def extract_events(article: Article, mentions: Sequence[Mention], entities: Sequence[Entity], topic: str | None,
                   triggers: TriggerTable, eras: EraTable | None = None,
                   polities: PolityTable | None = None,
                   periods: Sequence[tuple[str, str, int, int]] = ()) -> list[Event]:
    """Every event the article states, in text order, each with its evidence sentence."""
    info = {e.key: EntityInfo(e.cls, e.ruler_of, e.affiliation) for e in entities}
    linked: dict[str, int] = {}
    for m in mentions:
        if m.via == "link":
            linked.setdefault(m.key, m.plain.start)
    if polities is not None:  # the same preference as the entity pass
        for target in shared_short_preferences(article.links, polities, key):
            linked[target] = -1
    state = _ArticleState(topic, info, polities, linked)
    state.triggers = triggers
    topic_info = info.get(topic) if topic else None
    wants_side = topic_info is not None and _is(topic_info.cls, frozenset({"War", "Battle"}))
    if topic_info is not None and _is(topic_info.cls, POLITY):
        state.home = topic
    elif topic_info is not None and _is(topic_info.cls, PERSON) and (topic_info.ruler_of or topic_info.affiliation):
        state.home = state.prefer(topic_info.ruler_of or topic_info.affiliation)
    events: list[Event] = []
    founding: Event | None = None
    section = None
    dates = DateContext()
    by_start = sorted(mentions, key=lambda m: m.plain.start)
    mi = 0
    for sentence in article.sentences:
        if sentence.kind not in ("text", "list", "footnote"):
            continue
        if sentence.section != section:
            if section == -1 or sentence.section == -1:
                dates = DateContext()  # the lead summarises; the body tells in order
            section = sentence.section
            state.reset()
        s0, s1 = sentence.plain.start, sentence.plain.end
        while mi < len(by_start) and by_start[mi].plain.start < s0:
            mi += 1
        local: list[_M] = []
        j = mi
        while j < len(by_start) and by_start[j].plain.start < s1:
            m = by_start[j]
            if m.plain.end <= s1:
                i = info.get(m.key)
                local.append(_M(m.plain.start - s0, m.plain.end - s0, m.key, i.cls if i else None, m.via))
            j += 1
        hans = to_hans(sentence.text)
        if len(hans) != len(sentence.text):
            hans = sentence.text
        _armies_of_links(local, hans, state)
        _link_commanders(local, hans)
        _link_envoys(local, hans, state)
        # what a bare 城 refers to (攻城北, 先於蒙軍入城): the last place this sentence or the one
        # before it named
        state.last_city = state.sentence_city  # the sentence before's: this one's are looked up by position
        state.prev_polities = state.sentence_polities
        state.sentence_polities = tuple(_polity_of(m, state) for m in local if _is(m.cls, POLITY))
        state.sentence_city = next((m.key for m in reversed(local) if m.cls == "City" and m.via != "descriptive"), None)
        if state.sentence_city:
            state.section_city = state.sentence_city
        for m in local:
            if m.serves:  # 蒙古木華黎 once: he serves 蒙古 for the rest of the article
                known = state.info.get(m.key, EntityInfo(m.cls, None, None))
                if not (known.ruler_of or known.affiliation):
                    state.info[m.key] = EntityInfo(known.cls, known.ruler_of, m.serves)

        found = _sentence_events(article, sentence.text, hans, sentence.span, local, triggers, state,
                                 dates, eras, sentence.kind)
        if sentence.section == -1 and not events and not found:
            found = _lifespan_death(sentence.text, hans, sentence.span, local, state, eras)
            founder = _founder(sentence.text, hans, sentence.span, local, state)
            if founder is not None:
                founding = founder
        if wants_side and state.side is None and sentence.section == -1:
            # the side of a war article: the agent of the first deed its lead tells
            state.side = next((e.roles[0][1] for e in found if e.kind in MILITARY), None)
        events.extend(found)
    if founding is not None:
        # 是北遼開國皇帝: he founded it, in the year the article has him accede to it
        acceded = next((e for e in events if e.kind == "Accession" and e.roles == founding.roles and e.year), None)
        events.append(replace(founding, year=acceded.year, date=acceded.date, date_text=acceded.date_text,
                              precision=acceded.precision) if acceded else founding)
    if periods and polities is not None:
        events = [_in_period(e, periods, polities) for e in events]
    # a polity never acts on itself (宋朝 and 南宋 of one deed, once the year has decided)
    return [e for e in events if not (len(e.roles) == 2 and e.roles[0][0] == "agent" and e.roles[0][1] == e.roles[1][1])]


def _in_period(event: Event, periods: Sequence[tuple[str, str, int, int]], polities: PolityTable) -> Event:
    """宋朝 in an event of 1233 is 南宋: a polity named by a short name it shares with polities
    that have periods (polities.tsv) is the one whose period holds the event's year."""
    if event.year is None:
        return event
    roles = []
    for role, k in event.roles:
        for polity, short, first, last, before in periods:
            if short and key(polity) != k and k in polities.shorts.get(to_hans(short), ()) and first <= event.year < last:
                k = key(polity)
                break
            if before and key(polity) == k and event.year < first:
                k = key(before)  # 元朝 in 1259 is still 蒙古帝國
                break
        roles.append((role, k))
    roles_t = tuple(roles)
    if roles_t == event.roles:
        return event
    if event.kind == "Alliance":
        roles_t = tuple(sorted(roles_t))
    return replace(event, roles=roles_t)


def _armies_of_links(local: list[_M], hans: str, state: _ArticleState) -> None:
    """[蒙古](…/蒙古)軍: a link to a people or a land, followed by 軍/兵, is its polity's army."""
    if state.polities is None:
        return
    for i, m in enumerate(local):
        if m.cls is None and hans[m.end:m.end + 1] in ("军", "兵") and m.end - m.start >= 2:
            keys = state.polities.shorts.get(hans[m.start:m.end])
            if keys:
                polity = state.prefer(keys[0])
                cls = state.info.get(polity, EntityInfo("Polity", None, None)).cls or "Polity"
                local[i] = _M(m.start, m.end + 1, polity, cls, "army")


_SENT = re.compile(r"^(?:派|遣|派遣|命|令|命令)(?:大将|部将|将领|将军|大臣|使者|使臣)?$")


def _link_envoys(local: list[_M], hans: str, state: _ArticleState) -> None:
    """夏崇宗派大將李良輔: whom a ruler sends serves the ruler's polity."""
    for i, b in enumerate(local):
        if i == 0 or b.serves or not _is(b.cls, PERSON):
            continue
        a = local[i - 1]
        if _SENT.match(hans[a.end:b.start]):
            info = state.info.get(a.key)
            polity = (info.ruler_of or info.affiliation) if info and _is(a.cls, PERSON) else (a.key if _is(a.cls, POLITY) else None)
            if polity:
                b.serves = state.prefer(polity)


def _link_commanders(local: list[_M], hans: str = "") -> None:
    """宋將孟珙, 金朝完顏婁室, 南宋四川安撫使安丙: a person right after a commander compound,
    or after a polity and an office title, serves that polity."""
    for i, b in enumerate(local):
        if b.via == "commander" or not _is(b.cls, PERSON) or i == 0:
            continue
        a = local[i - 1]
        if a.via == "commander" and b.start - a.end <= 1:
            b.serves = a.key
            continue
        if a.serves and _is(a.cls, PERSON) and hans[a.end:b.start] in ("、", "和", "及", "与", "與"):
            b.serves = a.serves  # 金朝完顏婁室、完顏斡魯: both serve 金朝
            continue
        # 南宋四川安撫使安丙: the nearest polity before, across an office title (places allowed)
        for p in reversed(local[:i]):
            if b.start - p.end > 10:
                break
            if _is(p.cls, POLITY) and p.start < b.start:
                if _TITLE_GAP.match(hans[p.end:b.start]):
                    b.serves = p.key
                break


# What may stand between a polity and its officer: an office title, no verb, no punctuation.
_TITLE_GAP = re.compile(r"^(?:|[^，。、；：,;:（）()与與和及被把向于於攻伐灭滅败敗降派遣命率领領]{0,8}?"
                        r"(?:将|將|将领|將領|将军|將軍|大将|大將|元帅|元帥|使|尚书|尚書|宰相|丞相|太尉|都统|都統|节度使|節度使|统制|統制|王|公|侯|帅|帥|守将|守將))$")


# What may stand before a clause's subject: dates and connectives, nothing that governs it.
_HEAD_LEAD = re.compile(r"^(?:\s|[0-9一二三四五六七八九十百千〇零元正腊臘闰閏年月日初旬底间間]|然而|后来|後來|同时|同時|"
                        r"其后|其後|此后|此後|随后|隨後|于是|於是|最终|最終|不久|当时|當時|后|後|又|亦|再|遂|乃|但|而|"
                        r"则|則|且|并|並|一方面|另一方面|次年|翌年|明年|同年|是年|当年|當年|之后|之後|继续|繼續|随即|隨即|即|便|就|终|終|亦|也|还|還|又再|再次|先|首先)*$")
_SUBORDINATE = re.compile(r"^(?:在|当|當|自|于|於|及|待|等到|直到)")


def _clause_head(hans: str, cs: int, ce: int, local: list[_M]) -> _M | None:
    """The mention a clause opens with (its subject), if it opens with an agentive one;
    a date or a connective (然而, 後來, 同時) may come first."""
    for m in local:
        if m.start < cs:
            continue
        if m.start >= ce or m.start - cs > 6:
            return None
        if _is(m.cls, AGENTIVE) and _HEAD_LEAD.match(hans[cs:m.start]):
            person = next((p for p in local if p.start > m.start and p.start - m.end <= 4 and p.serves == m.key
                           and _is(p.cls, PERSON)), None)
            return person or m  # 西夏將領嵬名令公…，更加戰敗身亡: the general, not his state
        return None
    return None


def _sentence_events(article: Article, text: str, hans: str, span: Span, local: list[_M], triggers: TriggerTable,
                     state: _ArticleState, dates: DateContext, eras: EraTable | None,
                     kind_of_sentence: str = "text") -> list[Event]:
    quoted = _quoted(hans)
    # dates in this sentence, resolved in order
    resolved: list[tuple[int, object]] = []
    for dm in find_dates(text, eras=eras):
        r = dates.resolve(dm)
        dates.observe(dm)
        resolved.append((dm.start, r))
    # A sentence without a date of its own happened in the year the text last gave (the gold
    # annotators read it so, and measured that way it is right far more often than not).
    # (made when an event first needs it: most sentences tell none)
    carried = _NOT_YET if not resolved else None
    glosses = _parenthesised(hans)
    titles = _titled(hans)
    # names inside quotes are speech, inside parentheses glosses (隨州（今屬湖北）), inside 《》 the
    # title of a work (取《金實錄》而歸): none of them acts or is acted on
    if quoted or glosses or titles:
        local = [m for m in local if m.via not in ("phrase", "descriptive")
                 and not any(qs <= m.start < qe for qs, qe in quoted)
                 and not any(gs < m.start < ge for gs, ge in glosses)
                 and not any(ts < m.start < te for ts, te in titles)]
    else:  # the usual sentence, with none of them (and no three empty scans a mention)
        local = [m for m in local if m.via not in ("phrase", "descriptive")]
    bounds = sorted({0, len(hans), *(m.end() for m in _CLAUSE.finditer(hans))})
    clauses = list(zip(bounds, bounds[1:]))
    heads = [_clause_head(hans, cs, ce, local) for cs, ce in clauses]
    found = triggers.find(hans)
    local = _with_short_polities(hans, found, local, state)
    out: list[Event] = []
    intent_open = False
    last_trigger = found[-1][0] if found else -1  # (found is in text order)
    for ci, (cs, ce) in enumerate(clauses):
        head = heads[ci]
        if head is not None or "被" in hans[cs:ce] or _CONTRAST.match(hans[cs:ce]):
            intent_open = False  # a new subject, or 但…: the intention of the clause before is over
        if head is None and _is(state.cls_of(state.topic), PERSON) \
                and _opens_with_given_name(state.topic, hans[cs:ce]):
            state.subject = state.topic  # 三月，淳即皇帝位: a biography calls its subject by his given name
        if head is not None:
            state.subject = _polity_of(head, state) if head.via in ("army", "commander") else head.key
        elif _SUBORDINATE.match(hans[cs:ce]) and ci + 1 < len(clauses) and heads[ci + 1] is not None:
            # 在擊敗金軍後，成吉思汗…: the subject of a leading subordinate clause comes after it
            nxt = heads[ci + 1]
            state.subject = _polity_of(nxt, state) if nxt.via in ("army", "commander") else nxt.key
        for ts, te, trig in found:
            if not (cs <= ts < ce):
                continue
            if any(qs <= ts < qe for qs, qe in quoted):
                continue
            if any(m.start <= ts < m.end or m.start < te <= m.end for m in local):
                continue  # part of a name: 金滅遼之戰, 聯金滅遼
            before = hans[cs:ts]
            if trig.kind == "Alliance" and _BROKEN.search(before[-4:]):
                continue  # 宋朝背棄盟約: an alliance broken, not made
            if _negated(before) or (_INTENT.search(before) and not _GRANTED.search(before)) or intent_open:
                continue
            if trig.kind != "Alliance" and _AGREE.search(before):
                continue  # 同意聯合蒙古滅金: the alliance is a fact, the conquest a plan
            if trig.kind in MILITARY and hans[te:te + 1] == "的" and _RETURNED.search(before):
                continue  # 交還先前攻佔的商州: a capture long before, recalled as it is undone
            if trig.kind in MILITARY and _NOMINAL.search(before):
                continue  # 蒙古大軍的不斷追擊: the deed as a noun, the cause of something else
            if trig.kind != "Alliance" and (_PURPOSE.search(hans[te:ce]) or _AS_GOAL.search(hans[te:ce])):
                continue  # 滅金的策略: a strategy, not a deed
            if trig.kind == "Attack" and any(k2.kind == "Capture" and 0 <= s2 - te <= 1 for s2, _, k2 in found):
                continue  # 出兵攻佔X: the capture is the fact, the marching out its lead-in
            if trig.kind != "Alliance" and _PLAN.search(hans[:ts]):
                continue  # 金宋約定：金兵進取遼中京: terms of an agreement, not deeds
            date = None
            for pos, r in resolved:
                if pos <= ts and r is not None:
                    date = r
            if date is None and not resolved:
                if carried is _NOT_YET:
                    carried = dates_current(dates)
                date = carried
            if date is None and kind_of_sentence == "list" and not any(pos <= ts for pos, _ in resolved):
                # a list item gives its date after the title: 木華黎攻佔京兆府長安之戰 1223年
                date = next((r for pos, r in resolved if r is not None), None)
            if _LATER.search(hans[cs:ts]) and not any(cs <= pos < ts for pos, _ in resolved):
                date = None  # 為之後南侵北宋: later than the date before, by how much the text does not say
            roles_found = _frame(trig, hans, cs, ts, te, ce, local, state)
            if trig.kind == "Capture" and hans[te:te + 1] != "的" and _FAILED.search(hans, te):
                # 收復蒙古軍佔領的潞州，無果而退: tried, not taken
                roles_found = [(("kind", "Attack"), *r) if r[0][0] != "kind" else r for r in roles_found]
            for role_set in roles_found:
                out.append(_event(trig, role_set, date, text, span))
        # (only a trigger of a later clause reads intent_open: in a sentence without one, no need to look)
        if last_trigger >= ce and _INTENT.search(hans[cs:ce]) and not _GRANTED.search(hans[cs:ce]):
            intent_open = True  # 蒙軍欲借道宋境，繞道攻金: the plan runs on into the next clause
        bei = hans.find("被", cs, ce)
        if bei >= 0:
            # 被宋將孟珙截擊，攻下金鄧州: who acted on the subject acts in the clauses that follow
            actors = [m for m in local if bei < m.start < ce and _is(m.cls, AGENTIVE)]
            if actors:
                if state.passive_from is None:
                    state.passive_from = state.subject
                state.subject = _polity_of(actors[0], state)
    if state.passive_from is not None:
        # …被金宣宗詔授為刺史。八月，在真定向蒙古軍投降: the actor of a passive acts on to the end
        # of its sentence; the next one is about the subject again
        state.subject, state.passive_from = state.passive_from, None
    return out


_NOT_YET = object()  # a value not computed yet

_ADVERBS = "遂乃亦终終也就即又再已"


def _with_short_polities(hans: str, found, local: list[_M], state: _ArticleState) -> list[_M]:
    """金 alone is a mention where it touches a verb: 伐金, 滅金, 金遂滅亡 (a one-character name
    is no mention elsewhere: 金 is also gold)."""
    if not found:
        return local
    extra: list[_M] = []
    occupied = [(m.start, m.end) for m in local]

    def free(i: int) -> bool:
        return 0 <= i < len(hans) and not any(a <= i < b for a, b in occupied)

    for ts, te, trig in found:
        spots = [te]
        j = ts - 1
        while j >= 0 and hans[j] in _ADVERBS:
            j -= 1
        spots.append(j)
        for n, i in enumerate(spots):
            while 0 <= i < len(hans):  # before the verb, a run of them: 金宋約定
                polity = state.short_polity(hans[i])
                if not polity or not free(i):  # (the cheaper test first: most characters name none)
                    break
                cls = state.info.get(polity, EntityInfo("Polity", None, None)).cls or "Polity"
                extra.append(_M(i, i + 1, polity, cls, "army"))
                occupied.append((i, i + 1))
                if n == 0:
                    break
                i -= 1
    if not extra:
        return local
    return sorted(local + extra, key=lambda m: (m.start, m.end))


def dates_current(dates: DateContext):
    current = dates.current
    return current() if callable(current) else current


def _negated(before: str) -> bool:
    tail = before[-3:]
    return any(tail.endswith(n) for n in _NEGATION)


def _after_preposition(hans: str, m: _M) -> bool:
    """Is the mention governed by a preposition (與X, 向X, 被X), or by 聯合, so no subject?"""
    if m.start >= 2 and hans[m.start - 2:m.start] in _CO_VERBS:
        return True
    if m.start == 0 or hans[m.start - 1] not in _PREPOSITIONS:
        return False
    return hans[max(0, m.start - 2):m.start] not in _NOT_PREPOSITIONS


# 于 ends 始于/终于 (verbs), it governs nothing there; 联合X makes X a partner, not the subject.
_NOT_PREPOSITIONS = frozenset({"始于", "终于", "由于", "属于", "至于", "位于", "起于", "出于", "在于", "等于", "善于",
                               "大将", "部将", "守将", "名将", "主将", "副将", "猛将", "降将", "叛将", "骁将", "宋将",
                               "金将", "辽将", "夏将", "蒙将", "元将"})
_CO_VERBS = frozenset({"联合", "协同", "会同", "连同", "率领", "派遣", "命令", "支援", "配合"})
# 率宋軍支援蒙古軍攻滅金國: the partner a co-verb names acts too
_PARTNER_VERBS = frozenset({"联合", "协同", "会同", "连同", "支援", "配合"})


def _polity_of(m: _M, state: _ArticleState) -> str:
    """The polity a mention acts for in a military event: a commander's or ruler's polity."""
    if m.serves:
        return m.serves
    i = state.info.get(m.key)
    if i is not None and _is(i.cls, PERSON):
        polity = i.ruler_of or i.affiliation or state.side
        return state.prefer(polity) if polity else m.key
    return m.key


def _agent_before(hans: str, cs: int, ts: int, local: list[_M], state: _ArticleState, *, person_only: bool = False) -> list[_M]:
    """The agent of a verb at ``ts``: the last agentive mention(s) of its clause before it
    (a coalition gives two at one place) that no preposition governs."""
    found: list[_M] = []
    for m in local:
        if cs <= m.start and m.end <= ts and _is(m.cls, PERSON if person_only else AGENTIVE) \
                and not _after_preposition(hans, m):
            if found and found[-1].start != m.start:
                found = []
            found.append(m)
    return found


def _targets_after(hans: str, te: int, ce: int, local: list[_M], allowed: frozenset[str], *, gap: int = 4,
                   armies: bool = False) -> list[_M]:
    """The object of a verb ending at ``te``: the first mention after it (within ``gap``
    characters), then the mentions coordinated with it (、及和與). A possessor (遼朝的黃龍府)
    or a polity prefixed to a place (北宋麟州) gives way to the place."""
    after = [m for m in local if te <= m.start and m.end <= ce]
    if not after or after[0].start - te > gap:
        return []
    if len(after) > 1 and _BEYOND.match(hans, after[0].end) and after[1].start == _BEYOND.match(hans, after[0].end).end():
        after = after[1:]  # 拿下兀剌孩城以西的黑水城: the place beyond the landmark
    chain = [after[0]]
    for m in after[1:]:
        between = hans[chain[-1].end:m.start]
        if m.start == chain[-1].start:  # a coalition: same span, another polity
            chain.append(m)
        elif _OF_POLITY.match(between) and _is(chain[-1].cls, POLITY) and not _is(m.cls, POLITY):
            if m.cls != "Place" or not _allowed(chain[-1].cls, allowed):
                chain[-1] = m  # 金臨洮府: the city is the target; 攻破金國呂堰: a capture takes places
            else:
                break  # 攻金陝西: a region of the polity; the polity is the target
        elif between == "" and _is(chain[-1].cls, PLACE) and _is(m.cls, PLACE):
            if hans[m.end - 1:m.end] in _FORT or hans[chain[-1].end - 1:chain[-1].end] == "路" or \
                    (chain[-1].cls == "Place" and m.cls == "City"):  # 陝北保安: the region says where
                chain[-1] = m  # 麟州建寧寨: the fort in the prefecture; 東京路遼陽府: the city in the circuit
            else:
                chain.append(m)  # 開德府濮陽: two names of one place, both given
        elif _GLOSS.match(between):
            chain.append(m)  # 金州（安康）、光化軍: past a parenthesised gloss
        elif _COORDINATION.match(between) or _RELATIVE_THEN.match(between):
            chain.append(m)  # 長江以北及四川盆地: the relative part stays with the first
        else:
            break
    if armies:  # only the polities whose army the object is (消滅金國主力部隊)
        return [m for m in chain if _is(m.cls, POLITY) and _ARMY_AFTER.match(hans, m.end)]
    return [m for m in chain if _allowed(m.cls, allowed) and not _RELATIVE.match(hans, m.end)
            and not (_is(m.cls, POLITY) and _ARMY_AFTER.match(hans, m.end))]


# 先於蒙軍入城: who came second is named, the subject came first
_AHEAD_OF = re.compile(r"^(?:先|早)(?:于|於)")
_RELATIVE_THEN = re.compile(r"^(?:以[北南东西]|[北南东西]部|一带|附近)(?:、|及|和|与|以及)$")
_BEYOND = re.compile(r"以[北南东西東]的|[北南东西東]面的|[北南东西東]部的")

# 消滅金國主力部隊: the army, not the state
_ARMY_AFTER = re.compile(r"主力|军队|軍隊|部队|部隊|大军|大軍|援军|援軍|残部|殘部|骑兵|騎兵|水军|水軍")


# 遼朝的黃龍府, 宋朝首都汴京, 北宋麟州: a polity before a place only says whose place it is
_OF_POLITY = re.compile(r"^(?:的|之|)(?:首都|都城|国都|國都|京城|京师|京師|境内|境內|边地|邊地|重镇|重鎮|城池|军事重镇|軍事重鎮|"
                        r"占领的|佔領的|所占的|所佔的|占据的|佔據的|控制的|)(?:的|)$")
# 長江以北 is a region beside the river, not the river
_RELATIVE = re.compile(r"以[北南东西東]|[北南东西東]部|沿岸|一带|一帶|附近|周边|周邊")


def _allowed(cls: str | None, allowed: frozenset[str]) -> bool:
    """May a mention of class ``cls`` fill a slot that admits ``allowed`` ("*": untyped too)?"""
    if cls is None:
        return "*" in allowed
    return _is(cls, allowed)


def _frame(trig: Trigger, hans: str, cs: int, ts: int, te: int, ce: int, local: list[_M],
           state: _ArticleState) -> list[tuple[tuple[str, str], ...]]:
    kind, frame = trig.kind, trig.frame
    before = hans[cs:ts]
    by_whom = _BY_WHOM.search(before) if kind == "Victory" else None
    passive = "被" in before or ("所" in before[-2:] and ("为" in before or "為" in before)) \
        or (by_whom is not None and any(cs + by_whom.start() < m.start and m.end <= ts and _is(m.cls, AGENTIVE)
                                        for m in local))  # 為蒙古軍大敗: beaten by them
    military = kind in MILITARY

    def agents_of(ms: list[_M]) -> list[str]:
        keys = [(_polity_of(m, state) if military or m.via in ("army", "commander") else m.key) for m in ms]
        return list(dict.fromkeys(keys))

    def subject_agents() -> list[str]:
        if not state.subject:
            return []
        return [_polity_of(_M(0, 0, state.subject, None, "subject"), state) if military else state.subject]

    results: list[tuple[tuple[str, str], ...]] = []
    if frame == "transitive":
        allowed = trig.targets
        if kind == "Capture":
            allowed = frozenset({"Place", "City", "*"})
        if passive:
            bei = max(before.rfind("被"), before.rfind("为"), before.rfind("為"))
            agent_ms = [m for m in local if cs + bei < m.start and m.end <= ts and _is(m.cls, AGENTIVE)]
            target_ms = [m for m in local if cs <= m.start and m.end <= cs + bei and _allowed(m.cls, allowed)]
            adjacent = [m for m in target_ms if cs + bei - m.end <= 1]
            target_ms = adjacent or target_ms
            agents = agents_of(agent_ms)
            targets = [m.key for m in target_ms[-1:]] or ([state.subject] if state.subject and kind != "Capture" else [])
            if not agents and military and targets:
                # 蒙古軍揮軍直進…，蔡州被圍: by the subject the sentence has; 唐州被攻克: by whoever
                # was fighting there, as the text last said
                subject = [state.subject] if state.subject and _is(
                    state.info.get(state.subject, EntityInfo(None, None, None)).cls, POLITY) else []
                besiegers = [state.besieger[t] for t in targets if t in state.besieger] if kind == "Capture" else []
                # 孟珙圍唐州 … 唐州被攻克: by who besieged it
                agents = [a for a in besiegers if a not in targets] or [a for a in subject if a not in targets] \
                    or [a for a in state.military_agents if a not in targets]
            if military:
                targets = [_polity_of(_M(0, 0, t, state.info.get(t, EntityInfo(None, None, None)).cls, "subject"), state)
                           for t in targets]
        else:
            agents = agents_of(_agent_before(hans, cs, ts, local, state))
            if agents and military:
                partners = [m for m in local if cs <= m.start and m.end <= ts and m.start >= 2
                            and hans[m.start - 2:m.start] in _PARTNER_VERBS and _is(m.cls, AGENTIVE)]
                agents += [a for a in agents_of(partners) if a not in agents]
            if not agents and military:
                # 從遼景宗南伐: whom one follows on campaign leads it
                led = [m for m in local if cs <= m.start and m.end == ts and m.start >= 1 and hans[m.start - 1] in "从從随隨"
                       and _is(m.cls, AGENTIVE)]
                agents = agents_of(led)
            if not agents and (_bare(before) or _AHEAD_OF.match(before)):
                agents = subject_agents()  # 繼續進攻金: the subject carries on; 蒙宋合作滅金: someone unknown
            if not agents and military and state.side:
                agents = [state.side]
            target_ms = _targets_after(hans, te, ce, local, allowed)
            here = [m.key for m in local if m.end <= ts and m.cls == "City" and m.via != "descriptive"]
            city = (here[-1] if here else state.last_city) or (state.section_city if hans[te + 1:te + 2] in "内內中" else None)
            if not target_ms and kind in ("Attack", "Capture") and city and \
                    (hans[te:te + 1] == "城" or trig.word.endswith("城")) and hans[te + 1:te + 2] not in _NOT_THE_CITY:
                # 攻城北: the city the text last named; 蒙宋聯軍已攻進城內: the one its section is about
                target_ms = [_M(te, te + 1, city, "City", "anaphor")]
            if kind == "Capture" and not target_ms:
                beaten = [m for m in local if te <= m.start <= te + 1 and m.end <= ce and m.via == "army"
                          and _is(m.cls, POLITY)]
                if beaten and agents:
                    # 連破蒙古軍二十四寨: to break an army is to beat its polity
                    return [(("kind", "Victory"), ("agent", a), ("target", beaten[0].key)) for a in agents
                            if a != beaten[0].key]
            if kind == "Attack" and not target_ms and not trig.word in _COUNTER:
                # 蒙古兵在西夏積石州侵掠而去: the place it happened is what was attacked
                target_ms = [m for m in local if cs <= m.start and m.end <= ts and m.cls == "City"
                             and re.search(r"[在于於][^，。]{0,4}$", hans[cs:m.start])][-1:]
            if kind == "Attack" and not target_ms and trig.word in _CAMPAIGN and agents:
                # 從遼景宗南伐，…陣斬宋將張師: a campaign to the south is against the enemy the sentence names
                named = [_polity_of(m, state) for m in local if _is(m.cls, POLITY)]
                enemy = [a for a in (*named, *state.prev_polities) if a not in agents]
                target_ms = [_M(te, te, enemy[0], "Polity", "anaphor")] if enemy else []
            if kind == "Attack" and not target_ms and trig.word in _COUNTER and agents:
                # 蒙古軍攻至漢陽…，孟珙進至沌口反擊: back at whoever attacked; 令宋軍疲於應付…率軍追擊
                named = [_polity_of(m, state) for m in local if m.end <= ts and _is(m.cls, POLITY)]
                enemy = [a for a in (*state.military_agents, *state.prev_polities, *named) if a not in agents]
                target_ms = [_M(te, te, enemy[-1], "Polity", "anaphor")] if enemy else []
            if kind == "Conquest" and not target_ms:
                routed = [m for m in _targets_after(hans, te, ce, local, frozenset({"Polity", "Dynasty"}), armies=True)]
                if routed:
                    # 消滅金國主力部隊: an army destroyed is a victory over its polity, not a conquest
                    return [(("kind", "Victory"), ("agent", a), ("target", m.key)) for a in agents for m in routed
                            if a != m.key]
            if kind == "Victory" and not target_ms and trig.word in _ROUTED:
                # 使宋方大敗: the side named just before was beaten, by the one acting
                beaten = [m for m in local if cs <= m.start and m.end <= ts and ts - m.end <= 2 and _is(m.cls, AGENTIVE)]
                if beaten:
                    losers = agents_of(beaten[-1:])
                    winners = [a for a in (agents or list(state.military_agents)) if a not in losers]
                    return [(("agent", w), ("target", l)) for w in winners for l in losers]
            # 擊敗金將兀沙惹, 被蒙古軍擊敗武仙: a defeated commander stands for his polity
            targets = [(_polity_of(m, state) if military and _is(m.cls, PERSON) else m.key) for m in target_ms]
            targets = list(dict.fromkeys(targets))
            if not targets and kind == "Conquest":
                # 摧毀當時位於華北…的金國: a long modifier stands between verb and polity
                stop = min([t for t in _trigger_starts(hans, te, len(hans), state) if t > te] + [len(hans)])
                targets = [m.key for m in local if te <= m.start and m.end <= stop and _is(m.cls, POLITY)
                           and not _ARMY_AFTER.match(hans, m.end)][:1]
        targets = [t for t in targets if _target_ok(kind, t, state)]
        if kind == "Victory" and trig.word in ("败", "敗") and not passive and target_ms \
                and hans[target_ms[-1].end:target_ms[-1].end + 1] in ("胜", "勝"):
            agents, targets = targets, agents  # 以宋敗夏勝收場: 宋 lost, 夏 won
        if military:
            agents = [_acting_side(a, targets, state) for a in agents]
            if kind in ("Capture", "Attack") and not passive:
                # 並成功拿下西夏的銀州: whose city it was did not take it; who was fighting did
                owners = {p.key for p in local if te <= p.start and _is(p.cls, POLITY)
                          and any(t.start >= p.end and _OF_POLITY.match(hans[p.end:t.start]) and t.key in targets
                                  for t in local)}
                if owners and set(agents) <= owners:
                    agents = [a for a in (*state.military_agents, state.side) if a and a not in owners][:1]
        if kind == "Attack" and agents:
            for t in targets:
                state.besieger[t] = agents[-1]
        for a in agents:
            for t in targets:
                if a != t:
                    results.append((("agent", a), ("target", t)))
        if agents and kind in MILITARY:
            state.military_agents = tuple(agents)
            sides = [a for a in agents if _is(state.info.get(a, EntityInfo(None, None, None)).cls, POLITY)]
            if sides:
                state.last_side = sides[-1]
    elif frame == "ended" and kind == "Conquest" and _targets_after(hans, te, ce, local, POLITY, gap=0) \
            and (_agent_before(hans, cs, ts, local, state) or _bare(before)):
        # 蒙古帝國滅亡西夏: the verb that usually ends a clause takes an object
        agents = agents_of(_agent_before(hans, cs, ts, local, state)) or subject_agents()
        for a in agents:
            for t in _targets_after(hans, te, ce, local, POLITY, gap=0)[:1]:
                if a != t.key:
                    results.append((("agent", a), ("target", t.key)))
    elif frame == "ended":
        # 西夏滅亡 (a polity ends), 襄陽府、隨州相繼失守 (places fall): to the last military agent
        wanted = PLACE if kind == "Capture" else POLITY
        target_ms = [m for m in local if cs <= m.start and m.end <= ts and _is(m.cls, wanted)]
        if not target_ms:
            return []
        targets = [m.key for m in target_ms] if kind == "Capture" else [target_ms[-1].key]
        for target in targets:
            for a in ([state.besieger[target]] if kind == "Capture" and target in state.besieger
                      else state.military_agents):
                if a != target:
                    results.append((("agent", a), ("target", target)))
    elif frame == "routed":
        # 西夏在質孤堡被金兵戰敗 (by whom the text says), 夏神宗…圍攻金定西城，戰敗 (by the
        # enemy the sentence named before): the side that lost is the clause's subject
        bei = before.rfind("被")
        if bei >= 0:
            victors = agents_of([m for m in local if cs + bei < m.start and m.end <= ts and _is(m.cls, AGENTIVE)])
            victims = agents_of([m for m in local if cs <= m.start and m.end <= cs + bei and _is(m.cls, AGENTIVE)
                                 and not _after_preposition(hans, m)]) or subject_agents()
        else:
            victims = agents_of(_agent_before(hans, cs, ts, local, state)) or (subject_agents() if _bare(before) else [])
            enemies = [_polity_of(m, state) for m in local if m.end <= cs and _is(m.cls, POLITY)]
            victors = [e for e in enemies if e not in victims][-1:]
        for a in victors:
            for t in victims:
                if a != t:
                    results.append((("agent", a), ("target", t)))
    elif frame == "victim":
        victims = agents_of(_agent_before(hans, cs, ts, local, state)) or subject_agents()
        victors = agents_of([m for m in _targets_after(hans, te, ce, local, frozenset(AGENTIVE)) if _is(m.cls, AGENTIVE)])
        for a in victors:
            for t in victims:
                if a != t:
                    results.append((("agent", a), ("target", t)))
    elif frame == "alliance":
        parties_ms = [m for m in local if cs <= m.start and m.end <= ts and _is(m.cls, AGENTIVE)]
        stop = min([t for t in _trigger_starts(hans, te, ce, state) if t >= te] + [ce])
        parties_ms += [m for m in local if te <= m.start and m.end <= stop and _is(m.cls, AGENTIVE)][:2]
        parties = [(_polity_of(m, state)) for m in parties_ms]
        if state.subject and not any(not _after_preposition(hans, m) for m in parties_ms if m.end <= ts):
            parties.insert(0, _polity_of(_M(0, 0, state.subject, None, "subject"), state))
        parties = sorted(set(parties))
        if len(parties) == 1:
            # 南宋答覆西夏，聯兵抗金: the partner is the one the sentence's clause before addressed
            before_ms = [m for m in local if m.end <= cs and _is(m.cls, POLITY) and _polity_of(m, state) not in parties]
            if before_ms and hans.rfind("，", 0, cs) <= before_ms[-1].start:
                parties = sorted({*parties, _polity_of(before_ms[-1], state)})
        if len(parties) >= 2:
            results.append(tuple(("party", p) for p in parties))
    elif frame == "cession":
        agents = agents_of(_agent_before(hans, cs, ts, local, state)) or subject_agents()
        later = [m for m in local if te <= m.start and m.end <= ce and _is(m.cls, AGENTIVE)]
        recipients = [_polity_of(m, state) for m in later[:1]]
        if agents and all(_ruler_polity(a, state) in recipients for a in agents):
            agents = subject_agents()  # 金朝接受西夏的請求，把…割給夏國: the asker is not the giver
        for a in agents:
            a = _ruler_polity(a, state)
            for r in recipients:
                if a != r:
                    results.append((("agent", a), ("recipient", r)))
    elif frame == "surrender":
        if _DEMOTED.match(hans[te:ce]) or hans[te:te + 1] == "其":
            return []  # 降天祚皇帝為湘陰王: a demotion; 降其部眾: receiving a surrender, told by its verb's subject
        clause_ms = [m for m in local if cs <= m.start and m.end <= ce and _is(m.cls, AGENTIVE)]
        governed = [m for m in clause_ms if _after_preposition(hans, m) and hans[m.start - 1] in "向于於"]
        after = [m for m in local if te <= m.start and m.end <= ce and _is(m.cls, AGENTIVE)][:1]
        target_ms = governed or after
        agent_ms = [m for m in clause_ms if m.end <= ts and m not in target_ms and not _after_preposition(hans, m)]
        chosen = agent_ms[-1:]
        for m in reversed(agent_ms[:-1]):  # 李英、申州安撫張林、漢兒將領劉儀…投降: all of them
            gap = hans[m.end:chosen[0].start]
            if _is(m.cls, PERSON) and _is(chosen[0].cls, PERSON) and gap.startswith("、") and len(gap) <= 8 \
                    and not state.triggers.find(gap):
                chosen.insert(0, m)
            else:
                break
        agents = [_ruler_polity(_polity_of(m, state) if m.via in ("army", "commander") else m.key, state)
                  for m in chosen]
        if not agents and state.subject and (_bare(before) or _HAS_PLACE_ONLY.match(before)):
            agents = [_ruler_polity(state.carried_subject(), state)]
        targets = [_polity_of(m, state) for m in target_ms[:1]]
        if not targets and state.home and all(a != state.home for a in agents):
            targets = [state.home]  # 移剌瑗舉州投降 in 孟珙's article: to the side the article follows
        if not targets and state.military_agents and not state.home:
            # 攻破會州城，金守將烏古論世顯投降: to whoever just took his city
            last = state.military_agents[-1]
            if all(a != last and _polity_of(m, state) != last for a, m in zip(agents, chosen)):
                targets = [last]
        if not targets and state.side and agent_ms[-1:] and agent_ms[-1].cls == "Ruler" \
                and all(a != state.side for a in agents):
            targets = [state.side]  # 末帝出城投降 in a war's article: a ruler gives up to the other side
        for a in agents:
            for t in targets:
                if a and a != t:
                    results.append((("agent", a), ("target", t)))
    elif frame == "accession":
        persons = _agent_before(hans, cs, ts, local, state, person_only=True)
        if persons and _DEPOSED.search(hans, max(cs, persons[-1].start - 2), persons[-1].start):
            persons = []  # 廢襄宗自立: the deposed does not accede
        if not persons and _bare(before) and state.subject and _is(state.info.get(state.subject, EntityInfo(None, None, None)).cls, PERSON):
            persons = [_M(0, 0, state.subject, "Person", "subject")]
        if not persons and _is(state.cls_of(state.topic), PERSON) and (_DEPOSED.search(before) or _given_name_of(state.topic, before)):
            # a biography's own subject: 廢襄宗自立 in 夏神宗's article, 淳即皇帝位 in 耶律淳's
            persons = [_M(0, 0, state.topic, "Person", "subject")]
        shiwei = hans.find("是为", te)
        if shiwei >= 0:
            # 趙構在南京應天府稱帝，是為宋高宗: the new ruler is named after 是為
            named = [m for m in local if shiwei + 2 <= m.start <= shiwei + 3 and _is(m.cls, PERSON)]
            persons = named or persons
        for p in persons[-1:]:
            polity = trig.polity or _polity_for_person(p.key, local, state, hans)
            if polity:
                results.append((("agent", p.key), ("target", polity)))
                old = state.info.get(p.key, EntityInfo("Ruler", None, None))
                state.info[p.key] = EntityInfo(old.cls, polity, old.affiliation)  # he rules it from now on
    elif frame == "handover":
        if "位" not in trig.word and "位" not in hans[cs:ts]:
            return []  # 傳給 hands over the throne only when the clause says so (帝位只好傳給李睍)
        heirs = [m for m in local if te <= m.start and m.end <= ce and _is(m.cls, PERSON)]
        giver = _agent_before(hans, cs, ts, local, state, person_only=True)
        giver_key = giver[-1].key if giver else state.subject
        polity = _polity_for_person(giver_key, local, state) if giver_key else None
        for h in heirs[-1:]:  # 傳位給金末帝完顏承麟: the name nearest the end is the heir's own
            target = polity or _polity_for_person(h.key, local, state)
            if target:
                results.append((("agent", h.key), ("target", target)))
    elif frame == "death":
        persons = _agent_before(hans, cs, ts, local, state, person_only=True)
        if trig.word.startswith("所"):
            # 苗道潤為其副使賈瑀所殺: the one killed stands before 為, his killer after it
            wei = max(before.rfind("为"), before.rfind("為"), before.rfind("被"))
            persons = [m for m in local if cs <= m.start and m.end <= cs + wei and _is(m.cls, PERSON)] if wei >= 0 else []
        if not persons and _bare(before) and state.subject and _is(state.info.get(state.subject, EntityInfo(None, None, None)).cls, PERSON):
            persons = [_M(0, 0, state.carried_subject(), "Person", "subject")]
        for p in persons[-1:]:
            results.append((("agent", p.key),))
    elif frame == "killed":
        # 殺死金將兀沙惹, 陣斬宋將張師: the one killed is named after the verb
        for m in _targets_after(hans, te, ce, local, frozenset({"Person", "Ruler"})):
            results.append((("agent", m.key),))
    elif frame == "founding":
        agents = [m.key for m in _agent_before(hans, cs, ts, local, state)[-1:]] or subject_agents()
        # 建立能與遼抗衡的金朝: the polity closing a short object; 建立蒙兵自長江…的防線: none
        polities = [m.key for m in local if te <= m.start and m.end <= min(ce, te + 12) and _is(m.cls, POLITY)]
        for a in agents:
            for t in polities[-1:]:
                if a != t:
                    results.append((("agent", a), ("target", t)))
    return results


# 攻城略地, 城池, 城牆: 城 as a word of its own, not the city named before
_NOT_THE_CITY = frozenset("略池墙牆门門市镇鎮郭邑")


# 夏神宗李遵頊（1163年－1226年）: the years of a life, glossed after the name
_LIFESPAN = re.compile(r"[（(](?:公元)?前?\d{1,4}年[^（）()]{0,10}?[－—–~～-](?:公元)?(前?\d{1,4}年)[^（）()]{0,10}[）)]")


_FOUNDER = re.compile(r"[是为為](?:[^，。]{0,6}的)?$")
_FOUNDED_BY = re.compile(r"的?(?:开国|開國)(?:皇帝|君主|之君|君王|国君|國君)")


def _founder(text: str, hans: str, span: Span, local: list[_M], state: _ArticleState) -> Event | None:
    """耶律淳…是北遼開國皇帝: a biography's lead names the polity its man founded."""
    topic = state.info.get(state.topic) if state.topic else None
    if topic is None or not _is(topic.cls, PERSON):
        return None
    for m in local:
        if _is(m.cls, POLITY) and _FOUNDED_BY.match(hans, m.end) and _FOUNDER.search(hans[max(0, m.start - 10):m.start]):
            trig = Trigger("Founding", _FOUNDED_BY.match(hans, m.end).group(), "founding", frozenset(), None)
            return _event(trig, (("agent", state.topic), ("target", m.key)), None, text, span)
    return None


def _lifespan_death(text: str, hans: str, span: Span, local: list[_M], state: _ArticleState,
                    eras: EraTable | None) -> list[Event]:
    """A biography's lead gives its man's years after his name: the second is his death."""
    topic = state.info.get(state.topic) if state.topic else None
    if topic is None or not _is(topic.cls, PERSON):
        return []
    own = [m for m in local if m.key == state.topic and m.start < 20]
    if not own:
        return []
    m = _LIFESPAN.match(hans, own[0].end)
    if not m or "在位" in m.group() or "在任" in m.group():
        return []  # （1206年－1227年在位）: a reign, not a life
    date = None
    context = DateContext()
    for dm in find_dates(text[m.start(1):m.end(1)], eras=eras):
        date = context.resolve(dm)
    if date is None:
        return []
    trig = Trigger("Death", hans[m.start():m.end()], "death", frozenset(), None)
    return [_event(trig, (("agent", state.topic),), date, text, span)]


def _acting_side(agent: str, targets: list[str], state: _ArticleState) -> str:
    """A commander whose allegiance nothing tells (孛魯組織大軍進攻西夏) fights for the side the
    text last had fighting, unless that side is his target."""
    i = state.info.get(agent)
    if i is None or not _is(i.cls, PERSON):
        return agent
    side = state.last_side or state.home  # 曹彬's article: his men fight for 北宋
    if side is None or side in targets:
        return agent
    return side


_DEPOSED = re.compile(r"[废廢]")
# 在真定向蒙古軍投降: nothing but where and to whom before the verb; the subject carries on
_HAS_PLACE_ONLY = re.compile(r"^[在于於].{0,8}$")
_FAILED = re.compile(r"无果|無果|未果|不克|失败|失敗|未能攻")
_BROKEN = re.compile(r"背弃|背棄|撕毁|撕毀|破坏|破壞")
_RETURNED = re.compile(r"交还|交還|归还|歸還|先前|此前|之前")
_AS_GOAL = re.compile(r"作[为為][^，。]{0,12}目[标標]")
_BY_WHOM = re.compile(r"[为為][^，。为為]{1,8}$")
_CAMPAIGN = frozenset({"南伐", "北伐", "南征", "北征", "西征", "东征", "南侵"})
_NOMINAL = re.compile(r"的(?:不断|不斷|连续|連續|多次|屡次|屢次)?$")
_COUNTER = frozenset({"反击", "反攻", "还击", "迎击", "追击", "追杀"})
_CONTRAST = re.compile(r"^(?:但|然而|可是|却|卻|不过|不過)")
_DEMOTED = re.compile(r"^[^，。；]{1,8}?[为為](?:[^，。；]{1,4}?)(?:王|公|侯|妃)")


def _opens_with_given_name(topic: str, clause: str) -> bool:
    """Does the clause open (after a date or a connective) with the topic's given name?"""
    for n in (2, 1):
        given = topic[-n:]
        if len(topic) > n:
            i = clause.find(given)
            if i >= 0 and _HEAD_LEAD.match(clause[:i]) and (i + n >= len(clause) or not clause[i + n] in "之的氏"):
                return True
    return False


def _given_name_of(topic: str, before: str) -> bool:
    """Does the clause before the verb end with the topic's given name (淳 of 耶律淳)?"""
    stripped = before.rstrip()
    for n in (1, 2):
        given = topic[-n:]
        if len(topic) > n and stripped.endswith(given) and (len(stripped) == n or not "\u4e00" <= stripped[-n - 1] <= "\u9fff"
                                                         or stripped[-n - 1] in "，。、；："):
            return True
    return False


def _trigger_starts(hans: str, te: int, ce: int, state: _ArticleState) -> list[int]:
    return [te + s for s, _, trig in state.triggers.find(hans[te:ce]) if trig.kind != "Alliance"]


def _bare(before: str) -> bool:
    """Nothing but dates and connectives before the verb: its subject is the one carried over
    (成吉思汗…，病死), not someone the text names but we do not know (遼成安公主…絕食死)."""
    return bool(_HEAD_LEAD.match(before)) or bool(_LEAD_IN.match(before)) or before.endswith(("便", "就", "旋即", "随即", "隨即"))


# Marching words that may open a clause whose subject carries on: 進兵攻佔, 分兵攻打, 派兵萬騎攻
_LEAD_IN = re.compile(r"^(?:[又再遂乃即便亦也先后後随隨在当當于於自待仍并並]|继续|繼續|坚持|堅持|仍然|成功|顺利|順利|一举|一舉|首先|遣使|派使|遣人|派人|陆续|陸續|相继|相繼|接连|接連|逐步|他|她|再度|再次|进兵|進兵|出兵|分兵|发兵|發兵|派兵|遣兵|领兵|領兵|率兵|"
                      r"率军|率軍|率部|引兵|举兵|舉兵|起兵|进|進|反|转|轉|复|復|乘胜|乘勝|趁机|趁機|战败|戰敗|兵败|兵敗|更加|最终|最終|终于|終於|后|後|"
                      r"[兵军軍骑騎步马馬万萬千百十数數余餘一二三四五六七八九两兩0-9])*$")


def _target_ok(kind: str, key: str, state: _ArticleState) -> bool:
    cls = state.info.get(key, EntityInfo(None, None, None)).cls
    if kind == "Capture":
        return cls is None or _is(cls, PLACE)
    if kind == "Conquest":
        return _is(cls, POLITY)
    if kind == "Attack":
        return cls is None or _is(cls, POLITY | PLACE)
    if kind == "Victory":
        return cls is None or _is(cls, AGENTIVE)
    return True


def _ruler_polity(key: str | None, state: _ArticleState) -> str | None:
    """A ruler's surrender or cession names his polity."""
    if key is None:
        return None
    i = state.info.get(key)
    if i is not None and i.cls == "Ruler" and i.ruler_of:
        return i.ruler_of
    return key


def _polity_for_person(person: str, local: list[_M], state: _ArticleState, hans: str = "") -> str | None:
    i = state.info.get(person)
    if i is not None and (i.ruler_of or i.affiliation):
        return i.ruler_of or i.affiliation
    named = re.search(r"国号|國號|史称|史稱", hans)
    if named:  # 李元昊脫宋自立…建國號「大夏」，史稱「西夏」: the state he founded
        after = [m.key for m in local if m.start >= named.start() and _is(m.cls, POLITY)]
        if after:
            return after[-1]
    polities = [m.key for m in local if _is(m.cls, POLITY)]
    if polities:
        return polities[0]
    t = state.info.get(state.topic) if state.topic else None
    if t is not None and _is(t.cls, POLITY):
        return state.topic
    return None


def _gregorian_day(date) -> str | None:
    """xsd:date only for a full Gregorian date (1227年8月25日); lunar days stay lunar."""
    if date is None or getattr(date, "lunar", False) or getattr(date, "precision", None) != "day":
        return None
    iso = getattr(date, "iso_date", None)
    return iso if iso and iso.count("-") >= 2 + iso.startswith("-") else None


def _event(trig: Trigger, roles: tuple[tuple[str, str], ...], date, sentence: str, span: Span) -> Event:
    year = getattr(date, "year", None) if date is not None else None
    kind = trig.kind
    if roles and roles[0][0] == "kind":  # a frame that found the deed to be of another kind
        kind, roles = roles[0][1], roles[1:]
    return Event(
        kind=kind,
        roles=roles,
        evidence=span,
        sentence=sentence,
        trigger=trig.word,
        year=year,
        date=_gregorian_day(date),
        date_text=getattr(date, "text", None) if date is not None else None,
        precision=getattr(date, "precision", None) if date is not None else None,
        lunar_month=(getattr(date, "month", None) if getattr(date, "lunar", False) else None) if date is not None else None,
    )


def conflict_facts(article: Article, mentions: Sequence[Mention], entities: Sequence[Entity], topic: str | None,
                   eras: EraTable | None = None) -> dict[str, object]:
    """For an article about a war or battle: its years, participants and place, from its lead
    sentence (護步達岡之戰…（1115年）…金軍…遼軍…於護步答岡). Empty for other articles."""
    info = {e.key: e.cls for e in entities}
    if not topic or not _is(info.get(topic), frozenset({"War", "Battle"})) or not article.lead:
        return {}
    lead = next((s for s in article.lead if s.kind == "text"), None)
    if lead is None:
        return {}
    out: dict[str, object] = {}
    context = DateContext()
    for dm in find_dates(lead.text, eras=eras):
        r = context.resolve(dm)
        context.observe(dm)
        if r is None:
            continue
        start = r.start_year if r.start_year is not None else r.year
        end = r.end_year if r.end_year is not None else r.year
        if start is not None:
            out["start_year"], out["end_year"] = start, end
            break
    inside = [m for m in mentions if lead.plain.start <= m.plain.start < lead.plain.end and m.key != topic]
    out["participants"] = tuple(dict.fromkeys(m.key for m in inside if _is(info.get(m.key), POLITY)))
    hans = to_hans(lead.text)
    for m in inside:
        rel = m.plain.start - lead.plain.start
        if _is(info.get(m.key), PLACE) and rel > 0 and hans[rel - 1] in "于於在":
            out["place"] = m.key  # 發生在河北滿城: where it was fought
            break
    return out
