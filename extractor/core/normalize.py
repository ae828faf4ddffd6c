"""Normalise surface forms (actors, durations, territories, language) to canonical values.

The names, declensions, number words and territory patterns are data, in ``extractor/core/data``
(described in its README), read once; this module holds the logic that uses them.
"""

# Russian and Ukrainian words are this module's data, so Cyrillic letters that look Latin are
# expected in its strings and comments.
# ruff: noqa: RUF001, RUF002, RUF003

from __future__ import annotations

import json
import re
import struct
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import cache, cached_property, lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, Final

import pycountry

from ..schemas import ActorKind

__all__ = [
    "MARK_TABLE",
    "OCCUPIED_TERRITORIES",
    "ORGANIZATION_CODES",
    "TERRITORY_CODES",
    "actor_code",
    "actor_kind",
    "actor_spans",
    "canonical_territory",
    "declined_in",
    "detect_language",
    "duration_spans",
    "find_durations",
    "named_actors",
    "parse_hours",
    "split_actors",
    "territories_named",
    "territory_code",
    "territory_names",
    "unglue",
]


@cache
def _data(name: str) -> Any:
    """The content of the data file ``extractor/core/data/NAME``, read once."""
    text = resources.files("extractor.core").joinpath("data", name).read_text(encoding="utf-8")
    return json.loads(text)


# ---------------------------------------------------------------------------------------------
# Shared text folding
# ---------------------------------------------------------------------------------------------

# The one table of marks written more than one way: every quotation mark becomes " or ' and
# every dash -, so that names, durations, territories and quotes compare whatever marks an
# article or a model used.
MARK_TABLE: Final[dict[int, str]] = {
    **{ord(c): '"' for c in "\u201c\u201d\u201e\u201f\u00ab\u00bb\u2033\u0022"},
    **{ord(c): "'" for c in "\u2018\u2019\u201a\u201b\u2039\u203a\u02bc\u2032\u0060\u00b4\u0027"},
    **{ord(c): "-" for c in "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\u002d"},
}


def _is_cyrillic(ch: str) -> bool:
    return "\u0400" <= ch <= "\u052f"


def _fold_char(ch: str) -> str:
    if _is_cyrillic(ch):
        return "\u0435" if ch == "\u0451" else ch
    if ch == "\u03c2":  # Greek final sigma: the same letter as sigma, by its place in a word
        return "\u03c3"
    # "Élysée", "Türkiye" and "Chișinău" reach us with and without their accents.
    return "".join(c for c in unicodedata.normalize("NFD", ch) if not unicodedata.combining(c))


class _FoldTable(dict[int, str]):
    """``str.translate`` table folding each character, filled the first time one is seen: the
    work is done once per distinct character, not once per character of the text."""

    def __missing__(self, code: int) -> str:
        folded = _fold_char(chr(code))
        self[code] = folded
        return folded


_FOLD_TABLE: Final[_FoldTable] = _FoldTable()


def _fold(text: str) -> str:
    """Lower-case, unify apostrophes and dashes, and drop Latin diacritics.

    Cyrillic is kept whole apart from YO -> IE: decomposing it would turn SHORT I into I and
    merge words that Russian keeps apart, while YO and IE are written interchangeably.
    """
    lowered = text.translate(MARK_TABLE).lower()
    return lowered if lowered.isascii() else lowered.translate(_FOLD_TABLE)


def _key(text: str) -> str:
    """Fold ``text`` into a lookup key: no dots ("U.S." == "US"), hyphens as spaces."""
    folded = _fold(text).replace(".", "")
    return re.sub(r"[\s\-_/]+", " ", folded).strip()


def _alternation(words: Iterable[str]) -> str:
    """Regex group matching any of ``words``, tried longest first ("seventeen" before "seven")."""
    return "(?:" + "|".join(re.escape(w) for w in sorted(set(words), key=len, reverse=True)) + ")"


# ---------------------------------------------------------------------------------------------
# Actors
# ---------------------------------------------------------------------------------------------

# Organisations with the codes records carry (the README lists them), by their English names,
# their Russian and Ukrainian ones and some in other languages (data/organizations.json); no
# maintained library codes them.
_ORGANIZATIONS: Final[dict[str, dict[str, list[str]]]] = _data("organizations.json")
ORGANIZATION_CODES: Final[frozenset[str]] = frozenset(_ORGANIZATIONS)

# Russian and Ukrainian: a word is "stem:PARADIGM" (the stem takes any ending of the paradigm,
# data/paradigms.json; the PL_ paradigms are Polish ones) or a bare word (indeclinable).
# Matching whole words against stem + known ending is what keeps "Польша" from matching "польза"
# or "Дания" from matching "дань"/"дани".
_PARADIGMS: Final[dict[str, tuple[str, ...]]] = {
    name: tuple(endings) for name, endings in _data("paradigms.json").items()
}

# Declined forms of a state's name that are common words in their own right.
_COMMON_WORDS: Final[frozenset[str]] = frozenset(_data("common_words.json"))

# Words naming the apparatus or the members of a state or organisation rather than a
# different actor (data/head_words.json): "the Ukrainian side", "US officials", "правительство
# Украины" stand for the state itself; "members of NATO", "страны G7", "the Office of the
# President of Ukraine" for the organisation or state too. English words and phrases are
# matched whole, Cyrillic and Polish stems with an ending of up to three letters.
_HEAD_WORDS: Final[dict[str, list[str]]] = _data("head_words.json")


def _stem_table(entries: list[str]) -> dict[str, tuple[tuple[str, ...], ...]]:
    """Head entries as folded stems, by the first two letters of their first stem."""
    table: dict[str, tuple[tuple[str, ...], ...]] = {}
    for entry in entries:
        stems = tuple(_fold(stem) for stem in entry.split())
        table[stems[0][:2]] = (*table.get(stems[0][:2], ()), stems)
    return table


@dataclass(frozen=True)
class _Heads:
    """The head words one kind of lookup peels off a name."""

    trailing: frozenset[str]  # English words after the name: "NATO members"
    leading: frozenset[tuple[str, ...]]  # English phrases before it: "members of" NATO
    stems: dict[str, tuple[tuple[str, ...], ...]]  # before or (one word) after it
    connectors: frozenset[str]  # what may follow a leading head: "of", "the"
    modifiers: frozenset[str]  # what may open a leading head: "other", "permanent"
    split_hyphens: bool  # "государства-члены" as two words

    @cached_property
    def openings(self) -> frozenset[str]:
        """The words a leading head can start with."""
        return self.modifiers | {phrase[0] for phrase in self.leading}


# A name's own words: the apparatus of a state ("Ukrainian negotiators", "правительства
# Украины"), as the scan of a text reads names; a text's phrase is its name, not its members.
_APPARATUS: Final[_Heads] = _Heads(
    trailing=frozenset(_HEAD_WORDS["en"]),
    leading=frozenset(),
    stems=_stem_table(_HEAD_WORDS["cyrillic_stems"]),
    connectors=frozenset(),
    modifiers=frozenset(),
    split_hyphens=False,
)
# What a name a model gives may carry besides: the members and offices of a state or
# organisation as well ("Countries of the North Atlantic Alliance", "государства-члены ЕС").
_ALL_HEADS: Final[_Heads] = _Heads(
    trailing=frozenset(_HEAD_WORDS["en"] + _HEAD_WORDS["en_groups"]),
    leading=frozenset(
        tuple(phrase.split()) for phrase in _HEAD_WORDS["en"] + _HEAD_WORDS["en_leading"]
    ),
    stems=_stem_table(_HEAD_WORDS["cyrillic_stems"] + _HEAD_WORDS["group_stems"]),
    connectors=frozenset(_HEAD_WORDS["connectors"]),
    modifiers=frozenset(_HEAD_WORDS["modifiers"]),
    split_hyphens=True,
)

_Word = tuple[str, tuple[str, ...]]
_Pattern = tuple[tuple[_Word, ...], str]


def _iso_forms(name: str) -> list[str]:
    """Other ways prose writes a name in ISO 3166 style, its own spelling excluded.

    "Korea, Republic of" -> "Republic of Korea", "Korea"; "Holy See (Vatican City State)" ->
    "Holy See"; a leading "the" is dropped.
    """
    outer = re.sub(r"\s*\(.*?\)", "", name).strip()
    head, comma, tail = outer.partition(", ")
    forms = [f"{tail} {head}", head] if comma else [outer]
    return [_LEADING_THE_RE.sub("", form.strip()) for form in forms if form != name]


def _paradigm(word: str) -> tuple[str, str]:
    """Stem and paradigm of a Russian or Ukrainian nominative, from its ending."""
    if len(word) <= 2 or "'" in word:
        return word, ""
    if word.endswith(("ая", "яя", "ое", "ее", "ий", "ый", "ой", "ие", "ые", "ій")):
        return word[:-2], "ADJ"
    if re.search(r"(?:ськ|цьк|зьк)[аеі]$|(?:ен|ан)і$", word):
        return word[:-1], "ADJ"
    last = word[-1]
    if last in "яа":
        return word[:-1], "IA" if last == "я" else "A"
    if last == "ь":
        return word[:-1], "SOFT"
    if last == "й":
        return word[:-1], "Y"
    if last == "ы":
        return word[:-1], "PL"
    if last in "оеуюэиіїє":
        return word, ""
    return word, "M"


def _pattern(spec: str) -> tuple[_Word, ...]:
    """Words of a "stem:PARADIGM ..." spec."""
    words: list[_Word] = []
    for token in spec.split():
        stem, _, paradigm = token.partition(":")
        words.append((_fold(stem), _PARADIGMS[paradigm] if paradigm else ("",)))
    return tuple(words)


def _declined(name: str) -> tuple[_Word, ...]:
    """Words of a Russian or Ukrainian state name in every case ("Черногория" -> черногори:IA)."""
    words: list[_Word] = []
    for token in _key(name).split():
        stem, paradigm = _paradigm(token)
        words.append((stem, _PARADIGMS[paradigm] if paradigm else ("",)))
    return tuple(words)


def _polish_paradigm(word: str) -> tuple[str, str]:
    """Stem and paradigm of a folded Polish nominative, from its ending (data/paradigms.json
    names them PL_...): "francja" -> francj:PL_SOFT_A, "kanada" -> kana:PL_DA."""
    if len(word) <= 3 or "'" in word or not word.isalpha():
        return word, ""
    for ending, strip, paradigm in _POLISH_ENDINGS:
        if word.endswith(ending):
            return word[:-strip], paradigm
    if word[-1] in "aeiouy":
        return word, ""
    return word, "PL_M"


# Nominative endings, longest first: the letters the stem loses and the paradigm it declines
# by. A stem ending in k, g, d, t or r changes before -e ("Polska" -> "Polsce", "Kanada" ->
# "Kanadzie"), so those paradigms keep the consonant in their endings; "Francja" keeps its j.
_POLISH_ENDINGS: Final[tuple[tuple[str, int, str], ...]] = (
    ("ia", 1, "PL_SOFT_A"),
    ("ja", 1, "PL_SOFT_A"),
    ("ea", 1, "PL_SOFT_A"),
    ("ie", 2, "PL_ADJ_IE"),
    ("ki", 1, "PL_ADJ_I"),
    ("ka", 2, "PL_KA"),
    ("ga", 2, "PL_GA"),
    ("da", 2, "PL_DA"),
    ("ta", 2, "PL_TA"),
    ("ra", 2, "PL_RA"),
    ("a", 1, "PL_A"),
    ("e", 1, "PL_ADJ_E"),
    ("y", 1, "PL_PL"),
    ("o", 1, "PL_O"),
)


def _declined_polish(name: str) -> tuple[_Word, ...]:
    """Words of a Polish state name in every case ("Wielka Brytania" -> wiel:PL_KA
    brytani:PL_SOFT_A); empty for a name in another script."""
    key = _key(name)
    if not key or not all(ch.isascii() or ch in "łŁ" for ch in key):
        return ()
    words: list[_Word] = []
    for token in key.split():
        stem, paradigm = _polish_paradigm(token)
        words.append((stem, _PARADIGMS[paradigm] if paradigm else ("",)))
    return tuple(words)


def _declined_cyrillic(name: str) -> tuple[_Word, ...]:
    """:func:`_declined` for a name in Cyrillic letters; empty for one in another script."""
    return _declined(name) if any(_is_cyrillic(ch) for ch in name) else ()


# The languages whose names are declined; the others are matched as pycountry writes them.
_DECLINED_LANGUAGES: Final[dict[str, Callable[[str], tuple[_Word, ...]]]] = {
    "ru": _declined_cyrillic,
    "uk": _declined_cyrillic,
    "pl": _declined_polish,
}


@dataclass(frozen=True)
class _ActorIndex:
    """Lookup tables built once: folded English names; declined Russian and Ukrainian patterns
    by word count and first letters; names in every other language pycountry translates, and
    Polish ones declined, both counting only when written with a capital."""

    names: dict[str, str]
    capitalised: dict[str, str]
    cyrillic: dict[tuple[int, str], tuple[_Pattern, ...]]
    foreign: dict[str, str]
    declined: dict[tuple[int, str], tuple[_Pattern, ...]]
    # The hand tables' abbreviations ("UN", "EU", "NATO"), folded: words in other languages
    # when written in small letters ("un", "eu", "nato").
    abbreviations: frozenset[str] = frozenset()


def _claim(table: dict[str, str], clashes: set[str], key: str, code: str) -> None:
    if table.setdefault(key, code) != code:
        clashes.add(key)


def _catalogues() -> Iterator[tuple[str, dict[str, str]]]:
    """(language, msgid -> msgstr) of every ISO 3166-1 catalogue pycountry ships.

    Each catalogue is read whole, its offset tables unpacked at once: gettext's own parser
    walks entry by entry in Python, which for some 150 catalogues of 300 names was most of the
    time it took to build the index. A catalogue is UTF-8, as pycountry's are (a stray byte
    would only spoil its own name).
    """
    root = Path(pycountry.LOCALES_DIR)
    for path in sorted(root.glob("*/LC_MESSAGES/iso3166-1.mo")):
        yield path.parent.parent.name, _read_mo(path.read_bytes())


def _read_mo(data: bytes) -> dict[str, str]:
    """The messages of a GNU .mo catalogue (format: the gettext manual, "The Format of GNU MO
    Files"): msgid -> msgstr, the header entry left out."""
    order = "<" if data[:4] == b"\xde\x12\x04\x95" else ">"
    count, originals, translations = struct.unpack_from(f"{order}3I", data, 8)
    ids = struct.unpack_from(f"{order}{2 * count}I", data, originals)
    strs = struct.unpack_from(f"{order}{2 * count}I", data, translations)
    return {
        data[ids[i + 1] : ids[i + 1] + ids[i]].decode(errors="replace"): data[
            strs[i + 1] : strs[i + 1] + strs[i]
        ].decode(errors="replace")
        for i in range(0, 2 * count, 2)
        if ids[i]
    }


def _group(patterns: Iterable[_Pattern]) -> dict[tuple[int, str], tuple[_Pattern, ...]]:
    """Patterns by (word count, first two letters of the first stem), first given first."""
    grouped: dict[tuple[int, str], list[_Pattern]] = {}
    for entry in patterns:
        grouped.setdefault((len(entry[0]), entry[0][0][0][:2]), []).append(entry)
    return {key: tuple(value) for key, value in grouped.items()}


@cache
def _actor_index() -> _ActorIndex:
    """Build the actor tables from pycountry and the data files (once, on first use).

    The states' own names come from pycountry: ISO 3166-1 in English and its translations in
    every language pycountry ships, Russian, Ukrainian and Polish ones declined;
    data/states.json adds only what pycountry lacks: metonyms, short forms and adjectives.
    """
    states: dict[str, dict[str, list[str]]] = _data("states.json")
    names: dict[str, str] = {}
    abbreviations: set[str] = set()
    for code, organization in _ORGANIZATIONS.items():
        for name in organization["en"]:
            names[_key(name)] = code
    for entry in [*_ORGANIZATIONS.values(), *states.values()]:
        abbreviations.update(_key(n) for n in entry["en"] if n.isupper() and " " not in n)
    for code, state in states.items():
        for name in state["en"]:
            # A key claimed by two codes is a data error; fail loudly, not at a wrong lookup.
            if names.setdefault(_key(name), code) != code:
                raise ValueError(f"actor name {name!r} maps to both {names[_key(name)]} and {code}")

    # A state's own ISO names first; the forms derived from them ("Korea" from "Korea,
    # Republic of") only where no ISO name has the key, and not when two states derive it.
    capitalised: dict[str, str] = {}
    derived: dict[str, str] = {}
    clashes: set[str] = set()
    iso_names: list[tuple[str, str]] = []
    for country in pycountry.countries:
        for attribute in ("name", "official_name", "common_name"):
            iso_name = getattr(country, attribute, None)
            if isinstance(iso_name, str):
                iso_names.append((iso_name, country.alpha_3))
    for iso_name, code in iso_names:
        capitalised[_key(_actor_core(iso_name))] = code
        for form in _iso_forms(iso_name):
            _claim(derived, clashes, _key(form), code)
    for key, code in derived.items():
        if key not in clashes:  # "Korea": which one?
            capitalised.setdefault(key, code)

    cyrillic_specs: dict[tuple[_Word, ...], str] = {}
    polish_specs: dict[tuple[_Word, ...], str] = {}
    # Most languages write most names alike: each distinct spelling is keyed once.
    spellings: dict[str, set[str]] = {}
    for language, catalogue in _catalogues():
        declined = _DECLINED_LANGUAGES.get(language)
        specs = cyrillic_specs if declined is _declined_cyrillic else polish_specs
        for iso_name, code in iso_names:
            local = catalogue.get(iso_name)
            if not local:
                continue
            forms = [local, *_iso_forms(local)] if "," in local or "(" in local else [local]
            for form in forms:
                pattern = declined(form) if declined is not None else ()
                if pattern and specs.setdefault(pattern, code) != code:
                    specs[pattern] = ""  # two states: a clash, removed below
                if declined is not _declined_cyrillic and form != iso_name:
                    spellings.setdefault(form, set()).add(code)
    for pattern in [p for p, code in cyrillic_specs.items() if not code]:
        del cyrillic_specs[pattern]
    foreign: dict[str, str] = {}
    foreign_clashes: set[str] = set()
    for key, codes in zip(_core_keys(list(spellings)), spellings.values(), strict=True):
        for code in codes:
            _claim(foreign, foreign_clashes, key, code)
    taken = names.keys() | capitalised.keys()
    foreign = {
        key: code
        for key, code in foreign.items()
        if key not in foreign_clashes and key not in taken and _foreign_key_usable(key)
    }

    patterns: list[_Pattern] = [(p, code) for p, code in cyrillic_specs.items()]
    for code, entry in [*states.items(), *_ORGANIZATIONS.items()]:
        # The hand tables' names in other languages: Polish ones declined, the rest as written.
        patterns += [(_pattern(spec), code) for spec in entry["cyrillic"]]
        # Its adjectives in Latin-script languages, in any case and declined ("französischen",
        # "française", "polskiego", "svenska"): written here, as no library on the package index
        # gives demonyms beyond English (pycountry and CLDR give the names of states only).
        patterns += [(_pattern(spec), code) for spec in entry.get("adjectives", [])]
        for name in [*entry.get("other", []), *entry.get("pl", [])]:
            foreign.setdefault(_key(name), code)
        polish_specs.update({_declined_polish(name): code for name in entry.get("pl", [])})
    return _ActorIndex(
        names=names,
        capitalised={k: v for k, v in capitalised.items() if k not in names},
        # Hand-written patterns were added last but must win: look them up first.
        cyrillic=_group(reversed(patterns)),
        foreign=foreign,
        declined=_group((p, code) for p, code in polish_specs.items() if code),
        abbreviations=frozenset(abbreviations),
    )


def _core_keys(names: list[str]) -> list[str]:
    """``_key(_actor_core(name))`` of each name (none holding a line break), computed over all
    of them at once: tens of thousands of translated names are keyed by a few passes over
    their joined text and C-level string calls, not two Python calls and five regex
    substitutions each (tests/test_normalize.py checks the two agree)."""
    text = "\n".join(names)
    # One table for every character the names hold, so that ``translate`` never misses: marks
    # unified, double quotes as spaces, then folded as ``_fold`` folds (lower case first, which
    # the steps below may take before their case-blind patterns).
    table = {ord(ch): _fold(ch.translate(MARK_TABLE).replace('"', " ")) for ch in set(text)}
    text = re.sub(r"(?:[^\S\n])+", " ", text.translate(table))
    # What ``_actor_core`` strips, line by line (a C-level ``strip`` each, no regex scans).
    edges = _EDGE_CHARS_IN_LINE
    lines = [line.strip(edges) for line in text.split("\n")]
    lines = [(line[:-2] if line.endswith("'s") else line).strip(edges) for line in lines]
    lines = [(line[4:] if line.startswith("the ") else line).strip(edges) for line in lines]
    text = re.sub(r"[ \-_/]+", " ", "\n".join(lines).replace(".", ""))
    return [line.strip(" ") for line in text.split("\n")]


def _is_caseless(ch: str) -> bool:
    """Whether ``ch`` is of a script that writes names without capitals (Chinese, Arabic,
    Georgian, whose Mkhedruli letters Unicode files as small letters)."""
    return ch.lower() == ch.upper() or "\u10a0" <= ch <= "\u10ff" or "\u2d00" <= ch <= "\u2d2f"


def _foreign_key_usable(key: str) -> bool:
    """Whether a name in another language may stand for its state: not a declined form that is
    a common word, and, in a script with capitals, long enough that it is no abbreviation of
    something else ("中国" is China; a Latin spelling of three letters would not be)."""
    if key in _COMMON_WORDS:
        return False
    return len(key.replace(" ", "")) >= 4 or _is_caseless(key[:1])


_EDGE_CHARS: Final[str] = " \t\r\n\"'«»“”„()[]{}<>,.;:!?*_/\\|-"
_EDGE_CHARS_IN_LINE: Final[str] = _EDGE_CHARS.replace("\n", "")
_LEADING_THE_RE: Final[re.Pattern[str]] = re.compile(r"^the\s+", re.IGNORECASE)
_POSSESSIVE_RE: Final[re.Pattern[str]] = re.compile(r"'s$", re.IGNORECASE)


def _actor_core(name: str) -> str:
    """Strip quotes, punctuation, a leading "the" and a possessive "'s" from an actor name;
    quotation marks inside it ("страны "Большой семерки"") are no part of it either."""
    core = " ".join(name.translate(MARK_TABLE).replace('"', " ").split()).strip(_EDGE_CHARS)
    core = _POSSESSIVE_RE.sub("", core).strip(_EDGE_CHARS)
    return _LEADING_THE_RE.sub("", core).strip(_EDGE_CHARS)


def _head_length(heads: _Heads, words: list[str], *, at_end: bool = False) -> int:
    """How many words at the start of ``words`` (the last one only, with ``at_end``) are a
    head of ``heads`` rather than the actor's name: "members of the" NATO, "страны" G7,
    "государства-члены" ЕС, "Office of the President of" Ukraine."""
    if at_end:
        last = _fold(words[-1])
        return int(last in heads.trailing or _stems_match(heads, [last], at_end=True) > 0)
    first = _fold(words[0])
    if first not in heads.openings and first[:2] not in heads.stems:
        return 0  # the common case, decided on the first word alone
    folded = [first, *(_fold(word) for word in words[1:])]
    start = 0
    while start < len(folded) - 1 and folded[start] in heads.modifiers:
        start += 1
    rest = folded[start:]
    length = max(
        (n for n in range(1, len(rest) + 1) if tuple(rest[:n]) in heads.leading),
        default=0,
    )
    length = max(length, _stems_match(heads, rest))
    if not length:
        return start  # "other" NATO (members): a modifier alone, no "of" after it
    length += start
    while length < len(folded) - 1 and folded[length] in heads.connectors:
        length += 1
    return length


def _stems_match(heads: _Heads, folded: list[str], *, at_end: bool = False) -> int:
    """The word count of the longest stem entry of ``heads`` whose stems open ``folded``'s
    words, else 0 (one-word entries only ``at_end``)."""
    if not folded:
        return 0
    longest = 1 if at_end else len(folded)
    return max(
        (
            len(stems)
            for stems in heads.stems.get(folded[0][:2], ())
            if len(stems) <= longest
            and all(
                word.startswith(stem) and len(word) - len(stem) <= 3
                for word, stem in zip(folded, stems, strict=False)
            )
        ),
        default=0,
    )


# A word splits at a hyphen between letters: "государства-члены" is two head words.
_HYPHEN_RE: Final[re.Pattern[str]] = re.compile(r"(?<=\w)-(?=\w)")


def _actor_candidates(words: list[str], heads: _Heads) -> Iterator[list[str]]:
    """Yield ``words`` and then the same words with head words peeled off either end."""
    yield words
    if heads.split_hyphens:
        words = _HYPHEN_RE.sub(" ", " ".join(words)).split()
    while len(words) > 1 and _head_length(heads, words, at_end=True):
        words = words[:-1]
        yield words
    while len(words) > 1 and 0 < (length := _head_length(heads, words)) < len(words):
        words = words[length:]
        yield words


def _match_declined(table: dict[tuple[int, str], tuple[_Pattern, ...]], key: str) -> str | None:
    """The code of the first pattern of ``table`` that ``key``'s words match, stem and ending."""
    tokens = key.split()
    if not tokens or (len(tokens) == 1 and tokens[0] in _COMMON_WORDS):
        return None
    for pattern, code in table.get((len(tokens), tokens[0][:2]), ()):
        if all(
            token.startswith(stem) and token[len(stem) :] in endings
            for token, (stem, endings) in zip(tokens, pattern, strict=True)
        ):
            return code
    return None


def actor_code(name: str) -> str | None:
    """Resolve an actor's surface name to a canonical code.

    States are every ISO 3166-1 entry by its English names (short, official and common, from
    pycountry) and by its Russian and Ukrainian names in any grammatical case (declined from
    pycountry's translations), plus the metonyms, short forms and adjectives of the hand
    tables ("the Kremlin", "the UK", "Russian"). An English ISO name must be written with a
    capital ("Turkey" and "Jordan" are states, "turkey" and "jordan" may not be). Names in
    every other language pycountry translates count too, written with a capital ("Sverige",
    "Royaume-Uni"), Polish ones in any case ("Wielkiej Brytanii"). Head words around the name
    are no part of it: "members of NATO", "страны G7", "государства-члены ЕС" are coded as
    NATO, G7 and EU are.

    Args:
        name: An actor as written in an article or by the model, e.g. "the United States",
            "Russia’s", "Kremlin", "Люксембурга", "НАТО", "Deutschland", "countries of the G7".

    Returns:
        The ISO 3166-1 alpha-3 code of a state ("USA", "RUS", ...), or one of
        :data:`ORGANIZATION_CODES` for an organisation; None when the name is unknown, vague
        ("the alliance") or a person ("Zelensky").
    """
    return _resolve(name, _ALL_HEADS)


def _resolve(name: str, heads: _Heads) -> str | None:
    """:func:`actor_code`, peeling only the head words of ``heads``."""
    index = _actor_index()
    core = _actor_core(name)
    for words in _actor_candidates(core.split(), heads):
        # "US" is the country, "us" the pronoun; "UN" and "EU" are names, "un" and "eu" words
        # of French, Spanish or Portuguese, as "nato" is of Italian: an abbreviation counts
        # written in capitals ("Nato" too, as British papers write it; "Un" not).
        if len(words) == 1 and _key(words[0]) in index.abbreviations:
            word = words[0]
            if word.islower() or (len(word) <= 3 and not word.isupper()):
                return None
        key = _key(" ".join(words))
        if not key:
            return None
        code = index.names.get(key) or _match_declined(index.cyrillic, key)
        # Names pycountry gives (in English or any other language) count only capitalised:
        # "turkey" and "chin" are words. A script without case has no capitals to ask for.
        if code is None and (not words[0][:1].islower() or _is_caseless(words[0][:1])):
            code = (
                index.capitalised.get(key)
                or index.foreign.get(key)
                or _match_declined(index.declined, key)
                # the genitive of German, Swedish, Danish, Norwegian and Dutch ("Frankreichs",
                # "Sveriges"): a name in another language than English with an "s" added
                or (index.foreign.get(key[:-1]) if key.endswith("s") and len(key) > 4 else None)
            )
        if code is not None:
            return code
    return None


# Where a string lists several actors: "Finland and Sweden", "France, Germany, and the United
# Kingdom", "Франция и Великобритания", "Polska i Litwa", "the US/UK".
_LIST_SEPARATOR_RE: Final[re.Pattern[str]] = re.compile(
    r"\s*[,;/]\s*(?:(?:and|&|и|і|та|й|oraz|i|und|et|y|e|och|og)\s+)?"
    r"|\s+(?:and|&|и|і|та|й|oraz|i|und|et|y|e|och|og)\s+"
)
# A list in brackets after a name: "the E3 (France, Germany and the UK)".
_BRACKETED_RE: Final[re.Pattern[str]] = re.compile(r"\s*\(([^()]*)\)\s*")


def split_actors(name: str, *, coded: int = 1) -> list[str]:
    """The actors a name lists, each as written: "Finland and Sweden" -> ["Finland",
    "Sweden"], "the US and its allies" -> ["the US", "its allies"], "the E3 (France and the
    UK)" -> ["the E3", "France", "the UK"]; ``[name]`` itself when it is one name ("Bosnia and
    Herzegovina", "Organization for Security and Co-operation in Europe") or when fewer than
    ``coded`` of its parts are states or organisations ("Sir Keir and President Macron" stays
    whole)."""
    if actor_code(name) is not None:
        return [name]
    parts = [
        part.strip(_EDGE_CHARS)
        for piece in _BRACKETED_RE.split(name.strip())
        for part in _LIST_SEPARATOR_RE.split(piece)
    ]
    parts = [part for part in parts if part]
    if len(parts) > 1 and sum(actor_code(part) is not None for part in parts) >= coded:
        return parts
    return [name]


# Short function words of each language (data/function_words.json) that a scraper can glue to
# the name after them: "изСША", "ofUkraine", "wPolsce".
_FUNCTION_WORDS: Final[tuple[str, ...]] = tuple(
    sorted(
        {word for words in _data("function_words.json").values() for word in words},
        key=len,
        reverse=True,
    )
)


def _unglued_word(word: str) -> str:
    for function_word in _FUNCTION_WORDS:
        rest = word[len(function_word) :]
        # The seam shows as a change of case: "изСША", not "status" or "woman".
        if word.startswith(function_word) and len(rest) > 1 and rest[0].isupper():
            return f"{function_word} {rest}"
        head = word[: -len(function_word)]
        if word.endswith(function_word) and len(head) > 1 and head.isupper():
            return f"{head} {function_word}"  # "СШАи": an acronym, then the word
    return word


def unglue(text: str) -> str:
    """``text`` with a space put back where a short function word was glued to a name
    ("изСША" -> "из США", "СШАи" -> "США и"); words with no such seam are left alone
    ("status", "Russian", "iPhone" -> "i Phone" names nothing either way)."""
    return re.sub(r"\w+", lambda m: _unglued_word(m.group()), text)


def _name_pattern(name: str) -> tuple[_Word, ...]:
    """A name's words with the endings each may take: Cyrillic ones by the Russian and
    Ukrainian paradigms, Latin ones by the Polish ones ("Трамп" -> трамп:M)."""
    return _declined_cyrillic(name) or _declined_polish(name)


def declined_in(name: str, text: str) -> bool:
    """Whether ``text`` names ``name`` in some grammatical case: "Трампа" and "Trumpa" for
    "Трамп" and "Trump", "Владимира Зеленского" for "Владимир Зеленский". The name's words
    must stand whole and in order, each its stem and an ending of its paradigm."""
    pattern = _name_pattern(name)
    if not pattern:
        return False
    tokens = _key(text).split()
    tokens = [token.strip(_EDGE_CHARS) for token in tokens]
    return any(
        all(
            token.startswith(stem) and token[len(stem) :] in endings
            for token, (stem, endings) in zip(tokens[i : i + len(pattern)], pattern, strict=True)
        )
        for i in range(len(tokens) - len(pattern) + 1)
    )


_DEMONYM_RE: Final[re.Pattern[str]] = re.compile(r"(?:ian|ean|ish|ese|ch|can|man|i)$")


@cache
def is_demonym(word: str) -> bool:
    """Whether ``word`` is the English adjective of a state ("Russian", "British", "Israeli"),
    not its name: one word that resolves to a state through the hand table, is no ISO name and
    ends like a demonym. "Mali" and "Oman" are names; "Malian" would be the adjective."""
    index = _actor_index()
    key = _key(_actor_core(word))
    return (
        " " not in key
        and key in index.names
        and index.names[key] not in ORGANIZATION_CODES
        and _key(word) not in index.capitalised
        and not any(
            _key(getattr(country, attribute, "") or "") == key
            for country in pycountry.countries
            for attribute in ("name", "common_name")
        )
        and bool(_DEMONYM_RE.search(key))
    )


def actor_kind(name: str) -> ActorKind | None:
    """Classify an actor by its resolved code.

    Args:
        name: An actor's surface name, as accepted by :func:`actor_code`.

    Returns:
        "organization" for one of :data:`ORGANIZATION_CODES`, "state" for any other resolved
        code, and None when the name does not resolve (the caller then keeps its own guess).
    """
    code = actor_code(name)
    if code is None:
        return None
    return "organization" if code in ORGANIZATION_CODES else "state"


_MENTION_WORD_RE: Final[re.Pattern[str]] = re.compile(r"[\w'\u2019.-]+")
_MENTION_POSSESSIVE_RE: Final[re.Pattern[str]] = re.compile(r"['\u2019]s$")
# An article or preposition elided before a name, in French and Italian: "l'Ukraine",
# "d'Italie", "all'Ucraina", "dell'Unione europea".
_ELISION_RE: Final[re.Pattern[str]] = re.compile(
    r"(?:[ldnsjc]|qu|jusqu|[adns]ell|dall|sull|coll|nell|all|dell|un)['\u2019](?=[^\W\d_])",
    re.IGNORECASE,
)


# The same word runs come up again and again (every sentence is read by several rules); a code
# is a pure function of the name. A text's phrase names its state or organisation without the
# group words a model's name may carry ("members of NATO" is read as "NATO" at its own word).
@lru_cache(maxsize=1 << 16)
def _code_of(phrase: str) -> str | None:
    return _resolve(phrase, _APPARATUS)


def named_actors(text: str, *, across_lines: bool = True) -> dict[str, str]:
    """States and organisations named in a text: code -> the first phrase naming it, as the
    text writes it (without a possessive "'s"), in the order of first mention.

    Word runs of five words down to one are tried at each word, longest first, so that "the
    United States" wins over "States" and "the Coalition of the Willing" is found whole.

    Args:
        text: any text.
        across_lines: whether a name may run across a line break (not in the rules, which
            read an article's lines as separate statements).
    """
    found: dict[str, str] = {}
    for _, phrase, code in _actor_runs(text, across_lines):
        found.setdefault(code, phrase)
    return found


@lru_cache(maxsize=4096)
def _actor_runs(text: str, across_lines: bool = True) -> tuple[tuple[int, str, str], ...]:
    """At each word that starts a name, the longest run of five words down to one naming a
    state or organisation: (offset, the phrase as written, code)."""
    words = [
        (m.start() + (len(e.group(0)) if (e := _ELISION_RE.match(m.group(0))) else 0), m.end())
        for m in _MENTION_WORD_RE.finditer(text)
    ]
    runs: list[tuple[int, str, str]] = []
    for i in range(len(words)):
        for n in (5, 4, 3, 2, 1):
            if i + n > len(words):
                continue
            run = text[words[i][0] : words[i + n - 1][1]]
            if not across_lines and "\n" in run:
                continue
            phrase = _MENTION_POSSESSIVE_RE.sub("", run).strip(".-'\u2019")
            code = _code_of(phrase)
            if code is not None:
                runs.append((words[i][0] + run.index(phrase), phrase, code))
                break
    return tuple(runs)


def actor_spans(text: str) -> list[tuple[int, int, str]]:
    """Every naming of a state or organisation in a text, in order: (start, end, code).

    As :func:`named_actors` reads names, without overlaps: "the United States" is one naming,
    not also "United States" and "States".
    """
    spans: list[tuple[int, int, str]] = []
    for start, phrase, code in _actor_runs(text):
        if not spans or start >= spans[-1][1]:
            spans.append((start, start + len(phrase), code))
    return spans


# ---------------------------------------------------------------------------------------------
# Durations
# ---------------------------------------------------------------------------------------------

# Number words, English and Russian (data/numbers.json): every case form that can stand before a
# unit, the collective numerals that "сутки" takes ("двое суток") included.
_NUMBERS: Final[dict[str, float]] = _data("numbers.json")
_EN_NUMBERS: Final[dict[str, float]] = {w: v for w, v in _NUMBERS.items() if w.isascii()}
_RU_NUMBERS: Final[dict[str, float]] = {w: v for w, v in _NUMBERS.items() if not w.isascii()}

# Genitive stems that open compound adjectives (data/compound_prefixes.json): the tens in
# "семидесятидвухчасовой", the units in "трехдневный".
_PREFIXES: Final[dict[str, int]] = _data("compound_prefixes.json")
_RU_PREFIX_TENS: Final[dict[str, int]] = {w: v for w, v in _PREFIXES.items() if v >= 20}
_RU_PREFIX_UNITS: Final[dict[str, int]] = {w: v for w, v in _PREFIXES.items() if v < 20}

# Regex for a unit word mapped to its length in hours. Russian adjective forms ("72-часовой",
# "3-дневный") are the stem plus a short ending.
_UNIT_HOURS: Final[tuple[tuple[str, float], ...]] = (
    # Each unit in English and Russian, then, written after digits ("72 Stunden"), in
    # Ukrainian, German, French, Polish, Swedish, Italian, Spanish and Dutch.
    (
        r"hours?|hrs?|h|час(?:а|ов|у|ам|ах|ами)?|часов[а-я]{2,3}|ч"
        r"|годин[иау]?|stunden?|std|heures?|godzin[ay]?|godz|timm(?:e|ar|arna)|ore"
        r"|horas?|uur",
        1.0,
    ),
    (
        r"days?|день|дн(?:я|ей|ям|ях|ями|е)|дневн[а-я]{2,3}"
        r"|сут(?:ки|ок|кам|ках|очн[а-я]{2,3})?"
        r"|дн[іи]в|дні|доби|діб|tagen?|tage|jours?|dni|dnia|dzień|dag(?:ar|en)?|giorni|giorno"
        r"|días?",
        24.0,
    ),
    (
        r"weeks?|wks?|недел(?:я|и|ь|ю|е|ям|ях|ями|ьн[а-я]{2,3})|нед"
        r"|тижн(?:я|ів|і)|тиждень|wochen?|semaines?|tygodni(?:e|a)?|tydzień|veckor?|settiman[ae]"
        r"|semanas?|weken",
        168.0,
    ),
    # A month is counted as 30 days, the convention for deadlines.
    (
        r"months?|месяц(?:а|ев|у|ам|ах|ами|е|ем)?|месячн[а-я]{2,3}|мес"
        r"|місяц(?:я|ів|і)?|monaten?|monate|mois|miesi[ąę]c(?:e|y|a)?|månad(?:er)?|mes[ei]"
        r"|meses|maanden",
        720.0,
    ),
    (r"minutes?|mins?|минут(?:а|ы|у|ой|ам|ах|ами|н[а-я]{2,3})?|мин", 1.0 / 60.0),
)
# Durations are found in the folded text, so the units are matched folded too ("días" as
# "dias", "miesiąc" as "miesiac").
_UNIT_RES: Final[tuple[tuple[re.Pattern[str], float], ...]] = tuple(
    (re.compile(_fold(pattern)), hours) for pattern, hours in _UNIT_HOURS
)

_EN_WORD: Final[str] = _alternation(_EN_NUMBERS)
_RU_WORD: Final[str] = _alternation(_RU_NUMBERS)
# "a"/"an" count as one only directly before a unit or "hundred", so "a few days" finds nothing.
_EN_NUMBER: Final[str] = (
    rf"(?:(?:an?|{_EN_WORD})[\s-]+hundred(?:[\s-]+(?:and[\s-]+)?{_EN_WORD}(?:[\s-]+{_EN_WORD})?)?"
    rf"|{_EN_WORD}(?:[\s-]+{_EN_WORD})?|half(?:[\s-]+an?)?|an?)"
)
_RU_NUMBER: Final[str] = rf"{_RU_WORD}(?:\s+{_RU_WORD}){{0,2}}"
_NUMBER: Final[str] = (
    rf"(?P<num>\d+(?:[.,]\d+)?|{_EN_NUMBER}|{_RU_NUMBER})"
    r"(?P<half>\s+and\s+a\s+half|\s+с\s+половиной)?"
)
# A digit may touch its unit ("72h"); a number word needs a space or hyphen.
_SEPARATOR: Final[str] = r"(?:\s*-\s*|\s+|(?<=\d))"
_UNIT: Final[str] = "|".join(f"(?:{pattern.pattern})" for pattern, _ in _UNIT_RES)

_DURATION_RE: Final[re.Pattern[str]] = re.compile(
    rf"(?<!\w){_NUMBER}{_SEPARATOR}(?P<unit>{_UNIT})(?!\w)"
)
_COMPOUND_RE: Final[re.Pattern[str]] = re.compile(
    rf"(?<!\w)(?P<prefix>{_alternation(_RU_PREFIX_TENS)}{_alternation(_RU_PREFIX_UNITS)}?"
    rf"|{_alternation(_RU_PREFIX_UNITS)})"
    r"(?P<unit>часов|суточн|дневн|недельн|месячн|минутн)[а-я]{2,3}(?!\w)"
)
_HALF_UNIT_RE: Final[re.Pattern[str]] = re.compile(
    r"(?<!\w)пол(?P<unit>часа|суток|дня|недели|месяца)(?!\w)"
)
# A bare singular unit means one of it, but only after a word that makes it a span of time:
# "в течение суток", "within the hour". Elsewhere "day" or "дня" is rarely a duration.
_BARE_UNIT_RE: Final[re.Pattern[str]] = re.compile(
    r"(?<!\w)(?:within\s+(?:the\s+)?|в\s+течени[ея]\s+|в\s+пределах\s+|на\s+протяжении\s+"
    r"|за\s+|через\s+|не\s+позднее\s+|не\s+позже\s+)"
    r"(?P<unit>hour|day|week|month|часа|час|суток|сутки|дня|день|недели|неделю|месяца|месяц"
    r"|минуты|минуту)(?!\w)"
)
_COMPOUND_UNIT_HOURS: Final[dict[str, float]] = {
    "часов": 1.0,
    "суточн": 24.0,
    "дневн": 24.0,
    "недельн": 168.0,
    "месячн": 720.0,
    "минутн": 1.0 / 60.0,
}


def _unit_hours(unit: str) -> float:
    for pattern, hours in _UNIT_RES:
        if pattern.fullmatch(unit):
            return hours
    raise ValueError(f"not a unit: {unit!r}")  # unreachable: the unit came from _UNIT


def _digits_value(text: str) -> float:
    whole, sep, fraction = text.replace(",", ".").partition(".")
    if sep and "," in text and len(fraction) == 3:
        # "1,000" is a thousands separator; "1,5" is the Russian decimal comma.
        return float(whole + fraction)
    return float(text.replace(",", "."))


def _en_value(text: str) -> float:
    tokens = re.split(r"[\s-]+", text)
    if tokens[0] == "half":
        return 0.5
    total = 0.0
    for token in tokens:
        if token == "hundred":
            total = max(total, 1.0) * 100
        elif token in ("a", "an"):
            total += 1
        elif token != "and":
            total += _EN_NUMBERS[token]
    return total


# Number words are read from this project's own tables (extractor/core/data) rather than by
# number-parser: that library reads Russian and Ukrainian cases ("семидесяти двух") too, but
# not "a hundred" or "half", which deadlines use ("half an hour"), and it would not find the
# numbers: the duration pattern above must know the words to match them at all.
def _number_value(text: str) -> float:
    if text[0].isdigit():
        return _digits_value(text)
    if text.split()[0] in _RU_NUMBERS:
        return sum(_RU_NUMBERS[token] for token in text.split())
    return _en_value(text)


def _prefix_value(prefix: str) -> float:
    for tens_form, tens in _RU_PREFIX_TENS.items():
        if prefix.startswith(tens_form):
            return tens + _RU_PREFIX_UNITS.get(prefix[len(tens_form) :], 0)
    return _RU_PREFIX_UNITS[prefix]


def _durations(folded: str) -> Iterator[tuple[int, float]]:
    """Yield (offset, hours) for every duration any of the patterns finds."""
    for m in _DURATION_RE.finditer(folded):
        value = _number_value(m["num"]) + (0.5 if m["half"] else 0.0)
        yield m.start(), value * _unit_hours(m["unit"])
    for m in _COMPOUND_RE.finditer(folded):
        yield m.start(), _prefix_value(m["prefix"]) * _COMPOUND_UNIT_HOURS[m["unit"]]
    for m in _HALF_UNIT_RE.finditer(folded):
        yield m.start(), 0.5 * _unit_hours(m["unit"])
    for m in _BARE_UNIT_RE.finditer(folded):
        yield m.start("unit"), _unit_hours(m["unit"])


def duration_spans(text: str) -> list[tuple[int, int]]:
    """Where ``text`` writes a duration ``parse_hours`` would read: (start, end) offsets, in
    order, each span once. Linear in the text: one pass of each pattern over its folded form.

    Args:
        text: any text.

    Returns:
        The spans; empty when the text's folded form does not keep its length (its offsets
        would not line up).
    """
    folded = _fold(text)
    if len(folded) != len(text):
        return []
    patterns = (_DURATION_RE, _COMPOUND_RE, _HALF_UNIT_RE, _BARE_UNIT_RE)
    return sorted({m.span() for pattern in patterns for m in pattern.finditer(folded)})


def find_durations(text: str) -> list[str]:
    """Duration phrases as ``text`` writes them ("72 hours", "трое суток"), in order, once each.

    Args:
        text: any text.

    Returns:
        The phrases ``parse_hours`` would read, verbatim (see ``duration_spans``).
    """
    return list(dict.fromkeys(text[start:end] for start, end in duration_spans(text)))


def parse_hours(text: str) -> float | None:
    """Extract the length of the first duration in a response-time phrase, in hours.

    Ranges give their upper bound ("24-48 hours" -> 48.0), since a promise to act within a
    range is only broken once its longest end has passed. A month counts as 30 days.

    Args:
        text: A phrase such as "within 72 hours", "72-hour", "a week", "two weeks",
            "в течение 3 дней", "24 часа" or "трое суток"; numbers may be digits or English or
            Russian words.

    Returns:
        The duration in hours as a float (72.0), or None when there is no definite duration
        ("immediately", "as soon as possible", "within a few days").
    """
    found = min(_durations(_fold(text)), key=lambda item: item[0], default=None)
    if found is None:
        return None
    # Factors such as 1/60 would otherwise leak float noise (0.49999999999999994 for 30 min).
    return round(found[1], 6)


# ---------------------------------------------------------------------------------------------
# Territories
# ---------------------------------------------------------------------------------------------

# The territories articles name, by canonical English name (data/territories.json): the patterns
# a mention's folded words must match whole, and the ISO 3166-2 code where there is one. ISO
# 3166-2 names regions in their own languages ("Avtonomna Respublika Krym"), which no mention
# matches, so the canonical name is mapped, and a test checks every code against pycountry's
# ISO 3166-2 data. Donbas spans two oblasts and South Ossetia is no ISO subdivision: no code.
_TERRITORIES: Final[dict[str, dict[str, Any]]] = _data("territories.json")
TERRITORY_CODES: Final[dict[str, str]] = {
    name: territory["code"] for name, territory in _TERRITORIES.items() if territory["code"]
}


def territory_code(name: str) -> str | None:
    """The ISO 3166-2 code of a canonical territory name ("Crimea" -> "UA-43"), else None."""
    return TERRITORY_CODES.get(name)


_TERRITORY_RES: Final[tuple[tuple[re.Pattern[str], str], ...]] = tuple(
    (re.compile(pattern), name)
    for name, territory in _TERRITORIES.items()
    for pattern in territory["patterns"]
)
# The same patterns found inside a longer text, on word edges ("the remainder of Donbas").
_TERRITORY_SEARCH_RES: Final[tuple[tuple[re.Pattern[str], str], ...]] = tuple(
    (re.compile(rf"(?<![\w'])(?:{pattern.pattern})(?![\w'])"), name)
    for pattern, name in _TERRITORY_RES
)

# The canonical value of an exclusion that is a scope rather than a name: "the occupied
# territories", "territory not under the government's control", "оккупированные территории",
# "непідконтрольні території" (data/territories.json gives its patterns, in every language
# the territories are read in).
OCCUPIED_TERRITORIES: Final[str] = "occupied territories"

# The scope patterns, read in an article's own text (any case, either apostrophe).
_SCOPE_RES: Final[tuple[re.Pattern[str], ...]] = tuple(
    re.compile(
        r"(?<![\w'\u2019])(?:" + pattern.pattern.replace("'", "['\u2019]") + r")(?![\w'\u2019])",
        re.IGNORECASE,
    )
    for pattern, name in _TERRITORY_RES
    if name == OCCUPIED_TERRITORIES
)


def scope_spans(text: str) -> list[tuple[int, int]]:
    """Where ``text`` names an exclusion that is a scope rather than a place ("the occupied
    territories", "territory not under the government's control", "оккупированные
    территории"): (start, end) of each, in order, none overlapping another."""
    found = sorted((m.start(), m.end()) for r in _SCOPE_RES for m in r.finditer(text))
    spans: list[tuple[int, int]] = []
    for start, end in found:
        if not spans or start >= spans[-1][1]:
            spans.append((start, end))
    return spans


# Administrative words around a name; "Донецкая область" and "Donetsk oblast" are both Donetsk.
_TERRITORY_AFFIX_RE: Final[re.Pattern[str]] = re.compile(
    r"regions?|oblasts?|oblast'|province|peninsula|област[а-я]{0,3}|обл|полуостров[а-я]{0,2}"
)
_LOWERCASE_CONNECTORS: Final[frozenset[str]] = frozenset({"of", "and", "on", "the", "de", "la"})


def _title_word(word: str, first: bool) -> str:
    # Words that already carry capitals ("DPR", "McLean") were cased on purpose.
    if any(ch.isupper() for ch in word):
        return word
    if not first and word in _LOWERCASE_CONNECTORS:
        return word
    # Per hyphen part and never after an apostrophe, unlike str.title ("People'S").
    return "-".join(part[:1].upper() + part[1:] for part in word.split("-"))


def _territories_in(text: str) -> list[str]:
    """The known territories ``text`` names anywhere in it, in order, once each: at each
    place the longest naming, none overlapping another."""
    key = _key(text)
    found = sorted(
        (m.start(), -m.end(), name)
        for pattern, name in _TERRITORY_SEARCH_RES
        for m in pattern.finditer(key)
    )
    names: list[str] = []
    end = 0
    for start, negative_end, name in found:
        if start >= end:
            names.append(name)
            end = -negative_end
    return list(dict.fromkeys(names))


def territory_names(text: str) -> list[str]:
    """The canonical names of the territories one mention names, in order.

    A mention that is a known territory is that one ("the Crimean peninsula" -> Crimea); one
    that names known territories inside a longer phrase is those ("the remainder of Donbas"
    -> Donbas, "Donetsk and Luhansk" -> both), a place named inside a scope winning over the
    scope ("the occupied parts of Kherson" -> Kherson); a scope alone is
    :data:`OCCUPIED_TERRITORIES`. Anything else is itself, tidied as :func:`canonical_territory`
    tidies it.
    """
    if _territories_in(text) == [OCCUPIED_TERRITORIES]:
        return [OCCUPIED_TERRITORIES]  # a scope whose words the trimming would cut ("regions")
    trimmed = _territory_words(text)
    known = _known_territory(trimmed)
    if known is not None:
        return [known]
    inside = _territories_in(" ".join(trimmed))
    places = [name for name in inside if name != OCCUPIED_TERRITORIES]
    if places or inside:
        return places or inside
    tidied = " ".join(_title_word(word, i == 0) for i, word in enumerate(trimmed))
    return [tidied] if tidied else []


def canonical_territory(text: str) -> str:
    """Normalise a territory mention to its canonical English name.

    Args:
        text: A territory as written, in English, Russian or Ukrainian (a scope in Polish,
            German or French too), e.g. "the Crimean peninsula", "Донецкая область",
            "Zaporozhye", "ЛНР", "the remainder of Donbas", "оккупированные территории".

    Returns:
        The canonical English name ("Crimea", "Donetsk", "Zaporizhzhia", "Luhansk", ...) when
        the mention is known or names one known territory inside a longer phrase ("the
        remainder of Donbas" -> "Donbas"); "occupied territories" for a scope such as "the
        occupied territories" or "неподконтрольные территории"; otherwise the mention
        without a leading "the" or words such as "region"/"oblast", with lower-case words
        capitalised ("odesa oblast" -> "Odesa").
    """
    names = territory_names(text)
    if len(names) == 1:
        return names[0]
    trimmed = _territory_words(text)
    return " ".join(_title_word(word, i == 0) for i, word in enumerate(trimmed))


def _territory_words(text: str) -> list[str]:
    """A mention's words without a leading "the" or words such as "region"/"oblast"."""
    words = text.translate(MARK_TABLE).strip(_EDGE_CHARS).split()
    if words and words[0].lower() == "the":
        words = words[1:]
    return [w for w in words if not _TERRITORY_AFFIX_RE.fullmatch(_key(w))] or words


def _known_territory(words: list[str]) -> str | None:
    """The canonical name of a territory mention's words when it is a known territory."""
    key = _key(" ".join(words))
    return next((name for pattern, name in _TERRITORY_RES if pattern.fullmatch(key)), None)


def territories_named(text: str) -> set[str]:
    """Canonical names of the known territories a text names ("the Crimean peninsula" -> Crimea).

    Word runs of up to four words are tried at each word.
    """
    words = [m.group() for m in re.finditer(r"[\w'\u2019-]+", text)]
    found: set[str] = set()
    for i in range(len(words)):
        for n in (4, 3, 2, 1):
            run = words[i : i + n]
            name = (
                _known_territory(_territory_words(" ".join(run))) if i + n <= len(words) else None
            )
            if name is not None:
                found.add(name)
                break
    return found | set(_territories_in(text))


# ---------------------------------------------------------------------------------------------
# Language
# ---------------------------------------------------------------------------------------------

# py3langid's normalised probability of its best guess; below it the language is "und". Whole
# articles score 0.99 and more; a short or mixed snippet can fall below, and a wrong label is
# worse than none.
LANGUAGE_CONFIDENCE: Final[float] = 0.5

# Fewer letters than this and no detector can tell ("12:30 - 72 %", "NATO").
_MIN_LETTERS: Final[int] = 12


@cache
def _language_identifier() -> Any:
    # Imported and loaded on first use (numpy and the bundled model take about a second), so
    # commands that detect no language do not pay for it.
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


def detect_language(text: str) -> str:
    """The language of a text, by py3langid's bundled model (97 languages, no download).

    Args:
        text: Any text, such as an article body.

    Returns:
        The ISO 639-1 code py3langid gives ("en", "ru", "uk", "de", ...), or "und" when the text
        has fewer than a dozen letters or the detector's confidence is below
        :data:`LANGUAGE_CONFIDENCE`.
    """
    if sum(ch.isalpha() for ch in text) < _MIN_LETTERS:
        return "und"
    language, probability = _language_identifier().classify(text)
    return str(language) if probability >= LANGUAGE_CONFIDENCE else "und"
