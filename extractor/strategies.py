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
other, and provenance records the one chosen. ``rules`` and ``guided`` read each guarantor's
position, the guarantee type, whether it is legally binding and the stances in code
(``with_attributes``, ``extractor.core.attributes``); ``decomposed`` and ``chunked`` leave them at
their constant answer. The field strategies' summary is composed in code.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections import Counter
from collections.abc import Callable, Coroutine, Iterator
from dataclasses import dataclass, replace
from typing import Annotated, Any, ClassVar, Literal, Optional, Protocol, TypeVar

from pydantic import AfterValidator, BaseModel, Field, StringConstraints, create_model

from .config import DEFAULT_PROMPT, EMBEDDED_MODEL, Settings
from .core import attributes
from .core.answers import Outcome
from .core.build import (
    actor_key,
    actor_problem,
    build,
    deadline_key,
    excluded_territory,
    make_actor,
    make_party,
    names_a_group,
    person_of,
    response_time_of,
    territory_problem,
    validation_context,
)
from .core.guarantor_model import guarantor_candidates
from .core.normalize import actor_code, canonical_territory
from .core.prompting import Message, render, render_part, require_parts
from .core.rules import (
    Chunk,
    Findings,
    Found,
    about_guarantees,
    actor_mentions,
    deadlines,
    found_in,
    is_guarantee_sentence,
    mentions,
    paragraphs,
    proposes,
    role,
    rules_findings,
    sentences,
    territory_mentions,
)
from .errors import ConfigError, OutputError
from .schemas import (
    ArticleDraft,
    Condition,
    Dropped,
    ExcludedTerritory,
    Guarantor,
    Party,
    Proposal,
    ResponseTime,
)

# A chunk a condition question is asked about speaks of guarantees and has a condition word.
_CONDITION = re.compile(
    r"\bif\b|\bonly\b|provided|condition|in exchange|would have to|must|\bunless\b|"
    r"при условии|если|только|должн",
    re.IGNORECASE,
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


def _guarantee_actors(text: str) -> list[str]:
    return actor_mentions(text) if about_guarantees(text) else []


@dataclass(frozen=True)
class Question:
    """One focused question: its answer schema, or the code that finds the candidates to choose
    from (then the question is asked only where there are some)."""

    field: str
    answer: type[BaseModel] | None = None
    options: Callable[[str], list[str]] | None = None
    many: bool = True
    at_least: int = 0
    gate: Callable[[str], bool] = lambda text: about_guarantees(text)


QUESTIONS: tuple[Question, ...] = (
    Question("guarantors", Names),
    Question("proposer", options=_guarantee_actors, many=False),
    Question("response_time", options=deadlines, many=False),
    # Asked only where the text speaks of leaving something out, so one must be picked.
    Question("excluded_territories", options=territory_mentions, at_least=1),
    Question(
        "conditions",
        Phrases,
        gate=lambda text: about_guarantees(text) and bool(_CONDITION.search(text)),
    ),
)


def whole(text: str) -> list[Chunk]:
    return [Chunk(0, text)]


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
    asker of the engine (``extractor.model.client.ArticleAsker``); strategies know it only by this
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
A = TypeVar("A", covariant=True)


class Runner(Protocol[A]):
    """What runs asynchronous work for synchronous code: the current article's asker and a way
    to wait for a coroutine's result on an event loop of its own (the synchronous
    ``extractor.model.sync.Engine``, whose asker is an ``Asker``)."""

    @property
    def asker(self) -> A: ...

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T: ...


def run_sync(runner: Runner[A] | None, work: Callable[[A | None], Coroutine[Any, Any, T]]) -> T:
    """The result of asynchronous ``work`` for synchronous code: the one bridge between them.

    With a runner, ``work`` is given its asker and waited for on its loop (``Engine.run``
    cancels it there when the wait is interrupted, Ctrl-C included). With none, nothing is
    asked of a model, so ``work`` is given no asker and run to its end without an event loop:
    it never has to wait, and it runs where a loop is already running (a notebook,
    ``aextract``) as well as where none is.

    Raises:
        RuntimeError: with no runner, ``work`` did wait; give it a runner.
        What ``work`` raises.
    """
    if runner is None:
        return _finished(work(None))
    return runner.run(work(runner.asker))


def _finished(coroutine: Coroutine[Any, Any, T]) -> T:
    """The result of a coroutine that never has to wait, got without an event loop.

    Raises:
        RuntimeError: the coroutine did wait.
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


def _party_code(value: str) -> str | None:
    """The state or organisation a party answer names, itself or as a person's ("Ukrainian
    President Zelensky")."""
    spoken = person_of(value)
    return actor_code(value) or (spoken[0] if spoken else None)


def _most_named(found: list[Found]) -> Found | None:
    """The state or organisation given most often (the first given, on a tie)."""
    codes = Counter(code for item in found if (code := _party_code(item.value)))
    if not codes:
        return None
    best = codes.most_common(1)[0][0]
    return next(item for item in found if _party_code(item.value) == best)


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


def proposer_party(found: Found | None) -> Party | None:
    """The proposal's proposer from the value chosen for it (``_most_named``): the state or
    organisation it names, with its evidence. ``found.person`` is who spoke for it, where the
    rules read it from a person."""
    return make_party(found.value, [found.evidence], found.person) if found else None


def response_times(found: list[Found], drop: Callable[[str, str, str], None]) -> list[ResponseTime]:
    """Every deadline the values give (consultations within 24 hours, a decision within 72),
    in the article's order, each duration once, its hours checked against its evidence; those
    that cannot stand go to ``drop``."""
    times: list[ResponseTime] = []
    for item in found:
        given = response_time_of(item.value, item.evidence)
        if isinstance(given, str):
            drop("response_time", item.value, given)
        elif all(deadline_key(given) != deadline_key(kept) for kept in times):
            times.append(given)
    return times


def merge(
    findings: Findings, carriers: frozenset[str] = CARRIERS, proposer_protected: bool = True
) -> Result:
    """One proposal from located field answers; values that cannot stand go to ``dropped``.

    Args:
        findings: the located values, by field.
        carriers: the fields one of which a proposal must have to stand.
        proposer_protected: whether a proposer, where nothing is said of who is protected, is
            taken for the one protected (and so for no guarantor).
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
    proposer = proposer_party(proposed_by)
    protecting = checked("beneficiary", actor_problem)
    protected = _most_named(protecting)
    beneficiary = make_party(protected.value, [protected.evidence]) if protected else None
    # Who gives no guarantee: the state protected, and a proposer that asks for guarantees for
    # itself ("Russia wants guarantees"). With nothing said of who is protected (the model's
    # field answers), the proposer is taken for the one protected, as it most often is.
    protected_codes = {_party_code(found.value) for found in protecting} - {None}
    not_guarantors: dict[str | None, str] = {}
    if proposer is not None and (
        (proposer_protected and not protecting) or proposer.code in protected_codes
    ):
        not_guarantors[proposer.code] = (
            "the proposer itself" if not protecting else "the state whose security is guaranteed"
        )
    if beneficiary is not None:
        not_guarantors[beneficiary.code] = "the state whose security is guaranteed"

    guarantors: list[Guarantor] = []
    for found in _first_by_key(checked("guarantors", actor_problem), actor_key):
        actor = make_actor(found.value)
        if actor is None:
            continue
        if actor.code is None and not names_a_group(found.value):
            # A named organisation without a code is kept; every state has one (ISO 3166-1).
            drop("guarantors", found.value, "not a state or a named organisation or group")
        elif actor.code is not None and actor.code in not_guarantors:
            drop("guarantors", found.value, not_guarantors[actor.code])
        else:
            guarantors.append(Guarantor(actor=actor, position="unknown", evidence=[found.evidence]))

    # Every deadline found, each once (see deadline_key).
    deadlines = response_times(findings.of("response_time"), drop)

    territories: list[ExcludedTerritory] = []
    for found in _first_by_key(
        checked("excluded_territories", territory_problem),
        lambda v: canonical_territory(v).casefold(),
    ):
        if actor_code(found.value) is not None:
            drop("excluded_territories", found.value, "a state or organisation, not a territory")
            continue
        territories.append(excluded_territory(found.value, found.evidence))

    conditions = [
        Condition(text=found.value, bound_party=None, evidence=[found.evidence])
        for found in _first_by_key(findings.of("conditions"), _folded)
    ]

    present = {
        "guarantors": bool(guarantors),
        "response_time": bool(deadlines),
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
        + [e for r in deadlines for e in r.evidence]
        + [e for t in territories for e in t.evidence],
        key=lambda e: e.start,
    ) or [e for c in conditions for e in c.evidence] + (
        [proposed_by.evidence] if proposed_by else []
    )
    names = ", ".join(g.actor.name for g in guarantors) or "unnamed guarantors"
    summary = f"{proposer.name if proposer else 'A proposal'}: security guarantees by {names}"
    if deadlines:
        summary += f", response within {' and '.join(r.text for r in deadlines)}"
    if territories:
        summary += f", excluding {', '.join(t.name for t in territories)}"
    proposal = Proposal(
        summary=summary + ".",
        proposer=proposer,
        beneficiary=beneficiary,
        guarantee_type="other",
        legally_binding=None,
        guarantors=guarantors,
        response_times=deadlines,
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
        return self.conclude(text, asks, await self.ask_all(asker, asks))

    async def ask_all(self, asker: Asker | None, asks: list[Ask]) -> list[Answer]:
        """The answers to ``asks`` (a plan of this strategy), asked through ``asker`` one
        after another; an unusable answer is kept as its error, unless the strategy's one
        answer is all there is (``whole_answer``).

        Raises:
            ConfigError: a request is planned and there is no asker to send it.
            BackendError, BudgetError, OutputError: from the model calls.
        """
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
        return answers

    def run(self, engine: Runner[Asker] | None, text: str, prompt_version: str) -> Result:
        """``arun`` for synchronous code, on ``engine`` (``extractor.model.sync.Engine``;
        None for a strategy that asks nothing), through ``run_sync``.

        Raises:
            As ``arun``.
        """
        return run_sync(engine, lambda asker: self.arun(asker, text, prompt_version))


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
        findings = learned_guarantors(text, rules_findings(text))
        return with_attributes(text, merge(findings, GUARANTEE_SENTENCE_CARRIERS))


def learned_guarantors(text: str, findings: Findings) -> Findings:
    """``findings`` with their guarantors chosen by the guarantor model
    (``extractor.core.guarantor_model``: the rules' reading of each state's role is one of its
    features, beside lists, the commitment's subject and the syntax), each at its first mention
    in a sentence about a guarantee; a named group without a code the rules found is kept.
    Where the rules find no proposal at all (no guarantor, proposer or condition), nothing is
    added: the model chooses among guarantors, it does not decide that an article holds a
    proposal."""
    if not any(findings.of(name) for name in ("guarantors", "proposer", "conditions")):
        return findings
    kept = [found for found in findings.of("guarantors") if actor_code(found.value) is None]
    for candidate in guarantor_candidates(text):
        written = text[candidate.start : candidate.start + len(candidate.name)]
        found = found_in(written, Chunk(candidate.start, written))
        if found is not None:
            kept.append(found)
    findings.values["guarantors"] = sorted(kept, key=lambda found: found.evidence.start)
    return findings


def with_attributes(text: str, result: Result) -> Result:
    """``result`` with its proposals' position, type, legally binding and stances read in code
    from the article's sentences (``extractor.core.attributes``)."""
    proposals, dropped = result
    if not proposals:
        return result
    passages = [sentence for paragraph in paragraphs(text) for sentence in sentences(paragraph)]
    return [attributes.fill(p, text, passages) for p in proposals], dropped


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


def _proposer_options(text: str) -> list[str]:
    """The states and organisations sentences about guarantees name (one a line), less those
    named there only as the attacker, the other side of talks, a model or a place: the other
    side of the talks is not who puts the proposal forward."""
    roles: dict[str, set[str]] = {}
    for line in text.splitlines():
        for name, start, end in mentions(line):
            roles.setdefault(name, set()).add(role(line, start, end))
    return [name for name in _guarantee_actors(text) if roles.get(name, {"guarantor"}) != {"other"}]


@register
class Guided(_FieldStrategy):
    """Code finds the values (``rules_findings``); the model is asked only for what code
    finds no answer to: the proposer, when the rules name none, chosen among the states and
    organisations named in the sentences about guarantees (those with a proposing verb first).
    At most one short request an article, and none where the rules found nothing at all.

    On the development set the embedded model, asked to choose a value the rules had already
    found (the proposer between candidates named equally often, the response time between two
    deadlines, the excluded territories), replaced right answers with wrong ones more often than
    the reverse (docs/quality.md), so it is not asked there.
    """

    name = "guided"

    def prompt(self, requested: str | None) -> str:
        version = requested or FIELDS_PROMPT
        require_parts(version, ("system", "proposer"), f"strategy {self.name}")
        return version

    def plan(self, text: str, prompt_version: str) -> list[Ask]:
        found = rules_findings(text)
        if found.of("proposer") or not any(found.values.values()):
            return []
        guarantee = [
            sentence
            for paragraph in paragraphs(text)
            if about_guarantees(paragraph.text)
            for sentence in sentences(paragraph)
            if is_guarantee_sentence(sentence.text)
        ]
        proposing = [s for s in guarantee if proposes(s.text)]
        passages = proposing + [s for s in guarantee if s not in proposing]
        question = replace(
            next(q for q in QUESTIONS if q.field == "proposer"), options=_proposer_options
        )
        ask = _choice_ask(question, passages, prompt_version, 0)
        return [ask] if ask is not None else []

    def conclude(self, text: str, asks: list[Ask], answers: list[Answer]) -> Result:
        findings = rules_findings(text)
        chosen = locate_answers(asks, answers)
        for ask in asks:
            if chosen.of(ask.field):
                findings.values[ask.field] = chosen.of(ask.field)
        findings.dropped.extend(chosen.dropped)
        findings = learned_guarantors(text, findings)
        # The model chooses the proposer among the states the guarantee sentences name, the
        # guarantors among them: its choice says nothing of who is protected, so it removes no
        # guarantor the rules and the guarantor model found.
        protected = not any(chosen.of(ask.field) for ask in asks)
        merged = merge(findings, GUARANTEE_SENTENCE_CARRIERS, proposer_protected=protected)
        return with_attributes(text, merged)
