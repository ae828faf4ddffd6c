"""Group the proposals of many records into events (one proposal reported by several articles)
and consolidate what the reports say about each (pure: no file, database or clock).

A **report** is one proposal of one record. Reports are compared on what the records hold that
does not depend on the article's language: the codes of the proposer, the beneficiary and the
guarantors (a name only where an actor has no code), the guarantee type, the response times in
hours, the excluded territories' canonical names, the article's date, and, as a weaker sign, the
words and numbers of the proposal's quotes (which only help between articles in one language).
A report may also name the instrument it reports by its **title** (the Kyiv Security Compact,
the 20-point plan, «Договор о гарантиях безопасности»: :func:`titles_in`): two reports naming
one title are likelier one, and two naming only other titles in one script are never one (a
title is compared only with titles in its own script, as a translated title matches nothing).

An article often reports one plan as several proposals (a coalition's troops, its US backstop,
its monitoring): the proposals of one article that read as parts of one plan
(:func:`parts_of_one_plan`) are grouped first into a **plan**, and a plan is compared with the
events as a whole (:func:`whole`: the union of what its proposals name), so all of its proposals
join one event together.

Near-linear: plans are taken in date order and each is compared only with the events that
share a **block** with one of its proposals (its proposer and beneficiary, its proposer, its
beneficiary, or one of its guarantors): the :data:`CANDIDATES` sharing most blocks with it, of
those the most recently joined, each through at most :data:`MEMBERS` of its latest plans;
reports more than :data:`WINDOW_DAYS` apart, or naming other instruments by their titles, are
never one. A plan joins the best-scoring candidate at or above :data:`THRESHOLD`, else starts an
event of its own. (Within an article every pair of proposals is compared: an article reports a
handful.) The weights were set on the development articles outside ``tests/gold/HOLDOUT``
(docs/quality.md).

Stable ids: a report's id is ``<article id>#<index of the proposal in its record>``; an event's
id is derived from its earliest report (by article date, then report id), so the same records
give the same ids in any order, and adding records changes an event's id only when a new report
is earlier than every report it had.

The record's fields are read through the small accessors below (``_response_times``,
``outlet_of``, ``_person``, ``_spans``), the one place that knows the record's shape.
"""

# The titles of instruments are read in Russian as well as English, so Cyrillic letters that
# look Latin are expected in this module's patterns and docstrings.
# ruff: noqa: RUF001, RUF002, RUF003

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

from ..schemas import Actor, Evidence, ExtractionRecord, Party, Proposal

# How far apart (in days) two reports of one event may be before the later starts a new one.
WINDOW_DAYS = 1100
# Each this many days between two reports' articles count one point against them being one.
GAP_DAYS = 365.0
# Events a report is compared with (the most recently joined of those sharing a block with it,
# so those of its period); bounds the work per report.
CANDIDATES = 16
# The score at which a report joins an event (see _score and similarity).
THRESHOLD = 3.5
# Members of an event a report is compared with (its latest ones).
MEMBERS = 8
# What a title both reports name adds (see similarity).
TITLE_BONUS = 1.5
# Positions that say a state will not be a guarantor.
REFUSALS = frozenset({"declined", "opposed"})

_WORD = re.compile(r"\w+", re.UNICODE)
_MIN_WORD = 4  # shorter words are mostly function words in the languages of the corpus

# The nouns that name an instrument (a plan, a treaty, a format, a coalition), English and
# Russian: a report naming one by its title names which proposal it reports.
_ENGLISH_INSTRUMENTS = (
    "compact|plan|treaty|pact|accord|agreement|memorandum|declaration|communiqu[eé]|format"
    "|charter|framework|protocol|coalition|initiative|roadmap"
)
_RUSSIAN_INSTRUMENTS = (  # stems: the nouns decline
    "договор|пакт|план|соглашени|меморандум|деклараци|коммюнике|формат|коалици|хартия|протокол"
    "|инициатив"
)
_INSTRUMENT = re.compile(rf"(?i)\b(?:(?:{_ENGLISH_INSTRUMENTS})s?\b|(?:{_RUSSIAN_INSTRUMENTS})\w*)")
# A title in quotation marks: «Киевский договор по безопасности», формат «5+2».
_QUOTED = re.compile(r"[«“\"]([^«»“”\"]{1,60})[»”\"]")
# A title in capitals: Kyiv Security Compact, Coalition of the Willing, the 20-point plan.
_CAPITAL = r"(?:[A-ZÀ-ÖØ-ÞА-ЯЁ][\w'’-]*|\d+[-‑]point)"
_LINKS = frozenset({"of", "the", "on", "for", "о", "по", "об"})
_LINK = "|".join(sorted(_LINKS, key=len, reverse=True))
_RUN = re.compile(rf"{_CAPITAL}(?:\s+(?:(?:{_LINK})\s+)*{_CAPITAL})*")
# A Russian title capitalises its first word only: a capitalised instrument noun inside a
# sentence and the lowercase words after it (обсудили Договор о гарантиях безопасности).
_RUSSIAN_TITLE = re.compile(
    rf"(?<=[а-яё\d,] )(?i:{_RUSSIAN_INSTRUMENTS})\w*(?:\s+[а-яё][\w-]*){{0,4}}"
)
_NUMBERED = re.compile(r"(?i)\b(\d+)[-‑ ]point\b|\bиз\s+(\d+)\s+пункт")
# Words of a title that do not tell one title from another.
_TITLE_STOP = frozenset({"the", "of", "on", "for", "a", "an", "and", "о", "по", "об", "и"})


# ---------------------------------------------------------------------------------------------
# Accessors: the only reads of the record's shape that a schema change may move
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Deadline:
    """A response time a report attaches to its proposal."""

    text: str
    hours: float | None
    evidence: tuple[Evidence, ...]


def _response_times(proposal: Proposal) -> list[Deadline]:
    """Every response time of a proposal."""
    return [Deadline(x.text, x.hours, tuple(x.evidence)) for x in proposal.response_times]


def outlet_of(record: ExtractionRecord) -> str | None:
    """The outlet that published the article, where the record says."""
    return record.article.outlet


def _person(party: Party | None) -> str | None:
    """The person speaking for a proposer or beneficiary, else None."""
    return party.person if party is not None else None


def _spans(proposal: Proposal) -> frozenset[tuple[int, int]]:
    """Where in the article the proposal's own evidence lies: its quotes and those of its
    proposer, beneficiary and guarantors (not its conditions' or stances', which often quote a
    commentator on the whole article)."""
    evidence = list(proposal.evidence)
    for party in (proposal.proposer, proposal.beneficiary):
        evidence += party.evidence if party is not None else []
    for guarantor in proposal.guarantors:
        evidence += guarantor.evidence
    return frozenset((e.start, e.end) for e in evidence)


def actor_key(actor: Actor | None) -> str | None:
    """What identifies an actor across languages: its code, else its name casefolded."""
    if actor is None:
        return None
    if actor.code:
        return actor.code
    name = " ".join(actor.name.split()).casefold()
    return f"name:{name}" if name else None


def _day(text: str | None) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        return None


# ---------------------------------------------------------------------------------------------
# Reports
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Report:
    """One proposal of one record, with what grouping compares."""

    id: str
    index: int
    record: ExtractionRecord
    proposal: Proposal
    day: date | None
    proposer: str | None
    beneficiary: str | None
    guarantors: frozenset[str]
    hours: frozenset[float]
    territories: frozenset[str]
    words: frozenset[str]
    # Its guarantee type where it is one of the list (a plan's whole: those of its proposals).
    kinds: frozenset[str] = frozenset()
    spans: frozenset[tuple[int, int]] = frozenset()  # see _spans
    titles: frozenset[Title] = frozenset()  # see titles_of

    @property
    def published(self) -> str | None:
        return self.day.isoformat() if self.day else None

    @property
    def order(self) -> tuple[str, str]:
        """Earliest first: by date (undated last), then id."""
        return (self.published or "9999-99-99", self.id)

    def blocks(self) -> list[str]:
        """The keys under which events that may hold this report are found."""
        keys = (
            [f"pb:{self.proposer}>{self.beneficiary}"] if self.proposer and self.beneficiary else []
        )
        keys += [f"p:{self.proposer}"] if self.proposer else []
        keys += [f"b:{self.beneficiary}"] if self.beneficiary else []
        keys += [f"g:{code}" for code in sorted(self.guarantors)]
        return keys


def report_id(record: ExtractionRecord, index: int) -> str:
    """The id of the ``index``-th proposal of ``record``."""
    return f"{record.article.id}#{index}"


def _words(proposal: Proposal) -> frozenset[str]:
    text = " ".join(e.quote for e in proposal.evidence)
    return frozenset(
        w
        for w in (m.group().casefold() for m in _WORD.finditer(text))
        if len(w) >= _MIN_WORD or w.isdigit()
    )


@dataclass(frozen=True)
class Title:
    """The title of an instrument a proposal names (the Kyiv Security Compact, the 20-point
    plan): its words, casefolded, and whether they are Cyrillic (titles are compared only
    within one script: a title translated matches nothing)."""

    words: frozenset[str]
    cyrillic: bool

    def matches(self, other: Title) -> bool:
        """One title's words all among the other's (the Coalition of the Willing, the
        France-led Coalition of the Willing)."""
        return self.words <= other.words or other.words <= self.words


def _title(text: str) -> Title | None:
    """The title a name found in a text reads as, or None where it is an instrument noun alone."""
    words = (
        frozenset(
            w.removesuffix("'s").removesuffix("’s")
            for w in (m.group().casefold() for m in re.finditer(r"[\w'’+-]+", text))
        )
        - _TITLE_STOP
    )
    if all(_INSTRUMENT.fullmatch(w) for w in words):
        return None  # an instrument noun alone ("the Coalition") names no instrument
    return Title(words, any("\u0400" <= ch <= "\u04ff" for w in words for ch in w))


def _capitalised(word: str) -> bool:
    return word[:1].isupper() or word[:1].isdigit()


def titles_in(text: str) -> set[Title]:
    """The titles of instruments ``text`` names: a short quoted name that is or follows an
    instrument noun («Киевский договор по безопасности», формата «5+2»), a run of capitalised
    words holding one (Kyiv Security Compact, Coalition of the Willing), a capitalised Russian
    instrument noun inside a sentence with the lowercase words after it, as Russian writes a
    title (обсудили Договор о гарантиях безопасности), and a numbered plan (the 20-point plan,
    план из 20 пунктов)."""
    if not _INSTRUMENT.search(text) and not _NUMBERED.search(text):
        return set()  # every title holds an instrument noun or a number of points
    found: list[str] = []
    for m in _QUOTED.finditer(text):
        inner, before = m.group(1).strip(), text[: m.start()].split()[-1:]
        named = _INSTRUMENT.search(inner) or (before and _INSTRUMENT.search(before[0]))
        if named and len(inner.split()) <= 6 and _capitalised(inner):
            found.append(inner)
    for m in _RUN.finditer(text):
        run = m.group()
        # The noun heads the name: last, or before a link (not the North Atlantic Treaty
        # Organization, an organisation).
        heads = (run[n.end() :].split()[:1] for n in _INSTRUMENT.finditer(run))
        if len(run.split()) >= 2 and any(not after or after[0] in _LINKS for after in heads):
            found.append(run)
    found += [m.group() for m in _RUSSIAN_TITLE.finditer(text) if m.group()[0].isupper()]
    found += [f"{m.group(1) or m.group(2)}-point plan" for m in _NUMBERED.finditer(text)]
    return {t for t in map(_title, found) if t is not None}


def titles_of(proposal: Proposal) -> frozenset[Title]:
    """The titles of instruments a proposal names in its summary and its own quotes (not its
    parties' or guarantors', which often quote the article on something else)."""
    texts = [proposal.summary, *(e.quote for e in proposal.evidence)]
    return frozenset().union(*(titles_in(t) for t in texts))


def other_titles(a: frozenset[Title], b: frozenset[Title]) -> bool:
    """Whether two proposals name instruments by titles of one script and none of those
    matches: two named instruments."""
    if any(x.matches(y) for x in a for y in b if x.cyrillic == y.cyrillic):
        return False
    return any(x.cyrillic == y.cyrillic for x in a for y in b)


def same_title(a: frozenset[Title], b: frozenset[Title]) -> bool:
    """Whether two proposals name one instrument by its title."""
    return any(x.matches(y) for x in a for y in b if x.cyrillic == y.cyrillic)


def reports_of(records: Iterable[ExtractionRecord]) -> tuple[list[Report], int]:
    """The reports of ``records`` (one per proposal) and how many records were left out as a
    second record of an article already seen (the first one counts)."""
    seen: set[str] = set()
    out: list[Report] = []
    repeated = 0
    for record in records:
        if record.article.id in seen:
            repeated += 1
            continue
        seen.add(record.article.id)
        day = _day(record.article.published)
        for index, proposal in enumerate(record.proposals):
            codes = (actor_key(g.actor) for g in proposal.guarantors)
            out.append(
                Report(
                    id=report_id(record, index),
                    index=index,
                    record=record,
                    proposal=proposal,
                    day=day,
                    proposer=actor_key(proposal.proposer),
                    beneficiary=actor_key(proposal.beneficiary),
                    guarantors=frozenset(c for c in codes if c),
                    hours=frozenset(
                        d.hours for d in _response_times(proposal) if d.hours is not None
                    ),
                    territories=frozenset(x.name.casefold() for x in proposal.excluded_territories),
                    words=_words(proposal),
                    kinds=frozenset({proposal.guarantee_type} - {"other"}),
                    spans=_spans(proposal),
                    titles=titles_of(proposal),
                )
            )
    return out, repeated


# ---------------------------------------------------------------------------------------------
# Grouping
# ---------------------------------------------------------------------------------------------


@dataclass
class _Cluster:
    """An event while plans are added: its reports, and each plan as a whole (what a new plan
    is compared with)."""

    reports: list[Report] = field(default_factory=list)
    wholes: list[Report] = field(default_factory=list)


def _known(key: str | None) -> bool:
    """Whether an actor key is a code (names differ between reports of one actor)."""
    return key is not None and not key.startswith("name:")


def similarity(a: Report, b: Report) -> float:
    """How strongly two reports read as one proposal (``_score`` turns it into a report's fit
    to an event, compared with ``THRESHOLD``).

    Codes weigh most; a different beneficiary or proposer, a different guarantee type or a
    long gap between the articles count against; quote words weigh least, as they only match
    within one language. A title both name counts for; two reports naming only other titles
    (:func:`other_titles`) are never one, like two reports too far apart.
    """
    titled = a.titles and b.titles
    # Two reports naming two instruments by their titles report two proposals.
    if titled and other_titles(a.titles, b.titles):
        return float("-inf")
    # Two proposals of one record are two proposals by the extraction's reading.
    score = -1.5 if a.record.article.id == b.record.article.id else 0.0
    if a.day and b.day:
        gap = abs((a.day - b.day).days)
        if gap > WINDOW_DAYS:
            return float("-inf")
        # Reports days apart are likely one (+1.5 on the same day, half that a month on);
        # each year apart counts one point against.
        score += 1.5 * 0.5 ** (gap / 30.0) - gap / GAP_DAYS
    if a.beneficiary and b.beneficiary:
        if a.beneficiary == b.beneficiary:
            score += 1.0
        else:  # a name against a code may still be the same state: half the weight
            score -= 2.0 if _known(a.beneficiary) and _known(b.beneficiary) else 1.0
    if _known(a.proposer) and _known(b.proposer):  # a name is often a person: not compared
        score += 1.0 if a.proposer == b.proposer else -1.0
    if a.guarantors and b.guarantors:
        shared = len(a.guarantors & b.guarantors)
        # Each shared guarantor counts (a single one, often the US, says little alone), and
        # so does the share of the shorter list that the other names.
        smaller = min(len(a.guarantors), len(b.guarantors))
        score += 0.75 * min(shared, 4) + shared / smaller if shared else -1.0
    # 'other' says only that the type is none of the list: it neither matches nor differs.
    if a.kinds & b.kinds:
        score += 1.5
    elif a.kinds and b.kinds:
        score -= 0.5
    if a.hours & b.hours:
        score += 1.0
    if a.territories & b.territories:
        score += 1.5
    if titled and same_title(a.titles, b.titles):
        score += TITLE_BONUS
    if a.words and b.words:
        shared_words = len(a.words & b.words)
        score += 4.0 * shared_words / (len(a.words) + len(b.words) - shared_words)
    return score


def _score(report: Report, cluster: _Cluster) -> float:
    """How well ``report`` (a plan as a whole) fits an event: the mean of its similarity to the
    event's latest ``MEMBERS`` plans (all of them for most events) and its best one. The mean
    keeps an event from growing by chaining; the best lets a report that repeats one member's
    details (a retelling years later) join although it shares little with the others."""
    members = cluster.wholes[-MEMBERS:]
    scores = [similarity(report, m) for m in members]
    return (sum(scores) / len(scores) + max(scores)) / 2


def _same(a: str | None, b: str | None) -> bool:
    """Whether two actor keys name one actor by its code."""
    return _known(a) and a == b


def _agree(a: str | None, b: str | None) -> bool:
    """Whether two actor keys do not contradict each other (one may be missing)."""
    return a is None or b is None or a == b


def _detail_of(a: Report, b: Report) -> bool:
    """Whether ``a`` adds nothing of its own to ``b``, a proposal of its article: it names no
    guarantor, its parties do not contradict ``b``'s (and one of them is ``b``'s), and its type
    is none of the list or ``b``'s, or ``b``'s is none of the list and they share the proposer
    (the April draft of a proposal; a monitoring mechanism of a plan)."""
    if a.guarantors:
        return False
    if not (_agree(a.proposer, b.proposer) and _agree(a.beneficiary, b.beneficiary)):
        return False
    if not (_same(a.beneficiary, b.beneficiary) or _same(a.proposer, b.proposer)):
        return False
    kind_a, kind_b = a.proposal.guarantee_type, b.proposal.guarantee_type
    return kind_a in ("other", kind_b) or (kind_b == "other" and _same(a.proposer, b.proposer))


def parts_of_one_plan(a: Report, b: Report) -> bool:
    """Whether two proposals of one article are parts of one plan the article reports: they
    share the beneficiary and a guarantor, a quote, an excluded territory or a response time
    (the coalition's troops and its US backstop), or one is a detail of the other
    (:func:`_detail_of`). Proposals of one article that differ in type and guarantors (the
    options an article lists) stay apart."""
    if _same(a.beneficiary, b.beneficiary) and (
        a.guarantors & b.guarantors
        or a.territories & b.territories
        or a.hours & b.hours
        or any(x[0] < y[1] and y[0] < x[1] for x in a.spans for y in b.spans)
    ):
        return True
    return _detail_of(a, b) or _detail_of(b, a)


def _plans_of_article(members: Sequence[Report]) -> list[list[Report]]:
    """One article's reports (earliest first) joined where :func:`parts_of_one_plan` says, and
    through each other. A union-find by hand: an article holds a handful of proposals, and a
    graph library would be a dependency for ten lines."""
    plan_of = list(range(len(members)))  # each report's plan: the first report of its plan

    def root(i: int) -> int:
        while plan_of[i] != i:
            i = plan_of[i]
        return i

    for i, a in enumerate(members):
        for j in range(i + 1, len(members)):
            if parts_of_one_plan(a, members[j]):
                first, second = sorted((root(i), root(j)))
                plan_of[second] = first
    joined: dict[int, list[Report]] = {}
    for i, report in enumerate(members):
        joined.setdefault(root(i), []).append(report)
    return list(joined.values())


def plans(reports: Sequence[Report]) -> list[list[Report]]:
    """The reports grouped into plans (the proposals of each article joined where
    :func:`parts_of_one_plan` says), each plan earliest report first, plans in the order of
    their earliest report."""
    by_article: dict[str, list[Report]] = {}
    for report in sorted(reports, key=lambda r: r.order):
        by_article.setdefault(report.record.article.id, []).append(report)
    out = [plan for members in by_article.values() for plan in _plans_of_article(members)]
    return sorted(out, key=lambda plan: plan[0].order)


def _most_named(keys: Iterable[str | None]) -> str | None:
    """The key most of a plan's proposals give (a tie goes to the earliest), else None."""
    counts = Counter(k for k in keys if k)
    return counts.most_common(1)[0][0] if counts else None


def whole(plan: Sequence[Report]) -> Report:
    """A plan as one report, compared as such with other articles' plans: its first report
    with the proposer and beneficiary most of its proposals name, the guarantors, response
    times, excluded territories and quote words of all of them, and the type most of them give
    (of the list, where one does)."""
    first = plan[0]
    if len(plan) == 1:
        return first
    return replace(
        first,
        proposer=_most_named(r.proposer for r in plan),
        beneficiary=_most_named(r.beneficiary for r in plan),
        guarantors=frozenset().union(*(r.guarantors for r in plan)),
        hours=frozenset().union(*(r.hours for r in plan)),
        territories=frozenset().union(*(r.territories for r in plan)),
        words=frozenset().union(*(r.words for r in plan)),
        kinds=frozenset().union(*(r.kinds for r in plan)),
        titles=frozenset().union(*(r.titles for r in plan)),
    )


def group(reports: Sequence[Report]) -> list[list[Report]]:
    """Reports grouped into events, each event's reports earliest first, events in the order of
    their earliest report. The result depends on the set of reports, not their order."""
    clusters: list[_Cluster] = []
    joined: list[int] = []  # when each event last took a plan (its recency)
    index: dict[str, list[int]] = {}
    for step, plan in enumerate(plans(reports)):
        plan_whole = whole(plan)
        keys = sorted({key for report in plan for key in report.blocks()})
        shared: Counter[int] = Counter()
        for key in keys:
            shared.update(index.get(key, ()))
        # The events sharing most blocks with the plan, of those the most recently joined
        # (the candidates of its period).
        candidates = sorted(shared, key=lambda c: (-shared[c], -joined[c]))[:CANDIDATES]
        best, best_score = None, THRESHOLD
        for number in sorted(candidates):
            score = _score(plan_whole, clusters[number])
            if score > best_score or (best is None and score >= best_score):
                best, best_score = number, score
        if best is None:
            clusters.append(_Cluster())
            joined.append(step)
            best = len(clusters) - 1
        clusters[best].reports.extend(plan)
        clusters[best].wholes.append(plan_whole)
        joined[best] = step
        for key in keys:
            members = index.setdefault(key, [])
            if best in members:
                members.remove(best)
            members.append(best)
            if len(members) > CANDIDATES:
                del members[0]
    return [sorted(c.reports, key=lambda r: r.order) for c in clusters]


# ---------------------------------------------------------------------------------------------
# Consolidation
# ---------------------------------------------------------------------------------------------


def _quote(evidence: Sequence[Evidence]) -> dict[str, Any] | None:
    if not evidence:
        return None
    first = evidence[0]
    return {"quote": first.quote, "start": first.start, "end": first.end}


def _source(report: Report) -> dict[str, Any]:
    article = report.record.article
    return {
        "report": report.id,
        "article_id": article.id,
        "index": report.index,
        "source": article.source,
        "title": article.title,
        "url": article.url,
        "outlet": outlet_of(report.record),
        "published": report.published,
        "language": article.language,
        "summary": report.proposal.summary,
        "proposer": _party(report.proposal.proposer),
        "beneficiary": _party(report.proposal.beneficiary),
        "guarantee_type": report.proposal.guarantee_type,
        "evidence": _quote(report.proposal.evidence),
    }


def _party(party: Party | None) -> dict[str, Any] | None:
    if party is None:
        return None
    return {"name": party.name, "code": party.code, "person": _person(party)}


def event_id(first: Report) -> str:
    """An event's id: a digest of its earliest report's id."""
    return "ev-" + hashlib.sha256(first.id.encode()).hexdigest()[:16]


def _most_common(reports: Sequence[Report], role: str) -> dict[str, Any] | None:
    """The proposer (or beneficiary) most reports name, with how many do."""
    parties = [getattr(r.proposal, role) for r in reports]
    keyed = [(actor_key(p), p) for p in parties if p is not None]
    if not keyed:
        return None
    counts = Counter(k for k, _ in keyed)
    # Counter keeps first-seen order, so a tie goes to the party of the earliest report.
    top, count = counts.most_common(1)[0]
    party = next(p for k, p in keyed if k == top)
    return {**(_party(party) or {}), "reports": count}


def consolidate(reports: Sequence[Report]) -> dict[str, Any]:
    """One event as a JSON object (the line ``extractor events`` writes): its reports with
    their sources, first and last seen, each guarantor with its reports and positions over
    time, the response times and exclusions with their reports, and the disagreements."""
    ordered = sorted(reports, key=lambda r: r.order)
    days = [r.published for r in ordered if r.published]
    guarantors: dict[str, dict[str, Any]] = {}
    for report in ordered:
        for j, g in enumerate(report.proposal.guarantors):
            key = actor_key(g.actor)
            if key is None:
                continue
            entry = guarantors.setdefault(
                key,
                {"code": g.actor.code, "name": g.actor.name, "reports": [], "positions": []},
            )
            if report.id not in entry["reports"]:
                entry["reports"].append(report.id)
            entry["positions"].append(
                {
                    "report": report.id,
                    "guarantor": j,
                    "published": report.published,
                    "position": g.position,
                    "evidence": _quote(g.evidence),
                }
            )
    guarantor_list = []
    for key, entry in guarantors.items():
        named = [p["published"] for p in entry["positions"] if p["published"]]
        guarantor_list.append(
            {
                "key": key,
                "code": entry["code"],
                "name": entry["name"],
                "report_count": len(entry["reports"]),
                "first_named": min(named) if named else None,
                "last_named": max(named) if named else None,
                "positions": entry["positions"],
            }
        )
    guarantor_list.sort(key=lambda g: (-g["report_count"], g["key"]))
    return {
        "id": event_id(ordered[0]),
        "summary": ordered[0].proposal.summary,
        "proposer": _most_common(ordered, "proposer"),
        "beneficiary": _most_common(ordered, "beneficiary"),
        "guarantee_types": dict(Counter(r.proposal.guarantee_type for r in ordered).most_common()),
        "first_seen": min(days) if days else None,
        "last_seen": max(days) if days else None,
        "report_count": len(ordered),
        "article_count": len({r.record.article.id for r in ordered}),
        "reports": [_source(r) for r in ordered],
        "guarantors": guarantor_list,
        "response_times": _response_claims(ordered),
        "exclusions": _exclusion_claims(ordered),
        "disagreements": _disagreements(guarantor_list),
    }


def _response_claims(reports: Sequence[Report]) -> list[dict[str, Any]]:
    claims: dict[str, dict[str, Any]] = {}
    for report in reports:
        for j, deadline in enumerate(_response_times(report.proposal)):
            key = f"{deadline.hours:g}" if deadline.hours is not None else deadline.text.casefold()
            claim = claims.setdefault(
                key, {"hours": deadline.hours, "text": deadline.text, "reports": []}
            )
            claim["reports"].append(
                {
                    "report": report.id,
                    "index": j,
                    "text": deadline.text,
                    "evidence": _quote(deadline.evidence),
                }
            )
    return list(claims.values())


def _exclusion_claims(reports: Sequence[Report]) -> list[dict[str, Any]]:
    claims: dict[str, dict[str, Any]] = {}
    for report in reports:
        for j, territory in enumerate(report.proposal.excluded_territories):
            claim = claims.setdefault(
                territory.name.casefold(),
                {"name": territory.name, "code": territory.code, "reports": []},
            )
            claim["reports"].append(
                {
                    "report": report.id,
                    "index": j,
                    "text": territory.text,
                    "evidence": _quote(territory.evidence),
                }
            )
    return list(claims.values())


def _disagreements(guarantors: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each pair of reports of which one names a guarantor and another says it declined (or
    opposed it): the first naming and the first refusal from another report, with both quotes."""
    out = []
    for g in guarantors:
        refusals = [p for p in g["positions"] if p["position"] in REFUSALS]
        named = [p for p in g["positions"] if p["position"] not in REFUSALS]
        for refusal in refusals:
            other = next((p for p in named if p["report"] != refusal["report"]), None)
            if other is None:
                continue
            out.append(
                {"guarantor": g["key"], "code": g["code"], "named": other, "declined": refusal}
            )
            break
    return out


def grouped(records: Iterable[ExtractionRecord]) -> list[tuple[dict[str, Any], list[Report]]]:
    """Each event of ``records`` (as :func:`events`) with its reports, earliest first."""
    reports, _ = reports_of(records)
    out = []
    for members in group(reports):
        ordered = sorted(members, key=lambda r: r.order)
        out.append((consolidate(ordered), ordered))
    return out


def events(records: Iterable[ExtractionRecord]) -> list[dict[str, Any]]:
    """The events of ``records``: their proposals grouped across articles and consolidated (see
    :func:`consolidate`), earliest first.

    A record of an article already given (another run's, say) is left out: the first one counts.
    """
    return [event for event, _ in grouped(records)]


__all__ = [
    "REFUSALS",
    "THRESHOLD",
    "TITLE_BONUS",
    "WINDOW_DAYS",
    "Report",
    "Title",
    "actor_key",
    "consolidate",
    "event_id",
    "events",
    "group",
    "grouped",
    "other_titles",
    "outlet_of",
    "parts_of_one_plan",
    "plans",
    "report_id",
    "reports_of",
    "same_title",
    "titles_in",
    "titles_of",
    "whole",
]
