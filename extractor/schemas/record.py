"""The output contract: one extraction record per article, as written to JSONL (schema version 4).

Field names here are read by downstream tools and by ``extractor eval``; renaming or removing one,
or changing its meaning, bumps ``SCHEMA_VERSION``.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

SCHEMA_VERSION: Literal["4"] = "4"

ActorKind = Literal["state", "organization", "person", "group", "other"]
GuaranteeType = Literal[
    "collective_defense",
    "bilateral_agreements",
    "military_assistance",
    "peacekeeping_force",
    "non_enlargement_pledge",
    "alliance_membership",
    "neutrality_with_guarantees",
    "assurances",
    "other",
]
Position = Literal[
    "proposed", "willing", "conditional", "undecided", "opposed", "declined", "unknown"
]
StanceKind = Literal["supports", "opposes", "skeptical", "conditional", "neutral", "no_comment"]
MatchKind = Literal["exact", "normalized", "widened", "fuzzy"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Evidence(_Model):
    """The article's words backing a value: a span of ``article.text`` on word boundaries."""

    quote: str = Field(
        description="The article's own words: always exactly article.text[start:end]."
    )
    model_quote: str | None = Field(
        default=None,
        description="What the model quoted, where it differs from quote; null when identical.",
    )
    start: int = Field(ge=0, description="Offset of the span in article.text; a word starts here.")
    end: int = Field(
        ge=0, description="Exclusive end offset of the span in article.text; a word ends here."
    )
    match: MatchKind = Field(
        description="How the model's quote was located: exact (verbatim); normalized (after "
        "whitespace, quote-mark, dash and case normalisation); widened (found only inside "
        "longer words, the span widened to those whole words, e.g. 'Russia' in 'Russian'); "
        "fuzzy (similar at or above the documented threshold, see score)."
    )
    score: float = Field(
        default=100.0,
        ge=0,
        le=100,
        description="Similarity of the model's quote to the span, 0..100; below 100 only for "
        "fuzzy matches.",
    )


class Actor(_Model):
    """A state, organisation, person or group."""

    name: str = Field(description="The name as the article gives it.")
    kind: ActorKind
    code: str | None = Field(
        default=None,
        description="ISO 3166-1 alpha-3 for states; for organisations the short codes the "
        "README lists (NATO, EU, UN, G7, OSCE, CSTO, AU, COTW, ...); null for a person, or a "
        "state or organisation without a code.",
    )


class Party(Actor):
    """A proposer, co-proposer or beneficiary: the state or organisation (``name``, ``code``),
    the person speaking for it where the article names one, and the article's words naming
    them. Where the article's words name the state only beside the person ("Ukrainian
    President ..."), ``name`` is the state's English short name."""

    person: str | None = Field(
        default=None,
        description="The person speaking for the state or organisation, as the article names "
        "them (e.g. 'Volodymyr Zelensky'); null when none is named.",
    )
    evidence: list[Evidence]


class Guarantor(_Model):
    actor: Actor
    position: Position = Field(description="Where the guarantor stands on giving the guarantee.")
    evidence: list[Evidence]


class ResponseTime(_Model):
    """A deadline the article attaches to the proposal."""

    text: str = Field(description="The response-time phrase, e.g. 'within 72 hours'.")
    hours: float | None = Field(description="The phrase in hours, computed from the text.")
    purpose: str | None = Field(
        default=None,
        description="What must happen in that time, e.g. 'consultations'; null when not said.",
    )
    evidence: list[Evidence]


class ExcludedTerritory(_Model):
    name: str = Field(description="Canonical English name, e.g. Crimea, Donbas.")
    code: str | None = Field(
        default=None,
        description="ISO 3166-2 code where the territory is one subdivision (UA-43 Crimea, "
        "UA-14 Donetsk); null otherwise (Donbas spans two).",
    )
    text: str = Field(description="The territory as the article names it.")
    evidence: list[Evidence]


class Condition(_Model):
    text: str = Field(description="The condition attached to the proposal.")
    bound_party: Actor | None = Field(description="Who must meet the condition.")
    evidence: list[Evidence]


class Stance(_Model):
    speaker: Actor = Field(description="Who said it.")
    actor: Actor | None = Field(description="The state or organisation the speaker speaks for.")
    stance: StanceKind
    evidence: list[Evidence]


class Proposal(_Model):
    """One security-guarantee proposal reported by the article."""

    summary: str
    proposer: Party | None
    co_proposers: list[Party] = Field(
        default_factory=list,
        description="The further proposers of a joint proposal, each with its evidence; empty "
        "when one proposes.",
    )
    beneficiary: Party | None
    guarantee_type: GuaranteeType
    legally_binding: bool | None
    guarantors: list[Guarantor]
    response_times: list[ResponseTime] = Field(
        description="Every deadline the article attaches to the proposal, in the article's order "
        "(e.g. consultations within 24 hours, a decision within 72)."
    )
    excluded_territories: list[ExcludedTerritory]
    conditions: list[Condition]
    stances: list[Stance]
    evidence: list[Evidence]


class Dropped(_Model):
    """A value the model gave that could not be kept, and why."""

    field: str = Field(
        description="Where the value would have gone, e.g. proposals[0].guarantors[2]."
    )
    value: object = Field(description="The value as the model gave it.")
    reason: str


# The article a record is of, as read (comments, not docstrings, on the record's parts: pydantic
# would put a docstring into the published JSON Schema, record.schema.json).
class Article(_Model):
    id: str = Field(description="'sha256:' + hex digest of the UTF-8 text.")
    source: str = Field(description="The path as given on the command line, or '-' for stdin.")
    url: str | None = Field(
        default=None, description="The address the article came from, when known."
    )
    outlet: str | None = Field(
        default=None, description="The outlet that published the article, when known."
    )
    title: str | None
    published: str | None = Field(description="ISO date when the article states one, else null.")
    language: str = Field(
        description="ISO 639-1 code of the text's language, or 'und' when it cannot be told."
    )
    text: str = Field(description="The article text exactly as read; all offsets index into it.")


# What the article's model calls cost: tokens and requests, every attempt included.
class Usage(_Model):
    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0
    requests: int = Field(
        default=0, description="HTTP requests made, retries and re-asks included."
    )
    cut_off: int = Field(
        default=0,
        description="Answers the server ended at max_tokens (finish_reason 'length').",
    )


# Where a record came from: the model, server and method that made it, when, and at what cost.
class Provenance(_Model):
    model: str
    base_url: str
    mode: str = Field(description="How structured output was requested from the backend.")
    strategy: str = Field(
        description="The strategy that extracted the article: single, decomposed, chunked, guided "
        "or rules (the concrete one `auto` chose)."
    )
    prompt_version: str
    extractor_version: str
    extracted_at: str = Field(description="UTC time the extraction finished, ISO 8601.")
    attempts: int = Field(description="Model calls made for the article (re-asks included).")
    usage: Usage


# Why an article has no proposals from the model: the exception's type and its one-line message
# (credentials masked).
class ErrorInfo(_Model):
    type: str
    message: str


class ExtractionRecord(_Model):
    """One line of the JSONL output."""

    schema_version: Literal["4"] = SCHEMA_VERSION
    article: Article
    proposals: list[Proposal]
    dropped: list[Dropped]
    provenance: Provenance
    error: ErrorInfo | None
