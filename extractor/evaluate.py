"""Score extraction records against hand-made gold annotations and report per-field figures."""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from .errors import InputError
from .files import read_jsonl
from .grounding import on_word_boundaries

__all__ = [
    "FIELDS",
    "ArticleReport",
    "Comparison",
    "FieldScore",
    "Report",
    "compare",
    "load_gold",
    "load_records",
    "render_comparison",
    "render_table",
    "score",
]

# The scored fields, in the order every report lists them.
SET_FIELDS: Final[tuple[str, ...]] = (
    "proposers",
    "guarantors",
    "response_time_hours",
    "excluded_territories",
)
FIELDS: Final[tuple[str, ...]] = (*SET_FIELDS, "conditions")

_GOLD_KEYS: Final[tuple[str, ...]] = ("article", "has_proposal", *FIELDS)
_GOLD_FIX: Final[str] = "fix the file to follow the format in gold/README.md"


# --------------------------------------------------------------------------------------------
# Results
# --------------------------------------------------------------------------------------------


def _ratio(numerator: int, denominator: int) -> float | None:
    return numerator / denominator if denominator else None


@dataclass(frozen=True)
class FieldScore:
    """Micro-averaged counts for one field, summed over the scored articles.

    Attributes:
        field: The field name, one of :data:`FIELDS`.
        tp_precision: Predicted values that are required or optional in the gold.
        n_pred: Predicted values.
        tp_recall: Required gold values that were predicted.
        n_required: Required gold values.
    """

    field: str
    tp_precision: int
    n_pred: int
    tp_recall: int
    n_required: int

    @property
    def precision(self) -> float | None:
        """``tp_precision / n_pred``; ``None`` when nothing was predicted."""
        return _ratio(self.tp_precision, self.n_pred)

    @property
    def recall(self) -> float | None:
        """``tp_recall / n_required``; ``None`` when the gold requires nothing."""
        return _ratio(self.tp_recall, self.n_required)

    @property
    def f1(self) -> float | None:
        """Harmonic mean of precision and recall; ``None`` when the gold requires nothing.

        With nothing required there is nothing to find, so F1 is undefined. Predicting nothing
        while something is required is a total miss and scores 0.0 rather than ``None``, so that
        an extractor which never fills a field cannot hide behind a blank cell.
        """
        recall = self.recall
        if recall is None:
            return None
        precision = self.precision or 0.0
        if precision + recall == 0.0:
            return 0.0
        return 2 * precision * recall / (precision + recall)

    @property
    def support(self) -> int:
        """The number of required gold values (``n_required``)."""
        return self.n_required


@dataclass(frozen=True)
class ArticleReport:
    """What one record got wrong.

    Attributes:
        article: The article file name (``Path(record["article"]["source"]).name``).
        scored: Whether the record was scored (False: no gold file, or a duplicate).
        false_positives: Per field, the predicted values the gold neither requires nor allows.
        misses: Per field, the required values not predicted (condition ids for conditions).
        has_proposal: The gold answer (``None``: either answer accepted, or not scored).
        predicted_has_proposal: Whether the record holds at least one proposal.
        error: The record's error type, when extraction failed for the article.
    """

    article: str
    scored: bool
    false_positives: dict[str, list[str]]
    misses: dict[str, list[str]]
    has_proposal: bool | None
    predicted_has_proposal: bool
    error: str | None

    @property
    def perfect(self) -> bool:
        """True when nothing is wrong: no false positive, no miss, has_proposal as expected."""
        return (
            not any(self.false_positives.values())
            and not any(self.misses.values())
            and self.has_proposal in (None, self.predicted_has_proposal)
        )

    def to_json(self) -> dict[str, object]:
        """This report as one JSON-serialisable object."""
        return {
            "article": self.article,
            "scored": self.scored,
            "has_proposal": self.has_proposal,
            "predicted_has_proposal": self.predicted_has_proposal,
            "error": self.error,
            "false_positives": {k: list(v) for k, v in self.false_positives.items()},
            "misses": {k: list(v) for k, v in self.misses.items()},
        }


@dataclass(frozen=True)
class Report:
    """Every figure of one evaluation run.

    Attributes:
        fields: One score per field, in :data:`FIELDS` order.
        has_proposal_correct: Scored articles with a non-null gold answer predicted correctly.
        has_proposal_total: Scored articles with a non-null gold answer.
        grounding_matched: Evidence objects of scored records whose span matches its quote.
        grounding_total: Evidence objects of scored records.
        articles: One report per record, in input order (unscored ones with ``scored=False``).
        unscored: Article file names of records with no gold file; a repeated record's name
            carries the suffix `` (duplicate)``.
    """

    fields: list[FieldScore]
    has_proposal_correct: int
    has_proposal_total: int
    grounding_matched: int
    grounding_total: int
    articles: list[ArticleReport]
    unscored: list[str]

    @property
    def has_proposal_accuracy(self) -> float | None:
        """Share of correct has_proposal answers; ``None`` when no article had a gold answer."""
        return _ratio(self.has_proposal_correct, self.has_proposal_total)

    @property
    def grounding_share(self) -> float | None:
        """Share of evidence spans matching their quotes; ``None`` when there was no evidence."""
        return _ratio(self.grounding_matched, self.grounding_total)

    def to_json(self) -> dict[str, object]:
        """Every figure of the report as one JSON-serialisable object.

        Returns:
            ``{"fields": {name: {precision, recall, f1, support, tp_precision, n_pred,
            tp_recall, n_required}}, "has_proposal": {accuracy, correct, total},
            "grounding": {matched, total, share}, "articles": [...], "unscored": [...]}``.
        """
        return {
            "fields": {
                s.field: {
                    "precision": s.precision,
                    "recall": s.recall,
                    "f1": s.f1,
                    "support": s.support,
                    "tp_precision": s.tp_precision,
                    "n_pred": s.n_pred,
                    "tp_recall": s.tp_recall,
                    "n_required": s.n_required,
                }
                for s in self.fields
            },
            "has_proposal": {
                "accuracy": self.has_proposal_accuracy,
                "correct": self.has_proposal_correct,
                "total": self.has_proposal_total,
            },
            "grounding": {
                "matched": self.grounding_matched,
                "total": self.grounding_total,
                "share": self.grounding_share,
            },
            "articles": [a.to_json() for a in self.articles],
            "unscored": list(self.unscored),
        }


# --------------------------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------------------------


def _number(value: object) -> float | None:
    """``value`` as a finite float, or ``None`` when it is no number."""
    # bool is an int subclass, but "true" is no number of hours.
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    return None


def _is_number(value: object) -> bool:
    return _number(value) is not None


def _is_nonempty_str(value: object) -> bool:
    return isinstance(value, str) and bool(value.strip())


def _check_gold(path: Path, gold: object) -> dict[str, Any]:
    """Validate one parsed gold file; raise InputError naming the file and the fix."""
    if not isinstance(gold, dict):
        raise InputError(f"{path}: the gold file must hold one JSON object; {_GOLD_FIX}")
    missing = [key for key in _GOLD_KEYS if key not in gold]
    if missing:
        raise InputError(f"{path}: missing key(s) {', '.join(missing)}; add them ({_GOLD_FIX})")
    if not _is_nonempty_str(gold["article"]):
        raise InputError(f"{path}: 'article' must be the article's file name; {_GOLD_FIX}")
    if gold["has_proposal"] not in (True, False, None):
        raise InputError(f"{path}: 'has_proposal' must be true, false or null; {_GOLD_FIX}")
    value_checks: dict[str, tuple[Callable[[object], bool], str]] = {
        "proposers": (_is_nonempty_str, "codes"),
        "guarantors": (_is_nonempty_str, "codes"),
        "response_time_hours": (_is_number, "numbers"),
        "excluded_territories": (_is_nonempty_str, "names"),
    }
    for field, (is_valid, what) in value_checks.items():
        entry = gold[field]
        if not isinstance(entry, dict) or not all(
            isinstance(entry.get(part), list) and all(is_valid(v) for v in entry[part])
            for part in ("required", "optional")
        ):
            raise InputError(
                f'{path}: \'{field}\' must be {{"required": [...], "optional": [...]}} '
                f"holding {what}; {_GOLD_FIX}"
            )
    conditions = gold["conditions"]
    if not isinstance(conditions, list):
        raise InputError(f"{path}: 'conditions' must be a list; {_GOLD_FIX}")
    for i, condition in enumerate(conditions):
        # An empty keyword would be a substring of every text and match everything.
        if not (
            isinstance(condition, dict)
            and _is_nonempty_str(condition.get("id"))
            and isinstance(condition.get("required"), bool)
            and isinstance(condition.get("keywords"), list)
            and condition["keywords"]
            and all(_is_nonempty_str(k) for k in condition["keywords"])
        ):
            raise InputError(
                f'{path}: conditions[{i}] must be {{"id": str, "required": true|false, '
                f'"keywords": [non-empty strings]}}; {_GOLD_FIX}'
            )
    return gold


def load_gold(directory: Path) -> dict[str, dict[str, Any]]:
    """Read every ``*.json`` gold file in a directory.

    Args:
        directory: The folder holding one gold file per article.

    Returns:
        The gold annotations keyed by article file name (each file's ``article`` value).

    Raises:
        InputError: If the folder is missing or holds no gold file, or a file cannot be read, is
            not valid JSON, misses a key or has a malformed value, or two files name the same
            article. The message names the file and the fix.
    """
    if not directory.is_dir():
        raise InputError(
            f"{directory}: no such gold directory; pass the folder holding the *.json gold files"
        )
    paths = sorted(directory.glob("*.json"))
    if not paths:
        raise InputError(f"{directory}: no *.json gold files; pass the folder that holds them")
    gold: dict[str, dict[str, Any]] = {}
    origin: dict[str, Path] = {}
    for path in paths:
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise InputError(f"{path}: cannot read the gold file ({error}); {_GOLD_FIX}") from error
        try:
            parsed = json.loads(text)
        except json.JSONDecodeError as error:
            raise InputError(
                f"{path}: invalid JSON at line {error.lineno}, column {error.colno} "
                f"({error.msg}); {_GOLD_FIX}"
            ) from error
        entry = _check_gold(path, parsed)
        name = entry["article"]
        if name in gold:
            raise InputError(
                f"{path}: article {name!r} is already annotated in {origin[name]}; "
                "keep one gold file per article"
            )
        gold[name] = entry
        origin[name] = path
    return gold


def load_gold_sets(directories: list[Path]) -> dict[str, dict[str, dict[str, Any]]]:
    """Read several gold folders (one set of articles each, e.g. the seeds and the corpus).

    Returns:
        Each folder's annotations (as :func:`load_gold` reads them), keyed by the folder as given.

    Raises:
        InputError: a folder cannot be read (see :func:`load_gold`), or two folders annotate the
            same article.
    """
    sets: dict[str, dict[str, dict[str, Any]]] = {}
    owner: dict[str, str] = {}
    for directory in directories:
        gold = load_gold(directory)
        for name in gold:
            if name in owner:
                raise InputError(
                    f"{directory}: article {name!r} is already annotated in {owner[name]}; "
                    "keep one gold file per article"
                )
            owner[name] = str(directory)
        sets[str(directory)] = gold
    return sets


def _record(line: str) -> dict[str, Any]:
    """A line of a records file, with the parts the scorer reads checked.

    Raises:
        ValueError: the line is not JSON, or the part named is missing or malformed.
    """
    record = json.loads(line)
    if not isinstance(record, dict):
        raise ValueError("not a JSON object")
    article = record.get("article")
    if not isinstance(article, dict) or not isinstance(article.get("source"), str):
        raise ValueError("missing article.source")
    if not isinstance(article.get("text"), str):
        raise ValueError("missing article.text")
    if not isinstance(record.get("proposals"), list):
        raise ValueError("'proposals' must be a list")
    error = record.get("error")
    if error is not None and not (isinstance(error, dict) and isinstance(error.get("type"), str)):
        raise ValueError('\'error\' must be null or {"type", "message"}')
    return record


def load_records(path: Path) -> list[dict[str, Any]]:
    """Read extraction records from a JSONL file, one record per line; blank lines are skipped.

    Args:
        path: The JSONL file the extractor wrote.

    Returns:
        The records in file order.

    Raises:
        InputError: If the file cannot be read or is not UTF-8, or a line is not valid JSON or
            not a record. The message names the file and the line number.
    """
    fix = "each line must be one extraction record as written by `extractor`"
    return [line.value for line in read_jsonl(path, _record, fix=fix)]


# --------------------------------------------------------------------------------------------
# Reading predictions
# --------------------------------------------------------------------------------------------


def _dicts(value: object) -> list[dict[str, Any]]:
    """The dict items of a list (records are read leniently: malformed parts predict nothing)."""
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _get(value: object, key: str) -> object:
    return value.get(key) if isinstance(value, dict) else None


def _article_name(record: dict[str, Any]) -> str:
    return Path(str(_get(record.get("article"), "source") or "")).name


def _fmt_hours(hours: float) -> str:
    # 72.0 reads as "72"; 1.5 stays "1.5".
    return f"{hours:g}"


@dataclass(frozen=True)
class _SetValues:
    """A field's values under comparison keys, with a display form for each key."""

    keys: frozenset[object]
    shown: dict[object, str]


def _collect(pairs: Iterator[tuple[object, str]]) -> _SetValues:
    shown: dict[object, str] = {}
    for key, display in pairs:
        shown.setdefault(key, display)  # the first spelling seen is the one reported
    return _SetValues(frozenset(shown), shown)


def _predicted_sets(proposals: list[dict[str, Any]]) -> dict[str, _SetValues]:
    """The predicted values of every set field, unioned over an article's proposals."""

    def codes(actors: Iterator[object]) -> Iterator[tuple[object, str]]:
        for actor in actors:
            code = _get(actor, "code")
            if isinstance(code, str):
                yield code, code

    def hours() -> Iterator[tuple[object, str]]:
        for p in proposals:
            # As a float, so that 72 and 72.0 are the same key.
            value = _number(_get(p.get("response_time"), "hours"))
            if value is not None:
                yield value, _fmt_hours(value)

    def territories() -> Iterator[tuple[object, str]]:
        for p in proposals:
            for territory in _dicts(p.get("excluded_territories")):
                name = territory.get("name")
                if isinstance(name, str):
                    yield name.casefold(), name

    return {
        "proposers": _collect(codes(p.get("proposer") for p in proposals)),
        "guarantors": _collect(
            codes(g.get("actor") for p in proposals for g in _dicts(p.get("guarantors")))
        ),
        "response_time_hours": _collect(hours()),
        "excluded_territories": _collect(territories()),
    }


def _gold_sets(gold: dict[str, Any], field: str) -> tuple[_SetValues, _SetValues]:
    """The required and the allowed (required or optional) gold values of a set field."""

    def key(value: Any) -> tuple[object, str]:
        if field == "response_time_hours":
            return float(value), _fmt_hours(float(value))
        if field == "excluded_territories":
            return str(value).casefold(), str(value)
        return str(value), str(value)

    entry = gold[field]
    required = _collect(key(v) for v in entry["required"])
    allowed = _collect(key(v) for v in [*entry["required"], *entry["optional"]])
    return required, allowed


def _predicted_conditions(proposals: list[dict[str, Any]]) -> list[str]:
    """Predicted condition texts, de-duplicated case-insensitively within the article."""
    texts: dict[str, str] = {}
    for p in proposals:
        for condition in _dicts(p.get("conditions")):
            text = condition.get("text")
            if isinstance(text, str):
                texts.setdefault(text.casefold(), text)
    return list(texts.values())


def _condition_matches(condition: dict[str, Any], text: str) -> bool:
    folded = text.casefold()
    return any(str(keyword).casefold() in folded for keyword in condition["keywords"])


# --------------------------------------------------------------------------------------------
# Grounding
# --------------------------------------------------------------------------------------------


def iter_evidence(value: object) -> Iterator[object]:
    """Every evidence object anywhere under ``value`` (proposals nest them at several levels)."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "evidence" and isinstance(item, list):
                yield from item
            else:
                yield from iter_evidence(item)
    elif isinstance(value, list):
        for item in value:
            yield from iter_evidence(item)


def span_matches(evidence: object, text: str) -> bool:
    """Whether evidence is grounded: its quote is exactly ``text[start:end]`` and the span cuts
    no word. A quote in the model's wording (schema version 1 kept it for normalised and fuzzy
    matches), a span inside a word ("US" in "status") and malformed evidence are not."""
    if not isinstance(evidence, dict):
        return False
    quote, start, end = (evidence.get(k) for k in ("quote", "start", "end"))
    if not (
        isinstance(quote, str)
        and isinstance(start, int)
        and isinstance(end, int)
        and 0 <= start < end <= len(text)
    ):
        # An empty or out-of-range span grounds nothing, whatever the quote.
        return False
    return text[start:end] == quote and on_word_boundaries(text, start, end)


# --------------------------------------------------------------------------------------------
# Scoring
# --------------------------------------------------------------------------------------------


@dataclass
class _Counts:
    tp_precision: int = 0
    n_pred: int = 0
    tp_recall: int = 0
    n_required: int = 0

    def add(self, tp_precision: int, n_pred: int, tp_recall: int, n_required: int) -> None:
        self.tp_precision += tp_precision
        self.n_pred += n_pred
        self.tp_recall += tp_recall
        self.n_required += n_required


def _unscored_report(record: dict[str, Any], name: str) -> ArticleReport:
    error = record.get("error")
    return ArticleReport(
        article=name,
        scored=False,
        false_positives={},
        misses={},
        has_proposal=None,
        predicted_has_proposal=error is None and bool(_dicts(record.get("proposals"))),
        error=str(_get(error, "type")) if error is not None else None,
    )


def score(records: list[dict[str, Any]], gold: dict[str, dict[str, Any]]) -> Report:
    """Score extraction records against gold annotations (see gold/README.md for the rules).

    A record is matched to the gold whose ``article`` equals the file name of the record's
    ``article.source``. Records without gold, and repeats of an article already scored, are
    listed in ``unscored`` and count for nothing. A record with an ``error`` is scored as
    predicting no proposal. Gold articles with no record are not scored.

    Args:
        records: Extraction records, as returned by :func:`load_records`.
        gold: Gold annotations keyed by article file name, as returned by :func:`load_gold`.

    Returns:
        The micro-averaged field scores, has_proposal accuracy, grounding share and the
        per-article false positives and misses.
    """
    counts = {field: _Counts() for field in FIELDS}
    hp_correct = hp_total = 0
    grounded = evidence_total = 0
    articles: list[ArticleReport] = []
    unscored: list[str] = []
    seen: set[str] = set()

    for record in records:
        name = _article_name(record)
        if name in seen:
            unscored.append(f"{name} (duplicate)")
            articles.append(_unscored_report(record, name))
            continue
        seen.add(name)
        entry = gold.get(name)
        if entry is None:
            unscored.append(name)
            articles.append(_unscored_report(record, name))
            continue

        error = record.get("error")
        # A failed extraction predicted nothing, whatever partial output it may carry.
        proposals = _dicts(record.get("proposals")) if error is None else []
        false_positives: dict[str, list[str]] = {}
        misses: dict[str, list[str]] = {}

        predicted = _predicted_sets(proposals)
        for field in SET_FIELDS:
            required, allowed = _gold_sets(entry, field)
            pred = predicted[field]
            counts[field].add(
                len(pred.keys & allowed.keys),
                len(pred.keys),
                len(pred.keys & required.keys),
                len(required.keys),
            )
            false_positives[field] = sorted(pred.shown[k] for k in pred.keys - allowed.keys)
            misses[field] = sorted(required.shown[k] for k in required.keys - pred.keys)

        texts = _predicted_conditions(proposals)
        gold_conditions = _dicts(entry["conditions"])
        required_conditions = [c for c in gold_conditions if c["required"]]
        required_hit = [any(_condition_matches(c, t) for t in texts) for c in required_conditions]
        text_hit = [any(_condition_matches(c, t) for c in gold_conditions) for t in texts]
        counts["conditions"].add(
            sum(text_hit), len(texts), sum(required_hit), len(required_conditions)
        )
        false_positives["conditions"] = [
            t for t, hit in zip(texts, text_hit, strict=True) if not hit
        ]
        misses["conditions"] = [
            str(c["id"])
            for c, hit in zip(required_conditions, required_hit, strict=True)
            if not hit
        ]

        predicted_has_proposal = bool(proposals)
        gold_has_proposal = entry["has_proposal"]
        if gold_has_proposal is not None:
            hp_total += 1
            hp_correct += predicted_has_proposal == gold_has_proposal

        article_text = _get(record.get("article"), "text")
        text = article_text if isinstance(article_text, str) else ""
        for evidence in iter_evidence(proposals):
            evidence_total += 1
            grounded += span_matches(evidence, text)

        articles.append(
            ArticleReport(
                article=name,
                scored=True,
                false_positives=false_positives,
                misses=misses,
                has_proposal=gold_has_proposal,
                predicted_has_proposal=predicted_has_proposal,
                error=str(_get(error, "type")) if error is not None else None,
            )
        )

    return Report(
        fields=[
            FieldScore(field, c.tp_precision, c.n_pred, c.tp_recall, c.n_required)
            for field, c in counts.items()
        ],
        has_proposal_correct=hp_correct,
        has_proposal_total=hp_total,
        grounding_matched=grounded,
        grounding_total=evidence_total,
        articles=articles,
        unscored=unscored,
    )


# --------------------------------------------------------------------------------------------
# Rendering
# --------------------------------------------------------------------------------------------


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def _bool(value: bool) -> str:
    return "true" if value else "false"


def render_table(report: Report) -> str:
    """Render a report as a plain-text table (no colour codes), ending in a newline.

    One row per field (precision, recall, F1 to 3 decimals, ``-`` when undefined, and support),
    then a has_proposal row and a grounding row, then per scored article its false positives
    and misses (``none`` when the article is perfect), then the records not scored, if any.

    Args:
        report: The report to render.

    Returns:
        The table as text.
    """
    width = max(len(f) for f in (*FIELDS, "has_proposal"))
    lines = [
        f"{'field':<{width}}  {'precision':>9}  {'recall':>9}  {'F1':>9}  {'support':>7}",
    ]
    for s in report.fields:
        lines.append(
            f"{s.field:<{width}}  {_num(s.precision):>9}  {_num(s.recall):>9}  "
            f"{_num(s.f1):>9}  {s.support:>7}"
        )
    lines.append(
        f"{'has_proposal':<{width}}  accuracy {_num(report.has_proposal_accuracy)}"
        f"  n={report.has_proposal_total}"
    )
    lines.append(
        f"{'grounding':<{width}}  share {_num(report.grounding_share)}"
        f"  matched {report.grounding_matched}/{report.grounding_total}"
    )

    scored = [a for a in report.articles if a.scored]
    if scored:
        lines.extend(["", "per article:"])
    for article in scored:
        details: list[str] = []
        if article.error is not None:
            details.append(f"error: {article.error} (scored as no proposals)")
        if article.has_proposal not in (None, article.predicted_has_proposal):
            details.append(
                f"has_proposal: expected {_bool(bool(article.has_proposal))}, "
                f"predicted {_bool(article.predicted_has_proposal)}"
            )
        for field in FIELDS:
            parts = []
            if article.false_positives.get(field):
                parts.append("false positives: " + ", ".join(article.false_positives[field]))
            if article.misses.get(field):
                parts.append("misses: " + ", ".join(article.misses[field]))
            if parts:
                details.append(f"{field}: " + "; ".join(parts))
        if article.perfect and article.error is None:
            lines.append(f"  {article.article}: none")
        else:
            lines.append(f"  {article.article}:")
            lines.extend(f"    {d}" for d in details)

    if report.unscored:
        lines.extend(["", "not scored (no gold file): " + ", ".join(report.unscored)])
    return "\n".join(lines) + "\n"


def _label(records: list[dict[str, Any]], path: Path) -> str:
    strategies = {str(_get(r.get("provenance"), "strategy")) for r in records}
    return strategies.pop() if len(strategies) == 1 else path.name


@dataclass(frozen=True)
class Comparison:
    """Several prediction files scored on one gold set.

    Attributes:
        name: The gold folder as given, or ``all``.
        articles: Articles the set annotates.
        reports: One report per prediction file, by label.
    """

    name: str
    articles: int
    reports: dict[str, Report]

    def to_json(self) -> dict[str, object]:
        """The figures as one JSON-serialisable object."""
        return {
            "articles": self.articles,
            "reports": {label: r.to_json() for label, r in self.reports.items()},
        }


def compare(
    predictions: list[Path], gold_sets: dict[str, dict[str, dict[str, Any]]]
) -> list[Comparison]:
    """Score several prediction files on each gold set and on all of them together.

    Args:
        predictions: JSONL files of records, one per strategy (or model) compared.
        gold_sets: as returned by :func:`load_gold_sets`.

    Returns:
        One comparison per set, in the order given, then ``all`` when there is more than one.
        A file's label is the strategy its records name (its file name when they name several,
        or another file has the same label).

    Raises:
        InputError: a prediction file cannot be read (see :func:`load_records`).
    """
    loaded = [(path, load_records(path)) for path in predictions]
    labels = [_label(records, path) for path, records in loaded]
    labels = [
        label if labels.count(label) == 1 else path.name
        for label, (path, _) in zip(labels, loaded, strict=True)
    ]
    sets = dict(gold_sets)
    if len(sets) > 1:
        sets["all"] = {name: g for gold in gold_sets.values() for name, g in gold.items()}
    return [
        Comparison(
            set_name,
            len(gold),
            {
                label: score([r for r in records if _article_name(r) in gold], gold)
                for label, (_, records) in zip(labels, loaded, strict=True)
            },
        )
        for set_name, gold in sets.items()
    ]


def _cell(s: FieldScore) -> str:
    if s.f1 is None:
        return "-"

    def short(value: float | None) -> str:
        return "-" if value is None else f"{value:.2f}"

    return f"{s.f1:.3f} ({short(s.precision)} / {short(s.recall)})"


def _accuracy(report: Report) -> str:
    return f"{_num(report.has_proposal_accuracy)} (n={report.has_proposal_total})"


def render_comparison(comparisons: list[Comparison]) -> str:
    """Render :func:`compare`'s figures as plain-text tables, one per gold set, ending in a
    newline: per field F1 (precision / recall) for each prediction file side by side, then
    has_proposal accuracy and the grounding share."""
    lines: list[str] = []
    width = max(len(f) for f in (*FIELDS, "has_proposal"))
    for comparison in comparisons:
        reports = comparison.reports
        if lines:
            lines.append("")
        lines.append(f"{comparison.name} ({comparison.articles} articles): F1 (precision / recall)")
        columns = list(reports)
        cell = max(22, *(len(c) for c in columns))
        lines.append(f"{'field':<{width}}  " + "  ".join(f"{c:<{cell}}" for c in columns).rstrip())
        for index, field in enumerate(FIELDS):
            cells = [_cell(reports[c].fields[index]) for c in columns]
            support = max(r.fields[index].support for r in reports.values())
            lines.append(
                f"{field:<{width}}  "
                + "  ".join(f"{v:<{cell}}" for v in cells)
                + f"  support {support}"
            )
        lines.append(
            f"{'has_proposal':<{width}}  "
            + "  ".join(f"{_accuracy(reports[c]):<{cell}}" for c in columns)
            + "  accuracy (articles)"
        )
        lines.append(
            f"{'grounding':<{width}}  "
            + "  ".join(
                f"{f'{reports[c].grounding_matched}/{reports[c].grounding_total}':<{cell}}"
                for c in columns
            )
            + "  spans matching their quote"
        )
    return "\n".join(lines) + "\n"
