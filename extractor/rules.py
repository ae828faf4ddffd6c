"""What code alone finds in an article: its paragraphs and sentences, the states and
organisations it names and in what role, deadlines, territories named where it speaks of an
exclusion, and conditions; located in the text. The candidates every strategy starts from, and
the whole of the ``rules`` strategy."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from .build import evidence_of
from .grounding import locate
from .normalize import duration_spans, named_actors
from .schemas import Dropped, Evidence

# Code decides whether a piece of text can hold an answer before the model is asked about it.
# Code decides whether a chunk can hold the answer before the model is asked about it.
_GUARANTEE = re.compile(
    r"guarant|safeguard|security|article\s*5|defen[cs]e pact|гарант|безопасност", re.IGNORECASE
)
_TERRITORY = re.compile(
    r"crimea|krym|крым|donbas|донбас|donetsk|донецк|luhansk|lugansk|луганск|zaporiz|zaporoz|"
    r"запорож|kherson|херсон|sevastopol|севастопол|transnistri|приднестров|occupied|оккупир",
    re.IGNORECASE,
)


_TERRITORY_MENTION = re.compile(
    rf"[\w'\u2019-]*(?:{_TERRITORY.pattern})[\w'\u2019-]*", re.IGNORECASE
)


_EXCLUSION = re.compile(
    r"exclu|not be (?:part|covered|included)|not cover|except|outside|apart from|"
    r"исключ|кроме|за исключением|не распростран|не входи",
    re.IGNORECASE,
)
_DEADLINE_BEFORE = re.compile(
    r"(?:within|respond|react|no later than|deadline|в течение|за|через|не позднее)\W*(?:\w+\W+)?$",
    re.IGNORECASE,
)
_DEADLINE_AFTER = re.compile(
    r"^\W*(?:max|maximum|at most|deadline|to respond|to react)", re.IGNORECASE
)


def territory_mentions(text: str) -> list[str]:
    """Territories named in a text that speaks of leaving something out, once each."""
    if not _EXCLUSION.search(text):
        return []
    return list(dict.fromkeys(m.group(0) for m in _TERRITORY_MENTION.finditer(text)))


def actor_mentions(text: str) -> list[str]:
    """States and organisations named in a text, as it writes them, first mention of each code
    (``normalize.named_actors``; a name does not run across a line break)."""
    return list(named_actors(text, across_lines=False).values())


def deadlines(text: str) -> list[str]:
    """Durations written as a deadline ("within 72 hours", "72 hours max"), not as an idiom
    ("would one day join"): each phrase once, in the order of its first appearance, if any of
    its appearances reads as a deadline. One look at each duration, so linear in the text."""
    first: dict[str, int] = {}
    deadline: set[str] = set()
    for start, end in duration_spans(text):
        phrase = text[start:end]
        first.setdefault(phrase, start)
        if phrase not in deadline and (
            _DEADLINE_BEFORE.search(text[max(0, start - 30) : start])
            or _DEADLINE_AFTER.search(text[end : end + 20])
        ):
            deadline.add(phrase)
    return [phrase for phrase in first if phrase in deadline]


@dataclass(frozen=True)
class Chunk:
    start: int
    text: str


def paragraphs(text: str) -> list[Chunk]:
    """Non-empty paragraphs of ``text`` (split on blank lines, else line breaks), with offsets."""
    separator = r"\n\s*\n" if re.search(r"\n\s*\n", text) else r"\n"
    out: list[Chunk] = []
    position = 0
    for match in re.finditer(separator, text + "\n\n"):
        piece = text[position : match.start()]
        if piece.strip():
            lead = len(piece) - len(piece.lstrip())
            out.append(Chunk(position + lead, piece.strip()))
        position = match.end()
    return out


@dataclass
class Found:
    """A value the model gave, located in the article."""

    value: str
    evidence: Evidence


def found_in(value: str, piece: Chunk) -> Found | None:
    """``value`` located in ``piece`` (offsets in the article), or None when it is not there."""
    span = locate(value, piece.text)
    if span is None:
        return None
    return Found(value, evidence_of(span, piece.text, value, piece.start))


@dataclass
class Findings:
    values: dict[str, list[Found]] = field(default_factory=dict)
    dropped: list[Dropped] = field(default_factory=list)

    def add(self, field_name: str, found: Found) -> None:
        self.values.setdefault(field_name, []).append(found)

    def of(self, field_name: str) -> list[Found]:
        return self.values.get(field_name, [])


# --------------------------------------------------------------------------------------------
# Rules: what code alone finds
# --------------------------------------------------------------------------------------------

# Sentence ends: ., ! or ? (a closing quote may follow), then space and a capital, digit or
# opening quote. Written here rather than taken from a library: the maintained splitters either
# need a downloaded model (NLTK's punkt) or are not packaged for this project's platforms, and
# an end missed only makes a sentence longer, which a rule tolerates.
_SENTENCE_END = re.compile(
    r"(?<=[.!?\u2026])[\"'\u201d\u00bb]?\s+(?=[\"'\u201c\u00ab(]?[A-Z\u0410-\u042f\u04010-9])|"
    # a line break, or a full stop with no space before a capitalised word (web copy of Russian
    # articles often drops that space)
    r"\s*\n\s*|(?<=[a-z\u0430-\u044f\u0451)\u0410-\u042f][.!?])(?=[A-Z\u0410-\u042f\u0401][a-z\u0430-\u044f\u0451])"
)
_GUARANTEE_WORD = re.compile(r"guarant|гарант", re.IGNORECASE)
_PROPOSING = re.compile(
    r"propos|offer|suggest|put forward|call(?:s|ed|ing)? for|demand|insist|"
    r"предлож|предлага|требова|требу|выдвину|настаива",
    re.IGNORECASE,
)
_CONDITION_MARK = re.compile(
    r"\bif\b|\bprovided\b|\bon condition\b|\bin exchange\b|\bin return\b|\bunless\b|"
    r"\bonly\b|would have to|\bmust\b|\brequire|"
    r"при условии|в обмен|если|только|должн",
    re.IGNORECASE,
)


# A full stop after these ends an abbreviation ("St. Petersburg", "Mr. Zelensky", "U.S."),
# not a sentence.
_ABBREVIATION = re.compile(r"(?:\b(?:St|Mr|Mrs|Ms|Dr|Gen|Sen|Rep|Gov|Jr|No|vs)|\b[A-Z])\.$")


def sentences(piece: Chunk) -> list[Chunk]:
    """The sentences of ``piece``, with offsets in the article."""
    out: list[Chunk] = []
    start = position = 0
    for match in [*_SENTENCE_END.finditer(piece.text), None]:
        # A closing quote after the full stop belongs to the sentence it closes.
        end = match.start() + len(match.group(0).rstrip()) if match else len(piece.text)
        if match is not None and _ABBREVIATION.search(piece.text, start, match.start()):
            continue
        sentence = piece.text[start:end].strip()
        if sentence:
            out.append(Chunk(piece.start + piece.text.index(sentence, start), sentence))
        start = position = match.end() if match else len(piece.text)
    del position
    return out


# A guarantee word in the sense of security ("security guarantees", "guarantors", "a guarantee
# that Ukraine will not join NATO", "гарантии безопасности"), not "guaranteed life" or
# "guarantee the rights of the media".
_SECURITY_SENSE = re.compile(
    r"secur|defen[cs]|protect|guarantor|\bsafe|\bnato\b|alliance|neutral|"
    r"безопасн|защит|нато|альянс|нейтрал|гарант(?:ы|ом|ами|ов|а)?\b",  # noqa: RUF001
    re.IGNORECASE,
)
# "did not mention ... security guarantees", "without guarantees", "не дали гарантий".
_NEGATED = re.compile(
    r"\b(?:not|no|never|without|neither|nor)\b[^.;:,]{0,60}guarant|"
    r"(?:\bне\b|\bбез\b|\bни\b)[^.;:,]{0,40}гарант",  # noqa: RUF001
    re.IGNORECASE,
)
# The state whose security is guaranteed: "security guarantees for Ukraine", "guarantor of
# Ukraine's security", "offer Ukraine a guarantee", "гарантии безопасности Украине".
_FOR_BEFORE = re.compile(
    r"(?:guarante\w*|guarantor\w*|security|assurances?|protection)\s+(?:\w+\s+)?"
    r"(?:for|to|of)\s+(?:the\s+)?$|"
    r"(?:гарант\w*|безопасност\w*)\s+(?:для\s+)?$",
    re.IGNORECASE,
)
_FOR_AFTER = re.compile(
    r"^['\u2019]s\s+(?:\w+[- ]term\s+|own\s+|future\s+)?(?:security|sovereignty|defen[cs]e)|"
    r"^\s+(?:a|an|the)\s+(?:\w+\s+)?(?:security\s+)?guarante",
    re.IGNORECASE,
)
# "the Budapest Memorandum", "the Minsk agreements", "the Istanbul talks": a place in a name.
_NAMED_AFTER = re.compile(
    r"^\s+(?:memorandum|accords?|agreements?|protocol|communiqu|format|process|talks|"
    r"press conference|summit|меморандум|соглашени|протокол|формат|переговор|саммит)",
    re.IGNORECASE,
)


def _mentions(sentence: str) -> Iterator[tuple[str, int, int]]:
    """States and organisations named in a sentence: (name as written, start, end)."""
    for name in actor_mentions(sentence):
        at = sentence.find(name)
        while at >= 0:
            yield name, at, at + len(name)
            at = sentence.find(name, at + len(name))


def beneficiary_mentions(sentence: str) -> list[str]:
    """States named in a guarantee sentence as the one whose security is guaranteed."""
    return list(
        dict.fromkeys(
            name
            for name, start, end in _mentions(sentence)
            if _FOR_BEFORE.search(sentence[max(0, start - 50) : start])
            or _FOR_AFTER.search(sentence[end : end + 40])
        )
    )


def guarantee_mentions(sentence: str) -> list[str]:
    """States and organisations a sentence in a guarantee context names, leaving out those it
    names as the protected state or as part of a name ("the Budapest Memorandum")."""
    protected = set(beneficiary_mentions(sentence))
    in_names = {name for name, _, end in _mentions(sentence) if _NAMED_AFTER.search(sentence[end:])}
    return [name for name in actor_mentions(sentence) if name not in protected | in_names]


def _proposer_mention(sentence: str) -> str | None:
    """The state or organisation named last before the first proposing verb of a sentence."""
    verb = _PROPOSING.search(sentence)
    if verb is None:
        return None
    named = list(_mentions(sentence[: verb.start()]))
    return max(named, key=lambda mention: mention[1])[0] if named else None


_OCCUPIED = re.compile(r"occupied|оккупир", re.IGNORECASE)


def is_guarantee_sentence(sentence: str) -> bool:
    """Whether a sentence speaks of security guarantees as something given or proposed."""
    return bool(
        _GUARANTEE_WORD.search(sentence)
        and _SECURITY_SENSE.search(sentence)
        and not _NEGATED.search(sentence)
    )


def rules_findings(text: str) -> Findings:
    """What code finds with no model, located in ``text``.

    In each paragraph that speaks of guarantees or security: every state or organisation named
    in a sentence with a guarantee word ("guarant", "гарант") is a guarantor, and the one named
    before a proposing verb there ("proposed", "offered", "предложил") the proposer; durations
    written as deadlines are response times; territories named in a sentence that speaks of an
    exclusion are excluded territories; a sentence with a guarantee word and a condition word
    ("if", "provided", "only", "при условии") is a condition.
    """
    findings = Findings()

    def add(field_name: str, values: list[str], sentence: Chunk) -> None:
        for value in values:
            found = found_in(value, sentence)
            if found is not None:
                findings.add(field_name, found)

    for paragraph in paragraphs(text):
        if not _GUARANTEE.search(paragraph.text):
            continue
        for sentence in sentences(paragraph):
            add("response_time", deadlines(sentence.text), sentence)
            territories = territory_mentions(sentence.text)
            add(
                "excluded_territories", [t for t in territories if not _OCCUPIED.match(t)], sentence
            )
            if not is_guarantee_sentence(sentence.text):
                continue
            add("beneficiary", beneficiary_mentions(sentence.text), sentence)
            add("guarantors", guarantee_mentions(sentence.text), sentence)
            proposer = _proposer_mention(sentence.text)
            add("proposer", [proposer] if proposer else [], sentence)
            if _CONDITION_MARK.search(sentence.text):
                add("conditions", [sentence.text], sentence)
    return findings


def about_guarantees(text: str) -> bool:
    """Whether a paragraph speaks of guarantees or security at all (where the rules look)."""
    return bool(_GUARANTEE.search(text))


def proposes(text: str) -> bool:
    """Whether a sentence has a proposing or demanding word ("proposed", "offer", "demands")."""
    return bool(_PROPOSING.search(text))
