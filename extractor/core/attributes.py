"""What code reads in an article about its proposal beyond the values: each guarantor's position,
the guarantee type, whether it is legally binding, and the stances states and organisations take.

Each attribute is read from cue words in the article's sentences (English and Russian):
"willing to", "is not in a position", "declined to say" in a guarantor's clause; "Article 5",
"peacekeepers", "neutral status" in the article; "legally binding"; "rejected", "premature",
"only if" where a state or organisation speaks. Every value filled carries the article's words
that give it: a guarantor's position the span from its naming to the cue, the type and whether
it is binding the sentence with the cue (added to the proposal's evidence), a stance the
sentence in which it is said. Where nothing is found, the attribute keeps its constant answer
(position ``unknown``, type ``other``, ``legally_binding`` null, no stance).

:data:`FILLED` names the attributes filled by default: those that score above their constant
answer on the 17 annotated articles (all four; docs/quality.md).
"""

# Russian words are this module's data, so Cyrillic letters that look Latin are expected in
# its strings.
# ruff: noqa: RUF001

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Final, Generic, Protocol, TypeVar

from ..schemas import Evidence, GuaranteeType, Guarantor, Position, Proposal, Stance, StanceKind
from .build import make_actor
from .grounding import widen_to_words
from .normalize import actor_spans

__all__ = ["ALL", "FILLED", "Passage", "fill"]

ALL: Final[frozenset[str]] = frozenset({"position", "guarantee_type", "legally_binding", "stances"})
# The attributes filled by default: those that beat their constant answer on the 17 annotated
# articles (docs/quality.md, "Position, guarantee type, legally binding and stances").
FILLED: Final[frozenset[str]] = ALL


class Passage(Protocol):
    """A sentence of the article with its offset (``strategies.Chunk``)."""

    @property
    def start(self) -> int: ...

    @property
    def text(self) -> str: ...


def _cues(pattern: str) -> re.Pattern[str]:
    """A case-blind pattern in which a space stands for any run of space (articles copied from
    the web separate words with no-break spaces)."""
    return re.compile(pattern.replace(" ", r"\s+"), re.IGNORECASE)


# --------------------------------------------------------------------------------------------
# Where a guarantor stands
# --------------------------------------------------------------------------------------------

# A condition set: "could only work if", "provided that", "при условии".
_ONLY_IF: Final[str] = (
    r"only (?:\w+ ){0,2}(?:if|when)|provided (?:that )?|on condition(?! of anonymity)|"
    r"depend\w* on|contingent (?:up)?on|conditional (?:up)?on|при условии|"
    r"только (?:если|при|в случае)"
)

# Cues read after a guarantor's naming, in its clause (``_clause_after``). Earlier kinds win a
# stretch of text: "declined to say whether ... willing" is undecided, not willing;
# "unwilling" and "not willing" decline, not consent.
_POSITION_CUES: Final[tuple[tuple[Position, re.Pattern[str]], ...]] = (
    (
        "undecided",
        _cues(
            r"declin\w* to (?:say|comment|discuss|specify|commit)|(?:has|have) yet to|"
            r"neither approved nor opposed|avoid\w* committing|refrain\w* (?:\w+ ){0,3}from "
            r"committing|too early|reluctan\w*|uncertain|unclear|undecided|no signals|"
            r"not yet decided|skeptic\w*|sceptic\w*|(?<!no\s)doubt\w*|ещё не решил|еще не решил|"
            r"пока не решил"
        ),
    ),
    (
        "declined",
        _cues(
            r"unwilling|not (?:\w+ )?willing|not ready|refus\w*|not in a position|rule[sd]? out|"
            r"ruling out|reject\w*|not going to|отказ\w*|отверг\w*|не готов\w*"
        ),
    ),
    ("conditional", _cues(_ONLY_IF)),
    # Ready to give, not ready to talk or to move on.
    (
        "willing",
        _cues(
            r"(?:\bwilling|willingness|ready|readiness|prepared|open|openness|agreed?)\W? "
            r"(?:\w+ ){0,2}to (?:\w+ )?(?:provid|giv|guarant|act|serv|offer|send|deploy|help|"
            r"support|sign|back|defend|protect|commit|participat|contribut|take part)|"
            r"sign\w* (?:a |the )?(?:declaration|agreement|pledge|deal|treaty)|"
            r"готов\w* (?:\w+ )?(?:предостав|да[тв]|гарантир|выступ|стать|направ|оказ|защи|"
            r"подписа)"
        ),
    ),
    ("opposed", _cues(r"(?<!lack\sof\s)(?<!\bno\s)\boppos\w*|\bпротив\b")),
)
# A guarantor named right after these put the guarantee forward itself ("peacekeepers, which
# have been pitched by the UK and France", "a coalition spearheaded by Britain").
_PROPOSED_BY: Final[re.Pattern[str]] = _cues(
    r"(?:propos\w*|offer\w*|pitch\w*|spearhead\w*|put forward|led|предложен\w*)\s+by\s+"
    r"(?:the\s+)?$"
)
# A naming inside an open question ("whether the United States would be willing") says nothing
# settled about the guarantor.
_QUESTION_BEFORE: Final[re.Pattern[str]] = _cues(r"\b(?:whether|ли) (?:\w+ ){0,2}$")
# A state named after a preposition ("negotiate with Russia only when", "the details of
# Ukraine's neutrality") is not the one that stands or speaks.
_OBJECT_BEFORE: Final[re.Pattern[str]] = _cues(
    r"\b(?:with|to|from|for|of|on|about|against|at|into|in|by|between|over|toward|towards|"
    r"с|со|к|от|для|о|об|на|в|против|между|у) (?:the )?$"
)
# A cue is read as the guarantor's up to the end of its clause, at most this far.
_REACH: Final[int] = 80
_CLAUSE_END: Final[re.Pattern[str]] = re.compile(r"[,;:.!?](?=\s|$)")


K = TypeVar("K", bound=str)


@dataclass(frozen=True)
class _Cue(Generic[K]):
    kind: K
    start: int  # in the article
    end: int


def _cues_in(
    stretch: str, offset: int, table: Sequence[tuple[K, re.Pattern[str]]]
) -> list[_Cue[K]]:
    """The cues of ``table`` found in ``stretch`` (offset in the article), an earlier kind
    claiming its words first."""
    taken: list[tuple[int, int]] = []
    found: list[_Cue[K]] = []
    for kind, pattern in table:
        for match in pattern.finditer(stretch):
            if any(match.start() < end and start < match.end() for start, end in taken):
                continue
            taken.append(match.span())
            found.append(_Cue(kind, offset + match.start(), offset + match.end()))
    return found


def _position_cues(passage: Passage, code: str) -> Iterator[_Cue[Position]]:
    """The cues a sentence gives about the guarantor ``code``, each spanning from its naming
    (or from the words before it that say it proposed). Namings joined by "and" or a comma
    ("pitched by the UK and France", "the UK and France have signed") share what is said
    before the first and after the last."""
    spans = actor_spans(passage.text)
    at = passage.start
    for index, (start, end, named) in enumerate(spans):
        if named != code:
            continue
        first, last = _coordinated(passage.text, spans, index)
        before = passage.text[max(0, spans[first][0] - 40) : spans[first][0]]
        if proposed := _PROPOSED_BY.search(before):
            begin = spans[first][0] - len(before) + proposed.start()
            yield _Cue("proposed", at + begin, at + end)
        elif _QUESTION_BEFORE.search(before):
            yield _Cue("undecided", at + start, at + end)
        elif not _OBJECT_BEFORE.search(before):
            after = spans[last][1]
            for cue in _cues_in(
                _clause_after(passage.text, spans, last), at + after, _POSITION_CUES
            ):
                yield _Cue(cue.kind, at + start, cue.end)


_JOINED: Final[re.Pattern[str]] = re.compile(
    r"^\s*(?:,|,?\s*and|&|и|,?\s*as well as)\s+(?:the\s+)?$", re.IGNORECASE
)


def _coordinated(text: str, spans: list[tuple[int, int, str]], index: int) -> tuple[int, int]:
    """The first and last of the namings joined to the ``index``-th one ("the US, the UK and
    France")."""
    first = last = index
    while first > 0 and _JOINED.match(text[spans[first - 1][1] : spans[first][0]]):
        first -= 1
    while last + 1 < len(spans) and _JOINED.match(text[spans[last][1] : spans[last + 1][0]]):
        last += 1
    return first, last


def _clause_after(text: str, spans: list[tuple[int, int, str]], index: int) -> str:
    """What the sentence says after its ``index``-th naming: up to the end of the clause, the
    next naming or :data:`_REACH` characters, whichever comes first."""
    end = spans[index][1]
    stop = min(spans[index + 1][0] if index + 1 < len(spans) else len(text), end + _REACH)
    clause = _CLAUSE_END.search(text, end + 1, stop)
    return text[end : clause.start() if clause else stop]


# Which position wins when the cues about a guarantor differ.
_PRECEDENCE: Final[tuple[Position, ...]] = (
    "declined",
    "conditional",
    "willing",
    "undecided",
    "opposed",
    "proposed",
)


def _position(cues: list[_Cue[Position]]) -> tuple[Position, _Cue[Position]] | None:
    """A guarantor's position from all the cues about it, and the cue that backs it; consent
    with a reservation ("open to ... but unwilling to sign up to Article 5") is conditional,
    backed by the reservation. None when there is no cue."""
    kinds = {cue.kind for cue in cues}
    if "willing" in kinds and "declined" in kinds:
        return "conditional", next(cue for cue in cues if cue.kind == "declined")
    for kind in _PRECEDENCE:
        for cue in cues:
            if cue.kind == kind:
                return kind, cue
    return None


def _evidence(text: str, start: int, end: int) -> Evidence:
    """The article's words from ``start`` to ``end``, widened to whole words."""
    start, end = widen_to_words(text, start, end)
    return Evidence(quote=text[start:end], start=start, end=end, match="exact")


def _positioned(guarantor: Guarantor, text: str, passages: Sequence[Passage]) -> Guarantor:
    code = guarantor.actor.code
    if code is None:
        return guarantor
    found = _position([cue for passage in passages for cue in _position_cues(passage, code)])
    if found is None:
        return guarantor
    position, backing = found
    return guarantor.model_copy(
        update={
            "position": position,
            "evidence": [*guarantor.evidence, _evidence(text, backing.start, backing.end)],
        }
    )


# --------------------------------------------------------------------------------------------
# The guarantee type and whether it binds
# --------------------------------------------------------------------------------------------

# In order of precedence on a tie. Neutrality with guarantees is the one type that holds others
# (a neutral Ukraine whose security others guarantee on the model of Article 5), so it wins
# wherever it is cued.
_TYPE_CUES: Final[tuple[tuple[GuaranteeType, re.Pattern[str]], ...]] = (
    (
        "neutrality_with_guarantees",
        _cues(
            r"neutral (?:status|state|country)|neutrality|нейтралитет\w*|"
            r"нейтральн\w* (?:статус|государств)\w*|non-bloc|non-aligned|внеблоков\w*|"
            r"renounc\w* (?:\S+ ){0,4}(?:aspiration|membership|member)|"
            r"not (?:to )?host foreign (?:military )?bases"
        ),
    ),
    (
        "non_enlargement_pledge",
        _cues(
            r"(?:will|would) not (?:join|be admitted|admit)|not join(?:ing)? (?:nato|the alliance)|"
            r"stop (?:its )?(?:expansion|enlargement|drawing closer)|"
            r"(?:отказ\w* (?:НАТО )?от (?:дальнейшего )?расширения)|нерасширени\w*"
        ),
    ),
    (
        "collective_defense",
        _cues(
            r"article\s*(?:5|five)\b|стать\w* 5\b|collective defen[cs]e|mutual defen[cs]e|"
            r"attack on (?:one|a member)\b[^.]{0,40}attack on (?:all|the alliance)"
        ),
    ),
    (
        "peacekeeping_force",
        _cues(
            r"peacekeep\w*|миротвор\w*|deploy\w* (?:\w+ ){0,3}(?:troops|forces)|"
            r"(?:send|sending|put) (?:\w+ ){0,2}troops|multinational force|"
            r"(?:european|reassurance|international) force|military hubs|boots on the ground"
        ),
    ),
    (
        "bilateral_agreements",
        _cues(
            r"bilateral (?:security )?(?:agreement|treat|pact|guarantee|deal)\w*|"
            r"двусторонн\w* (?:соглашени|договор|гарант)\w*"
        ),
    ),
    (
        "military_assistance",
        _cues(
            r"military (?:and economic |and financial )?(?:assistance|aid|support)|"
            r"(?:economic|security) and military assistance|security assistance|"
            r"arms supplies|weapons (?:supplies|deliveries|support)|военн\w* помощ\w*"
        ),
    ),
    ("assurances", _cues(r"\bassurances\b|\bзаверени\w*")),
)
# "This falls well short of a Nato-style Article Five commitment": a type named to be set aside.
_SET_ASIDE: Final[re.Pattern[str]] = _cues(
    r"short of|rather than|instead of|unlike|не как|в отличие от"
)

_BINDING: Final[re.Pattern[str]] = _cues(
    r"legally[- ]binding|юридически[- ]обязывающ\w*|"
    r"(?:treaty|договор\w*) (?:on|о) (?:security )?(?:guarantee|гарант)\w*"
)
_NOT_BINDING: Final[re.Pattern[str]] = _cues(
    r"non-binding|not (?:legally )?binding|юридически не обязывающ\w*|необязывающ\w*"
)


def _type_of(passages: Sequence[Passage]) -> tuple[GuaranteeType, Passage] | None:
    """The type cued in most sentences (precedence on a tie), with the first sentence cueing
    it; None when no sentence cues one."""
    found: dict[GuaranteeType, list[Passage]] = {}
    for passage in passages:
        for kind, pattern in _TYPE_CUES:
            match = pattern.search(passage.text)
            if match and not _SET_ASIDE.search(
                passage.text[max(0, match.start() - 40) : match.start()]
            ):
                found.setdefault(kind, []).append(passage)
    if not found:
        return None
    if "neutrality_with_guarantees" in found:
        return "neutrality_with_guarantees", found["neutrality_with_guarantees"][0]
    order = [kind for kind, _ in _TYPE_CUES]
    best = max(found, key=lambda kind: (len(found[kind]), -order.index(kind)))
    return best, found[best][0]


def _binding(passages: Sequence[Passage]) -> tuple[bool, Passage] | None:
    for passage in passages:
        if _NOT_BINDING.search(passage.text):
            return False, passage
        if _BINDING.search(passage.text):
            return True, passage
    return None


def _whole(passage: Passage) -> Evidence:
    return Evidence(
        quote=passage.text,
        start=passage.start,
        end=passage.start + len(passage.text),
        match="exact",
    )


# --------------------------------------------------------------------------------------------
# Stances
# --------------------------------------------------------------------------------------------

# A state or organisation speaks: named before one of these in the sentence.
_SPEAKS: Final[re.Pattern[str]] = _cues(
    r"\b(?:said|says|told|stated|warned|added|insisted|stressed|noted|reaffirmed|reiterated|"
    r"declared|announced|described|called|expressed|declined|rejected|welcomed|dismissed|"
    r"approved|opposed|supported|backed|endorsed|appear(?:s|ed)|believes?|considers?|"
    r"response|reaction|"
    r"заявил\w*|сказал\w*|отметил\w*|подчеркнул\w*|считает|выразил\w*|отверг\w*|"
    r"сообщил\w*|напомнил\w*|поддержал\w*)\b"
)
# At most this many words stand between the speaker's naming and its verb (a title and a name).
_SUBJECT_WORDS: Final[int] = 6
# In order of precedence: what is said with a reservation is conditional, a refusal to say is
# no comment, whatever else the sentence holds.
_STANCE_CUES: Final[tuple[tuple[StanceKind, re.Pattern[str]], ...]] = (
    (
        "no_comment",
        _cues(
            r"declin\w* to (?:say|comment|discuss)|(?:has|have) yet to comment|"
            r"not (?:yet )?commented|no comment|not officially seen|could not be reached|"
            r"отказал\w* от комментари\w*"
        ),
    ),
    (
        "neutral",
        _cues(
            r"neither approved nor opposed|neither supported nor opposed|cautious|"
            r"refrain\w* (?:\w+ ){0,3}from committing|avoid\w* committing|non-?committal"
        ),
    ),
    ("conditional", _cues(_ONLY_IF + r"|(?:not|won't|no) [^.]{0,60}until")),
    (
        "opposes",
        _cues(
            r"reject\w*|\boppos\w*|legitimate target|unacceptable|red lines?|not accept|"
            r"not in a position|"
            r"отверг\w*|неприемлем\w*|\bпротив\b"
        ),
    ),
    (
        "skeptical",
        _cues(
            r"skeptic\w*|sceptic\w*|premature|(?<!no\s)doubt\w*|balk\w*|not (?:yet )?fleshed out|"
            r"long way off|преждевременн\w*|сомнева\w*|сомнени\w*"
        ),
    ),
    (
        "supports",
        _cues(
            r"\bsupport\w*|welcom\w*|in favou?r|positive\w*|essential|considerable progress|"
            r"step forward|поддерж\w*|приветств\w*"
        ),
    ),
)


_STANCE_ORDER: Final[list[StanceKind]] = [kind for kind, _ in _STANCE_CUES]


def _speaks_for_itself(sentence: str, span: tuple[int, int, str]) -> bool:
    """Whether a naming can be the one that speaks (not the object of a preposition)."""
    return not _OBJECT_BEFORE.search(sentence[max(0, span[0] - 40) : span[0]])


def _speaking(sentence: str) -> tuple[tuple[int, int, str], int] | None:
    """The state or organisation that speaks in a sentence, and where its verb starts: the
    first speaking verb (or "response", "reaction") with a naming close before it and no comma
    between (the subject: "Kremlin spokesman Dmitry Peskov said", "Russia's response", not
    "the details of Ukraine's neutrality ..., the person added")."""
    spans = [s for s in actor_spans(sentence) if _speaks_for_itself(sentence, s)]
    for verb in _SPEAKS.finditer(sentence):
        before = [s for s in spans if s[1] <= verb.start()]
        between = sentence[before[-1][1] : verb.start()] if before else ","
        if "," not in between and len(between.split()) <= _SUBJECT_WORDS:
            return before[-1], verb.start()
    return None


def _stances(passages: Sequence[Passage]) -> list[Stance]:
    """Each state's or organisation's stance, from the sentences where it speaks, as the
    sentence's cue of highest precedence gives it; one stance of each kind per state."""
    stances: dict[tuple[str, StanceKind], Stance] = {}
    for passage in passages:
        speaking = _speaking(passage.text)
        cues = _cues_in(passage.text, passage.start, _STANCE_CUES)
        if speaking is None or not cues:
            continue
        stance = min(cues, key=lambda cue: _STANCE_ORDER.index(cue.kind)).kind
        (start, end, code), verb = speaking
        actor = make_actor(passage.text[start:end])
        if actor is None or actor.code != code or (code, stance) in stances:
            continue
        speaker = make_actor(_speaker(passage.text, start, end, verb), fallback="person")
        stances[code, stance] = Stance(
            speaker=speaker or actor, actor=actor, stance=stance, evidence=[_whole(passage)]
        )
    return list(stances.values())


_TITLE_WORDS: Final[re.Pattern[str]] = _cues(
    r"(?:spokes\w*|president|minister|secretary|envoy|official|chancellor|negotiator|"
    r"representative|prime|deputy|foreign|general|ambassador|leader|пресс-секретар\w*|"
    r"президент\w*|министр\w*|генсек\w*|глав\w*)$"
)


def _speaker(sentence: str, start: int, end: int, verb: int) -> str:
    """The speaker as the sentence writes it: the naming, with the title and name after it
    ("Kremlin spokesman Dmitry Peskov")."""
    words = re.finditer(r"\S+", sentence[end:verb])
    stop = end
    for word in words:
        token = word.group(0).strip(",")
        if not (token[:1].isupper() or _TITLE_WORDS.search(token)):
            break
        stop = end + word.start() + len(token)
    return sentence[start:stop]


# --------------------------------------------------------------------------------------------
# Filling a proposal
# --------------------------------------------------------------------------------------------


def fill(
    proposal: Proposal,
    text: str,
    passages: Sequence[Passage],
    fields: frozenset[str] = FILLED,
) -> Proposal:
    """``proposal`` with the attributes in ``fields`` read from ``passages``.

    Args:
        proposal: A proposal whose attributes hold their constant answers.
        text: The article (every passage's offset indexes it).
        passages: The article's sentences, in order.
        fields: The attributes to fill, of :data:`ALL`.

    Returns:
        The proposal with each attribute found filled and its words added to the evidence: a
        guarantor's position to the guarantor's, the type and whether it binds to the
        proposal's, and a stance with the sentence that gives it.
    """
    update: dict[str, object] = {}
    evidence = list(proposal.evidence)
    if "position" in fields:
        update["guarantors"] = [_positioned(g, text, passages) for g in proposal.guarantors]
    if "guarantee_type" in fields and (typed := _type_of(passages)) is not None:
        update["guarantee_type"] = typed[0]
        evidence.append(_whole(typed[1]))
    if "legally_binding" in fields and (binding := _binding(passages)) is not None:
        update["legally_binding"] = binding[0]
        evidence.append(_whole(binding[1]))
    if "stances" in fields:
        update["stances"] = _stances(passages)
    update["evidence"] = sorted(dict.fromkeys(evidence), key=lambda e: e.start)
    return proposal.model_copy(update=update)
