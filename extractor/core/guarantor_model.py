"""Which of the states and organisations an article names are its guarantors: the concepts
that describe each candidate (``candidate_features``) and a logistic model over them, its
weights learned from the annotated articles (``scripts/train_guarantors.py``) and shipped in
``extractor/core/data/guarantor_weights.json``.

A candidate is every state or organisation named in a paragraph that speaks of guarantees,
security or a commitment to defend. Its features are concepts any article may state, counted
over all its mentions there: named in a sentence about a guarantee or commitment, in the role
the rules read there (``rules.role``: guarantor, the one guaranteed, the attacker or other),
listed together with other states, named before the commitment word (its subject) or near it,
an adjective of a state, the one the rules read as the one guaranteed or as the proposer. The
rules' decision (a state named in a guarantee sentence in no other role) is one feature among
them, so the model keeps what the rules find and learns where a state they pass over is a
guarantor too (a list of states beside one, a commitment worded without the word).
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from . import syntax
from .normalize import actor_code, is_demonym
from .rules import (
    COMMITMENT,
    GUARANTEE_CUE,
    PLAIN_SPACES,
    Chunk,
    about_guarantees,
    is_guarantee_sentence,
    mentions,
    names_guarantee_treaty,
    paragraphs,
    proposes,
    role,
    sentences,
)

WEIGHTS = Path(__file__).with_name("data") / "guarantor_weights.json"

# What may stand between two names of one list: "France, Germany and the UK", "the US/UK",
# "Франция и Германия", "Frankreich und Polen".
_LIST_GAP = re.compile(
    r"^\s*(?:,|/|;|\band\b|\bor\b|\bas well as\b|\bplus\b|\bи\b|\bили\b|\bі\b|\bта\b|\bй\b|"
    r"\bund\b|\bet\b|\boraz\b|\bi\b|\boch\b|\s)*\s*(?:the\s+)?$",
    re.IGNORECASE,
)
_NEAR = 60


@dataclass
class Candidate:
    """A state or organisation an article names where it speaks of guarantees: its features,
    and the first mention in a sentence about a guarantee (else the first at all) as written,
    with its offset in the article."""

    code: str
    name: str
    start: int
    features: dict[str, float] = field(default_factory=dict)
    in_guarantee: bool = False


# The features, in the order the weights list them.
FEATURES: tuple[str, ...] = (
    "bias",
    "rules_guarantor",
    "guarantee_beneficiary",
    "guarantee_other",
    "commitment_sentence",
    "guarantee_word_sentence",
    "about_paragraph_only",
    "listed",
    "listed_with_guarantor",
    "before_cue",
    "near_cue",
    "demonym_only",
    "proposing_sentence",
    "organisation",
    "log_guarantor_mentions",
    "log_mentions",
    "share_in_guarantee",
    "most_named",
)


def _cue_positions(sentence: str) -> list[int]:
    return [m.start() for m in COMMITMENT.finditer(sentence)] + [
        m.start() for m in GUARANTEE_CUE.finditer(sentence)
    ]


def candidate_features(
    text: str, nlp: Any | None = None, ru: syntax.Russian | None = None
) -> dict[str, Candidate]:
    """Every state or organisation with a code that a paragraph about guarantees names, with
    its features (``FEATURES``, and ``syntax.SYNTAX_FEATURES`` in the sentences a parser reads:
    ``nlp`` English, ``ru`` Russian), by code."""
    found: dict[str, Candidate] = {}
    counts: dict[str, dict[str, float]] = {}
    treaty = names_guarantee_treaty(text)
    for paragraph in paragraphs(text):
        if not about_guarantees(paragraph.text, treaty):
            continue
        for sentence in sentences(paragraph):
            _sentence_features(sentence, found, counts, nlp, ru, treaty)
    if not found:
        return found
    most = max(c["mentions"] for c in counts.values())
    for code, candidate in found.items():
        c = counts[code]
        f = candidate.features
        f["bias"] = 1.0
        f["about_paragraph_only"] = float(c["guarantee"] == 0)
        f["demonym_only"] = float(c["demonyms"] == c["mentions"])
        f["organisation"] = float(not (len(code) == 3 and code.isupper() and code.isalpha()))
        f["log_guarantor_mentions"] = math.log1p(c["guarantor"])
        f["log_mentions"] = math.log1p(c["mentions"])
        f["share_in_guarantee"] = c["guarantee"] / c["mentions"]
        f["most_named"] = float(c["mentions"] == most)
    return found


def _sentence_features(
    sentence: Chunk,
    found: dict[str, Candidate],
    counts: dict[str, dict[str, float]],
    nlp: Any | None,
    ru: syntax.Russian | None,
    treaty: bool = False,
) -> None:
    text = sentence.text
    guarantee = is_guarantee_sentence(text, treaty)
    commitment = bool(COMMITMENT.search(text))
    word = bool(GUARANTEE_CUE.search(text))
    proposing = proposes(text)
    cues = _cue_positions(text)
    named = [(name, start, end, actor_code(name)) for name, start, end in mentions(text)]
    named = [m for m in named if m[3] is not None]
    named.sort(key=lambda m: m[1])
    roles = [role(text, start, end) if guarantee else "" for _, start, end, _ in named]
    listed = [False] * len(named)
    for i in range(1, len(named)):
        if _LIST_GAP.match(text[named[i - 1][2] : named[i][1]]):
            listed[i - 1] = listed[i] = True
    parsed: list[set[str]] = [set() for _ in named]
    spans = [(m[1], m[2]) for m in named]
    if named and (guarantee or commitment) and len(text) <= syntax.MAX_CHARS:
        if nlp is not None and syntax.is_english_like(text):
            parsed = list(syntax.roles(nlp, text, spans))
        elif ru is not None and syntax.is_russian_like(text):
            parsed = list(syntax.russian_roles(ru, text, spans))
    for i, (name, start, _end, code) in enumerate(named):
        assert code is not None
        candidate = found.get(code)
        if candidate is None:
            candidate = found[code] = Candidate(code, name, sentence.start + start)
            counts[code] = dict.fromkeys(("mentions", "guarantee", "guarantor", "demonyms"), 0.0)
        if guarantee and not candidate.in_guarantee:
            candidate.name, candidate.start, candidate.in_guarantee = (
                name,
                sentence.start + start,
                True,
            )
        c, f = counts[code], candidate.features
        c["mentions"] += 1
        c["demonyms"] += is_demonym(name)
        neighbours = [j for j in (i - 1, i + 1) if 0 <= j < len(named) and listed[j] and listed[i]]

        def mark(key: str, on: bool, f: dict[str, float] = f) -> None:
            if on:
                f[key] = 1.0

        if guarantee:
            c["guarantee"] += 1
            c["guarantor"] += roles[i] == "guarantor"
            mark("rules_guarantor", roles[i] == "guarantor")
            mark("guarantee_beneficiary", roles[i] == "beneficiary")
            mark("guarantee_other", roles[i] == "other")
            mark("listed_with_guarantor", any(roles[j] == "guarantor" for j in neighbours))
        mark("commitment_sentence", commitment)
        mark("guarantee_word_sentence", word and guarantee)
        mark("listed", listed[i] and (guarantee or commitment))
        mark("before_cue", (guarantee or commitment) and any(start < p for p in cues))
        mark("near_cue", any(abs(start - p) <= _NEAR for p in cues))
        mark("proposing_sentence", proposing and guarantee)
        for feature in parsed[i]:
            mark(feature, True)


@lru_cache(maxsize=2)
def weights(with_syntax: bool) -> dict[str, float]:
    """The shipped weights, by feature, and the decision threshold under ``"threshold"``: those
    trained with the syntax features, or those trained without (no parser installed)."""
    loaded: dict[str, dict[str, float]] = json.loads(WEIGHTS.read_text(encoding="utf-8"))
    return loaded["syntax" if with_syntax else "plain"]


def score(features: dict[str, float], model: dict[str, float]) -> float:
    """The model's probability that a candidate with ``features`` is a guarantor."""
    z = model.get("bias", 0.0) + sum(
        model.get(name, 0.0) * value for name, value in features.items() if name != "bias"
    )
    return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))


def guarantor_candidates(text: str) -> list[Candidate]:
    """The candidates the model reads as guarantors, in the order the article names them
    (read with syntax where spaCy's English model and natasha are installed)."""
    nlp, ru = syntax.parser(), syntax.russian_parser()
    with_syntax = nlp is not None and ru is not None
    model = weights(with_syntax)
    threshold = model.get("threshold", 0.5)
    if not with_syntax:
        nlp = ru = None
    found = candidate_features(text.translate(PLAIN_SPACES), nlp, ru)
    chosen = [c for c in found.values() if score(c.features, model) >= threshold]
    return sorted(chosen, key=lambda c: c.start)
