"""Score a grouping of proposals into events against annotated events (pure): pairwise and
B-cubed precision and recall, as ``extractor eval --events`` prints them.

The gold (``tests/gold/events/events.json``, format in ``tests/gold/README.md``) lists, for each
article, the events its proposals report. Each proposal of a record is **aligned** to one gold
event of its article: the only one, or, where the article reports several, the one whose
``types`` and ``keywords`` fit the proposal best (ties go to the first listed). The scored items
are the aligned proposals: a proposal's gold cluster is its gold event, its predicted cluster
the event ``extractor.outputs.grouping`` put it in. Proposals of an article whose gold lists no
event, and
of articles the gold does not hold, are counted and left out (finding proposals is what the
field scores measure; this measures grouping).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import InputError
from ..outputs.grouping import Report, group, reports_of
from ..schemas import ExtractionRecord


@dataclass(frozen=True)
class Mention:
    """One gold event an article reports, with what tells it from the article's others."""

    event: str
    types: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()


@dataclass(frozen=True)
class EventGold:
    """An events gold file: each event's description by id, and each article's mentions of
    them."""

    events: dict[str, str]  # id -> description
    articles: dict[str, tuple[Mention, ...]]  # article file name -> its events


def load_event_gold(path: Path) -> EventGold:
    """Read an events gold file.

    Raises:
        InputError: it cannot be read, is not JSON, or does not have the documented shape (the
            message names the file and the part).
    """
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputError(f"{path}: cannot be read ({exc.strerror}); check --events") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"{path}: not a JSON file ({exc}); see tests/gold/README.md") from None
    fix = "see tests/gold/README.md, section Events"
    if not isinstance(data, dict) or not isinstance(data.get("events"), dict):
        raise InputError(f"{path}: needs an 'events' object of id -> description; {fix}")
    if not isinstance(data.get("articles"), dict):
        raise InputError(f"{path}: needs an 'articles' object of file name -> events; {fix}")
    events = {str(k): str(v) for k, v in data["events"].items()}
    articles: dict[str, tuple[Mention, ...]] = {}
    for name, mentions in data["articles"].items():
        if not isinstance(mentions, list):
            raise InputError(f"{path}: articles[{name!r}] must be a list; {fix}")
        parsed = []
        for m in mentions:
            if not isinstance(m, dict) or m.get("event") not in events:
                raise InputError(
                    f"{path}: articles[{name!r}] holds {m!r}, not an event listed under "
                    f"'events'; {fix}"
                )
            parsed.append(
                Mention(
                    str(m["event"]),
                    tuple(str(t) for t in m.get("types", [])),
                    tuple(str(k).casefold() for k in m.get("keywords", [])),
                )
            )
        articles[str(name)] = tuple(parsed)
    return EventGold(events, articles)


def _fit(report: Report, mention: Mention) -> int:
    proposal = report.proposal
    words = " ".join(
        [proposal.summary, *(e.quote for e in proposal.evidence)]
        + [g.actor.name for g in proposal.guarantors]
    ).casefold()
    return 2 * (proposal.guarantee_type in mention.types) + sum(
        k in words for k in mention.keywords
    )


def align(report: Report, mentions: Sequence[Mention]) -> Mention:
    """The gold event of the article that ``report`` reports (see the module's docstring)."""
    best = mentions[0]
    for mention in mentions[1:]:
        if _fit(report, mention) > _fit(report, best):
            best = mention
    return best


@dataclass(frozen=True)
class Figures:
    """Precision and recall of one grouping measure (None where nothing was there to count)."""

    precision: float | None
    recall: float | None

    @property
    def f1(self) -> float | None:
        p, r = self.precision, self.recall
        if p is None or r is None:
            return None
        return 0.0 if p + r == 0 else 2 * p * r / (p + r)


@dataclass(frozen=True)
class EventScore:
    """What ``extractor eval --events`` prints for one file of records."""

    items: int  # aligned proposals scored
    gold_events: int  # distinct gold events among them
    predicted_events: int  # distinct predicted events among them
    pairwise: Figures
    bcubed: Figures
    outside: int  # proposals of articles with no gold event
    unannotated: list[str]  # articles with proposals the gold does not hold
    clusters: list[list[tuple[str, str]]]  # predicted events: (article, gold event) per item

    def to_json(self) -> dict[str, Any]:
        def figures(f: Figures) -> dict[str, float | None]:
            return {"precision": f.precision, "recall": f.recall, "f1": f.f1}

        return {
            "items": self.items,
            "gold_events": self.gold_events,
            "predicted_events": self.predicted_events,
            "pairwise": figures(self.pairwise),
            "bcubed": figures(self.bcubed),
            "outside": self.outside,
            "unannotated": self.unannotated,
            "clusters": [[list(item) for item in cluster] for cluster in self.clusters],
        }


def _name(report: Report) -> str:
    return Path(report.record.article.source).name


def score_events(records: Sequence[ExtractionRecord], gold: EventGold) -> EventScore:
    """Group ``records``' proposals with :func:`extractor.outputs.grouping.group` and score the
    grouping against ``gold``."""
    reports, _ = reports_of(records)
    predicted: dict[str, int] = {}
    for number, members in enumerate(group(reports)):
        for report in members:
            predicted[report.id] = number
    items: list[tuple[str, str, int]] = []  # article, gold event, predicted event
    outside = 0
    unannotated: set[str] = set()
    for report in reports:
        name = _name(report)
        mentions = gold.articles.get(name)
        if mentions is None:
            unannotated.add(name)
        elif not mentions:
            outside += 1
        else:
            items.append((name, align(report, mentions).event, predicted[report.id]))
    pairs_same_pred = pairs_same_gold = pairs_both = 0
    for i, a in enumerate(items):
        for b in items[i + 1 :]:
            same_gold, same_pred = a[1] == b[1], a[2] == b[2]
            pairs_same_gold += same_gold
            pairs_same_pred += same_pred
            pairs_both += same_gold and same_pred
    gold_size = Counter(g for _, g, _ in items)
    pred_size = Counter(p for _, _, p in items)
    both_size = Counter((g, p) for _, g, p in items)
    n = len(items)
    bp = sum(both_size[(g, p)] / pred_size[p] for _, g, p in items) / n if n else None
    br = sum(both_size[(g, p)] / gold_size[g] for _, g, p in items) / n if n else None
    clusters: dict[int, list[tuple[str, str]]] = {}
    for name, event, number in items:
        clusters.setdefault(number, []).append((name, event))
    return EventScore(
        items=n,
        gold_events=len(gold_size),
        predicted_events=len(pred_size),
        pairwise=Figures(
            pairs_both / pairs_same_pred if pairs_same_pred else None,
            pairs_both / pairs_same_gold if pairs_same_gold else None,
        ),
        bcubed=Figures(bp, br),
        outside=outside,
        unannotated=sorted(unannotated),
        clusters=[clusters[k] for k in sorted(clusters)],
    )


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def render(scores: Sequence[tuple[str, EventScore]]) -> str:
    """The figures of each file of records, one row each."""
    lines = [
        "events          proposals  gold  found  pair P  pair R  pair F1  B3 P  B3 R  B3 F1",
    ]
    for label, s in scores:
        lines.append(
            f"{label[:15]:<15} {s.items:>9}  {s.gold_events:>4}  {s.predicted_events:>5}"
            f"  {_num(s.pairwise.precision):>6}  {_num(s.pairwise.recall):>6}"
            f"  {_num(s.pairwise.f1):>7}  {_num(s.bcubed.precision):>4}"
            f"  {_num(s.bcubed.recall):>4}  {_num(s.bcubed.f1):>5}"
        )
    for label, s in scores:
        if s.outside:
            lines.append(
                f"{label}: {s.outside} proposals of articles that report no event, not scored"
            )
        if s.unannotated:
            lines.append(f"{label}: not in the events gold: {', '.join(s.unannotated)}")
    return "\n".join(lines) + "\n"
