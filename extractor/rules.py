"""What code alone finds in an article: its paragraphs and sentences, the states and
organisations it names and in what role, deadlines, territories named where it speaks of an
exclusion, and conditions; located in the text. The candidates every strategy starts from, and
the whole of the ``rules`` strategy."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache

from .build import evidence_of
from .grounding import locate
from .normalize import duration_spans, is_demonym, named_actors
from .schemas import Dropped, Evidence

# A commitment to defend a state that is a security guarantee in all but the word: "pledge to
# defend Ukraine", "send troops to Ukraine", "peacekeepers", "a backstop", "mutual defence".
_COMMITMENT = re.compile(
    r"\b(?:pledg|commit|promis|vow|ready|willing|prepared)\w*\s+(?:\w+\s+){0,2}?to\s+"
    r"(?:defend|protect|come to|fight for|intervene)|"
    r"\b(?:willing|ready|readiness|prepared)\w*\s+to\s+(?:participate|contribute|take part)|"
    r"\bcom(?:e|ing) to (?:\w+\s+){0,2}?(?:aid|defen[cs]e|assistance|rescue)|"
    r"\bmutual[- ]defen[cs]e|\bdefen[cs]e (?:pact|treaty|commitment)|"
    r"\b(?:send(?:s|ing)?|sent|deploy\w*|station(?:s|ed|ing)?|plac(?:e|es|ed|ing)|"
    r"put(?:s|ting)?)\s+(?:\S+\s+){0,3}?"
    r"(?:troops|forces|soldiers|contingents?|peacekeepers)|"
    r"\bpeace-?keep\w*|\breassurance force|\bbackstop|\bsecurity (?:commitment|arrangement)s?|"
    r"обязательств\w* (?:\w+ )?(?:защи|оборон)|"
    r"\b(?:ввест|ввод|размест|направ|отправ|разверн|развертыв)\w* (?:\S+ ){0,4}?"
    r"(?:войск|контингент|миротвор|сил\w* (?:сдерживани|безопасност|поддержк))|миротвор",
    re.IGNORECASE,
)
# A paragraph the rules read, and a chunk a field strategy asks about: one that speaks of
# guarantees, security or a commitment to defend.
_GUARANTEE = re.compile(
    r"guarant|safeguard|security|article\s*5|defen[cs]e pact|гарант|безопасност|"
    + _COMMITMENT.pattern,
    re.IGNORECASE,
)
_TERRITORY = re.compile(
    r"crimea|krym|крым|donbas|донбас|donetsk|донецк|luhansk|lugansk|луганск|zaporiz|zaporoz|"
    r"запорож|kherson|херсон|sevastopol|севастопол|transnistri|приднестров|occupied|оккупир|"
    r"ordlo|ордло|orlo\b|орло\b",
    re.IGNORECASE,
)


_TERRITORY_MENTION = re.compile(
    rf"[\w'\u2019-]*(?:{_TERRITORY.pattern})[\w'\u2019-]*", re.IGNORECASE
)


# Leaving a territory out of a guarantee, or setting it aside to be settled apart: "would be
# excluded", "not covered", "a separate point of the treaty", "its status to be negotiated over
# 15 years", "вынесены отдельным пунктом".
_EXCLUSION = re.compile(
    r"exclu|not be (?:part|covered|included)|not cover|except|outside|apart from|"
    r"separate(?:ly)?\s+(?:\w+\s+)?(?:point|item|clause|track|negotiation|talk)|set aside|"
    r"(?:status|dispute)\s+(?:\S+\s+){0,4}?(?:settled|negotiated|resolved|decided)|"
    r"исключ|кроме|за исключением|не распростран|не входи|отдельн\w* пункт|"
    r"(?:статус\w*|спор\w*)\s+(?:\S+\s+){0,4}?(?:урегулир|разреш|переговор|решен)|"
    r"(?:переговор\w*|урегулир\w*|разреш\w*)\s+(?:\S+\s+){0,3}?(?:по\s+)?(?:статус|спор)",
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
# opening quote. Written here rather than taken from a library: NLTK's punkt needs a downloaded
# model, and pysbd (rule-based, no model) split the 17 annotated articles (100,882 characters)
# in 519 ms against 14 ms here, 37 times slower, with its spans carrying the spaces after each
# sentence; an end missed only makes a sentence longer, which a rule tolerates.
_SENTENCE_END = re.compile(
    r"(?<=[.!?\u2026])[\"'\u201d\u00bb]?\s+(?=[\"'\u201c\u00ab(]?[A-Z\u0410-\u042f\u04010-9])|"
    # a line break, or a full stop with no space before a capitalised word (web copy of Russian
    # articles often drops that space)
    r"\s*\n\s*|(?<=[a-z\u0430-\u044f\u0451)\u0410-\u042f][.!?])(?=[A-Z\u0410-\u042f\u0401][a-z\u0430-\u044f\u0451])"
)
_GUARANTEE_WORD = re.compile(r"guarant|assurance|гарант|заверени", re.IGNORECASE)
_PROPOSING = re.compile(
    r"propos|offer|suggest|put forward|call(?:s|ed|ing)? for|demand|insist|"
    r"\bwants?\b|\bseeks?\b|\bsought\b|\brequest|\basks?\b|\basked\b|"
    r"предлож|предлага|требова|требу|выдвину|настаива|добива|просит|просил",
    re.IGNORECASE,
)
# Asking for guarantees rather than offering them.
_REQUESTING = re.compile(
    r"demand|insist|call(?:s|ed|ing)? for|\bwants?\b|\bwanted\b|\bseeks?\b|\bsought\b|"
    r"\brequest|\basks?\b|\basked\b|требова|требу|настаива|добива|хоч|просит|просил",
    re.IGNORECASE,
)
# "Ukraine proposed that the US guarantee its security": the proposer is the one protected.
_OWN_SECURITY = re.compile(
    r"\b(?:its|their)\s+(?:own\s+)?(?:security|sovereignty|defen[cs]e|safety)|"
    r"\bсво\w*\s+безопасност",
    re.IGNORECASE,
)
# Whose proposal it is: "Ukraine's proposal", "the US draft plan", "Kyiv's proposals", "a proposal
# by Turkey", "предложения Украины", "российские требования".
_PROPOSAL_NOUN = (
    r"(?:proposals?|plans?|peace plan|demands?|initiatives?|offers?|requests?|draft|"
    r"предложени\w*|план\w*|требовани\w*|инициатив\w*)"
)
_OWNS_AFTER = re.compile(
    rf"^(?:['\u2019]s)?\s+(?:[\w-]+\s+){{0,2}}?{_PROPOSAL_NOUN}\b|^-proposed\b", re.IGNORECASE
)
_OWNS_BEFORE = re.compile(
    rf"{_PROPOSAL_NOUN}\s+(?:(?:put forward|made|handed|sent)\s+)?(?:by|from|of)\s+(?:the\s+)?$|"
    r"(?:предложени\w*|план\w*|требовани\w*|инициатив\w*)\s+$",
    re.IGNORECASE,
)
_THEIR_BEFORE = re.compile(r"\b(?:its|their|his|her|е[её]|его|их)\s+$", re.IGNORECASE)
# Names a proposing verb's subject does not follow: "handed Russia a proposal", "talks with Russia".
_OBJECT_BEFORE = re.compile(
    r"\b(?:to|with|from|by|for|of|against|handed|gave|give|sent|told|tell|asked|urged|a|an|"
    r"к|с|от|для|против)\s+(?:the\s+)?$",
    re.IGNORECASE,
)
_CONDITION_MARK = re.compile(
    r"\bif\b|\bprovided\b|\bon condition\b|\bin exchange\b|\bin return\b|\bunless\b|"
    r"\bonly\b|would have to|\bmust\b|\brequire|\bunder the (?:proposal|plan|deal)\b|"
    r"при условии|в обмен|если|только|должн|в случае",
    re.IGNORECASE,
)
# The terms commonly attached to a security guarantee, in English and Russian: neutrality or
# staying out of an alliance (and the alliance not enlarging), no foreign bases or troops, no
# nuclear weapons, a referendum or ratification, a ceasefire first, another party's consent or
# veto, limits on armed forces.
_TERMS = re.compile(
    r"neutral|non-?bloc|non-?aligned|non-?nuclear|\bjoin(?:s|ing)?\b|membership|accession|"
    r"\badmit|enlargement|expansion|become a (?:[\w-]+ )?member|military bases|"
    r"foreign (?:military|troops|forces)|"
    r"referendum|ratif|ceasefire|cease-fire|truce|\bveto|consent|demilitari|armed forces|"
    r"нейтрал|внеблок|безъядер|вступ\w*|член\w*|расширени|при[её]м\w* в|баз[аыу]\b|"
    r"контингент|референдум|ратифик|прекрат\w* огонь|перемири|соглас\w*|вооруж\w* сил",
    re.IGNORECASE,
)
# ... stated as a condition, or as what a party would be bound to do or not to do.
_BOUND = re.compile(
    r"\bif\b|\bonly\b|\bprovided\b|\bon condition\b|\bin exchange\b|\bin return\b|"
    r"\bunless\b|\bin the event\b|would have to|\bmust\b|\bshall\b|"
    r"\bwould (?:\w+ )?(?:pledge|commit|agree|renounce|declare|accept|refrain|not)\b|"
    r"\bwill not\b|\bwon['\u2019]t\b|\bagree[sd]? to\b|\bpledg\w* (?:not )?to\b|"
    r"\bcommit\w* to\b|\brenounc\w*|\bdemand\w* that\b|\brequire[sd]?\b|"
    r"при условии|если|только|в случае|в обмен|долж\w*|обязу\w*|обязан\w*|"
    r"\bне будем|\bне будет|откаж\w*|отказ\w* от|будет готов\w*",
    re.IGNORECASE,
)
# What marks a sentence outside the paragraphs about guarantees as a proposal's own terms.
_PROPOSAL_CUE = re.compile(
    r"propos|\bplan\b|\bdraft|\bdemand|\boffer|\bdeal\b|agreement|treaty|document|"
    r"\bpoints?\b|\bagree|предлож|\bплан|проект|требова|договор|соглашени|пункт",
    re.IGNORECASE,
)


# A full stop after these ends an abbreviation ("St. Petersburg", "Mr. Zelensky", "U.S."),
# not a sentence.
_ABBREVIATION = re.compile(r"(?:\b(?:St|Mr|Mrs|Ms|Dr|Gen|Sen|Rep|Gov|Jr|No|vs)|\b[A-Z])\.$")


# A list item's marker ("- ", "• ", "1. ") is no part of its sentence.
_LIST_MARK = re.compile(r"^(?:[-\u2013\u2014\u2022*\u00b7]|\d{1,2}[.)])\s+")


def sentences(piece: Chunk) -> list[Chunk]:
    """The sentences of ``piece``, with offsets in the article."""
    out: list[Chunk] = []
    start = position = 0
    for match in [*_SENTENCE_END.finditer(piece.text), None]:
        # A closing quote after the full stop belongs to the sentence it closes.
        end = match.start() + len(match.group(0).rstrip()) if match else len(piece.text)
        if match is not None and _ABBREVIATION.search(piece.text, start, match.start()):
            continue
        sentence = _LIST_MARK.sub("", piece.text[start:end].strip())
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
    r"безопасн|защит|нато|альянс|нейтрал|гарант(?:ы|ом|ами|ов|а)?\b",
    re.IGNORECASE,
)
# "did not mention ... security guarantees", "without guarantees", "не дали гарантий".
_NEGATED = re.compile(
    r"\b(?:not|no|never|without|neither|nor)\b[^.;:,]{0,60}guarant|"
    r"(?:\bне\b|\bбез\b|\bни\b)[^.;:,]{0,40}гарант",
    re.IGNORECASE,
)
# The state whose security is guaranteed: "security guarantees for Ukraine", "guarantor of
# Ukraine's security", "offer Ukraine a guarantee", "give Ukraine legally binding guarantees",
# "гарантии безопасности Украине".
_FOR_BEFORE = re.compile(
    r"(?:guarante\w*|guarantor\w*|security|assurances?|protection)['\"\u2019\u201d\u00bb]?\s+"
    r"(?:\w+\s+)?(?:for|to|of)\s+(?:the\s+)?$|"
    # where forces would go: "troops sent to Ukraine", "deploying a force into Ukraine"
    r"(?:send|sent|deploy\w*|station\w*|dispatch\w*|troops|forces|soldiers|peacekeep\w*)\s+"
    r"(?:\S+\s+){0,3}?(?:to|into)\s+(?:the\s+)?$|"
    r"(?:гарант\w*|безопасност\w*)\s+(?:для\s+)?$",
    re.IGNORECASE,
)
_FOR_AFTER = re.compile(
    r"^['\u2019]s\s+(?:\w+[- ]term\s+|own\s+|future\s+)?(?:security|sovereignty|defen[cs]e)|"
    r"^\s+(?:a|an|the)\s+(?:\w+\s+)?(?:security\s+)?guarante",
    re.IGNORECASE,
)
_GIVEN_TO = re.compile(
    r"(?:\bgiv(?:e|es|ing|en)|\bgave|\boffer\w*|\bprovid\w*|\bgrant\w*|\bextend\w*|\bpromis\w*|"
    r"\bensur\w*|\bassur\w*|предостав\w*|\bда(?:ть|ст|дут|ли)|обеспеч\w*)\s+(?:the\s+)?$",
    re.IGNORECASE,
)
_GUARANTEE_NEXT = re.compile(r"^\s+(?:[\w-]+\s+){0,4}?(?:security\s+)?(?:guarante|гарант)", re.I)
# The one who asks for guarantees is given them: "Russia wants guarantees", "Kyiv demanded",
# "Москва требует гарантий".
_ASKS_AFTER = re.compile(
    r"^\s+(?:[\w-]+\s+){0,3}?(?:wants?|wanted|demand(?:s|ed|ing)?|seeks?|sought|"
    r"request(?:s|ed)?|asks?|asked|insist(?:s|ed)?|call(?:s|ed)? for|"
    r"хоч\w*|хотел\w*|требу\w*|требовал\w*|добива\w*|просит|просил\w*|настаива\w*)\b|"
    r"^['\u2019]s\s+(?:\w+\s+)?(?:demands?|requests?|wish)",
    re.IGNORECASE,
)
# What a guarantee of non-enlargement is about: "guarantees that Ukraine will not join NATO",
# "membership for Kyiv", "the admission of Ukraine", "приема в свой состав Украины".
_JOINS_AFTER = re.compile(
    r"^(?:['\u2019]s)?\s+(?:[\w-]+\s+){0,3}?(?:join(?:s|ed|ing)?|accede|become a member|"
    r"membership|accession|bid\b|вступ\w*|войд\w*|стан\w* член\w*)",
    re.IGNORECASE,
)
_JOINS_BEFORE = re.compile(
    r"(?:membership|accession|admission|admit(?:ting)?|enlargement|expansion)\s+"
    r"(?:\S+\s+){0,2}?(?:for|of|to)\s+(?:the\s+)?$|"
    r"(?:guarante\w*|pledge\w*|assurances?)\s+(?:\S+\s+){0,2}?that\s+(?:the\s+)?$|"
    r"(?:при[её]м\w*|приня\w*|вступлени\w*|членств\w*|расширени\w*)\s+(?:\S+\s+){0,3}$",
    re.IGNORECASE,
)
# Named as the model of a guarantee, not as a guarantor: "similar to NATO's Article 5",
# "NATO-style", "аналогичны статье 5 Устава НАТО".
_MODEL_BEFORE = re.compile(
    r"(?:similar to|like|akin to|analogous to|modell?ed on|inspired by|resembling|mirroring|"
    r"along the lines of|on the model of|"
    r"аналогичн\w*|подобн\w*|по образцу|по аналогии с)\s+(?:\S+\s+){0,3}$",
    re.IGNORECASE,
)
_MODEL_AFTER = re.compile(r"^-?(?:style|like|type)\b", re.IGNORECASE)
# The attacker the guarantees are against: "a Russian attack", "if Russia invades again",
# "deter Russia", "against Moscow", "агрессии России".
_ATTACKER_AFTER = re.compile(
    r"^(?:['\u2019]s)?\s+(?:(?:were|was|is|are|will|would|could|might|should|again|ever|to|"
    r"not|then|later|once|never|снова|вновь|не)\s+){0,3}"
    r"(?:attack|re-?invad|invad|invasion|aggress|"
    r"breach|violat|напад|агресс|вторг|вторж)",
    re.IGNORECASE,
)
_ATTACKER_BEFORE = re.compile(
    r"(?:against|deter(?:s|red|ring)?|from attack by|aggression by|attack by|"
    r"против|агресси\w*|нападени\w*|вторжени\w*|со стороны)\s+(?:the\s+)?$",
    re.IGNORECASE,
)
# The other side of talks, a deal or a war: "negotiate with Russia", "a war with Russia", "a peace
# deal is made with Russia", "разговору с Москвой".
_COUNTERPART_BEFORE = re.compile(
    r"(?:negotiat\w*|talk\w*|deal|war|peace|agreement|treaty|conflict|dialogue|meeting|"
    r"ceasefire|cease-fire|truce|перемири\w*|"
    r"переговор\w*|разговор\w*|диалог\w*|войн\w*|мир\w*|соглашени\w*|договор\w*|встреч\w*)"
    r"\s+(?:\S+\s+){0,3}?(?:with|between|с|между)\s+(?:the\s+)?$|"
    # every party named after "between": "an agreement between Russia, Ukraine and Europe"
    r"\b(?:between|между)\s+(?:[\w'\u2019-]+,?\s+){1,6}(?:and\s+|и\s+)?$",
    re.IGNORECASE,
)
# A state's adjective before a plain noun describes it ("Russian pundits", "Russian opposition");
# before a word for the state's apparatus ("Russian forces") the scanner reads both as the state.
_DESCRIBES_AFTER = re.compile(r"\s+[a-z]")
# Not by whom: "would not be carried out by NATO".
_NOT_BY_BEFORE = re.compile(r"\bnot\b[^.;:]{0,40}\bby\s+(?:the\s+)?$", re.IGNORECASE)
# Where something happens, not who guarantees it: "jets stationed in Poland", "talks in Turkey".
_PLACE_BEFORE = re.compile(
    r"\b(?:in|into|inside|outside|across|on|at|в|во|на)\s+(?:the\s+)?$", re.IGNORECASE
)
# "the Budapest Memorandum", "the Minsk agreements", "the Istanbul talks": a place in a name.
_NAMED_AFTER = re.compile(
    r"^\s+(?:memorandum|accords?|agreements?|protocol|communiqu|format|process|talks|"
    r"press conference|summit|meeting|declaration|conference|forum|charter|"
    r"меморандум|соглашени|протокол|формат|переговор|саммит|встреч|деклараци|устав)",
    re.IGNORECASE,
)


def _mentions(sentence: str) -> Iterator[tuple[str, int, int]]:
    """States and organisations named in a sentence: (name as written, start, end)."""
    for name in actor_mentions(sentence):
        at = sentence.find(name)
        while at >= 0:
            yield name, at, at + len(name)
            at = sentence.find(name, at + len(name))


Role = str  # "beneficiary", "other" (named, but not as a guarantor) or "guarantor"


def role(sentence: str, start: int, end: int) -> Role:
    """What a state or organisation named at ``sentence[start:end]`` is in a sentence about
    security guarantees: the ``beneficiary`` (guaranteed, or asking for guarantees, or what a
    pledge not to enlarge is about), ``other`` (the attacker, the other side of talks, the model
    a guarantee is likened to, part of a name) or a ``guarantor`` candidate."""
    before, after = sentence[max(0, start - 60) : start], sentence[end : end + 60]
    if _NAMED_AFTER.search(after) or _MODEL_BEFORE.search(before) or _MODEL_AFTER.search(after):
        return "other"
    if (
        _FOR_BEFORE.search(before)
        or _FOR_AFTER.search(after)
        or (_GIVEN_TO.search(before) and _GUARANTEE_NEXT.search(after))
        or _ASKS_AFTER.search(after)
        or _JOINS_AFTER.search(after)
        or _JOINS_BEFORE.search(before)
    ):
        return "beneficiary"
    if (
        (is_demonym(sentence[start:end]) and _DESCRIBES_AFTER.match(after))
        or _ATTACKER_AFTER.search(after)
        or _ATTACKER_BEFORE.search(before)
        or _COUNTERPART_BEFORE.search(before)
        or _PLACE_BEFORE.search(before)
        or _NOT_BY_BEFORE.search(before)
    ):
        return "other"
    return "guarantor"


def _roles(sentence: str) -> dict[str, set[Role]]:
    """Each name a sentence gives, with the roles of all its mentions there."""
    roles: dict[str, set[Role]] = {}
    for name, start, end in _mentions(sentence):
        roles.setdefault(name, set()).add(role(sentence, start, end))
    return roles


def beneficiary_mentions(sentence: str) -> list[str]:
    """States named in a guarantee sentence as the one whose security is guaranteed (or that
    asks for guarantees)."""
    return [name for name, roles in _roles(sentence).items() if "beneficiary" in roles]


def guarantee_mentions(sentence: str) -> list[str]:
    """States and organisations a sentence in a guarantee context names as possible
    guarantors: every one named at least once in no other role (``role``)."""
    return [name for name, roles in _roles(sentence).items() if "guarantor" in roles]


def proposal_owners(sentence: str) -> list[str]:
    """States and organisations a sentence names as the owner of a proposal, plan or demands
    ("Ukraine's proposal", "the US draft plan", "предложения Киева")."""
    return list(
        dict.fromkeys(
            name
            for name, start, end in _mentions(sentence)
            if _OWNS_AFTER.search(sentence[end : end + 40])
            or _OWNS_BEFORE.search(sentence[max(0, start - 40) : start])
        )
    )


def _proposer_mention(sentence: str) -> str | None:
    """The subject of the first proposing or demanding verb of a sentence: the state or
    organisation named last before it, passing over those named as its object or recipient
    ("Ukrainian negotiators handed Russia a proposal")."""
    verb = _PROPOSING.search(sentence)
    if verb is None:
        return None
    if _THEIR_BEFORE.search(sentence[max(0, verb.start() - 12) : verb.start()]):
        # "in light of its demands": whose they are is the name said last before them
        named_before = list(_mentions(sentence[: verb.start()]))
        return max(named_before, key=lambda m: m[1])[0] if named_before else None
    named = [
        (name, start)
        for name, start, _ in _mentions(sentence[: verb.start()])
        if not _OBJECT_BEFORE.search(sentence[max(0, start - 30) : start])
    ]
    return max(named, key=lambda mention: mention[1])[0] if named else None


_OCCUPIED = re.compile(r"occupied|оккупир", re.IGNORECASE)


def is_guarantee_sentence(sentence: str) -> bool:
    """Whether a sentence speaks of security guarantees, or of a commitment to defend that is
    one in all but the word, as something given or proposed."""
    return bool(
        (
            (_GUARANTEE_WORD.search(sentence) and _SECURITY_SENSE.search(sentence))
            or _COMMITMENT.search(sentence)
        )
        and not _NEGATED.search(sentence)
    )


def is_terms_sentence(sentence: str, proposal: bool = False) -> bool:
    """Whether a sentence states a term a party would be bound to (neutrality, no foreign bases,
    not joining an alliance, a referendum, a ceasefire first, another's consent) as a commitment
    or a condition, not as a report of the war; in a sentence about a ``proposal`` of security
    guarantees, the terms it proposes ("a proposal for a neutral status") are enough."""
    return bool(
        _TERMS.search(sentence) and (_BOUND.search(sentence) or (proposal and proposes(sentence)))
    )


def rules_findings(text: str) -> Findings:
    """What code finds with no model, located in ``text`` (a copy the caller may change: a
    strategy reads the same article's findings when it plans and again when it concludes).

    In each paragraph that speaks of guarantees or security (or of a commitment to defend):
    every state or organisation named in a sentence about security guarantees is a guarantor
    unless it is named there as the one guaranteed, the attacker, the other side of talks, a
    model or a place (``role``); the one whose proposal, plan or demands they are ("Ukraine's
    proposal", "Russia wants guarantees") the proposer; durations written as deadlines are
    response times; territories named in a sentence that speaks of an exclusion are excluded
    territories; a sentence about guarantees with a condition word ("if", "provided", "only",
    "при условии") is a condition.

    Where the article holds a proposal by those findings, two more kinds of value are taken
    from any paragraph: the owner of a proposal or plan named anywhere ("the US draft plan" in a
    headline), and sentences that state the terms a party would be bound to (``is_terms_sentence``)
    as conditions. Neither alone makes an article hold a proposal.
    """
    found = _rules_findings(text)
    return Findings(
        {name: list(values) for name, values in found.values.items()}, list(found.dropped)
    )


@lru_cache(maxsize=64)
def _rules_findings(text: str) -> Findings:
    findings = Findings()
    extra = Findings()

    def add(field_name: str, values: list[str], sentence: Chunk, into: Findings) -> None:
        for value in values:
            found = found_in(value, sentence)
            if found is not None:
                into.add(field_name, found)

    for paragraph in paragraphs(text):
        about = bool(_GUARANTEE.search(paragraph.text))
        for sentence in sentences(paragraph):
            add("proposer", proposal_owners(sentence.text), sentence, findings if about else extra)
            guarantee = about and is_guarantee_sentence(sentence.text)
            condition = guarantee and bool(_CONDITION_MARK.search(sentence.text))
            if (
                not condition
                and is_terms_sentence(sentence.text, guarantee)
                and (about or _PROPOSAL_CUE.search(sentence.text))
            ):
                add("conditions", [sentence.text], sentence, extra)
            if not about:
                continue
            add("response_time", deadlines(sentence.text), sentence, findings)
            territories = territory_mentions(sentence.text)
            add(
                "excluded_territories",
                [t for t in territories if not _OCCUPIED.match(t)],
                sentence,
                findings,
            )
            if not guarantee:
                continue
            add("beneficiary", beneficiary_mentions(sentence.text), sentence, findings)
            add("guarantors", guarantee_mentions(sentence.text), sentence, findings)
            proposer = _proposer_mention(sentence.text)
            add("proposer", [proposer] if proposer else [], sentence, findings)
            if proposer and (
                _REQUESTING.search(sentence.text) or _OWN_SECURITY.search(sentence.text)
            ):
                add("beneficiary", [proposer], sentence, findings)
            if condition:
                add("conditions", [sentence.text], sentence, findings)
    if any(findings.of(name) for name in ("guarantors", "proposer", "conditions")):
        for name, found in extra.values.items():
            for item in found:
                findings.add(name, item)
        for name in findings.values:
            findings.values[name].sort(key=lambda item: item.evidence.start)
    return findings


def about_guarantees(text: str) -> bool:
    """Whether a paragraph speaks of guarantees or security at all (where the rules look)."""
    return bool(_GUARANTEE.search(text))


def proposes(text: str) -> bool:
    """Whether a sentence has a proposing or demanding word ("proposed", "offer", "demands")."""
    return bool(_PROPOSING.search(text))
