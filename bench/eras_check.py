"""Check ontology/eras.tsv against what the articles say, and print what agrees and what does not.

Two kinds of evidence in the articles:

- glosses: an era year followed by its Gregorian year, ``嘉定四年（1211年）``. Each is read with
  `find_dates` and counted as agreeing or disagreeing with the table (a gloss far from every row
  of its name dates a homonymous era of another period: counted apart, not as a disagreement);
- era spans: ``嘉定（1208年正月至1224年十二月）：宋—宋寧宗…`` in the era articles' lists of
  contemporary eras, and the lead of an era article, ``**乾定**（1223年十二月－1226年七月）是西夏…``.
  The years are compared with the row's first_year and last_year (eras the table does not hold,
  such as Japanese, Vietnamese or Dali ones, are skipped).

    .venv/bin/python bench/eras_check.py [-v] [FOLDER ...]   # -v: list the agreeing spans too   # default: ../shared/corpus/history ../shared/seeds

Exit code 0 always: this reports, the tests decide.
"""

from __future__ import annotations

import re
import sys
from collections import Counter
from pathlib import Path

from shilu.extract.article import parse_article
from shilu.extract.dates import _norm, default_eras, find_dates

ROOT = Path(__file__).resolve().parent.parent
DEFAULT = [ROOT.parent / "shared" / "corpus" / "history", ROOT.parent / "shared" / "seeds"]

_SPAN = re.compile(
    r"(?P<era>[\u4e00-\u9fff]{2,6})(?:\s*\([^)]*\))?\s*[（(](?:元年：)?(?P<y1>\d{3,4})年[^）)]{0,20}?"
    r"(?:(?:至|－|—|-|–)\s*(?:末年：)?(?P<y2>\d{3,4})年[^）)]{0,16})?[）)]\s*(?:：|是|为|為)?(?P<after>[^。\n]{0,40})"
)


def _files(folders: list[Path]) -> list[Path]:
    out: list[Path] = []
    for f in folders:
        if f.is_dir():
            out.extend(sorted(p for p in f.iterdir() if p.suffix in (".md", ".txt")))
    return out


def main(argv: list[str]) -> int:
    verbose = "-v" in argv
    folders = [Path(a) for a in argv if a != "-v"] or DEFAULT
    table = default_eras()
    files = _files(folders)
    glosses: Counter[str] = Counter()
    disagreements: list[str] = []
    homonyms: list[str] = []
    spans: Counter[str] = Counter()
    span_notes: list[str] = []
    seen_spans: set[tuple[str, int, int | None, str]] = set()
    for path in files:
        article = parse_article(path.read_text(encoding="utf-8"), path.stem)
        for s in article.sentences:
            for m in find_dates(s.text, eras=table):
                if m.gloss_year is None:
                    continue
                if m.era is not None:
                    if m.conflict:
                        glosses["disagree"] += 1
                        disagreements.append(f"{path.stem}: {m.text} — table {m.era} → {m.year}, gloss {m.gloss_year}")
                    else:
                        glosses["agree"] += 1
                elif m.relative is None:
                    if table.name_at(_norm(m.text), 0):  # 貞觀八年（634年）: an era of another period
                        glosses["other period"] += 1
                        homonyms.append(f"{path.stem}: {m.text}")
                    else:  # 十一年（1251年）: a bare era year the gloss dates
                        glosses["bare"] += 1
            for x in _SPAN.finditer(s.text):
                era, y1 = x.group("era"), int(x.group("y1"))
                y2 = int(x.group("y2")) if x.group("y2") else None
                # the era name is the end of the run of CJK characters before the parenthesis
                rows = ()
                for k in range(len(era) - 1):
                    rows = table.lookup(era[k:])
                    if rows:
                        era = era[k:]
                        break
                if not rows:
                    continue
                after = x.group("after")
                if y2 is not None and y2 < y1:
                    spans["malformed"] += 1  # 至寧（1211年八月至1123年）: a typo in the article
                    span_notes.append(f"{path.stem}: {era}（{y1}–{y2}）{after[:14]} — end before start, skipped")
                    continue
                key = (_norm(era), y1, y2, _norm(after[:6]))
                if key in seen_spans:
                    continue
                seen_spans.add(key)
                hint = None
                for r in rows:
                    if any(p in _norm(after[:12]) for p in (_norm(r.polity), *(_norm(n) for n in r.ruler.split("、")))):
                        hint = r
                        break
                    if table.matches_hint(r, _norm(after[:2]).rstrip("—-时时期")) or table.matches_hint(r, _norm(after[:1])):
                        hint = hint or r
                candidates = [hint] if hint else list(rows)
                ok = [r for r in candidates if r.first_year == y1 and (y2 is None or r.last_year == y2)]
                if ok:
                    spans["agree"] += 1
                    if verbose:
                        span_notes.append(f"{path.stem}: {era}（{y1}{'–' + str(y2) if y2 else ''}）{after[:14]} — agrees")
                elif hint is None and not any(abs(r.first_year - y1) <= 2 for r in rows):
                    spans["other period"] += 1  # the same name used by another state (貞應: 日本)
                else:
                    spans["disagree"] += 1
                    r = candidates[0]
                    span_notes.append(
                        f"{path.stem}: {era}（{y1}{'–' + str(y2) if y2 else ''}）{after[:14]} — table {r.name} {r.polity} "
                        f"{r.first_year}–{r.last_year}"
                    )
    print(f"articles: {len(files)}, era rows: {len(table)}  {dict(table.polities())}")
    print(f"glosses after an era year: {glosses['agree']} agree, {glosses['disagree']} disagree; "
          f"{glosses['other period']} date a same-named era of another period; "
          f"{glosses['bare']} date a bare era year")
    for d in disagreements:
        print("  disagree:", d)
    for h in homonyms:
        print("  other period:", h)
    print(f"era spans stated in the articles: {spans['agree']} agree, {spans['disagree']} disagree, "
          f"{spans['other period']} of another state, {spans['malformed']} malformed")
    for d in span_notes:
        print("  span:", d)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
