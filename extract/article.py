"""Parse one Chinese Wikipedia article, converted to Markdown by pandoc, into a frozen `Article`.

The parser is a single left-to-right scanner, not a chain of substitutions. It renders the
article as plain text (what a reader sees) and keeps a piecewise map from every plain-text
character back to its offset in the source file, so each sentence, link and mention can cite
the exact characters it came from. Bracket, parenthesis, template and conversion-markup pairs
are matched up front with stacks, in one linear pass, so hostile input (50,000 unclosed `[`)
costs linear time: no regular expression here can backtrack over a whole line.

Pure: text in, `Article` out; no I/O.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import MISSING, dataclass, field, fields
from urllib.parse import unquote

__all__ = [
    "Article",
    "Conversion",
    "Footnote",
    "Link",
    "Section",
    "Sentence",
    "Span",
    "Table",
    "parse_article",
]


def record(cls):
    """``@dataclass(frozen=True, slots=True)`` with a faster ``__init__``.

    A frozen dataclass's own ``__init__`` stores each field through ``object.__setattr__``
    (looked up by name, then the slot found by name); this one calls each slot's descriptor
    directly, which halves the cost of making one. Extraction makes some 700 of these per
    article (spans, mentions, entities, dates), so it shows. Everything else is the
    dataclass's: the same fields, defaults, equality, hash, repr, and instances stay frozen
    (assigning to a field still raises `dataclasses.FrozenInstanceError`).
    """
    if hasattr(cls, "__post_init__"):  # the generated __init__ would not call it
        raise TypeError(f"record {cls.__name__}: no __post_init__ (use a plain dataclass)")
    cls = dataclass(frozen=True, slots=True)(cls)
    env: dict[str, object] = {}
    params = []
    body = []
    for f in fields(cls):
        if not f.init or f.default_factory is not MISSING or f.kw_only:
            raise TypeError(f"record {cls.__name__}.{f.name}: only plain fields (a default value at most)")
        env[f"_set_{f.name}"] = getattr(cls, f.name).__set__  # the slot's member descriptor
        if f.default is MISSING:
            params.append(f.name)
        else:
            env[f"_default_{f.name}"] = f.default
            params.append(f"{f.name}=_default_{f.name}")
        body.append(f"    _set_{f.name}(self, {f.name})\n")
    exec(f"def __init__(self, {', '.join(params)}):\n" + "".join(body), env)  # as dataclasses does
    init = env["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    init.__module__ = cls.__module__
    cls.__init__ = init
    return cls


@record
class Span:
    """A half-open range of character offsets ``[start, end)``."""

    start: int
    end: int

    def __len__(self) -> int:
        return self.end - self.start


@record
class Link:
    """A Markdown link. ``text`` is what the reader sees; ``target`` the page title it names.

    kind: ``wiki`` (a Wikipedia article), ``external``, ``category`` or ``figure``.
    ``span`` is the shown text's range in the source file, ``plain`` its range in `Article.text`.
    """

    kind: str
    text: str
    target: str
    span: Span
    plain: Span


@record
class Section:
    title: str
    level: int
    span: Span  # the heading line in the source


@record
class Sentence:
    """A sentence (or heading, table cell, list item, footnote text) of the article.

    kind: ``text``, ``heading``, ``list``, ``table`` or ``footnote``; ``section`` indexes
    `Article.sections` (-1 for the lead).
    """

    text: str
    span: Span
    plain: Span
    kind: str
    section: int


@record
class Conversion:
    """A ``-{…}-`` language-conversion block.

    ``variants`` holds per-variant rules (``(("zh-hans", "…"), ("zh-hant", "…"))``); an empty
    tuple means the text is protected: it must be kept as written, never script-converted.
    """

    span: Span
    plain: Span
    variants: tuple[tuple[str, str], ...]

    @property
    def protected(self) -> bool:
        return not self.variants


@record
class Footnote:
    number: int
    text: str
    span: Span


@record
class Table:
    rows: tuple[tuple[str, ...], ...]
    span: Span


@record
class Article:
    source_id: str
    title: str
    text: str
    sentences: tuple[Sentence, ...]
    sections: tuple[Section, ...]
    links: tuple[Link, ...]
    categories: tuple[str, ...]
    bold: tuple[tuple[str, Span], ...]  # bold terms with their plain-text spans
    templates: tuple[str, ...]
    conversions: tuple[Conversion, ...]
    footnotes: tuple[Footnote, ...]
    footnote_refs: tuple[tuple[int, int], ...]  # (number, plain offset) of each `\[n\]` marker
    tables: tuple[Table, ...]
    figures: tuple[Link, ...]
    converted_from: str | None
    _plain_starts: tuple[int, ...] = field(repr=False, compare=False)
    _source_starts: tuple[int, ...] = field(repr=False, compare=False)
    _exact: tuple[bool, ...] = field(repr=False, compare=False)

    def source_offset(self, plain_offset: int) -> int:
        """Map an offset in `text` to the offset of the same character in the source file."""
        k = bisect_right(self._plain_starts, plain_offset) - 1
        if k < 0:
            return 0
        base = self._source_starts[k]
        return base + (plain_offset - self._plain_starts[k]) if self._exact[k] else base

    def source_span(self, plain: Span) -> Span:
        """The source range covering the plain-text range ``plain`` (non-empty)."""
        if plain.end <= plain.start:
            at = self.source_offset(plain.start)
            return Span(at, at)
        return Span(self.source_offset(plain.start), self.source_offset(plain.end - 1) + 1)

    @property
    def lead(self) -> tuple[Sentence, ...]:
        return tuple(s for s in self.sentences if s.section == -1)


# --- lexical tables -------------------------------------------------------------------------

_WIKI_PREFIXES = ("../Page/", "https://zh.wikipedia.org/wiki/", "http://zh.wikipedia.org/wiki/",
                  "https://zh.wikipedia.org/zh-hans/", "https://zh.wikipedia.org/zh-hant/",
                  "https://zh.wikipedia.org/zh-cn/", "https://zh.wikipedia.org/zh-tw/")
_CATEGORY_PREFIXES = ("Category:", "category:", "分類:", "分类:", "Category：", "分類：", "分类：")
# Block-level HTML: its tags end a sentence. Everything else (small, span, sup…) is dropped inline.
_BLOCK_TAGS = frozenset({"ref", "references", "div", "center", "poem", "br", "p", "blockquote",
                         "table", "tr", "td", "th", "li", "ul", "ol", "gallery", "hr", "pre",
                         "onlyinclude", "includeonly", "noinclude", "h1", "h2", "h3", "h4", "h5"})
_VARIANT_ORDER = ("zh-hant", "zh-tw", "zh-hk", "zh-mo", "zh", "zh-hans", "zh-cn", "zh-sg", "zh-my")

_TOKENS = re.compile(r"\\.|-\{|\}-|\{\{|\}\}|[\[\]()\n]", re.S)
_SPECIAL = re.compile(r"[\n\[\\{<*-]")
_TAG = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9]{0,20})\b[^<>\n]{0,500}?(/?)>")
_AUTOLINK = re.compile(r"<(?:https?|ftp|mailto):[^<>\s]{1,2000}>")
_FOOTNOTE_MARK = re.compile(r"\\\[(\d{1,4})\\\]")
_HEADING = re.compile(r"(#{1,6})[ \t]+")
_LIST_MARK = re.compile(r"[ \t]*(?:([-*+])|(\d{1,4})[.)])[ \t]+")
_EMPTY_NUMBERED = re.compile(r"[ \t]*(\d{1,4})\.[ \t]*$")
_TABLE_SEPARATOR = re.compile(r"[ \t]*\|?[ \t:|-]*-[ \t:|-]*$")
_VARIANT_RULE = re.compile(r"\s*(zh(?:-[a-z]{2,4})?)\s*:")
_ESCAPABLE = frozenset("\\`*_{}[]()#+-.!~|<>\"'$&@%^=:;,?/")
_SENTENCE_END = frozenset("。！？!?")
_SENTENCE_END_AT = re.compile("[" + "".join(sorted(_SENTENCE_END)) + "]").search
_CLOSERS = frozenset("”’」』）)》〉】\"'")
# Links and conversion blocks nested deeper than this are shown as written (Python's recursion
# limit would end the parse long before a real article gets anywhere near it).
_MAX_NESTING = 48


def _pairs(text: str) -> tuple[dict[int, int], dict[int, int], dict[int, int], dict[int, int]]:
    """Match brackets and parentheses (within a line), templates and conversions (anywhere).

    One linear pass with stacks; unmatched openers simply have no entry.
    """
    brackets: dict[int, int] = {}
    parens: dict[int, int] = {}
    templates: dict[int, int] = {}
    conversions: dict[int, int] = {}
    sb: list[int] = []
    sp: list[int] = []
    st: list[int] = []
    sc: list[int] = []
    for m in _TOKENS.finditer(text):
        tok = m.group()
        i = m.start()
        if tok == "\n":
            if not text.startswith("  ", i + 1):  # an indented line continues the one above
                sb.clear()
                sp.clear()
        elif tok == "[":
            sb.append(i)
        elif tok == "]":
            if sb:
                brackets[sb.pop()] = i
        elif tok == "(":
            sp.append(i)
        elif tok == ")":
            if sp:
                parens[sp.pop()] = i
        elif tok == "{{":
            st.append(i)
        elif tok == "}}":
            if st:
                templates[st.pop()] = i
        elif tok == "-{":
            sc.append(i)
        elif tok == "}-":
            if sc:
                conversions[sc.pop()] = i
    return brackets, parens, templates, conversions


def _unescape(s: str) -> str:
    if "\\" not in s:
        return s
    out = []
    i = 0
    n = len(s)
    while i < n:
        c = s[i]
        if c == "\\" and i + 1 < n and s[i + 1] in _ESCAPABLE:
            out.append(s[i + 1])
            i += 2
        else:
            out.append(c)
            i += 1
    return "".join(out)


def page_title(url: str) -> str | None:
    """The Wikipedia page title a link URL names, or None for a non-Wikipedia URL.

    >>> page_title("../Page/大定府_\\\\(辽朝\\\\).md")
    '大定府 (辽朝)'
    >>> page_title("https://zh.wikipedia.org/wiki/Category:辽金战役")
    'Category:辽金战役'
    """
    for prefix in _WIKI_PREFIXES:
        if url.startswith(prefix):
            name = url[len(prefix):]
            if prefix == "../Page/" and name.endswith(".md"):
                name = name[:-3]
            name = _unescape(name)
            if "%" in name:
                name = unquote(name)
            name = name.split("#", 1)[0].replace("_", " ").strip()
            return name or None
    return None


class _Parser:
    def __init__(self, src: str, source_id: str):
        self.src = src
        self.source_id = source_id
        self.brackets, self.parens, self.template_ends, self.conversion_ends = _pairs(src)
        self.parts: list[str] = []
        self.part_starts: list[int] = []  # plain offset of each part, for `since`
        self.depth = 0  # links and conversion blocks nested around the current position
        self.n = 0  # plain length so far
        self.plain_starts: list[int] = []
        self.source_starts: list[int] = []
        self.exact: list[bool] = []
        # line metadata: (plain offset, kind, section) at the start of each plain line
        self.line_meta: list[tuple[int, str, int]] = []
        self.kind = "text"
        self.section = -1
        self.sections: list[Section] = []
        self.links: list[Link] = []
        self.figures: list[Link] = []
        self.categories: list[str] = []
        self.bold: list[tuple[str, Span]] = []
        self.templates: list[str] = []
        self.conversions: list[Conversion] = []
        self.footnotes: list[Footnote] = []
        self.footnote_refs: list[tuple[int, int]] = []
        self.tables: list[Table] = []
        self.converted_from: str | None = None
        self.bold_open: int | None = None
        self.seen_category = False
        self.continuing = False
        self.table_line_end = -2

    # -- output ------------------------------------------------------------------------------
    def copy(self, start: int, end: int) -> None:
        """Emit ``src[start:end]`` verbatim (one plain character per source character)."""
        if end <= start:
            return
        if (self.exact and self.exact[-1]
                and self.source_starts[-1] + (self.n - self.plain_starts[-1]) == start):
            pass  # contiguous with the previous verbatim run: the same segment continues
        else:
            self.plain_starts.append(self.n)
            self.source_starts.append(start)
            self.exact.append(True)
        self.part_starts.append(self.n)
        self.parts.append(self.src[start:end])
        self.n += end - start

    def copy_unescaped(self, start: int, end: int) -> None:
        """Emit `_unescape` of ``src[start:end]``, each character mapped to its source."""
        src = self.src
        i = start
        while i < end:
            k = src.find("\\", i, end)
            if k < 0:
                self.copy(i, end)
                return
            self.copy(i, k)
            if k + 1 < end and src[k + 1] in _ESCAPABLE:
                self.copy(k + 1, k + 2)
                i = k + 2
            else:
                self.copy(k, k + 1)
                i = k + 1

    def emit(self, text: str, at: int) -> None:
        """Emit replacement text; every character of it maps to source offset ``at``."""
        if not text:
            return
        if len(text) == 1:
            self.plain_starts.append(self.n)
            self.source_starts.append(at)
            self.exact.append(True)
        else:
            self.plain_starts.append(self.n)
            self.source_starts.append(at)
            self.exact.append(False)
        self.part_starts.append(self.n)
        self.parts.append(text)
        self.n += len(text)

    def newline(self, at: int) -> None:
        """End the current plain line (a sentence boundary)."""
        if self.parts and self.parts[-1].endswith("\n"):
            return
        self.emit("\n", at)
        self.line_meta.append((self.n, self.kind, self.section))

    def plain_text(self) -> str:
        return "".join(self.parts)

    def since(self, plain_start: int) -> str:
        """The plain text from ``plain_start`` to here, in time proportional to its length (joining
        every part each time made an article of 20,000 links quadratic)."""
        k = bisect_right(self.part_starts, plain_start) - 1
        if k < 0:
            return "".join(self.parts)[plain_start:]
        return "".join(self.parts[k:])[plain_start - self.part_starts[k]:]

    # -- blocks ------------------------------------------------------------------------------
    def parse(self) -> None:
        src = self.src
        n = len(src)
        i = 0
        self.line_meta.append((0, "text", -1))
        first = True
        while i < n:
            eol = src.find("\n", i)
            if eol < 0:
                eol = n
            i = self.line(i, eol, first)
            first = False
            if i < n and src[i] == "\n":
                self.bold_open = None
                if self.kind in ("list", "footnote") and self.continues(i + 1):
                    # pandoc wraps a list item onto indented lines: one item, one line
                    self.emit(" ", i)
                    self.continuing = True
                else:
                    self.continuing = False
                    self.newline(i)
                i += 1

    def continues(self, i: int) -> bool:
        src = self.src
        return (src.startswith("  ", i) and not src.startswith("\n", i)
                and _LIST_MARK.match(src, i) is None and bool(src[i:src.find("\n", i) if src.find("\n", i) >= 0 else len(src)].strip()))

    def line(self, i: int, eol: int, first: bool) -> int:
        src = self.src
        line = src[i:eol]
        stripped = line.lstrip()
        if self.continuing:
            plain_start = self.n
            j = self.inline(i + (len(line) - len(stripped)), eol)
            if self.kind == "footnote" and self.footnotes:
                last = self.footnotes[-1]
                more = self.since(plain_start).strip()
                self.footnotes[-1] = Footnote(last.number, f"{last.text} {more}".strip(), Span(last.span.start, j))
            return j
        self.kind = "footnote" if self.seen_category else "text"
        if first and stripped.startswith("> ") and "转换而来" in line or (
                first and stripped.startswith("> ") and "轉換而來" in line):
            m = re.search(r"\[([^\]\n]{1,200})\]", line)
            self.converted_from = m.group(1) if m else line[2:].strip()
            return eol
        if not stripped:
            return eol
        if stripped.startswith("#"):
            m = _HEADING.match(stripped)
            if m:
                start = i + (len(line) - len(stripped)) + m.end()
                self.section = len(self.sections)
                self.kind = "heading"
                self.line_meta.append((self.n, "heading", self.section))
                title_start = self.n
                j = self.inline(start, eol)
                title = self.since(title_start).strip()
                self.sections.append(Section(title, len(m.group(1)), Span(i, eol)))
                return j
        if stripped.startswith("|"):
            return self.table_row(i, eol)
        if stripped.startswith(">"):
            # a block quote: drop the marker, keep the text
            q = i + (len(line) - len(stripped)) + 1
            return self.inline(q, eol)
        m = _LIST_MARK.match(line)
        if m:
            number = m.group(2)
            if number is not None and self.seen_category:
                return self.footnote(int(number), i + m.end(), eol)
            self.kind = "list"
            self.line_meta.append((self.n, "list", self.section))
            return self.inline(i + m.end(), eol)
        if self.seen_category and _EMPTY_NUMBERED.match(line):
            return eol  # an empty footnote (its text was a template pandoc dropped)
        self.line_meta.append((self.n, self.kind, self.section))
        return self.inline(i, eol)

    def footnote(self, number: int, start: int, eol: int) -> int:
        self.kind = "footnote"
        self.line_meta.append((self.n, "footnote", self.section))
        plain_start = self.n
        j = self.inline(start, eol)
        text = self.since(plain_start).strip()
        self.footnotes.append(Footnote(number, text, Span(start, j)))
        return j

    def table_row(self, i: int, eol: int) -> int:
        src = self.src
        sep = _TABLE_SEPARATOR.match(src, i, eol)
        continues = self.table_line_end + 1 == i
        self.table_line_end = eol
        if sep and sep.end() == eol:
            return eol
        self.kind = "table"
        cells: list[str] = []
        # split on unescaped pipes that are not inside a link's brackets or parentheses
        j = src.index("|", i) + 1
        cell_start = j
        k = j
        while k < eol:
            c = src[k]
            if c == "\\":
                k += 2
                continue
            if c == "[" and k in self.brackets:
                close = self.brackets[k]
                k = close + 1
                if k < eol and src[k] == "(" and k in self.parens:
                    k = self.parens[k] + 1
                continue
            if c == "|":
                cells.append(self.cell(cell_start, k))
                cell_start = k + 1
            k += 1
        if cell_start < eol and src[cell_start:eol].strip():
            cells.append(self.cell(cell_start, eol))
        if self.tables and continues:
            prev = self.tables[-1]
            self.tables[-1] = Table(prev.rows + (tuple(cells),), Span(prev.span.start, eol))
        else:
            self.tables.append(Table((tuple(cells),), Span(i, eol)))
        return eol

    def cell(self, start: int, end: int) -> str:
        self.newline(start)
        self.line_meta[-1] = (self.n, "table", self.section)
        plain_start = self.n
        self.inline(start, end, bounded=True)
        return self.since(plain_start).strip()

    # -- inline ------------------------------------------------------------------------------
    def inline(self, i: int, end: int, bounded: bool = False) -> int:
        """Render ``src[i:end]``; returns where parsing stopped (past ``end`` when a template,
        comment or conversion block continues onto later lines).

        ``bounded``: ``src[i:end]`` is the inside of a link, conversion block or table cell, so
        nothing in it may run past ``end``: a construct that would is shown as written (else the
        text after ``end`` was rendered twice, and offsets ran backwards)."""
        src = self.src
        while i < end:
            m = _SPECIAL.search(src, i, end)
            if m is None:
                self.copy(i, end)
                return end
            j = m.start()
            if j > i:
                self.copy(i, j)
            c = src[j]
            if c == "[":
                i = self.link(j, end, bounded)
            elif c == "\\":
                i = self.escape(j, end)
            elif c == "{":
                close = self.template_ends.get(j) if src.startswith("{{", j) else None
                if close is None or (bounded and close + 2 > end):
                    self.copy(j, j + 1)
                    i = j + 1
                else:
                    self.templates.append(src[j:close + 2])
                    i = close + 2
            elif c == "-":
                close = self.conversion_ends.get(j) if src.startswith("-{", j) else None
                if close is None or self.depth >= _MAX_NESTING or (bounded and close + 2 > end):
                    self.copy(j, j + 1)
                    i = j + 1
                else:
                    self.depth += 1
                    try:
                        self.conversion(j, close)
                    finally:
                        self.depth -= 1
                    i = close + 2
            elif c == "<":
                i = self.tag(j, end, bounded)
            elif c == "*":
                if src.startswith("**", j):
                    if self.bold_open is None:
                        self.bold_open = self.n
                    else:
                        start = self.bold_open
                        self.bold_open = None
                        text = self.since(start)
                        if text.strip():
                            self.bold.append((text, Span(start, self.n)))
                    i = j + 2
                else:
                    self.copy(j, j + 1)
                    i = j + 1
            else:  # "\n" only reaches here inside multi-line constructs' content
                if src.startswith("  ", j + 1):  # wrapped onto an indented line: one line
                    self.emit(" ", j)
                    i = j + 1
                    while i < end and src[i] == " ":
                        i += 1
                else:
                    self.newline(j)
                    i = j + 1
            if i > end:
                # A template, comment, conversion block or link ran onto later lines: go on with
                # the rest of the line it ended on (in this loop: a recursion would overflow on
                # a chain of such lines).
                end = self.eol(i)
        return i

    def eol(self, i: int) -> int:
        eol = self.src.find("\n", i)
        return len(self.src) if eol < 0 else eol

    def resume(self, i: int) -> int:
        """After a construct that spanned lines, render the rest of the line it ended on."""
        return self.inline(i, self.eol(i))

    def escape(self, j: int, end: int) -> int:
        src = self.src
        m = _FOOTNOTE_MARK.match(src, j, end)
        if m:
            self.footnote_refs.append((int(m.group(1)), self.n))
            return m.end()
        if j + 1 < end and src[j + 1] in _ESCAPABLE:
            self.copy(j + 1, j + 2)
            return j + 2
        self.copy(j, j + 1)
        return j + 1

    def link(self, j: int, end: int, bounded: bool = False) -> int:
        """Render a link at ``j``; returns where it ends (past ``end`` when it was wrapped onto an
        indented continuation line, unless ``bounded``)."""
        src = self.src
        close = self.brackets.get(j)
        if close is None or close + 1 >= len(src) or src[close + 1] != "(" or self.depth >= _MAX_NESTING:
            self.copy(j, j + 1)
            return j + 1
        paren_close = self.parens.get(close + 1)
        if paren_close is None or (bounded and paren_close >= end):
            self.copy(j, j + 1)
            return j + 1
        self.depth += 1
        try:
            return self.link_at(j, close, paren_close)
        finally:
            self.depth -= 1

    def link_at(self, j: int, close: int, paren_close: int) -> int:
        src = self.src
        inner = src[close + 2:paren_close]
        url, title = inner, ""
        q = inner.find(' "')
        if q >= 0 and inner.endswith('"'):
            url, title = inner[:q], inner[q + 2:-1]
        url = url.strip()
        if url.startswith("<") and url.endswith(">"):
            url = url[1:-1]
        after = paren_close + 1
        if title.startswith("fig:"):
            self.figures.append(Link("figure", title[4:], url, Span(j + 1, close), Span(self.n, self.n)))
            return after
        target = page_title(url)
        if target is not None and target.startswith(_CATEGORY_PREFIXES):
            name = target.split(":", 1)[1] if ":" in target else target.split("：", 1)[1]
            self.categories.append(name.strip())
            self.seen_category = True
            return after
        text_start = self.n
        if src.startswith(_CATEGORY_PREFIXES, j + 1):
            name = _unescape(src[j + 1:close]).split(":", 1)[-1].split("：", 1)[-1]
            self.categories.append(name.strip())
            self.seen_category = True
            return after
        self.inline(j + 1, close, bounded=True)
        text = self.since(text_start)
        kind = "wiki" if target is not None else "external"
        self.links.append(Link(kind, text, target if target is not None else url,
                               Span(j + 1, close), Span(text_start, self.n)))
        return after

    def conversion(self, j: int, close: int) -> None:
        src = self.src
        body = src[j + 2:close]
        flags = re.match(r"([A-Za-z]{1,3}(?:;[A-Za-z]{1,3})*)\|", body)
        if flags:
            if "H" in flags.group(1) or "-" in flags.group(1):
                return  # a hidden, page-wide rule: nothing shown here
            body_start = j + 2 + flags.end()
            body = body[flags.end():]
        else:
            body_start = j + 2
        variants: list[tuple[str, str]] = []
        where: list[tuple[int, int]] = []  # each variant's text in the source
        if _VARIANT_RULE.match(body):
            at = body_start
            for rule in body.split(";"):
                m = _VARIANT_RULE.match(rule)
                if m:
                    raw = rule[m.end():]
                    text = _unescape(raw).strip()
                    variants.append((m.group(1), text))
                    lead = at + m.end() + len(raw) - len(raw.lstrip())
                    where.append((lead, lead + len(raw.strip())))
                at += len(rule) + 1
        plain_start = self.n
        if variants:
            chosen = {v: k for k, (v, _) in enumerate(variants)}  # the last rule of a variant wins
            k = next((chosen[v] for v in _VARIANT_ORDER if v in chosen), 0)
            self.copy_unescaped(*where[k])  # the shown text, mapped onto its own characters
        else:
            self.inline(body_start, close, bounded=True)
        self.conversions.append(Conversion(Span(j, close + 2), Span(plain_start, self.n), tuple(variants)))

    def tag(self, j: int, end: int, bounded: bool = False) -> int:
        src = self.src
        limit = end if bounded else len(src)
        if src.startswith("<!--", j):
            close = src.find("-->", j + 4, limit)
            if close >= 0 or not bounded:
                return len(src) if close < 0 else close + 3
        m = _AUTOLINK.match(src, j, limit)
        if m:
            return m.end()
        m = _TAG.match(src, j, limit)
        if not m:
            self.copy(j, j + 1)
            return j + 1
        if m.group(2).lower() in _BLOCK_TAGS:
            self.newline(j)
            self.line_meta[-1] = (self.n, "footnote" if m.group(2).lower() == "ref" and not m.group(1)
                                  else self.kind, self.section)
        return m.end()


def _split_sentences(p: _Parser, text: str) -> list[tuple[int, int, str, int]]:
    """Split plain text into (start, end, kind, section) on 。！？ (closing quotes stay with the
    sentence they close) and on line ends."""
    out: list[tuple[int, int, str, int]] = []
    metas = p.line_meta
    # one meta per plain line start; later entries at the same offset win
    meta_at: dict[int, tuple[str, int]] = {}
    for off, kind, section in metas:
        meta_at[off] = (kind, section)
    starts = sorted(meta_at)
    pos = 0
    n = len(text)
    while pos <= n:
        nl = text.find("\n", pos)
        if nl < 0:
            nl = n
        k = bisect_right(starts, pos) - 1
        kind, section = meta_at[starts[k]] if k >= 0 else ("text", -1)
        s = pos
        i = pos
        while True:
            end = _SENTENCE_END_AT(text, i, nl)  # the next 。！？ of the line
            if end is None:
                break
            i = end.start() + 1
            while i < nl and (text[i] in _CLOSERS or text[i] in _SENTENCE_END):
                i += 1
            out.append((s, i, kind, section))
            s = i
        if s < nl:
            out.append((s, nl, kind, section))
        pos = nl + 1
    return out


def parse_article(text: str, source_id: str = "") -> Article:
    """Parse the Markdown of one article. Never raises on any ``str`` input.

    ``source_id`` is the file name without extension; it doubles as the title when the article
    has no bold title term.
    """
    p = _Parser(text, source_id)
    p.parse()
    plain = "".join(p.parts)
    plain_starts = tuple(p.plain_starts)
    source_starts = tuple(p.source_starts)
    exact = tuple(p.exact)
    # Title: the first bold term of the lead, else the file name.
    title = ""
    first_heading = p.line_meta and next((off for off, kind, _ in p.line_meta if kind == "heading"), None)
    for term, span in p.bold:
        if first_heading is None or span.start < first_heading:
            title = term.strip()
            break
    if not title:
        title = source_id.replace("_", " ").strip()
    shell = Article(source_id, title, plain, (), tuple(p.sections), tuple(p.links),
                    tuple(dict.fromkeys(p.categories)), tuple(p.bold), tuple(p.templates),
                    tuple(p.conversions), tuple(p.footnotes), tuple(p.footnote_refs),
                    tuple(p.tables), tuple(p.figures), p.converted_from,
                    plain_starts, source_starts, exact)
    sentences = []
    for s, e, kind, section in _split_sentences(p, plain):
        # trim whitespace so spans point at the words themselves
        while s < e and plain[s].isspace():
            s += 1
        while e > s and plain[e - 1].isspace():
            e -= 1
        if e <= s:
            continue
        ps = Span(s, e)
        sentences.append(Sentence(plain[s:e], shell.source_span(ps), ps, kind, section))
    return Article(source_id, title, plain, tuple(sentences), shell.sections, shell.links,
                   shell.categories, shell.bold, shell.templates, shell.conversions,
                   shell.footnotes, shell.footnote_refs, shell.tables, shell.figures,
                   shell.converted_from, plain_starts, source_starts, exact)
