"""How an article is put to the model: one call for all, or small focused calls merged in code.

Three strategies, named in ``provenance.strategy``:

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

The field strategies do not extract stances, and their summary is composed in code.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal, Optional

from pydantic import AfterValidator, BaseModel, Field, StringConstraints, create_model

from .build import build, make_actor
from .client import Engine, Outcome
from .config import STRATEGIES
from .errors import OutputError
from .grounding import locate
from .normalize import actor_code, canonical_territory, duration_spans, parse_hours
from .prompting import Message, render, render_part
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


def actor_mentions(text: str) -> list[str]:
    """States and organisations named in a text, as it writes them, first mention of each code.

    Word runs of three, two and one words are tried at each word, longest first, so that
    "the United States" wins over "States".
    """
    words = list(_WORD.finditer(text))
    found: dict[str, str] = {}
    for i in range(len(words)):
        for n in (3, 2, 1):
            if i + n > len(words):
                continue
            phrase = _POSSESSIVE.sub("", text[words[i].start() : words[i + n - 1].end()])
            phrase = phrase.strip(".-'\u2019")
            code = actor_code(phrase)
            if code is not None:
                found.setdefault(code, phrase)
                break
    return list(found.values())


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


# What came back for one request: the answer, or why there is none to use.
Answer = Outcome[Any] | OutputError


def field_asks(pieces: list[Chunk], *, gate: bool) -> list[Ask]:
    """Every field question about every piece (when code sees something to find there)."""
    asks: list[Ask] = []
    for index, piece in enumerate(pieces):
        for question in QUESTIONS:
            options = question.options(piece.text) if question.options else []
            labels = option_labels(options)
            if question.options and not labels:
                continue  # nothing there to choose from
            if gate and not question.options and not question.gate(piece.text):
                continue
            answer = question.answer or choice_model(options, question.many, question.at_least)
            messages = render_part(
                FIELDS_PROMPT, question.field, piece.text, options="; ".join(labels)
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
            span = locate(value, ask.piece)
            if span is None:
                findings.dropped.append(
                    Dropped(
                        field=ask.field,
                        value=value,
                        reason=f"not in the text it was asked about (chunk {ask.chunk})",
                    )
                )
                continue
            evidence = Evidence(
                quote=value,
                start=ask.start + span.start,
                end=ask.start + span.end,
                match=span.match,
            )
            findings.add(ask.field, Found(value, evidence))
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


def merge(findings: Findings) -> Result:
    """One proposal from located field answers; values that cannot stand go to ``dropped``."""
    dropped = list(findings.dropped)

    def drop(field_name: str, value: str, reason: str) -> None:
        dropped.append(Dropped(field=field_name, value=value, reason=reason))

    proposer_codes = Counter(
        code for found in findings.of("proposer") if (code := actor_code(found.value))
    )
    proposer = None
    if proposer_codes:
        best = proposer_codes.most_common(1)[0][0]
        first = next(f for f in findings.of("proposer") if actor_code(f.value) == best)
        proposer = make_actor(first.value)

    guarantors: list[Guarantor] = []
    for found in _first_by_key(findings.of("guarantors"), lambda v: actor_code(v) or v.casefold()):
        actor = make_actor(found.value)
        if actor is None:
            continue
        if actor.code is None:
            drop("guarantors", found.value, "not a state or organisation")
        elif proposer is not None and actor.code == proposer.code:
            drop("guarantors", found.value, "the proposer itself")
        else:
            guarantors.append(Guarantor(actor=actor, position="unknown", evidence=[found.evidence]))

    response_time = None
    for found in findings.of("response_time"):
        hours = parse_hours(found.value)
        if hours is None:
            drop("response_time", found.value, "no duration in the answer")
        elif response_time is None:
            response_time = ResponseTime(text=found.value, hours=hours, evidence=[found.evidence])

    territories: list[ExcludedTerritory] = []
    for found in _first_by_key(
        findings.of("excluded_territories"), lambda v: canonical_territory(v).casefold()
    ):
        if actor_code(found.value) is not None:
            drop("excluded_territories", found.value, "a state or organisation, not a territory")
            continue
        territories.append(
            ExcludedTerritory(
                name=canonical_territory(found.value), text=found.value, evidence=[found.evidence]
            )
        )

    conditions = [
        Condition(text=found.value, bound_party=None, evidence=[found.evidence])
        for found in _first_by_key(findings.of("conditions"), _folded)
    ]

    if not (guarantors or response_time or territories):
        for name in ("proposer", "conditions"):
            for found in findings.of(name):
                drop(name, found.value, "no guarantor, response time or territory to attach it to")
        return [], dropped

    evidence = sorted(
        [e for g in guarantors for e in g.evidence]
        + (response_time.evidence if response_time else [])
        + [e for t in territories for e in t.evidence],
        key=lambda e: e.start,
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
        beneficiary=None,
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


def plan(strategy: str, text: str, prompt_version: str) -> list[Ask]:
    """Every request the strategy makes about ``text``, in order. No request depends on the
    answer to another, so a plan can be sent as one batch file.

    Raises:
        ValueError: unknown strategy (the CLI checks names before it gets here).
    """
    if strategy == "single":
        messages = render(prompt_version, text)
        return [Ask("", 0, 0, text, ArticleDraft, messages, None, {"text": text})]
    if strategy == "decomposed":
        return field_asks(whole(text), gate=False)
    if strategy == "chunked":
        return field_asks(chunks(text), gate=True)
    raise ValueError(f"unknown strategy {strategy!r}; choose one of {', '.join(STRATEGIES)}")


def conclude(strategy: str, text: str, asks: list[Ask], answers: list[Answer]) -> Result:
    """Proposals and dropped values from the answers to a plan.

    Raises:
        OutputError: the one answer of ``single`` is unusable.
    """
    if strategy == "single":
        (answer,) = answers
        if isinstance(answer, OutputError):
            raise answer
        return built(text, answer)
    return merge(locate_answers(asks, answers))


def run(strategy: str, engine: Engine, text: str, prompt_version: str) -> Result:
    """Proposals of ``text`` and what was dropped, by the named strategy, asked online.

    Raises:
        ValueError: unknown strategy.
        BackendError, BudgetError, ConfigError, OutputError: from the model calls.
    """
    asks = plan(strategy, text, prompt_version)
    answers: list[Answer] = []
    for ask in asks:
        try:
            answers.append(
                engine.ask(
                    ask.answer,
                    ask.messages,
                    context=ask.context,
                    max_tokens=ask.max_tokens,
                    step=f"{ask.field or 'proposals'}#{ask.chunk}",
                )
            )
        except OutputError as exc:
            if strategy == "single":
                raise
            answers.append(exc)
    return conclude(strategy, text, asks, answers)


def prompt_of(strategy: str, prompt_version: str) -> str:
    """The prompt version a strategy uses (recorded in provenance)."""
    return prompt_version if strategy == "single" else FIELDS_PROMPT
