"""What the model is asked to fill: surface strings and verbatim quotes, nothing computed.

Codes, hours, canonical names and offsets are derived from these drafts in code (see
``extractor.core.build``), so the model never has to know an ISO code or count characters. The
``Field`` descriptions are the per-field instructions the model sees in the JSON Schema.

Validation with the context ``{"text": <article>, "check": <function>}`` (made by
``extractor.core.build.validation_context``) runs the check, which says where a quote cannot be
located in the article or does not back its value; the error names each failing value so that a
re-ask tells the model what to fix. The check is passed in rather than imported, so the data
contract depends on no implementation. Without it (or with ``{"ground": False}``) only the shape
is checked.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, model_validator

from .record import GuaranteeType, Position, StanceKind

QUOTE = (
    "A short passage copied word for word from the article that shows this; "
    "never paraphrase, never translate."
)


class _Draft(BaseModel):
    model_config = ConfigDict(extra="ignore")


class GuarantorDraft(_Draft):
    name: str = Field(
        description="State or organisation that would guarantee, as the article names it."
    )
    position: Position = Field(
        default="unknown", description="Where this guarantor stands on giving the guarantee."
    )
    quote: str = Field(description=QUOTE)


class ResponseTimeDraft(_Draft):
    text: str = Field(description="How fast guarantors must respond, e.g. '72 hours'.")
    purpose: str | None = Field(
        default=None, description="What must happen in that time, e.g. 'consultations'."
    )
    quote: str = Field(description=QUOTE)


class TerritoryDraft(_Draft):
    name: str = Field(description="Territory left out of the guarantee, as the article names it.")
    quote: str = Field(description=QUOTE)


class ConditionDraft(_Draft):
    text: str = Field(description="A condition attached to the proposal, in a few words.")
    bound_party: str | None = Field(default=None, description="Who must meet the condition.")
    quote: str = Field(description=QUOTE)


class StanceDraft(_Draft):
    speaker: str = Field(description="Person or body who commented on the proposal.")
    actor: str | None = Field(
        default=None, description="State or organisation the speaker speaks for."
    )
    stance: StanceKind = Field(description="The speaker's attitude to the proposal.")
    quote: str = Field(description=QUOTE)


class ProposalDraft(_Draft):
    # The quote comes first: an answer cut off at max_tokens still grounds what it got to.
    quote: str = Field(description=QUOTE)
    summary: str = Field(description="One sentence: who proposes what guarantee for whom.")
    proposer: str | None = Field(
        default=None, description="The state or organisation that puts the proposal forward."
    )
    proposer_person: str | None = Field(
        default=None,
        description="The person speaking for the proposer, as the article names them.",
    )
    proposer_quote: str = Field(
        default="",
        description="Words of the article naming the proposer, if the quote above does not.",
    )
    beneficiary: str | None = Field(
        default=None, description="The state or organisation whose security is guaranteed."
    )
    beneficiary_person: str | None = Field(
        default=None,
        description="The person speaking for the beneficiary, as the article names them.",
    )
    beneficiary_quote: str = Field(
        default="",
        description="Words of the article naming the beneficiary, if the quote above does not.",
    )
    guarantee_type: GuaranteeType = Field(default="other", description="The kind of guarantee.")
    legally_binding: bool | None = Field(
        default=None, description="True if described as legally binding, null if not said."
    )
    guarantors: list[GuarantorDraft] = Field(default_factory=list, max_length=12)
    response_times: list[ResponseTimeDraft] = Field(
        default_factory=list,
        max_length=4,
        description="Every deadline the article gives for the guarantors, each with what it is "
        "for; empty if none.",
    )
    excluded_territories: list[TerritoryDraft] = Field(default_factory=list, max_length=8)
    conditions: list[ConditionDraft] = Field(default_factory=list, max_length=8)
    stances: list[StanceDraft] = Field(default_factory=list, max_length=8)

    @model_validator(mode="before")
    @classmethod
    def _one_response_time_is_a_list_of_one(cls, data: Any) -> Any:
        """An answer written for schema version 2 gives one ``response_time`` object (or null):
        it becomes the list ``response_times``, so such answers still parse."""
        if isinstance(data, dict) and "response_time" in data:
            # In place, so that a caller pruning invalid items of the answer by their error
            # paths (``response_times[0]``) finds them where the paths say.
            single = data.pop("response_time")
            data.setdefault("response_times", [] if single is None else [single])
        return data


class ArticleDraft(_Draft):
    """Security-guarantee proposals reported in a news article (an empty list if there are none)."""

    proposals: list[ProposalDraft] = Field(default_factory=list, max_length=4)

    @model_validator(mode="after")
    def _values_are_claims_of_the_article(self, info: ValidationInfo) -> ArticleDraft:
        context = info.context if isinstance(info.context, dict) else {}
        text, check = context.get("text"), context.get("check")
        if not isinstance(text, str) or not callable(check) or context.get("ground") is False:
            return self
        found: list[str] = check(self, text)
        if found:
            listed = "; ".join(found)
            raise ValueError(
                f"{len(found)} value(s) are not in the article or not backed by their quotes. "
                "Copy each quote word for word from the article, give each value as its quote "
                f"names it, or leave that item out: {listed}"
            )
        return self
