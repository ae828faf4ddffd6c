"""The output contract: one extraction record per article, as written to JSONL (schema version 1).

Field names here are read by downstream tools and by ``extractor eval``; renaming or removing one,
or changing its meaning, bumps ``SCHEMA_VERSION``.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

SCHEMA_VERSION: Literal["1"] = "1"

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
MatchKind = Literal["exact", "normalized", "fuzzy"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Evidence(_Model):
    """A quote backing a value, located in ``article.text``."""

    quote: str = Field(description="The quote as the model gave it.")
    start: int = Field(ge=0, description="Offset of the located span in article.text.")
    end: int = Field(ge=0, description="Exclusive end offset of the located span in article.text.")
    match: MatchKind = Field(
        description="How the quote was located: verbatim, after whitespace/quote/dash "
        "normalisation, or fuzzily above the documented threshold."
    )


class Actor(_Model):
    """A state, organisation, person or group."""

    name: str = Field(description="The name as the article gives it.")
    kind: ActorKind
    code: str | None = Field(
        default=None,
        description="ISO 3166-1 alpha-3 for states; NATO, EU, UN, G7 or OSCE for those "
        "organisations; null otherwise.",
    )


class Guarantor(_Model):
    actor: Actor
    position: Position = Field(description="Where the guarantor stands on giving the guarantee.")
    evidence: list[Evidence]


class ResponseTime(_Model):
    text: str = Field(description="The response-time phrase, e.g. 'within 72 hours'.")
    hours: float | None = Field(description="The phrase in hours, computed from the text.")
    evidence: list[Evidence]


class ExcludedTerritory(_Model):
    name: str = Field(description="Canonical English name, e.g. Crimea, Donbas.")
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
    proposer: Actor | None
    beneficiary: Actor | None
    guarantee_type: GuaranteeType
    legally_binding: bool | None
    guarantors: list[Guarantor]
    response_time: ResponseTime | None
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


class Article(_Model):
    id: str = Field(description="'sha256:' + hex digest of the UTF-8 text.")
    source: str = Field(description="The path as given on the command line, or '-' for stdin.")
    title: str | None
    published: str | None = Field(description="ISO date when the article states one, else null.")
    language: str = Field(description="ISO 639-1 code.")
    text: str = Field(description="The article text exactly as read; all offsets index into it.")


class Usage(_Model):
    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0
    requests: int = Field(
        default=0, description="HTTP requests made, retries and re-asks included."
    )


class Provenance(_Model):
    model: str
    base_url: str
    mode: str = Field(description="How structured output was requested from the backend.")
    strategy: str = Field(
        description="How the article was put to the model: single, decomposed, chunked."
    )
    prompt_version: str
    extractor_version: str
    extracted_at: str = Field(description="UTC time the extraction finished, ISO 8601.")
    attempts: int = Field(description="Model calls made for the article (re-asks included).")
    usage: Usage


class ErrorInfo(_Model):
    type: str
    message: str


class ExtractionRecord(_Model):
    """One line of the JSONL output."""

    schema_version: Literal["1"] = SCHEMA_VERSION
    article: Article
    proposals: list[Proposal]
    dropped: list[Dropped]
    provenance: Provenance
    error: ErrorInfo | None
