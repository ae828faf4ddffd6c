"""Pydantic models of the extraction record (the output contract) and of the model-facing drafts.

The published JSON Schema exported from ``ExtractionRecord`` is the checkout's top-level
``schemas/record.schema.json``, and must equal ``extractor schema`` (a test checks).
"""

from .draft import (
    ArticleDraft,
    ConditionDraft,
    GuarantorDraft,
    ProposalDraft,
    ResponseTimeDraft,
    StanceDraft,
    TerritoryDraft,
)
from .record import (
    SCHEMA_VERSION,
    Actor,
    ActorKind,
    Article,
    Condition,
    Dropped,
    ErrorInfo,
    Evidence,
    ExcludedTerritory,
    ExtractionRecord,
    GuaranteeType,
    Guarantor,
    MatchKind,
    Party,
    Position,
    Proposal,
    Provenance,
    ResponseTime,
    Stance,
    StanceKind,
    Usage,
)

__all__ = [
    "SCHEMA_VERSION",
    "Actor",
    "ActorKind",
    "Article",
    "ArticleDraft",
    "Condition",
    "ConditionDraft",
    "Dropped",
    "ErrorInfo",
    "Evidence",
    "ExcludedTerritory",
    "ExtractionRecord",
    "GuaranteeType",
    "Guarantor",
    "GuarantorDraft",
    "MatchKind",
    "Party",
    "Position",
    "Proposal",
    "ProposalDraft",
    "Provenance",
    "ResponseTime",
    "ResponseTimeDraft",
    "Stance",
    "StanceDraft",
    "StanceKind",
    "TerritoryDraft",
    "Usage",
]
