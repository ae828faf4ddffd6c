"""Locate a verbatim quote inside an article's text and return its character span on word edges."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import Final

from rapidfuzz import fuzz

from ..schemas import MatchKind
from .normalize import MARK_TABLE

__all__ = [
    "FUZZY_THRESHOLD",
    "MIN_QUOTE_CHARS",
    "Span",
    "locate",
    "normalize_for_match",
    "on_word_boundaries",
    "strip_marks",
    "widen_to_words",
]

# Score on rapidfuzz's 0..100 scale (Indel similarity of the quote against the best window of
# the text). 90 accepts a few changed characters in a sentence-length quote - a typo, a changed
# word ending, a dropped article - but rejects a paraphrase, which rewrites far more than 10 % of
# the characters. Lower values start to ground quotes the model reworded, which defeats the
# purpose of demanding a verbatim quote.
FUZZY_THRESHOLD: float = 90.0

# A quote of a few characters fuzzily matches some unrelated word in almost any article, so
# short quotes must be found exactly or after normalisation.
MIN_QUOTE_CHARS: int = 8

# The marks of ``normalize.MARK_TABLE``, mapped before NFKC as well as after: NFKC would
# otherwise turn the double prime into two primes and the acute accent into a space plus a
# combining mark. Russian writers use YO (U+0451) and IE (U+0435) interchangeably; an article
# and a model's quote of it may disagree, so both compare as IE (same length, so offsets are
# unaffected).
_QUOTE_AND_DASH_TABLE: Final[dict[int, str]] = {**MARK_TABLE, ord("\u0451"): "\u0435"}

# Invisible characters that web articles scatter inside words (soft hyphens, zero-width
# spaces and joiners, BOM); they are dropped so they cannot break a match.
_INVISIBLE: Final[frozenset[str]] = frozenset("\u00ad\u200b\u200c\u200d\u2060\ufeff")

# Marks a quote may be wrapped in or end with that the article need not contain at that spot.
_SURROUNDING_QUOTES: Final[str] = "\"'"
_TRAILING_PUNCT: Final[str] = ".,;:"

# NFKC has already turned "…" into "...". Bracketed "[...]" is the editorial form of an omission.
_ELLIPSIS_RE: Final[re.Pattern[str]] = re.compile(r"\s*[\[(]?\.{3,}[\])]?\s*")

# How far, as a fraction of the quote's length (and at least a few characters), the edges of a
# fuzzy window may move while being fitted to the quote.
_EDGE_SLACK_FRACTION: Final[float] = 0.1
_EDGE_SLACK_MIN: Final[int] = 3


@dataclass(frozen=True)
class Span:
    """A located quote: ``text[start:end]`` is the matched passage of the original text.

    Attributes:
        start: Offset of the first matched character in the original text.
        end: Offset one past the last matched character (exclusive).
        match: Which tier found the quote.
        score: Similarity on a 0..100 scale; 100.0 for exact and normalised matches.
    """

    start: int
    end: int
    match: MatchKind
    score: float


def _is_word_char(ch: str) -> bool:
    # Combining marks belong to the letter before them ("й" decomposed is still one letter).
    return ch.isalnum() or unicodedata.category(ch).startswith("M")


def _is_boundary(text: str, at: int) -> bool:
    """Whether offset ``at`` of ``text`` is not between two characters of one word."""
    return (
        at <= 0 or at >= len(text) or not (_is_word_char(text[at - 1]) and _is_word_char(text[at]))
    )


def on_word_boundaries(text: str, start: int, end: int) -> bool:
    """Whether ``text[start:end]`` starts and ends on word boundaries (cuts no word in two).

    Args:
        text: The article text.
        start: Offset of the span's first character.
        end: Offset one past its last character.

    Returns:
        True when neither edge falls between two letters or digits of the same word.
    """
    return _is_boundary(text, start) and _is_boundary(text, end)


def widen_to_words(text: str, start: int, end: int) -> tuple[int, int]:
    """``text[start:end]`` widened to the whole words it touches ("Russia" -> "Russian")."""
    while not _is_boundary(text, start):
        start -= 1
    while not _is_boundary(text, end):
        end += 1
    return start, end


@dataclass(frozen=True)
class _Normalized:
    """A normalised string plus, per output character, the source span it came from."""

    text: str
    starts: tuple[int, ...]
    ends: tuple[int, ...]


@lru_cache(maxsize=4096)
def _normalize_cluster(cluster: str) -> str:
    """Normalise one base character plus its combining marks (the unit of normalisation).

    Working per cluster rather than per code point lets NFKC compose a decomposed "e" + U+0301
    into "é", so a decomposed article still matches a precomposed quote. Whitespace comes out as
    plain spaces and invisible characters are dropped; runs are collapsed later.
    """
    if cluster.isascii():
        # Fast path: NFKC is the identity on ASCII and casefold equals lower.
        mapped = cluster.lower().translate(_QUOTE_AND_DASH_TABLE)
    else:
        mapped = unicodedata.normalize("NFKC", cluster.translate(_QUOTE_AND_DASH_TABLE))
        # NFKC can produce curly quotes or dashes from compatibility forms, so map again.
        mapped = mapped.casefold().translate(_QUOTE_AND_DASH_TABLE)
    return "".join(" " if ch.isspace() else ch for ch in mapped if ch not in _INVISIBLE)


def _char_class(chars: set[str]) -> str:
    return "[" + "".join(re.escape(c) for c in sorted(chars)) + "]"


@lru_cache(maxsize=16)
def _normalize_with_map(s: str) -> _Normalized:
    """Normalise ``s`` keeping, for every output character, its source span in ``s``.

    Semantically this walks ``s`` cluster by cluster, emits ``_normalize_cluster`` of each and
    records the cluster's span for every emitted character. A plain Python loop over a 12,000
    character article costs tens of milliseconds, so the common case - a cluster that is one
    character and normalises to one character - is handled with ``str.translate`` over whole
    stretches of text, and only the rare clusters that change length (combining sequences,
    ligatures, "…", invisible characters) are visited one by one. Cached because a caller
    typically grounds many quotes against the same article.
    """
    alphabet = set(s)
    marks = {c for c in alphabet if unicodedata.combining(c)}
    # Marks are included: one with no base before it (at the very start) is a cluster alone.
    resized = {c for c in alphabet if len(_normalize_cluster(c)) != 1}
    table = {ord(c): _normalize_cluster(c) for c in alphabet}

    # Stage 1: per-cluster normalisation, whitespace not yet collapsed.
    pieces: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    special = "|".join(
        pattern
        for pattern, chars in (
            ("." + _char_class(marks) + "+", marks),
            (_char_class(resized), resized),
        )
        if chars
    )
    done = 0
    if special:
        for found in re.finditer(special, s, flags=re.DOTALL):
            start, end = found.span()
            # Unchanged stretch before this cluster: one output char per source char.
            pieces.append(s[done:start].translate(table))
            starts.extend(range(done, start))
            ends.extend(range(done + 1, start + 1))
            replacement = _normalize_cluster(found.group())
            pieces.append(replacement)
            starts.extend([start] * len(replacement))
            ends.extend([end] * len(replacement))
            done = end
    pieces.append(s[done:].translate(table))
    starts.extend(range(done, len(s)))
    ends.extend(range(done + 1, len(s) + 1))
    spaced = "".join(pieces)

    # Stage 2: collapse whitespace runs to one space and drop leading and trailing space,
    # keeping the map of the first space of every interior run.
    kept: list[int] = []
    words: list[str] = []
    for word in re.finditer(r"[^ ]+", spaced):
        start, end = word.span()
        if kept:
            kept.append(kept[-1] + 1)
        kept.extend(range(start, end))
        words.append(word.group())
    return _Normalized(
        " ".join(words),
        tuple(starts[k] for k in kept),
        tuple(ends[k] for k in kept),
    )


def normalize_for_match(s: str) -> str:
    """Normalise a string the way the second (``normalized``) tier of :func:`locate` compares.

    Applies Unicode NFKC and casefolding; maps every quotation mark to ``"`` or ``'`` and every
    dash to ``-``; maps Cyrillic YO (U+0451) to IE (U+0435); drops soft hyphens and zero-width
    characters; collapses each whitespace run (NBSP, tabs and newlines included) to one space
    and strips the ends. The result may be longer or shorter than ``s`` (e.g. "ß" becomes "ss").

    Args:
        s: Any string.

    Returns:
        The normalised string.
    """
    return _normalize_with_map(s).text


def strip_marks(s: str) -> str:
    """Strip surrounding quote marks, trailing sentence punctuation and spaces, to a fixpoint."""
    previous = None
    while s != previous:
        previous = s
        s = s.strip(" ").strip(_SURROUNDING_QUOTES).rstrip(_TRAILING_PUNCT)
    return s


def _quote_parts(quote: str) -> list[str]:
    """Normalise ``quote`` and split it at ellipses into the parts that must appear in order."""
    parts = (strip_marks(p) for p in _ELLIPSIS_RE.split(strip_marks(normalize_for_match(quote))))
    return [p for p in parts if p]


def _find_in_order(parts: list[str], text: str, begin: int = 0) -> tuple[int, int] | None:
    """Find each part verbatim in ``text`` from ``begin``, each after the previous one; return
    the tightest window."""
    positions: list[int] = []
    pos = begin
    for part in parts:
        found = text.find(part, pos)
        if found < 0:
            return None
        positions.append(found)
        pos = found + len(part)
    # The greedy forward pass proves a match exists but may start at an early occurrence of the
    # first part far from the rest; walking back with rfind pulls every earlier part as close to
    # its successor as possible, so the span does not swallow unrelated text.
    limit = positions[-1]
    for i in range(len(parts) - 2, -1, -1):
        positions[i] = text.rfind(parts[i], positions[i], limit)
        limit = positions[i]
    return positions[0], positions[-1] + len(parts[-1])


def _fit_edges(part: str, text: str, start: int, end: int) -> tuple[int, int]:
    """Move a fuzzy window's edges a little to maximise its similarity to ``part``.

    ``partial_ratio_alignment`` scores windows as long as the quote, so a quote that dropped or
    added a word yields a window that cuts into, or overhangs, the passage it came from.
    """
    slack = max(_EDGE_SLACK_MIN, int(len(part) * _EDGE_SLACK_FRACTION))
    best_score = fuzz.ratio(part, text[start:end])
    for candidate in range(max(0, start - slack), min(end, start + slack + 1)):
        score = fuzz.ratio(part, text[candidate:end])
        if score > best_score:
            best_score, start = score, candidate
    for candidate in range(max(start + 1, end - slack), min(len(text), end + slack) + 1):
        score = fuzz.ratio(part, text[start:candidate])
        if score > best_score:
            best_score, end = score, candidate
    return start, end


def _fuzzy_in_order(parts: list[str], text: str, threshold: float) -> tuple[int, int, float] | None:
    """Find each part in order, verbatim if possible, else fuzzily; return window and min score."""
    pos = 0
    first_start = -1
    worst = 100.0
    for part in parts:
        found = text.find(part, pos)
        if found >= 0:
            start, end = found, found + len(part)
        else:
            rest = text[pos:]
            # With a quote longer than the text rapidfuzz aligns the text inside the quote,
            # which would "ground" a quote the article only partly contains.
            if len(part) < MIN_QUOTE_CHARS or len(part) > len(rest):
                return None
            alignment = fuzz.partial_ratio_alignment(part, rest, score_cutoff=threshold)
            if alignment is None or alignment.score < threshold:
                return None
            start, end = _fit_edges(part, rest, alignment.dest_start, alignment.dest_end)
            start, end = start + pos, end + pos
            worst = min(worst, alignment.score)
        # Fuzzy windows can begin or end on a collapsed space; trim so offsets map to characters.
        while start < end and text[start] == " ":
            start += 1
        while end > start and text[end - 1] == " ":
            end -= 1
        if start == end:
            return None
        if first_start < 0:
            first_start = start
        pos = end
    return first_start, pos, worst


def _to_original(norm: _Normalized, start: int, end: int) -> tuple[int, int]:
    """Map a non-empty normalised window back to offsets in the original text."""
    return norm.starts[start], norm.ends[end - 1]


def _trimmed_span(original: str, start: int, end: int, match: MatchKind, score: float) -> Span:
    # A cluster can be whitespace plus combining marks; never hand back a span padded by spaces.
    while start < end and original[start].isspace():
        start += 1
    while end > start and original[end - 1].isspace():
        end -= 1
    return Span(start, end, match, score)


def _exact(quote: str, text: str) -> tuple[Span | None, Span | None]:
    """The first occurrence of ``quote`` on word boundaries, and the first one inside words."""
    inside = None
    found = text.find(quote)
    while found >= 0:
        end = found + len(quote)
        if on_word_boundaries(text, found, end):
            return Span(found, end, "exact", 100.0), inside
        inside = inside or Span(found, end, "exact", 100.0)
        found = text.find(quote, found + 1)
    return None, inside


def _normalized(parts: list[str], text: str) -> tuple[Span | None, Span | None]:
    """Like :func:`_exact` for the normalised tier: ``parts`` found in order in ``text``."""
    norm = _normalize_with_map(text)
    inside = None
    begin = 0
    while (window := _find_in_order(parts, norm.text, begin)) is not None:
        span = _trimmed_span(text, *_to_original(norm, *window), "normalized", 100.0)
        if span.start < span.end and on_word_boundaries(text, span.start, span.end):
            return span, inside
        inside = inside or span
        begin = window[0] + 1
    return None, inside


def locate(quote: str, text: str, *, threshold: float = FUZZY_THRESHOLD) -> Span | None:
    """Find quote in text on word boundaries: exact, then normalised, then widened, then fuzzy.

    The tiers are tried in order and the first hit wins:

    1. ``exact``: the quote, stripped of surrounding whitespace, as a substring that starts and
       ends on word boundaries (the first such occurrence).
    2. ``normalized``: both strings run through :func:`normalize_for_match`; the quote also
       loses surrounding quote marks and trailing ``. , ; :``, and an ellipsis (``...``, ``…``,
       ``[...]``) splits it into parts that must appear in order. The span runs from the first
       part's start to the last part's end, again on word boundaries.
    3. ``widened``: the quote occurs (exactly or normalised) only inside longer words, e.g.
       "Russia" in "Russian delegation" or "US" in "status"; the span is the first occurrence
       widened to the whole words it touches ("Russian", "status"). Whether that word still
       names the value is for the caller to check.
    4. ``fuzzy``: only for normalised quotes of at least :data:`MIN_QUOTE_CHARS` characters;
       each part not found verbatim is aligned with ``rapidfuzz.fuzz.partial_ratio_alignment``
       and accepted when its score is at least ``threshold``; the window is widened to whole
       words. The reported score is the lowest part score.

    ``text[span.start:span.end]`` is the article's own wording of the quote; it differs from
    ``quote`` for every tier but ``exact``.

    Args:
        quote: The verbatim quote to ground.
        text: The article text to search.
        threshold: Minimum fuzzy score, 0..100. The default, :data:`FUZZY_THRESHOLD`, lets a
            typo or a changed word ending through but not a paraphrase.

    Returns:
        A :class:`Span` whose offsets index ``text``, never start or end on whitespace and never
        cut a word, or ``None`` when the quote is empty or not found.

    Raises:
        ValueError: If ``threshold`` is outside 0..100.
    """
    if not 0.0 <= threshold <= 100.0:
        raise ValueError(f"threshold must be within 0..100, got {threshold!r}")
    stripped = quote.strip()
    if not stripped:
        return None

    found, inside = _exact(stripped, text)
    if found is not None:
        return found

    parts = _quote_parts(stripped)
    if not parts:
        return None
    found, inside_normalized = _normalized(parts, text)
    if found is not None:
        return found
    inside = inside or inside_normalized
    if inside is not None:
        return Span(*widen_to_words(text, inside.start, inside.end), "widened", 100.0)

    if sum(len(p) for p in parts) < MIN_QUOTE_CHARS:
        return None
    norm = _normalize_with_map(text)
    fuzzy = _fuzzy_in_order(parts, norm.text, threshold)
    if fuzzy is None:
        return None
    start, end = _to_original(norm, fuzzy[0], fuzzy[1])
    span = _trimmed_span(text, start, end, "fuzzy", fuzzy[2])
    return Span(*widen_to_words(text, span.start, span.end), "fuzzy", span.score)
