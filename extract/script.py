"""Script normalisation: Traditional ⇄ Simplified through OpenCC, honouring `-{…}-` markup.

Converters are created once per process (building one costs milliseconds; converting is fast).
A resource key is the t2s form of a name, so 遼朝 and 辽朝 are one key.
"""

from __future__ import annotations

from functools import lru_cache

import opencc

from .article import Article, Span

__all__ = ["to_hans", "to_hant", "key", "labels_for"]

_T2S = opencc.OpenCC("t2s")
_S2T = opencc.OpenCC("s2t")

_HANS_VARIANTS = ("zh-hans", "zh-cn", "zh-sg", "zh-my", "zh")
_HANT_VARIANTS = ("zh-hant", "zh-tw", "zh-hk", "zh-mo", "zh")


# Characters OpenCC's t2s merges into another that names in these articles keep as they are:
# 乾 of the era names 乾定, 乾亨, 乾統 is 乾 in Simplified too (Wikipedia protects it as -{乾}-);
# t2s would make it 干.
_KEEP = frozenset("乾")


@lru_cache(maxsize=200_000)
def to_hans(text: str) -> str:
    """Simplified form: ``to_hans("遼朝") == "辽朝"``, ``to_hans("乾定") == "乾定"``."""
    out = _T2S.convert(text)
    if _KEEP.isdisjoint(text) or len(out) != len(text):
        return out
    return "".join(o if c not in _KEEP else c for c, o in zip(text, out))


@lru_cache(maxsize=200_000)
def to_hant(text: str) -> str:
    """Traditional form: ``to_hant("辽朝") == "遼朝"``."""
    return _S2T.convert(text)


@lru_cache(maxsize=1 << 15)
def key(name: str) -> str:
    """The script-independent key of a name: t2s, whitespace collapsed, underscores as spaces."""
    return " ".join(to_hans(name.replace("_", " ")).split())


def labels_for(article: Article, plain: Span) -> tuple[str, str]:
    """(zh-Hant, zh-Hans) forms of the article text in ``plain``.

    Conversion blocks inside the range win over OpenCC: per-variant rules give each script its
    own text, protected text is kept as written in both.
    """
    text = article.text
    blocks = [c for c in article.conversions if c.plain.start < plain.end and c.plain.end > plain.start]
    if not blocks:
        piece = text[plain.start:plain.end]
        return to_hant(piece), to_hans(piece)
    hant: list[str] = []
    hans: list[str] = []
    pos = plain.start
    for c in blocks:
        s, e = max(c.plain.start, plain.start), min(c.plain.end, plain.end)
        if pos < s:
            hant.append(to_hant(text[pos:s]))
            hans.append(to_hans(text[pos:s]))
        if c.protected or (s, e) != (c.plain.start, c.plain.end):
            hant.append(text[s:e])
            hans.append(text[s:e])
        else:
            rules = dict(c.variants)
            hant.append(next((rules[v] for v in _HANT_VARIANTS if v in rules), to_hant(text[s:e])))
            hans.append(next((rules[v] for v in _HANS_VARIANTS if v in rules), to_hans(text[s:e])))
        pos = e
    if pos < plain.end:
        hant.append(to_hant(text[pos:plain.end]))
        hans.append(to_hans(text[pos:plain.end]))
    return "".join(hant), "".join(hans)
