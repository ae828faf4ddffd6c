"""How an article is put to the model: one call for all, small focused calls merged in code, or
no model at all.

Each strategy is an object registered by name (``REGISTRY``; ``--strategy``, recorded in
``provenance.strategy``) that plans an article's requests and concludes proposals from the
answers:

``single``
    The whole article and the whole draft schema (``schemas.ArticleDraft``) in one constrained
    call; quotes are validated and re-asked (prompt ``extract-v1``).
``decomposed``
    One short call per field over the whole article, each with a small schema (prompts
    ``fields-v1``): guarantors as names the article writes, conditions as short phrases, and the
    proposer, response time and excluded territories chosen from candidates code found in the
    text (states and organisations named, durations written as deadlines, territories named where
    the text speaks of an exclusion).
    Each value must be found in the text it was asked about; code derives codes, hours and
    canonical names and merges the answers into one proposal.
``chunked``
    The same field calls, asked per chunk: the article split on paragraph boundaries into chunks
    of at most ``CHUNK_CHARS`` characters, each overlapping the previous by one paragraph. A field
    is asked about a chunk only when code sees something to find there (a guarantee word, a
    deadline, an excluded territory); answers from every chunk are merged and de-duplicated by
    normalised value. Long articles stay within the model's context this way.
``rules``
    No request at all: the candidates code finds (``rules_findings``) are the values. The floor
    every model strategy is measured against, and the fallback for users with no model.

``guided``
    Code finds the candidates (``rules_findings``), the model chooses among them in at most three
    short requests an article (proposer, response time, excluded territories); guarantors and
    conditions are the rules'.

``auto`` (the default) is no strategy of its own: ``for_settings`` turns it into the one that
scores best for the model in use, ``guided`` for the embedded model and ``single`` for any
other, and provenance records the one chosen. The field strategies do not extract stances, and
their summary is composed in code.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections import Counter
from collections.abc import Callable, Coroutine, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Annotated, Any, ClassVar, Literal, Optional, Protocol, TypeVar

from pydantic import AfterValidator, BaseModel, Field, StringConstraints, create_model

from .answers import Outcome
from .build import (
    actor_problem,
    build,
    evidence_of,
    hours_problem,
    make_actor,
    make_party,
    names_a_group,
    territory_problem,
    validation_context,
)
from .config import DEFAULT_PROMPT, EMBEDDED_MODEL, Settings
from .errors import ConfigError, OutputError
from .grounding import locate
from .normalize import actor_code, canonical_territory, duration_spans, territory_code
from .prompting import Message, render, render_part, require_parts
from .schemas import (
    ArticleDraft,
    Condition,
    Dropped,
    Evidence,
    ExcludedTerritory,
    Guarantor,
    Proposal,
    ResponseTime,
)

FIELDS_PROMPT = "fields-v1"
NO_PROMPT = "none"  # the prompt version recorded for a strategy that asks no model
CHUNK_CHARS = 700
ANSWER_TOKENS = 160

Result = tuple[list[Proposal], list[Dropped]]


Short = Annotated[str, StringConstraints(max_length=60)]
Sentence = Annotated[str, StringConstraints(max_length=200)]


class Names(BaseModel):
    """Answer to a question whose answer is a list of names."""

    values: list[Short] = Field(default_factory=list, max_length=10)


class Phrases(BaseModel):
    """Answer to a question whose answer is a list of short phrases."""

    values: list[Sentence] = Field(default_factory=list, max_length=6)


class Phrase(BaseModel):
    """Answer to a question whose answer is one name or phrase, or null."""

    value: Short | None = None


# The longest option label put into an answer schema (a candidate is a name, a territory or a
# duration: a longer one is cut here, and the answer mapped back to it whole).
OPTION_CHARS = 60


def option_label(option: str, cap: int = OPTION_CHARS) -> str:
    """``option`` as a label the embedded server's grammar can hold: quotes, backslashes,
    control and format characters, line breaks and characters beyond the Basic Multilingual
    Plane made spaces, runs of space collapsed, at most ``cap`` characters; "" when nothing is
    left.

    llama-cpp-python turns an enum of the answer schema into grammar literals without escaping
    a backslash (``Ukraine"`` breaks the grammar, and the server crashes without one), writes a
    newline or tab as the raw character (invalid inside a JSON string), and spells a character
    beyond the BMP as a surrogate pair no token decodes to.
    """
    kept = "".join(
        ch if ch.isprintable() and ch not in '"\\' and ord(ch) <= 0xFFFF else " " for ch in option
    )
    return " ".join(kept.split())[:cap].rstrip()


def option_labels(options: list[str]) -> dict[str, str]:
    """Each option's label (``option_label``) mapped to the option as the text writes it; the
    first option wins a label two share, and an option with no label is left out."""
    labels: dict[str, str] = {}
    for option in options:
        label = option_label(option)
        if label:
            labels.setdefault(label, option)
    return labels


def choice_model(options: list[str], many: bool, at_least: int = 0) -> type[BaseModel]:
    """An answer schema whose values can only be ``options`` (candidates code found in the text).

    A small model picks far better among a few given phrases than it writes one itself, and
    the server's grammar keeps it to them. The schema holds the options' labels
    (``option_labels``), never raw article text; a label the model picks validates to the option
    it stands for, which is what is then located in the text.

    Raises:
        ValueError: no option has a label.
    """
    labels = option_labels(options)
    if not labels:
        raise ValueError(f"no usable option among {options!r}")
    option: Any = Annotated[
        Literal.__getitem__(tuple(labels)),
        AfterValidator(labels.__getitem__),
    ]
    fields: dict[str, Any] = (
        {
            "values": (
                list[option],
                Field(default_factory=list, min_length=at_least, max_length=len(labels)),
            )
        }
        if many
        else {"value": (Optional[option], None)}  # noqa: UP045 (a runtime type, not an annotation)
    )
    model: type[BaseModel] = create_model("Choices" if many else "Choice", **fields)
    return model


# Code decides whether a chunk can hold the answer before the model is asked about it.
_GUARANTEE = re.compile(
    r"guarant|safeguard|security|article\s*5|defen[cs]e pact|гарант|безопасност", re.IGNORECASE
)
_CONDITION = re.compile(
    r"\bif\b|\bonly\b|provided|condition|in exchange|would have to|must|\bunless\b|"
    r"при условии|если|только|должн",
    re.IGNORECASE,
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


_WORD = re.compile(r"[\w'\u2019.-]+")
_POSSESSIVE = re.compile(r"['\u2019]s$")


# The same word runs come up again and again (every sentence is read by several rules); a code is
# a pure function of the name.
_code_of = lru_cache(maxsize=1 << 16)(actor_code)


@lru_cache(maxsize=4096)
def _actor_mentions(text: str) -> tuple[str, ...]:
    words = list(_WORD.finditer(text))
    found: dict[str, str] = {}
    for i in range(len(words)):
        for n in (3, 2, 1):
            if i + n > len(words):
                continue
            phrase = _POSSESSIVE.sub("", text[words[i].start() : words[i + n - 1].end()])
            if "\n" in phrase:
                continue  # a name does not run across a line break
            phrase = phrase.strip(".-'\u2019")
            code = _code_of(phrase)
            if code is not None:
                found.setdefault(code, phrase)
                break
    return tuple(found.values())


def actor_mentions(text: str) -> list[str]:
    """States and organisations named in a text, as it writes them, first mention of each code.

    Word runs of three, two and one words are tried at each word, longest first, so that
    "the United States" wins over "States".
    """
    return list(_actor_mentions(text))


def _guarantee_actors(text: str) -> list[str]:
    return actor_mentions(text) if _GUARANTEE.search(text) else []


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
class Question:
    """One focused question: its answer schema, or the code that finds the candidates to choose
    from (then the question is asked only where there are some)."""

    field: str
    answer: type[BaseModel] | None = None
    options: Callable[[str], list[str]] | None = None
    many: bool = True
    at_least: int = 0
    gate: Callable[[str], bool] = lambda text: bool(_GUARANTEE.search(text))


QUESTIONS: tuple[Question, ...] = (
    Question("guarantors", Names),
    Question("proposer", options=_guarantee_actors, many=False),
    Question("response_time", options=deadlines, many=False),
    # Asked only where the text speaks of leaving something out, so one must be picked.
    Question("excluded_territories", options=territory_mentions, at_least=1),
    Question(
        "conditions",
        Phrases,
        gate=lambda text: bool(_GUARANTEE.search(text)) and bool(_CONDITION.search(text)),
    ),
)


@dataclass(frozen=True)
class Chunk:
    start: int
    text: str


def whole(text: str) -> list[Chunk]:
    return [Chunk(0, text)]


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


def chunks(text: str, limit: int = CHUNK_CHARS) -> list[Chunk]:
    """Paragraph-aligned chunks of at most ``limit`` characters (a longer paragraph stays whole),
    each starting with the last paragraph of the previous chunk, so that a statement that runs
    across a paragraph break is seen whole at least once."""
    paras = paragraphs(text)
    out: list[Chunk] = []
    i = 0
    while i < len(paras):
        j = i + 1
        while j < len(paras) and paras[j].start + len(paras[j].text) - paras[i].start <= limit:
            j += 1
        end = paras[j - 1].start + len(paras[j - 1].text)
        out.append(Chunk(paras[i].start, text[paras[i].start : end]))
        if j >= len(paras):
            break
        i = j - 1 if j - 1 > i else j
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


def _answers(draft: BaseModel) -> list[str]:
    raw = getattr(draft, "values", None)
    values: list[str | None] = list(raw) if raw is not None else [getattr(draft, "value", None)]
    return [value.strip() for value in values if isinstance(value, str) and value.strip()]


@dataclass(frozen=True)
class Ask:
    """One request of a plan: the messages, the answer schema, and the piece of the article it
    is about (offset ``start``). ``field`` is empty for the whole-draft request of ``single``."""

    field: str
    chunk: int
    start: int
    piece: str
    answer: type[BaseModel]
    messages: list[Message]
    max_tokens: int | None = None
    context: dict[str, Any] | None = None
    # Set when ``piece`` is made of several passages (sentences) of the article: an answer is
    # located in the first of them that holds it.
    sources: tuple[Chunk, ...] = ()


# What came back for one request: the answer, or why there is none to use.
Answer = Outcome[Any] | OutputError

M = TypeVar("M", bound=BaseModel)


class Asker(Protocol):
    """What sends a planned request and returns its validated answer: online, one article's
    asker of the engine (``extractor.client.ArticleAsker``); strategies know it only by this
    method."""

    async def ask(
        self,
        response_model: type[M],
        messages: list[Message],
        *,
        context: dict[str, Any] | None = None,
        max_tokens: int | None = None,
        step: str = "",
    ) -> Outcome[M]: ...


T = TypeVar("T")


class Runner(Protocol):
    """What runs a strategy for synchronous code: the current article's asker and a way to
    wait for a coroutine's result (the synchronous ``extractor.client.Engine``)."""

    @property
    def asker(self) -> Asker: ...

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T: ...


def finished(coroutine: Coroutine[Any, Any, T]) -> T:
    """The result of a coroutine that never has to wait (a strategy run with no asker: it
    asks nothing), got without an event loop.

    Raises:
        RuntimeError: the coroutine did wait; run it on an event loop instead.
    """
    try:
        coroutine.send(None)
    except StopIteration as done:
        result: T = done.value
        return result
    coroutine.close()
    raise RuntimeError("the coroutine waited for something; run it on an event loop")


def field_asks(
    pieces: list[Chunk],
    prompt_version: str,
    *,
    gate: bool,
    questions: tuple[Question, ...] = QUESTIONS,
) -> list[Ask]:
    """Every question about every piece (when code sees something to find there), the questions
    about one piece one after another, so that a server's prefix cache reads each piece once."""
    asks: list[Ask] = []
    for index, piece in enumerate(pieces):
        for question in questions:
            options = question.options(piece.text) if question.options else []
            labels = option_labels(options)
            if question.options and not labels:
                continue  # nothing there to choose from
            if gate and not question.options and not question.gate(piece.text):
                continue
            answer = question.answer or choice_model(options, question.many, question.at_least)
            messages = render_part(
                prompt_version, question.field, piece.text, options="; ".join(labels)
            )
            asks.append(
                Ask(question.field, index, piece.start, piece.text, answer, messages, ANSWER_TOKENS)
            )
    return asks


def locate_answers(asks: list[Ask], answers: list[Answer]) -> Findings:
    """Locate each field answer in the piece it was asked about."""
    findings = Findings()
    for ask, outcome in zip(asks, answers, strict=True):
        if isinstance(outcome, OutputError):
            # One unusable answer costs that answer, not the article.
            findings.dropped.append(
                Dropped(field=ask.field, value=None, reason=f"chunk {ask.chunk}: {outcome}")
            )
            continue
        for value in _answers(outcome.draft):
            places = ask.sources or (Chunk(ask.start, ask.piece),)
            found = next(filter(None, (found_in(value, place) for place in places)), None)
            if found is None:
                findings.dropped.append(
                    Dropped(
                        field=ask.field,
                        value=value,
                        reason=f"not in the text it was asked about (chunk {ask.chunk})",
                    )
                )
                continue
            findings.add(ask.field, found)
    return findings


def _folded(value: str) -> str:
    return " ".join(value.casefold().split())


def _first_by_key(items: list[Found], key: Callable[[str], str]) -> Iterator[Found]:
    seen: set[str] = set()
    for item in items:
        k = key(item.value)
        if k and k not in seen:
            seen.add(k)
            yield item


def _most_named(found: list[Found]) -> Found | None:
    """The state or organisation given most often (the first given, on a tie)."""
    codes = Counter(code for item in found if (code := actor_code(item.value)))
    if not codes:
        return None
    best = codes.most_common(1)[0][0]
    return next(item for item in found if actor_code(item.value) == best)


# What a proposal must have one of to stand: what the model strategies find only where an article
# reports a proposal. The rules and ``guided`` look only at sentences that speak of security
# guarantees, so there a proposer or a condition is enough.
CARRIERS: frozenset[str] = frozenset({"guarantors", "response_time", "excluded_territories"})
GUARANTEE_SENTENCE_CARRIERS: frozenset[str] = CARRIERS | {"proposer", "conditions"}


_CARRIER_WORDS = {
    "guarantors": "guarantor",
    "response_time": "response time",
    "excluded_territories": "territory",
    "proposer": "proposer",
    "conditions": "condition",
}


def merge(findings: Findings, carriers: frozenset[str] = CARRIERS) -> Result:
    """One proposal from located field answers; values that cannot stand go to ``dropped``.

    Args:
        findings: the located values, by field.
        carriers: the fields one of which a proposal must have to stand.
    """
    dropped = list(findings.dropped)

    def drop(field_name: str, value: str, reason: str) -> None:
        dropped.append(Dropped(field=field_name, value=value, reason=reason))

    def checked(name: str, problem: Callable[[str, str], str | None]) -> list[Found]:
        """The answers to a field that the article's words at their evidence back."""
        kept = []
        for found in findings.of(name):
            reason = problem(found.value, found.evidence.quote)
            if reason is None:
                kept.append(found)
            else:
                drop(name, found.value, reason)
        return kept

    proposed_by = _most_named(checked("proposer", actor_problem))
    proposer = make_party(proposed_by.value, [proposed_by.evidence]) if proposed_by else None
    protected = _most_named(checked("beneficiary", actor_problem))
    beneficiary = make_party(protected.value, [protected.evidence]) if protected else None

    guarantors: list[Guarantor] = []
    for found in _first_by_key(
        checked("guarantors", actor_problem), lambda v: actor_code(v) or v.casefold()
    ):
        actor = make_actor(found.value)
        if actor is None:
            continue
        if actor.code is None and not names_a_group(found.value):
            # A named organisation without a code is kept; every state has one (ISO 3166-1).
            drop("guarantors", found.value, "not a state or a named organisation or group")
        elif proposer is not None and actor.code is not None and actor.code == proposer.code:
            drop("guarantors", found.value, "the proposer itself")
        elif beneficiary is not None and actor.code is not None and actor.code == beneficiary.code:
            drop("guarantors", found.value, "the state whose security is guaranteed")
        else:
            guarantors.append(Guarantor(actor=actor, position="unknown", evidence=[found.evidence]))

    response_time = None
    for found in findings.of("response_time"):
        hours, reason = hours_problem(found.value, found.evidence.quote)
        if reason is not None or hours is None:
            drop("response_time", found.value, reason or "no duration in the answer")
        elif response_time is None:
            response_time = ResponseTime(text=found.value, hours=hours, evidence=[found.evidence])

    territories: list[ExcludedTerritory] = []
    for found in _first_by_key(
        checked("excluded_territories", territory_problem),
        lambda v: canonical_territory(v).casefold(),
    ):
        if actor_code(found.value) is not None:
            drop("excluded_territories", found.value, "a state or organisation, not a territory")
            continue
        name = canonical_territory(found.value)
        territories.append(
            ExcludedTerritory(
                name=name, code=territory_code(name), text=found.value, evidence=[found.evidence]
            )
        )

    conditions = [
        Condition(text=found.value, bound_party=None, evidence=[found.evidence])
        for found in _first_by_key(findings.of("conditions"), _folded)
    ]

    present = {
        "guarantors": bool(guarantors),
        "response_time": response_time is not None,
        "excluded_territories": bool(territories),
        "proposer": proposer is not None,
        "conditions": bool(conditions),
    }
    if not any(present[name] for name in carriers):
        named = [word for name, word in _CARRIER_WORDS.items() if name in carriers]
        needed = ", ".join(named[:-1]) + " or " + named[-1]
        for name in ("proposer", "beneficiary", "conditions"):
            for found in findings.of(name):
                drop(name, found.value, f"no {needed} to attach it to")
        return [], dropped

    evidence = sorted(
        [e for g in guarantors for e in g.evidence]
        + (response_time.evidence if response_time else [])
        + [e for t in territories for e in t.evidence],
        key=lambda e: e.start,
    ) or [e for c in conditions for e in c.evidence] + (
        [proposed_by.evidence] if proposed_by else []
    )
    names = ", ".join(g.actor.name for g in guarantors) or "unnamed guarantors"
    summary = f"{proposer.name if proposer else 'A proposal'}: security guarantees by {names}"
    if response_time:
        summary += f", response within {response_time.text}"
    if territories:
        summary += f", excluding {', '.join(t.name for t in territories)}"
    proposal = Proposal(
        summary=summary + ".",
        proposer=proposer,
        beneficiary=beneficiary,
        guarantee_type="other",
        legally_binding=None,
        guarantors=guarantors,
        response_time=response_time,
        excluded_territories=territories,
        conditions=conditions,
        stances=[],
        evidence=evidence,
    )
    return [proposal], dropped


def built(text: str, outcome: Outcome[ArticleDraft]) -> Result:
    """Ground the whole-article draft of ``single``; say why an answer was taken apart."""
    proposals, dropped = build(outcome.draft, text)
    if outcome.problem is not None:
        # Say once why the answer was taken apart rather than accepted as it stood.
        notes = [Dropped(field="", value=None, reason=outcome.problem[:1000])]
        notes += [
            Dropped(field=path, value=value, reason="does not match the schema")
            for path, value in outcome.pruned
        ]
        dropped = notes + dropped
    return proposals, dropped


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


# --------------------------------------------------------------------------------------------
# Strategies: each plans an article's requests and concludes records from the answers
# --------------------------------------------------------------------------------------------


class Strategy(ABC):
    """How an article is put to the model: the requests it plans and how the answers become
    proposals. No request depends on the answer to another, so a plan can be sent as one batch
    file; a strategy that needs no model plans no request."""

    name: ClassVar[str]
    #: False: the strategy plans no request, so no server is started and no model recorded.
    needs_model: ClassVar[bool] = True
    #: True: an unusable answer fails the article (its one answer is all there is).
    whole_answer: ClassVar[bool] = False

    @abstractmethod
    def prompt(self, requested: str | None) -> str:
        """The prompt version this strategy asks with (recorded in provenance).

        Args:
            requested: the version the user asked for (``--prompt``), None for the default.

        Raises:
            ConfigError: the requested version does not exist or this strategy cannot use it.
        """

    @abstractmethod
    def plan(self, text: str, prompt_version: str) -> list[Ask]:
        """Every request this strategy makes about ``text``, in order."""

    @abstractmethod
    def conclude(self, text: str, asks: list[Ask], answers: list[Answer]) -> Result:
        """Proposals and dropped values from the answers to ``plan(text)``.

        Raises:
            OutputError: the strategy cannot conclude anything from the answers.
        """

    async def arun(self, asker: Asker | None, text: str, prompt_version: str) -> Result:
        """Proposals of ``text`` and what was dropped, asked online through ``asker``, one
        request after another.

        Raises:
            ConfigError: a request is planned and there is no asker to send it.
            BackendError, BudgetError, OutputError: from the model calls.
        """
        asks = self.plan(text, prompt_version)
        answers: list[Answer] = []
        for ask in asks:
            if asker is None:
                raise ConfigError(f"strategy {self.name} needs a model; give --base-url")
            try:
                answers.append(
                    await asker.ask(
                        ask.answer,
                        ask.messages,
                        context=ask.context,
                        max_tokens=ask.max_tokens,
                        step=f"{ask.field or 'proposals'}#{ask.chunk}",
                    )
                )
            except OutputError as exc:
                if self.whole_answer:
                    raise
                answers.append(exc)
        return self.conclude(text, asks, answers)

    def run(self, engine: Runner | None, text: str, prompt_version: str) -> Result:
        """``arun`` for synchronous code, on ``engine`` (``extractor.client.Engine``).

        Raises:
            As ``arun``.
        """
        if engine is None:
            return finished(self.arun(None, text, prompt_version))
        return engine.run(self.arun(engine.asker, text, prompt_version))


REGISTRY: dict[str, Strategy] = {}
AUTO = "auto"


def register(cls: type[Strategy]) -> type[Strategy]:
    """Class decorator: make a strategy available by its ``name`` (``--strategy``)."""
    REGISTRY[cls.name] = cls()
    return cls


def names() -> tuple[str, ...]:
    """Every strategy name the user may give, ``auto`` included."""
    return (AUTO, *REGISTRY)


def named(name: str) -> Strategy:
    """The registered strategy of that name.

    Raises:
        ConfigError: no strategy has that name.
    """
    try:
        return REGISTRY[name]
    except KeyError:
        raise ConfigError(
            f"unknown strategy {name!r}; choose one of {', '.join(names())}"
        ) from None


def for_settings(settings: Settings) -> Strategy:
    """The concrete strategy a run uses: the one named, or for ``auto`` the one that scores best
    for the model in use (see docs/quality.md); its prompt is checked here, before any work.

    Raises:
        ConfigError: unknown strategy, or a prompt version it cannot use.
    """
    name = settings.strategy
    if name == AUTO:
        # A small model answers short choices among code's candidates and nothing else well; a
        # capable one reads the whole article in one request more cheaply than in dozens.
        name = "guided" if settings.model == EMBEDDED_MODEL else "single"
    strategy = named(name)
    strategy.prompt(settings.prompt_version)
    return strategy


@register
class Single(Strategy):
    """The whole article and the whole draft schema in one constrained call (``extract-v1``)."""

    name = "single"
    whole_answer = True

    def prompt(self, requested: str | None) -> str:
        version = requested or DEFAULT_PROMPT
        require_parts(version, ("system", "user"), f"strategy {self.name}")
        return version

    def plan(self, text: str, prompt_version: str) -> list[Ask]:
        messages = render(prompt_version, text)
        return [Ask("", 0, 0, text, ArticleDraft, messages, None, validation_context(text))]

    def conclude(self, text: str, asks: list[Ask], answers: list[Answer]) -> Result:
        (answer,) = answers
        if isinstance(answer, OutputError):
            raise answer
        return built(text, answer)


class _FieldStrategy(Strategy):
    """Field questions (prompts ``fields-v1``) merged in code; subclasses choose the pieces."""

    def prompt(self, requested: str | None) -> str:
        version = requested or FIELDS_PROMPT
        parts = ("system", *(question.field for question in QUESTIONS))
        require_parts(version, parts, f"strategy {self.name}")
        return version

    def conclude(self, text: str, asks: list[Ask], answers: list[Answer]) -> Result:
        return merge(locate_answers(asks, answers))


@register
class Decomposed(_FieldStrategy):
    """One call per field about the whole article."""

    name = "decomposed"

    def plan(self, text: str, prompt_version: str) -> list[Ask]:
        return field_asks(whole(text), prompt_version, gate=False)


@register
class Chunked(_FieldStrategy):
    """The field calls per chunk, where code sees something to find."""

    name = "chunked"

    def plan(self, text: str, prompt_version: str) -> list[Ask]:
        return field_asks(chunks(text), prompt_version, gate=True)


@register
class Rules(Strategy):
    """No model: the values code finds in guarantee sentences (see ``rules_findings``)."""

    name = "rules"
    needs_model = False

    def prompt(self, requested: str | None) -> str:
        if requested is not None:
            raise ConfigError(
                f"strategy {self.name} asks no model and uses no prompt, so --prompt "
                f"(EXTRACTOR_PROMPT) {requested!r} would be ignored; leave it out or choose "
                "another strategy"
            )
        return NO_PROMPT

    def plan(self, text: str, prompt_version: str) -> list[Ask]:
        return []

    def conclude(self, text: str, asks: list[Ask], answers: list[Answer]) -> Result:
        return merge(rules_findings(text), GUARANTEE_SENTENCE_CARRIERS)


# What ``guided`` takes from the rules as they stand: on the development set the embedded model
# asked to list or to confirm guarantors drops more right ones than wrong ones (docs/quality.md).
FROM_RULES: tuple[str, ...] = ("guarantors", "beneficiary", "conditions")
# At most this many sentences go into one question (a bound on its prompt).
MAX_SENTENCES = 8


def _choice_ask(
    question: Question, passages: list[Chunk], prompt_version: str, index: int
) -> Ask | None:
    """One choice question about ``passages`` (sentences of the article, read as one text),
    among the candidates ``question`` finds there; None when there are none."""
    passages = passages[:MAX_SENTENCES]
    piece = "\n".join(p.text for p in passages)
    options = question.options(piece) if question.options else []
    labels = option_labels(options)
    if not labels:
        return None
    answer = choice_model(options, question.many, question.at_least)
    messages = render_part(prompt_version, question.field, piece, options="; ".join(labels))
    start = passages[0].start
    return Ask(
        question.field, index, start, piece, answer, messages, ANSWER_TOKENS, None, tuple(passages)
    )


@register
class Guided(_FieldStrategy):
    """Code finds the candidates, the model chooses among them, in at most three short requests
    an article: the proposer among the states and organisations named in the sentences that
    speak of guarantees (those with a proposing verb first), the response time among the
    deadlines and the excluded territories among the territories named where a sentence speaks
    of an exclusion. Guarantors and conditions are the rules' (``rules_findings``)."""

    name = "guided"

    def prompt(self, requested: str | None) -> str:
        version = requested or FIELDS_PROMPT
        fields = ("system", "proposer", "response_time", "excluded_territories")
        require_parts(version, fields, f"strategy {self.name}")
        return version

    def plan(self, text: str, prompt_version: str) -> list[Ask]:
        about = [
            sentence
            for paragraph in paragraphs(text)
            if _GUARANTEE.search(paragraph.text)
            for sentence in sentences(paragraph)
        ]
        guarantee = [s for s in about if is_guarantee_sentence(s.text)]
        proposing = [s for s in guarantee if _PROPOSING.search(s.text)]
        by_field = {q.field: q for q in QUESTIONS}
        candidates = [
            (by_field["proposer"], proposing + [s for s in guarantee if s not in proposing]),
            (by_field["response_time"], [s for s in about if deadlines(s.text)]),
            (by_field["excluded_territories"], [s for s in about if territory_mentions(s.text)]),
        ]
        asks = [
            _choice_ask(question, passages, prompt_version, index)
            for index, (question, passages) in enumerate(candidates)
        ]
        return [ask for ask in asks if ask is not None]

    def conclude(self, text: str, asks: list[Ask], answers: list[Answer]) -> Result:
        findings = locate_answers(asks, answers)
        rules = rules_findings(text)
        for name in FROM_RULES:
            findings.values[name] = rules.of(name)
        return merge(findings, GUARANTEE_SENTENCE_CARRIERS)
