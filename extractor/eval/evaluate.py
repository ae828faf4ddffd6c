"""Score extraction records against hand-made gold annotations and report per-field figures."""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, get_args

from ..core.grounding import on_word_boundaries
from ..errors import InputError
from ..io import articles
from ..io.records import read_record_dicts as load_records
from ..schemas import GuaranteeType, Position, StanceKind

__all__ = [
    "ATTRIBUTES",
    "CONSTANT",
    "FIELDS",
    "Accuracy",
    "ArticleReport",
    "AttributeScore",
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
# The proposal's attributes, scored in the articles whose gold annotates them (their gold keys are
# optional, so gold written before them still reads), each beside the score of the constant
# answer on the same records: what a record that never fills the attribute holds.
ATTRIBUTES: Final[tuple[str, ...]] = ("position", "guarantee_type", "legally_binding", "stances")
CONSTANT: Final[dict[str, str]] = {
    "position": "unknown",
    "guarantee_type": "other",
    "legally_binding": "null",
    "stances": "none",
}
# The gold key of each attribute.
_GOLD_ATTRIBUTE: Final[dict[str, str]] = {
    "position": "positions",
    "guarantee_type": "guarantee_type",
    "legally_binding": "legally_binding",
    "stances": "stances",
}

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
class Accuracy:
    """Correct answers among those scored, summed over the scored articles.

    Attributes:
        field: The field name (``position``).
        correct: Answers the gold accepts.
        total: Answers scored.
    """

    field: str
    correct: int
    total: int

    @property
    def accuracy(self) -> float | None:
        """``correct / total``; ``None`` when nothing was scored."""
        return _ratio(self.correct, self.total)


@dataclass(frozen=True)
class AttributeScore:
    """One attribute of the proposals scored on the records, and the constant answer scored on
    the same records (each proposal's attribute set to :data:`CONSTANT`, nothing else changed).

    Attributes:
        field: One of :data:`ATTRIBUTES`.
        measured: The records' score: accuracy for ``position``, else precision, recall and F1.
        constant: The constant answer's score, of the same kind.
        articles: Scored articles whose gold annotates the attribute.
    """

    field: str
    measured: FieldScore | Accuracy
    constant: FieldScore | Accuracy
    articles: int

    @staticmethod
    def headline(score: FieldScore | Accuracy) -> float | None:
        """The figure a score is compared by: accuracy, or F1."""
        return score.accuracy if isinstance(score, Accuracy) else score.f1

    @property
    def beats_constant(self) -> bool | None:
        """Whether the records score above the constant answer; ``None`` when either is
        undefined."""
        measured, constant = self.headline(self.measured), self.headline(self.constant)
        if measured is None or constant is None:
            return None
        return measured > constant

    def to_json(self) -> dict[str, object]:
        """The figures as one JSON-serialisable object."""

        def figures(score: FieldScore | Accuracy) -> dict[str, object]:
            if isinstance(score, Accuracy):
                return {"accuracy": score.accuracy, "correct": score.correct, "total": score.total}
            return _field_json(score)

        return {
            "measure": "accuracy" if isinstance(self.measured, Accuracy) else "f1",
            **figures(self.measured),
            "articles": self.articles,
            "constant": {"answer": CONSTANT[self.field], **figures(self.constant)},
            "beats_constant": self.beats_constant,
        }


def _field_json(s: FieldScore) -> dict[str, object]:
    return {
        "precision": s.precision,
        "recall": s.recall,
        "f1": s.f1,
        "support": s.support,
        "tp_precision": s.tp_precision,
        "n_pred": s.n_pred,
        "tp_recall": s.tp_recall,
        "n_required": s.n_required,
    }


@dataclass(frozen=True)
class ArticleReport:
    """What one record got wrong.

    Attributes:
        article: The article file name (``Path(record["article"]["source"]).name``).
        scored: Whether the record was scored (False: no gold file, or a duplicate).
        false_positives: Per field, the predicted values the gold neither requires nor allows
            (for ``position``, each guarantor's position the gold does not accept, with the ones
            it does).
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
        attributes: One score per attribute, in :data:`ATTRIBUTES` order, beside the constant
            answer's.
    """

    fields: list[FieldScore]
    has_proposal_correct: int
    has_proposal_total: int
    grounding_matched: int
    grounding_total: int
    articles: list[ArticleReport]
    unscored: list[str]
    attributes: list[AttributeScore]

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
            "grounding": {matched, total, share}, "attributes": {name: {measure, ...figures,
            articles, constant: {answer, ...figures}, beats_constant}}, "articles": [...],
            "unscored": [...]}``.
        """
        return {
            "fields": {s.field: _field_json(s) for s in self.fields},
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
            "attributes": {a.field: a.to_json() for a in self.attributes},
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
    _check_attributes(path, gold)
    return gold


_POSITIONS: Final[frozenset[str]] = frozenset(get_args(Position))
_GUARANTEE_TYPES: Final[frozenset[str]] = frozenset(get_args(GuaranteeType))
_STANCES: Final[frozenset[str]] = frozenset(get_args(StanceKind))


def _some_of(values: object, allowed: frozenset[str]) -> bool:
    """Whether ``values`` is a non-empty list of allowed values."""
    return isinstance(values, list) and bool(values) and all(v in allowed for v in values)


def _check_attributes(path: Path, gold: dict[str, Any]) -> None:
    """Validate the optional attribute keys of a gold file; raise InputError naming the fix."""

    def fail(what: str) -> InputError:
        return InputError(f"{path}: {what}; {_GOLD_FIX}")

    if "positions" in gold:
        positions = gold["positions"]
        guarantors = gold["guarantors"]
        coded = {*guarantors["required"], *guarantors["optional"]}
        if not isinstance(positions, dict) or not all(
            _some_of(accepted, _POSITIONS) for accepted in positions.values()
        ):
            raise fail(
                "'positions' must map guarantor codes to lists of positions "
                f"({', '.join(sorted(_POSITIONS))})"
            )
        if stray := sorted(set(positions) - coded):
            raise fail(f"'positions' names {', '.join(stray)}, which 'guarantors' does not hold")
    if "guarantee_type" in gold:
        entry = gold["guarantee_type"]
        if not isinstance(entry, dict) or not all(
            isinstance(entry.get(part), list) and all(v in _GUARANTEE_TYPES for v in entry[part])
            for part in ("required", "optional")
        ):
            raise fail(
                '\'guarantee_type\' must be {"required": [...], "optional": [...]} holding '
                f"types ({', '.join(sorted(_GUARANTEE_TYPES))})"
            )
    if "legally_binding" in gold and gold["legally_binding"] not in (True, False, None):
        raise fail("'legally_binding' must be true, false or null")
    if "stances" in gold:
        stances = gold["stances"]
        if not isinstance(stances, list):
            raise fail("'stances' must be a list")
        for i, stance in enumerate(stances):
            if not (
                isinstance(stance, dict)
                and _is_nonempty_str(stance.get("speaker"))
                and _is_nonempty_str(stance.get("actor"))
                and _some_of(stance.get("stance"), _STANCES)
                and isinstance(stance.get("required"), bool)
            ):
                raise fail(
                    f'stances[{i}] must be {{"speaker": str, "actor": code, "stance": '
                    f'[{", ".join(sorted(_STANCES))}], "required": true|false}}'
                )


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


def content_id(text: str) -> str:
    """The content hash an article's record carries as ``article.id``."""
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


def gold_ids(gold: Mapping[str, dict[str, Any]], folders: list[Path]) -> dict[str, str]:
    """The content hash of each gold article whose file is found in ``folders`` (the first
    that holds a file of the name the gold gives), read as extraction reads it, to the gold's
    name: so a record made from the same text under another source (a row of an article
    table, a copy under another name) is scored against that gold.

    Raises:
        InputError: a file found cannot be read as an article (the message names it).
    """
    ids: dict[str, str] = {}
    for name in gold:
        path = next((folder / name for folder in folders if (folder / name).is_file()), None)
        if path is None:
            continue
        try:
            raw = path.read_bytes()
        except OSError as exc:
            raise InputError(f"{path}: cannot be read ({exc.strerror})") from None
        ids[articles.parse(str(path), raw).id] = name
    return ids


def _gold_name(record: dict[str, Any], ids: Mapping[str, str] | None) -> str:
    """The gold a record is scored against: the gold article of the same text (``ids``, from
    :func:`gold_ids`), else the one of its source's file name."""
    text = _get(record.get("article"), "text")
    if ids and isinstance(text, str):
        found = ids.get(content_id(text))
        if found is not None:
            return found
    return _article_name(record)


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
            # Every deadline (schema version 3), or the one of a version 2 record.
            deadlines: list[object] = [*_dicts(p.get("response_times"))]
            for deadline in deadlines or [p.get("response_time")]:
                # As a float, so that 72 and 72.0 are the same key.
                value = _number(_get(deadline, "hours"))
                if value is not None:
                    yield value, _fmt_hours(value)

    def territories() -> Iterator[tuple[object, str]]:
        for p in proposals:
            for territory in _dicts(p.get("excluded_territories")):
                name = territory.get("name")
                if isinstance(name, str):
                    yield name.casefold(), name

    return {
        # The proposer and a joint proposal's further proposers (schema version 4).
        "proposers": _collect(
            codes(
                party
                for p in proposals
                for party in [p.get("proposer"), *_dicts(p.get("co_proposers"))]
            )
        ),
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

    def add_sets(self, pred: _SetValues, required: _SetValues, allowed: _SetValues) -> None:
        """Add one article's predicted values of a set field against its gold."""
        self.add(
            len(pred.keys & allowed.keys),
            len(pred.keys),
            len(pred.keys & required.keys),
            len(required.keys),
        )


def _false_positives(pred: _SetValues, allowed: _SetValues) -> list[str]:
    return sorted(pred.shown[k] for k in pred.keys - allowed.keys)


def _misses(pred: _SetValues, required: _SetValues) -> list[str]:
    return sorted(required.shown[k] for k in required.keys - pred.keys)


def _as_constant(proposals: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The proposals with every attribute at its constant answer (:data:`CONSTANT`)."""
    return [
        {
            **p,
            "guarantee_type": "other",
            "legally_binding": None,
            "stances": [],
            "guarantors": [{**g, "position": "unknown"} for g in _dicts(p.get("guarantors"))],
        }
        for p in proposals
    ]


def _json_word(value: object) -> str:
    return json.dumps(value) if value is None or isinstance(value, bool) else str(value)


def _score_attributes(
    proposals: list[dict[str, Any]],
    entry: dict[str, Any],
    counts: dict[str, _Counts],
    false_positives: dict[str, list[str]],
    misses: dict[str, list[str]],
) -> None:
    """Add one article's attribute figures to ``counts``, and what it got wrong to
    ``false_positives`` and ``misses``; an attribute its gold does not annotate is skipped.

    ``position`` counts each distinct (guarantor code, position) the proposals give to a
    guarantor the gold annotates, correct when the gold accepts the position (``tp_precision``
    correct of ``n_pred``); ``guarantee_type`` and ``legally_binding`` are set fields (a null
    ``legally_binding`` is no value); ``stances`` counts distinct (actor code, stance) pairs, a
    pair matching a gold stance of the same actor that accepts the stance.
    """
    if "positions" in entry:
        accepted: dict[str, list[str]] = entry["positions"]
        given = dict.fromkeys(
            (code, str(g.get("position")))
            for p in proposals
            for g in _dicts(p.get("guarantors"))
            if isinstance(code := _get(g.get("actor"), "code"), str) and code in accepted
        )
        wrong = [(code, pos) for code, pos in given if pos not in accepted[code]]
        counts["position"].add(len(given) - len(wrong), len(given), 0, 0)
        false_positives["position"] = [
            f"{code} {pos} (gold: {' or '.join(accepted[code])})" for code, pos in wrong
        ]
    if "guarantee_type" in entry:
        gold = entry["guarantee_type"]
        types = _collect(
            (kind, kind) for p in proposals if isinstance(kind := p.get("guarantee_type"), str)
        )
        required = _collect((kind, kind) for kind in gold["required"])
        allowed = _collect((kind, kind) for kind in [*gold["required"], *gold["optional"]])
        counts["guarantee_type"].add_sets(types, required, allowed)
        false_positives["guarantee_type"] = _false_positives(types, allowed)
        misses["guarantee_type"] = _misses(types, required)
    if "legally_binding" in entry:
        values = _collect(
            (value, _json_word(value))
            for p in proposals
            if isinstance(value := p.get("legally_binding"), bool)
        )
        truth = entry["legally_binding"]
        expected = _collect(iter([] if truth is None else [(truth, _json_word(truth))]))
        counts["legally_binding"].add_sets(values, expected, expected)
        false_positives["legally_binding"] = _false_positives(values, expected)
        misses["legally_binding"] = _misses(values, expected)
    if "stances" in entry:
        gold_stances = _dicts(entry["stances"])
        pairs = list(
            dict.fromkeys(
                (_get(s.get("actor"), "code"), str(s.get("stance")))
                for p in proposals
                for s in _dicts(p.get("stances"))
            )
        )

        def matches(stance: dict[str, Any], pair: tuple[object, str]) -> bool:
            return stance["actor"] == pair[0] and pair[1] in stance["stance"]

        wanted = [s for s in gold_stances if s["required"]]
        pair_hit = [any(matches(s, pair) for s in gold_stances) for pair in pairs]
        found = [any(matches(s, pair) for pair in pairs) for s in wanted]
        counts["stances"].add(sum(pair_hit), len(pairs), sum(found), len(wanted))
        false_positives["stances"] = [
            f"{actor if isinstance(actor, str) else 'no actor'} {stance}"
            for (actor, stance), hit in zip(pairs, pair_hit, strict=True)
            if not hit
        ]
        misses["stances"] = [
            f"{s['actor']} {' or '.join(s['stance'])} ({s['speaker']})"
            for s, hit in zip(wanted, found, strict=True)
            if not hit
        ]


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


def score(
    records: list[dict[str, Any]],
    gold: dict[str, dict[str, Any]],
    ids: Mapping[str, str] | None = None,
) -> Report:
    """Score extraction records against gold annotations (see gold/README.md for the rules).

    A record is matched to the gold of the same article text when ``ids`` knows it, else to the
    gold whose ``article`` equals the file name of the record's ``article.source``. Records
    without gold, and repeats of an article already scored, are listed in ``unscored`` and
    count for nothing. A record with an ``error`` is scored as predicting no proposal. Gold
    articles with no record are not scored.

    Args:
        records: Extraction records, as returned by :func:`load_records`.
        gold: Gold annotations keyed by article file name, as returned by :func:`load_gold`.
        ids: content hashes of gold articles to their names (:func:`gold_ids`): a record of
            the same text is matched to that gold whatever its source.

    Returns:
        The micro-averaged field scores, has_proposal accuracy, grounding share and the
        per-article false positives and misses.
    """
    counts = {field: _Counts() for field in FIELDS}
    measured = {name: _Counts() for name in ATTRIBUTES}
    constant = {name: _Counts() for name in ATTRIBUTES}
    annotated = dict.fromkeys(ATTRIBUTES, 0)
    hp_correct = hp_total = 0
    grounded = evidence_total = 0
    articles: list[ArticleReport] = []
    unscored: list[str] = []
    seen: set[str] = set()

    for record in records:
        name = _gold_name(record, ids)
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
            counts[field].add_sets(pred, required, allowed)
            false_positives[field] = _false_positives(pred, allowed)
            misses[field] = _misses(pred, required)

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

        _score_attributes(proposals, entry, measured, false_positives, misses)
        _score_attributes(_as_constant(proposals), entry, constant, {}, {})
        for attribute in ATTRIBUTES:
            annotated[attribute] += _GOLD_ATTRIBUTE[attribute] in entry

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
        attributes=[
            AttributeScore(
                name,
                _attribute_score(name, measured[name]),
                _attribute_score(name, constant[name]),
                annotated[name],
            )
            for name in ATTRIBUTES
        ],
    )


def _attribute_score(name: str, c: _Counts) -> FieldScore | Accuracy:
    if name == "position":
        return Accuracy(name, c.tp_precision, c.n_pred)
    return FieldScore(name, c.tp_precision, c.n_pred, c.tp_recall, c.n_required)


# --------------------------------------------------------------------------------------------
# Rendering
# --------------------------------------------------------------------------------------------


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def _bool(value: bool) -> str:
    return "true" if value else "false"


# Plain text laid out here rather than by rich.table: rich fits a table to the console's width
# (80 columns when piped), wrapping or cropping cells, where these rows must stay one line each
# and the same whatever the terminal, for `| head`, grep and diffs between runs.
def render_table(report: Report) -> str:
    """Render a report as a plain-text table (no colour codes), ending in a newline.

    One row per field (precision, recall, F1 to 3 decimals, ``-`` when undefined, and support),
    then a has_proposal row and a grounding row; where the gold annotates the proposals'
    attributes, a row for each (accuracy and the guarantors scored for ``position``) with the
    constant answer's figure beside it; then per scored article its false positives and misses
    (``none`` when the article is perfect), then the records not scored, if any.

    Args:
        report: The report to render.

    Returns:
        The table as text.
    """
    width = max(len(f) for f in (*FIELDS, *ATTRIBUTES, "has_proposal"))
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
    if any(a.articles for a in report.attributes):
        lines.extend(
            [
                "",
                f"{'attribute':<{width}}  {'precision':>9}  {'recall':>9}  {'F1':>9}  "
                f"{'support':>7}  constant",
            ]
        )
        for a in report.attributes:
            constant = f"{_num(a.headline(a.constant))} {CONSTANT[a.field]}"
            if isinstance(a.measured, Accuracy):
                accuracy = f"accuracy {_num(a.measured.accuracy)}"
                figures = f"{accuracy:>31}  {f'n={a.measured.total}':>7}"
            else:
                s = a.measured
                figures = (
                    f"{_num(s.precision):>9}  {_num(s.recall):>9}  {_num(s.f1):>9}  {s.support:>7}"
                )
            lines.append(f"{a.field:<{width}}  {figures}  {constant}")

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
        for field in (*FIELDS, *ATTRIBUTES):
            parts = []
            if article.false_positives.get(field):
                wrong = "wrong" if field == "position" else "false positives"
                parts.append(f"{wrong}: " + ", ".join(article.false_positives[field]))
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
    predictions: list[Path],
    gold_sets: dict[str, dict[str, dict[str, Any]]],
    ids: Mapping[str, str] | None = None,
) -> list[Comparison]:
    """Score several prediction files on each gold set and on all of them together.

    Args:
        predictions: JSONL files of records, one per strategy (or model) compared.
        gold_sets: as returned by :func:`load_gold_sets`.
        ids: as for :func:`score`.

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
                label: score([r for r in records if _gold_name(r, ids) in gold], gold, ids)
                for label, (_, records) in zip(labels, loaded, strict=True)
            },
        )
        for set_name, gold in sets.items()
    ]


def _cell(s: FieldScore | Accuracy) -> str:
    if isinstance(s, Accuracy):
        return f"{_num(s.accuracy)} (n={s.total})"
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
    has_proposal accuracy and the grounding share, then, where the gold annotates them, each
    attribute of the proposals (accuracy for ``position``) with the constant answer's figures
    on the same records in the row below it."""
    lines: list[str] = []
    width = max(len(f) for f in (*FIELDS, *ATTRIBUTES, "has_proposal"))
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
        if not any(a.articles for r in reports.values() for a in r.attributes):
            continue
        for index, name in enumerate(ATTRIBUTES):
            scores = [reports[c].attributes[index] for c in columns]
            support = max(
                (a.measured.support for a in scores if isinstance(a.measured, FieldScore)),
                default=0,
            )
            what = "accuracy (guarantors scored)" if name == "position" else f"support {support}"
            lines.append(
                f"{name:<{width}}  "
                + "  ".join(f"{_cell(a.measured):<{cell}}" for a in scores)
                + f"  {what}"
            )
            lines.append(
                f"{'  constant ' + CONSTANT[name]:<{width}}  "
                + "  ".join(f"{_cell(a.constant):<{cell}}" for a in scores).rstrip()
            )
    return "\n".join(lines) + "\n"
